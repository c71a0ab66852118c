"""From completion to the learner's inbox: the PDF is rendered after commit, stored once with its
SHA-256, e-mailed with the file attached, and recognised byte for byte when a board uploads it."""

import hashlib
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import LicenceFactory, UserFactory
from courses.models import Certificate
from courses.services import credentials
from courses.tasks import render_certificate
from courses.tests.factories import (
    AccreditorFactory,
    ApprovalFactory,
    CourseFactory,
    EnrollmentFactory,
)


def completed_enrollment(learner):
    LicenceFactory(user=learner, profession="psychologist", jurisdiction="CA", number="PSY 12345")
    course = CourseFactory(slug="ghosting", title="Ruptures and ghosting")
    ApprovalFactory(course=course, accreditor=AccreditorFactory(short_name="APA"))
    return EnrollmentFactory(user=learner, course=course, completed_at=timezone.now())


@pytest.fixture
def issued(db, learner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        certificate = credentials.issue_certificate(enrollment=completed_enrollment(learner))
    certificate.refresh_from_db()
    return certificate


def test_issuing_renders_stores_hashes_and_emails_the_pdf(issued, learner, mailoutbox):
    pdf = issued.pdf.read()

    assert pdf.startswith(b"%PDF-")
    assert issued.pdf_sha256 == hashlib.sha256(pdf).hexdigest()
    assert issued.rendered_at is not None
    assert issued.emailed_at is not None
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [learner.email]
    assert message.subject == "Your certificate: Ruptures and ghosting"
    assert issued.code in message.body
    assert f"/verify/{issued.code}/" in message.body
    assert message.alternatives[0][1] == "text/html"
    assert message.attachments == [(f"{issued.code}.pdf", pdf, "application/pdf")]
    kinds = list(issued.events.values_list("kind", flat=True))
    assert kinds == ["issued", "rendered", "emailed"]


def test_running_the_task_again_leaves_one_file_and_sends_nothing_more(
    issued, mailoutbox, settings
):
    render_certificate.delay(issued.pk)
    render_certificate.delay(issued.pk)

    certificate = Certificate.objects.get(pk=issued.pk)
    assert certificate.pdf_sha256 == issued.pdf_sha256
    stored = list((settings.MEDIA_ROOT / "certificates").iterdir())
    assert [path.name for path in stored] == [f"{issued.code}.pdf"]
    assert len(mailoutbox) == 1


def check(client, content: bytes, name: str = "certificate.pdf"):
    return client.post(reverse("courses:verify_pdf"), {"file": SimpleUploadedFile(name, content)})


def test_the_original_pdf_is_recognised(client, issued):
    page = check(client, issued.pdf.read()).content.decode()

    assert "This is the unaltered original" in page
    assert issued.code in page
    assert "The certificate is valid." in page


def test_a_one_byte_change_is_reported_altered(client, issued):
    pdf = bytearray(issued.pdf.read())
    pdf[len(pdf) // 2] ^= 0x01

    page = check(client, bytes(pdf)).content.decode()

    assert "Altered or not issued here." in page
    assert issued.code not in page


def test_the_check_reports_the_files_digital_signature(client, issued):
    original = issued.pdf.read()

    page = check(client, original).content.decode()

    assert "Digital signature" in page
    assert "Valid: signed by this provider and unchanged since." in page
    # One byte changed inside the signed content: the signature says so too.
    from courses.tests.test_pdf_signing import flipped_inside_signed_range

    altered = check(client, flipped_inside_signed_range(original)).content.decode()
    assert "Altered or not issued here." in altered
    assert "Not valid." in altered
    assert "The file was changed after it was signed." in altered
    # A PDF nobody signed.
    unsigned = check(client, b"%PDF-1.7 never signed").content.decode()
    assert "The file carries no digital signature." in unsigned


def test_a_revoked_original_says_it_no_longer_counts(client, issued, django_user_model):
    registrar = django_user_model.objects.create_user("r@example.com", "x", full_name="R")
    credentials.revoke_certificate(certificate=issued, reason="Fraud", acting_user=registrar)

    page = check(client, issued.pdf.read()).content.decode()

    assert "This is the unaltered original" in page
    assert "But the certificate has been revoked" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "message", "status"),
    [
        (b"GIF89a not a pdf at all", "Not a PDF.", 200),
        (b"", "The submitted file is empty.", 400),
    ],
)
def test_other_files_are_named_plainly(client, content, message, status):
    response = check(client, content, name="scan.gif")

    assert response.status_code == status
    assert message in response.content.decode()


@pytest.mark.django_db
def test_oversized_uploads_are_refused(client):
    response = check(client, b"%PDF-" + b"0" * (5 * 1024 * 1024 + 1))

    assert response.status_code == 400
    assert "larger than a certificate can be" in response.content.decode()


@pytest.mark.django_db
def test_no_file_is_answered_on_the_form(client):
    response = client.post(reverse("courses:verify_pdf"), {})

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_a_certificate_is_rendered_by_a_real_worker(learner, celery_worker, settings):
    settings.MEDIA_ROOT = celery_worker.media_root

    certificate = credentials.issue_certificate(enrollment=completed_enrollment(learner))

    deadline = time.monotonic() + 60
    while not Certificate.objects.filter(pk=certificate.pk, emailed_at__isnull=False).exists():
        assert time.monotonic() < deadline, "the worker did not render and e-mail in time"
        time.sleep(0.2)
    certificate.refresh_from_db()
    pdf = (celery_worker.media_root / certificate.pdf.name).read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert hashlib.sha256(pdf).hexdigest() == certificate.pdf_sha256
    assert list(certificate.events.values_list("kind", flat=True)) == [
        "issued",
        "rendered",
        "emailed",
    ]


def test_a_certificate_of_attendance_is_emailed_as_one(
    db, learner, mailoutbox, django_capture_on_commit_callbacks
):
    # No licence on the learner's profile: no approval can serve it.
    course = CourseFactory(slug="ghosting", title="Ruptures and ghosting")
    ApprovalFactory(course=course, accreditor=AccreditorFactory(short_name="APA"))
    enrollment = EnrollmentFactory(user=learner, course=course, completed_at=timezone.now())

    with django_capture_on_commit_callbacks(execute=True):
        certificate = credentials.issue_certificate(enrollment=enrollment)

    (message,) = mailoutbox
    assert message.subject == "Your certificate of attendance: Ruptures and ghosting"
    assert "Certificate of attendance: no CE credit." in message.body
    assert "CE hours)" not in message.body
    assert reverse("accounts:licence_list") in message.body  # where to add a licence
    html = message.alternatives[0][0]
    assert "Certificate of attendance: no CE credit." in html
    assert message.attachments[0][0] == f"{certificate.code}.pdf"


def test_a_certificate_revoked_before_it_is_sent_is_never_sent(
    db, learner, mailoutbox, django_user_model, django_capture_on_commit_callbacks
):
    registrar = django_user_model.objects.create_user("r@example.com", "x", full_name="R")
    with django_capture_on_commit_callbacks(execute=False) as issued:
        certificate = credentials.issue_certificate(enrollment=completed_enrollment(learner))
    with django_capture_on_commit_callbacks(execute=True):
        credentials.revoke_certificate(
            certificate=certificate, reason="Fraud", acting_user=registrar
        )

    for callback in issued:  # the render task runs late, after the revocation
        callback()

    certificate.refresh_from_db()
    assert certificate.is_rendered  # kept for the record
    assert certificate.emailed_at is None
    subjects = [message.subject for message in mailoutbox]
    assert subjects == ["Your certificate was revoked: Ruptures and ghosting"]


def test_reinstating_sends_a_pdf_that_was_held_back_and_only_once(
    db, learner, mailoutbox, django_user_model, django_capture_on_commit_callbacks
):
    registrar = django_user_model.objects.create_user("r@example.com", "x", full_name="R")
    with django_capture_on_commit_callbacks(execute=False) as issued:
        certificate = credentials.issue_certificate(enrollment=completed_enrollment(learner))
    with django_capture_on_commit_callbacks(execute=True):
        credentials.revoke_certificate(
            certificate=certificate, reason="Fraud?", acting_user=registrar
        )
    for callback in issued:
        callback()

    with django_capture_on_commit_callbacks(execute=True):
        credentials.reinstate_certificate(
            certificate=certificate, reason="No fraud after all.", acting_user=registrar
        )
    with django_capture_on_commit_callbacks(execute=True):
        credentials.revoke_certificate(
            certificate=certificate, reason="Again", acting_user=registrar
        )
    with django_capture_on_commit_callbacks(execute=True):
        credentials.reinstate_certificate(
            certificate=certificate, reason="Settled.", acting_user=registrar
        )

    with_pdf = [m for m in mailoutbox if m.attachments]
    assert [m.attachments[0][0] for m in with_pdf] == [f"{certificate.code}.pdf"]
    assert certificate.events.filter(kind="emailed").count() == 1


def test_rendering_and_emailing_keep_their_query_count(
    db, learner, mailoutbox, django_capture_on_commit_callbacks, django_assert_num_queries
):
    """The render task's work per certificate, once the keys, the status list and the course's
    approvals are in use: the certificate with its credential (none yet); issuing the credential
    (the certificate locked with any credential issued meanwhile, the signing key, the status
    list, the credential); the document-signing certificate; the file stored (the row locked,
    saved, its event); the e-mail (the row locked with the code it replaces, sent, its event);
    and the savepoints around each."""
    first = completed_enrollment(learner)
    with django_capture_on_commit_callbacks(execute=True):
        credentials.issue_certificate(enrollment=first)
    other = EnrollmentFactory(user=UserFactory(), course=first.course, completed_at=timezone.now())
    LicenceFactory(user=other.user, profession="psychologist", jurisdiction="CA", number="PSY 7")
    with django_capture_on_commit_callbacks(execute=False) as queued:
        certificate = credentials.issue_certificate(enrollment=other)

    with django_assert_num_queries(20):
        for callback in queued:  # the render task, in-process
            callback()

    certificate.refresh_from_db()
    stored = certificate.pdf.read()
    assert hashlib.sha256(stored).hexdigest() == certificate.pdf_sha256
    message = mailoutbox[-1]
    assert message.to == [other.user.email]
    assert message.attachments == [(f"{certificate.code}.pdf", stored, "application/pdf")]
    kinds = list(certificate.events.values_list("kind", flat=True))
    assert kinds == ["issued", "rendered", "emailed"]


def test_the_email_attaches_the_file_on_record_whatever_the_caller_holds(issued, mailoutbox):
    stored = issued.pdf.read()

    assert credentials.email_certificate(
        certificate_id=issued.pk, force=True, pdf=b"%PDF-1.7 not the file on record"
    )

    assert mailoutbox[-1].attachments == [(f"{issued.code}.pdf", stored, "application/pdf")]
