"""Engagement is credited by the server's clock: no more than the wall time since the previous
beat, never for someone else's lesson, never past the course's hours."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from courses.models import CourseStatus, EngagementClock, Enrollment, LessonProgress
from courses.tests.factories import CourseFactory, EnrollmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def course():
    return CourseFactory(slug="ghosting", lessons=3)


@pytest.fixture
def enrollment(learner, course):
    return EnrollmentFactory(user=learner, course=course)


def beat(client, course_slug="ghosting", lesson=2, **body):
    return client.post(
        reverse("courses:heartbeat", args=[course_slug, lesson]),
        json.dumps(body),
        content_type="application/json",
    )


def previous_beat(enrollment, seconds_ago: float) -> None:
    """As if the learner's last accepted beat came this many seconds ago."""
    EngagementClock.objects.update_or_create(
        user_id=enrollment.user_id,
        defaults={"last_beat_at": timezone.now() - timedelta(seconds=seconds_ago)},
    )


def test_the_first_beat_starts_the_clock_and_credits_nothing(learner_client, enrollment):
    response = beat(learner_client, lesson=1, playing=False)

    assert response.status_code == 200
    assert response.json()["credited_seconds"] == 0
    enrollment.refresh_from_db()
    assert EngagementClock.objects.get(user=enrollment.user).last_beat_at is not None
    assert enrollment.last_lesson.position == 1


def test_a_beat_credits_the_wall_time_since_the_previous_one(learner_client, enrollment):
    previous_beat(enrollment, 12)

    answer = beat(learner_client, lesson=2, playing=False).json()

    assert 12 <= answer["credited_seconds"] <= 13
    progress = LessonProgress.objects.get(enrollment=enrollment, lesson__position=2)
    assert progress.engaged_seconds == answer["credited_seconds"]
    enrollment.refresh_from_db()
    assert enrollment.engaged_seconds == answer["credited_seconds"]


def test_rapid_fire_beats_do_not_inflate_time(learner_client, enrollment):
    for _beat in range(30):
        beat(learner_client, lesson=2, playing=True, position_seconds=500)

    enrollment.refresh_from_db()
    assert enrollment.engaged_seconds <= 1


def test_what_the_browser_claims_about_time_is_ignored(learner_client, enrollment):
    previous_beat(enrollment, 5)

    answer = beat(
        learner_client, position=2, playing=True, seconds=9999, engaged_seconds=9999, elapsed=9999
    ).json()

    assert answer["credited_seconds"] <= 6
    enrollment.refresh_from_db()
    assert enrollment.engaged_seconds <= 6


def test_a_long_gap_restarts_the_clock_without_credit(learner_client, enrollment):
    previous_beat(enrollment, 600)  # the page was left open, or the learner walked away

    assert beat(learner_client, playing=True).json()["credited_seconds"] == 0


def test_two_tabs_share_one_clock(learner_client, enrollment):
    previous_beat(enrollment, 10)

    first = beat(learner_client, lesson=1).json()["credited_seconds"]
    second = beat(learner_client, lesson=2).json()["credited_seconds"]

    assert first + second <= 11


def test_credited_time_never_exceeds_the_course_hours(learner_client, enrollment, course):
    cap = int(course.ce_hours * 3600)
    Enrollment.objects.filter(pk=enrollment.pk).update(engaged_seconds=cap - 4)
    previous_beat(enrollment, 20)

    answer = beat(learner_client).json()
    assert answer["credited_seconds"] == 4
    previous_beat(enrollment, 20)
    assert beat(learner_client).json()["credited_seconds"] == 0

    enrollment.refresh_from_db()
    assert enrollment.engaged_seconds == cap


def test_a_lesson_completes_when_its_minimum_is_reached(learner_client, enrollment, course):
    lesson = course.lessons.get(position=2)
    LessonProgress.objects.create(
        enrollment=enrollment, lesson=lesson, engaged_seconds=lesson.minimum_seconds - 10
    )
    previous_beat(enrollment, 5)
    assert beat(learner_client).json()["lesson_complete"] is False

    previous_beat(enrollment, 6)
    assert beat(learner_client).json()["lesson_complete"] is True
    assert LessonProgress.objects.get(enrollment=enrollment, lesson=lesson).completed_at


def test_a_lesson_completes_when_its_media_is_heard_to_the_end(learner_client, enrollment, course):
    lesson = course.lessons.get(position=2)  # 120 s to 240 s of the episode
    beat(learner_client, lesson=2, playing=True, position=120)
    complete = False
    for at in range(135, 241, 15):
        previous_beat(enrollment, 15)
        complete = beat(learner_client, lesson=2, playing=True, position=at).json()[
            "lesson_complete"
        ]
    assert complete is True
    progress = LessonProgress.objects.get(enrollment=enrollment, lesson=lesson)
    assert progress.furthest_seconds >= 237
    assert progress.engaged_seconds < lesson.minimum_seconds  # it was the listening that counted


def test_skipping_to_the_end_is_not_listening(learner_client, enrollment, course):
    beat(learner_client, lesson=2, playing=True, position=120)
    previous_beat(enrollment, 5)

    answer = beat(learner_client, lesson=2, playing=True, position=239).json()

    assert answer["lesson_complete"] is False
    assert answer["position"] == 239  # resuming there is fine
    progress = LessonProgress.objects.get(enrollment=enrollment, lesson__position=2)
    assert progress.furthest_seconds <= 120 + 5 * 2 + 3


def test_positions_outside_the_chapter_are_clamped(learner_client, enrollment):
    assert beat(learner_client, lesson=2, position=5000, playing=False).json()["position"] == 240
    assert beat(learner_client, lesson=2, position=0, playing=False).json()["position"] == 120


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'{"position": "abc"}',
        b'{"position": -5}',
        b'{"position": 1e400}',
        b'{"playing": "yes"}',
    ],
)
def test_bad_bodies_are_refused_and_store_nothing(learner_client, enrollment, body):
    response = learner_client.post(
        reverse("courses:heartbeat", args=["ghosting", 1]), body, content_type="application/json"
    )

    assert response.status_code == 400
    assert "Send JSON like" in response.json()["error"]
    assert not LessonProgress.objects.exists()
    assert not EngagementClock.objects.filter(user=enrollment.user).exists()


def test_another_learners_enrollment_cannot_be_credited(client, enrollment, other_learner):
    client.force_login(other_learner)

    assert beat(client).status_code == 404
    assert not LessonProgress.objects.exists()


def test_a_lesson_of_another_course_answers_404(learner_client, enrollment):
    CourseFactory(slug="other-course", lessons=2)

    assert beat(learner_client, course_slug="other-course", lesson=1).status_code == 404
    assert beat(learner_client, lesson=99).status_code == 404
    assert not LessonProgress.objects.exists()


@pytest.mark.parametrize("status", [CourseStatus.DRAFT, CourseStatus.ARCHIVED])
def test_unpublished_courses_take_no_beats(learner_client, enrollment, course, status):
    course.status = status
    course.save()

    assert beat(learner_client).status_code == 404


def test_heartbeats_need_a_signed_in_learner_and_a_post(client, learner_client, enrollment):
    url = reverse("courses:heartbeat", args=["ghosting", 1])

    assert learner_client.get(url).status_code == 405
    client.logout()
    assert client.post(url, "{}", content_type="application/json").status_code == 302


def test_heartbeat_keeps_its_query_count(learner_client, enrollment, django_assert_max_num_queries):
    beat(learner_client)
    previous_beat(enrollment, 5)
    # session, user, enrollment, lesson, then the locked enrollment and progress, two writes,
    # and the progress summary: the same for a course of three lessons or thirty.
    with django_assert_max_num_queries(14):
        assert beat(learner_client).status_code == 200


def test_fractions_of_a_second_are_carried_to_the_next_beat(learner_client, enrollment):
    previous_beat(enrollment, 1.6)
    assert beat(learner_client).json()["credited_seconds"] == 1

    # 1.5 s later by the wall clock: the 0.6 s left over from the last beat counts too.
    clock = EngagementClock.objects.get(user=enrollment.user)
    EngagementClock.objects.filter(pk=clock.pk).update(
        last_beat_at=clock.last_beat_at - timedelta(seconds=1.5)
    )
    assert beat(learner_client).json()["credited_seconds"] == 2
