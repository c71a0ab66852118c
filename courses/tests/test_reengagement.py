"""Nudges for stalled trainings: each stage once per enrollment, from 10:00 in the learner's time
zone, stopped by completion, opting out or archiving; a repeated run and a crashed one never
send twice. Time is moved with time-machine; mail lands in the test outbox."""

import re
from datetime import datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission
from django.core.mail import EmailMessage
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from courses import tasks
from courses.models import (
    CourseStatus,
    Enrollment,
    MailSuppression,
    ReengagementSettings,
    SentMessage,
)
from courses.services import learning
from courses.services.reengagement import send_nudges, stage_due
from courses.tests.factories import CourseFactory, EnrollmentFactory, finish_lessons

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")


def local(zone: ZoneInfo, *args) -> datetime:
    return datetime(*args, tzinfo=zone)


@pytest.fixture
def course():
    return CourseFactory(title="Why clients ghost", slug="why-clients-ghost", lessons=3)


def stall(time_machine, *, user, course, when: datetime, lesson: int = 2, at: int = 185):
    """Enroll and listen to `lesson` up to `at` seconds of the episode, at `when`."""
    time_machine.move_to(when, tick=False)
    enrollment = EnrollmentFactory(user=user, course=course)
    beat(enrollment, lesson=lesson, at=at)
    return enrollment


def beat(enrollment: Enrollment, *, lesson: int, at: int) -> None:
    learning.record_heartbeat(
        user=enrollment.user,
        course=enrollment.course,
        lesson=enrollment.course.lessons.get(position=lesson),
        position=at,
        playing=True,
    )


def run(time_machine, when: datetime) -> int:
    time_machine.move_to(when, tick=False)
    return tasks.send_nudges.delay().get()


def test_a_stalled_learner_gets_each_stage_once_then_nothing_after_completing(
    time_machine, course, mailoutbox
):
    learner = UserFactory(full_name="Dana Whitfield", time_zone="America/Chicago")
    # Monday 4 January 2027, 15:00 in Chicago: lesson 2 up to 3:05 of the episode.
    enrollment = stall(
        time_machine, user=learner, course=course, when=local(CHICAGO, 2027, 1, 4, 15)
    )

    assert run(time_machine, local(CHICAGO, 2027, 1, 6, 11)) == 0  # two days: too soon
    assert run(time_machine, local(CHICAGO, 2027, 1, 7, 9, 30)) == 0  # day 3, before 10:00
    assert run(time_machine, local(CHICAGO, 2027, 1, 7, 10, 5)) == 1
    assert run(time_machine, local(CHICAGO, 2027, 1, 7, 16)) == 0  # the same day again

    (first,) = mailoutbox
    assert first.to == [learner.email]
    assert "Why clients ghost" in first.subject
    assert 'lesson 2, "Chapter 2", at minute 3 (3:05)' in first.body
    assert "What is left: 3 of 3 lessons, about 25 minutes of engagement" in first.body
    assert "http://127.0.0.1:8000/courses/why-clients-ghost/lessons/2/" in first.body
    assert first.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert first.extra_headers["List-Unsubscribe"].startswith(
        "<http://127.0.0.1:8000/messages/unsubscribe/"
    )
    # Plain text only: nothing to track opens with.
    assert not getattr(first, "alternatives", [])

    assert run(time_machine, local(CHICAGO, 2027, 1, 14, 10, 30)) == 1  # day 10
    assert run(time_machine, local(CHICAGO, 2027, 1, 14, 10, 45)) == 0

    # The learner comes back on day 12 and listens on; then stalls again.
    time_machine.move_to(local(CHICAGO, 2027, 1, 16, 20), tick=False)
    beat(enrollment, lesson=2, at=200)
    assert run(time_machine, local(CHICAGO, 2027, 1, 19, 10, 30)) == 0  # 3 days: already had it
    assert run(time_machine, local(CHICAGO, 2027, 1, 26, 10, 30)) == 0  # 10 days: already had it
    assert run(time_machine, local(CHICAGO, 2027, 2, 15, 10, 30)) == 1  # 30 days
    assert len(mailoutbox) == 3
    assert "It has been a while" in mailoutbox[2].body

    Enrollment.objects.filter(pk=enrollment.pk).update(completed_at=timezone.now())
    assert run(time_machine, local(CHICAGO, 2027, 4, 1, 10, 30)) == 0

    nudges = SentMessage.objects.filter(enrollment=enrollment).order_by("stage")
    assert [(n.stage, n.sent_at is not None) for n in nudges] == [
        (3, True),
        (10, True),
        (30, True),
    ]
    # The resumption two days after the 10-day nudge is noted for the report.
    assert nudges[1].resumed_at == local(CHICAGO, 2027, 1, 16, 20)
    assert nudges[0].resumed_at is None


def test_with_only_the_steps_after_the_lessons_left_the_nudge_says_which(
    time_machine, course, mailoutbox
):
    learner = UserFactory(time_zone="America/Chicago")
    time_machine.move_to(local(CHICAGO, 2027, 1, 4, 15), tick=False)
    finish_lessons(EnrollmentFactory(user=learner, course=course))

    assert run(time_machine, local(CHICAGO, 2027, 1, 7, 10, 5)) == 1

    (nudge,) = mailoutbox
    assert "Almost there" in nudge.subject
    assert (
        "Only the post-test, the evaluation and the attestation are left before your certificate"
        in nudge.body
    )
    assert "http://127.0.0.1:8000/courses/why-clients-ghost/post-test/" in nudge.body


def test_the_days_are_counted_in_each_learners_own_calendar(time_machine, course, mailoutbox):
    auckland = UserFactory(email="auckland@example.com", time_zone="Pacific/Auckland")
    los_angeles = UserFactory(email="la@example.com", time_zone="America/Los_Angeles")
    late = UserFactory(email="late@example.com", time_zone="America/Chicago")
    early = UserFactory(email="early@example.com", time_zone="America/Chicago")
    utc = ZoneInfo("UTC")
    # One moment: 22:30 on 4 January in Auckland, 01:30 the same day in Los Angeles.
    for user in (auckland, los_angeles):
        stall(time_machine, user=user, course=course, when=local(utc, 2027, 1, 4, 9, 30))
    # Ten minutes before and after midnight in Chicago.
    stall(time_machine, user=late, course=course, when=local(CHICAGO, 2027, 1, 4, 23, 50))
    stall(time_machine, user=early, course=course, when=local(CHICAGO, 2027, 1, 5, 0, 10))

    # 21:30 UTC on 6 January: 10:30 on the 7th in Auckland (day 3), 13:30 on the 6th in LA.
    run(time_machine, local(utc, 2027, 1, 6, 21, 30))
    assert [m.to for m in mailoutbox] == [["auckland@example.com"]]

    # 10:05 on the 7th in Chicago: day 3 for the one who stopped before midnight only.
    run(time_machine, local(CHICAGO, 2027, 1, 7, 10, 5))
    assert [m.to[0] for m in mailoutbox[1:]] == ["late@example.com"]

    # 10:30 on the 7th in LA (Auckland is on the 8th, and had its nudge).
    run(time_machine, local(ZoneInfo("America/Los_Angeles"), 2027, 1, 7, 10, 30))
    assert [m.to[0] for m in mailoutbox[2:]] == ["la@example.com"]

    run(time_machine, local(CHICAGO, 2027, 1, 8, 10, 5))
    assert [m.to[0] for m in mailoutbox[3:]] == ["early@example.com"]


@pytest.mark.parametrize("why", ["completed", "opted out", "archived", "bounced"])
def test_nobody_is_nudged_after_finishing_opting_out_archiving_or_bouncing(
    time_machine, course, mailoutbox, why
):
    learner = UserFactory(time_zone="America/Chicago")
    enrollment = stall(
        time_machine, user=learner, course=course, when=local(CHICAGO, 2027, 1, 4, 15)
    )
    if why == "completed":
        Enrollment.objects.filter(pk=enrollment.pk).update(completed_at=timezone.now())
    elif why == "opted out":
        learner.wants_nudges = False
        learner.save()
    elif why == "archived":
        course.status = CourseStatus.ARCHIVED
        course.archived_at = timezone.now()
        course.save()
    else:
        MailSuppression.objects.create(email=learner.email.upper(), reason="bounced")

    assert run(time_machine, local(CHICAGO, 2027, 1, 7, 10, 5)) == 0
    assert mailoutbox == []


def test_staff_set_the_days(time_machine, course, mailoutbox):
    ReengagementSettings.objects.create(pk=1, nudge_days="2, 5")
    learner = UserFactory(time_zone="America/Chicago")
    stall(time_machine, user=learner, course=course, when=local(CHICAGO, 2027, 1, 4, 15))

    assert run(time_machine, local(CHICAGO, 2027, 1, 6, 10, 5)) == 1
    assert run(time_machine, local(CHICAGO, 2027, 1, 9, 10, 5)) == 1
    assert run(time_machine, local(CHICAGO, 2027, 3, 9, 10, 5)) == 0
    assert sorted(SentMessage.objects.values_list("stage", flat=True)) == [2, 5]


def test_a_learner_idle_since_before_nudges_began_gets_only_the_longest_stage_reached():
    at = datetime(2027, 1, 1, tzinfo=ZoneInfo("UTC"))
    assert stage_due(stages=[3, 10, 30], idle_days=40, claimed={}, last_active=at) == 30
    assert stage_due(stages=[3, 10, 30], idle_days=2, claimed={}, last_active=at) is None
    # Back, then idle again three days: the 3-day stage was never sent, and may go now.
    assert stage_due(stages=[3, 10, 30], idle_days=3, claimed={30: at}, last_active=at) == 3


def learners_stalled(time_machine, course, count: int, start: int = 0) -> None:
    for n in range(start, start + count):
        user = UserFactory(email=f"learner{n}@example.com", time_zone="America/Chicago")
        stall(time_machine, user=user, course=course, when=local(CHICAGO, 2027, 1, 4, 15))


# The run's reads whatever the number of learners: the site's nudge settings, the stalled
# enrollments, the nudges they already had; and the nudges of the last week, for resumptions.
REPEAT_RUN_QUERIES = 4


@pytest.mark.parametrize("learners", [3, 9])
def test_a_beat_run_repeated_on_the_same_day_sends_nothing_in_a_fixed_number_of_queries(
    time_machine, course, mailoutbox, django_assert_num_queries, learners
):
    learners_stalled(time_machine, course, learners)
    assert run(time_machine, local(CHICAGO, 2027, 1, 7, 10, 5)) == learners

    time_machine.move_to(local(CHICAGO, 2027, 1, 7, 15), tick=False)
    with django_assert_num_queries(REPEAT_RUN_QUERIES):
        assert send_nudges() == 0
    assert len(mailoutbox) == learners


# Per message sent: the claim (savepoint, insert, release), and the row marked sent.
QUERIES_PER_NUDGE = 4
# Reads of the run: the settings, stalled enrollments, nudges they had, suppressed addresses,
# lessons, progress rows, the nudges of the last week.
FIRST_RUN_QUERIES = 7


@pytest.mark.parametrize("learners", [3, 9])
def test_a_first_run_reads_by_chunk_and_costs_only_the_claim_per_message(
    time_machine, course, django_assert_num_queries, learners
):
    learners_stalled(time_machine, course, learners)
    time_machine.move_to(local(CHICAGO, 2027, 1, 7, 10, 5), tick=False)
    with django_assert_num_queries(FIRST_RUN_QUERIES + QUERIES_PER_NUDGE * learners):
        assert send_nudges() == learners


class WorkerDied(BaseException):
    """The worker killed mid-batch (out of memory, a deploy): not an error the run can catch."""


def test_a_worker_that_dies_mid_batch_leaves_the_rest_to_the_next_run_and_sends_none_twice(
    time_machine, course, mailoutbox
):
    learners_stalled(time_machine, course, 5)
    time_machine.move_to(local(CHICAGO, 2027, 1, 7, 10, 5), tick=False)
    send = EmailMessage.send
    calls = []

    def dies_after_the_third(message, *args, **kwargs):
        calls.append(message.to[0])
        sent = send(message, *args, **kwargs)
        if len(calls) == 3:
            raise WorkerDied  # the third message went; the worker dies before noting it
        return sent

    with mock.patch.object(EmailMessage, "send", dies_after_the_third), pytest.raises(WorkerDied):
        send_nudges()
    assert len(mailoutbox) == 3

    assert send_nudges() == 2
    assert send_nudges() == 0
    recipients = [m.to[0] for m in mailoutbox]
    assert sorted(recipients) == [f"learner{n}@example.com" for n in range(5)]


def test_a_message_the_mail_server_refuses_is_sent_on_the_next_run(
    time_machine, course, mailoutbox
):
    learners_stalled(time_machine, course, 3)
    time_machine.move_to(local(CHICAGO, 2027, 1, 7, 10, 5), tick=False)
    send = EmailMessage.send

    def refuses_learner1(message, *args, **kwargs):
        if message.to == ["learner1@example.com"]:
            raise ConnectionRefusedError("the mail server is down")
        return send(message, *args, **kwargs)

    with mock.patch.object(EmailMessage, "send", refuses_learner1):
        assert send_nudges() == 2

    assert send_nudges() == 1
    assert sorted(m.to[0] for m in mailoutbox) == [f"learner{n}@example.com" for n in range(3)]


# --- What staff see ------------------------------------------------------------------------------


@pytest.fixture
def client(client, settings):
    # The admin sends staff without two-factor to set it up; these tests are about the pages.
    settings.CEU_REQUIRE_STAFF_MFA = False
    return client


def staff_with(*codenames: str):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="courses", codename__in=codenames)
    )
    return user


def report_rows(client, course) -> dict[str, list[str]]:
    page = client.get(reverse("admin:courses_course_report", args=[course.pk])).text
    section = page[page.index('id="report-reengagement"') :]
    section = section[: section.index("</table>")]
    rows = {}
    for stage, cells in re.findall(r'<tr data-stage="(\d+)">(.*?)</tr>', section, re.S):
        rows[stage] = [
            " ".join(re.sub(r"<[^>]+>", "", cell).split())
            for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", cells, re.S)
        ]
    return rows


def test_the_course_report_shows_who_came_back_after_each_stage(
    time_machine, client, course, mailoutbox
):
    ana, ben, cy = (
        UserFactory(email=f"{name}@example.com", time_zone="America/Chicago")
        for name in ("ana", "ben", "cy")
    )
    enrollments = {
        user.email: stall(
            time_machine, user=user, course=course, when=local(CHICAGO, 2027, 1, 4, 15)
        )
        for user in (ana, ben, cy)
    }
    assert run(time_machine, local(CHICAGO, 2027, 1, 7, 10, 5)) == 3  # the 3-day nudges
    links = {m.to[0]: m.extra_headers["List-Unsubscribe"][1:-1] for m in mailoutbox}

    # Ana is back two days later; Cy unsubscribes from the nudge.
    time_machine.move_to(local(CHICAGO, 2027, 1, 9, 19), tick=False)
    beat(enrollments["ana@example.com"], lesson=2, at=300)
    Client().post(links["cy@example.com"].removeprefix("http://127.0.0.1:8000"))

    assert run(time_machine, local(CHICAGO, 2027, 1, 14, 10, 5)) == 1  # Ben's 10-day nudge
    # Ben is back two days after it (nine after the first); Ana completes.
    time_machine.move_to(local(CHICAGO, 2027, 1, 16, 12), tick=False)
    beat(enrollments["ben@example.com"], lesson=1, at=30)
    time_machine.move_to(local(CHICAGO, 2027, 1, 20, 12), tick=False)
    Enrollment.objects.filter(pk=enrollments["ana@example.com"].pk).update(
        completed_at=timezone.now()
    )

    client.force_login(staff_with("view_enrollment", "view_reengagementsettings"))
    rows = report_rows(client, course)

    assert rows == {
        "3": ["After 3 days", "3", "1 (33.3%)", "1 (33.3%)", "1 (33.3%)"],
        "10": ["After 10 days", "1", "1 (100.0%)", "0 (0.0%)", "0 (0.0%)"],
    }


def test_the_report_says_when_no_nudge_went(client, course):
    client.force_login(staff_with("view_enrollment"))
    page = client.get(reverse("admin:courses_course_report", args=[course.pk])).text

    assert "Re-engagement" in page
    assert "No nudges sent for this course yet." in page


def test_staff_preview_each_message_text(client):
    client.force_login(staff_with("view_reengagementsettings"))

    page = client.get(reverse("admin:courses_message_preview", args=["nudge-3"]))

    assert page.status_code == 200
    assert 'Where you stopped: lesson 2, "Emotional safety and trust", at minute 12' in page.text
    assert "List-Unsubscribe-Post" in page.text
    for name in ("nudge-30", "nudge-steps", "renewal", "renewal-covered"):
        assert client.get(reverse("admin:courses_message_preview", args=[name])).status_code == 200

    client.force_login(staff_with("view_enrollment"))
    assert client.get(reverse("admin:courses_message_preview", args=["nudge-3"])).status_code == 403


def test_a_learner_who_never_opened_a_lesson_is_told_where_to_start(
    time_machine, course, mailoutbox
):
    time_machine.move_to(local(CHICAGO, 2027, 1, 4, 15), tick=False)
    EnrollmentFactory(user=UserFactory(time_zone="America/Chicago"), course=course)

    assert run(time_machine, local(CHICAGO, 2027, 1, 7, 10, 5)) == 1

    body = mailoutbox[0].body
    assert 'Where you stopped: you have not opened a lesson yet; the first is "Chapter 1".' in body
    assert "http://127.0.0.1:8000/courses/why-clients-ghost/lessons/1/" in body


def test_an_operator_sends_what_is_due_from_the_command_line(time_machine, course, mailoutbox):
    from io import StringIO

    from django.core.management import call_command

    learner = UserFactory(time_zone="America/Chicago")
    stall(time_machine, user=learner, course=course, when=local(CHICAGO, 2027, 1, 4, 15))
    time_machine.move_to(local(CHICAGO, 2027, 1, 7, 10, 5), tick=False)

    first, again = StringIO(), StringIO()
    call_command("send_reminders", stdout=first)
    call_command("send_reminders", stdout=again)

    assert "Nudges sent: 1" in first.getvalue()
    assert "Renewal reminders sent: 0" in first.getvalue()
    assert "Nudges sent: 0" in again.getvalue()
    assert [message.to for message in mailoutbox] == [[learner.email]]
