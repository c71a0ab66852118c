"""A podcast feed read for the import: its episodes to choose from, and for the chosen one what a
draft course is made of. The show notes are the episode's description; its chapters come from
the Podcasting 2.0 chapters file (podcast:chapters, JSON) or else from the timestamps in the
description; its captions from podcast:transcript (WebVTT or SubRip); its length from
itunes:duration or else from the audio file itself. The course is then made by the same
import as pasted show notes (courses.services.importing.import_course)."""

import hashlib
import json
import math
import re
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from datetime import date
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import feedparser
from django.utils.translation import gettext as _

from courses.services.captions import MAX_CAPTIONS_BYTES, CaptionsError, Cue, read_captions
from courses.services.catalog import media_file_seconds
from courses.services.importing import (
    MAX_CHAPTERS,
    MAX_DURATION_SECONDS,
    MAX_TEXT_BYTES,
    chapter_lines,
)
from courses.services.safe_fetch import FetchError, fetch, fetch_to_file, size_text

MAX_FEED_BYTES = 5 * 1024 * 1024
MAX_CHAPTERS_FILE_BYTES = 1024 * 1024
# Read to learn an episode's length when the feed does not state it.
MAX_AUDIO_BYTES = 400 * 1024 * 1024
PODCAST_NS = "https://podcastindex.org/namespace/1.0"
VTT_TYPES = {"text/vtt"}
SRT_TYPES = {"application/x-subrip", "application/srt", "text/srt", "application/x-srt"}
_DURATION = re.compile(r"^(?:(?:(\d{1,3}):)?(\d{1,3}):)?(\d{1,6})(?:\.\d+)?$")


class FeedError(Exception):
    """A feed, or a file it points to, that cannot be imported; the message says what to do."""


class EpisodeFileError(FeedError):
    """The episode's chapters file or transcript could not be used; the episode can still be
    imported without them."""


@dataclass
class Transcript:
    url: str
    kind: str  # "vtt" or "srt"


@dataclass
class FeedEpisode:
    key: str  # stable across readings of the same feed: picks the episode in the form
    title: str
    published_on: str = ""  # ISO date
    duration_seconds: int | None = None
    media_url: str = ""
    media_type: str = ""
    source_url: str = ""
    notes_html: str = ""
    chapters_url: str = ""
    transcripts: list[Transcript] = field(default_factory=list)

    @property
    def published(self) -> date | None:
        return date.fromisoformat(self.published_on) if self.published_on else None


@dataclass
class Feed:
    title: str
    episodes: list[FeedEpisode]

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Feed":
        episodes = []
        for item in data["episodes"]:
            item = dict(item)
            item["transcripts"] = [Transcript(**t) for t in item.get("transcripts", [])]
            episodes.append(FeedEpisode(**item))
        return cls(title=data["title"], episodes=episodes)

    def episode(self, key: str) -> FeedEpisode | None:
        return next((episode for episode in self.episodes if episode.key == key), None)


@dataclass
class EpisodeImport:
    """What import_course and the captions are given for one episode of a feed."""

    text: str  # show notes: the title line, the chapter list, the article
    title: str
    show: str
    media_url: str
    duration_seconds: int | None
    source_url: str
    published_on: date | None
    cues: list[Cue] | None = None
    captions_name: str = ""
    notes: list[str] = field(default_factory=list)  # what the author is told after the import


# --- Reading the feed ---------------------------------------------------------------------------


def load_feed(url: str) -> tuple[Feed, bytes]:
    """The feed at url, fetched safely, and its bytes."""
    try:
        fetched = fetch(
            url,
            max_bytes=MAX_FEED_BYTES,
            what=_("the feed"),
            accept="application/rss+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.1",
        )
    except FetchError as exc:
        raise FeedError(str(exc)) from exc
    return read_feed(fetched.data), fetched.data


def read_feed(data: bytes) -> Feed:
    """The episodes of a podcast feed (RSS), newest first as the feed lists them, or FeedError."""
    if not data or not data.strip():
        raise FeedError(_("The feed is empty."))
    if len(data) > MAX_FEED_BYTES:
        raise FeedError(
            _("The feed is larger than %(limit)s, more than can be imported.")
            % {"limit": size_text(MAX_FEED_BYTES)}
        )
    head = data[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        raise FeedError(
            _(
                "This is a web page, not a podcast feed. Give the feed's own address (often "
                "called RSS), which podcast apps subscribe to."
            )
        )
    parsed = feedparser.parse(data, sanitize_html=True, resolve_relative_uris=False)
    if not parsed.get("version") and not parsed.entries:
        raise FeedError(
            _(
                "This is not a podcast feed: no RSS or Atom could be read from it. Give the "
                "feed's address (RSS), or upload the feed's .xml file."
            )
        )
    extras = _podcast_elements(data)
    if len(extras) != len(parsed.entries):
        extras = {}  # not the same items (an Atom feed, a broken one): the parser's alone
    episodes = []
    for index, entry in enumerate(parsed.entries):
        episode = _episode(entry, extras.get(index, {}))
        if episode is not None:
            episodes.append(episode)
    if not episodes:
        raise FeedError(_("The feed lists no episodes with a title, so nothing can be imported."))
    show = " ".join((parsed.feed.get("title") or "").split())[:200]
    return Feed(title=show, episodes=episodes)


def _episode(entry, extras: dict) -> FeedEpisode | None:
    title = " ".join((entry.get("title") or "").split())
    if not title:
        return None
    enclosure = next(
        (
            link
            for link in entry.get("links", [])
            if link.get("rel") == "enclosure" and link.get("href")
        ),
        None,
    )
    media_url = (enclosure or {}).get("href", "").strip()
    published = entry.get("published_parsed") or entry.get("updated_parsed")
    notes = ""
    for content in entry.get("content", []) or []:
        if content.get("value"):
            notes = content["value"]
            break
    notes = notes or entry.get("summary", "") or ""
    identity = entry.get("id") or media_url or entry.get("link") or title
    transcripts = extras.get("transcripts")
    if transcripts is None:
        single = entry.get("podcast_transcript")
        transcripts = [_transcript(single)] if isinstance(single, dict) else []
    chapters = extras.get("chapters") or (entry.get("podcast_chapters") or {}).get("url", "")
    return FeedEpisode(
        key=hashlib.sha256(identity.encode("utf-8", "replace")).hexdigest()[:16],
        title=title[:200],
        published_on=_iso_date(published),
        duration_seconds=parse_duration(entry.get("itunes_duration", "")),
        media_url=media_url,
        media_type=(enclosure or {}).get("type", ""),
        source_url=(entry.get("link") or "").strip(),
        notes_html=notes,
        chapters_url=(chapters or "").strip(),
        transcripts=[t for t in transcripts if t is not None],
    )


def _iso_date(parsed) -> str:
    try:
        return date(*parsed[:3]).isoformat() if parsed else ""
    except (TypeError, ValueError):
        return ""  # a date the feed gets wrong is left out, not a reason to refuse it


def _podcast_elements(data: bytes) -> dict[int, dict]:
    """podcast:chapters and every podcast:transcript of each item, by the item's position
    (the parser above keeps only the last transcript of an item)."""
    try:
        root = ET.fromstring(data)  # noqa: S314 - expat expands no external entities
    except ET.ParseError:
        return {}
    items = root.findall("./channel/item")
    found: dict[int, dict] = {}
    for index, item in enumerate(items):
        transcripts = [
            _transcript(element.attrib) for element in item.findall(f"{{{PODCAST_NS}}}transcript")
        ]
        chapters = item.find(f"{{{PODCAST_NS}}}chapters")
        found[index] = {
            "transcripts": [t for t in transcripts if t is not None],
            "chapters": chapters.get("url", "") if chapters is not None else "",
        }
    return found


def _transcript(attributes: dict) -> Transcript | None:
    url = (attributes.get("url") or "").strip()
    kind = (attributes.get("type") or "").split(";")[0].strip().lower()
    ending = PurePosixPath(urlsplit(url).path.lower()).suffix
    if kind in VTT_TYPES or (not kind and ending == ".vtt"):
        return Transcript(url=url, kind="vtt")
    if kind in SRT_TYPES or (not kind and ending == ".srt"):
        return Transcript(url=url, kind="srt")
    return None  # JSON and HTML transcripts carry no captions this site reads


def parse_duration(value) -> int | None:
    """Seconds from itunes:duration ("1515", "25:15", "0:25:15"), or None when it says none."""
    value = str(value or "").strip()
    match = _DURATION.match(value)
    if not match:
        return None
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    return total if 0 < total <= MAX_DURATION_SECONDS else None


def chapter_source(episode: FeedEpisode) -> str:
    """Where the episode's chapters will come from, as the episode list tells the author."""
    if episode.chapters_url:
        return _("chapters file")
    if chapter_lines(html_to_text(episode.notes_html)):
        return _("description")
    return ""


# --- One episode, ready for the import ----------------------------------------------------------


def prepare_episode(
    feed: Feed, episode: FeedEpisode, *, without_files: bool = False
) -> EpisodeImport:
    """Everything the import needs for one episode: its files fetched and checked. Without
    files, its chapters file and transcript are left aside (the author chose so after one of
    them was refused)."""
    if not episode.media_url:
        raise FeedError(
            _("“%(title)s” has no audio file (enclosure) in the feed, so it cannot be a course.")
            % {"title": episode.title}
        )
    if len(episode.media_url) > 500:
        raise FeedError(_("The episode's audio address is longer than 500 characters."))
    notes: list[str] = []
    article = html_to_text(episode.notes_html)
    use_files = not without_files
    chapters = fetch_chapters(episode.chapters_url) if episode.chapters_url and use_files else []
    if chapters:
        # The file's chapters are the list; a list typed into the description is left out.
        article = _without_chapter_list(article)
        chapter_text = "\n".join(f"{_clock(start)} {title}" for start, title in chapters)
    elif chapter_lines(article):
        chapter_text = ""  # the description's own timestamps make the list
    else:
        chapter_text = f"00:00 {episode.title}"
        notes.append(
            _(
                "The feed gives no chapters for this episode (no chapters file, no timestamps "
                "in its description), so it is one lesson. Add chapters as lessons if it has "
                "parts."
            )
        )

    duration = episode.duration_seconds
    if duration is None:
        duration = audio_seconds(episode.media_url)
        if duration is None:
            notes.append(
                _(
                    "The feed does not state the episode's length and the audio file's could "
                    "not be read: give it on the episode before publishing."
                )
            )

    cues, captions_name = None, ""
    transcript = _preferred_transcript(episode.transcripts) if use_files else None
    if without_files and (episode.chapters_url or episode.transcripts):
        notes.append(
            _(
                "Imported without the feed's chapters file and transcript: add the captions on "
                "the episode before publishing."
            )
        )
    if transcript is not None:
        cues, captions_name = fetch_transcript(transcript)

    # The title as a heading line: the import reads it as the title whatever its punctuation.
    text = "\n\n".join(
        part for part in (f"# {episode.title}", chapter_text, article) if part.strip()
    )
    if len(text.encode("utf-8")) > MAX_TEXT_BYTES:
        raise FeedError(
            _("The episode's description is over 1 MB: it cannot be imported as show notes.")
        )
    source_url = episode.source_url if len(episode.source_url) <= 200 else ""
    return EpisodeImport(
        text=text,
        title=episode.title,
        show=feed.title,
        media_url=episode.media_url,
        duration_seconds=duration,
        source_url=source_url if source_url.startswith(("http://", "https://")) else "",
        published_on=episode.published,
        cues=cues,
        captions_name=captions_name,
        notes=notes,
    )


def fetch_chapters(url: str) -> list[tuple[int, str]]:
    """The chapters of a Podcasting 2.0 chapters file: (start in seconds, title), in order."""
    try:
        fetched = fetch(
            url,
            max_bytes=MAX_CHAPTERS_FILE_BYTES,
            what=_("the chapters file"),
            accept="application/json+chapters, application/json;q=0.9, */*;q=0.1",
        )
    except FetchError as exc:
        raise EpisodeFileError(str(exc)) from exc
    return read_chapters(fetched.data)


def read_chapters(data: bytes) -> list[tuple[int, str]]:
    def refused(problem: str) -> FeedError:
        return EpisodeFileError(
            _("The episode's chapters file (podcast:chapters) %(problem)s") % {"problem": problem}
        )

    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise refused(_("is not UTF-8 text.")) from exc
    except (json.JSONDecodeError, RecursionError) as exc:
        raise refused(_("is not valid JSON: %(error)s.") % {"error": exc}) from exc
    if not isinstance(document, dict) or not isinstance(document.get("chapters"), list):
        raise refused(_("has no “chapters” list, as the JSON chapters format requires."))
    chapters: dict[int, str] = {}
    for number, item in enumerate(document["chapters"], start=1):
        if not isinstance(item, dict):
            raise refused(_("has an entry %(n)d that is not a chapter.") % {"n": number})
        if item.get("toc") is False:
            continue  # a chapter the format marks as not for the table of contents
        start = item.get("startTime")
        if (
            isinstance(start, bool)
            or not isinstance(start, int | float)
            or not math.isfinite(start)
            or start < 0
        ):
            raise refused(
                _("gives chapter %(n)d no start time (startTime, in seconds).") % {"n": number}
            )
        if start > MAX_DURATION_SECONDS:
            raise refused(_("starts chapter %(n)d after 24 hours.") % {"n": number})
        title = " ".join(str(item.get("title") or "").split())[:200]
        # Chapters are whole seconds here; of two in the same second, the first is kept.
        chapters.setdefault(int(start), title or _("Chapter %(n)d") % {"n": number})
    if not chapters:
        raise refused(_("lists no chapters."))
    if len(chapters) > MAX_CHAPTERS:
        raise refused(
            _("lists more than %(n)d chapters: at most %(n)d can be lessons.") % {"n": MAX_CHAPTERS}
        )
    ordered = sorted(chapters.items())
    if ordered[0][0] != 0:
        # The time before the first chapter is the episode's opening, a lesson of its own.
        ordered.insert(0, (0, _("Introduction")))
    return ordered


def fetch_transcript(transcript: Transcript) -> tuple[list[Cue], str]:
    name = f"transcript.{transcript.kind}"
    try:
        fetched = fetch(transcript.url, max_bytes=MAX_CAPTIONS_BYTES, what=_("the transcript"))
        return read_captions(fetched.data, filename=name), name
    except (FetchError, CaptionsError) as exc:
        raise EpisodeFileError(
            _("The episode's transcript (podcast:transcript): %(error)s") % {"error": exc}
        ) from exc


def audio_seconds(url: str) -> int | None:
    """The running time the episode's audio file declares, read from the file; None when it
    cannot be fetched or read."""
    suffix = PurePosixPath(urlsplit(url).path).suffix[:8]
    with tempfile.NamedTemporaryFile(suffix=suffix) as file:
        try:
            fetch_to_file(url, file, max_bytes=MAX_AUDIO_BYTES, what=_("the audio file"))
        except FetchError:
            return None
        seconds = media_file_seconds(Path(file.name))
    if not seconds or seconds <= 0:
        return None
    return min(round(seconds), MAX_DURATION_SECONDS)


def _preferred_transcript(transcripts: list[Transcript]) -> Transcript | None:
    return next((t for t in transcripts if t.kind == "vtt"), None) or next(
        (t for t in transcripts if t.kind == "srt"), None
    )


def _clock(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    return (
        f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
        if hours
        else f"{rest // 60:02d}:{rest % 60:02d}"
    )


def _without_chapter_list(text: str) -> str:
    lines = text.splitlines()
    listed = chapter_lines(text)
    return "\n".join(line for i, line in enumerate(lines) if i not in listed)


# --- The description as show notes --------------------------------------------------------------


class _TextMaker(HTMLParser):
    """HTML show notes as the plain text the show-notes import reads: a line for each block,
    "• " before list items, headings on lines of their own, links kept as Markdown links."""

    BLOCKS = {
        "p", "div", "section", "article", "header", "footer", "blockquote", "pre", "table",
        "tr", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "figure",
    }  # fmt: skip
    SKIP = {"script", "style", "noscript", "template"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.link: tuple[str, int] | None = None

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n\n")
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n• ")
        elif tag == "a":
            href = (dict(attrs).get("href") or "").strip()
            self.link = (
                (href, len(self.parts)) if href.startswith(("http://", "https://")) else None
            )

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")
        elif tag == "a" and self.link is not None:
            href, start = self.link
            self.link = None
            label = "".join(self.parts[start:]).strip()
            if label and label != href and "\n" not in label:
                self.parts[start:] = [f"[{label}]({href})"]
            elif not label:
                self.parts.append(href)

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data.replace("\n", " ") if self.parts else data.lstrip())

    def text(self) -> str:
        lines = [" ".join(line.split()) for line in "".join(self.parts).splitlines()]
        text = "\n".join(line for line in lines)
        return re.sub(r"\n{3,}", "\n\n", text).strip()


def html_to_text(html: str) -> str:
    if not html:
        return ""
    if "<" not in html:
        return html.strip()  # a plain-text description keeps its own lines
    maker = _TextMaker()
    maker.feed(html)
    maker.close()
    return maker.text()
