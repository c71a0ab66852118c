"""When a completion earns credit: no more than the daily online cap (it waits, and says until
when), never twice from one course's editions (unless a registrar allows a repeat, on the
record), still for learners of a course archived since they enrolled, and said per licence where
no approval serves it."""

import json
import zoneinfo
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import LicenceFactory, UserFactory
from courses.credentials_record import record_of
from courses.models import (
    Certificate,
    CertificateStatus,
    Course,
    CourseStatus,
    Enrollment,
    EvaluationResponse,
    LogEntry,
    QuizAttempt,
    RepeatAllowance,
)
from courses.services import assessment, credentials, learning, publishing
from courses.tests.factories import (
    AccreditorFactory,
    ApprovalFactory,
    CourseFactory,
    EnrollmentFactory,
    ObjectiveFactory,
    QuestionFactory,
    finish_lessons,
)

pytestmark = pytest.mark.django_db

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def course_with_hours(slug: str, hours: str) -> Course:
    """A published course of `hours` CE hours with the question bank its hours need."""
    course = CourseFactory(slug=slug, ce_hours=Decimal(hours), lessons=1)
    for position in range(1, assessment.required_questions(course) + 1):
        QuestionFactory(course=course, position=position)
    ObjectiveFactory(course=course, text="Describe a repair.")
    return course


def right_answers(attempt: QuizAttempt) -> dict[int, list[int]]:
    return {q["id"]: [c["id"] for c in q["choices"] if c["correct"]] for q in attempt.questions}


def do_every_step(enrollment: Enrollment) -> Enrollment:
    """The learner's own work, through the services: lessons and time, a passed post-test, the
    evaluation and the attestation. Whether it completes is for the rules to say."""
    finish_lessons(enrollment)
    attempt = assessment.start_attempt(enrollment=enrollment)
    assessment.submit_attempt(attempt=attempt, answers=right_answers(attempt))
    assessment.record_evaluation(
        enrollment=enrollment,
        objective_ratings=[5] * enrollment.course.objectives.count(),
        learned_rating=5,
        usefulness_rating=4,
        presenter_rating=5,
    )
    assessment.attest(enrollment=enrollment)
    enrollment.refresh_from_db()
    return enrollment


def url(name: str, slug: str, *args) -> str:
    return reverse(f"courses:{name}", args=[slug, *args])


def evaluation_form(course: Course) -> dict:
    data = {
        "learned_rating": "4",
        "usefulness_rating": "5",
        "presenter_rating": "4",
        "comments": "",
    }
    for number in range(1, course.objectives.count() + 1):
        data[f"objective_{number}"] = "5"
    return data


def finish_through_the_pages(client, enrollment: Enrollment) -> None:
    """Post-test, evaluation and attestation as the learner clicks them."""
    slug = enrollment.course.slug
    client.post(url("start_attempt", slug))
    attempt = QuizAttempt.objects.filter(enrollment=enrollment).latest("number")
    client.post(
        url("attempt", slug, attempt.pk),
        {f"q{qid}": ids for qid, ids in right_answers(attempt).items()},
    )
    client.post(url("evaluation", slug), evaluation_form(enrollment.course))
    client.post(url("attest", slug), {"confirm": "on"})


def page(client, address: str) -> str:
    response = client.get(address)
    assert response.status_code == 200
    return response.content.decode()


# --- The daily online cap -------------------------------------------------------------------------


def test_a_completion_past_eight_hours_a_day_waits_then_finishes_with_one_click(
    learner_client, learner, time_machine
):
    morning = datetime(2026, 3, 2, 9, 0, tzinfo=NEW_YORK)
    time_machine.move_to(morning, tick=False)
    first = do_every_step(EnrollmentFactory(user=learner, course=course_with_hours("a", "4")))
    time_machine.move_to(morning + timedelta(hours=4), tick=False)
    second = do_every_step(EnrollmentFactory(user=learner, course=course_with_hours("b", "4")))
    assert first.completed_at is not None
    assert second.completed_at is not None  # eight hours in a day: at the cap, not past it

    time_machine.move_to(morning + timedelta(hours=6), tick=False)
    third_course = course_with_hours("c", "1")
    third = finish_lessons(EnrollmentFactory(user=learner, course=third_course))
    finish_through_the_pages(learner_client, third)

    third.refresh_from_db()
    assert third.completed_at is None
    assert not Certificate.objects.filter(enrollment=third).exists()
    waiting = (
        "You have completed 8 CE hours in the last 24 hours; boards allow 8 a day online. "
        "You can finish this training from Mar 3, 2026, 9:00 AM EST."
    )
    assert waiting in page(learner_client, url("post_test", "c"))
    assert waiting in page(learner_client, url("course_detail", "c"))
    assert "Finish and get my certificate" not in page(learner_client, url("course_detail", "c"))
    # Nothing is lost meanwhile: the attempt, the evaluation and the attestation stand.
    assert QuizAttempt.objects.get(enrollment=third).passed
    assert EvaluationResponse.objects.filter(enrollment=third).exists()
    assert third.attested_at is not None

    # A minute early, the click is still told to wait.
    time_machine.move_to(morning + timedelta(hours=23, minutes=59), tick=False)
    learner_client.post(url("attest", "c"))
    third.refresh_from_db()
    assert third.completed_at is None

    time_machine.move_to(morning + timedelta(hours=24), tick=False)
    assert "Finish and get my certificate" in page(learner_client, url("post_test", "c"))
    response = learner_client.post(url("attest", "c"), follow=True)

    assert "Training complete: your certificate is issued." in response.content.decode()
    third.refresh_from_db()
    assert third.completed_at == morning + timedelta(hours=24)
    assert Certificate.objects.filter(enrollment=third).count() == 1
    assert QuizAttempt.objects.filter(enrollment=third).count() == 1
    # Again: the same certificate, nothing new.
    learner_client.post(url("attest", "c"))
    assert Certificate.objects.filter(enrollment=third).count() == 1


def test_the_cap_waits_only_until_enough_hours_leave_the_window(learner, time_machine):
    morning = datetime(2026, 3, 2, 9, 0, tzinfo=NEW_YORK)
    for hour, (slug, hours) in enumerate([("a", "2"), ("b", "3"), ("c", "3")]):
        time_machine.move_to(morning + timedelta(hours=hour), tick=False)
        do_every_step(EnrollmentFactory(user=learner, course=course_with_hours(slug, hours)))
    time_machine.move_to(morning + timedelta(hours=5), tick=False)

    # 8 hours done; 4 more fit once the 2 (9:00) and the 3 (10:00) have left the window.
    waiting = do_every_step(EnrollmentFactory(user=learner, course=course_with_hours("d", "4")))

    hold = assessment.completion_hold(enrollment=waiting)
    assert waiting.completed_at is None
    assert hold.available_at == morning + timedelta(hours=25)


def test_the_cap_follows_the_setting(learner, settings, time_machine):
    settings.CEU_MAX_ONLINE_HOURS_PER_DAY = 1
    time_machine.move_to(datetime(2026, 3, 2, 9, 0, tzinfo=NEW_YORK), tick=False)
    done = do_every_step(EnrollmentFactory(user=learner, course=course_with_hours("a", "1")))
    waiting = do_every_step(EnrollmentFactory(user=learner, course=course_with_hours("b", "0.5")))

    assert done.completed_at is not None
    assert waiting.completed_at is None
    assert "boards allow 1 a day online" in assessment.completion_hold(enrollment=waiting).message


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_two_trainings_finishing_at_once_cannot_both_pass_the_cap(learner):
    import threading

    from django.db import connection

    ready = []
    for slug in ("a", "b"):
        enrollment = finish_lessons(
            EnrollmentFactory(user=learner, course=course_with_hours(slug, "5"))
        )
        attempt = assessment.start_attempt(enrollment=enrollment)
        assessment.submit_attempt(attempt=attempt, answers=right_answers(attempt))
        assessment.record_evaluation(
            enrollment=enrollment,
            objective_ratings=[5],
            learned_rating=5,
            usefulness_rating=5,
            presenter_rating=5,
        )
        ready.append(enrollment)
    barrier = threading.Barrier(2)

    def attest(enrollment: Enrollment) -> None:
        try:
            barrier.wait()
            assessment.attest(enrollment=enrollment)
        finally:
            connection.close()

    threads = [threading.Thread(target=attest, args=[e]) for e in ready]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Five hours and five more are past eight: one completes, the other waits.
    assert Enrollment.objects.filter(user=learner, completed_at__isnull=False).count() == 1
    assert Certificate.objects.filter(enrollment__user=learner).count() == 1


def test_finishing_another_learners_training_answers_404(client, learner, time_machine):
    course_with_hours("c", "1")
    client.force_login(UserFactory())

    assert client.post(url("attest", "c")).status_code == 404
    assert client.post(url("attest", "no-such-course")).status_code == 404


# --- No double credit from one lineage ------------------------------------------------------------

DEMO = Path(django_settings.BASE_DIR, "fixtures", "demo_trainings.json")
DEMO_SLUG = "coaching-versus-therapy-for-growth-oriented-clients"


@pytest.fixture
def first_edition():
    call_command("loaddata", DEMO, verbosity=0)
    return Course.objects.get(slug=DEMO_SLUG)


@pytest.fixture
def author():
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name="Course authors"))
    return user


@pytest.fixture
def registrar():
    user = UserFactory(is_staff=True, full_name="Rita Registrar")
    user.groups.add(Group.objects.get(name="Registrars"))
    return user


def second_edition_of(course: Course, author) -> Course:
    edition = publishing.copy_as_new_edition(course=course, acting_user=author)
    publishing.publish_course(course=edition, acting_user=author)
    edition.refresh_from_db()
    assert edition.status == CourseStatus.PUBLISHED
    return edition


def test_a_new_edition_issues_no_second_certificate(
    learner_client, learner, licence, first_edition, author
):
    earned = do_every_step(EnrollmentFactory(user=learner, course=first_edition))
    certificate = Certificate.objects.get(enrollment=earned)
    edition = second_edition_of(first_edition, author)

    course_page = page(learner_client, url("course_detail", edition.slug))
    response = learner_client.post(url("enroll", edition.slug), follow=True)

    assert f"You earned credit for this training on {earned.completed_at:%b} " in course_page
    assert f"(certificate {certificate.code})" in course_page
    assert certificate.get_absolute_url() in course_page  # the certificate they hold
    assert url("enroll", edition.slug) not in course_page  # no Enroll button
    assert response.redirect_chain[-1][0] == url("course_detail", edition.slug)
    assert "we can allow a repeat" in response.content.decode()
    assert not Enrollment.objects.filter(course=edition).exists()
    with pytest.raises(learning.CreditAlreadyEarned):
        learning.enroll(user=learner, course=edition)
    assert Certificate.objects.filter(enrollment__user=learner).count() == 1


def test_an_edition_started_before_the_other_was_completed_earns_nothing_new(
    learner_client, learner, licence, first_edition, author
):
    edition = second_edition_of(first_edition, author)
    learner_client.post(url("enroll", edition.slug))
    later = Enrollment.objects.get(user=learner, course=edition)
    earned = do_every_step(EnrollmentFactory(user=learner, course=first_edition))

    finish_lessons(later)
    finish_through_the_pages(learner_client, later)

    later.refresh_from_db()
    assert later.completed_at is None
    assert later.attested_at is not None
    code = Certificate.objects.get(enrollment=earned).code
    assert f"(certificate {code})" in page(learner_client, url("post_test", edition.slug))
    assert f"(certificate {code})" in page(learner_client, url("course_detail", edition.slug))
    assert Certificate.objects.filter(enrollment__user=learner).count() == 1


def test_a_registrar_allows_a_repeat_with_a_reason_the_audit_trail_keeps(
    client, learner, licence, first_edition, author, registrar, settings
):
    settings.CEU_REQUIRE_STAFF_MFA = False
    do_every_step(EnrollmentFactory(user=learner, course=first_edition))
    edition = second_edition_of(first_edition, author)
    reason = "The Florida board asked her to repeat it after the 2026 revision (letter of May 2)."
    client.force_login(registrar)

    response = client.post(
        reverse("admin:courses_repeatallowance_add"),
        {"user": learner.pk, "course": edition.pk, "reason": reason},
    )

    assert response.status_code == 302
    allowance = RepeatAllowance.objects.get(user=learner, course=edition)
    assert (allowance.reason, allowance.granted_by) == (reason, registrar)
    entry = LogEntry.objects.get(action="enrollment.repeat_allowed")
    assert entry.actor == registrar
    assert entry.subject == allowance
    assert entry.data["reason"] == reason
    assert entry.data["learner"] == learner.email

    client.force_login(learner)
    client.post(url("enroll", edition.slug))
    repeat = do_every_step(Enrollment.objects.get(user=learner, course=edition))

    assert repeat.completed_at is not None
    assert Certificate.objects.filter(enrollment__user=learner).count() == 2


def test_a_revoked_certificate_does_not_stand_in_the_way(
    learner, licence, first_edition, author, registrar
):
    earned = do_every_step(EnrollmentFactory(user=learner, course=first_edition))
    credentials.revoke_certificate(
        certificate=Certificate.objects.get(enrollment=earned),
        reason="Completed by someone else.",
        acting_user=registrar,
    )
    edition = second_edition_of(first_edition, author)

    enrollment, created = learning.enroll(user=learner, course=edition)

    assert created
    assert do_every_step(enrollment).completed_at is not None
    assert Certificate.objects.filter(enrollment=enrollment, status=CertificateStatus.VALID)


def test_a_certificate_of_attendance_does_not_stand_in_the_way(learner, first_edition, author):
    """Attendance earned no credit: once the learner's licence is on record, a new edition
    can still give it."""
    attended = do_every_step(EnrollmentFactory(user=learner, course=first_edition))
    assert not record_of(Certificate.objects.get(enrollment=attended)).is_credit
    LicenceFactory(user=learner, number="LPC-00417")
    edition = second_edition_of(first_edition, author)

    enrollment, created = learning.enroll(user=learner, course=edition)

    assert created
    assert do_every_step(enrollment).completed_at is not None
    assert record_of(Certificate.objects.get(enrollment=enrollment)).is_credit


def test_a_repeat_needs_a_written_reason(learner, first_edition, registrar):
    with pytest.raises(learning.LearningError, match="reason"):
        learning.allow_repeat(
            user=learner, course=first_edition, reason="   ", acting_user=registrar
        )

    assert not RepeatAllowance.objects.exists()
    assert not LogEntry.objects.filter(action="enrollment.repeat_allowed").exists()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"reason": "  "}, "This field is required."),
        ({"user": "999999"}, "Select a valid choice."),
        ({"user": "not a number"}, "Select a valid choice."),
        ({"course": "999999"}, "Select a valid choice."),
    ],
)
def test_the_repeat_form_answers_bad_input_on_the_form(
    client, learner, first_edition, registrar, settings, data, error
):
    settings.CEU_REQUIRE_STAFF_MFA = False
    client.force_login(registrar)
    form = {"user": learner.pk, "course": first_edition.pk, "reason": "A board asked.", **data}

    response = client.post(reverse("admin:courses_repeatallowance_add"), form)

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not RepeatAllowance.objects.exists()


def test_an_allowed_repeat_is_read_only_and_allowed_once(
    client, learner, first_edition, registrar, settings
):
    settings.CEU_REQUIRE_STAFF_MFA = False
    allowance = learning.allow_repeat(
        user=learner, course=first_edition, reason="A board asked.", acting_user=registrar
    )
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    change = reverse("admin:courses_repeatallowance_change", args=[allowance.pk])

    shown = client.get(change)
    changed = client.post(change, {"user": learner.pk, "course": first_edition.pk, "reason": "x"})
    again = client.post(
        reverse("admin:courses_repeatallowance_add"),
        {"user": learner.pk, "course": first_edition.pk, "reason": "Once more."},
    )
    deleted = client.post(reverse("admin:courses_repeatallowance_delete", args=[allowance.pk]))

    assert shown.status_code == 200
    assert "A board asked." in shown.content.decode()
    assert changed.status_code == 403
    assert again.status_code == 200
    assert (
        f"This learner may already repeat this course: Rita Registrar allowed it on "
        f"{allowance.granted_at:%B %-d, %Y}." in again.content.decode()
    )
    assert "is violated" not in again.content.decode()
    assert deleted.status_code == 403
    allowance.refresh_from_db()
    assert allowance.reason == "A board asked."
    assert RepeatAllowance.objects.count() == 1


def test_registrars_find_the_learner_by_name_authors_cannot_allow_repeats(
    client, learner, first_edition, registrar, author, settings
):
    settings.CEU_REQUIRE_STAFF_MFA = False
    client.force_login(registrar)
    found = client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "courses",
            "model_name": "repeatallowance",
            "field_name": "user",
            "term": "Dana",
        },
    )
    assert [row["id"] for row in found.json()["results"]] == [str(learner.pk)]
    assert client.get(reverse("admin:courses_repeatallowance_add")).status_code == 200

    client.force_login(author)
    assert client.get(reverse("admin:courses_repeatallowance_add")).status_code == 403


# --- Archived courses -----------------------------------------------------------------------------


@pytest.fixture
def archived(learner):
    """A course its learner enrolled in, archived since."""
    course = course_with_hours("ghosting", "0.5")
    course.objectives.all().delete()
    for text in ["Identify a rupture.", "Describe a repair.", "Apply a check-in."]:
        ObjectiveFactory(course=course, text=text)
    enrollment = EnrollmentFactory(user=learner, course=course)
    publishing.archive_course(course=course)
    course.refresh_from_db()
    return enrollment


def beat(client, slug: str, lesson: int):
    return client.post(
        url("heartbeat", slug, lesson),
        json.dumps({"position": 1, "playing": True}),
        content_type="application/json",
    )


def test_an_archived_course_can_still_be_finished_by_its_learners(learner_client, archived):
    course = archived.course
    until = course.archived_at + timedelta(days=django_settings.CEU_ARCHIVE_GRACE_DAYS)
    date = timezone.localtime(until).strftime("%b %-d, %Y")

    course_page = page(learner_client, url("course_detail", "ghosting"))
    assert f"with its post-test, evaluation and certificate, until {date}." in course_page
    assert "Staff preview." not in course_page
    assert page(learner_client, url("lesson", "ghosting", 1))
    assert beat(learner_client, "ghosting", 1).status_code == 200
    finish_lessons(archived)
    assert f"until {date}" in page(learner_client, url("post_test", "ghosting"))
    assert f"until {date}" in page(learner_client, reverse("courses:my_trainings"))
    finish_through_the_pages(learner_client, archived)

    archived.refresh_from_db()
    assert archived.completed_at is not None
    certificate = Certificate.objects.get(enrollment=archived)
    assert certificate.code in page(learner_client, url("course_detail", "ghosting"))
    # A second click on Enroll is the same enrollment, not a 404.
    assert learner_client.post(url("enroll", "ghosting")).status_code == 302


def test_an_archived_course_takes_no_new_learners(client, archived):
    client.force_login(UserFactory())

    assert client.get(url("course_detail", "ghosting")).status_code == 404
    assert client.get(url("lesson", "ghosting", 1)).status_code == 404
    assert client.post(url("enroll", "ghosting")).status_code == 404
    assert client.get(url("post_test", "ghosting")).status_code == 404
    assert beat(client, "ghosting", 1).status_code == 404
    assert Enrollment.objects.filter(course=archived.course).count() == 1


def test_after_the_grace_period_an_archived_course_is_closed(
    learner_client, learner, archived, time_machine
):
    until = archived.course.archived_at + timedelta(days=django_settings.CEU_ARCHIVE_GRACE_DAYS)
    time_machine.move_to(until + timedelta(minutes=1), tick=False)
    learner_client.force_login(learner)  # a year on, the session has expired

    for address in [
        url("course_detail", "ghosting"),
        url("lesson", "ghosting", 1),
        url("post_test", "ghosting"),
        url("evaluation", "ghosting"),
    ]:
        assert learner_client.get(address).status_code == 404, address
    assert learner_client.post(url("attest", "ghosting"), {"confirm": "on"}).status_code == 404
    assert learner_client.post(url("start_attempt", "ghosting")).status_code == 404
    assert beat(learner_client, "ghosting", 1).status_code == 404
    mine = page(learner_client, reverse("courses:my_trainings"))
    assert "This training is archived and closed on" in mine
    assert url("lesson", "ghosting", 1) not in mine


def test_the_grace_period_follows_the_setting(learner_client, archived, settings):
    settings.CEU_ARCHIVE_GRACE_DAYS = 0

    assert learner_client.get(url("course_detail", "ghosting")).status_code == 404


# --- Approvals that serve the learner's licences -------------------------------------------------


@pytest.fixture
def for_psychologists():
    course = course_with_hours("ghosting", "0.5")
    ApprovalFactory(
        course=course,
        accreditor=AccreditorFactory(short_name="APA", professions=["psychologist"]),
    )
    return course


def test_where_no_approval_serves_a_licence_the_course_and_post_test_say_so(
    learner_client, learner, for_psychologists
):
    LicenceFactory(
        user=learner,
        profession="marriage_family_therapist",
        jurisdiction="CA",
        number="LMFT-118",
    )
    no_credit = (
        "No CE credit for your California marriage and family therapist licence (LMFT-118): "
        "the approvals of this training do not cover it."
    )
    attendance = "its certificate will be a certificate of attendance without CE hours"

    before_enrolling = page(learner_client, url("course_detail", "ghosting"))
    learner_client.post(url("enroll", "ghosting"))
    finish_lessons(Enrollment.objects.get(user=learner))
    before_the_test = page(learner_client, url("post_test", "ghosting"))

    for shown in (before_enrolling, before_the_test):
        assert no_credit in shown
        assert attendance in shown  # learning still counts


def test_a_licence_an_approval_serves_gets_no_warning(learner_client, learner, for_psychologists):
    LicenceFactory(user=learner, profession="psychologist", jurisdiction="CA", number="PSY-7")
    LicenceFactory(user=learner, profession="addiction_counselor", jurisdiction="TX", number="A-9")
    EnrollmentFactory(user=learner, course=for_psychologists)

    for address in (url("course_detail", "ghosting"), url("post_test", "ghosting")):
        shown = page(learner_client, address)
        assert "No CE credit for your California psychologist licence" not in shown
        assert "No CE credit for your Texas addiction counselor licence (A-9)" in shown
        assert "certificate of attendance" not in shown  # one licence is served


def test_a_learner_without_a_licence_is_told_to_add_one(learner_client, learner, for_psychologists):
    EnrollmentFactory(user=learner, course=for_psychologists)
    told = (
        "Add your licence</a>, or your certificate will be a certificate of attendance "
        "without CE hours."
    )

    for address in (url("course_detail", "ghosting"), url("post_test", "ghosting")):
        shown = page(learner_client, address)
        assert "You have no licence on record." in shown
        assert told in shown
        assert reverse("accounts:licence_add") in shown


def test_the_post_test_page_keeps_its_query_count_with_licences(
    learner_client, learner, for_psychologists, django_assert_num_queries
):
    enrollment = finish_lessons(EnrollmentFactory(user=learner, course=for_psychologists))
    for _index in range(5):
        LicenceFactory(user=learner)
        ApprovalFactory(course=for_psychologists)
    assessment.start_attempt(enrollment=enrollment)

    # session, user, enrollment (evaluated?), lessons, progress, attempts, bank size, licences,
    # their board rules, current approvals, their professions, provider.
    with django_assert_num_queries(12):
        assert learner_client.get(url("post_test", "ghosting")).status_code == 200


def test_the_course_page_keeps_its_query_count_before_enrolling(
    learner_client, learner, for_psychologists, django_assert_num_queries
):
    for _index in range(5):
        LicenceFactory(user=learner)
        ApprovalFactory(course=for_psychologists)

    # session, user, course, approvals, professions, topics, objectives, references, lessons,
    # enrollment?, licences, their board rules, certificates in the lineage, provider, policies,
    # the course's subjects and what each approval covers.
    with django_assert_num_queries(17):
        assert learner_client.get(url("course_detail", "ghosting")).status_code == 200
