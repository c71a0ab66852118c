"""Reads of certificates: lookups by code and PDF, the public record, the transcript."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import QuerySet

from accounts.models import Licence, User
from courses.models import (
    Certificate,
)


def certificate_by_code(code: str) -> Certificate | None:
    """The certificate with this canonical code, with the one that replaced it."""
    return Certificate.objects.select_related("superseded_by").filter(code=code).first()


def certificate_by_pdf_digest(digest: str) -> Certificate | None:
    return Certificate.objects.select_related("superseded_by").filter(pdf_sha256=digest).first()


def public_record(certificate: Certificate) -> dict:
    """What anyone holding the code may learn: the record, with licence numbers cut to their
    last four characters, and the certificate's standing."""
    snapshot = certificate.snapshot
    return {
        "code": certificate.code,
        "status": certificate.status,
        "sample": not snapshot["provider"]["configured"],
        "learner_name": snapshot["learner_name"],
        "licences": [
            {
                "profession": licence["profession"],
                "jurisdiction": licence["jurisdiction"],
                "number_last4": licence["number"][-4:],
            }
            for licence in snapshot["licences"]
        ],
        "course_title": snapshot["course_title"],
        "ce_hours": snapshot["ce_hours"],
        "format": snapshot["format"],
        "completion_date": snapshot["completion_date"],
        "presenter": snapshot["presenter"],
        "provider": {
            "name": snapshot["provider"]["name"],
            "email": snapshot["provider"]["email"],
            "configured": snapshot["provider"]["configured"],
        },
        "credits": [
            {
                "accreditor": approval["accreditor"],
                "provider_number": approval["provider_number"],
                "hours": approval["hours"],
                "credit_type": approval["credit_type"],
                "approval_code": approval["approval_code"],
                "statement": approval["statement"],
            }
            for approval in snapshot["approvals"]
        ],
        "issued_at": snapshot["issued_at"],
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


@dataclass
class LicenceTotal:
    licence: Licence
    hours: Decimal
    cycle_start: date | None = None
    cycle_hours: Decimal | None = None
    remaining: Decimal | None = None


def _hours_for(snapshot: dict, profession: str) -> Decimal:
    """The credit a certificate carries for one profession: its largest approval serving it."""
    hours = [
        Decimal(approval["hours"])
        for approval in snapshot["approvals"]
        if profession in approval.get("professions", [])
    ]
    return max(hours, default=Decimal("0"))


def transcript_of(*, user: User) -> dict:
    """Every certificate with its credit, and per licence the hours earned and what remains of
    the current renewal cycle where the renewal date and required hours are known."""
    certificates = list(certificates_of(user=user))
    standing = [c for c in certificates if c.status == "valid"]
    totals = []
    for licence in Licence.objects.filter(user=user).order_by("profession", "jurisdiction"):
        total = LicenceTotal(
            licence=licence,
            hours=sum((_hours_for(c.snapshot, licence.profession) for c in standing), Decimal(0)),
        )
        if licence.renewal_date:
            renewal = licence.renewal_date
            total.cycle_start = renewal.replace(year=renewal.year - RENEWAL_CYCLE_YEARS)
            total.cycle_hours = sum(
                (
                    _hours_for(c.snapshot, licence.profession)
                    for c in standing
                    if total.cycle_start
                    < date.fromisoformat(c.snapshot["completion_date"])
                    <= renewal
                ),
                Decimal(0),
            )
            if licence.hours_required is not None:
                total.remaining = max(Decimal(0), licence.hours_required - total.cycle_hours)
        totals.append(total)
    return {
        "certificates": certificates,
        "licence_totals": totals,
        "total_hours": sum((Decimal(c.snapshot["ce_hours"]) for c in standing), Decimal(0)),
    }
