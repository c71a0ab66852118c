"""Scheduled upkeep: each sweep does what was left undone, and a second run does nothing again."""

from datetime import timedelta
from smtplib import SMTPServerDisconnected
from unittest import mock

import pytest
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from accounts.tests.factories import LicenceFactory, UserFactory
from courses import tasks
from courses.models import ApprovalLapseWarning, Certificate, CourseStatus
from courses.schedules import SCHEDULES, sync_schedules
from courses.services import credentials, upkeep
from courses.tests.factories import (
    AccreditorFactory,
    ApprovalFactory,
    CourseFactory,
    EnrollmentFactory,
)

pytestmark = pytest.mark.django_db


def completed_enrollment(learner, slug="ghosting"):
    LicenceFactory(user=learner, profession="psychologist", jurisdiction="CA", number="PSY 1")
    course = CourseFactory(slug=slug, title="Ruptures and ghosting")
    ApprovalFactory(course=course, accreditor=AccreditorFactory(short_name=f"APA-{slug}"))
    return EnrollmentFactory(user=learner, course=course, completed_at=timezone.now())


@pytest.fixture
def unrendered(learner, django_capture_on_commit_callbacks):
    """A certificate whose render task was lost (its worker was killed, or the broker down)."""
    with django_capture_on_commit_callbacks(execute=False):
        certificate = credentials.issue_certificate(enrollment=completed_enrollment(learner))
    return certificate


def kinds(certificate):
    return list(certificate.events.values_list("kind", flat=True))


def test_a_certificate_left_without_its_pdf_is_rendered_and_emailed_once(
    unrendered, mailoutbox, settings
):
    assert tasks.render_missing_pdfs.delay(older_than=0).get() == 1
    assert tasks.render_missing_pdfs.delay(older_than=0).get() == 0

    certificate = Certificate.objects.get(pk=unrendered.pk)
    assert certificate.pdf.read().startswith(b"%PDF-")
    assert kinds(certificate) == ["issued", "rendered", "emailed"]
    assert [m.attachments[0][0] for m in mailoutbox] == [f"{certificate.code}.pdf"]
    stored = [path.name for path in (settings.MEDIA_ROOT / "certificates").iterdir()]
    assert stored == [f"{certificate.code}.pdf"]


def test_the_sweep_leaves_a_certificate_just_issued_to_its_own_render(unrendered, mailoutbox):
    assert upkeep.render_missing_pdfs() == 0  # the default grace: its task may still be queued

    assert not Certificate.objects.get(pk=unrendered.pk).is_rendered


def test_a_revoked_certificate_is_not_rendered_by_the_sweep(
    unrendered, mailoutbox, django_user_model
):
    registrar = django_user_model.objects.create_user("r@example.com", "x", full_name="R")
    credentials.revoke_certificate(certificate=unrendered, reason="Fraud", acting_user=registrar)

    assert upkeep.render_missing_pdfs(older_than=0) == 0
    assert not Certificate.objects.get(pk=unrendered.pk).is_rendered


def test_a_file_left_by_a_render_that_died_before_its_commit_is_replaced(unrendered, settings):
    folder = settings.MEDIA_ROOT / "certificates"
    folder.mkdir(parents=True)
    (folder / f"{unrendered.code}.pdf").write_bytes(b"half a PDF")

    upkeep.render_missing_pdfs(older_than=0)

    certificate = Certificate.objects.get(pk=unrendered.pk)
    assert certificate.pdf.name == f"certificates/{certificate.code}.pdf"
    assert [path.name for path in folder.iterdir()] == [f"{certificate.code}.pdf"]
    assert certificate.pdf.read().startswith(b"%PDF-")


def test_an_email_the_mail_server_refused_is_sent_by_the_sweep_once(unrendered, mailoutbox):
    with mock.patch(
        "django.core.mail.backends.locmem.EmailBackend.send_messages",
        side_effect=SMTPServerDisconnected("down"),
    ):
        upkeep.render_missing_pdfs(older_than=0)
    certificate = Certificate.objects.get(pk=unrendered.pk)
    assert certificate.is_rendered
    assert certificate.emailed_at is None
    assert mailoutbox == []

    assert tasks.retry_unsent_emails.delay(older_than=0).get() == 1
    assert tasks.retry_unsent_emails.delay(older_than=0).get() == 0

    assert len(mailoutbox) == 1
    assert kinds(certificate) == ["issued", "rendered", "emailed"]


def test_a_change_notice_the_mail_server_refused_is_sent_once_with_its_reason(
    learner, mailoutbox, django_user_model, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        certificate = credentials.issue_certificate(enrollment=completed_enrollment(learner))
    registrar = django_user_model.objects.create_user("r@example.com", "x", full_name="R")
    with (
        mock.patch(
            "django.core.mail.backends.locmem.EmailBackend.send_messages",
            side_effect=SMTPServerDisconnected("down"),
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        credentials.reissue_certificate(
            certificate=certificate, acting_user=registrar, reason="Name corrected."
        )
    mailoutbox.clear()

    upkeep.retry_unsent_emails(older_than=0)
    upkeep.retry_unsent_emails(older_than=0)

    subjects = sorted(message.subject for message in mailoutbox)
    assert len(subjects) == 2, subjects  # the notice, and the replacement's PDF
    notice = next(m for m in mailoutbox if not m.attachments)
    assert "Name corrected." in notice.body
    assert "Superseded by" not in notice.body


def test_an_old_unsent_email_is_left_for_a_person(unrendered, mailoutbox):
    upkeep.render_missing_pdfs(older_than=0)
    mailoutbox.clear()
    Certificate.objects.filter(pk=unrendered.pk).update(
        emailed_at=None, rendered_at=timezone.now() - timedelta(days=8)
    )

    assert upkeep.retry_unsent_emails(older_than=0) == 0
    assert mailoutbox == []


@pytest.fixture
def registrars():
    group = Group.objects.get(name="Registrars")
    people = [UserFactory(email="reg1@example.com"), UserFactory(email="reg2@example.com")]
    for person in people:
        person.groups.add(group)
    UserFactory(email="learner@example.com")  # not a registrar: not told
    return people


def test_registrars_are_warned_60_and_14_days_ahead_once_each(registrars, mailoutbox):
    today = timezone.localdate()
    approval = ApprovalFactory(
        accreditor=AccreditorFactory(short_name="NBCC"),
        course=CourseFactory(title="Ruptures and ghosting"),
        valid_until=today + timedelta(days=59),
    )

    assert upkeep.warn_of_lapsing_approvals(today=today) == 1
    assert upkeep.warn_of_lapsing_approvals(today=today) == 0
    assert upkeep.warn_of_lapsing_approvals(today=today + timedelta(days=30)) == 0
    assert upkeep.warn_of_lapsing_approvals(today=today + timedelta(days=45)) == 1  # 14 left
    assert upkeep.warn_of_lapsing_approvals(today=today + timedelta(days=50)) == 0

    assert len(mailoutbox) == 2
    first, second = mailoutbox
    assert sorted(first.to) == ["reg1@example.com", "reg2@example.com"]
    assert "NBCC approval of “Ruptures and ghosting”" in first.body
    assert "in 59 days" in first.body
    assert "in 14 days" in second.body
    warned = ApprovalLapseWarning.objects.filter(course_approval=approval)
    assert sorted(warned.values_list("days", flat=True)) == [14, 60]


def test_a_renewed_approval_is_warned_of_again_before_its_new_date(registrars, mailoutbox):
    today = timezone.localdate()
    approval = ApprovalFactory(valid_until=today + timedelta(days=10))
    upkeep.warn_of_lapsing_approvals(today=today)
    approval.valid_until = today + timedelta(days=40)
    approval.save()

    assert upkeep.warn_of_lapsing_approvals(today=today) == 1
    assert len(mailoutbox) == 2


def test_an_accreditors_provider_approval_is_warned_of(registrars, mailoutbox):
    today = timezone.localdate()
    AccreditorFactory(short_name="ASWB", approved_until=today + timedelta(days=14))
    AccreditorFactory(short_name="APA", approved_until=today + timedelta(days=200))

    assert tasks.warn_of_lapsing_approvals.delay().get() == 1
    assert tasks.warn_of_lapsing_approvals.delay().get() == 0

    (message,) = mailoutbox
    assert "ASWB provider approval" in message.body
    assert "APA" not in message.body.replace("ASWB", "")


def test_lapsed_far_off_and_archived_approvals_are_not_warned_of(registrars, mailoutbox):
    today = timezone.localdate()
    ApprovalFactory(valid_from=today - timedelta(days=90), valid_until=today - timedelta(days=1))
    ApprovalFactory(valid_until=today + timedelta(days=61))
    ApprovalFactory(
        course=CourseFactory(status=CourseStatus.ARCHIVED), valid_until=today + timedelta(days=5)
    )

    assert upkeep.warn_of_lapsing_approvals(today=today) == 0
    assert mailoutbox == []


def test_a_refused_warning_is_not_recorded_and_goes_out_next_time(registrars, mailoutbox):
    today = timezone.localdate()
    ApprovalFactory(valid_until=today + timedelta(days=20))
    with (
        mock.patch(
            "django.core.mail.backends.locmem.EmailBackend.send_messages",
            side_effect=SMTPServerDisconnected("down"),
        ),
        pytest.raises(SMTPServerDisconnected),
    ):
        upkeep.warn_of_lapsing_approvals(today=today)
    assert not ApprovalLapseWarning.objects.exists()

    assert upkeep.warn_of_lapsing_approvals(today=today) == 1
    assert len(mailoutbox) == 1


def test_with_no_registrar_nothing_is_recorded(mailoutbox):
    ApprovalFactory(valid_until=timezone.localdate() + timedelta(days=20))

    assert upkeep.warn_of_lapsing_approvals() == 0
    assert not ApprovalLapseWarning.objects.exists()


def test_expired_sessions_are_cleared_and_live_ones_kept():
    now = timezone.now()
    Session.objects.create(session_key="old", session_data="", expire_date=now - timedelta(1))
    Session.objects.create(session_key="live", session_data="", expire_date=now + timedelta(1))

    tasks.clear_expired_sessions.delay()
    tasks.clear_expired_sessions.delay()

    assert list(Session.objects.values_list("session_key", flat=True)) == ["live"]


def test_the_schedules_exist_once_and_a_paused_one_stays_paused():
    assert sync_schedules() == []  # created after migrate
    paused = PeriodicTask.objects.get(name="Render certificates missing their PDF")
    paused.enabled = False
    paused.save()

    call_command("sync_schedules", stdout=mock.Mock())

    names = set(PeriodicTask.objects.values_list("name", flat=True))
    assert set(SCHEDULES) <= names
    assert PeriodicTask.objects.filter(name__in=SCHEDULES).count() == len(SCHEDULES)
    assert not PeriodicTask.objects.get(pk=paused.pk).enabled
    every = {t.name: t.interval.every for t in PeriodicTask.objects.filter(name__in=SCHEDULES)}
    assert every["Render certificates missing their PDF"] == 120
    assert every["Clear expired sessions"] == 86400
