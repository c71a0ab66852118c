"""Publishing only what an accreditor would accept, archiving instead of deleting, and new
editions once certificates print a course."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.messages import constants as message_levels
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from courses.models import (
    Certificate,
    Course,
    CourseFormat,
    CourseStatus,
    Episode,
    Lesson,
    LogEntry,
    Policy,
    Reference,
)
from courses.services import audit, credentials, freezing, publishing
from courses.tests.factories import CourseFactory, EnrollmentFactory, QuestionFactory

pytestmark = pytest.mark.django_db

FIXTURE = Path(django_settings.BASE_DIR, "fixtures", "demo_trainings.json")
SLUG = "coaching-versus-therapy-for-growth-oriented-clients"


@pytest.fixture
def demo():
    call_command("loaddata", FIXTURE, verbosity=0)
    course = Course.objects.get(slug=SLUG)
    Course.objects.filter(pk=course.pk).update(status=CourseStatus.DRAFT, published_at=None)
    course.refresh_from_db()
    return course


@pytest.fixture
def superuser_client(client, settings):
    settings.CEU_REQUIRE_STAFF_MFA = False
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_a_complete_course_publishes(demo):
    assert publishing.publish_checklist(demo) == []

    publishing.publish_course(course=demo)

    demo.refresh_from_db()
    assert demo.status == CourseStatus.PUBLISHED
    assert demo.published_at is not None


def test_an_empty_course_gets_the_whole_checklist():
    course = CourseFactory(
        status=CourseStatus.DRAFT,
        lessons=0,
        presenter_credentials="To be confirmed",
        test_author="",
        media_minutes=0,
        reading_word_count=0,
    )

    problems = " | ".join(publishing.publish_checklist(course))

    for expected in [
        "At least 3 measurable learning objectives (it has 0)",
        "At least 3 references besides the source material (it has 0)",
        "The name of the post-test's author",
        "The presenter's name and credentials",
        "At least one lesson",
        "The credit calculation",
        "At least 3 post-test questions for 0.5 CE hours (it has 0)",
        "A current approval from an accreditor",
        "The site's policies",
    ]:
        assert expected in problems, expected


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda c: c.objectives.filter(position__gte=3).delete(), "learning objectives"),
        (lambda c: c.references.filter(position__gte=2).delete(), "references"),
        (lambda c: c.questions.filter(position__gte=3).delete(), "post-test questions"),
        (lambda c: c.approvals.all().delete(), "A current approval"),
        (lambda c: Policy.objects.filter(kind="refund").delete(), "Refund policy"),
        (lambda c: c.lessons.filter(position=2).update(body="Write this lesson."), "lesson 2"),
        (
            lambda c: c.questions.get(position=1).choices.update(is_correct=False),
            "Question 1 needs choices",
        ),
        (lambda c: Course.objects.filter(pk=c.pk).update(ce_hours=3), "need more instruction"),
        (lambda c: c.questions.filter(position=2).update(explanation=" "), "Question 2 needs an"),
    ],
)
def test_publishing_refuses_with_what_is_missing(demo, spoil, message):
    spoil(demo)
    demo.refresh_from_db()

    with pytest.raises(publishing.PublishError) as refusal:
        publishing.publish_course(course=demo)

    assert message in " ".join(refusal.value.problems)
    demo.refresh_from_db()
    assert demo.status == CourseStatus.DRAFT


def test_the_publish_button_shows_the_checklist(superuser_client, demo):
    demo.approvals.all().delete()

    response = superuser_client.post(
        reverse("admin:courses_course_publish", args=[demo.pk]), follow=True
    )

    page = response.content.decode()
    assert "cannot be published yet" in page
    assert "A current approval from an accreditor." in page
    demo.refresh_from_db()
    assert demo.status == CourseStatus.DRAFT
    change = superuser_client.get(reverse("admin:courses_course_change", args=[demo.pk]))
    assert "Before this course can be published it needs:" in change.content.decode()


def test_the_status_cannot_be_typed_past_the_checklist(superuser_client, demo):
    page = superuser_client.get(reverse("admin:courses_course_change", args=[demo.pk]))

    assert 'name="status"' not in page.content.decode()


def test_the_publish_action_publishes_complete_courses_only(superuser_client, demo):
    incomplete = CourseFactory(status=CourseStatus.DRAFT)

    superuser_client.post(
        reverse("admin:courses_course_changelist"),
        {"action": "publish_selected", "_selected_action": [demo.pk, incomplete.pk]},
    )

    demo.refresh_from_db()
    incomplete.refresh_from_db()
    assert demo.status == CourseStatus.PUBLISHED
    assert incomplete.status == CourseStatus.DRAFT


def test_a_course_with_enrollments_is_archived_not_deleted(superuser_client, demo):
    EnrollmentFactory(course=demo)

    response = superuser_client.post(
        reverse("admin:courses_course_delete", args=[demo.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    superuser_client.post(
        reverse("admin:courses_course_changelist"),
        {"action": "archive_selected", "_selected_action": [demo.pk]},
    )

    demo.refresh_from_db()
    assert demo.status == CourseStatus.ARCHIVED


def test_a_new_edition_copies_everything_as_a_draft(superuser_client, demo):
    publishing.publish_course(course=demo)
    enrollment = EnrollmentFactory(course=demo, completed_at=timezone.now())
    credentials.issue_certificate(enrollment=enrollment)

    superuser_client.post(
        reverse("admin:courses_course_changelist"),
        {"action": "copy_as_new_edition", "_selected_action": [demo.pk]},
    )

    edition = Course.objects.exclude(pk=demo.pk).get(title=demo.title)
    assert edition.status == CourseStatus.DRAFT
    assert edition.slug == f"{SLUG}-new-edition"
    assert edition.lessons.count() == demo.lessons.count()
    assert edition.objectives.count() == demo.objectives.count()
    assert edition.references.count() == demo.references.count()
    assert edition.approvals.count() == demo.approvals.count()
    assert edition.questions.count() == demo.questions.count()
    assert sum(q.choices.count() for q in edition.questions.all()) == sum(
        q.choices.count() for q in demo.questions.all()
    )
    assert set(edition.topics.all()) == set(demo.topics.all())
    assert not Certificate.objects.filter(enrollment__course=edition).exists()
    # The edition is free to change what certificates will print.
    assert not freezing.is_frozen(edition.pk)


# --- The checklist, completed against CE-RULES.md --------------------------------------------


def lesson(course: Course, position: int):
    return Lesson.objects.filter(course=course, position=position)


def episode_of(course: Course):
    return Episode.objects.filter(pk=course.episode_id)


def more_references(course: Course, count: int) -> None:
    start = course.references.count() + 1
    Reference.objects.bulk_create(
        Reference(course=course, position=n, citation=f"Author, A. ({2000 + n}). Study {n}.")
        for n in range(start, start + count)
    )


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        # Today 1 % publishes.
        (
            lambda c: Course.objects.filter(pk=c.pk).update(pass_mark=1),
            "A pass mark of at least 75 % (it is 1 %).",
        ),
        (
            lambda c: Course.objects.filter(pk=c.pk).update(test_author=" "),
            "The name of the post-test's author",
        ),
        (
            lambda c: Course.objects.filter(pk=c.pk).update(test_author="To be confirmed"),
            "The name of the post-test's author",
        ),
        # Three to ten, besides the episode the course is built from.
        (
            lambda c: c.references.filter(is_source_material=False, position=3).delete(),
            "At least 3 references besides the source material (it has 2).",
        ),
        (lambda c: more_references(c, 8), "At most 10 references besides the source material"),
        # Fifty minutes of instruction per CE hour (Florida 64B4-6.004): 25 for half an hour.
        (
            lambda c: Course.objects.filter(pk=c.pk).update(minimum_engaged_minutes=24),
            "A minimum engaged time of at least 25 minutes for 0.5 CE hours",
        ),
        (
            lambda c: c.approvals.filter(accreditor__short_name="NBCC").update(hours=1),
            "The NBCC approval gives 1 hours, more than the course's 0.5 CE hours.",
        ),
        (
            lambda c: c.approvals.update(
                valid_until=timezone.localdate() - timedelta(days=1),
                valid_from=timezone.localdate() - timedelta(days=400),
            ),
            "A current approval from an accreditor.",
        ),
    ],
    ids=[
        "pass mark 1 %",
        "blank test author",
        "placeholder test author",
        "two references",
        "eleven references",
        "24 engaged minutes",
        "approval hours above",
        "lapsed approvals",
    ],
)
def test_publishing_refuses_what_an_accreditor_would(demo, spoil, message):
    spoil(demo)
    demo.refresh_from_db()

    with pytest.raises(publishing.PublishError) as refusal:
        publishing.publish_course(course=demo)

    assert message in " ".join(refusal.value.problems)
    demo.refresh_from_db()
    assert demo.status == CourseStatus.DRAFT
    assert not LogEntry.objects.filter(action="course.published").exists()


def test_the_pass_mark_floor_is_the_setting(demo, settings):
    settings.CEU_MIN_PASS_MARK = 80

    assert "A pass mark of at least 80 % (it is 75 %)." in publishing.publish_checklist(demo)

    Course.objects.filter(pk=demo.pk).update(pass_mark=80)
    demo.refresh_from_db()
    assert publishing.publish_checklist(demo) == []


def test_ten_references_and_the_source_material_publish(demo):
    more_references(demo, 7)  # ten, plus the episode as source material

    assert publishing.publish_checklist(demo) == []


# --- Recorded media that plays ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        # Today an imported "recorded audio" course publishes with no audio at all.
        (
            lambda c: episode_of(c).update(media_url=""),
            "The episode “Why Therapy Clients Ghost” has no media address",
        ),
        (
            lambda c: episode_of(c).update(media_url="/static/courses/demo/missing.ogg"),
            "The episode's media address /static/courses/demo/missing.ogg does not lead to a file",
        ),
        (
            lambda c: episode_of(c).update(media_url="/static/courses/demo/"),
            "does not lead to a file",
        ),
        (
            lambda c: episode_of(c).update(media_url="/static/../manage.py"),
            "does not lead to a file",
        ),
        (
            lambda c: episode_of(c).update(media_url="http://podcast.example.org/ghost.ogg"),
            "Give an https:// address",
        ),
        (lambda c: Course.objects.filter(pk=c.pk).update(episode=None), "The episode its lessons"),
        (
            lambda c: lesson(c, 2).update(media_start_seconds=None, media_end_seconds=None),
            "Lesson 2 has no part of the episode to play",
        ),
        # The last chapter's length is never assumed: the lesson waits for its end.
        (
            lambda c: lesson(c, 3).update(media_end_seconds=None),
            "Lesson 3 needs its end: give the episode's length.",
        ),
        (
            lambda c: lesson(c, 3).update(media_end_seconds=1600),
            "Lesson 3 ends at 26:40, past the end of the episode (25:15)",
        ),
        (
            lambda c: episode_of(c).update(duration_seconds=0),
            "The episode “Why Therapy Clients Ghost” has no length",
        ),
        # The episode says it runs 40 minutes; the file itself runs 25:15.
        (
            lambda c: (
                episode_of(c).update(duration_seconds=2400),
                lesson(c, 3).update(media_end_seconds=1600),
            ),
            "Lesson 3 ends at 26:40, but the media file runs only 25:15",
        ),
    ],
    ids=[
        "no address",
        "no such file",
        "a folder",
        "outside the static files",
        "plain http",
        "no episode",
        "lesson without range",
        "last lesson without end",
        "past the episode",
        "episode without length",
        "past the file",
    ],
)
def test_a_recorded_course_publishes_only_when_every_lesson_plays(demo, spoil, message, settings):
    settings.CEU_SITE_URL = "https://ce.example.org"  # a site served over https, as deployed
    spoil(demo)
    demo.refresh_from_db()

    with pytest.raises(publishing.PublishError) as refusal:
        publishing.publish_course(course=demo)

    assert message in " ".join(refusal.value.problems)
    demo.refresh_from_db()
    assert demo.status == CourseStatus.DRAFT


def test_an_https_media_address_is_taken_as_given(demo):
    episode_of(demo).update(media_url="https://cdn.example.org/why-therapy-clients-ghost.ogg")

    assert publishing.publish_checklist(demo) == []


def test_plain_http_media_plays_only_on_a_site_itself_on_plain_http(demo, settings):
    """A demo on one machine (`make run`) imports a feed served beside it, audio and all, over
    plain http; a deployed site's https pages could not play that audio."""
    episode_of(demo).update(media_url="http://127.0.0.1:8765/why-therapy-clients-ghost.ogg")

    settings.CEU_SITE_URL = "http://127.0.0.1:8000"
    assert publishing.publish_checklist(demo) == []

    settings.CEU_SITE_URL = "https://ce.example.org"
    assert "Give an https:// address" in " ".join(publishing.publish_checklist(demo))


def test_an_uploaded_media_file_plays(demo, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    name = default_storage.save("episodes/ghost.ogg", ContentFile(b"OggS not really audio"))
    episode_of(demo).update(media_url=f"/media/{name}")

    # Found, though its length cannot be read from it: the episode's stated length stands.
    assert publishing.publish_checklist(demo) == []

    default_storage.delete(name)
    assert "does not lead to a file" in " ".join(publishing.publish_checklist(demo))


def test_a_reading_course_needs_no_media(demo):
    Course.objects.filter(pk=demo.pk).update(format=CourseFormat.READING, episode=None)
    demo.refresh_from_db()

    assert publishing.publish_checklist(demo) == []


# --- The audit trail --------------------------------------------------------------------------


def messages_of(response) -> list[tuple[int, str]]:
    return [(m.level, str(m.message)) for m in response.context["messages"]]


def test_publishing_records_who_published_what(superuser_client, demo):
    response = superuser_client.post(
        reverse("admin:courses_course_publish", args=[demo.pk]), follow=True
    )

    assert (message_levels.SUCCESS, f"“{demo.title}” is published.") in messages_of(response)
    entry = LogEntry.objects.get(action="course.published")
    assert entry.actor == response.wsgi_request.user
    assert entry.subject == demo
    assert entry.data["slug"] == SLUG


def test_a_refused_publish_warns_and_records_nothing(superuser_client, demo):
    Course.objects.filter(pk=demo.pk).update(pass_mark=1)

    response = superuser_client.post(
        reverse("admin:courses_course_publish", args=[demo.pk]), follow=True
    )

    levels = [level for level, _text in messages_of(response)]
    assert message_levels.SUCCESS not in levels
    assert message_levels.WARNING in levels
    assert "A pass mark of at least 75 %" in response.content.decode()
    assert not LogEntry.objects.exists()


def test_publishing_what_is_published_changes_nothing(superuser_client, demo):
    publishing.publish_course(course=demo)

    response = superuser_client.post(
        reverse("admin:courses_course_changelist"),
        {"action": "publish_selected", "_selected_action": [demo.pk]},
        follow=True,
    )

    assert messages_of(response) == [
        (message_levels.WARNING, f"“{demo.title}” is already published.")
    ]
    assert LogEntry.objects.filter(action="course.published").count() == 1


def test_archiving_records_once_and_a_second_archive_only_warns(superuser_client, demo):
    publishing.publish_course(course=demo)
    archive = {"action": "archive_selected", "_selected_action": [demo.pk]}
    changelist = reverse("admin:courses_course_changelist")

    first = superuser_client.post(changelist, archive, follow=True)
    second = superuser_client.post(changelist, archive, follow=True)

    assert messages_of(first) == [(message_levels.SUCCESS, "Archived 1 course(s).")]
    assert messages_of(second) == [
        (message_levels.WARNING, f"“{demo.title}” was already archived.")
    ]
    entry = LogEntry.objects.get(action="course.archived")
    assert entry.subject == demo
    assert entry.actor == first.wsgi_request.user
    assert entry.data == {"slug": SLUG, "previous_status": "published"}


def test_an_archived_course_is_offered_again_only_as_a_new_edition(demo):
    publishing.publish_course(course=demo)
    publishing.archive_course(course=demo)

    with pytest.raises(publishing.PublishingError, match="copy it as a new edition"):
        publishing.publish_course(course=demo)

    demo.refresh_from_db()
    assert demo.status == CourseStatus.ARCHIVED


def test_the_audit_entry_stands_or_falls_with_the_change(demo, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the audit trail is unavailable")

    monkeypatch.setattr(audit, "record", broken)

    with pytest.raises(RuntimeError):
        publishing.publish_course(course=demo)

    demo.refresh_from_db()
    assert demo.status == CourseStatus.DRAFT
    assert demo.published_at is None


# --- Editions ---------------------------------------------------------------------------------


def test_a_new_edition_keeps_the_lineage_and_names_what_it_revises(superuser_client, demo):
    publishing.publish_course(course=demo)

    response = superuser_client.post(
        reverse("admin:courses_course_changelist"),
        {"action": "copy_as_new_edition", "_selected_action": [demo.pk]},
        follow=True,
    )

    edition = Course.objects.get(previous_edition=demo)
    assert edition.lineage == demo.lineage
    assert edition.pk != demo.pk
    assert list(demo.next_editions.all()) == [edition]
    entry = LogEntry.objects.get(action="course.edition_created")
    assert entry.subject == edition
    assert entry.actor == response.wsgi_request.user
    assert entry.data == {"source_id": demo.pk, "source_slug": SLUG, "slug": edition.slug}
    [(level, text)] = messages_of(response)
    assert level == message_levels.SUCCESS
    assert f"New draft edition of “{demo.title}”" in text


def test_an_edition_of_an_edition_stays_in_the_lineage(demo):
    second = publishing.copy_as_new_edition(course=demo)
    third = publishing.copy_as_new_edition(course=second)

    assert {demo.lineage, second.lineage, third.lineage} == {demo.lineage}
    assert (second.previous_edition, third.previous_edition) == (demo, second)
    assert third.slug == f"{SLUG}-new-edition-new-edition"
    # Each edition publishes on its own checklist.
    assert publishing.publish_checklist(third) == []


# --- The publish page -------------------------------------------------------------------------


def test_publishing_an_unknown_course_is_not_found(superuser_client):
    for object_id in [999999, "not-a-number"]:
        url = reverse("admin:courses_course_publish", args=[object_id])
        assert superuser_client.post(url).status_code == 404, object_id


def test_the_publish_button_answers_only_a_post(superuser_client, demo):
    response = superuser_client.get(reverse("admin:courses_course_publish", args=[demo.pk]))

    assert response.status_code == 403
    demo.refresh_from_db()
    assert demo.status == CourseStatus.DRAFT


# Objectives, references, lessons, questions and their choices, approvals (current, and above
# the hours), policies: one query each, however many there are. The media file is read from disk.
CHECKLIST_QUERIES = 8


@pytest.mark.parametrize("extra", [0, 6])
def test_the_checklist_keeps_its_query_count(demo, django_assert_num_queries, extra):
    more_references(demo, extra)
    start = demo.questions.count() + 1
    for position in range(start, start + extra):
        QuestionFactory(course=demo, position=position)
    demo = Course.objects.select_related("episode").get(pk=demo.pk)

    with django_assert_num_queries(CHECKLIST_QUERIES):
        assert publishing.publish_checklist(demo) == []
