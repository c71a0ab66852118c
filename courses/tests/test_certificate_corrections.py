"""Correcting a certificate in plain sight: a mistaken revocation is reinstated or the certificate
reissued, each with a reason kept in its history and the audit trail; the learner is told by
e-mail (after commit, once); a revoked certificate is never e-mailed or downloaded as valid; and
an admin action that changed nothing never reports success."""

import pytest
from django.contrib import messages
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import LicenceFactory, UserFactory
from courses.models import Certificate, CertificateEvent, CertificateStatus, LogEntry
from courses.services import credentials
from courses.tests.factories import (
    AccreditorFactory,
    ApprovalFactory,
    CourseFactory,
    EnrollmentFactory,
)

pytestmark = pytest.mark.django_db

REVOKED_WHY = "Attendance could not be confirmed."
REINSTATED_WHY = "Revoked by mistake: the attendance log was found."

CHANGELIST = "admin:courses_certificate_changelist"


@pytest.fixture(autouse=True)
def _no_second_factor(settings):
    # The two-factor gate has its own tests (ceu/tests/test_admin_access.py).
    settings.CEU_REQUIRE_STAFF_MFA = False


@pytest.fixture
def certificate(learner):
    """A valid certificate with a stored PDF, as the render task leaves it."""
    LicenceFactory(user=learner, profession="psychologist", jurisdiction="CA", number="PSY 12345")
    course = CourseFactory(slug="ghosting", title="Ruptures and ghosting")
    ApprovalFactory(course=course, accreditor=AccreditorFactory(short_name="APA"))
    enrollment = EnrollmentFactory(user=learner, course=course, completed_at=timezone.now())
    issued = credentials.issue_certificate(enrollment=enrollment)
    issued.pdf.save(f"{issued.code}.pdf", SimpleUploadedFile("c.pdf", b"%PDF-1.7 original"))
    Certificate.objects.filter(pk=issued.pk).update(
        pdf_sha256="a" * 64, rendered_at=timezone.now(), emailed_at=timezone.now()
    )
    issued.refresh_from_db()
    return issued


@pytest.fixture
def registrar(db):
    user = UserFactory(is_staff=True, full_name="Registrar Ruiz")
    user.groups.add(Group.objects.get(name="Registrars"))
    return user


@pytest.fixture
def registrar_client(client, registrar):
    client.force_login(registrar)
    return client


def verify(client, code) -> str:
    return client.get(reverse("courses:verify_code", args=[code])).content.decode()


def revoke(certificate, registrar, reason=REVOKED_WHY):
    return credentials.revoke_certificate(
        certificate=certificate, reason=reason, acting_user=registrar
    )


def admin_action(client, action: str, certificates, **data):
    return client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [c.pk for c in certificates], **data},
        follow=True,
    )


def said(response) -> list[tuple[int, str]]:
    return [(message.level, message.message) for message in response.context["messages"]]


# --- Reinstating --------------------------------------------------------------------------------


def test_a_mistaken_revocation_is_reinstated_with_its_reason_on_record(
    client, certificate, registrar
):
    revoke(certificate, registrar)

    reinstated = credentials.reinstate_certificate(
        certificate=certificate, reason=REINSTATED_WHY, acting_user=registrar
    )

    assert reinstated.status == CertificateStatus.VALID
    assert reinstated.revoked_at is None
    assert reinstated.code == certificate.code
    page = verify(client, certificate.code)
    assert "Valid." in page
    assert REVOKED_WHY not in page
    history = list(certificate.events.values_list("kind", "actor", "detail"))
    assert history[-2:] == [
        ("revoked", registrar.pk, REVOKED_WHY),
        ("reinstated", registrar.pk, REINSTATED_WHY),
    ]
    entry = LogEntry.objects.get(action="certificate.reinstated")
    assert entry.actor == registrar
    assert entry.object_id == str(certificate.pk)
    assert entry.data["reason"] == REINSTATED_WHY
    assert entry.data["revoked_reason"] == REVOKED_WHY  # what was withdrawn, kept


def test_reinstating_needs_a_reason_and_a_revoked_certificate_that_stands(certificate, registrar):
    with pytest.raises(credentials.CertificateError, match="Only a revoked certificate"):
        credentials.reinstate_certificate(
            certificate=certificate, reason=REINSTATED_WHY, acting_user=registrar
        )
    revoke(certificate, registrar)
    with pytest.raises(credentials.CertificateError, match="reason"):
        credentials.reinstate_certificate(
            certificate=certificate, reason="   ", acting_user=registrar
        )
    credentials.reissue_certificate(certificate=certificate, acting_user=registrar, reason="New")
    # Replaced: the reissued certificate is the one that stands, not this one.
    with pytest.raises(credentials.CertificateError, match="replaced"):
        credentials.reinstate_certificate(
            certificate=certificate, reason=REINSTATED_WHY, acting_user=registrar
        )
    certificate.refresh_from_db()
    assert certificate.status == CertificateStatus.REVOKED
    assert not LogEntry.objects.filter(action="certificate.reinstated").exists()


# --- Reissuing a revoked certificate -----------------------------------------------------------


def test_a_revoked_certificate_is_reissued_and_both_pages_tell_the_truth(
    client, certificate, registrar, learner
):
    revoke(certificate, registrar)
    learner.full_name = "Dana Whitfield-Ortiz"
    learner.save()

    new = credentials.reissue_certificate(
        certificate=certificate, acting_user=registrar, reason="Name corrected."
    )

    certificate.refresh_from_db()
    assert new.status == CertificateStatus.VALID
    assert new.snapshot["learner_name"] == "Dana Whitfield-Ortiz"
    # The old one stays revoked, with when and why, and points to its replacement.
    assert certificate.status == CertificateStatus.REVOKED
    assert certificate.superseded_by == new
    old_page = verify(client, certificate.code)
    assert "Revoked." in old_page
    assert f"Reason: {REVOKED_WHY}" in old_page
    assert "It was later replaced by" in old_page
    assert new.code in old_page
    assert "Valid." in verify(client, new.code)
    api = client.get(reverse("courses:api_certificate", args=[certificate.code])).json()
    assert api["status"] == "revoked"
    assert api["certificate"]["superseded_by"] == new.code
    entry = LogEntry.objects.get(action="certificate.reissued")
    assert entry.actor == registrar
    assert entry.data == {
        "code": certificate.code,
        "replacement": new.code,
        "reason": "Name corrected.",
        "was": "revoked",
    }
    assert LogEntry.objects.filter(action="certificate.revoked", actor=registrar).count() == 1


def test_a_replaced_certificate_is_not_reissued_again(certificate, registrar):
    new = credentials.reissue_certificate(certificate=certificate, acting_user=registrar)

    with pytest.raises(credentials.CertificateError, match=new.code):
        credentials.reissue_certificate(certificate=certificate, acting_user=registrar)
    assert Certificate.objects.count() == 2


# --- The learner is told ------------------------------------------------------------------------


def test_revoking_emails_the_learner_the_reason_after_commit(
    certificate, registrar, learner, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        revoke(certificate, registrar)
    assert mailoutbox == []  # nothing leaves before the change is committed
    for callback in callbacks:
        callback()

    (message,) = mailoutbox
    assert message.to == [learner.email]
    assert message.subject == "Your certificate was revoked: Ruptures and ghosting"
    assert f"Reason: {REVOKED_WHY}" in message.body
    assert certificate.code in message.body
    assert f"/verify/{certificate.code}/" in message.body
    assert message.attachments == []  # no PDF goes with a revocation
    notified = certificate.events.get(kind=CertificateEvent.Kind.NOTIFIED)
    assert learner.email in notified.detail


def test_reinstating_and_reissuing_email_the_learner(
    certificate, registrar, learner, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        revoke(certificate, registrar)
    with django_capture_on_commit_callbacks(execute=True):
        credentials.reinstate_certificate(
            certificate=certificate, reason=REINSTATED_WHY, acting_user=registrar
        )
    with django_capture_on_commit_callbacks(execute=True):
        new = credentials.reissue_certificate(
            certificate=certificate, acting_user=registrar, reason="Licence number corrected."
        )

    by_subject = {message.subject: message for message in mailoutbox}
    assert len(by_subject) == len(mailoutbox) == 4
    assert set(by_subject) == {
        "Your certificate was revoked: Ruptures and ghosting",
        "Your certificate is valid again: Ruptures and ghosting",
        "Your certificate was reissued: Ruptures and ghosting",
        # The new certificate itself, rendered and e-mailed as any certificate is.
        "Your certificate: Ruptures and ghosting",
    }
    reinstated = by_subject["Your certificate is valid again: Ruptures and ghosting"]
    assert f"Reason: {REINSTATED_WHY}" in reinstated.body
    assert "/transcript/" in reinstated.body
    reissued = by_subject["Your certificate was reissued: Ruptures and ghosting"]
    assert "Reason: Licence number corrected." in reissued.body
    assert f"The new certificate's code is {new.code}" in reissued.body
    assert f"/verify/{new.code}/" in reissued.body
    pdf = by_subject["Your certificate: Ruptures and ghosting"]
    assert pdf.attachments[0][0] == f"{new.code}.pdf"
    assert certificate.events.filter(kind=CertificateEvent.Kind.NOTIFIED).count() == 3


def test_a_notice_goes_out_once_however_often_the_task_runs(
    certificate, registrar, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        revoke(certificate, registrar)
    event = certificate.events.get(kind=CertificateEvent.Kind.REVOKED)

    assert credentials.notify_learner(event_id=event.pk, reason=REVOKED_WHY) is False

    assert len(mailoutbox) == 1
    assert certificate.events.filter(kind=CertificateEvent.Kind.NOTIFIED).count() == 1


# --- A revoked certificate is not a credential -------------------------------------------------


def test_a_revoked_certificate_is_never_emailed_again(certificate, registrar, mailoutbox):
    revoke(certificate, registrar)
    mailoutbox.clear()

    assert credentials.email_certificate(certificate_id=certificate.pk, force=True) is False
    with pytest.raises(credentials.CertificateError, match="revoked"):
        credentials.resend_certificate(certificate=certificate, acting_user=registrar)

    assert mailoutbox == []
    assert not certificate.events.filter(kind=CertificateEvent.Kind.EMAILED).exists()


def test_e_mail_again_refuses_a_revoked_certificate_and_says_so(
    registrar_client, certificate, registrar, mailoutbox
):
    revoke(certificate, registrar)
    mailoutbox.clear()

    response = admin_action(registrar_client, "resend_selected", [certificate])

    assert mailoutbox == []
    assert said(response) == [
        (
            messages.WARNING,
            f"{certificate.code}: It is revoked: a revoked certificate is never sent as valid.",
        ),
        (messages.WARNING, "No certificate was e-mailed."),
    ]


def test_e_mail_again_sends_a_valid_certificate_and_records_it(
    registrar_client, certificate, registrar, learner, mailoutbox
):
    response = admin_action(registrar_client, "resend_selected", [certificate])

    assert said(response) == [(messages.SUCCESS, "E-mailed 1 certificate(s).")]
    (message,) = mailoutbox
    assert message.to == [learner.email]
    assert message.attachments == [
        (f"{certificate.code}.pdf", b"%PDF-1.7 original", "application/pdf")
    ]
    assert LogEntry.objects.get(action="certificate.resent").actor == registrar


def test_a_superseded_certificate_is_not_emailed(certificate, registrar, mailoutbox):
    credentials.reissue_certificate(certificate=certificate, acting_user=registrar)
    mailoutbox.clear()

    assert credentials.email_certificate(certificate_id=certificate.pk, force=True) is False
    with pytest.raises(credentials.CertificateError, match="replaced"):
        credentials.resend_certificate(certificate=certificate, acting_user=registrar)
    assert mailoutbox == []


def test_the_learner_cannot_download_a_revoked_pdf(learner_client, client, certificate, registrar):
    revoke(certificate, registrar)
    url = reverse("courses:certificate_pdf", args=[certificate.code])

    response = learner_client.get(url, follow=True)

    assert response.redirect_chain[-1][0] == reverse("courses:transcript")
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert f"Certificate {certificate.code} was revoked on" in page
    assert "its PDF is no longer offered" in page
    assert "Download PDF" not in page
    # A registrar still fetches the file as issued, for the record.
    client.force_login(registrar)
    assert client.get(url).status_code == 200


def test_a_replaced_certificate_sends_its_learner_to_the_new_one(
    learner_client, certificate, registrar
):
    new = credentials.reissue_certificate(certificate=certificate, acting_user=registrar)

    response = learner_client.get(
        reverse("courses:certificate_pdf", args=[certificate.code]), follow=True
    )

    assert f"was replaced by {new.code}: download that one instead" in response.content.decode()


def test_course_page_and_my_trainings_offer_no_revoked_pdf(learner_client, certificate, registrar):
    pages = [reverse("courses:course_detail", args=["ghosting"]), reverse("courses:my_trainings")]
    for url in pages:
        assert "Download certificate (PDF)" in learner_client.get(url).content.decode()

    revoke(certificate, registrar)

    for url in pages:
        page = learner_client.get(url).content.decode()
        assert "Download certificate (PDF)" not in page, url
        assert reverse("courses:certificate_pdf", args=[certificate.code]) not in page, url
        assert "Revoked on" in page, url
        assert "its PDF is no longer offered" in page, url


def test_another_learner_gets_404_for_a_revoked_pdf(client, certificate, registrar, other_learner):
    revoke(certificate, registrar)
    client.force_login(other_learner)

    response = client.get(reverse("courses:certificate_pdf", args=[certificate.code]))

    assert response.status_code == 404


# --- The admin's actions ------------------------------------------------------------------------


def test_the_admin_reinstates_after_asking_why(registrar_client, certificate, registrar):
    revoke(certificate, registrar)

    asked = admin_action(registrar_client, "reinstate_selected", [certificate])
    assert asked.status_code == 200
    page = asked.content.decode()
    assert "Reinstate certificates" in page
    assert "Reason (kept in the history and sent to the learner)" in page
    assert certificate.code in page

    response = admin_action(
        registrar_client, "reinstate_selected", [certificate], reason=REINSTATED_WHY
    )

    assert said(response) == [(messages.SUCCESS, "Reinstated 1 certificate(s).")]
    certificate.refresh_from_db()
    assert certificate.status == CertificateStatus.VALID
    assert certificate.events.get(kind="reinstated").detail == REINSTATED_WHY


def test_the_admin_reinstate_page_answers_an_empty_reason_on_the_form(
    registrar_client, certificate, registrar
):
    revoke(certificate, registrar)

    response = admin_action(registrar_client, "reinstate_selected", [certificate], reason="  ")

    assert response.status_code == 200
    assert "Reinstate certificates" in response.content.decode()
    certificate.refresh_from_db()
    assert certificate.status == CertificateStatus.REVOKED


def test_admin_actions_that_change_nothing_warn_instead_of_reporting_success(
    registrar_client, certificate, registrar
):
    revoke(certificate, registrar)

    again = admin_action(registrar_client, "revoke_selected", [certificate], reason="Again")
    assert said(again) == [
        (messages.WARNING, f"{certificate.code}: Only a valid certificate can be revoked."),
        (messages.WARNING, "No certificate was revoked."),
    ]

    credentials.reinstate_certificate(
        certificate=certificate, reason=REINSTATED_WHY, acting_user=registrar
    )
    valid = admin_action(registrar_client, "reinstate_selected", [certificate], reason="Why")
    assert said(valid) == [
        (messages.WARNING, f"{certificate.code}: Only a revoked certificate can be reinstated."),
        (messages.WARNING, "No certificate was reinstated."),
    ]

    new = credentials.reissue_certificate(certificate=certificate, acting_user=registrar)
    replaced = admin_action(registrar_client, "reissue_selected", [certificate], reason="Why")
    levels = [level for level, _text in said(replaced)]
    assert messages.SUCCESS not in levels
    assert said(replaced)[-1] == (messages.WARNING, "No certificate was reissued.")
    assert Certificate.objects.filter(superseded_by__isnull=True).get() == new


def test_the_admin_reissues_a_revoked_certificate_with_a_reason(
    registrar_client, certificate, registrar
):
    revoke(certificate, registrar)

    response = admin_action(
        registrar_client, "reissue_selected", [certificate], reason="Revoked in error."
    )

    certificate.refresh_from_db()
    new = certificate.superseded_by
    assert new is not None
    assert new.status == CertificateStatus.VALID
    assert said(response) == [(messages.SUCCESS, f"{certificate.code} is replaced by {new.code}.")]
    detail = new.events.get(kind="reissued").detail
    assert detail == f"Replaces {certificate.code}. Revoked in error."


@pytest.mark.parametrize("action", ["reinstate_selected", "reissue_selected", "resend_selected"])
def test_only_registrars_correct_certificates(client, certificate, registrar, action, mailoutbox):
    revoke(certificate, registrar)
    author = UserFactory(is_staff=True)
    author.groups.add(Group.objects.get(name="Course authors"))
    client.force_login(author)
    mailoutbox.clear()

    client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [certificate.pk], "reason": "Sneaky."},
    )

    certificate.refresh_from_db()
    assert certificate.status == CertificateStatus.REVOKED
    assert certificate.superseded_by is None
    assert mailoutbox == []
