"""A learner's own pages (My trainings, the transcript, a lesson) are kept in the cache for that
learner, and answered from it with no query of their own while nothing they show has changed.
Each test keeps the pages, changes something the way the site changes it, and finds the change
on every page at once; no learner is ever answered with another's page."""

import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.services import add_licence
from accounts.tests.factories import LicenceFactory, UserFactory
from courses.models import Course, CourseStatus, EngagementClock
from courses.services import credentials
from courses.tests.factories import (
    AccreditorFactory,
    ApprovalFactory,
    CourseFactory,
    EnrollmentFactory,
    finish_lessons,
)

pytestmark = pytest.mark.django_db

# A kept page costs the session's row and the user's (the suite keeps sessions in the database).
KEPT_PAGE_QUERIES = 2


@pytest.fixture
def course():
    course = CourseFactory(slug="ghosting", title="Ruptures and ghosting", lessons=3)
    ApprovalFactory(
        course=course,
        hours=Decimal("1.5"),
        accreditor=AccreditorFactory(short_name="NBCC", professions=["professional_counselor"]),
    )
    return course


@pytest.fixture
def enrollment(learner, course):
    return EnrollmentFactory(user=learner, course=course)


def pages(course) -> dict[str, str]:
    return {
        "my trainings": reverse("courses:my_trainings"),
        "transcript": reverse("courses:transcript"),
        "lesson": reverse("courses:lesson", args=[course.slug, 2]),
    }


def get(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def kept(client, url: str, assert_queries) -> str:
    """The page, once it is kept: the first visit hands the browser its CSRF secret, the second
    keeps the page, the third is answered from the cache."""
    get(client, url)
    second = get(client, url)
    with assert_queries(KEPT_PAGE_QUERIES):
        third = get(client, url)
    assert third == second
    return third


def keep_all(client, course, assert_queries) -> dict[str, str]:
    return {name: kept(client, url, assert_queries) for name, url in pages(course).items()}


def complete(enrollment) -> object:
    finish_lessons(enrollment)
    enrollment.completed_at = timezone.now()
    enrollment.save(update_fields=["completed_at"])
    return credentials.issue_certificate(enrollment=enrollment)


def test_each_page_is_answered_from_the_cache_while_nothing_changed(
    learner_client, enrollment, django_assert_num_queries
):
    before = keep_all(learner_client, enrollment.course, django_assert_num_queries)
    assert "Ruptures and ghosting" in before["my trainings"]
    assert "Ruptures and ghosting" in before["lesson"]


def test_a_new_completion_shows_at_once(learner_client, enrollment, django_assert_num_queries):
    before = keep_all(learner_client, enrollment.course, django_assert_num_queries)
    assert "CEU-" not in before["transcript"]
    assert "Completed" not in before["my trainings"]

    certificate = complete(enrollment)

    assert certificate.code in get(learner_client, pages(enrollment.course)["transcript"])
    assert "Completed" in get(learner_client, pages(enrollment.course)["my trainings"])


def test_a_revocation_and_a_reissue_show_at_once(
    learner_client, enrollment, django_assert_num_queries
):
    certificate = complete(enrollment)
    registrar = UserFactory()
    transcript_url = pages(enrollment.course)["transcript"]
    assert "Revoked on" not in kept(learner_client, transcript_url, django_assert_num_queries)

    credentials.revoke_certificate(
        certificate=certificate, reason="Entered in error.", acting_user=registrar
    )
    assert "Revoked on" in get(learner_client, transcript_url)
    assert "Revoked on" in get(learner_client, pages(enrollment.course)["my trainings"])

    kept(learner_client, transcript_url, django_assert_num_queries)
    replacement = credentials.reissue_certificate(
        certificate=certificate, acting_user=registrar, reason="Name corrected."
    )
    assert replacement.code in get(learner_client, transcript_url)


def test_an_edit_to_the_course_shows_at_once(learner_client, enrollment, django_assert_num_queries):
    keep_all(learner_client, enrollment.course, django_assert_num_queries)

    course = Course.objects.get(pk=enrollment.course_id)
    course.title = "Ruptures, repair and ghosting"
    course.save()

    # (The transcript prints each certificate's record as issued, never the course as edited.)
    for name in ("my trainings", "lesson"):
        assert "Ruptures, repair and ghosting" in get(learner_client, pages(course)[name]), name


def test_progress_shows_at_once(learner, learner_client, enrollment, django_assert_num_queries):
    course = enrollment.course
    kept(learner_client, pages(course)["my trainings"], django_assert_num_queries)
    lesson = course.lessons.get(position=2)
    lesson_url = pages(course)["lesson"]
    assert "Lesson complete." not in kept(learner_client, lesson_url, django_assert_num_queries)

    # The learner listens to lesson 2 to its end, as the player reports it.
    heartbeat = reverse("courses:heartbeat", args=[course.slug, 2])
    for second in range(0, lesson.minimum_seconds + 30, 15):
        EngagementClock.objects.filter(user=learner).update(
            last_beat_at=timezone.now() - timedelta(seconds=15)
        )
        learner_client.post(
            heartbeat,
            json.dumps({"position": lesson.media_start_seconds + second, "playing": True}),
            content_type="application/json",
            HTTP_X_CSRFTOKEN=learner_client.cookies["csrftoken"].value,
        )
    assert enrollment.lesson_progress.get(lesson=lesson).completed_at is not None

    assert "Lesson complete." in get(learner_client, lesson_url)
    assert "1 of 3" in get(learner_client, pages(course)["my trainings"])


def test_a_licence_and_a_name_show_at_once(learner, learner_client, django_assert_num_queries):
    url = reverse("courses:transcript")
    before = kept(learner_client, url, django_assert_num_queries)
    assert "LPC-7781" not in before

    add_licence(
        user=learner,
        profession="professional_counselor",
        jurisdiction="FL",
        number="LPC-7781",
        renewal_date=timezone.localdate() + timedelta(days=300),
        hours_required=None,
    )
    assert "LPC-7781" in kept(learner_client, url, django_assert_num_queries)

    learner.full_name = "Dana Whitfield-Okafor"
    learner.save()
    assert "Dana Whitfield-Okafor" in get(learner_client, url)


def test_an_archived_training_closes_on_a_kept_page(
    learner_client, enrollment, settings, django_assert_num_queries
):
    settings.CEU_ARCHIVE_GRACE_DAYS = 2
    course = enrollment.course
    Course.objects.filter(pk=course.pk).update(
        status=CourseStatus.ARCHIVED, archived_at=timezone.now() - timedelta(days=1)
    )
    course.refresh_from_db()
    course.save()  # as the admin archives it: the content changed
    trainings = kept(learner_client, pages(course)["my trainings"], django_assert_num_queries)
    assert "closed" not in trainings.lower()

    # A day later, past the grace period, nothing having changed in the database.
    later = timezone.now() + timedelta(days=1, hours=1)
    with time_machine.travel(later):
        page = learner_client.get(pages(course)["my trainings"]).content.decode()
        assert "closed" in page.lower()
        assert learner_client.get(pages(course)["lesson"]).status_code == 404


def test_a_message_for_the_learner_is_never_lost_to_a_kept_page(
    learner_client, enrollment, django_assert_num_queries
):
    certificate = complete(enrollment)
    credentials.revoke_certificate(
        certificate=certificate, reason="Entered in error.", acting_user=UserFactory()
    )
    transcript_url = pages(enrollment.course)["transcript"]
    kept(learner_client, transcript_url, django_assert_num_queries)

    response = learner_client.get(
        reverse("courses:certificate_pdf", args=[certificate.code]), follow=True
    )

    assert response.redirect_chain[-1][0] == transcript_url
    assert "was revoked" in response.content.decode()


def test_no_learner_is_answered_with_another_learners_page(
    client, learner, other_learner, course, django_assert_num_queries
):
    LicenceFactory(user=learner, number="MH 55555")
    LicenceFactory(user=other_learner, number="MH 77777")
    EnrollmentFactory(user=learner, course=course)
    EnrollmentFactory(user=other_learner, course=course)
    client.force_login(learner)
    mine = keep_all(client, course, django_assert_num_queries)
    client.logout()
    client.force_login(other_learner)

    theirs = {name: get(client, url) for name, url in pages(course).items()}

    assert "MH 55555" in mine["transcript"]
    for name, page in theirs.items():
        assert "Dana Whitfield" not in page, name
        assert "MH 55555" not in page, name
    assert "MH 77777" in theirs["transcript"]
    assert "Sam Okafor" in theirs["my trainings"]


def test_a_page_is_not_kept_across_a_sign_in(learner, course, client, django_assert_num_queries):
    EnrollmentFactory(user=learner, course=course)
    client.force_login(learner)
    kept(client, pages(course)["my trainings"], django_assert_num_queries)
    csrf = client.cookies["csrftoken"].value

    client.logout()
    client.force_login(learner)
    client.cookies["csrftoken"] = csrf

    # A new session: built again (the session, the user, then the page's own queries).
    with CaptureQueriesContext(connection) as queries:
        response = client.get(pages(course)["my trainings"])
    assert response.status_code == 200
    assert "Ruptures and ghosting" in response.content.decode()
    assert len(queries) > KEPT_PAGE_QUERIES


def test_a_client_keeping_no_cookies_gets_the_kept_page_with_a_csrf_cookie_that_fits_it(
    learner, enrollment, settings, django_assert_num_queries
):
    """A load generator or a script sends the session cookie alone, every time: the page is kept
    all the same, and the CSRF cookie sent with it matches the token in the page."""
    signed_in = Client()
    signed_in.force_login(learner)
    session = signed_in.cookies[settings.SESSION_COOKIE_NAME].value
    url = pages(enrollment.course)["lesson"]

    def visit():
        client = Client()
        client.cookies[settings.SESSION_COOKIE_NAME] = session
        return client.get(url)

    visit()  # the lesson opened: remembered as the one to resume, which changes the page
    built = visit()
    with django_assert_num_queries(KEPT_PAGE_QUERIES):
        kept_page = visit()

    assert kept_page.content == built.content
    token = re.search(r'"csrfToken": "(\w+)"', kept_page.content.decode())[1]
    beating = Client(enforce_csrf_checks=True)
    beating.cookies[settings.SESSION_COOKIE_NAME] = session
    beating.cookies[settings.CSRF_COOKIE_NAME] = kept_page.cookies[settings.CSRF_COOKIE_NAME].value
    response = beating.post(
        reverse("courses:heartbeat", args=[enrollment.course.slug, 2]),
        json.dumps({"position": 10, "playing": True}),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 200
