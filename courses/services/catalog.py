"""Rules a course must meet before it can be offered: the credit calculation that supports its
hours, the media its lessons play, and what accreditors require it to carry."""

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import FileSystemStorage, Storage, default_storage
from django.utils.translation import gettext as _

from courses.models import Course, CourseFormat, Lesson
from courses.models.catalog import (
    INSTRUCTION_MINUTES_PER_CE_HOUR,
    READING_WORDS_PER_MINUTE,
    supported_hours,
)
from courses.services import media_delivery

__all__ = [
    "RECORDED_FORMATS",
    "MediaFile",
    "count_words",
    "credit_problems",
    "estimated_minutes",
    "format_time",
    "least_engaged_minutes",
    "media_file",
    "media_file_seconds",
    "media_minutes",
    "media_problems",
    "supported_hours",
]

_MARKUP = re.compile(r"[#>*_`|\[\]()-]")
# Formats whose credit is for hearing or watching: every lesson must play.
RECORDED_FORMATS = {CourseFormat.AUDIO, CourseFormat.VIDEO}
# A media file's measured length may differ from its stated length by rounding.
MEDIA_LENGTH_TOLERANCE_SECONDS = 1


def count_words(markdown_text: str) -> int:
    """Words of reading in a Markdown text, its markup left out."""
    return len(_MARKUP.sub(" ", markdown_text or "").split())


def format_time(seconds: int | float) -> str:
    """A point in an episode as podcasts print it: MM:SS, or H:MM:SS past the hour."""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def _lesson_seconds(lesson: Lesson) -> int:
    """The chapter's running time; nothing for a chapter whose end is not known yet."""
    if lesson.media_start_seconds is None or lesson.media_end_seconds is None:
        return 0
    return lesson.media_end_seconds - lesson.media_start_seconds


def media_minutes(lessons: list[Lesson]) -> Decimal:
    seconds = sum(_lesson_seconds(lesson) for lesson in lessons)
    return (Decimal(seconds) / 60).quantize(Decimal("0.01"))


def estimated_minutes(*, media_seconds: int, words: int) -> int:
    """A lesson's listening plus reading time, rounded up to the minute."""
    seconds = media_seconds + words * 60 / READING_WORDS_PER_MINUTE
    return max(1, -(-int(seconds) // 60))


def least_engaged_minutes(ce_hours: Decimal) -> int:
    """The least engaged time that earns these hours: fifty minutes of instruction per CE hour
    (Florida 64B4-6.004), rounded up to the minute."""
    return math.ceil(Decimal(ce_hours) * INSTRUCTION_MINUTES_PER_CE_HOUR)


def credit_problems(course: Course, lessons: list[Lesson]) -> list[str]:
    """Where the course's stated credit calculation disagrees with its lessons."""
    problems = []
    actual_media = media_minutes(lessons)
    if abs(actual_media - course.media_minutes) > Decimal("0.5"):
        problems.append(
            _("Media minutes say %(stated)s but the lessons' chapters run %(actual)s minutes.")
            % {"stated": course.media_minutes, "actual": actual_media}
        )
    words = sum(count_words(lesson.body) for lesson in lessons)
    if course.reading_word_count > words:
        problems.append(
            _("The reading word count says %(stated)s but the lessons hold %(actual)s words.")
            % {"stated": course.reading_word_count, "actual": words}
        )
    if course.ce_hours > supported_hours(course.instruction_minutes):
        problems.append(
            _("%(hours)s CE hours need more instruction than the media and reading provide.")
            % {"hours": course.ce_hours}
        )
    needed = least_engaged_minutes(course.ce_hours)
    if course.minimum_engaged_minutes < needed:
        problems.append(
            _(
                "A minimum engaged time of at least %(needed)d minutes for %(hours)s CE hours "
                "(%(per_hour)d minutes per CE hour); it is %(minutes)d."
            )
            % {
                "needed": needed,
                "hours": course.ce_hours.normalize(),
                "per_hour": INSTRUCTION_MINUTES_PER_CE_HOUR,
                "minutes": course.minimum_engaged_minutes,
            }
        )
    return problems


# --- The media lessons play ---------------------------------------------------------------------


def _site_path(address: str, prefix: str) -> str | None:
    """The file name under `prefix` (STATIC_URL or MEDIA_URL) that a site-root address names."""
    if not prefix or prefix.startswith(("http://", "https://", "//")):
        return None  # served from elsewhere: not a file of this site
    prefix = "/" + prefix.lstrip("/")
    path = unquote(urlsplit(address).path)
    if not path.startswith(prefix):
        return None
    name = path.removeprefix(prefix)
    return name if name and not name.endswith("/") else None


@dataclass(frozen=True)
class MediaFile:
    """A static or uploaded media file, named in the storage that holds it. Uploads are read
    through the storage API only: in an S3 bucket they have no path on this machine."""

    storage: Storage
    name: str


def media_file(address: str) -> MediaFile | None:
    """The static or uploaded file a site-root media address serves, if there is one."""
    for prefix, locate in ((settings.STATIC_URL, _static_file), (settings.MEDIA_URL, _media_file)):
        name = _site_path(address, prefix)
        if name is None:
            continue
        try:
            found = locate(name)
        except (SuspiciousFileOperation, NotImplementedError, OSError, ValueError):
            continue
        if found is not None:
            return found
    return None


def _static_file(name: str) -> MediaFile | None:
    # Static files are part of the release, on every node's disk (served by WhiteNoise).
    found = finders.find(name)
    if not found:
        found = staticfiles_storage.path(name) if staticfiles_storage.exists(name) else None
    if not found or not Path(found).is_file():
        return None
    path = Path(found)
    return MediaFile(FileSystemStorage(location=path.parent), path.name)


def _media_file(name: str) -> MediaFile | None:
    # Only the episodes folder is served to players (courses/views/media.py); the records
    # beside it in the store are not media.
    if not media_delivery.is_public(name) or not default_storage.exists(name):
        return None
    # Opening for reading fetches nothing yet (S3 checks the object is there); a folder on the
    # file system refuses to open, so only a file counts.
    default_storage.open(name, "rb").close()
    return MediaFile(default_storage, name)


def media_is_served(address: str) -> bool:
    """Whether learners' players can load this address: an https address is taken as given (an
    http one too while the site itself is served over plain http, as a demo on one machine is:
    an https page may not play it); a path from this site's root must name a real static or
    uploaded file."""
    address = address.strip()
    plain_http_site = settings.CEU_SITE_URL.startswith("http://")  # as MEDIA_SCHEMES in settings
    if address.startswith(("https://", "http://") if plain_http_site else "https://"):
        return bool(urlsplit(address).netloc)
    if not address.startswith("/") or address.startswith("//"):
        return False
    return media_file(address) is not None


def media_file_seconds(media: MediaFile | Path) -> float | None:
    """The running time a media file declares, read from the file itself through its storage;
    None when it cannot be read (not audio or video, damaged, or no reader installed)."""
    if isinstance(media, Path):
        media = MediaFile(FileSystemStorage(location=media.parent), media.name)
    storage = media.storage
    try:
        version = _Version(
            place=f"{type(storage).__name__}:{_place_of(storage)}",
            name=media.name,
            size=storage.size(media.name),
            modified=storage.get_modified_time(media.name),
            media=media,
        )
    except (NotImplementedError, OSError, ValueError):
        return None
    return _read_length(version)


def _place_of(storage: Storage) -> str:
    return getattr(storage, "bucket_name", None) or str(getattr(storage, "location", ""))


@dataclass(frozen=True)
class _Version:
    """One version of a media file, the length cache's key: the same file in the same folder or
    bucket, of the same size and modification time."""

    place: str
    name: str
    size: int
    modified: datetime
    media: MediaFile = field(compare=False)


@lru_cache(maxsize=64)
def _read_length(version: _Version) -> float | None:
    # Cached per file version: the admin shows the checklist on every visit to a course.
    try:
        import mutagen
    except ImportError:  # pragma: no cover - mutagen is a dependency; a bare install lacks it
        return None
    media = version.media
    try:
        # A file in a bucket is downloaded into a spooled temporary file (S3 storage's
        # max_memory_size), which mutagen seeks in as it reads the headers.
        with media.storage.open(media.name, "rb") as stream:
            info = getattr(mutagen.File(stream), "info", None)
    except Exception:  # any file mutagen cannot read is simply of unknown length
        return None
    length = getattr(info, "length", None)
    return float(length) if length and length > 0 else None


def media_problems(course: Course, lessons: list[Lesson]) -> list[str]:
    """What keeps a recorded course from playing every lesson: its episode's media address, the
    episode's length, and each lesson's place in it. Reading courses have nothing to play."""
    if course.format not in RECORDED_FORMATS:
        return []
    episode = course.episode
    if episode is None:
        return [
            _(
                "The episode its lessons play: a recorded course needs one. Choose it under "
                "Audience."
            )
        ]
    problems = []
    address = episode.media_url.strip()
    measured = None
    if not address:
        problems.append(
            _(
                "The episode “%(episode)s” has no media address, so learners would get a silent "
                "player. Give the address of its audio or video on the episode."
            )
            % {"episode": episode.title}
        )
    elif not media_is_served(address):
        problems.append(
            _(
                "The episode's media address %(address)s does not lead to a file learners can "
                "play. Give an https:// address, or upload the file and give its path on this "
                "site (%(static)s… or %(media)s…)."
            )
            % {
                "address": address,
                "static": "/" + settings.STATIC_URL.lstrip("/"),
                "media": "/" + settings.MEDIA_URL.lstrip("/") + media_delivery.PUBLIC_MEDIA_FOLDER,
            }
        )
    elif (found := media_file(address)) is not None:
        measured = media_file_seconds(found)
    length = episode.duration_seconds
    if not length:
        problems.append(
            _("The episode “%(episode)s” has no length: give its running time on the episode.")
            % {"episode": episode.title}
        )
    last = lessons[-1].position if lessons else None
    for lesson in lessons:
        start, end = lesson.media_start_seconds, lesson.media_end_seconds
        if start is None:
            problems.append(
                _(
                    "Lesson %(n)d has no part of the episode to play: give where its chapter "
                    "starts and ends."
                )
                % {"n": lesson.position}
            )
        elif end is None:
            problems.append(
                (
                    _("Lesson %(n)d needs its end: give the episode's length.")
                    if lesson.position == last
                    else _("Lesson %(n)d needs its end: give where its chapter stops.")
                )
                % {"n": lesson.position}
            )
        elif length and end > length:
            problems.append(
                _(
                    "Lesson %(n)d ends at %(end)s, past the end of the episode (%(length)s): check "
                    "the chapter's end or the episode's length."
                )
                % {"n": lesson.position, "end": format_time(end), "length": format_time(length)}
            )
        elif measured is not None and end > measured + MEDIA_LENGTH_TOLERANCE_SECONDS:
            problems.append(
                _(
                    "Lesson %(n)d ends at %(end)s, but the media file runs only %(length)s: check "
                    "the chapter's end or the file."
                )
                % {
                    "n": lesson.position,
                    "end": format_time(end),
                    "length": format_time(round(measured)),
                }
            )
    return problems
