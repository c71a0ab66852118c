"""Materials as offered (CA BBS 1887.12): from a certificate's admin page a registrar opens the
content and post-test exactly as they stood when the learner completed the training."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from courses.services import credentials
from courses.tests.factories import (
    CourseFactory,
    EnrollmentFactory,
    ObjectiveFactory,
    QuestionFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_second_factor(settings):
    settings.CEU_REQUIRE_STAFF_MFA = False


def staff_client(client, role: str):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    return client


@pytest.fixture
def registrar_client(client):
    return staff_client(client, "Registrars")


def test_the_registrar_sees_the_content_as_it_stood_on_the_completion_date(registrar_client):
    start = timezone.now() - timedelta(days=30)
    with time_machine.travel(start, tick=False):
        course = CourseFactory(slug="ghosting", lessons=2)
        lesson = course.lessons.get(position=1)
        lesson.body = "What the learner read: the first version."
        lesson.save()
        question = QuestionFactory(course=course, position=1, text="Which came first?")
        ObjectiveFactory(course=course, position=1, text="Describe the first objective.")
    with time_machine.travel(start + timedelta(days=1), tick=False):
        enrollment = EnrollmentFactory(course=course, completed_at=timezone.now())
    with time_machine.travel(start + timedelta(days=2), tick=False):
        # Edited after that learner finished, before the record was issued: the learner
        # never saw this.
        lesson.body = "A later rewrite."
        lesson.save()
        question.text = "A later question?"
        question.save()
        certificate = credentials.issue_certificate(enrollment=enrollment)

    change_page = registrar_client.get(
        reverse("admin:courses_certificate_change", args=[certificate.pk])
    ).content.decode()
    url = reverse("admin:courses_course_as_offered", args=[certificate.code])
    assert url in change_page
    page = registrar_client.get(url)

    assert page.status_code == 200
    html = page.content.decode()
    assert "What the learner read: the first version." in html
    assert "Which came first?" in html
    assert "Describe the first objective." in html
    assert "A later rewrite." not in html
    assert "A later question?" not in html
    assert certificate.code in html


def test_the_page_shows_the_learners_graded_attempts(registrar_client, learner):
    from courses.services import assessment
    from courses.tests.factories import finish_lessons

    course = CourseFactory(slug="ghosting", lessons=1, ce_hours="0.25")
    for position in range(1, 3):
        QuestionFactory(course=course, position=position)
    enrollment = finish_lessons(EnrollmentFactory(user=learner, course=course))
    attempt = assessment.start_attempt(enrollment=enrollment)
    answers = {q["id"]: [q["choices"][0]["id"]] for q in attempt.questions}
    assessment.submit_attempt(attempt=attempt, answers=answers)
    enrollment.refresh_from_db()
    enrollment.completed_at = timezone.now()
    enrollment.save(update_fields=["completed_at"])
    certificate = credentials.issue_certificate(enrollment=enrollment)

    html = registrar_client.get(
        reverse("admin:courses_course_as_offered", args=[certificate.code])
    ).content.decode()

    assert "Attempt 1" in html
    assert "chosen" in html


def test_only_those_who_may_see_certificates_open_it(client):
    course = CourseFactory(slug="ghosting", lessons=1)
    certificate = credentials.issue_certificate(
        enrollment=EnrollmentFactory(course=course, completed_at=timezone.now())
    )
    url = reverse("admin:courses_course_as_offered", args=[certificate.code])

    assert staff_client(client, "Course authors").get(url).status_code == 403
    client.force_login(UserFactory())
    assert client.get(url).status_code == 302  # to the sign-in page: learners never get in


def test_an_unknown_or_malformed_code_is_not_found(registrar_client):
    for code in ["CEU-0000-0000-0000-0000", "nonsense", "%00"]:
        response = registrar_client.get(f"/admin/courses/course/as-offered/{code}/")
        assert response.status_code == 404, code


@pytest.mark.parametrize("size", [1, 6])
def test_the_page_keeps_its_query_count(registrar_client, django_assert_num_queries, size):
    course = CourseFactory(slug=f"ghosting-{size}", lessons=size)
    for position in range(1, size + 1):
        QuestionFactory(course=course, position=position)
        ObjectiveFactory(course=course, position=position)
    certificate = credentials.issue_certificate(
        enrollment=EnrollmentFactory(course=course, completed_at=timezone.now())
    )
    url = reverse("admin:courses_course_as_offered", args=[certificate.code])

    # Session, user, permissions, certificate, the course and each kind of content once,
    # the accreditors, the first certificate, the attempts: none per lesson or question.
    with django_assert_num_queries(14):
        assert registrar_client.get(url).status_code == 200
