"""Every learner-facing page runs the same number of queries whatever the size of the site: the
catalog, the course page (anonymous and enrolled), a lesson, My trainings, the transcript and a
heartbeat, each pinned with few and with many other learners holding enrollments and
certificates in several courses. The pages cache what every visitor sees (by content version),
so each is pinned twice: the first visit after a change, and the visits after it."""

import json
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import LicenceFactory, UserFactory
from courses.models import EngagementClock, Enrollment, LessonProgress, Policy
from courses.models.catalog import PROVIDER_CACHE_KEY, content_changed
from courses.services import credentials
from courses.tests.factories import (
    AccreditorFactory,
    ApprovalFactory,
    BoardRuleFactory,
    CourseFactory,
    EnrollmentFactory,
    ObjectiveFactory,
    ReferenceFactory,
    finish_lessons,
)

pytestmark = pytest.mark.django_db

SIZES = [2, 25]


@pytest.fixture(params=SIZES, ids=lambda size: f"{size}-other-learners")
def site(request, learner):
    """Three published courses with approvals; `size` other learners enrolled in each, half of
    them certified in the first; the learner enrolled in two courses (one lesson done, one
    lesson opened last), certified in the third, with two licences, one under a board rule."""
    accreditor = AccreditorFactory(short_name="NBCC", professions=["professional_counselor"])
    courses = []
    for index in range(3):
        course = CourseFactory(slug=f"course-{index}", lessons=4)
        ApprovalFactory(course=course, accreditor=accreditor)
        ObjectiveFactory(course=course)
        ReferenceFactory(course=course)
        courses.append(course)
    for kind in ("grievance", "refund", "accommodation"):
        Policy.objects.create(kind=kind, title=f"{kind} policy", body=f"The *{kind}* text.")
    for number in range(request.param):
        other = UserFactory()
        LicenceFactory(user=other)
        for course in courses:
            enrollment = EnrollmentFactory(user=other, course=course, engaged_seconds=60)
            LessonProgress.objects.create(
                enrollment=enrollment, lesson=course.lessons.first(), engaged_seconds=60
            )
        if number % 2 == 0:
            _certify(other, courses[0])
    BoardRuleFactory(jurisdiction="FL", profession="professional_counselor")
    LicenceFactory(user=learner, jurisdiction="FL", renewal_date=timezone.localdate())
    LicenceFactory(user=learner, jurisdiction="NY", profession="psychologist")
    mine = EnrollmentFactory(user=learner, course=courses[0], engaged_seconds=300)
    first, second = list(courses[0].lessons.order_by("position"))[:2]
    LessonProgress.objects.create(
        enrollment=mine, lesson=first, engaged_seconds=300, completed_at=timezone.now()
    )
    Enrollment.objects.filter(pk=mine.pk).update(last_lesson=second)
    EnrollmentFactory(user=learner, course=courses[1])
    _certify(learner, courses[2])
    return courses


def _certify(user, course):
    enrollment, _created = Enrollment.objects.get_or_create(user=user, course=course)
    finish_lessons(enrollment)
    Enrollment.objects.filter(pk=enrollment.pk).update(completed_at=timezone.now())
    enrollment.refresh_from_db()
    return credentials.issue_certificate(enrollment=enrollment)


def _twice(client, url: str, cold: int, warm: int, assert_queries) -> None:
    """The first visit after a change to the content builds what every visitor sees; later
    ones read it from the cache."""
    content_changed()
    cache.delete(PROVIDER_CACHE_KEY)
    with assert_queries(cold):
        assert client.get(url).status_code == 200
    with assert_queries(warm):
        assert client.get(url).status_code == 200


def test_the_catalog(client, site, django_assert_num_queries):
    # Built: the count and the page of courses, their topics, approvals with accreditors and
    # professions, the topic filter's choices, the provider. Then nothing: the page is the same
    # for every visitor.
    _twice(client, reverse("courses:catalog"), 7, 0, django_assert_num_queries)


def test_the_course_page_for_a_visitor(client, site, django_assert_num_queries):
    # Built: the course, its approvals with accreditors, their professions and subjects,
    # topics, subjects, objectives, references, lessons, the provider and the policies.
    url = reverse("courses:course_detail", args=[site[0].slug])
    _twice(client, url, 11, 0, django_assert_num_queries)


# The session and the user; the enrollment with its last lesson, passed? and evaluated?; its
# progress; the licences (their boards' rules are cached); the certificates in the course's
# lineage; the transcript's certificates and licences, for the renewal outlook.
COURSE_PAGE_LEARNER = 8


def test_the_course_page_for_a_learner(learner_client, site, django_assert_num_queries):
    url = reverse("courses:course_detail", args=[site[0].slug])
    # Built first: the course's content and its fragments, and the board rule.
    _twice(
        learner_client,
        url,
        15 + COURSE_PAGE_LEARNER,
        COURSE_PAGE_LEARNER,
        django_assert_num_queries,
    )


@pytest.mark.parametrize("opened", [False, True], ids=["no-lesson-opened", "a-lesson-opened"])
def test_the_course_page_does_not_fetch_the_last_lesson_apart(
    learner_client, learner, site, django_assert_num_queries, opened
):
    """The page once fetched the learner's last lesson on its own when there was one: a learner
    who had opened a lesson cost a query more (16 against 17 in the benchmark's seeding)."""
    enrollment = Enrollment.objects.get(user=learner, course=site[0])
    Enrollment.objects.filter(pk=enrollment.pk).update(
        last_lesson=site[0].lessons.last() if opened else None
    )
    url = reverse("courses:course_detail", args=[site[0].slug])
    learner_client.get(url)

    with django_assert_num_queries(COURSE_PAGE_LEARNER):
        page = learner_client.get(url).content.decode()

    assert ("Continue" in page) is True


def test_the_lesson_page(learner_client, site, django_assert_num_queries):
    url = reverse("courses:lesson", args=[site[0].slug, 2])
    # Built: the course's content as above and the lesson's text and captions; then the
    # session, the user, the enrollment and its progress.
    _twice(learner_client, url, 15, 4, django_assert_num_queries)


def test_a_lesson_opened_is_remembered_in_one_write(
    learner_client, site, django_assert_num_queries
):
    learner_client.get(reverse("courses:lesson", args=[site[0].slug, 3]))
    learner_client.get(reverse("courses:lesson", args=[site[0].slug, 2]))

    # The session, the user, the enrollment, its progress, and the last lesson written.
    with django_assert_num_queries(5):
        learner_client.get(reverse("courses:lesson", args=[site[0].slug, 3]))


def test_my_trainings(learner_client, site, django_assert_num_queries):
    # The session, the user; the enrollments with their courses, last lessons and counts; their
    # certificates.
    _twice(learner_client, reverse("courses:my_trainings"), 4, 4, django_assert_num_queries)


def test_the_transcript(learner_client, site, django_assert_num_queries):
    # The session, the user; the certificates; the licences. Built first: the board rule, its
    # subjects and the approvals it accepts.
    _twice(learner_client, reverse("courses:transcript"), 7, 4, django_assert_num_queries)


def test_a_heartbeat(learner_client, learner, site, django_assert_num_queries):
    url = reverse("courses:heartbeat", args=[site[0].slug, 2])
    body = json.dumps({"position": 150, "playing": True})
    learner_client.post(url, body, content_type="application/json")
    EngagementClock.objects.filter(user=learner).update(
        last_beat_at=timezone.now() - timedelta(seconds=10)
    )

    # The session, the user; a savepoint, the learner's clock, the enrollment with its lessons'
    # progress (read and locked in one query), the clock, the lesson's progress and the
    # enrollment written, the release. The course and the lesson come from the course's cached
    # content. PostgreSQL takes the two locks in one round trip, and the three writes in one.
    with django_assert_num_queries(9 if connection.vendor == "sqlite" else 6):
        response = learner_client.post(url, body, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["lessons_total"] == 4
    assert response.json()["lessons_done"] == 1
