"""Captions and transcripts. Staff give an episode's transcript as a WebVTT (.vtt) or SubRip
(.srt) file; it is checked, kept on the episode as normalised WebVTT, and each lesson takes the
slice its chapter plays: the cues that overlap the chapter, cut to its ends.

A slice keeps the episode's clock. A lesson's player is the episode's media element, which keeps
the episode's timeline (a chapter from 7:20 plays at currentTime 440 and on), and a `<track>`
is timed on its media element's clock: cues shifted to start at 0 would be out of step with the
audio in every chapter but the first. The lesson page shows the chapter's own times (0:00 at
its start) to learners."""

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from io import StringIO
from pathlib import PurePath

import webvtt
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from webvtt.errors import MalformedCaptionError, MalformedFileError

from accounts.models import User
from courses.models import Course, Episode, Lesson
from courses.services import audit, freezing
from courses.services.catalog import RECORDED_FORMATS, format_time

MAX_CAPTIONS_BYTES = 1024 * 1024
CAPTION_ENDINGS = (".vtt", ".srt")
# Transcription tools round a last cue's end up: a cue may end this little past the episode.
END_SLACK_MS = 1000
# A line a learner reads at once; longer cue text is refused as a likely parsing accident.
MAX_CUE_CHARS = 2000

# Cue timings as each format writes them, checked line by line so a mistake is reported with
# its line (webvtt-py skips a cue block it cannot read, or names no line).
_VTT_TIME = r"(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_SRT_TIME = r"(\d{1,3}):([0-5]?\d):([0-5]?\d)[,.](\d{1,3})"
_VTT_TIMING = re.compile(rf"^\s*{_VTT_TIME}[ \t]+-->[ \t]+{_VTT_TIME}(?:[ \t].*)?$")
# SRT files sometimes carry the old "X1:… Y1:…" box after the timings.
_SRT_TIMING = re.compile(rf"^\s*{_SRT_TIME}[ \t]*-->[ \t]*{_SRT_TIME}(?:[ \t].*)?$")
_CUE_TAG = re.compile(r"<[^>]*>")
_VOICE = re.compile(r"^<v(?:\.[\w-]+)*[ \t]+([^>]+)>")
# The stored form: what `to_webvtt` writes.
_STORED_TIMING = re.compile(
    r"^(\d{2,}):(\d{2}):(\d{2})\.(\d{3}) --> (\d{2,}):(\d{2}):(\d{2})\.(\d{3})$"
)


class CaptionsError(Exception):
    """A captions file that cannot be used; the message tells staff what to fix."""


@dataclass(frozen=True)
class Cue:
    """One caption: from `start_ms` to `end_ms` of the episode, its WebVTT cue text."""

    start_ms: int
    end_ms: int
    text: str

    @property
    def start(self) -> float:
        return self.start_ms / 1000

    @property
    def end(self) -> float:
        return self.end_ms / 1000

    @property
    def plain_text(self) -> str:
        """The words as a reader sees them: tags gone, a speaker named before their words."""
        lines = []
        for line in self.text.split("\n"):
            voice = _VOICE.match(line)
            words = html.unescape(_CUE_TAG.sub("", line)).strip()
            if voice and words:
                words = f"{voice[1].strip()}: {words}"
            if words:
                lines.append(words)
        return " ".join(lines)


@dataclass(frozen=True)
class TranscriptLine:
    """A lesson's transcript line: when it is said in the episode and in the chapter."""

    cue: Cue
    chapter_start: int

    @property
    def start(self) -> float:
        return self.cue.start

    @property
    def end(self) -> float:
        return self.cue.end

    @property
    def text(self) -> str:
        return self.cue.plain_text

    @property
    def offset(self) -> int:
        """Its time in the chapter, as the player shows it: 0 at the chapter's start."""
        return int(max(self.cue.start - self.chapter_start, 0))


# --- Reading a file ----------------------------------------------------------------------------


def read_captions(data: bytes, *, filename: str) -> list[Cue]:
    """The cues of an uploaded .vtt or .srt file in time order, or CaptionsError saying what is
    wrong with it and where."""
    name = PurePath(filename or "").name
    ending = PurePath(name.lower()).suffix
    if ending not in CAPTION_ENDINGS:
        raise CaptionsError(
            _("Upload the transcript as a .vtt (WebVTT) or .srt (SubRip) file, not “%(name)s”.")
            % {"name": name}
        )
    check_size(len(data))
    text = _decoded(data)
    if not text.strip():
        raise CaptionsError(_("The captions file is empty."))
    # Blank lines before the first are an editor's, not the format's.
    lines = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\n").split("\n")
    is_vtt = lines[0].startswith("WEBVTT")
    if ending == ".vtt" and not is_vtt:
        raise CaptionsError(
            _(
                "This is not a WebVTT file: its first line must be WEBVTT, and it is “%(line)s”. "
                "If it is a SubRip file, name it .srt."
            )
            % {"line": _shortened(lines[0])}
        )
    kind = "vtt" if is_vtt else "srt"
    _check_timing_lines(lines, kind=kind)
    try:
        parsed = webvtt.WebVTT.from_buffer(StringIO("\n".join(lines)), format=kind, strict=True)
    except (MalformedFileError, MalformedCaptionError) as exc:
        if kind == "srt":
            raise CaptionsError(
                _(
                    "This is not a SubRip (.srt) file: it must open with a cue number (1) and a "
                    "timing line such as 00:00:01,000 --> 00:00:04,000."
                )
            ) from exc
        raise CaptionsError(
            _("The WebVTT file could not be read: %(error)s.") % {"error": exc}
        ) from exc

    cues = []
    for caption in parsed.captions:
        cue_text = _cue_text(caption.raw_text if kind == "vtt" else caption.text, kind=kind)
        if not cue_text:
            continue  # a cue with nothing to read adds nothing to captions or transcript
        cues.append(
            Cue(
                start_ms=caption.start_time.in_milliseconds(),
                end_ms=caption.end_time.in_milliseconds(),
                text=cue_text,
            )
        )
    if not cues:
        raise CaptionsError(_("The captions file has no cue with text in it."))
    # WebVTT wants cues in order of their start; transcripts exported by hand are not always.
    return sorted(cues, key=lambda cue: (cue.start_ms, cue.end_ms))


def _decoded(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CaptionsError(
            _("The captions file is saved as UTF-16: save it as UTF-8 and upload it again.")
        )
    if b"\x00" in data:
        raise CaptionsError(_("The captions file is binary, not text: upload a .vtt or .srt."))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CaptionsError(
            _(
                "The captions file is not UTF-8 text (line %(line)d has the byte 0x%(byte)02X, "
                "as Windows-1252 or Latin-1 would write “é”): save it as UTF-8 and upload it "
                "again."
            )
            % {"line": line, "byte": data[exc.start]}
        ) from exc


def _check_timing_lines(lines: list[str], *, kind: str) -> None:
    pattern = _VTT_TIMING if kind == "vtt" else _SRT_TIMING
    example = "00:01:15.000 --> 00:01:19.500" if kind == "vtt" else "00:01:15,000 --> 00:01:19,500"
    for number, line in enumerate(lines, start=1):
        if "-->" not in line:
            continue
        if kind == "vtt" and not _starts_a_block(lines, number - 1):
            raise CaptionsError(
                _(
                    "Line %(line)d (“%(text)s”): a blank line is missing before this cue. Each "
                    "cue starts after an empty line, with an optional name line above its timing."
                )
                % {"line": number, "text": _shortened(line.strip())}
            )
        match = pattern.match(line)
        if match is None:
            raise CaptionsError(
                _(
                    "Line %(line)d (“%(text)s”) is not a cue timing this file can use: write it "
                    "like %(example)s, minutes and seconds from 00 to 59."
                )
                % {"line": number, "text": _shortened(line.strip()), "example": example}
            )
        start, end = _milliseconds(match.groups()[:4]), _milliseconds(match.groups()[4:])
        if end <= start:
            raise CaptionsError(
                _("Line %(line)d (“%(text)s”): the cue ends before it starts.")
                % {"line": number, "text": _shortened(line.strip())}
            )


def _starts_a_block(lines: list[str], index: int) -> bool:
    """Whether the timing line at `index` opens a cue block: after a blank line, or after a cue
    name that follows one."""
    if index == 0 or not lines[index - 1].strip():
        return True
    return index >= 2 and not lines[index - 2].strip() and "-->" not in lines[index - 1]


def _milliseconds(parts) -> int:
    hours, minutes, seconds, fraction = parts
    # SRT's fraction is a count of milliseconds ("5" is 5 ms), WebVTT's always three digits.
    return ((int(hours or 0) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + int(fraction)


def _cue_text(text: str, *, kind: str) -> str:
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if kind == "srt":
        # SubRip text is plain (its tags are already gone): escape what WebVTT reads as markup.
        lines = [
            line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") for line in lines
        ]
    joined = "\n".join(lines)
    if len(joined) > MAX_CUE_CHARS:
        raise CaptionsError(
            _(
                "A cue holds more than %(n)d characters of text (“%(start)s…”): a blank line is "
                "probably missing between two cues."
            )
            % {"n": MAX_CUE_CHARS, "start": _shortened(joined)}
        )
    return joined


def _shortened(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_size(size: int) -> None:
    """Refuse a file over the limit before it is read; `size` in bytes."""
    if size > MAX_CAPTIONS_BYTES:
        raise CaptionsError(
            _(
                "The captions file is %(size)s KB; the limit is %(limit)s KB (1 MB). Upload one "
                "episode's captions."
            )
            % {"size": f"{-(-size // 1024):,}", "limit": f"{MAX_CAPTIONS_BYTES // 1024:,}"}
        )


def check_against_episode(cues: Iterable[Cue], *, duration_seconds: int) -> None:
    """Refuse captions that run past the end of the episode: the transcript of another episode,
    or one timed against a longer cut. An episode whose length is not known yet is not checked."""
    if not duration_seconds:
        return
    limit = duration_seconds * 1000
    late = [cue for cue in cues if cue.start_ms >= limit or cue.end_ms > limit + END_SLACK_MS]
    if late:
        first = late[0]
        raise CaptionsError(
            ngettext(
                "%(n)d cue runs past the end of the episode (%(end)s), from %(start)s "
                "(“%(text)s”). Is this the transcript of another episode, or is the episode's "
                "length wrong?",
                "%(n)d cues run past the end of the episode (%(end)s), the first from %(start)s "
                "(“%(text)s”). Is this the transcript of another episode, or is the episode's "
                "length wrong?",
                len(late),
            )
            % {
                "n": len(late),
                "end": format_time(duration_seconds),
                "start": _clock(first.start_ms),
                "text": _shortened(first.plain_text, 40),
            }
        )


# --- The stored form ---------------------------------------------------------------------------


def _clock(milliseconds: int) -> str:
    seconds, millis = divmod(milliseconds, 1000)
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def to_webvtt(cues: Iterable[Cue]) -> str:
    """Normalised WebVTT: the header, then each cue numbered, in time order."""
    blocks = ["WEBVTT"]
    for number, cue in enumerate(cues, start=1):
        blocks.append(f"{number}\n{_clock(cue.start_ms)} --> {_clock(cue.end_ms)}\n{cue.text}")
    return "\n\n".join(blocks) + "\n"


@lru_cache(maxsize=32)
def _stored_cues(captions: str) -> tuple[Cue, ...]:
    # Keyed by the text itself: a replaced transcript is a new key, never a stale answer.
    cues = []
    for block in captions.split("\n\n")[1:]:
        lines = block.strip("\n").split("\n")
        for index, line in enumerate(lines):
            match = _STORED_TIMING.match(line)
            if match:
                cues.append(
                    Cue(
                        start_ms=_milliseconds(match.groups()[:4]),
                        end_ms=_milliseconds(match.groups()[4:]),
                        text="\n".join(lines[index + 1 :]),
                    )
                )
                break
    return tuple(cues)


def episode_cues(episode: Episode | None) -> tuple[Cue, ...]:
    """The episode's stored cues, in time order; none without captions."""
    if episode is None or not episode.captions:
        return ()
    return _stored_cues(episode.captions)


def chapter_cues(cues: Iterable[Cue], *, start: int, end: int) -> list[Cue]:
    """The cues heard in the chapter from `start` to `end` seconds, cut to its ends."""
    low, high = start * 1000, end * 1000
    return [
        Cue(start_ms=max(cue.start_ms, low), end_ms=min(cue.end_ms, high), text=cue.text)
        for cue in cues
        if cue.end_ms > low and cue.start_ms < high
    ]


def lesson_cues(episode: Episode | None, lesson: Lesson) -> list[Cue]:
    if not lesson.has_media:
        return []
    return chapter_cues(
        episode_cues(episode), start=lesson.media_start_seconds, end=lesson.media_end_seconds
    )


def lesson_transcript(episode: Episode | None, lesson: Lesson) -> list[TranscriptLine]:
    """The lesson's transcript lines, for the page under its player."""
    return [
        TranscriptLine(cue=cue, chapter_start=lesson.media_start_seconds)
        for cue in lesson_cues(episode, lesson)
    ]


def lesson_webvtt(episode: Episode | None, lesson: Lesson) -> str | None:
    """The lesson's captions track, or None when its chapter has none."""
    cues = lesson_cues(episode, lesson)
    return to_webvtt(cues) if cues else None


# --- Publishing and changing -------------------------------------------------------------------


def caption_problems(course: Course, lessons: list[Lesson]) -> list[str]:
    """Lessons whose chapter would play without captions (ADA; accreditors' accommodation
    rules): each one is named. Reading courses have nothing to caption."""
    if course.format not in RECORDED_FORMATS or course.episode is None:
        return []
    cues = episode_cues(course.episode)
    uncaptioned = [
        lesson
        for lesson in lessons
        if lesson.has_media
        and not chapter_cues(cues, start=lesson.media_start_seconds, end=lesson.media_end_seconds)
    ]
    if not uncaptioned:
        return []
    return [
        ngettext(
            "Captions for lesson %(list)s: upload the transcript of “%(episode)s” (.vtt or .srt) "
            "on the episode, with cues in its chapter.",
            "Captions for lessons %(list)s: upload the transcript of “%(episode)s” (.vtt or "
            ".srt) on the episode, with cues in their chapters.",
            len(uncaptioned),
        )
        % {
            "list": ", ".join(f"{lesson.position} (“{lesson.title}”)" for lesson in uncaptioned),
            "episode": course.episode.title,
        }
    ]


@transaction.atomic
def set_episode_captions(
    *, episode: Episode, cues: list[Cue], source_name: str, acting_user: User | None = None
) -> Episode:
    """Keep these cues as the episode's captions, replacing any before; refused when they run
    past the episode or the episode's lessons issued certificates (captions are content)."""
    episode = Episode.objects.select_for_update().get(pk=episode.pk)
    if freezing.episode_is_frozen(episode.pk):
        raise CaptionsError(
            _(
                "“%(episode)s” is played by a course that issued certificates, so its captions "
                "stay as its learners read them. Copy the course as a new edition with its own "
                "episode to change them."
            )
            % {"episode": episode.title}
        )
    if not cues:
        raise CaptionsError(_("The captions file has no cue with text in it."))
    check_against_episode(cues, duration_seconds=episode.duration_seconds)
    replaced = bool(episode.captions)
    episode.captions = to_webvtt(cues)
    episode.captions_updated_at = timezone.now()
    episode.captions_updated_by = (
        acting_user if acting_user is not None and acting_user.is_authenticated else None
    )
    episode.save(update_fields=["captions", "captions_updated_at", "captions_updated_by"])
    audit.record(
        "episode.captions_replaced" if replaced else "episode.captions_added",
        actor=acting_user,
        subject=episode,
        data={"file": PurePath(source_name or "").name, "cues": len(cues)},
    )
    return episode
