"""What the pages keep in the cache (the catalog, a course's content and its page fragments, a
lesson's text and transcript, board rules) is what every visitor sees, kept by content version:
each test below fills the cache, changes something, and finds the change on every page it
touches at once. A learner's own standing (enrollment, completion, certificate) is never
cached, and nothing one visitor is shown reaches another."""

import importlib

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import LicenceFactory, UserFactory
from courses.models import Accreditor, Course, CourseStatus, Enrollment, Lesson, Policy, Provider
from courses.services import credentials
from courses.tests.factories import (
    AccreditorFactory,
    ApprovalFactory,
    BoardRuleFactory,
    CourseFactory,
    EnrollmentFactory,
    TopicFactory,
    finish_lessons,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def course():
    course = CourseFactory(
        slug="ghosting", title="Ruptures and ghosting", description="The *first* text.", lessons=3
    )
    course.topics.add(TopicFactory(name="Alliance", slug="alliance"))
    ApprovalFactory(
        course=course,
        accreditor=AccreditorFactory(short_name="NBCC", professions=["professional_counselor"]),
        credit_type="general",
    )
    Policy.objects.create(kind="refund", title="Refund policy", body="Refunds.")
    return course


def text(client, name: str, *args) -> str:
    response = client.get(reverse(f"courses:{name}", args=args))
    assert response.status_code == 200
    return response.content.decode()


def course_page(client, slug="ghosting") -> str:
    return text(client, "course_detail", slug)


def catalog(client) -> str:
    return text(client, "catalog")


def lesson_page(client, position=1, slug="ghosting") -> str:
    return text(client, "lesson", slug, position)


def test_an_edit_to_the_course_shows_at_once_on_the_catalog_and_its_page(client, course):
    assert "Ruptures and ghosting" in catalog(client)
    assert "<em>first</em>" in course_page(client)

    course.title = "Repairing ruptures"
    course.description = "The *second* text."
    course.save()

    assert "Repairing ruptures" in catalog(client)
    page = course_page(client)
    assert "Repairing ruptures" in page
    assert "<em>second</em>" in page
    assert "<em>first</em>" not in page


def test_an_edit_to_a_lesson_shows_at_once(learner_client, learner, course):
    EnrollmentFactory(user=learner, course=course)
    assert "Some lesson text." in lesson_page(learner_client)
    assert "Chapter 1" in course_page(learner_client)

    lesson = course.lessons.get(position=1)
    lesson.title = "Opening the session"
    lesson.body = "Text as **revised**."
    lesson.save()

    page = lesson_page(learner_client)
    assert "<strong>revised</strong>" in page
    assert "Some lesson text." not in page
    assert "Opening the session" in page
    assert "Opening the session" in course_page(learner_client)


def test_a_new_lesson_and_a_deleted_one_show_at_once(learner_client, learner, course):
    EnrollmentFactory(user=learner, course=course)
    assert learner_client.get(reverse("courses:lesson", args=["ghosting", 4])).status_code == 404
    course_page(learner_client)

    Lesson.objects.create(
        course=course, position=4, title="Closing", body="The end.", estimated_minutes=5
    )

    assert "The end." in lesson_page(learner_client, 4)
    assert "Closing" in course_page(learner_client)

    Lesson.objects.get(course=course, position=4).delete()

    assert learner_client.get(reverse("courses:lesson", args=["ghosting", 4])).status_code == 404
    assert "Closing" not in course_page(learner_client)


def test_approvals_accreditors_and_topics_show_at_once(client, course):
    assert "general" in course_page(client)
    assert "Professional counselor" in catalog(client)

    approval = course.approvals.get()
    approval.credit_type = "ethics"
    approval.save()
    Accreditor.objects.filter(pk=approval.accreditor_id).first().professions.create(
        profession="psychologist"
    )
    accreditor = Accreditor.objects.get(pk=approval.accreditor_id)
    accreditor.name = "National Board (renamed)"
    accreditor.save()
    topic = course.topics.get()
    topic.name = "Therapeutic alliance"
    topic.save()

    page = course_page(client)
    assert "ethics" in page
    assert "National Board (renamed)" in page
    listing = catalog(client)
    assert "Psychologist" in listing
    assert "Therapeutic alliance" in listing


def test_a_topic_taken_off_a_course_shows_at_once(client, course):
    badge = 'me-1">Alliance</span>'  # on the course's card (the filter still offers the topic)
    assert badge in catalog(client)

    course.topics.clear()

    assert badge not in catalog(client)


def test_the_provider_and_the_policies_show_at_once(client, course):
    Provider.objects.create(name="First Provider", email="first@example.org")
    page = course_page(client)
    assert "First Provider" in page
    assert "Refund policy" in page

    provider = Provider.objects.get()
    provider.name = "Second Provider"
    provider.save()
    Policy.objects.filter(kind="refund").get().delete()
    Policy.objects.create(kind="grievance", title="Grievance policy", body="Complaints.")

    page = course_page(client)
    assert "Second Provider" in page
    assert "Refund policy" not in page
    assert "Grievance policy" in page


def test_a_course_taken_off_the_catalog_goes_at_once(client, course):
    assert "Ruptures and ghosting" in catalog(client)
    course_page(client)

    course.status = CourseStatus.DRAFT
    course.save()

    assert "Ruptures and ghosting" not in catalog(client)
    assert client.get(reverse("courses:course_detail", args=["ghosting"])).status_code == 404


def _complete(enrollment):
    finish_lessons(enrollment)
    Enrollment.objects.filter(pk=enrollment.pk).update(completed_at=timezone.now())
    enrollment.refresh_from_db()
    return credentials.issue_certificate(enrollment=enrollment)


def test_a_new_completion_shows_at_once_on_every_page_it_touches(learner_client, learner, course):
    enrollment = EnrollmentFactory(user=learner, course=course)
    for page in (course_page(learner_client), text(learner_client, "transcript")):
        assert "CEU-" not in page
    assert "Completed" not in text(learner_client, "my_trainings")

    certificate = _complete(enrollment)

    assert certificate.code in course_page(learner_client)
    assert certificate.code in text(learner_client, "transcript")
    trainings = text(learner_client, "my_trainings")
    assert "Completed" in trainings
    assert "Every step is done." in trainings


def test_a_revocation_shows_at_once_on_every_page_it_touches(learner_client, learner, course):
    certificate = _complete(EnrollmentFactory(user=learner, course=course))
    for page in (
        course_page(learner_client),
        text(learner_client, "transcript"),
        text(learner_client, "my_trainings"),
    ):
        assert "Revoked on" not in page

    credentials.revoke_certificate(
        certificate=certificate, reason="Entered in error.", acting_user=UserFactory()
    )

    for page in (
        course_page(learner_client),
        text(learner_client, "transcript"),
        text(learner_client, "my_trainings"),
    ):
        assert "Revoked on" in page


def test_a_board_rule_changed_shows_at_once_on_the_transcript(learner_client, learner):
    rule = BoardRuleFactory(hours_required=30)
    LicenceFactory(user=learner, renewal_date=timezone.localdate())
    before = text(learner_client, "transcript")

    rule.board = "Florida Board (renamed)"
    rule.save()

    after = text(learner_client, "transcript")
    assert "Florida Board (renamed)" in after
    assert "Florida Board (renamed)" not in before


def test_nothing_one_visitor_sees_reaches_another(client, learner_client, learner, course):
    learner.full_name = "Dana Whitfield"
    learner.save()
    LicenceFactory(user=learner, number="MH 55555")
    EnrollmentFactory(user=learner, course=course)
    mine = course_page(learner_client)
    assert "MH 55555" in mine
    assert "Your progress" in mine

    other = UserFactory()
    client.force_login(other)
    theirs = course_page(client)
    client.logout()
    anonymous = course_page(client)

    for page in (theirs, anonymous):
        assert "MH 55555" not in page
        assert "Dana Whitfield" not in page
        assert "Your progress" not in page
    assert "Sign in to enroll" in anonymous


def test_markdown_is_rendered_and_sanitised_when_saved(course):
    course.description = "Fine *text*<script>alert(1)</script>"
    course.save()
    lesson = course.lessons.get(position=1)
    lesson.body = "[link](javascript:alert(1)) and **bold**"
    lesson.save(update_fields=["body"])

    course.refresh_from_db()
    lesson.refresh_from_db()
    assert "<em>text</em>" in course.description_html
    assert "<script>" not in course.description_html
    assert "<strong>bold</strong>" in lesson.body_html
    assert "javascript:" not in lesson.body_html


def test_text_saved_around_the_models_is_still_shown_rendered(learner_client, learner, course):
    """A bulk insert (the show-notes import) or an update of the text alone skips the save hook:
    HTML not rendered from the text as it stands is never shown; the text is rendered instead."""
    Lesson.objects.filter(course=course, position=1).update(body="**Imported**", body_html="")
    Lesson.objects.filter(course=course, position=2).update(body="**Changed** alone")
    EnrollmentFactory(user=learner, course=course)

    assert "<strong>Imported</strong>" in lesson_page(learner_client)
    page = lesson_page(learner_client, 2)
    assert "<strong>Changed</strong> alone" in page
    assert "Some lesson text." not in page


def test_the_migration_renders_the_stored_markdown(course):
    migration = importlib.import_module("courses.migrations.0014_rendered_markdown")
    Course.objects.filter(pk=course.pk).update(description_html="")
    Lesson.objects.filter(course=course).update(body_html="")

    migration.render_stored_markdown(apps, None)

    assert "<em>first</em>" in Course.objects.get(pk=course.pk).description_html
    assert all("<h2>A heading</h2>" in lesson.body_html for lesson in course.lessons.all())
