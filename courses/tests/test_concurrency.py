"""Double clicks and parallel tabs, with real threads on PostgreSQL's row locks."""

import json
import queue
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from courses.models import EngagementClock, Enrollment
from courses.tests.factories import CourseFactory, EnrollmentFactory

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


def run_together(count: int, action) -> list:
    """Start `count` threads at the same moment; each runs `action` with its own connection."""
    barrier = threading.Barrier(count)
    results: list = []

    def worker() -> None:
        try:
            barrier.wait()
            results.append(action())
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_a_burst_of_enroll_clicks_makes_one_enrollment(learner):
    CourseFactory(slug="ghosting")

    def click():
        client = Client()
        client.force_login(learner)
        return client.post(reverse("courses:enroll", args=["ghosting"])).status_code

    assert run_together(10, click) == [302] * 10
    assert Enrollment.objects.filter(user=learner).count() == 1


def beat_from_a_tab(learner, slug: str) -> int:
    """One tab's heartbeat on the course's first lesson; the seconds it was credited."""
    client = Client()
    client.force_login(learner)
    response = client.post(
        reverse("courses:heartbeat", args=[slug, 1]),
        json.dumps({"playing": False}),
        content_type="application/json",
    )
    assert response.status_code == 200
    return response.json()["credited_seconds"]


def test_beats_from_parallel_tabs_credit_each_second_once(learner):
    course = CourseFactory(slug="ghosting", lessons=3)
    enrollment = EnrollmentFactory(user=learner, course=course)
    started = timezone.now() - timedelta(seconds=10)
    EngagementClock.objects.create(user=learner, last_beat_at=started)

    credited = run_together(8, lambda: beat_from_a_tab(learner, "ghosting"))

    assert len(credited) == 8  # every beat answered 200
    assert sum(credited) <= (timezone.now() - started).total_seconds()
    enrollment.refresh_from_db()
    assert enrollment.engaged_seconds == sum(credited)


def test_parallel_beats_on_three_courses_credit_the_wall_time_once(learner, time_machine):
    slugs = ["first", "second", "third"]
    enrollments = [
        EnrollmentFactory(user=learner, course=CourseFactory(slug=slug, lessons=1))
        for slug in slugs
    ]
    time_machine.move_to(timezone.now(), tick=False)
    for slug in slugs:  # each course's tab has beaten once
        beat_from_a_tab(learner, slug)
    time_machine.shift(10)
    tabs = queue.SimpleQueue()
    for slug in slugs * 3:
        tabs.put(slug)

    # Three tabs on each of the three courses beat at the same moment, ten seconds on.
    credited = run_together(9, lambda: beat_from_a_tab(learner, tabs.get()))

    assert len(credited) == 9  # every beat answered 200
    assert sum(credited) == 10  # the ten seconds, once: not once per course or per tab
    stored = Enrollment.objects.filter(pk__in=[e.pk for e in enrollments])
    assert sum(stored.values_list("engaged_seconds", flat=True)) == sum(credited)


def test_a_learners_first_beats_from_three_courses_at_once_start_one_clock(learner):
    slugs = ["first", "second", "third"]
    for slug in slugs:
        EnrollmentFactory(user=learner, course=CourseFactory(slug=slug, lessons=1))
    tabs = queue.SimpleQueue()
    for slug in slugs * 2:
        tabs.put(slug)

    credited = run_together(6, lambda: beat_from_a_tab(learner, tabs.get()))

    assert len(credited) == 6  # every beat answered 200
    assert EngagementClock.objects.filter(user=learner).count() == 1
    assert sum(credited) <= 1


def test_two_submissions_at_the_same_moment_grade_the_attempt_once(learner):
    from courses.services import assessment
    from courses.tests.factories import QuestionFactory, finish_lessons

    course = CourseFactory(slug="ghosting", lessons=1)
    for position in range(1, 4):
        QuestionFactory(course=course, position=position)
    enrollment = finish_lessons(EnrollmentFactory(user=learner, course=course))
    attempt = assessment.start_attempt(enrollment=enrollment)
    right = {q["id"]: [c["id"] for c in q["choices"] if c["correct"]] for q in attempt.questions}
    wrong = {
        q["id"]: [c["id"] for c in q["choices"] if not c["correct"]][:1] for q in attempt.questions
    }

    def submit(answers):
        try:
            return str(assessment.submit_attempt(attempt=attempt, answers=answers).score)
        except assessment.AlreadySubmitted:
            return "refused"

    outcomes = run_together(2, lambda: submit(right if threading.get_ident() % 2 else wrong))

    assert sorted(outcomes)[1] == "refused"
    attempt.refresh_from_db()
    assert str(attempt.score) == sorted(outcomes)[0]
    assert attempt.submitted_at is not None


def test_twenty_threads_completing_one_enrollment_make_one_certificate(learner):
    from django.utils import timezone

    from courses.models import Certificate
    from courses.services import credentials

    enrollment = EnrollmentFactory(
        user=learner, course=CourseFactory(slug="ghosting"), completed_at=timezone.now()
    )

    codes = run_together(20, lambda: credentials.issue_certificate(enrollment=enrollment).code)

    assert len(set(codes)) == 1
    assert Certificate.objects.filter(enrollment=enrollment).count() == 1


def free_of_locks(*rows) -> bool:
    """Whether another connection can lock these rows at once, without waiting."""
    from django.db import DatabaseError, transaction

    def lock_without_waiting() -> bool:
        try:
            with transaction.atomic():
                for row in rows:
                    type(row).objects.select_for_update(nowait=True).get(pk=row.pk)
                return True
        except DatabaseError:
            return False

    return run_together(1, lock_without_waiting) == [True]


def test_a_beat_locks_only_the_learners_own_rows(learner, other_learner):
    """Every learner on a lesson beats every few seconds: a beat that locked the lesson's own row
    (or the course's) would make them all queue behind one another, and behind staff editing it."""
    from django.db import transaction

    from courses.services.learning import record_heartbeat

    course = CourseFactory(slug="ghosting", lessons=2)
    lesson = course.lessons.get(position=1)
    for user in (learner, other_learner):
        EnrollmentFactory(user=user, course=course)
        beat_from_a_tab(user, "ghosting")  # each learner's progress row exists

    with transaction.atomic():
        # A beat stays open here, holding its locks until this block ends.
        record_heartbeat(user=learner, course=course, lesson=lesson, position=None, playing=False)

        def other_learners_beat() -> int:
            # Were it to queue behind this learner's beat, it would fail here, not hang.
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '3s'")
            return beat_from_a_tab(other_learner, "ghosting")

        assert free_of_locks(lesson, course)
        assert len(run_together(1, other_learners_beat)) == 1


def test_a_post_test_and_a_certificate_lock_only_the_learners_own_rows(learner):
    from django.db import transaction
    from django.utils import timezone

    from courses.services import assessment, credentials
    from courses.tests.factories import QuestionFactory, finish_lessons

    course = CourseFactory(slug="ghosting", lessons=1)
    for position in range(1, 4):
        QuestionFactory(course=course, position=position)
    enrollment = finish_lessons(EnrollmentFactory(user=learner, course=course))

    with transaction.atomic():
        assessment.start_attempt(enrollment=enrollment)
        assert free_of_locks(course)

    Enrollment.objects.filter(pk=enrollment.pk).update(completed_at=timezone.now())
    with transaction.atomic():
        credentials.issue_certificate(enrollment=enrollment)
        assert free_of_locks(course)
