"""Captions and transcripts: reading staff's .vtt and .srt files (and refusing bad ones with a
reason, losing nothing), each lesson's slice of the episode's captions, the captions track and
transcript on the lesson page, the publish rule, and the demo trainings' captions."""

import itertools
import re
import tomllib
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from accounts.tests.factories import UserFactory
from courses.management.commands.build_demo_trainings import CAPTIONS, caption_pieces
from courses.models import Course, CourseStatus, Episode, Lesson, LogEntry
from courses.services import captions, credentials, learning, publishing
from courses.services.captions import CaptionsError, Cue, read_captions, to_webvtt
from courses.services.catalog import media_file_seconds
from courses.services.freezing import FrozenContent
from courses.tests.factories import CourseFactory, EnrollmentFactory
from courses.views.learning import PLAYBACK_SPEEDS

pytestmark = pytest.mark.django_db

FIXTURE = Path(django_settings.BASE_DIR, "fixtures", "demo_trainings.json")
SOURCES = Path(django_settings.BASE_DIR, "fixtures", "demo", "source")

VTT = """WEBVTT - Why clients ghost

NOTE Timed by hand.

intro
00:00:01.000 --> 00:00:04.500
<v Lisa>Almost every therapist
has a client who stops coming.

00:02:05.250 --> 00:02:09.000 align:start
Trust &amp; <i>safety</i> come first.

00:03:58.000 --> 00:04:03.000
This cue crosses from lesson 2 into lesson 3.
"""

SRT = """1
00:02:05,250 --> 00:02:09,000
Trust & <i>safety</i> come first.

2
00:00:01,000 --> 00:00:04,500
Almost every therapist
has a client who stops coming.
"""


def vtt(text: str = VTT) -> bytes:
    return text.encode("utf-8")


# --- Reading the files staff upload --------------------------------------------------------------


def test_a_webvtt_file_reads_as_timed_cues():
    cues = read_captions(vtt(), filename="ghost.vtt")

    assert [(cue.start_ms, cue.end_ms) for cue in cues] == [
        (1000, 4500),
        (125250, 129000),
        (238000, 243000),
    ]
    # A speaker is named before their words; markup and entities are read as a learner would.
    assert cues[0].plain_text == "Lisa: Almost every therapist has a client who stops coming."
    assert cues[1].plain_text == "Trust & safety come first."


def test_a_subrip_file_reads_the_same_in_time_order():
    cues = read_captions(SRT.encode("utf-8"), filename="ghost.SRT")

    assert [(cue.start_ms, cue.end_ms) for cue in cues] == [(1000, 4500), (125250, 129000)]
    assert cues[0].plain_text == "Almost every therapist has a client who stops coming."
    # SubRip's ampersand is kept as text, escaped for WebVTT.
    assert cues[1].text == "Trust &amp; safety come first."
    assert cues[1].plain_text == "Trust & safety come first."


def test_stored_captions_are_normalised_webvtt_that_reads_back_the_same():
    cues = read_captions(SRT.encode("utf-8"), filename="ghost.srt")

    stored = to_webvtt(cues)

    assert stored.startswith("WEBVTT\n\n1\n00:00:01.000 --> 00:00:04.500\nAlmost every")
    assert read_captions(stored.encode("utf-8"), filename="stored.vtt") == cues
    episode = Episode(captions=stored)
    assert list(captions.episode_cues(episode)) == cues


LATIN_1 = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nCaf\xe9 talk\n".encode("latin-1")


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (vtt(), "ghost.docx", "Upload the transcript as a .vtt (WebVTT) or .srt (SubRip) file"),
        (b"", "ghost.vtt", "The captions file is empty."),
        (LATIN_1, "ghost.vtt", "The captions file is not UTF-8 text (line 4 has the byte 0xE9"),
        (VTT.encode("utf-16"), "ghost.vtt", "saved as UTF-16: save it as UTF-8"),
        (b"WEBVTT\n\x00\x01\x02", "ghost.vtt", "binary, not text"),
        (
            b"WEBVTT\n\n" + b"x" * (1024 * 1024),
            "ghost.vtt",
            "The captions file is 1,025 KB; the limit is 1,024 KB (1 MB).",
        ),
        (SRT.encode("utf-8"), "ghost.vtt", "its first line must be WEBVTT"),
        (
            vtt(VTT.replace("00:02:05.250", "00:02:65.250")),
            "ghost.vtt",
            "Line 10 (“00:02:65.250 --> 00:02:09.000 align:start”) is not a cue timing",
        ),
        (
            vtt(VTT.replace("00:02:09.000", "00:02:01.000")),
            "ghost.vtt",
            "Line 10 (“00:02:05.250 --> 00:02:01.000 align:start”): the cue ends before it",
        ),
        (
            vtt(VTT.replace("first.\n\n00:03:58", "first.\n00:03:58")),
            "ghost.vtt",
            "Line 12 (“00:03:58.000 --> 00:04:03.000”): a blank line is missing before this cue",
        ),
        (
            SRT.replace("00:00:04,500", "00:00:61,500").encode("utf-8"),
            "ghost.srt",
            "Line 6 (“00:00:01,000 --> 00:00:61,500”) is not a cue timing",
        ),
        (b"Just a transcript, no timings.\n", "ghost.srt", "This is not a SubRip (.srt) file"),
        (b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n\n", "ghost.vtt", "no cue with text"),
    ],
    ids=[
        "not a captions file",
        "empty",
        "latin-1",
        "utf-16",
        "binary",
        "over the limit",
        "srt named .vtt",
        "sixty-five seconds",
        "ends before it starts",
        "no blank line",
        "bad srt timing",
        "no timings at all",
        "no text",
    ],
)
def test_bad_files_are_refused_with_what_to_fix(data, filename, message):
    with pytest.raises(CaptionsError) as refusal:
        read_captions(data, filename=filename)

    assert message in str(refusal.value)


def test_cues_past_the_end_of_the_episode_are_refused():
    cues = read_captions(vtt(), filename="ghost.vtt")

    with pytest.raises(CaptionsError) as refusal:
        captions.check_against_episode(cues, duration_seconds=240)

    assert str(refusal.value) == (
        "1 cue runs past the end of the episode (04:00), from 00:03:58.000 (“This cue crosses "
        "from lesson 2 into les…”). Is this the transcript of another episode, or is the episode's "
        "length wrong?"
    )
    # A second of rounding at the end is a transcription tool's, not a wrong file.
    captions.check_against_episode(cues, duration_seconds=242)
    # An episode whose length is not known yet cannot be checked.
    captions.check_against_episode(cues, duration_seconds=0)


# --- Each lesson's slice -------------------------------------------------------------------------


def test_a_lesson_takes_the_cues_its_chapter_plays_cut_to_its_ends():
    cues = read_captions(vtt(), filename="ghost.vtt")

    # Lesson 2 plays 2:00 to 4:00: the cue from 2:05, and the start of the one from 3:58.
    sliced = captions.chapter_cues(cues, start=120, end=240)

    assert [(cue.start_ms, cue.end_ms) for cue in sliced] == [(125250, 129000), (238000, 240000)]
    # Lesson 3 (4:00 to 6:00) gets the end of the crossing cue; lesson 1 only its own.
    assert [(c.start_ms, c.end_ms) for c in captions.chapter_cues(cues, start=240, end=360)] == [
        (240000, 243000)
    ]
    assert len(captions.chapter_cues(cues, start=0, end=120)) == 1
    # A cue that ends where the chapter starts is the previous chapter's.
    assert captions.chapter_cues(cues, start=243, end=300) == []


@pytest.fixture
def course():
    course = CourseFactory(slug="ghosting", lessons=3)  # chapters 0-2:00, 2:00-4:00, 4:00-6:00
    Episode.objects.filter(pk=course.episode_id).update(
        captions=to_webvtt(read_captions(vtt(), filename="ghost.vtt"))
    )
    return course


def captions_url(position: int, slug: str = "ghosting") -> str:
    return reverse("courses:lesson_captions", args=[slug, position])


def lesson_url(position: int, slug: str = "ghosting") -> str:
    return reverse("courses:lesson", args=[slug, position])


def test_a_lessons_captions_are_served_as_webvtt_on_the_media_clock(
    learner_client, learner, course
):
    EnrollmentFactory(user=learner, course=course)

    response = learner_client.get(captions_url(2))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/vtt; charset=utf-8"
    # The audio element plays the episode's timeline, so the track's cues keep its times.
    assert response.content.decode() == (
        "WEBVTT\n\n"
        "1\n00:02:05.250 --> 00:02:09.000\nTrust &amp; <i>safety</i> come first.\n\n"
        "2\n00:03:58.000 --> 00:04:00.000\nThis cue crosses from lesson 2 into lesson 3.\n"
    )
    assert "00:04:00.000 --> 00:04:03.000" in learner_client.get(captions_url(3)).content.decode()


def test_captions_answer_as_the_lesson_does(client, learner_client, learner, course):
    other = CourseFactory(slug="other", lessons=1)
    EnrollmentFactory(user=learner, course=other)

    # Not enrolled: sent to the course page to enroll, as the lesson page does.
    response = learner_client.get(captions_url(1))
    assert response.status_code == 302
    assert response["Location"] == course.get_absolute_url()
    assert learner_client.get(lesson_url(1))["Location"] == course.get_absolute_url()
    # Signed out: to sign in.
    client.logout()
    assert "/accounts/login/" in client.get(captions_url(1))["Location"]


@pytest.mark.parametrize(
    "url",
    [
        "/courses/ghosting/lessons/9/captions.vtt",
        "/courses/no-such-course/lessons/1/captions.vtt",
        "/courses/draft/lessons/1/captions.vtt",
        "/courses/other/lessons/1/captions.vtt",
    ],
    ids=["unknown lesson", "unknown course", "another's draft", "a lesson without captions"],
)
def test_captions_nobody_may_open_or_that_do_not_exist_are_not_found(
    learner_client, learner, course, url
):
    EnrollmentFactory(user=learner, course=course)
    CourseFactory(slug="draft", status=CourseStatus.DRAFT, lessons=1)
    other = CourseFactory(slug="other", lessons=1)  # its episode has no captions
    EnrollmentFactory(user=learner, course=other)

    assert learner_client.get(url).status_code == 404


def test_the_lesson_page_carries_the_track_and_a_readable_transcript(
    learner_client, learner, course
):
    EnrollmentFactory(user=learner, course=course)

    page = learner_client.get(lesson_url(2)).content.decode()

    track = re.search(r"<track [^>]*>", page)[0]
    for attribute in [
        'kind="captions"',
        'srclang="en"',
        'label="English"',
        f'src="{captions_url(2)}"',
        "default",
    ]:
        assert attribute in track
    transcript = page.split('id="h-transcript">Transcript</h2>')[1].split("</section>")[0]
    lines = re.findall(
        r'<li data-start="([\d.]+)" data-end="([\d.]+)"><span class="transcript-time">([\d:]+)'
        r'</span> <span class="transcript-text">([^<]*)</span></li>',
        transcript,
    )
    # Times shown from the chapter's start; each line seeks to its place in the episode.
    assert lines == [
        ("125.250", "129.000", "0:05", escape("Trust & safety come first.")),
        ("238.000", "240.000", "1:58", "This cue crosses from lesson 2 into lesson 3."),
    ]


def test_a_lesson_without_captions_has_no_track_and_says_so(learner_client, learner):
    course = CourseFactory(slug="bare", lessons=1)
    EnrollmentFactory(user=learner, course=course)

    page = learner_client.get(lesson_url(1, slug="bare")).content.decode()

    assert "<track" not in page
    assert "This lesson has no transcript yet." in page


def test_the_player_lists_its_speeds_and_shortcuts(learner_client, learner, course):
    EnrollmentFactory(user=learner, course=course)

    page = learner_client.get(lesson_url(1)).content.decode()

    assert re.findall(r'<option value="([\d.]+)"', page) == list(PLAYBACK_SPEEDS)
    # No faster than the server credits listening.
    assert float(PLAYBACK_SPEEDS[-1]) == learning.MAX_PLAYBACK_RATE
    assert "Keyboard shortcuts" in page
    for key in [
        "<kbd>K</kbd>",
        "<kbd>J</kbd>",
        "<kbd>L</kbd>",
        "<kbd>&lt;</kbd>",
        "<kbd>&gt;</kbd>",
    ]:
        assert key in page
    # Without script the browser's own controls stay, with a note on the timeline they show.
    assert re.search(r'<audio id="lesson-media"[^>]* controls', page)
    assert "shows the whole episode" in page


# --- Publishing -----------------------------------------------------------------------------------

DEMO_SLUG = "coaching-versus-therapy-for-growth-oriented-clients"


@pytest.fixture
def demo():
    call_command("loaddata", FIXTURE, verbosity=0)
    course = Course.objects.get(slug=DEMO_SLUG)
    Course.objects.filter(pk=course.pk).update(status=CourseStatus.DRAFT, published_at=None)
    course.refresh_from_db()
    return course


def test_publishing_refuses_lessons_without_captions_and_names_them(demo):
    Episode.objects.filter(pk=demo.episode_id).update(captions="")
    demo.refresh_from_db()

    with pytest.raises(publishing.PublishError) as refusal:
        publishing.publish_course(course=demo)

    titles = [lesson.title for lesson in demo.lessons.order_by("position")]
    assert refusal.value.problems == [
        f"Captions for lessons 1 (“{titles[0]}”), 2 (“{titles[1]}”), 3 (“{titles[2]}”): upload "
        "the transcript of “Why Therapy Clients Ghost” (.vtt or .srt) on the episode, with cues "
        "in their chapters."
    ]
    demo.refresh_from_db()
    assert demo.status == CourseStatus.DRAFT


def test_captions_that_miss_one_chapter_name_that_lesson(demo):
    second = demo.lessons.get(position=2)
    kept = [
        cue
        for cue in captions.episode_cues(demo.episode)
        if not (second.media_start_seconds * 1000 < cue.end_ms)
        or not (cue.start_ms < second.media_end_seconds * 1000)
    ]
    Episode.objects.filter(pk=demo.episode_id).update(captions=to_webvtt(kept))
    demo.refresh_from_db()

    assert publishing.publish_checklist(demo) == [
        f"Captions for lesson 2 (“{second.title}”): upload the transcript of “Why Therapy Clients "
        "Ghost” (.vtt or .srt) on the episode, with cues in its chapter."
    ]


def test_with_captions_the_demo_course_publishes(demo):
    assert publishing.publish_checklist(demo) == []


# --- Staff upload: the importer and the episode's page ----------------------------------------

IMPORT_URL = "/admin/courses/course/import/"
NOTES = "00:00 Opening\n02:00 Trust and safety\n04:00 Closing\n\nDuration: 6:00\n"


@pytest.fixture(autouse=True)
def _no_second_factor(settings):
    settings.CEU_REQUIRE_STAFF_MFA = False


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_the_importer_takes_the_transcript_beside_the_notes(staff_client):
    upload = SimpleUploadedFile(
        "ghost.srt", SRT.encode("utf-8"), content_type="application/x-subrip"
    )

    response = staff_client.post(IMPORT_URL, {"notes": NOTES, "captions": upload})

    assert response.status_code == 302
    course = Course.objects.get()
    lessons = list(course.lessons.order_by("position"))
    assert [len(captions.lesson_cues(course.episode, lesson)) for lesson in lessons] == [1, 1, 0]
    entry = LogEntry.objects.get(action="episode.captions_added")
    assert entry.data == {"file": "ghost.srt", "cues": 2}
    assert course.episode.captions_updated_at is not None
    shown = staff_client.get(IMPORT_URL).content.decode()
    assert "as a draft: Opening, captioned from the transcript (2 cues)." in shown


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("ghost.vtt", LATIN_1), "The captions file is not UTF-8 text"),
        (SimpleUploadedFile("ghost.txt", vtt()), "Upload the transcript as a .vtt (WebVTT)"),
        # Read against the episode's length (6:00, from the notes), known once imported.
        (
            SimpleUploadedFile(
                "ghost.vtt",
                vtt(VTT.replace("00:03:58.000 --> 00:04:03", "00:09:58.000 --> 00:10:03")),
            ),
            "1 cue runs past the end of the episode (06:00)",
        ),
    ],
    ids=["encoding", "file type", "past the end"],
)
def test_a_bad_transcript_refuses_the_import_and_keeps_the_notes(staff_client, upload, message):
    response = staff_client.post(IMPORT_URL, {"notes": NOTES, "captions": upload})

    assert response.status_code == 400
    page = response.content.decode()
    assert escape(message) in page
    assert "02:00 Trust and safety" in page  # the pasted notes are still in the form
    assert not Course.objects.exists()
    assert not Episode.objects.exists()


def episode_url(episode: Episode) -> str:
    return reverse("admin:courses_episode_change", args=[episode.pk])


def episode_post(episode: Episode, upload) -> dict:
    return {
        "title": episode.title,
        "show": episode.show,
        "media_url": episode.media_url,
        "media_type": episode.media_type,
        "media_mime_type": episode.media_mime_type,
        "duration_seconds": episode.duration_seconds,
        "captions_file": upload,
    }


def test_staff_replace_an_episodes_captions_on_its_page(staff_client, course):
    episode = Episode.objects.get(pk=course.episode_id)
    page = staff_client.get(episode_url(episode)).content.decode()
    assert "3 cues, 00:01 to 04:03" in page
    assert 'name="captions_file"' in page

    upload = SimpleUploadedFile("ghost.srt", SRT.encode("utf-8"))
    response = staff_client.post(episode_url(episode), episode_post(episode, upload))

    assert response.status_code == 302
    episode.refresh_from_db()
    assert len(captions.episode_cues(episode)) == 2
    assert LogEntry.objects.get(action="episode.captions_replaced").data["file"] == "ghost.srt"


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("ghost.vtt", b"WEBVTT\n\n00:00:01.000 -> 00:00:02.000\nHi\n"), ""),
        (SimpleUploadedFile("ghost.vtt", LATIN_1), "The captions file is not UTF-8 text"),
        (
            SimpleUploadedFile("ghost.vtt", b"WEBVTT\n\n" + b"x" * (1024 * 1024)),
            "The captions file is 1,025 KB; the limit is 1,024 KB (1 MB).",
        ),
        (
            SimpleUploadedFile(
                "ghost.vtt",
                vtt(VTT.replace("00:03:58.000 --> 00:04:03", "00:29:58.000 --> 00:30:03")),
            ),
            "1 cue runs past the end of the episode (25:15)",
        ),
    ],
    ids=["no timings", "encoding", "over the limit", "past the end"],
)
def test_a_bad_upload_is_refused_on_the_form_and_the_captions_stay(
    staff_client, course, upload, message
):
    episode = Episode.objects.get(pk=course.episode_id)
    before = episode.captions
    assert before

    response = staff_client.post(episode_url(episode), episode_post(episode, upload))

    assert response.status_code == 200  # the form again, with the reason
    page = response.content.decode()
    assert escape(message or "The captions file has no cue with text in it.") in page
    episode.refresh_from_db()
    assert episode.captions == before
    assert not LogEntry.objects.filter(action__startswith="episode.captions").exists()


def certify(course: Course) -> None:
    enrollment = EnrollmentFactory(course=course, completed_at=timezone.now())
    credentials.issue_certificate(enrollment=enrollment)


def test_the_captions_of_a_certified_course_stay_as_offered(client, course):
    certify(course)
    author = UserFactory(is_staff=True)
    author.groups.add(Group.objects.get(name="Course authors"))
    client.force_login(author)
    episode = Episode.objects.get(pk=course.episode_id)
    before = episode.captions

    page = client.get(episode_url(episode)).content.decode()
    assert 'name="captions_file"' not in page
    response = client.post(
        episode_url(episode), episode_post(episode, SimpleUploadedFile("g.srt", SRT.encode()))
    )
    assert response.status_code == 403
    with pytest.raises(CaptionsError, match="stay as its learners read them"):
        captions.set_episode_captions(
            episode=episode, cues=[Cue(0, 1000, "New words.")], source_name="g.vtt"
        )
    # Every other path meets the model's guard.
    episode.captions = "WEBVTT\n"
    with pytest.raises(FrozenContent):
        episode.save()
    episode.refresh_from_db()
    assert episode.captions == before


# --- The demo trainings ---------------------------------------------------------------------------


def narration_by_chapter() -> dict[int, str]:
    return {
        item["chapter"]: " ".join(item["text"].split())
        for source in SOURCES.glob("*.toml")
        for item in tomllib.loads(source.read_text(encoding="utf-8")).get("narration", [])
    }


def test_the_demo_captions_cover_each_chapter_as_narrated():
    """Every demo lesson is captioned from its first words (half a second in) to its last, with
    the narration it was synthesised from, word for word, and every cue inside the audio."""
    call_command("loaddata", FIXTURE, verbosity=0)
    audio = finders.find("courses/demo/why-therapy-clients-ghost.ogg")
    audio_seconds = media_file_seconds(Path(audio))
    narration = narration_by_chapter()
    chapters = chapter_numbers()
    lessons = Lesson.objects.select_related("course__episode").order_by("course", "position")
    assert lessons.count() == 12

    for lesson in lessons:
        cues = captions.lesson_cues(lesson.course.episode, lesson)
        start, end = lesson.media_start_seconds, lesson.media_end_seconds
        assert cues, lesson
        assert cues[0].start == pytest.approx(start + 0.5, abs=0.25), lesson
        for cue in cues:
            assert start <= cue.start < cue.end <= end, (lesson, cue)
            assert cue.end <= audio_seconds
            assert cue.plain_text.strip(), (lesson, cue)
        # The slice is the chapter's own: no cue of it was cut at the chapter's ends.
        whole = [c for c in captions.episode_cues(lesson.course.episode) if c in cues]
        assert whole == cues, lesson
        spoken = " ".join(cue.plain_text for cue in cues)
        assert spoken == narration[chapters[start]], lesson


def chapter_numbers() -> dict[int, int]:
    """Each chapter's number by its start in seconds, as the sources stamp them."""
    catalog = tomllib.loads((SOURCES / "catalog.toml").read_text(encoding="utf-8"))
    stamps = [chapter["start"] for chapter in catalog["episode"]["chapters"]]
    return {
        int(minutes) * 60 + int(seconds): number
        for number, (minutes, seconds) in enumerate((s.split(":") for s in stamps), start=1)
    }


def test_the_demo_captions_follow_the_narrations_pieces_in_order():
    """The committed file is what the build wrote: one cue per piece of narration, end to end in
    each chapter, as the audio was assembled from them."""
    cues = read_captions(CAPTIONS.read_bytes(), filename=CAPTIONS.name)
    narration = narration_by_chapter()
    pieces = [piece for number in sorted(narration) for piece in caption_pieces(narration[number])]

    assert [cue.plain_text for cue in cues] == pieces
    for before, after in itertools.pairwise(cues):
        # Within a chapter each piece starts where the one before it ended.
        if after.start_ms - before.end_ms < 1000:
            assert after.start_ms == before.end_ms
