"""Publishing only what an accreditor would accept, archiving instead of deleting, and new
editions once certificates print a course."""

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from courses.models import Certificate, Course, CourseStatus, Policy
from courses.services import credentials, publishing
from courses.tests.factories import CourseFactory, EnrollmentFactory

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
        media_minutes=0,
        reading_word_count=0,
    )

    problems = " | ".join(publishing.publish_checklist(course))

    for expected in [
        "At least 3 measurable learning objectives (it has 0)",
        "At least 3 references (it has 0)",
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
    assert not publishing.has_issued_certificates(edition)
