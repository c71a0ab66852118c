"""Importing a draft course from an episode's show notes: the real episode's notes, the rules the
parser keeps, the input it refuses (creating nothing), and the admin page around it."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from accounts.tests.factories import UserFactory
from courses.models import (
    Course,
    CourseStatus,
    Episode,
    LearningObjective,
    Lesson,
    Policy,
    PolicyKind,
    Reference,
)
from courses.services import publishing
from courses.services.assessment import required_questions
from courses.services.captions import Cue, to_webvtt
from courses.services.catalog import (
    count_words,
    credit_problems,
    estimated_minutes,
    supported_hours,
)
from courses.services.importing import (
    MAX_TEXT_BYTES,
    PLACEHOLDER_BODY,
    ShowNotesError,
    import_course,
    parse_show_notes,
)
from courses.tests.factories import ApprovalFactory, CourseFactory, QuestionFactory

pytestmark = pytest.mark.django_db

# The seed episode's show notes as the project keeps them: its chapter list, title lines,
# headings and references as published, its paragraphs written anew for these tests.
SEED = settings.BASE_DIR / "fixtures" / "shownotes" / "why-therapy-clients-ghost.outline.txt"
# An episode the importer was not written against: a title line above its chapter list.
UNSEEN = settings.BASE_DIR / "fixtures" / "shownotes" / "grief-at-the-holidays.txt"
SEED_STARTS = [0, 75, 289, 440, 606, 725, 845, 1112, 1230, 1455]
# The demo episode's audio, served from the courses app's static files: 25:15 long.
LOCAL_AUDIO = "/static/courses/demo/why-therapy-clients-ghost.ogg"
SEED_TITLES = [
    "Why Therapy Clients Ghost",
    "The Role of Trust in Building Strong Client Relationships",
    "Creating Emotional Safety and Open Communication in Sessions",
    "Recognizing Relational Patterns That Lead to Ghosting",
    "When Missteps and Ruptures Cause Clients to Leave",
    "The Importance of Consultation and Professional Support",
    "Why Clients Feel Stuck and How to Re-Engage Them",
    "Therapy Limitations and the Shift Toward Coaching",
    "Coaching vs. Traditional Therapy: What Clinicians Need to Know",
    "Free Resources and Growth Opportunities for Therapists",
]

SMALL = """Episode notes

• 00:00 Welcome and overview
• 02:30 Coaching vs. Traditional Therapy
• 05:00 Closing thoughts

A first paragraph that introduces the episode.

Coaching versus Traditional Therapy

Coaching looks forward; therapy treats.

A Sub-Section Heading

More about coaching.

References:
Doe, J. (2020). A study of things. Journal, 1, 2–3.
"""


@pytest.fixture
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


def counts() -> tuple[int, int, int, int]:
    return (
        Course.objects.count(),
        Lesson.objects.count(),
        Episode.objects.count(),
        Reference.objects.count(),
    )


# --- The real episode ---------------------------------------------------------------------------


def test_the_seed_episode_imports_as_a_draft(seed_text):
    course = import_course(text=seed_text)

    assert course.status == CourseStatus.DRAFT
    assert course.title == "Why Therapy Clients Ghost"
    assert course.slug == "why-therapy-clients-ghost"
    lessons = list(course.lessons.order_by("position"))
    assert [lesson.position for lesson in lessons] == list(range(1, 11))
    assert [lesson.title for lesson in lessons] == SEED_TITLES
    assert [lesson.media_start_seconds for lesson in lessons] == SEED_STARTS
    # Each chapter ends where the next begins; nothing tells where the last one ends.
    assert [lesson.media_end_seconds for lesson in lessons] == [*SEED_STARTS[1:], None]
    assert course.episode.duration_seconds == 0
    assert course.episode.title == "Why Therapy Clients Ghost"
    assert course.episode.media_url == ""

    references = list(course.references.order_by("position"))
    assert [ref.position for ref in references] == [1, 2, 3]
    assert [ref.doi for ref in references] == ["10.1186/s12888-023-04878-7", "", "10.1002/cpp.1987"]
    assert references[1].url == (
        "https://ruor.uottawa.ca/bitstreams/ce1bfd58-5df7-4b76-b70b-aa07460b2269/download"
    )
    assert references[0].citation.startswith("Hanevik, E., Røvik, F. M. G.")
    assert references[0].citation.endswith("BMC Psychiatry, 23, 358.")
    assert "http" not in " ".join(ref.citation for ref in references)


SEED_HEADINGS = [
    "## The Connection Between Ghosting and Emotional Safety",
    "## Relationship Ruptures and Why Clients Ghost",
    "## Ensuring Value and Progress in Every Session",
    "## Signs Your Client May Be Disengaging",
    "## When Therapy Isn’t Enough: Coaching as an Alternative",
    "## How Coaching Supports Growth-Oriented Clients",
    "## Why Therapy Clients Ghost: Key Takeaways",
    "## Let’s Keep Growing",
]


def test_every_seed_lesson_gets_the_text_under_its_chapter(seed_text):
    """The article repeats only the first chapter's title as a heading; its own sub-headings
    are other words. Its paragraphs are shared out in order among the ten chapters, none left
    to write, none repeated, and the page around the article left out."""
    course = import_course(text=seed_text)
    lessons = list(course.lessons.order_by("position"))
    bodies = [lesson.body for lesson in lessons]

    assert PLACEHOLDER_BODY not in bodies
    assert bodies[0].startswith("Sooner or later every therapist has a client who simply stops")
    # The title line shown twice on the page does not open the lesson.
    assert "Why Therapy Clients Ghost\n" not in bodies[0]
    everything = "\n\n".join(bodies)
    # Each sub-heading once, in the article's order, and the text in the order it was written.
    assert [everything.count(heading) for heading in SEED_HEADINGS] == [1] * len(SEED_HEADINGS)
    places = [everything.index(heading) for heading in SEED_HEADINGS]
    assert places == sorted(places)
    assert "- Am I creating emotional safety?\n- Am I addressing ruptures openly?" in everything
    assert (
        bodies[-1]
        .rstrip()
        .endswith("Free trainings and resources for therapists are available on demand.")
    )
    # Text goes where its words and its place in the episode say.
    assert "Trust carries the therapeutic relationship." in bodies[1] + bodies[2]
    assert "## When Therapy Isn’t Enough" in "".join(bodies[6:8])
    assert "## Let’s Keep Growing" in bodies[9]
    # The page around the article stays out: the resources, the sign-up call, the page chrome.
    for chrome in [
        "Resources:",
        "Hanevik",
        "It’s Time To Take Care of You",
        "delivered to your inbox",
        "Subscribe, Share & Follow",
        "Leave a Reply",
    ]:
        assert chrome not in everything


def test_the_seed_credit_follows_the_chapters_and_the_text(seed_text):
    course = import_course(text=seed_text)
    lessons = list(course.lessons.order_by("position"))

    # The last chapter, whose end is not known, adds no minutes until it is given.
    assert course.media_minutes == Decimal("24.25")
    assert course.reading_word_count == sum(count_words(lesson.body) for lesson in lessons)
    assert course.ce_hours == max(supported_hours(course.instruction_minutes), Decimal("0.25"))
    assert course.minimum_engaged_minutes == int(course.ce_hours * 50)
    assert credit_problems(course, lessons) == []
    # 75 s to 289 s of listening, and a little reading.
    assert lessons[1].estimated_minutes == estimated_minutes(
        media_seconds=214, words=count_words(lessons[1].body)
    )
    assert course.summary.startswith("Sooner or later every therapist")
    assert len(course.summary) <= 280
    assert "It can take a while to notice." in course.description
    assert "Trust carries" not in course.description
    assert len(course.description) <= 1200
    # What the notes cannot say is left for the publish checklist to catch.
    assert course.presenter_name.lower() in publishing.PLACEHOLDERS
    assert course.presenter_credentials.lower() in publishing.PLACEHOLDERS
    assert course.format == "home_study_audio"
    assert course.level == "intermediate"
    assert course.target_audience == "Licensed mental health clinicians"


def test_a_second_import_gets_its_own_slug(seed_text):
    first = import_course(text=seed_text)
    second = import_course(text=seed_text)
    third = import_course(text=seed_text, title="Why Therapy Clients Ghost")

    assert [first.slug, second.slug, third.slug] == [
        "why-therapy-clients-ghost",
        "why-therapy-clients-ghost-2",
        "why-therapy-clients-ghost-3",
    ]


# --- The parser ---------------------------------------------------------------------------------


def test_hours_minutes_seconds_are_accepted():
    course = import_course(
        text="00:00 Opening\n59:59 Late in the hour\n1:02:03 Past the hour\n",
        duration_seconds=4000,
    )

    lessons = list(course.lessons.order_by("position"))
    assert [(lesson.media_start_seconds, lesson.media_end_seconds) for lesson in lessons] == [
        (0, 3599),
        (3599, 3723),
        (3723, 4000),
    ]
    assert course.episode.duration_seconds == 4000


@pytest.mark.parametrize(
    "line",
    [
        "00:00 Opening",
        "• 00:00 Opening",
        "  - 00:00 Opening",
        "* 00:00 Opening",
        "1. 00:00 Opening",
        "[00:00] Opening",
        "(0:00:00) Opening",
        "00:00 - Opening",
        "00:00 – Opening",
    ],
)
def test_chapter_lines_in_common_shapes(line):
    parsed = parse_show_notes(f"{line}\n01:00 Next\n")

    assert [(c.start_seconds, c.title) for c in parsed.chapters] == [(0, "Opening"), (60, "Next")]


def test_the_body_is_cut_at_headings_that_match_chapters():
    parsed = parse_show_notes(SMALL)

    assert [c.title for c in parsed.chapters] == [
        "Welcome and overview",
        "Coaching vs. Traditional Therapy",
        "Closing thoughts",
    ]
    # "Episode notes" names the text, not the episode: neither the title nor lesson text.
    assert parsed.title == "Welcome and overview"
    # Text before the first matching heading belongs to the first chapter.
    assert parsed.body_by_chapter[0] == "A first paragraph that introduces the episode."
    # "versus" for "vs.": a close match still opens the chapter.
    assert parsed.body_by_chapter[1] == "Coaching looks forward; therapy treats."
    # The last chapter has no heading of its own: it gets the part of the text before it that
    # comes last, cut at the article's own sub-heading.
    assert parsed.body_by_chapter[2] == "## A Sub-Section Heading\n\nMore about coaching."
    assert parsed.matched_chapters == {1}
    assert [r.citation for r in parsed.references] == [
        "Doe, J. (2020). A study of things. Journal, 1, 2–3."
    ]


def test_the_first_line_is_the_episode_and_course_title():
    """The unseen episode's notes open with its title, then the chapter list."""
    text = UNSEEN.read_text(encoding="utf-8")

    course = import_course(text=text)

    title = "Grief at the Holidays: Helping Clients Through the Hardest Season"
    assert course.title == title
    assert course.episode.title == title
    assert course.slug == "grief-at-the-holidays-helping-clients-through-the-hardest-season"
    lessons = list(course.lessons.order_by("position"))
    assert [lesson.title for lesson in lessons] == [
        "Welcome",
        "Why the season sharpens loss",
        "Anniversary reactions and the body",
        "Rituals that make room for grief",
        "Families who grieve differently",
        "Looking after the clinician",
    ]
    # The title is not lesson 1's heading, and each chapter has its own text.
    assert lessons[0].body.startswith("For many clients, the weeks of celebration")
    assert title not in "".join(lesson.body for lesson in lessons)
    assert lessons[3].body.startswith("A lit candle, an empty chair")
    assert PLACEHOLDER_BODY not in [lesson.body for lesson in lessons]
    assert course.episode.duration_seconds == 1770
    assert [ref.doi for ref in course.references.all()] == ["10.5555/gsr.2018.0088"]


@pytest.mark.parametrize(
    ("first_line", "title"),
    [
        ("# Episode 12: Naming the Rupture", "Episode 12: Naming the Rupture"),
        ("Why Do Clients Leave?", "Why Do Clients Leave?"),
        ("Show notes", "Opening"),  # a label, not a title
        ("In this episode we look at ruptures and repair.", "Opening"),  # a sentence
    ],
)
def test_a_title_line_above_the_chapters(first_line, title):
    parsed = parse_show_notes(f"{first_line}\n\n00:00 Opening\n01:00 Next\n\nSome text.\n")

    assert parsed.title == title
    assert first_line.lstrip("# ") not in parsed.body_by_chapter[1]
    if title != "Opening":
        assert first_line.lstrip("# ") not in parsed.body_by_chapter[0]


def test_title_comes_from_the_first_chapter_without_a_title_line_unless_overridden():
    assert parse_show_notes("00:00 Opening\n01:00 Next\n\nSome text.").title == "Opening"
    course = import_course(text="00:00 Opening\n01:00 Next\n", title="  My own title ")
    assert course.title == "My own title"
    assert course.slug == "my-own-title"
    assert course.episode.title == "My own title"


def test_a_chapters_label_and_links_on_their_own_line():
    parsed = parse_show_notes(
        "Chapters:\n00:00 Opening\n01:00 Next\n\nBody text here.\n\nResources\n"
        "Roe, R. (2019). A book. Publisher.\nhttps://doi.org/10.1000/xyz123\n"
        "Poe, P. (n.d.). A page. doi:10.2000/abc.\n"
        "Not a citation, no year.\n"
        "Leave a Reply\nLow, L. (2021). After the page ends.\n"
    )

    assert parsed.body_by_chapter[0] == "Body text here."
    assert [(r.citation, r.doi, r.url) for r in parsed.references] == [
        ("Roe, R. (2019). A book. Publisher.", "10.1000/xyz123", ""),
        ("Poe, P. (n.d.). A page.", "10.2000/abc", ""),
    ]


def test_timestamps_in_the_article_are_text_not_chapters():
    parsed = parse_show_notes("00:00 Opening\n01:00 Next\n\nAt the start:\n10:00 is when.\n")

    assert len(parsed.chapters) == 2
    assert "10:00 is when." in parsed.body_by_chapter[0]


def _chapters(n: int) -> str:
    return "\n".join(f"{i // 60}:{i % 60:02d}:00 Chapter {i}" for i in range(n))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"text": ""}, "empty"),
        ({"text": "  \n\t\n"}, "empty"),
        ({"text": "00:00 Opening\x00\n01:00 Next"}, "NUL bytes"),
        ({"text": "00:00 Opening \udcff\n01:00 Next"}, "not valid UTF-8"),
        ({"text": b"00:00 Opening \xff\xfe\n"}, "not UTF-8"),
        ({"text": "Just an article.\n\nNo chapters at all."}, "No chapter list found"),
        (
            {"text": "00:00 Opening\n05:00 Middle\n03:00 Back in time\n"},
            r"Line 3 \(“03:00 Back in time”\): chapter times must increase, but 03:00 is "
            r"before the previous chapter \(05:00, line 2\)",
        ),
        (
            {"text": "00:00 Opening\n05:00 Middle\n05:00 Same again\n"},
            r"Line 3 .*the same time as the previous chapter",
        ),
        ({"text": "00:00 Opening\n01:75 Bad seconds\n"}, r"Line 2 .*not a valid time"),
        ({"text": "00:00 Opening\n1:75:00 Bad minutes\n"}, r"Line 2 .*not a valid time"),
        (
            {"text": "00:00 Opening\n30:00 Too late\n", "duration_seconds": 25 * 60},
            r"Line 2: the chapter “Too late” starts at 30:00, at or past the end of the "
            r"episode \(25:00\)",
        ),
        (
            {"text": "00:00 Opening\n25:00 Right at the end\n", "duration_seconds": 25 * 60},
            "at or past the end",
        ),
        ({"text": _chapters(201)}, "More than 200 chapters"),
        ({"text": "00:00 Opening\n" + "x" * MAX_TEXT_BYTES}, "over 1 MB"),
        ({"text": "00:00 Opening\n", "duration_seconds": 0}, "longer than zero"),
        ({"text": "00:00 Opening\n", "duration_seconds": 25 * 3600}, "24 hours"),
        ({"text": "00:00 Opening\n", "title": "T" * 201}, "longer than 200"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_created(kwargs, message):
    CourseFactory()
    before = counts()

    with pytest.raises(ShowNotesError, match=message):
        import_course(**kwargs)

    assert counts() == before


def test_two_hundred_chapters_are_allowed():
    course = import_course(text=_chapters(200))

    assert course.lessons.count() == 200


# --- The admin page -----------------------------------------------------------------------------

IMPORT_URL = reverse("admin:courses_course_import")


@pytest.fixture(autouse=True)
def _no_second_factor(settings):
    # The two-factor gate has its own tests (ceu/tests/test_admin_access.py).
    settings.CEU_REQUIRE_STAFF_MFA = False


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_the_form_shows_in_the_admin(staff_client):
    response = staff_client.get(IMPORT_URL)

    assert response.status_code == 200
    page = response.content.decode()
    assert 'enctype="multipart/form-data"' in page
    for name in ["notes", "file", "title", "media_url", "duration"]:
        assert f'name="{name}"' in page
    assert "00:00 Why Therapy Clients Ghost" in page  # the expected chapter format
    assert escape("CE Trainings administration") in page  # the admin's own chrome
    assert reverse("admin:courses_course_changelist") in page  # breadcrumbs


def test_pasted_notes_become_a_draft_and_open_it(staff_client, seed_text):
    response = staff_client.post(
        IMPORT_URL,
        {
            "notes": seed_text,
            "title": "",
            "media_url": "/static/courses/demo/ghost.mp3",
            "duration": "25:15",
        },
    )

    course = Course.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:courses_course_change", args=[course.pk])
    assert course.status == CourseStatus.DRAFT
    assert course.lessons.count() == 10
    assert course.episode.media_url == "/static/courses/demo/ghost.mp3"
    assert course.episode.media_mime_type == "audio/mpeg"
    assert course.episode.duration_seconds == 1515
    assert LogEntry.objects.filter(object_id=str(course.pk)).exists()
    shown = staff_client.get(IMPORT_URL).content.decode()
    assert escape("Imported 10 chapters as a draft: Why Therapy Clients Ghost") in shown


def test_an_uploaded_file_becomes_a_draft(staff_client, seed_text):
    upload = SimpleUploadedFile(
        "ghost.txt", b"\xef\xbb\xbf" + seed_text.encode("utf-8"), content_type="text/plain"
    )

    response = staff_client.post(
        IMPORT_URL, {"notes": "", "file": upload, "title": "Clients who ghost", "duration": ""}
    )

    course = Course.objects.get()
    assert response.status_code == 302
    assert course.title == "Clients who ghost"
    assert course.references.count() == 3


def _file(content: bytes, name: str = "notes.txt") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/plain")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"file": lambda: _file(b"")}, "The submitted file is empty."),
        ({"file": lambda: _file(b"   \n\n")}, "The file is empty."),
        ({"file": lambda: _file(b"\x00\x01\xff\xfe binary")}, "The file is binary, not text"),
        ({"file": lambda: _file(b"00:00 Caf\xe9\n")}, "The file is not UTF-8 text"),
        ({"file": lambda: _file(b"x" * (MAX_TEXT_BYTES + 1))}, "The file is over 1 MB"),
        ({"file": lambda: _file(b"00:00 Opening\n", "notes.pdf")}, "Upload a .txt or .md file."),
        (
            {"notes": "00:00 Opening\n", "file": lambda: _file(b"00:00 Opening\n")},
            "Paste the notes or upload a file, not both.",
        ),
        ({"notes": "  "}, "Paste the episode's show notes or upload them as a file."),
        (
            {"notes": "00:00 Opening\n05:00 Middle\n03:00 Back in time\n"},
            "Line 3 (“03:00 Back in time”): chapter times must increase",
        ),
        ({"notes": "Only prose here."}, "No chapter list found"),
        ({"notes": "00:00 Opening\n", "duration": "ten minutes"}, "Give the duration as MM:SS"),
        ({"notes": "00:00 Opening\n30:00 Late\n", "duration": "25:00"}, "at or past the end"),
        ({"notes": "00:00 Opening\n", "media_url": "javascript:alert(1)"}, "https:// address"),
    ],
)
def test_bad_posts_are_answered_on_the_form(staff_client, data, message):
    CourseFactory()
    before = counts()
    data = {key: value() if callable(value) else value for key, value in data.items()}

    response = staff_client.post(IMPORT_URL, data)

    assert response.status_code == 400
    assert escape(message) in response.content.decode()
    assert response.context["form"].errors
    assert counts() == before


def test_staff_without_the_add_permission_get_403(client):
    client.force_login(UserFactory(is_staff=True))

    assert client.get(IMPORT_URL).status_code == 403
    assert client.post(IMPORT_URL, {"notes": "00:00 Opening\n"}).status_code == 403
    assert Course.objects.count() == 0


def test_staff_with_the_add_permission_may_import(client):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="add_course"))
    client.force_login(user)

    response = client.post(IMPORT_URL, {"notes": "00:00 Opening\n01:00 Next\n"})

    assert response.status_code == 302
    assert Course.objects.get().lessons.count() == 2


# --- Importing the same episode again ---------------------------------------------------------


def test_the_same_notes_again_offer_the_existing_draft(staff_client, seed_text):
    staff_client.post(IMPORT_URL, {"notes": seed_text})
    first = Course.objects.get()

    again = staff_client.post(IMPORT_URL, {"notes": seed_text, "duration": "25:15"})

    assert again.status_code == 409
    page = again.content.decode()
    assert "This episode has been imported before." in page
    assert escape(
        "It is the course “Why Therapy Clients Ghost” (Draft). It has the same title."
    ) in (page)
    assert reverse("admin:courses_course_change", args=[first.pk]) in page
    assert Course.objects.count() == 1
    # What the author gave is still on the form.
    assert again.context["form"]["duration"].value() == "25:15"
    assert escape("• 04:49 Creating Emotional Safety") in page

    copy = staff_client.post(IMPORT_URL, {"notes": seed_text, "duration": "25:15", "new_copy": "1"})

    assert copy.status_code == 302
    assert sorted(Course.objects.values_list("slug", flat=True)) == [
        "why-therapy-clients-ghost",
        "why-therapy-clients-ghost-2",
    ]


def test_the_same_media_address_under_another_title_is_the_same_episode(staff_client):
    first = import_course(text="Opening night\n\n00:00 Opening\n", media_url=LOCAL_AUDIO)

    again = staff_client.post(
        IMPORT_URL, {"notes": "A new name\n\n00:00 Opening\n", "media_url": LOCAL_AUDIO}
    )

    assert again.status_code == 409
    page = again.content.decode()
    assert reverse("admin:courses_course_change", args=[first.pk]) in page
    assert "It plays the same audio file." in page


def test_an_uploaded_file_and_transcript_are_kept_while_the_author_decides(staff_client):
    notes = UNSEEN.read_text(encoding="utf-8")
    import_course(text=notes)
    transcript = b"WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nWelcome back.\n"

    again = staff_client.post(
        IMPORT_URL,
        {
            "file": SimpleUploadedFile("grief.txt", notes.encode("utf-8")),
            "captions": SimpleUploadedFile("grief.vtt", transcript),
        },
    )

    assert again.status_code == 409
    form = again.context["form"]
    # A file input cannot be filled in again: its text is in the notes box, the transcript
    # rides along with the page.
    assert form["notes"].value() == notes
    assert "Welcome back." in form["carried_captions"].value()
    assert escape("The transcript grief.vtt you uploaded is kept") in again.content.decode()

    data = {
        "notes": form["notes"].value(),
        "carried_captions": form["carried_captions"].value(),
        "carried_captions_name": form["carried_captions_name"].value(),
        "new_copy": "1",
    }
    copy = staff_client.post(IMPORT_URL, data)

    assert copy.status_code == 302
    course = Course.objects.get(slug__endswith="-2")
    assert "Welcome back." in course.episode.captions


# --- Pastes over the size limit -----------------------------------------------------------------


def test_a_paste_over_the_limit_gets_the_forms_error(staff_client):
    response = staff_client.post(IMPORT_URL, {"notes": "00:00 Opening\n" + "x" * MAX_TEXT_BYTES})

    assert response.status_code == 400
    assert escape("The notes are over 1 MB: paste only the episode's notes.") in (
        response.content.decode()
    )


@pytest.mark.parametrize("enforce_csrf_checks", [False, True])
def test_a_paste_too_large_to_read_gets_the_forms_error_not_djangos(enforce_csrf_checks):
    """Past DATA_UPLOAD_MAX_MEMORY_SIZE Django cannot read the post at all, not even its CSRF
    token: the page answers on its own form instead of Django's error page."""
    client = Client(enforce_csrf_checks=enforce_csrf_checks)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    huge = "00:00 Opening\n" + "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)

    response = client.post(IMPORT_URL, {"notes": huge, "csrfmiddlewaretoken": "x"})

    assert response.status_code == 413
    page = response.content.decode()
    assert escape("What was sent is larger than this page accepts") in page
    assert "RequestDataTooBig" not in page
    assert 'name="notes"' in page
    assert Course.objects.count() == 0


def test_a_post_that_can_be_read_still_needs_its_csrf_token():
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    response = client.post(IMPORT_URL, {"notes": "00:00 Opening\n01:00 Next\n"})

    assert response.status_code == 403
    assert Course.objects.count() == 0


# --- The episode's length: never assumed ----------------------------------------------------------

LESSON_TEXT = (
    "## What to notice\n\nClients rarely announce that they are about to leave. Notice shifts in "
    "tone, attendance and engagement, name them gently, and invite the client's view of how "
    "therapy is going."
)


def complete(course: Course) -> Course:
    """Everything an author adds after an import, except what the test is about."""
    Course.objects.filter(pk=course.pk).update(
        presenter_name="Jordan Avery",
        presenter_credentials="PhD, LMFT",
        test_author="Jordan Avery, PhD, LMFT",
    )
    course.lessons.filter(body=PLACEHOLDER_BODY).update(body=LESSON_TEXT)
    words = sum(count_words(lesson.body) for lesson in course.lessons.all())
    Course.objects.filter(pk=course.pk).update(reading_word_count=words)
    course.refresh_from_db()
    for position in range(1, 4):
        LearningObjective.objects.create(
            course=course, position=position, text=f"Describe pattern {position}."
        )
    for position in range(1, required_questions(course) + 1):
        QuestionFactory(course=course, position=position)
    ApprovalFactory(course=course, hours=course.ce_hours)
    for kind, label in PolicyKind.choices:
        Policy.objects.get_or_create(kind=kind, defaults={"title": label, "body": "Text."})
    # The episode's transcript, a line in each chapter.
    captioned = [
        Cue(start_ms=start * 1000, end_ms=start * 1000 + 4000, text=f"Words at {start} s.")
        for start in course.lessons.values_list("media_start_seconds", flat=True)
    ]
    Episode.objects.filter(pk=course.episode_id).update(captions=to_webvtt(captioned))
    course.episode.refresh_from_db()
    return course


def test_an_imported_recorded_course_without_audio_is_not_published(seed_text):
    """Today an imported "recorded audio" course publishes with no audio at all."""
    course = complete(import_course(text=seed_text, duration_seconds=1515))
    assert course.format == "home_study_audio"

    with pytest.raises(publishing.PublishError) as refusal:
        publishing.publish_course(course=course)

    assert refusal.value.problems == [
        "The episode “Why Therapy Clients Ghost” has no media address, so learners would get a "
        "silent player. Give the address of its audio or video on the episode."
    ]
    Episode.objects.filter(pk=course.episode_id).update(media_url=LOCAL_AUDIO)
    publishing.publish_course(course=course)
    course.refresh_from_db()
    assert course.status == CourseStatus.PUBLISHED


def test_the_last_chapter_is_not_given_an_assumed_minute(seed_text):
    """Today the last chapter's length is silently taken as one minute."""
    course = complete(import_course(text=seed_text))
    last = course.lessons.get(position=10)

    assert (last.media_start_seconds, last.media_end_seconds) == (1455, None)
    problems = publishing.publish_checklist(course)
    assert "Lesson 10 needs its end: give the episode's length." in problems
    assert any("has no length: give its running time on the episode" in p for p in problems)


@pytest.mark.parametrize(
    "line",
    ["Duration: 25:15", "Episode length – 25:15", "**Running time:** 0:25:15", "runtime 25:15"],
)
def test_the_length_the_notes_state_ends_the_last_chapter(line):
    text = f"00:00 Opening\n20:00 Resources\n\n{line}\n\nThe article.\n"

    course = import_course(text=text)

    assert course.episode.duration_seconds == 1515
    last = course.lessons.get(position=2)
    assert (last.media_start_seconds, last.media_end_seconds) == (1200, 1515)
    assert course.lessons.get(position=1).body == "The article."


def test_the_length_comes_from_the_media_file_on_this_site():
    course = import_course(text="00:00 Opening\n20:00 Resources\n", media_url=LOCAL_AUDIO)

    assert course.episode.duration_seconds == 1515  # the file runs 1514.999 s
    assert course.lessons.get(position=2).media_end_seconds == 1515
    assert course.media_minutes == Decimal("25.25")


def test_a_given_length_wins_and_the_checklist_compares_it_with_the_file():
    course = import_course(
        text="00:00 Opening\n20:00 Resources\n", media_url=LOCAL_AUDIO, duration_seconds=1600
    )

    assert course.lessons.get(position=2).media_end_seconds == 1600
    assert (
        "Lesson 2 ends at 26:40, but the media file runs only 25:15: check the chapter's end or "
        "the file."
    ) in publishing.publish_checklist(course)


def test_a_remote_media_address_is_not_fetched_for_its_length():
    course = import_course(
        text="00:00 Opening\n20:00 Resources\n", media_url="https://cdn.example.org/ghost.mp3"
    )

    assert course.episode.duration_seconds == 0
    assert course.lessons.get(position=2).media_end_seconds is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"text": "00:00 Opening\n30:00 Late\n", "media_url": LOCAL_AUDIO},
            r"starts at 30:00, at or past the end of the episode \(25:15\)\. Check the chapter "
            r"times or the media file\.",
        ),
        (
            {"text": "00:00 Opening\n30:00 Late\n\nDuration: 25:00\n"},
            r"Check the chapter times or the length the notes state\.",
        ),
        ({"text": "00:00 Opening\n\nDuration: 25:75\n"}, r"Line 3 .*not a valid length"),
        ({"text": "00:00 Opening\n\nLength: 00:00\n"}, r"Line 3 .*longer than zero"),
    ],
)
def test_a_length_that_cannot_hold_the_chapters_is_refused(kwargs, message):
    before = counts()

    with pytest.raises(ShowNotesError, match=message):
        import_course(**kwargs)

    assert counts() == before


def test_the_import_page_warns_when_the_length_is_unknown(staff_client):
    response = staff_client.post(
        IMPORT_URL, {"notes": "00:00 Opening\n01:00 Next\n", "duration": ""}, follow=True
    )

    page = response.content.decode()
    assert escape("Imported 2 chapters as a draft") in page
    assert "lesson 2 has no end yet" in page
    assert escape("Lesson 2 needs its end: give the episode's length.") in page


def test_a_long_line_that_starts_like_a_length_is_article_text():
    # Each piece of the length pattern starts with a character of its own: a long line of
    # spaces after "Duration" is read once, not tried in every split.
    line = "Duration" + " " * 100_000 + "of the therapeutic relationship matters."

    parsed = parse_show_notes(f"00:00 Opening\n\n{line}\n")

    assert parsed.duration_seconds is None
    assert "of the therapeutic relationship matters." in parsed.body_by_chapter[0]
