"""Certificates as records: issued once, frozen at issue, verifiable by code, API and file, and
revoked or reissued in plain sight."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import LicenceFactory, UserFactory
from courses.codes import new_code, parse_code
from courses.credentials_record import CertificateKind, CertificateRecord, RecordError, record_of
from courses.models import (
    Accreditor,
    AccreditorProfession,
    Certificate,
    CertificateEvent,
    CertificateStatus,
    Course,
    SubjectArea,
)
from courses.selectors import public_record
from courses.services import assessment, credentials
from courses.tests.factories import (
    AccreditorFactory,
    ApprovalFactory,
    CourseFactory,
    EnrollmentFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def completed(learner):
    """A learner who completed a course approved for clinical social workers."""
    LicenceFactory(
        user=learner,
        profession="clinical_social_worker",
        jurisdiction="NY",
        number="LCSW-R 0123456",
    )
    course = CourseFactory(slug="ghosting", title="Ruptures and ghosting")
    ApprovalFactory(
        course=course,
        accreditor=AccreditorFactory(short_name="ASWB", professions=["clinical_social_worker"]),
        credit_type="clinical",
        approval_code="C-42",
    )
    ApprovalFactory(
        course=course, accreditor=AccreditorFactory(short_name="APA", professions=["psychologist"])
    )
    return EnrollmentFactory(user=learner, course=course, completed_at=timezone.now())


@pytest.fixture
def certificate(completed):
    return credentials.issue_certificate(enrollment=completed)


@pytest.fixture
def registrar(db):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_certificate"))
    return user


def verify(client, code):
    return client.get(reverse("courses:verify_code", args=[code]))


# --- Issue and snapshot -------------------------------------------------------------------------


def test_completing_the_last_step_issues_one_certificate(learner, completed):
    from courses.models import EvaluationResponse, QuizAttempt
    from courses.tests.factories import finish_lessons

    completed.completed_at = None
    completed.save()
    finish_lessons(completed)
    completed.attested_at = timezone.now()
    completed.save()
    # Lessons, time and attestation done; no post-test or evaluation yet: no certificate.
    assert assessment.complete_if_ready(enrollment=completed) is False
    assert not Certificate.objects.exists()

    QuizAttempt.objects.create(
        enrollment=completed,
        number=1,
        questions=[],
        pass_mark=75,
        passed=True,
        score=100,
        submitted_at=timezone.now(),
    )
    EvaluationResponse.objects.create(
        enrollment=completed,
        objective_ratings=[],
        learned_rating=4,
        usefulness_rating=4,
        presenter_rating=4,
    )
    assert assessment.complete_if_ready(enrollment=completed) is True
    assert assessment.complete_if_ready(enrollment=completed) is True

    certificate = Certificate.objects.get()
    assert certificate.enrollment == completed
    assert list(certificate.events.values_list("kind", flat=True)) == ["issued"]


def test_issuing_twice_returns_the_same_certificate(completed):
    first = credentials.issue_certificate(enrollment=completed)
    second = credentials.issue_certificate(enrollment=completed)

    assert first == second
    assert Certificate.objects.count() == 1
    assert list(first.events.values_list("kind", flat=True)) == ["issued"]


def test_an_incomplete_enrollment_gets_no_certificate(learner):
    enrollment = EnrollmentFactory(user=learner)

    with pytest.raises(credentials.CertificateError):
        credentials.issue_certificate(enrollment=enrollment)


def test_the_snapshot_holds_what_is_printed(certificate, learner):
    snapshot = certificate.snapshot

    assert snapshot["learner_name"] == learner.full_name
    assert snapshot["licences"] == [
        {
            "profession": "Clinical social worker",
            "profession_code": "clinical_social_worker",
            "jurisdiction": "New York",
            "jurisdiction_code": "NY",
            "number": "LCSW-R 0123456",
        }
    ]
    assert snapshot["course_title"] == "Ruptures and ghosting"
    assert snapshot["ce_hours"] == "0.5"
    assert snapshot["format"] == "Home study: recorded audio"
    assert snapshot["presenter"] == "Jordan Avery, PhD, LMFT"
    # Only the approval that serves the learner's profession is printed.
    assert [a["accreditor"] for a in snapshot["approvals"]] == ["ASWB"]
    assert snapshot["approvals"][0]["credit_type"] == "clinical"
    assert snapshot["approvals"][0]["approval_code"] == "C-42"
    assert "SAMPLE-1" in snapshot["approvals"][0]["statement"]
    assert snapshot["provider"]["configured"] is False


def test_later_edits_change_no_certificate(client, certificate, learner, completed):
    before = json.dumps(certificate.snapshot, sort_keys=True)
    learner.full_name = "Someone Else"
    learner.save()
    learner.licences.update(number="CHANGED-9999")
    # The course's content is frozen once it certifies anyone; even a change made behind the
    # services' back (straight in the database) reaches no certificate.
    Course.objects.filter(pk=completed.course_id).update(title="A new title")

    certificate.refresh_from_db()
    assert json.dumps(certificate.snapshot, sort_keys=True) == before
    page = verify(client, certificate.code).content.decode()
    assert "Ruptures and ghosting" in page
    assert "A new title" not in page
    assert "Someone Else" not in page
    assert "9999" not in page


# --- What issuing reads ---------------------------------------------------------------------------


def another_completion(course, *, licences: int = 1):
    """Someone else who completed the course today, licensed as the `completed` learner is."""
    user = UserFactory()
    for number in range(licences):
        LicenceFactory(
            user=user,
            profession="clinical_social_worker",
            jurisdiction="NY",
            number=f"LCSW-R 90000{number}",
        )
    return EnrollmentFactory(user=user, course=course, completed_at=timezone.now())


@pytest.mark.parametrize("licences", [1, 3])
def test_issuing_keeps_its_query_count(completed, licences, django_assert_num_queries):
    """Per certificate: the enrollment (locked), whether it has a certificate already, the
    learner's licences, the certificate and its event, and the savepoints around them, however
    many licences are printed. The course's approvals are read once for everyone who completes
    it that day."""
    credentials.issue_certificate(enrollment=completed)
    enrollment = another_completion(completed.course, licences=licences)

    with django_assert_num_queries(9):
        certificate = credentials.issue_certificate(enrollment=enrollment)

    record = record_of(certificate)
    assert record.kind == CertificateKind.CREDIT
    assert len(record.licences) == licences
    assert [a.accreditor for a in record.approvals] == ["ASWB"]
    assert list(certificate.events.values_list("kind", flat=True)) == ["issued"]


def test_a_change_to_the_accreditor_or_subjects_shows_on_the_next_certificate(completed):
    first = credentials.issue_certificate(enrollment=completed)
    aswb = Accreditor.objects.get(short_name="ASWB")
    aswb.provider_number = "ASWB-7781"
    aswb.statement_template = "{provider} is approved by ASWB, provider {provider_number}."
    aswb.save()
    ethics = SubjectArea.objects.create(slug="law-and-ethics", name="Law and ethics")
    completed.course.subjects.add(ethics)
    completed.course.approvals.get(accreditor=aswb).subjects.add(ethics)

    second = credentials.issue_certificate(enrollment=another_completion(completed.course))

    (before,) = record_of(first).approvals
    (after,) = record_of(second).approvals
    assert "ASWB-7781" not in before.statement
    assert before.subjects == ()
    assert after.provider_number == "ASWB-7781"
    assert "approved by ASWB, provider ASWB-7781" in after.statement
    assert after.subjects == ("law-and-ethics",)


def test_an_accreditor_that_stops_serving_gives_attendance_on_the_next_certificate(completed):
    assert record_of(credentials.issue_certificate(enrollment=completed)).is_credit
    aswb = Accreditor.objects.get(short_name="ASWB")
    AccreditorProfession.objects.filter(accreditor=aswb).delete()

    no_profession = record_of(
        credentials.issue_certificate(enrollment=another_completion(completed.course))
    )
    AccreditorProfession.objects.create(accreditor=aswb, profession="clinical_social_worker")
    aswb.approved_until = timezone.localdate() - timedelta(days=1)
    aswb.save()
    lapsed = record_of(
        credentials.issue_certificate(enrollment=another_completion(completed.course))
    )

    assert no_profession.kind == CertificateKind.ATTENDANCE
    assert lapsed.kind == CertificateKind.ATTENDANCE
    assert lapsed.approvals == ()


# --- Codes --------------------------------------------------------------------------------------


def test_codes_are_long_random_and_checked():
    codes = {new_code() for _index in range(500)}

    assert len(codes) == 500
    for code in list(codes)[:50]:
        assert parse_code(code) == (code, None)
        assert parse_code(code.lower().replace("-", " ")) == (code, None)
        assert parse_code(code.removeprefix("CEU-")) == (code, None)
        body = code[4:].replace("-", "")
        for position in range(len(body)):  # every single-character slip is caught
            wrong = "A" if body[position] != "A" else "B"
            typo = body[:position] + wrong + body[position + 1 :]
            assert parse_code(typo)[1] is not None


def test_the_verify_form_tells_a_typo_from_an_unknown_code(client, certificate):
    body = certificate.code.replace("-", "")
    typo = body[:-1] + ("2" if body[-1] != "2" else "3")

    response = client.get(reverse("courses:verify"), {"code": typo})
    assert response.status_code == 400
    assert "This code has a typo" in response.content.decode()

    unknown = new_code()
    response = client.get(reverse("courses:verify"), {"code": unknown.lower()}, follow=True)
    assert response.status_code == 404
    assert "No certificate with this code was issued here." in response.content.decode()

    response = client.get(reverse("courses:verify"), {"code": "hello"})
    assert "That is not a certificate code" in response.content.decode()


def test_a_code_typed_any_way_finds_the_certificate(client, certificate):
    typed = certificate.code.lower().replace("-", " ")

    response = client.get(reverse("courses:verify"), {"code": typed}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("courses:verify_code", args=[certificate.code])
    assert "Valid." in response.content.decode()


# --- Verify page --------------------------------------------------------------------------------


def test_the_verify_page_shows_the_record_with_the_licence_masked(client, certificate, learner):
    response = verify(client, certificate.code)

    page = response.content.decode()
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert '<meta name="robots" content="noindex, nofollow">' in page
    for text in [
        "Valid.",
        learner.full_name,
        "Clinical social worker, New York, number ending …3456",
        "Ruptures and ghosting",
        "ASWB (provider SAMPLE-1): 0.5 clinical, course C-42",
        "Home study: recorded audio",
        "Sample: not valid for credit.",
    ]:
        assert text in page, text
    assert "LCSW-R 0123456" not in page


def test_revoking_shows_plainly_everywhere(client, certificate, registrar):
    credentials.revoke_certificate(
        certificate=certificate, reason="Attendance could not be confirmed.", acting_user=registrar
    )

    page = verify(client, certificate.code).content.decode()
    assert "Revoked." in page
    assert "Reason: Attendance could not be confirmed." in page
    api = client.get(reverse("courses:api_certificate", args=[certificate.code])).json()
    assert api["status"] == "revoked"
    assert api["certificate"]["revoked"]["reason"] == "Attendance could not be confirmed."
    event = certificate.events.get(kind="revoked")
    assert event.actor == registrar
    assert Certificate.objects.filter(pk=certificate.pk).exists()


def test_revoking_needs_a_reason_and_a_valid_certificate(certificate, registrar):
    with pytest.raises(credentials.CertificateError):
        credentials.revoke_certificate(certificate=certificate, reason="  ", acting_user=registrar)
    credentials.revoke_certificate(certificate=certificate, reason="Fraud", acting_user=registrar)
    with pytest.raises(credentials.CertificateError):
        credentials.revoke_certificate(
            certificate=certificate, reason="Again", acting_user=registrar
        )


def test_reissuing_makes_a_new_code_and_the_old_points_to_it(
    client, certificate, learner, registrar
):
    learner.full_name = "Dana Whitfield-Ortiz"  # the learner's corrected name
    learner.save()

    new = credentials.reissue_certificate(
        certificate=certificate, acting_user=registrar, reason="Name corrected."
    )

    certificate.refresh_from_db()
    assert new.code != certificate.code
    assert new.snapshot["learner_name"] == "Dana Whitfield-Ortiz"
    assert certificate.status == CertificateStatus.SUPERSEDED
    assert certificate.superseded_by == new
    old_page = verify(client, certificate.code).content.decode()
    assert "Superseded." in old_page
    assert new.code in old_page
    assert "Valid." in verify(client, new.code).content.decode()
    assert (
        client.get(reverse("courses:api_certificate", args=[certificate.code])).json()[
            "certificate"
        ]["superseded_by"]
        == new.code
    )
    kinds = set(CertificateEvent.objects.values_list("certificate__code", "kind"))
    assert (certificate.code, "reissued") in kinds
    assert (new.code, "reissued") in kinds
    with pytest.raises(credentials.CertificateError):
        credentials.reissue_certificate(certificate=certificate, acting_user=registrar)


def test_certificates_cannot_be_deleted(certificate):
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        certificate.enrollment.delete()


# --- API ----------------------------------------------------------------------------------------


def test_the_api_answers_one_code(client, certificate):
    response = client.get(reverse("courses:api_certificate", args=[certificate.code.lower()]))

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "valid"
    record = body["certificate"]
    assert record["code"] == certificate.code
    assert record["licences"] == [
        {"profession": "Clinical social worker", "jurisdiction": "New York", "number_last4": "3456"}
    ]
    assert record["verify_url"].endswith(f"/verify/{certificate.code}/")
    assert record["sample"] is True


def test_the_api_tells_typos_and_unknown_codes_apart(client, certificate):
    body = certificate.code.replace("-", "")
    typo = body[:-1] + ("2" if body[-1] != "2" else "3")

    assert client.get(reverse("courses:api_certificate", args=[typo])).json()["status"] == "typo"
    unknown = client.get(reverse("courses:api_certificate", args=[new_code()]))
    assert unknown.status_code == 404
    assert unknown.json()["status"] == "unknown"
    malformed = client.get(reverse("courses:api_certificate", args=["nonsense"]))
    assert malformed.status_code == 400
    assert malformed.json()["status"] == "malformed"


def test_the_api_answers_many_codes_in_order_with_few_queries(
    client, certificate, django_assert_max_num_queries
):
    codes = [certificate.code, "nonsense", new_code(), *([certificate.code.lower()] * 50)]

    with django_assert_max_num_queries(2):
        response = client.post(
            reverse("courses:api_verify"), {"codes": codes}, content_type="application/json"
        )

    results = response.json()["results"]
    assert [r["status"] for r in results[:3]] == ["valid", "malformed", "unknown"]
    assert len(results) == 53


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"{}",
        b'{"codes": "CEU"}',
        b'{"codes": [1, 2]}',
        b'{"codes": []}',
        json.dumps({"codes": ["x"] * 101}).encode(),
    ],
)
def test_the_api_refuses_bad_bodies(client, body):
    response = client.post(reverse("courses:api_verify"), body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]


def test_the_openapi_document_is_served(client):
    schema = client.get(reverse("courses:api_schema")).json()

    assert schema["openapi"].startswith("3.")
    assert "/api/v1/certificates/{code}" in schema["paths"]
    assert "/api/v1/certificates/verify" in schema["paths"]


# --- Downloads and the learner's side -----------------------------------------------------------


def test_the_pdf_is_for_its_owner_and_registrars_only(
    client, learner_client, certificate, registrar, other_learner
):
    Certificate.objects.filter(pk=certificate.pk).update(pdf_sha256="x" * 64)
    certificate.refresh_from_db()
    certificate.pdf.save(f"{certificate.code}.pdf", SimpleUploadedFile("c.pdf", b"%PDF-1.7 x"))
    url = reverse("courses:certificate_pdf", args=[certificate.code])

    owner = learner_client.get(url)
    assert owner.status_code == 200
    assert owner["Content-Type"] == "application/pdf"
    assert b"".join(owner.streaming_content) == b"%PDF-1.7 x"
    client.force_login(registrar)
    assert client.get(url).status_code == 200
    client.force_login(other_learner)
    assert client.get(url).status_code == 404
    client.force_login(UserFactory(is_staff=True))  # staff without the registrar permission
    assert client.get(url).status_code == 404
    assert (
        learner_client.get(reverse("courses:certificate_pdf", args=[new_code()])).status_code == 404
    )


def test_an_unrendered_certificate_is_being_prepared(learner_client, certificate):
    response = learner_client.get(
        reverse("courses:certificate_pdf", args=[certificate.code]), follow=True
    )
    assert "Your certificate is being prepared" in response.content.decode()
    course_page = learner_client.get(reverse("courses:course_detail", args=["ghosting"]))
    assert "Certificate being prepared" in course_page.content.decode()
    mine = learner_client.get(reverse("courses:my_trainings")).content.decode()
    assert "Certificate being prepared" in mine
    assert certificate.code in mine


def test_the_transcript_totals_hours_per_licence_and_cycle(learner_client, learner, certificate):
    licence = learner.licences.get()
    licence.renewal_date = timezone.localdate() + timedelta(days=200)
    licence.hours_required = 36
    licence.save()

    page = learner_client.get(reverse("courses:transcript")).content.decode()

    assert certificate.code in page
    assert "0.5 CE hours in all" in page
    assert "<strong>35.5</strong> of 36" in page


def test_the_transcript_shows_only_mine(client, certificate, other_learner):
    client.force_login(other_learner)

    page = client.get(reverse("courses:transcript")).content.decode()

    assert certificate.code not in page
    assert "No certificates yet." in page


# --- Rate limits --------------------------------------------------------------------------------


def test_public_lookups_are_rate_limited_per_address(client, certificate, settings):
    settings.CEU_RATE_LIMITS = {"verify": 3, "verify_api": 2, "verify_pdf": 1}
    # The limit counts per minute: the clock stands still mid-minute, so a new minute starting
    # between two lookups cannot reset the count.
    with time_machine.travel(timezone.now().replace(second=30), tick=False):
        statuses = [verify(client, certificate.code).status_code for _index in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = verify(client, certificate.code)
        assert "Too many lookups from your address" in limited.content.decode()
        assert int(limited["Retry-After"]) <= 60

        api = reverse("courses:api_certificate", args=[certificate.code])
        assert [client.get(api).status_code for _index in range(3)] == [200, 200, 429]
        assert "Too many lookups" in client.get(api).json()["error"]

        other = client.get(
            reverse("courses:verify_code", args=[certificate.code]), REMOTE_ADDR="203.0.113.9"
        )
        assert other.status_code == 200  # another address has its own allowance


def test_the_transcript_downloads_as_a_pdf(learner_client, certificate, tmp_path):
    import subprocess

    response = learner_client.get(reverse("courses:transcript_pdf"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    path = tmp_path / "transcript.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Continuing education transcript" in text
    assert certificate.code in text
    assert "Ruptures and ghosting" in text
    assert "LCSW-R 0123456" in text


def test_the_transcript_pdf_needs_a_signed_in_learner(client):
    response = client.get(reverse("courses:transcript_pdf"))

    assert response.status_code == 302


# --- Credit only where an approval serves the learner -------------------------------------------


def _api(client, code) -> dict:
    return client.get(reverse("courses:api_certificate", args=[code])).json()["certificate"]


def test_once_every_approval_has_lapsed_the_certificate_is_of_attendance(client, learner):
    LicenceFactory(user=learner, profession="psychologist", jurisdiction="CA", number="PSY 1")
    course = CourseFactory(slug="lapsing", title="Lapsing approvals", ce_hours=Decimal("1.5"))
    ApprovalFactory(
        course=course, accreditor=AccreditorFactory(short_name="APA"), hours=Decimal("1.5")
    )
    enrollment = EnrollmentFactory(user=learner, course=course)

    # Past the course's approval and the accreditor's provider period alike.
    with time_machine.travel(timezone.now() + timedelta(days=400), tick=False):
        enrollment.completed_at = timezone.now()
        enrollment.save(update_fields=["completed_at"])
        certificate = credentials.issue_certificate(enrollment=enrollment)

    record = record_of(certificate)
    assert record.kind == CertificateKind.ATTENDANCE
    assert record.ce_hours == 0
    assert record.course_hours == Decimal("1.5")
    assert record.approvals == ()
    page = verify(client, certificate.code).content.decode()
    assert "Certificate of attendance: no CE credit" in page
    assert "1.5" not in page
    api = _api(client, certificate.code)
    assert api["kind"] == "attendance"
    assert api["ce_hours"] == "0"
    assert api["credits"] == []


def test_an_approval_for_another_profession_only_gives_attendance(client, learner):
    LicenceFactory(user=learner, profession="psychologist", jurisdiction="CA", number="PSY 1")
    course = CourseFactory(slug="for-social-workers")
    ApprovalFactory(
        course=course,
        accreditor=AccreditorFactory(short_name="ASWB", professions=["clinical_social_worker"]),
    )
    enrollment = EnrollmentFactory(user=learner, course=course, completed_at=timezone.now())

    certificate = credentials.issue_certificate(enrollment=enrollment)

    assert record_of(certificate).is_attendance
    page = verify(client, certificate.code).content.decode()
    assert "Certificate of attendance: no CE credit" in page
    assert _api(client, certificate.code)["ce_hours"] == "0"


def test_without_a_licence_there_is_no_credit(client, learner):
    course = CourseFactory(slug="no-licence")
    ApprovalFactory(course=course, accreditor=AccreditorFactory(short_name="APA"))
    enrollment = EnrollmentFactory(user=learner, course=course, completed_at=timezone.now())

    certificate = credentials.issue_certificate(enrollment=enrollment)

    api = _api(client, certificate.code)
    assert (api["kind"], api["ce_hours"], api["credits"]) == ("attendance", "0", [])


def test_an_approval_that_serves_the_learner_gives_credit(client, certificate):
    record = record_of(certificate)

    assert record.kind == CertificateKind.CREDIT
    assert record.ce_hours == Decimal("0.5")
    page = verify(client, certificate.code).content.decode()
    assert "attendance" not in page.casefold()
    api = _api(client, certificate.code)
    assert (api["kind"], api["ce_hours"]) == ("credit", "0.5")
    assert [credit["accreditor"] for credit in api["credits"]] == ["ASWB"]


def test_credit_is_never_more_than_the_approval_grants(client, learner):
    LicenceFactory(user=learner, profession="psychologist", jurisdiction="CA", number="PSY 1")
    course = CourseFactory(slug="partly-approved", ce_hours=Decimal("2"))
    ApprovalFactory(
        course=course, accreditor=AccreditorFactory(short_name="APA"), hours=Decimal("1.5")
    )
    enrollment = EnrollmentFactory(user=learner, course=course, completed_at=timezone.now())

    certificate = credentials.issue_certificate(enrollment=enrollment)

    assert _api(client, certificate.code)["ce_hours"] == "1.5"


def test_the_public_record_gains_exactly_one_field_kind(client, certificate):
    before = {
        "code", "status", "sample", "learner_name", "licences", "course_title", "ce_hours",
        "format", "completion_date", "presenter", "provider", "credits", "issued_at", "revoked",
        "superseded_by",
    }  # fmt: skip

    assert set(public_record(certificate)) == before | {"kind"}


def test_the_transcript_counts_no_hours_for_attendance(learner_client, learner, certificate):
    licence = learner.licences.get()
    licence.renewal_date = timezone.localdate() + timedelta(days=200)
    licence.hours_required = 36
    licence.save()
    other = CourseFactory(slug="unapproved", title="Unapproved training", ce_hours=Decimal("3"))
    attended = credentials.issue_certificate(
        enrollment=EnrollmentFactory(user=learner, course=other, completed_at=timezone.now())
    )

    page = learner_client.get(reverse("courses:transcript")).content.decode()

    assert attended.code in page
    assert "Certificate of attendance: no CE credit" in page
    assert "0.5 CE hours in all" in page  # the credit certificate's hours only
    assert "<strong>35.5</strong> of 36" in page


def test_the_transcript_keeps_its_query_count(
    learner_client, learner, certificate, django_assert_num_queries
):
    for n in range(12):
        course = CourseFactory(slug=f"more-{n}")
        credentials.issue_certificate(
            enrollment=EnrollmentFactory(user=learner, course=course, completed_at=timezone.now())
        )

    # Session, user; the certificates with their courses; the licences. Grows with nothing.
    with django_assert_num_queries(4):
        assert learner_client.get(reverse("courses:transcript")).status_code == 200


# --- Records stored before there were versions ---------------------------------------------------

# A certificate's snapshot as the code before schema versions stored it.
VERSION_1 = {
    "code": "CEU-7K3M-Q9XZ-4T2P-HW8C",
    "learner_name": "Dana Whitfield",
    "licences": [
        {
            "profession": "Clinical social worker",
            "profession_code": "clinical_social_worker",
            "jurisdiction": "New York",
            "jurisdiction_code": "NY",
            "number": "LCSW-R 0123456",
        }
    ],
    "course_title": "Ruptures and ghosting",
    "course_slug": "ghosting",
    "ce_hours": "0.5",
    "format": "Home study: recorded audio",
    "completion_date": "2026-11-26",
    "presenter": "Jordan Avery, PhD, LMFT",
    "provider": {
        "name": "Sample CE Provider (demo)",
        "address": "",
        "email": "ce@example.org",
        "phone": "",
        "website": "",
        "configured": False,
    },
    "approvals": [
        {
            "accreditor": "ASWB",
            "accreditor_name": "ASWB accreditor",
            "provider_number": "SAMPLE-1",
            "hours": "0.5",
            "credit_type": "clinical",
            "approval_code": "C-42",
            "statement": "Sample CE Provider (demo) is approved by this body.",
            "professions": ["clinical_social_worker"],
        }
    ],
    "issued_at": "2026-11-26T14:03:00+00:00",
}


def test_a_version_1_record_still_loads_and_is_written_back_as_the_current_version():
    record = CertificateRecord.from_snapshot(VERSION_1)

    assert record.kind == CertificateKind.CREDIT
    assert record.ce_hours == record.course_hours == Decimal("0.5")
    assert record.licences[0].number_last4 == "3456"
    assert record.approvals[0].professions == ("clinical_social_worker",)
    snapshot = record.to_snapshot()
    assert snapshot["schema_version"] == 3
    assert snapshot["kind"] == "credit"
    # Version 3 adds each approval's body and subjects; all else is kept as it was.
    written = {key: value for key, value in snapshot.items() if key in VERSION_1}
    for approval in written["approvals"]:
        assert approval.pop("subjects") == []
        approval.pop("body")
    assert written == VERSION_1
    assert CertificateRecord.from_snapshot(snapshot) == record


def test_a_version_1_record_without_a_serving_approval_is_attendance():
    record = CertificateRecord.from_snapshot({**VERSION_1, "approvals": []})

    assert record.kind == CertificateKind.ATTENDANCE
    assert record.ce_hours == 0
    assert record.course_hours == Decimal("0.5")  # what the training offered


def test_a_stored_version_1_certificate_verifies(client, completed):
    code = new_code()
    certificate = Certificate.objects.create(
        code=code,
        enrollment=completed,
        snapshot={**VERSION_1, "code": code},
        issued_at=timezone.now(),
        learner_name=VERSION_1["learner_name"],
    )

    response = verify(client, certificate.code)

    assert response.status_code == 200
    assert "Valid." in response.content.decode()
    api = _api(client, certificate.code)
    assert (api["kind"], api["ce_hours"], api["completion_date"]) == ("credit", "0.5", "2026-11-26")


@pytest.mark.parametrize(
    "broken",
    [
        {"schema_version": 99},
        {"schema_version": 2, "kind": "bogus", "course_hours": "1"},
        {"ce_hours": "lots"},
        {"completion_date": "yesterday"},
    ],
)
def test_a_snapshot_that_is_not_a_record_is_refused(broken):
    with pytest.raises(RecordError):
        CertificateRecord.from_snapshot({**VERSION_1, **broken})
