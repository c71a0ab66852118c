"""A draft course from an episode's show notes: a title line above the chapter list is the
title, the chapter list becomes lessons, the article under it becomes their text (cut at headings
that repeat chapter titles, else shared out in order among the chapters), the "Resources:" list
becomes references. Whatever the notes lack is left as a placeholder the publish checklist flags,
never invented: a chapter's length comes from the next chapter's stamp or the episode's length,
never from a guess."""

import difflib
import math
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
    # A "Chapters:" line above the list (blank lines between allowed) is not article text.
    label = next((i for i in range(min(block) - 1, -1, -1) if lines[i].strip()), -1)
    duration_line, duration = _stated_duration(lines)
    title_line = _title_line(lines, block, duration_line)
    title = _heading_text(lines[title_line])[:200] if title_line is not None else None
    if title is not None and _is_notes_label(title):
        title = None  # "Show notes" is what the text is, not what the episode is called
    body_lines = [
        line
        for i, line in enumerate(lines[:stop])
        if i not in block
        and i != duration_line
        and i != title_line
        and not (i == label and _CHAPTER_LIST_LABEL.match(line))
    ]
    if title is not None:
        body_lines = _without_repeated_title(body_lines, title)
    body_by_chapter, matched = _split_body(body_lines, chapters, duration=duration)
    return ParsedShowNotes(
        title=title or _title(lines, block, chapters),
        chapters=chapters,
        body_by_chapter=body_by_chapter,
        references=_references(lines),
        matched_chapters=matched,
        duration_seconds=duration,
    )


def chapter_lines(text: str) -> set[int]:
    """The 0-based lines of the notes' chapter list; empty when the notes have none."""
    try:
        block, _chapters = _chapter_block(text.splitlines())
    except ShowNotesError:
        return set()
    return block


@transaction.atomic
def import_course(
    *,
    text: str,
    title: str | None = None,
    media_url: str = "",
    duration_seconds: int | None = None,
    show: str = "",
    published_on=None,
    source_url: str = "",
    acting_user=None,
) -> Course:
    """A draft course, its episode, one lesson per chapter and its references; nothing at all
    when the notes are refused. A feed also gives the podcast's name, the episode's date and
    its page."""
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
        show=show[:200],
        published_on=published_on,
        source_url=source_url,
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


def _title_line(lines: list[str], block: set[int], duration_line: int | None) -> int | None:
    """The notes' first line, when it reads as a title (the episode's name above its chapter
    list) rather than a chapter, a label or a sentence of the article."""
    for index, line in enumerate(lines):
        text = line.strip()
        if not text or index == duration_line:
            continue
        if index in block or _CHAPTER_LIST_LABEL.match(text):
            return None
        if _MARKDOWN_HEADING.match(text):
            return index
        words = text.split()
        if (
            _is_bullet(text)
            or _MARKDOWN_LIST.match(text)
            or not any(c.isalpha() for c in text)
            or len(text) > 200
            or len(words) > 25
            or text.endswith((".", ",", ";", ":", "…"))
        ):
            return None
        return index
    return None


_NOTES_LABEL = re.compile(
    r"^(?:(?:the\s+)?(?:episode|show|podcast)\s+)?(?:show\s+)?notes\s*:?$|^description\s*:?$",
    re.I,
)


def _is_notes_label(text: str) -> bool:
    return bool(_NOTES_LABEL.match(text.strip("*_ ")))


def _without_repeated_title(lines: list[str], title: str) -> list[str]:
    """The article without the title lines that open it again (a page shows its title above
    the article too)."""
    key = _normalise(title)
    index = 0
    while index < len(lines):
        text = lines[index].strip()
        if text and _normalise(_heading_text(text)) != key:
            break
        index += 1
    return [line for line in lines[:index] if not line.strip()] + lines[index:]


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


def _split_body(
    lines: list[str], chapters: list[Chapter], *, duration: int | None = None
) -> tuple[dict[int, str], set[int]]:
    """The article cut at headings that match chapter titles; text before the first goes to the
    first chapter. Where chapters have no heading of their own, the text of the chapter before
    them is shared out among them (see _share_out)."""
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
    for paragraphs in sections.values():
        _drop_promotions(paragraphs)
    _share_out(sections, chapters, matcher.matched, duration=duration)

    bodies = {
        index: "\n\n".join(_markdown_block(p) for p in paragraphs) or PLACEHOLDER_BODY
        for index, paragraphs in sections.items()
    }
    return bodies, matcher.matched


# A call to sign up for the newsletter, part of the page around the article, not its text.
_PROMOTION = re.compile(
    r"\b(?:sign up|subscribe|join)\b.{0,400}\b(?:inbox|newsletter|mailing list)\b", re.I
)


def _drop_promotions(paragraphs: list[list[str]]) -> None:
    for index in range(len(paragraphs) - 1, -1, -1):
        if not _PROMOTION.search(" ".join(paragraphs[index])):
            continue
        del paragraphs[index]
        before = paragraphs[index - 1] if index else None
        if before and len(before) == 1 and len(before[0].split()) <= 12:
            del paragraphs[index - 1]  # the promotion's own heading ("It's time for you, too.")


def _share_out(
    sections: dict[int, list[list[str]]],
    chapters: list[Chapter],
    matched: set[int],
    *,
    duration: int | None,
) -> None:
    """Give chapters without a heading of their own a part of the text before them.

    Show notes rarely repeat every chapter as a heading: an article with its own sub-headings
    sits under the first chapter. Its paragraphs are cut into as many runs, in order, as there
    are chapters to fill, each run going to the chapter whose title shares the most words with
    it and whose place in the episode matches its place in the text."""
    index = 0
    while index < len(chapters):
        end = index + 1
        while end < len(chapters) and not sections[end] and end not in matched:
            end += 1
        if end - index > 1 and sections[index]:
            shared = _runs(sections[index], chapters, index, end, duration=duration)
            for offset, paragraphs in enumerate(shared):
                sections[index + offset] = paragraphs
        index = end


# How much a paragraph's distance from its chapter's stretch of the episode (as shares of the
# whole) weighs against the words it shares with the chapter's title (0 to 1), and the reward
# for starting a chapter at one of the article's own headings.
PLACE_WEIGHT = 3.0
HEADING_BONUS = 0.3
MAX_SHARE_STEPS = 400_000
_STOPWORDS = frozenset(
    re.findall(
        r"\w+",
        "a an and are as at be but by can do for from how in into is it its of on or our the "
        "their them they this to too vs what when where which who why with you your",
    )
)


def _runs(
    paragraphs: list[list[str]], chapters: list[Chapter], first: int, end: int, *, duration
) -> list[list[list[str]]]:
    # A paragraph that is a heading goes with the paragraph after it.
    units: list[list[list[str]]] = []
    for paragraph in paragraphs:
        if units and len(units[-1]) == 1 and _is_heading_paragraph(units[-1][0]):
            units[-1].append(paragraph)
        else:
            units.append([paragraph])
    count = end - first
    # Each chapter's stretch of the episode, as shares of the stretch these chapters cover.
    starts = [chapters[i].start_seconds for i in range(first, end)]
    if end < len(chapters):
        stop = chapters[end].start_seconds
    elif duration and duration > starts[-1]:
        stop = duration
    else:
        stop = starts[-1] + max((starts[-1] - starts[0]) / max(count - 1, 1), 1)
    span = max(stop - starts[0], 1)
    bounds = [
        ((a - starts[0]) / span, (b - starts[0]) / span)
        for a, b in zip(starts, [*starts[1:], stop], strict=True)
    ]
    # Each unit's place: the middle of its words, as a share of all the words.
    sizes = [max(sum(len(" ".join(p).split()) for p in unit), 1) for unit in units]
    total = sum(sizes)
    places, seen = [], 0
    for size in sizes:
        places.append((seen + size / 2) / total)
        seen += size

    def place_cost(chapter: int, unit: int) -> float:
        low, high = bounds[chapter]
        return max(low - places[unit], places[unit] - high, 0.0)

    if len(units) < count or len(units) * count > MAX_SHARE_STEPS:
        # Too few paragraphs to give each chapter one (or too many to weigh): by place alone.
        assigned = [
            min(range(count), key=lambda c, u=u: (place_cost(c, u), c)) for u in range(len(units))
        ]
        if len(units) >= count:
            assigned = [min(count - 1, u * count // len(units)) for u in range(len(units))]
    else:
        similarity = _similarity([chapters[i].title for i in range(first, end)], units)
        heading = [_is_heading_paragraph(unit[0]) for unit in units]
        assigned = _best_runs(
            count,
            len(units),
            lambda c, u: similarity[c][u] - PLACE_WEIGHT * place_cost(c, u),
            heading,
        )
    shared: list[list[list[str]]] = [[] for _ in range(count)]
    for unit, chapter in zip(units, assigned, strict=True):
        shared[chapter].extend(unit)
    return shared


def _best_runs(count: int, n: int, score, heading: list[bool]) -> list[int]:
    """The chapter of each of n units: runs in order, every chapter at least one unit, the
    total score the highest (dynamic programming over units and chapters)."""
    minus = float("-inf")
    best = [[minus] * count for _ in range(n)]
    came = [[0] * count for _ in range(n)]
    best[0][0] = score(0, 0)
    for u in range(1, n):
        for c in range(max(0, count - (n - u)), min(count, u + 1)):
            stay = best[u - 1][c]
            move = best[u - 1][c - 1] + (HEADING_BONUS if heading[u] else 0.0) if c else minus
            if stay == minus and move == minus:
                continue
            came[u][c] = c if stay >= move else c - 1
            best[u][c] = max(stay, move) + score(c, u)
    assigned = [0] * n
    chapter = count - 1
    for u in range(n - 1, -1, -1):
        assigned[u] = chapter
        chapter = came[u][chapter]
    return assigned


def _similarity(titles: list[str], units: list[list[list[str]]]) -> list[list[float]]:
    """For each title and unit, the share of the title's words (weighted by how rare they are
    in the text) that the unit uses; a heading's words count double."""
    unit_words = []
    for unit in units:
        counted: dict[str, float] = {}
        for number, paragraph in enumerate(unit):
            weight = 2.0 if number == 0 and _is_heading_paragraph(paragraph) else 1.0
            for stem in _stems(" ".join(paragraph)):
                counted[stem] = max(counted.get(stem, 0.0), weight)
        unit_words.append(counted)
    n = len(units)
    frequency: dict[str, int] = {}
    for words in unit_words:
        for stem in words:
            frequency[stem] = frequency.get(stem, 0) + 1
    table = []
    for title in titles:
        stems = set(_stems(title))
        weights = {stem: math.log((n + 1) / (frequency.get(stem, 0) + 0.5)) for stem in stems}
        weights = {stem: weight for stem, weight in weights.items() if weight > 0}
        whole = sum(weights.values())
        row = []
        for words in unit_words:
            shared = sum(
                weight * min(words.get(stem, 0.0), 1.5) for stem, weight in weights.items()
            )
            row.append(shared / whole if whole else 0.0)
        table.append(row)
    return table


def _stems(text: str) -> list[str]:
    stems = []
    for word in re.findall(r"[^\W\d_]+", _normalise(text)):
        if word in _STOPWORDS or len(word) < 3:
            continue
        for ending in ("ing", "ed", "es", "s", "ly", "ions", "ion", "ment", "ness", "ity", "th"):
            if word.endswith(ending) and len(word) - len(ending) >= 4:
                word = word[: -len(ending)]
                break
        stems.append(word[:5])
    return stems


def _is_heading_paragraph(paragraph: list[str]) -> bool:
    return len(paragraph) == 1 and (
        bool(_MARKDOWN_HEADING.match(paragraph[0])) or _heading_like(paragraph[0])
    )


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
