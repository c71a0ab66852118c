"""A draft course from an episode's show notes: the chapter list becomes lessons, the article
under it becomes their text, the "Resources:" list becomes references. Whatever the notes lack
is left as a placeholder the publish checklist flags, never invented: a chapter's length comes
from the next chapter's stamp or the episode's length, never from a guess."""

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import unquote

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from courses.models import (
    Course,
    CourseFormat,
    CourseStatus,
    Episode,
    InstructionalLevel,
    Lesson,
    Reference,
)
from courses.models.catalog import QUARTER_HOUR
from courses.services.catalog import (
    count_words,
    estimated_minutes,
    format_time,
    least_engaged_minutes,
    media_file,
    media_file_seconds,
    supported_hours,
)

MAX_TEXT_BYTES = 1024 * 1024
MAX_CHAPTERS = 200
# Longer than any podcast episode; keeps the credit fields within their columns.
MAX_DURATION_SECONDS = 24 * 3600
MAX_CE_HOURS = Decimal("40")
# An episode whose length is not known yet: its last lesson waits for its end.
UNKNOWN_DURATION = 0
# A body heading matches a chapter title at this difflib ratio or above.
TITLE_MATCH_RATIO = 0.8

# Placeholders the publish checklist recognises (courses.services.publishing.PLACEHOLDERS).
PLACEHOLDER_BODY = "Write this lesson."
TO_BE_CONFIRMED = "To be confirmed"
TARGET_AUDIENCE = "Licensed mental health clinicians"
SUMMARY_CHARS = 280
DESCRIPTION_CHARS = 1200
SLUG_STEM_CHARS = 100

BULLETS = "•●◦▪‣·"
_CHAPTER_LINE = re.compile(
    rf"""^\s*
    (?:[{BULLETS}*\-–—]\s*|\d{{1,3}}[.)]\s+)?     # a bullet or a list number
    [\[(]?
    (?:(?P<hours>\d{{1,2}}):)?(?P<minutes>\d{{1,2}}):(?P<seconds>\d{{2}})(?![\d:])
    [\])]?
    (?:\s*[-–—:|]\s*|\s+)
    (?P<title>\S.*?)\s*$""",
    re.VERBOSE,
)
_BODY_BULLET = re.compile(rf"^\s*[{BULLETS}]\s*")
_MARKDOWN_LIST = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
_MARKDOWN_HEADING = re.compile(r"^\s*#{1,6}\s+")
# "Duration: 25:15", "Episode length – 1:02:03", "Running time: 25:15" on a line of its own.
# (Each optional piece starts with a character of its own, so a long line cannot backtrack.)
_DURATION_LINE = re.compile(
    r"^[ \t]*(?:\*\*)?(?:episode[ \t]+)?(?:duration|length|running[ \t]+time|run[ \t]*time)"
    r"(?:\*\*)?[ \t]*(?:[:\-–—][ \t]*)?(?:\*\*[ \t]*)?"
    r"(?:(?P<hours>\d{1,2}):)?(?P<minutes>\d{1,3}):(?P<seconds>\d{2})(?:\*\*)?[ \t]*$",
    re.I,
)
# A line stating the length is short; longer lines are article text.
DURATION_LINE_CHARS = 80
_CHAPTER_LIST_LABEL = re.compile(
    r"^\s*(?:chapters|timestamps|time ?stamps|episode chapters|in this episode)\s*:?\s*$", re.I
)
_REFERENCES_HEADING = re.compile(
    r"^(?:resources|references|sources|bibliography|works cited)\s*:?$", re.I
)
# Where the article ends and the web page around it begins.
_PAGE_CHROME = re.compile(
    r"^(?:subscribe\b.*\b(?:share|follow)\b.*|leave a (?:reply|comment)|share this(?: post)?:?"
    r"|related posts?:?|you may also like:?)$",
    re.I,
)
_CITATION_YEAR = re.compile(r"\((?:1[6-9]|20)\d{2}[a-z]?(?:,[^)]*)?\)|\(n\.\s?d\.\)|\(in press\)")
_TRAILING_DOI = re.compile(
    r"\s*(?:https?://(?:dx\.)?doi\.org/|doi:\s*)(?P<doi>10\.\S+?)[.,;]?\s*$", re.I
)
_TRAILING_URL = re.compile(r"\s*(?P<url>https?://\S+?)[.,;]?\s*$", re.I)
_SENTENCE_END = (".", ",", ";", ":", "!", "?", "…")


class ShowNotesError(Exception):
    """Show notes that cannot become a course; the message tells staff what to fix."""


@dataclass
class Chapter:
    start_seconds: int
    title: str
    line: int = 0  # 1-based line of the notes it came from


@dataclass
class ParsedReference:
    citation: str
    doi: str = ""
    url: str = ""


@dataclass
class ParsedShowNotes:
    title: str
    chapters: list[Chapter]
    body_by_chapter: dict[int, str]  # Markdown for every chapter index, or the placeholder
    references: list[ParsedReference]
    matched_chapters: set[int] = field(default_factory=set)  # headings found in the article
    duration_seconds: int | None = None  # the episode's length, when the notes state it


def parse_show_notes(text: str) -> ParsedShowNotes:
    """Chapters, their text and the references from show notes, or ShowNotesError."""
    lines = _checked_text(text).splitlines()
    block, chapters = _chapter_block(lines)

    stop = next(
        (i for i, line in enumerate(lines) if _is_references(line) or _is_chrome(line)),
        len(lines),
    )
    label = min(block) - 1  # a "Chapters:" line above the list is not article text
    duration_line, duration = _stated_duration(lines)
    body_lines = [
        line
        for i, line in enumerate(lines[:stop])
        if i not in block
        and i != duration_line
        and not (i == label and _CHAPTER_LIST_LABEL.match(line))
    ]
    body_by_chapter, matched = _split_body(body_lines, chapters)
    return ParsedShowNotes(
        title=_title(lines, block, chapters),
        chapters=chapters,
        body_by_chapter=body_by_chapter,
        references=_references(lines),
        matched_chapters=matched,
        duration_seconds=duration,
    )


@transaction.atomic
def import_course(
    *,
    text: str,
    title: str | None = None,
    media_url: str = "",
    duration_seconds: int | None = None,
    acting_user=None,
) -> Course:
    """A draft course, its episode, one lesson per chapter and its references; nothing at all
    when the notes are refused."""
    parsed = parse_show_notes(text)
    chapters = parsed.chapters
    title = (title or "").strip() or parsed.title
    if len(title) > 200:
        raise ShowNotesError(_("The title is longer than 200 characters."))

    duration = _episode_duration(parsed, media_url=media_url, given=duration_seconds)

    episode = Episode.objects.create(
        title=title,
        media_url=media_url.strip(),
        duration_seconds=duration or UNKNOWN_DURATION,
        media_type=Episode.MediaType.AUDIO,
        media_mime_type=_audio_mime_type(media_url),
    )

    lessons = []
    for index, chapter in enumerate(chapters):
        # Each chapter ends where the next begins; the last at the episode's end, or (when
        # that is not known) nowhere yet: the publish checklist asks for it.
        end = chapters[index + 1].start_seconds if index + 1 < len(chapters) else duration
        seconds = end - chapter.start_seconds if end is not None else 0
        body = parsed.body_by_chapter[index]
        words = 0 if body == PLACEHOLDER_BODY else count_words(body)
        lessons.append(
            Lesson(
                position=index + 1,
                title=chapter.title,
                media_start_seconds=chapter.start_seconds,
                media_end_seconds=end,
                body=body,
                estimated_minutes=estimated_minutes(media_seconds=seconds, words=words),
            )
        )

    media_seconds = sum(
        lesson.media_end_seconds - lesson.media_start_seconds
        for lesson in lessons
        if lesson.media_end_seconds is not None
    )
    media = (Decimal(media_seconds) / 60).quantize(Decimal("0.01"))
    # Placeholders are not reading: they are left out of the credited words.
    reading_words = sum(
        count_words(lesson.body) for lesson in lessons if lesson.body != PLACEHOLDER_BODY
    )
    course = Course(
        title=title,
        summary="",
        description="",
        episode=episode,
        presenter_name=TO_BE_CONFIRMED,
        presenter_credentials=TO_BE_CONFIRMED,
        format=CourseFormat.AUDIO,
        level=InstructionalLevel.INTERMEDIATE,
        target_audience=TARGET_AUDIENCE,
        media_minutes=media,
        reading_word_count=reading_words,
        status=CourseStatus.DRAFT,
    )
    hours = supported_hours(course.instruction_minutes)
    course.ce_hours = min(max(hours, QUARTER_HOUR), MAX_CE_HOURS)
    course.minimum_engaged_minutes = least_engaged_minutes(course.ce_hours)
    course.summary, course.description = _summary_and_description(parsed)
    _save_with_free_slug(course)

    for lesson in lessons:
        lesson.course = course
    Lesson.objects.bulk_create(lessons)
    Reference.objects.bulk_create(
        Reference(course=course, position=position, citation=ref.citation, doi=ref.doi, url=ref.url)
        for position, ref in enumerate(parsed.references, start=1)
    )
    return course


def _episode_duration(parsed: ParsedShowNotes, *, media_url: str, given) -> int | None:
    """The episode's length in seconds: as given with the import, else as the notes state it,
    else as the media file on this site declares it; None when nothing says."""
    last = parsed.chapters[-1]
    if given is not None:
        source, duration = "given", int(given)
        if duration <= 0:
            raise ShowNotesError(_("The duration must be longer than zero."))
    elif parsed.duration_seconds is not None:
        source, duration = "notes", parsed.duration_seconds
    elif (found := media_file(media_url.strip())) is not None and (
        measured := media_file_seconds(found)
    ):
        source, duration = "file", round(measured)
    else:
        return None
    if duration > MAX_DURATION_SECONDS:
        raise ShowNotesError(_("The episode runs longer than 24 hours: check the duration."))
    if last.start_seconds >= duration:
        check = {
            "given": _("Check the chapter times or the duration."),
            "notes": _("Check the chapter times or the length the notes state."),
            "file": _("Check the chapter times or the media file."),
        }[source]
        raise ShowNotesError(
            _(
                "Line %(line)d: the chapter “%(title)s” starts at %(start)s, at or past the "
                "end of the episode (%(end)s). %(check)s"
            )
            % {
                "line": last.line,
                "title": last.title,
                "start": format_time(last.start_seconds),
                "end": format_time(duration),
                "check": check,
            }
        )
    return duration


# --- Checking the text --------------------------------------------------------------------------


def _checked_text(text) -> str:
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ShowNotesError(_("The show notes are not UTF-8 text.")) from exc
    if not isinstance(text, str):
        raise ShowNotesError(_("The show notes must be text."))
    if "\x00" in text:
        raise ShowNotesError(
            _("The show notes contain NUL bytes: this looks like a binary file, not text.")
        )
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise ShowNotesError(_("The show notes are not valid UTF-8 text.")) from exc
    if size > MAX_TEXT_BYTES:
        raise ShowNotesError(_("The show notes are over 1 MB: paste only the episode's notes."))
    text = text.lstrip("\ufeff").replace("\u00a0", " ").replace("\u202f", " ")
    if not text.strip():
        raise ShowNotesError(_("The show notes are empty."))
    return text


# --- Chapters -----------------------------------------------------------------------------------


def _chapter_block(lines: list[str]) -> tuple[set[int], list[Chapter]]:
    """The first run of timestamped lines (blank lines allowed between them) and its chapters.
    Timestamps further down are article text, not a second chapter list."""
    start = next((i for i, line in enumerate(lines) if _CHAPTER_LINE.match(line)), None)
    if start is None:
        raise ShowNotesError(
            _("No chapter list found: give lines like “12:05 Chapter title”, one per chapter.")
        )
    block: set[int] = set()
    chapters: list[Chapter] = []
    for i in range(start, len(lines)):
        line = lines[i]
        if not line.strip():
            continue
        match = _CHAPTER_LINE.match(line)
        if not match:
            break
        block.add(i)
        chapters.append(_chapter(match, line, i + 1, chapters[-1] if chapters else None))
        if len(chapters) > MAX_CHAPTERS:
            raise ShowNotesError(
                _("More than %(n)d chapters: at most %(n)d can be imported as lessons.")
                % {"n": MAX_CHAPTERS}
            )
    return block, chapters


def _chapter(match: re.Match, line: str, number: int, previous: Chapter | None) -> Chapter:
    hours = int(match["hours"] or 0)
    minutes, seconds = int(match["minutes"]), int(match["seconds"])
    if seconds >= 60 or (match["hours"] is not None and minutes >= 60):
        raise ShowNotesError(
            _("Line %(line)d (“%(text)s”): that is not a valid time.")
            % {"line": number, "text": line.strip()}
        )
    start = hours * 3600 + minutes * 60 + seconds
    title = " ".join(match["title"].split())
    if len(title) > 200:
        raise ShowNotesError(
            _("Line %(line)d: the chapter title is longer than 200 characters.") % {"line": number}
        )
    if start > MAX_DURATION_SECONDS:
        raise ShowNotesError(
            _("Line %(line)d (“%(text)s”): chapters must start within 24 hours.")
            % {"line": number, "text": line.strip()}
        )
    if previous is not None and start <= previous.start_seconds:
        raise ShowNotesError(
            _(
                "Line %(line)d (“%(text)s”): chapter times must increase, but %(time)s is "
                "%(how)s the previous chapter (%(previous)s, line %(previous_line)d)."
            )
            % {
                "line": number,
                "text": line.strip(),
                "time": format_time(start),
                "how": _("the same time as") if start == previous.start_seconds else _("before"),
                "previous": format_time(previous.start_seconds),
                "previous_line": previous.line,
            }
        )
    return Chapter(start_seconds=start, title=title, line=number)


def _stated_duration(lines: list[str]) -> tuple[int | None, int | None]:
    """The line of the notes that states the episode's length, and that length in seconds."""
    for index, line in enumerate(lines):
        match = _DURATION_LINE.match(line) if len(line) <= DURATION_LINE_CHARS else None
        if match is None:
            continue
        hours, minutes, seconds = (int(match[n] or 0) for n in ("hours", "minutes", "seconds"))
        if seconds >= 60 or (match["hours"] is not None and minutes >= 60):
            raise ShowNotesError(
                _("Line %(line)d (“%(text)s”): that is not a valid length.")
                % {"line": index + 1, "text": line.strip()}
            )
        total = hours * 3600 + minutes * 60 + seconds
        if total <= 0:
            raise ShowNotesError(
                _("Line %(line)d (“%(text)s”): the episode's length must be longer than zero.")
                % {"line": index + 1, "text": line.strip()}
            )
        return index, total
    return None, None


def _title(lines: list[str], block: set[int], chapters: list[Chapter]) -> str:
    """A heading-like line the notes repeat (the article's own title), else the first chapter's
    title."""
    first_chapter_line = min(block)
    after = [
        line.strip()
        for i, line in enumerate(lines)
        if i not in block and i > first_chapter_line and line.strip()
    ]
    if after and _heading_like(after[0]):
        candidate = _heading_text(after[0])
        key = _normalise(candidate)
        repeats = sum(_normalise(_heading_text(line)) == key for line in after) > 1
        if repeats or any(_normalise(chapter.title) == key for chapter in chapters):
            return candidate[:200]
    return chapters[0].title


# --- The article --------------------------------------------------------------------------------


def _split_body(lines: list[str], chapters: list[Chapter]) -> tuple[dict[int, str], set[int]]:
    """The article cut at headings that match chapter titles; text before the first goes to the
    first chapter."""
    matcher = _TitleMatcher(chapters)
    sections: dict[int, list[list[str]]] = {i: [] for i in range(len(chapters))}
    current = 0
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            sections[current].append(list(paragraph))
            paragraph.clear()

    last = len(lines) - 1
    for i, line in enumerate(lines):
        if not line.strip():
            flush()
            continue
        standalone = (i == 0 or not lines[i - 1].strip()) and (
            i == last or not lines[i + 1].strip()
        )
        found = None if _is_bullet(line) else matcher.match(line, fuzzy=standalone)
        if found is not None:
            flush()
            current = found
            continue
        if (
            current in matcher.matched
            and not sections[current]
            and not paragraph
            and _normalise(_heading_text(line)) == matcher.keys[current]
        ):
            # The chapter's heading repeated straight after itself (a page title and its
            # article title): once is enough.
            continue
        paragraph.append(line)
    flush()

    bodies = {
        index: "\n\n".join(_markdown_block(p) for p in paragraphs) or PLACEHOLDER_BODY
        for index, paragraphs in sections.items()
    }
    return bodies, matcher.matched


class _TitleMatcher:
    """Which chapter a body line is the heading of: the same words ignoring case and
    punctuation, or (for a line standing on its own) a close difflib match. Each chapter is
    matched once. The fuzzy comparisons are budgeted so a megabyte of short lines stays quick."""

    BUDGET = 20_000

    def __init__(self, chapters: list[Chapter]):
        self.keys = [_normalise(chapter.title) for chapter in chapters]
        self.exact = {}
        for index, key in enumerate(self.keys):
            self.exact.setdefault(key, []).append(index)
        self.matchers = [difflib.SequenceMatcher(None, b=key, autojunk=False) for key in self.keys]
        self.matched: set[int] = set()
        self.budget = self.BUDGET

    def match(self, line: str, *, fuzzy: bool) -> int | None:
        text = _normalise(_heading_text(line))
        if not text or len(text) > 250:
            return None
        found = next((i for i in self.exact.get(text, []) if i not in self.matched), None)
        if found is None and fuzzy:
            found = self._closest(text)
        if found is not None:
            self.matched.add(found)
        return found

    def _closest(self, text: str) -> int | None:
        best, best_ratio = None, TITLE_MATCH_RATIO
        for index, matcher in enumerate(self.matchers):
            if index in self.matched or self.budget <= 0:
                continue
            self.budget -= 1
            matcher.set_seq1(text)
            if matcher.real_quick_ratio() < best_ratio or matcher.quick_ratio() < best_ratio:
                continue
            ratio = matcher.ratio()
            if ratio > best_ratio or (best is None and ratio >= best_ratio):
                best, best_ratio = index, ratio
        return best


def _markdown_block(lines: list[str]) -> str:
    if len(lines) == 1 and (_MARKDOWN_HEADING.match(lines[0]) or _heading_like(lines[0])):
        return "## " + _heading_text(lines[0])
    out: list[str] = []
    in_list = False
    for line in lines:
        is_item = _is_bullet(line) or bool(_MARKDOWN_LIST.match(line))
        if _is_bullet(line):
            line = _BODY_BULLET.sub("- ", line, count=1)
        line = line.strip()
        if out and is_item and not in_list:
            out.append("")  # Markdown starts a list only after a blank line
        in_list = is_item
        out.append(line)
    return "\n".join(out)


def _heading_like(line: str) -> bool:
    """A short line on its own without closing punctuation: a section heading."""
    if _MARKDOWN_HEADING.match(line):
        return True
    text = line.strip()
    if _is_bullet(text) or _MARKDOWN_LIST.match(text) or not any(c.isalpha() for c in text):
        return False
    return len(text) <= 120 and len(text.split()) <= 15 and not text.endswith(_SENTENCE_END)


def _heading_text(line: str) -> str:
    text = _MARKDOWN_HEADING.sub("", line).strip()
    if text.startswith("**") and text.endswith("**") and len(text) > 4:
        text = text[2:-2].strip()
    return text.rstrip("#").strip()


def _is_bullet(line: str) -> bool:
    return bool(_BODY_BULLET.match(line))


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower().replace("&", " and ")
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


def _is_references(line: str) -> bool:
    return bool(_REFERENCES_HEADING.match(_heading_text(line).strip("*_ ")))


def _is_chrome(line: str) -> bool:
    return bool(_PAGE_CHROME.match(_heading_text(line).strip("*_ ")))


def _summary_and_description(parsed: ParsedShowNotes) -> tuple[str, str]:
    """The article's opening paragraphs: up to its first sub-heading, about 1,200 characters."""
    paragraphs: list[str] = []
    for index in range(len(parsed.chapters)):
        body = parsed.body_by_chapter[index]
        if body == PLACEHOLDER_BODY:
            continue
        for block in body.split("\n\n"):
            if block.startswith("## ") or block.startswith("- "):
                if paragraphs:
                    break
                continue
            if paragraphs and sum(map(len, paragraphs)) + len(block) > DESCRIPTION_CHARS:
                break
            paragraphs.append(block)
        if paragraphs:
            break
    if not paragraphs:
        return TO_BE_CONFIRMED, TO_BE_CONFIRMED
    first = " ".join(paragraphs[0].split())
    return _shorten(first, SUMMARY_CHARS), _shorten("\n\n".join(paragraphs), DESCRIPTION_CHARS)


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:—–-") + "…"


# --- References ---------------------------------------------------------------------------------


def _references(lines: list[str]) -> list[ParsedReference]:
    start = next((i for i, line in enumerate(lines) if _is_references(line)), None)
    if start is None:
        return []
    references: list[ParsedReference] = []
    for line in lines[start + 1 :]:
        text = line.strip()
        if not text:
            continue
        if _is_chrome(text) or _is_references(text):
            break
        text = _BODY_BULLET.sub("", text)
        if not _CITATION_YEAR.search(text):
            # An address on its own line belongs to the citation above it.
            previous = references[-1] if references else None
            if previous and not (previous.doi or previous.url) and " " not in text:
                citation, doi, url = _split_link(text)
                if not citation:
                    previous.doi, previous.url = doi, url
            continue
        citation, doi, url = _split_link(text)
        if citation:
            references.append(ParsedReference(citation=citation, doi=doi, url=url))
    return references


def _split_link(text: str) -> tuple[str, str, str]:
    """The citation without its trailing DOI or address, and that DOI or address."""
    match = _TRAILING_DOI.search(text)
    if match:
        doi = unquote(match["doi"])
        if len(doi) <= 200:
            return text[: match.start()].strip(), doi, ""
    match = _TRAILING_URL.search(text)
    if match and len(match["url"]) <= 500:
        try:
            URLValidator(schemes=["http", "https"])(match["url"])
        except ValidationError:
            return text, "", ""
        return text[: match.start()].strip(), "", match["url"]
    return text, "", ""


# --- Saving -------------------------------------------------------------------------------------


def _audio_mime_type(media_url: str) -> str:
    path = media_url.split("?", 1)[0].lower()
    for ending, mime in {
        ".mp3": "audio/mpeg",
        ".m4a": "audio/mp4",
        ".aac": "audio/aac",
        ".wav": "audio/wav",
        ".opus": "audio/ogg",
        ".oga": "audio/ogg",
        ".ogg": "audio/ogg",
    }.items():
        if path.endswith(ending):
            return mime
    return Episode._meta.get_field("media_mime_type").default


def _save_with_free_slug(course: Course) -> None:
    stem = slugify(course.title)[:SLUG_STEM_CHARS].strip("-") or "course"
    number = 1
    while True:
        slug = stem if number == 1 else f"{stem}-{number}"
        number += 1
        if Course.objects.filter(slug=slug).exists():
            continue
        course.slug = slug
        try:
            # Another import may take the same slug between the check and the save.
            with transaction.atomic():
                course.save()
        except IntegrityError:
            if not Course.objects.filter(slug=slug).exists():
                raise
            course.pk = None
            course._state.adding = True
            continue
        return
