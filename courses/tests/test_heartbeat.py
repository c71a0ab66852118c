"""Engagement is credited by the server's clock, one clock per learner: no more than the wall
time since the learner's previous beat, whatever course or tab it came from, never for someone
else's lesson, never past the course's hours. Listening advances no faster than double speed."""

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from courses.models import CourseStatus, EngagementClock, Enrollment, LessonProgress
from courses.services.learning import MAX_BEAT_GAP_SECONDS
from courses.tests.factories import CourseFactory, EnrollmentFactory, LessonFactory

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


@pytest.fixture
def frozen(time_machine):
    """The server's clock stands still between beats and moves only when the test moves it."""
    time_machine.move_to(timezone.now(), tick=False)
    return time_machine


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


def test_listening_counts_from_the_chapter_start_for_progress_begun_elsewhere(
    learner_client, enrollment, course, frozen
):
    # A progress row that never held a position (made before the chapter had its media).
    LessonProgress.objects.create(enrollment=enrollment, lesson=course.lessons.get(position=2))
    beat(learner_client, lesson=2, playing=True, position=120)
    frozen.shift(15)

    beat(learner_client, lesson=2, playing=True, position=135)

    progress = LessonProgress.objects.get(enrollment=enrollment, lesson__position=2)
    assert progress.furthest_seconds == 135


def test_skipping_to_the_end_is_not_listening(learner_client, enrollment, course):
    beat(learner_client, lesson=2, playing=True, position=120)
    previous_beat(enrollment, 5)

    answer = beat(learner_client, lesson=2, playing=True, position=239).json()

    assert answer["lesson_complete"] is False
    assert answer["position"] == 239  # resuming there is fine
    progress = LessonProgress.objects.get(enrollment=enrollment, lesson__position=2)
    assert progress.furthest_seconds <= 120 + 5 * 2 + 1  # double speed; a second for the test's run


def test_positions_outside_the_chapter_are_clamped(learner_client, enrollment):
    assert beat(learner_client, lesson=2, position=5000, playing=False).json()["position"] == 240
    assert beat(learner_client, lesson=2, position=0, playing=False).json()["position"] == 120


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"null",
        b"[1, 2]",
        b'{"position": "abc"}',
        b'{"position": -5}',
        b'{"position": 1e400}',
        b'{"playing": "yes"}',
        # Deeply nested: the parser's recursion, within the size limit and past it.
        b"[" * 1000 + b"]" * 1000,
        b"[" * 1020,
        b'{"a": ' * 300 + b"1" + b"}" * 300,
        b'{"position": ' + b'{"a": ' * 100 + b"1" + b"}" * 101,
        # Wrong types: only a number is a position, only true or false says whether it plays.
        b'{"position": true}',
        b'{"position": "12"}',
        b'{"position": {}}',
        b'{"position": [12]}',
        b'{"playing": 1}',
        b'{"playing": null}',
        # Not numbers a player could report.
        b'{"position": NaN}',
        b'{"position": Infinity}',
        b'{"position": -Infinity}',
        b'{"position": 1' + b"0" * 400 + b"}",
        b'{"position": "\xff"}',
    ],
)
def test_malformed_bodies_are_answered_400_in_json_and_store_nothing(
    learner_client, enrollment, body
):
    response = learner_client.post(
        reverse("courses:heartbeat", args=["ghosting", 1]), body, content_type="application/json"
    )

    assert response.status_code == 400
    assert "Send JSON like" in response.json()["error"]
    assert not LessonProgress.objects.exists()
    assert not EngagementClock.objects.filter(user=enrollment.user).exists()


def test_a_body_past_djangos_upload_limit_is_answered_400_in_json(learner_client, enrollment):
    # Reading such a body raises RequestDataTooBig, which Django would answer with an HTML page.
    body = b'{"position": 12' + b" " * settings.DATA_UPLOAD_MAX_MEMORY_SIZE + b"}"

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


def test_a_beat_follows_an_edit_to_the_course_at_once(learner_client, enrollment, course):
    # What a beat needs of the course is cached: an edit to a lesson or to the course's status
    # counts from the next beat.
    lesson = course.lessons.get(position=2)
    LessonProgress.objects.create(enrollment=enrollment, lesson=lesson, engaged_seconds=60)
    previous_beat(enrollment, 5)
    assert beat(learner_client).json()["lesson_complete"] is False

    # The author shortens the lesson to a minute: the next beat completes it.
    lesson.estimated_minutes = 1
    lesson.save()
    previous_beat(enrollment, 5)
    assert beat(learner_client).json()["lesson_complete"] is True

    # A lesson added is counted at once; a course archived long ago takes no more beats.
    LessonFactory(course=course, position=4)
    previous_beat(enrollment, 5)
    assert beat(learner_client).json()["lessons_total"] == 4
    course.status = CourseStatus.ARCHIVED
    course.archived_at = timezone.now() - timedelta(days=3650)
    course.save()
    assert beat(learner_client).status_code == 404


def test_heartbeats_need_a_signed_in_learner_and_a_post(client, learner_client, enrollment):
    url = reverse("courses:heartbeat", args=["ghosting", 1])

    assert learner_client.get(url).status_code == 405
    client.logout()
    assert client.post(url, "{}", content_type="application/json").status_code == 302


@pytest.mark.parametrize("extra_lessons", [0, 27])
def test_heartbeat_keeps_its_query_count(
    learner_client, enrollment, course, extra_lessons, django_assert_num_queries
):
    for position in range(4, 4 + extra_lessons):
        LessonFactory(course=course, position=position)
    beat(learner_client)
    previous_beat(enrollment, 5)
    # user (the course and the lesson come from the course's cached content); a savepoint, the
    # locked clock, the enrollment with its lessons' progress (read and locked in one query),
    # three writes, the release; the progress summary is the beat's own: the same for a course
    # of three lessons or thirty. PostgreSQL takes the two locks in one round trip, and the
    # three writes in one.
    with django_assert_num_queries(9 if connection.vendor == "sqlite" else 6):
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


def test_the_answer_counts_the_time_just_credited(learner_client, enrollment, course):
    minimum = course.minimum_engaged_minutes * 60
    Enrollment.objects.filter(pk=enrollment.pk).update(engaged_seconds=minimum - 10)
    previous_beat(enrollment, 20)

    answer = beat(learner_client).json()

    assert answer["course_seconds"] >= minimum
    assert answer["percent"] == 50  # the time half of the bar is full; no lesson done yet


# --- One clock per learner, whatever the course or tab ----------------------------------------


def test_three_courses_beaten_in_turn_earn_the_wall_time_once(learner_client, learner, frozen):
    courses = [CourseFactory(slug=slug, lessons=1) for slug in ("first", "second", "third")]
    enrollments = [EnrollmentFactory(user=learner, course=course) for course in courses]

    # A tab per course, beating in turn, one beat a second, for 31 s.
    for second in range(32):
        beat(learner_client, course_slug=courses[second % 3].slug, lesson=1, playing=False)
        frozen.shift(1)

    for enrollment in enrollments:
        enrollment.refresh_from_db()
    # 87 s when each course kept its own clock; now each second once, none twice, none lost.
    assert sum(enrollment.engaged_seconds for enrollment in enrollments) == 31
    assert sum(progress.engaged_seconds for progress in LessonProgress.objects.all()) == sum(
        enrollment.engaged_seconds for enrollment in enrollments
    )


def test_a_second_course_earns_nothing_for_time_already_credited(learner_client, learner, frozen):
    for slug in ("first", "second"):
        EnrollmentFactory(user=learner, course=CourseFactory(slug=slug, lessons=1))
        beat(learner_client, course_slug=slug, lesson=1)
    frozen.shift(10)

    assert beat(learner_client, course_slug="first", lesson=1).json()["credited_seconds"] == 10
    assert beat(learner_client, course_slug="second", lesson=1).json()["credited_seconds"] == 0
    assert Enrollment.objects.get(course__slug="second").engaged_seconds == 0


def test_a_beat_stamped_before_the_last_one_does_not_wind_the_clock_back(
    learner_client, enrollment, frozen
):
    # Two web nodes whose clocks disagree by five seconds: the lagging one's beat earns nothing,
    # and the next beat counts from the latest accepted one, so no second is counted twice.
    beat(learner_client)
    frozen.shift(10)
    assert beat(learner_client).json()["credited_seconds"] == 10
    frozen.shift(-5)
    assert beat(learner_client).json()["credited_seconds"] == 0
    frozen.shift(15)

    assert beat(learner_client).json()["credited_seconds"] == 10
    enrollment.refresh_from_db()
    assert enrollment.engaged_seconds == 20


def test_a_beat_after_a_long_gap_neither_earns_nor_listens(learner_client, enrollment, frozen):
    beat(learner_client, lesson=2, playing=True, position=120)
    frozen.shift(MAX_BEAT_GAP_SECONDS + 1)

    answer = beat(learner_client, lesson=2, playing=True, position=200).json()

    assert answer["credited_seconds"] == 0
    assert answer["position"] == 200  # resuming there is fine
    progress = LessonProgress.objects.get(enrollment=enrollment, lesson__position=2)
    assert progress.furthest_seconds == 120
    frozen.shift(15)  # the clock restarted with that beat: listening counts again from there
    beat(learner_client, lesson=2, playing=True, position=215)
    progress.refresh_from_db()
    assert progress.furthest_seconds == 150


# --- Listening advances no faster than double speed, to the fraction of a second -------------


@pytest.fixture
def chapter(learner, frozen):
    """A chapter of 2:46 (from 5:00 to 7:46) that counts by listening alone."""
    course = CourseFactory(slug="long-chapter", lessons=0)
    lesson = LessonFactory(
        course=course,
        position=1,
        media_start_seconds=300,
        media_end_seconds=466,
        estimated_minutes=10,
    )
    EnrollmentFactory(user=learner, course=course)
    return lesson


def chapter_beat(client, **body):
    return beat(client, course_slug="long-chapter", lesson=1, **body).json()


def test_beats_every_20_ms_do_not_hear_a_chapter_in_seconds(learner_client, chapter, frozen):
    chapter_beat(learner_client, playing=True, position=300)
    for _beat in range(160):  # 3.2 s of beats, each claiming the chapter's end
        frozen.shift(timedelta(milliseconds=20))
        answer = chapter_beat(learner_client, playing=True, position=466)

    progress = LessonProgress.objects.get(lesson=chapter)
    assert progress.furthest_seconds <= 300 + 2 * 3.2 + 1e-6
    assert progress.completed_at is None
    assert answer["lesson_complete"] is False
    assert progress.engaged_seconds == 3
    assert progress.enrollment.engaged_seconds == 3


@pytest.mark.parametrize("speed", [1, 2])
def test_a_listener_at_normal_or_double_speed_hears_the_chapter_to_its_end(
    learner_client, chapter, frozen, speed
):
    at = 300
    answer = chapter_beat(learner_client, playing=True, position=at)
    while at < 466:
        frozen.shift(15)
        at = min(at + 15 * speed, 466)
        answer = chapter_beat(learner_client, playing=True, position=at)

    assert answer["lesson_complete"] is True
    progress = LessonProgress.objects.get(lesson=chapter)
    assert progress.furthest_seconds == 466
    assert progress.engaged_seconds < chapter.minimum_seconds  # it was the listening that counted


def test_a_beat_that_changes_no_progress_writes_only_the_clock(
    learner_client, enrollment, frozen, django_assert_num_queries
):
    previous_beat(enrollment, 5)
    beat(learner_client, lesson=2, playing=False)
    progress = LessonProgress.objects.get(enrollment=enrollment, lesson__position=2)
    frozen.shift(timedelta(milliseconds=400))

    # Less than a second since the last beat, the same place: nothing of the lesson's progress
    # or the enrollment changes. The session, the user, a savepoint, the locked clock, the
    # locked progress (one round trip on PostgreSQL), the clock's write, the release.
    with django_assert_num_queries(7 if connection.vendor == "sqlite" else 6):
        answer = beat(learner_client, lesson=2, playing=False).json()

    assert answer["credited_seconds"] == 0
    assert LessonProgress.objects.get(pk=progress.pk).updated_at == progress.updated_at
    # The fraction is carried all the same: 0.6 s more makes a whole second.
    frozen.shift(timedelta(milliseconds=600))
    assert beat(learner_client, lesson=2, playing=False).json()["credited_seconds"] == 1


def test_a_lesson_left_playing_in_place_still_marks_the_learner_active(
    learner_client, enrollment, course, frozen
):
    # At the course's hours no beat credits anything, and the player stands still: only the
    # minute's mark of activity writes the lesson's progress.
    Enrollment.objects.filter(pk=enrollment.pk).update(engaged_seconds=course.credit_seconds_cap)
    beat(learner_client, lesson=2, playing=False)
    progress = LessonProgress.objects.get(enrollment=enrollment, lesson__position=2)
    for _second in range(59):
        frozen.shift(timedelta(seconds=1))
        beat(learner_client, lesson=2, playing=False)
    assert LessonProgress.objects.get(pk=progress.pk).updated_at == progress.updated_at

    frozen.shift(timedelta(seconds=1))
    beat(learner_client, lesson=2, playing=False)

    assert LessonProgress.objects.get(pk=progress.pk).updated_at == timezone.now()
    assert LessonProgress.objects.get(pk=progress.pk).engaged_seconds == 0


def test_the_place_to_resume_shows_at_once_on_the_kept_lesson_page(
    learner_client, enrollment, course, frozen
):
    lesson = course.lessons.get(position=2)
    url = reverse("courses:lesson", args=[course.slug, 2])
    beat(learner_client, lesson=2, playing=False, position=lesson.media_start_seconds + 10)
    for _visit in range(3):  # the page is kept by now
        page = learner_client.get(url).content.decode()
    assert f"#t={lesson.media_start_seconds + 10}," in page

    # Under a second later, nothing credited: only the place in the chapter moved.
    frozen.shift(timedelta(milliseconds=300))
    answer = beat(learner_client, lesson=2, playing=False, position=lesson.media_start_seconds + 40)
    assert answer.json()["credited_seconds"] == 0

    assert f"#t={lesson.media_start_seconds + 40}," in learner_client.get(url).content.decode()
