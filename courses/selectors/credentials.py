"""Reads of certificates: lookups by code and PDF, the public record, the transcript. Each reads
the certificate's record (`courses.credentials_record`), never its stored dict."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import QuerySet

from accounts.models import Licence, User
from courses.credentials_record import CertificateRecord, record_of
from courses.models import (
    Certificate,
    CertificateStatus,
)


def certificate_by_code(code: str) -> Certificate | None:
    """The certificate with this canonical code, with the one that replaced it."""
    return Certificate.objects.select_related("superseded_by").filter(code=code).first()


def certificate_by_pdf_digest(digest: str) -> Certificate | None:
    return Certificate.objects.select_related("superseded_by").filter(pdf_sha256=digest).first()


def public_record(certificate: Certificate) -> dict:
    """What anyone holding the code may learn: the record, with licence numbers cut to their
    last four characters, and the certificate's standing. `kind` says whether it awards credit
    ("credit") or records attendance only ("attendance", no CE hours: `ce_hours` is "0")."""
    record = record_of(certificate)
    return {
        "code": certificate.code,
        "status": certificate.status,
        "kind": str(record.kind),
        "sample": record.sample,
        "learner_name": record.learner_name,
        "licences": [
            {
                "profession": licence.profession,
                "jurisdiction": licence.jurisdiction,
                "number_last4": licence.number_last4,
            }
            for licence in record.licences
        ],
        "course_title": record.course_title,
        "ce_hours": record.ce_hours_text,
        "format": record.format,
        "completion_date": record.completion_date.isoformat(),
        "presenter": record.presenter,
        "provider": {
            "name": record.provider.name,
            "email": record.provider.email,
            "configured": record.provider.configured,
        },
        "credits": [
            {
                "accreditor": approval.accreditor,
                "provider_number": approval.provider_number,
                "hours": approval.hours_text,
                "credit_type": approval.credit_type,
                "approval_code": approval.approval_code,
                "statement": approval.statement,
            }
            for approval in record.approvals
        ],
        "issued_at": record.issued_at.isoformat(),
        "revoked": (
            {"at": certificate.revoked_at.isoformat(), "reason": certificate.revoked_reason}
            if certificate.revoked_at
            else None
        ),
        "superseded_by": certificate.superseded_by.code if certificate.superseded_by_id else None,
    }


def certificates_of(*, user: User) -> QuerySet[Certificate]:
    """The learner's certificates that stand (valid or revoked, not replaced), newest first."""
    return (
        Certificate.objects.filter(enrollment__user=user, superseded_by__isnull=True)
        .select_related("enrollment__course")
        .order_by("-issued_at")
    )


# Most boards renew every two years; the transcript counts a licence's current cycle as the two
# years up to its next renewal date.
RENEWAL_CYCLE_YEARS = 2


@dataclass(frozen=True)
class TranscriptEntry:
    """One certificate on the transcript, with the record it was issued with."""

    certificate: Certificate
    record: CertificateRecord

    @property
    def counts(self) -> bool:
        """Whether its hours count: a valid certificate that awards credit."""
        return self.certificate.status == CertificateStatus.VALID and self.record.is_credit


@dataclass
class LicenceTotal:
    licence: Licence
    hours: Decimal
    cycle_start: date | None = None
    cycle_hours: Decimal | None = None
    remaining: Decimal | None = None


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # February 29 in a year that has none
        return day.replace(year=day.year - years, day=28)


def transcript_of(*, user: User) -> dict:
    """Every certificate with its credit, and per licence the hours earned and what remains of
    the current renewal cycle where the renewal date and required hours are known. Revoked
    certificates and certificates of attendance count no hours."""
    entries = [
        TranscriptEntry(certificate=certificate, record=record_of(certificate))
        for certificate in certificates_of(user=user)
    ]
    counting = [entry.record for entry in entries if entry.counts]
    totals = []
    for licence in Licence.objects.filter(user=user).order_by("profession", "jurisdiction"):
        total = LicenceTotal(
            licence=licence,
            hours=sum((r.hours_for(licence.profession) for r in counting), Decimal(0)),
        )
        if licence.renewal_date:
            renewal = licence.renewal_date
            total.cycle_start = _years_before(renewal, RENEWAL_CYCLE_YEARS)
            total.cycle_hours = sum(
                (
                    r.hours_for(licence.profession)
                    for r in counting
                    if total.cycle_start < r.completion_date <= renewal
                ),
                Decimal(0),
            )
            if licence.hours_required is not None:
                total.remaining = max(Decimal(0), licence.hours_required - total.cycle_hours)
        totals.append(total)
    return {
        "entries": entries,
        "licence_totals": totals,
        "total_hours": sum((r.ce_hours for r in counting), Decimal(0)),
    }
