"""The demo trainings fixture: what `make demo` loads, and what a visitor to the demo site sees.

It must load cleanly (twice, too), hold three courses whose credit calculation adds up and that
carry what accreditors require, match the readable sources it is built from, and name an audio
file that is really there."""

import json
import struct
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core import serializers
from django.core.exceptions import ValidationError
from django.core.management import call_command

from courses.management.commands.build_demo_trainings import render_fixture
from courses.models import Course, CourseStatus, Provider
from courses.models.catalog import QUARTER_HOUR
from courses.services.catalog import count_words, credit_problems
from courses.services.publishing import publish_checklist

pytestmark = pytest.mark.django_db

FIXTURE = Path(settings.BASE_DIR, "fixtures", "demo_trainings.json")
SLUGS = {
    "ruptures-ghosting-and-reengaging-stuck-clients",
    "emotional-safety-trust-and-open-communication",
    "coaching-versus-therapy-for-growth-oriented-clients",
}
# The studies the episode cites: (first author, year) as they open each APA citation.
CITED_STUDIES = [("Hanevik", "(2023)"), ("Khazaie", "(2016)"), ("Saxon", "(2024)")]
MIN_LESSON_WORDS = 300


def fixture_objects() -> list[dict]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def load_demo() -> None:
    call_command("loaddata", FIXTURE, verbosity=0)


def snapshot() -> dict[str, list[dict]]:
    """Every row of every model the fixture touches, as Django serializes it."""
    labels = sorted({item["model"] for item in fixture_objects()})
    return {
        label: serializers.serialize("python", apps.get_model(label).objects.order_by("pk"))
        for label in labels
    }


def demo_courses() -> list[Course]:
    return list(
        Course.objects.select_related("episode")
        .prefetch_related("lessons", "objectives", "references", "approvals")
        .order_by("pk")
    )


def test_the_demo_offers_three_published_trainings():
    """The demo catalog lists exactly the three trainings, all published."""
    load_demo()

    published = Course.objects.filter(status=CourseStatus.PUBLISHED)
    assert set(published.values_list("slug", flat=True)) == SLUGS
    assert Course.objects.count() == 3


def test_loading_the_demo_twice_changes_nothing():
    """`make demo` can run again: a second load adds, removes and alters nothing."""
    load_demo()
    first = snapshot()

    load_demo()

    assert snapshot() == first
    assert {label: len(rows) for label, rows in first.items()} == {
        label: sum(item["model"] == label for item in fixture_objects()) for label in first
    }


def test_every_demo_object_passes_its_models_validation():
    """Every demo object would be accepted by the admin: full_clean() finds nothing wrong."""
    load_demo()

    problems = {}
    for item in fixture_objects():
        instance = apps.get_model(item["model"]).objects.get(pk=item["pk"])
        try:
            instance.full_clean()
        except ValidationError as error:
            problems[f"{item['model']} {item['pk']}"] = error
    assert problems == {}


def test_each_demo_training_carries_sound_credit_and_content():
    """Each training's stated credit is supported by its chapters and reading, and it carries
    the objectives, references and approvals accreditors ask for, marked as a sample."""
    load_demo()

    for course in demo_courses():
        lessons = sorted(course.lessons.all(), key=lambda lesson: lesson.position)
        label = course.slug
        assert credit_problems(course, lessons) == [], label

        assert len(course.objectives.all()) >= 3, label
        citations = [reference.citation for reference in course.references.all()]
        assert len(citations) >= 3, label
        for author, year in CITED_STUDIES:
            assert any(c.startswith(author) and year in c for c in citations), (label, author)

        for lesson in lessons:
            assert count_words(lesson.body) >= MIN_LESSON_WORDS, (label, lesson.position)
        starts = [lesson.media_start_seconds for lesson in lessons]
        assert starts == sorted(set(starts)), f"{label}: chapters out of order {starts}"
        for lesson in lessons:
            assert (
                0
                <= lesson.media_start_seconds
                < lesson.media_end_seconds
                <= course.episode.duration_seconds
            ), (label, lesson.position)

        assert course.ce_hours % QUARTER_HOUR == 0, label
        assert course.ce_hours >= QUARTER_HOUR, label
        approvals = list(course.approvals.all())
        assert approvals, label
        assert {approval.hours for approval in approvals} == {course.ce_hours}, label

    # Every number in the demo is a placeholder: the site must say the credit is a sample.
    assert Provider.objects.get().is_configured is False


def test_each_demo_training_passes_the_publish_checklist():
    """The demo shows what a publishable course looks like: a named post-test author, three to
    ten references, fifty engaged minutes per CE hour, audio for every lesson, a pass mark of at
    least 75 % and approvals within its hours."""
    load_demo()

    for course in demo_courses():
        assert publish_checklist(course) == [], course.slug
        assert course.test_author, course.slug
        assert course.minimum_engaged_minutes >= course.ce_hours * 50, course.slug


def test_the_committed_fixture_is_what_the_sources_build():
    """The committed JSON is exactly what the builder makes from fixtures/demo/source/."""
    # Edit fixtures/demo/source/*.toml and run `manage.py build_demo_trainings`, never the JSON.
    assert FIXTURE.read_text(encoding="utf-8") == render_fixture()


def test_the_demo_episode_audio_is_served_from_the_courses_app():
    """The episode's media address names a real Ogg file that lasts as long as the episode."""
    episodes = [item["fields"] for item in fixture_objects() if item["model"] == "courses.episode"]
    (episode,) = episodes
    static_url = "/" + settings.STATIC_URL.lstrip("/")
    assert episode["media_url"].startswith(static_url)
    relative = episode["media_url"].removeprefix(static_url)
    audio = Path(settings.BASE_DIR, "courses", "static", relative)

    assert audio.is_file()
    assert Path(finders.find(relative)) == audio
    data = audio.read_bytes()
    assert data[:4] == b"OggS"
    # The chapters run to the episode's stated end, so the audio must last as long: an Ogg Opus
    # stream's length is its last page's granule position (48 kHz) less the header's pre-skip.
    assert data[28:36] == b"OpusHead"
    pre_skip = struct.unpack_from("<H", data, 28 + 10)[0]
    granule = struct.unpack_from("<q", data, data.rfind(b"OggS") + 6)[0]
    seconds = Decimal(granule - pre_skip) / 48000
    assert abs(seconds - episode["duration_seconds"]) < 1
