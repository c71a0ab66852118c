"""Content as offered stays as offered: once a course has issued a certificate, what its learners
were taught and tested on cannot change, through the services, the admin, or a crafted POST; a
new edition is the way to change it. Before that, authoring works as usual."""

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from courses.models import (
    Choice,
    Course,
    CourseApproval,
    Episode,
    LearningObjective,
    Lesson,
    Question,
    Reference,
)
from courses.services import credentials, freezing, publishing
from courses.tests.adminforms import form_data
from courses.tests.factories import (
    ApprovalFactory,
    CourseFactory,
    EnrollmentFactory,
    ObjectiveFactory,
    QuestionFactory,
    ReferenceFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_second_factor(settings):
    settings.CEU_REQUIRE_STAFF_MFA = False


@pytest.fixture
def course():
    course = CourseFactory(slug="ghosting", lessons=2)
    ObjectiveFactory(course=course, position=1)
    ReferenceFactory(course=course, position=1)
    ApprovalFactory(course=course)
    QuestionFactory(course=course, position=1)
    return course


def certify(course: Course):
    enrollment = EnrollmentFactory(course=course, completed_at=timezone.now())
    return credentials.issue_certificate(enrollment=enrollment)


@pytest.fixture
def author_client(client):
    author = UserFactory(is_staff=True)
    author.groups.add(Group.objects.get(name="Course authors"))
    client.force_login(author)
    return client


CHANGES = {
    "lesson text": lambda c: _save(c.lessons.first(), body="Rewritten after the fact."),
    "lesson timing": lambda c: _save(c.lessons.first(), media_end_seconds=999),
    "objective": lambda c: _save(c.objectives.first(), text="Another objective."),
    "reference": lambda c: _save(c.references.first(), citation="Another study."),
    "approval hours": lambda c: _save(c.approvals.first(), credit_type="ethics"),
    "question": lambda c: _save(c.questions.first(), text="An easier question?"),
    "answer key": lambda c: _save(
        Choice.objects.filter(question__course=c).last(), is_correct=True
    ),
    "presenter": lambda c: _save(c, presenter_name="Someone Else"),
    "hours": lambda c: _save(c, ce_hours="0.25"),
    "pass mark": lambda c: _save(c, pass_mark=80),
    "description": lambda c: _save(c, description="New text."),
    "episode media": lambda c: _save(c.episode, media_url="/static/other.ogg"),
    "new lesson": lambda c: Lesson.objects.create(
        course=c, position=9, title="Extra", body="More.", estimated_minutes=1
    ),
    "new question": lambda c: QuestionFactory(course=c, position=9),
    "removed lesson": lambda c: c.lessons.last().delete(),
    "removed approval": lambda c: c.approvals.first().delete(),
    "removed reference": lambda c: c.references.first().delete(),
    "question moved in": lambda c: _save(
        QuestionFactory(course=CourseFactory(lessons=0)), course=c
    ),
}


def _save(obj, **changes):
    for name, value in changes.items():
        setattr(obj, name, value)
    obj.save()


@pytest.mark.parametrize("change", CHANGES)
def test_content_is_refused_once_a_certificate_was_issued(course, change):
    certify(course)
    before = _content(course)

    # A savepoint, as a view's request would have: a delete's refusal rolls back its cascade.
    with (
        pytest.raises(freezing.FrozenContent, match="Copy it as a new edition"),
        transaction.atomic(),
    ):
        CHANGES[change](course)

    assert _content(course) == before


@pytest.mark.parametrize("change", CHANGES)
def test_content_changes_freely_before_any_certificate(course, change):
    CHANGES[change](course)  # no error: authoring as usual


def test_a_question_cannot_be_moved_out_of_a_certified_post_test(course):
    certify(course)
    question = course.questions.first()
    question.course = CourseFactory(lessons=0)

    with pytest.raises(freezing.FrozenContent):
        question.save()

    assert Question.objects.get(pk=question.pk).course_id == course.pk


def test_the_lifecycle_still_moves_a_certified_course(course):
    certify(course)

    publishing.archive_course(course=course)

    course.refresh_from_db()
    assert course.status == "archived"


def test_a_new_edition_of_a_certified_course_is_editable(course):
    certify(course)

    edition = publishing.copy_as_new_edition(course=course)
    _save(edition.lessons.first(), body="Revised for the new edition.")

    assert edition.lessons.first().body == "Revised for the new edition."
    assert course.lessons.first().body != "Revised for the new edition."


def _content(course: Course) -> list:
    return [
        list(Course.objects.filter(pk=course.pk).values()),
        list(Lesson.objects.filter(course=course).values()),
        list(LearningObjective.objects.filter(course=course).values()),
        list(Reference.objects.filter(course=course).values()),
        list(CourseApproval.objects.filter(course=course).values()),
        list(Question.objects.filter(course=course).values()),
        list(Choice.objects.filter(question__course=course).values()),
        list(Episode.objects.filter(pk=course.episode_id).values()),
    ]


# --- The admin ---------------------------------------------------------------------------------


def test_a_crafted_post_to_a_certified_course_changes_nothing(author_client, course):
    url = reverse("admin:courses_course_change", args=[course.pk])
    # What the author's browser would have posted while the course was still a draft...
    data = form_data(author_client.get(url).content.decode(), "course_form")
    data["lessons-0-body"] = "Rewritten after the fact."
    data["presenter_name"] = "Someone Else"
    data["questions-0-explanation"] = "Changed."
    certify(course)
    before = _content(course)

    # ...sent once certificates exist.
    response = author_client.post(url, data)

    assert response.status_code == 403
    assert _content(course) == before


def test_the_same_post_saves_while_nothing_is_certified(author_client, course):
    """The crafted post above is a form that saves: only the certificate stops it."""
    url = reverse("admin:courses_course_change", args=[course.pk])
    data = form_data(author_client.get(url).content.decode(), "course_form")
    data["lessons-0-body"] = "Rewritten before anyone was certified."

    response = author_client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:3000]
    assert course.lessons.order_by("position").first().body == (
        "Rewritten before anyone was certified."
    )


def test_a_certified_course_shows_read_only_with_the_reason(author_client, course):
    certify(course)

    html = author_client.get(reverse("admin:courses_course_change", args=[course.pk])).content
    html = html.decode()

    assert "kept exactly as offered and cannot be edited" in html
    assert "Copy as a new edition" in html
    for name in ['name="title"', 'name="lessons-0-body"', 'name="questions-0-text"']:
        assert name not in html


def test_a_crafted_post_to_a_certified_question_changes_nothing(author_client, course):
    question = course.questions.first()
    url = reverse("admin:courses_question_change", args=[question.pk])
    data = form_data(author_client.get(url).content.decode(), "question_form")
    data["text"] = "An easier question?"
    data["choices-1-is_correct"] = "on"
    certify(course)

    response = author_client.post(url, data)

    assert response.status_code == 403
    question.refresh_from_db()
    assert question.text != "An easier question?"
    assert question.choices.filter(is_correct=True).count() == 1


def test_a_question_cannot_be_moved_to_another_course_in_the_admin(author_client, course):
    """Today a question could be moved from one post-test to another by editing its course."""
    other = CourseFactory(lessons=0)
    question = course.questions.first()
    url = reverse("admin:courses_question_change", args=[question.pk])
    data = form_data(author_client.get(url).content.decode(), "question_form")
    data["course"] = str(other.pk)

    author_client.post(url, data)

    question.refresh_from_db()
    assert question.course_id == course.pk


def test_a_question_cannot_be_added_to_a_certified_post_test(author_client, course):
    certify(course)
    url = reverse("admin:courses_question_add")
    data = form_data(author_client.get(url).content.decode(), "question_form")
    data.update(course=str(course.pk), position="5", kind="single", text="New?", explanation="x")

    response = author_client.post(url, data)

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert course.questions.count() == 1


def test_the_episode_of_a_certified_course_is_read_only(author_client, course):
    certify(course)
    url = reverse("admin:courses_episode_change", args=[course.episode_id])
    response = author_client.post(url, {"title": "x", "media_url": "/static/other.ogg"})

    assert response.status_code == 403
    assert Episode.objects.get(pk=course.episode_id).media_url != "/static/other.ogg"
