"""Build fixtures/demo_trainings.json (and, with --audio, the demo episode's narration and its
captions) from the readable sources in fixtures/demo/source/. The JSON is committed; rebuild it
after editing a source. Every object has a fixed primary key, so loading the fixture twice
changes nothing.

The captions are timed by measurement, not estimate: each caption's words are synthesised on
their own, measured with soxi, and the episode is those pieces end to end, so every cue starts
and ends where its words do. They are written to fixtures/demo/why-therapy-clients-ghost.vtt
(committed beside the audio) and loaded onto the episode from there."""

import json
import re
import shutil
import subprocess
import tempfile
import tomllib
import uuid
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.text import slugify

from courses.models.catalog import READING_WORDS_PER_MINUTE
from courses.services.captions import Cue, read_captions, to_webvtt
from courses.services.catalog import (
    count_words,
    estimated_minutes,
    least_engaged_minutes,
    supported_hours,
)

SOURCE = Path(settings.BASE_DIR, "fixtures", "demo", "source")
OUTPUT = Path(settings.BASE_DIR, "fixtures", "demo_trainings.json")
CAPTIONS = Path(settings.BASE_DIR, "fixtures", "demo", "why-therapy-clients-ghost.vtt")
# Narration starts this far into its chapter, so a chapter never opens mid-word.
LEAD_IN_SECONDS = 0.5
# A caption is read at a glance: a sentence longer than this is cut at its commas, colons and
# semicolons into pieces no longer than this where it can be.
CAPTION_CHARS = 90
# Every piece in one format (16 kHz, mono, 16-bit: what opusenc takes), so they join end to end.
WAV_FORMAT = ("-r", "16000", "-c", "1", "-b", "16")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_CLAUSE_END = re.compile(r"(?<=[,;:])\s+")
PUBLISHED_AT = "2026-11-01T12:00:00Z"
DEMO_LINEAGE_NAMESPACE = uuid.UUID("6f1d2c1e-8a53-4d7a-9a43-3b1f0f6f7c1a")
COURSE_ORDER = [
    "ruptures-ghosting-and-reengaging-stuck-clients",
    "emotional-safety-trust-and-open-communication",
    "coaching-versus-therapy-for-growth-oriented-clients",
]


def seconds(stamp: str) -> int:
    """'MM:SS' or 'H:MM:SS' as seconds."""
    total = 0
    for part in stamp.split(":"):
        total = total * 60 + int(part)
    return total


def load_sources() -> tuple[dict, list[dict]]:
    catalog = tomllib.loads((SOURCE / "catalog.toml").read_text(encoding="utf-8"))
    courses = [
        tomllib.loads((SOURCE / f"{slug}.toml").read_text(encoding="utf-8"))
        for slug in COURSE_ORDER
    ]
    return catalog, courses


def chapter_ranges(catalog: dict) -> list[tuple[int, int, str]]:
    chapters = catalog["episode"]["chapters"]
    end = seconds(catalog["episode"]["end"])
    starts = [seconds(chapter["start"]) for chapter in chapters]
    return [
        (start, starts[i + 1] if i + 1 < len(starts) else end, chapters[i]["title"])
        for i, start in enumerate(starts)
    ]


def build_fixture(catalog: dict, courses: list[dict]) -> list[dict]:
    objects: list[dict] = []

    def add(model: str, pk: int, **fields) -> None:
        objects.append({"model": model, "pk": pk, "fields": fields})

    add("courses.provider", 1, **catalog["provider"], updated_at=PUBLISHED_AT)
    accreditor_pk = {}
    profession_pk = 0
    for pk, accreditor in enumerate(catalog["accreditors"], start=1):
        accreditor_pk[accreditor["short_name"]] = pk
        add(
            "courses.accreditor",
            pk,
            name=accreditor["name"],
            short_name=accreditor["short_name"],
            # Boards name these bodies when they say whose credit they accept.
            body=accreditor["short_name"],
            provider_number=accreditor["provider_number"],
            statement_template=accreditor["statement"],
            approved_from=accreditor["approved_from"].isoformat(),
            approved_until=accreditor["approved_until"].isoformat(),
            website="",
        )
        for profession in accreditor["professions"]:
            profession_pk += 1
            add("courses.accreditorprofession", profession_pk, accreditor=pk, profession=profession)

    topic_names = sorted({topic for course in courses for topic in course["topics"]})
    topic_pk = {name: pk for pk, name in enumerate(topic_names, start=1)}
    for name, pk in topic_pk.items():
        add("courses.topic", pk, name=name, slug=slugify(name))

    episode = catalog["episode"]
    ranges = chapter_ranges(catalog)
    add(
        "courses.episode",
        1,
        title=episode["title"],
        show=episode["show"],
        published_on=None,
        media_url=episode["media_url"],
        media_type="audio",
        media_mime_type=episode["media_mime_type"],
        duration_seconds=seconds(episode["end"]),
        source_url="",
        captions=demo_captions(),
        captions_updated_at=PUBLISHED_AT,
        captions_updated_by=None,
    )

    presenter = catalog["presenter"]
    approvals = catalog["approvals"]
    for index, course in enumerate(courses, start=1):
        base = index * 100
        lessons = []
        for position, lesson in enumerate(course["lessons"], start=1):
            start, end, _title = ranges[lesson["chapter"] - 1]
            words = count_words(lesson["body"])
            lessons.append((position, lesson, start, end, words))
        media_seconds = sum(end - start for _p, _l, start, end, _w in lessons)
        media_minutes = (Decimal(media_seconds) / 60).quantize(Decimal("0.01"))
        words = sum(w for *_rest, w in lessons)
        instruction = media_minutes + Decimal(words) / READING_WORDS_PER_MINUTE
        hours = supported_hours(instruction)
        if hours <= 0:
            raise CommandError(f"{course['slug']}: too little instruction for any credit")
        add(
            "courses.course",
            index,
            slug=course["slug"],
            title=course["title"],
            summary=course["summary"],
            description=course["description"].strip(),
            topics=[topic_pk[name] for name in course["topics"]],
            episode=1,
            presenter_name=presenter["name"],
            presenter_credentials=presenter["credentials"],
            presenter_bio=" ".join(presenter["bio"].split()),
            test_author=presenter["test_author"],
            format="home_study_audio",
            level=course["level"],
            target_audience=course["target_audience"],
            ce_hours=f"{hours:.2f}",
            media_minutes=f"{media_minutes:.2f}",
            reading_word_count=words,
            minimum_engaged_minutes=least_engaged_minutes(hours),
            conflicts_of_interest=(
                "None. The presenter and the planners have no relevant financial relationships "
                "to disclose."
            ),
            commercial_support="None. This training received no commercial support.",
            status="published",
            published_at=PUBLISHED_AT,
            pass_mark=75,
            attempt_limit=3,
            # Fixed, so loading the demo again keeps each course's lineage (and "already earned").
            lineage=str(uuid.uuid5(DEMO_LINEAGE_NAMESPACE, course["slug"])),
            created_at=PUBLISHED_AT,
            updated_at=PUBLISHED_AT,
        )
        for position, lesson, start, end, lesson_words in lessons:
            add(
                "courses.lesson",
                base + position,
                course=index,
                position=position,
                title=lesson["title"],
                media_start_seconds=start,
                media_end_seconds=end,
                body=lesson["body"].strip() + "\n",
                estimated_minutes=estimated_minutes(media_seconds=end - start, words=lesson_words),
            )
        for position, objective in enumerate(course["objectives"], start=1):
            add(
                "courses.learningobjective",
                base + position,
                course=index,
                position=position,
                text=objective["text"],
            )
        for position, question in enumerate(course["questions"], start=1):
            question_pk = base + position
            add(
                "courses.question",
                question_pk,
                course=index,
                position=position,
                kind=question["kind"],
                text=question["text"],
                explanation=question["explanation"],
                updated_at=PUBLISHED_AT,
            )
            for choice_position, choice in enumerate(question["choices"], start=1):
                add(
                    "courses.choice",
                    question_pk * 10 + choice_position,
                    question=question_pk,
                    position=choice_position,
                    text=choice["text"],
                    is_correct=choice["correct"],
                )
        references = [*catalog["references"], {"citation": episode["source_citation"]}]
        for position, reference in enumerate(references, start=1):
            add(
                "courses.reference",
                base + position,
                course=index,
                position=position,
                citation=reference["citation"],
                doi=reference.get("doi", ""),
                url=reference.get("url", ""),
                is_source_material=reference["citation"] == episode["source_citation"],
            )
        for position, (short_name, credit_type) in enumerate(approvals[course["slug"]], start=1):
            add(
                "courses.courseapproval",
                base + position,
                course=index,
                accreditor=accreditor_pk[short_name],
                hours=f"{hours:.2f}",
                credit_type=credit_type,
                approval_code=f"SAMPLE-{index:03d}",
                valid_from=approvals["approval_valid_from"].isoformat(),
                valid_until=approvals["approval_valid_until"].isoformat(),
            )

    for pk, policy in enumerate(catalog["policies"], start=1):
        add(
            "courses.policy",
            pk,
            kind=policy["kind"],
            title=policy["title"],
            body=policy["body"].strip() + "\n",
            updated_at=PUBLISHED_AT,
        )
    return objects


def render_fixture() -> str:
    catalog, courses = load_sources()
    return json.dumps(build_fixture(catalog, courses), indent=1, ensure_ascii=False) + "\n"


def demo_captions() -> str:
    """The committed captions, checked and normalised as an upload would be."""
    return to_webvtt(read_captions(CAPTIONS.read_bytes(), filename=CAPTIONS.name))


def caption_pieces(text: str) -> list[str]:
    """The narration cut where its captions break: at each sentence, and a long sentence also
    at its clauses. Joined with spaces, the pieces are the narration word for word."""
    pieces: list[str] = []
    for sentence in _SENTENCE_END.split(" ".join(text.split())):
        if len(sentence) <= CAPTION_CHARS:
            pieces.append(sentence)
            continue
        current = ""
        for clause in _CLAUSE_END.split(sentence):
            if current and len(current) + 1 + len(clause) > CAPTION_CHARS:
                pieces.append(current)
                current = clause
            else:
                current = f"{current} {clause}" if current else clause
        pieces.append(current)
    return [piece for piece in pieces if piece]


def _sox(*args: str) -> None:
    subprocess.run(["sox", *args], check=True)


def _seconds_of(path: Path) -> float:
    return float(
        subprocess.run(["soxi", "-D", str(path)], capture_output=True, text=True, check=True).stdout
    )


def build_audio(catalog: dict, courses: list[dict], target: Path) -> list[Cue]:
    """Narrate each chapter with espeak-ng from its timestamp, silence to the next chapter, and
    encode the episode as a small Ogg Opus file. Returns the captions: one cue per piece of
    narration, timed by the measured length of that piece's audio."""
    for tool in ("espeak-ng", "sox", "soxi", "opusenc"):
        if shutil.which(tool) is None:
            raise CommandError(f"{tool} is needed: apt-get install espeak-ng sox opus-tools")
    narration = {
        item["chapter"]: item["text"] for course in courses for item in course["narration"]
    }
    cues: list[Cue] = []
    with tempfile.TemporaryDirectory() as workdir:
        parts = []
        for number, (start, end, _title) in enumerate(chapter_ranges(catalog), start=1):
            part = Path(workdir, f"{number:02d}.wav")
            length = end - start
            pieces = caption_pieces(narration.get(number, ""))
            # Lead-in silence, then each piece at the same rate and channel count, end to end.
            lead_in = Path(workdir, f"{number:02d}-lead-in.wav")
            _sox("-n", *WAV_FORMAT, str(lead_in), "trim", "0", str(LEAD_IN_SECONDS))
            spoken_files = [str(lead_in)]
            at = start + _seconds_of(lead_in)
            for index, piece in enumerate(pieces, start=1):
                words = Path(workdir, f"{number:02d}-{index:03d}.txt")
                words.write_text(piece, encoding="utf-8")
                raw = Path(workdir, f"{number:02d}-{index:03d}-raw.wav")
                spoken = Path(workdir, f"{number:02d}-{index:03d}.wav")
                subprocess.run(
                    ["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(raw), "-f", str(words)],
                    check=True,
                )
                _sox(str(raw), *WAV_FORMAT, str(spoken))
                duration = _seconds_of(spoken)
                cues.append(
                    Cue(
                        start_ms=round(at * 1000),
                        end_ms=round((at + duration) * 1000),
                        text=piece.replace("&", "&amp;").replace("<", "&lt;"),
                    )
                )
                at += duration
                spoken_files.append(str(spoken))
            if at > end - 1:
                raise CommandError(
                    f"Chapter {number}: narration runs to {at - start:.0f} s of a {length} s "
                    "chapter."
                )
            # Silence to the chapter's exact length, so the next chapter starts on its stamp.
            _sox(*spoken_files, str(part), "pad", "0", f"{end - at:.6f}", "trim", "0", str(length))
            parts.append(str(part))
        joined = Path(workdir, "episode.wav")
        _sox(*parts, str(joined))
        total = _seconds_of(joined)
        if abs(total - chapter_ranges(catalog)[-1][1]) > 0.01:
            raise CommandError(f"The episode came out {total:.3f} s long.")
        target.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["opusenc", "--quiet", "--bitrate", "12", "--speech", str(joined), str(target)],
            check=True,
        )
    return cues


class Command(BaseCommand):
    help = "Build the demo trainings fixture (and with --audio the demo narration) from sources."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--audio", action="store_true", help="also synthesise the audio")

    def handle(self, *args, audio: bool = False, **options) -> None:
        if audio:
            catalog, courses = load_sources()
            target = Path(settings.BASE_DIR, catalog["episode"]["audio_file"])
            cues = build_audio(catalog, courses, target)
            size = target.stat().st_size // 1024
            self.stdout.write(f"Wrote {target.relative_to(settings.BASE_DIR)} ({size} KiB)")
            CAPTIONS.write_text(to_webvtt(cues), encoding="utf-8")
            self.stdout.write(f"Wrote {CAPTIONS.relative_to(settings.BASE_DIR)} ({len(cues)} cues)")
        # The fixture carries the captions: written after them, so both come from this run.
        OUTPUT.write_text(render_fixture(), encoding="utf-8")
        self.stdout.write(f"Wrote {OUTPUT.relative_to(settings.BASE_DIR)}")
