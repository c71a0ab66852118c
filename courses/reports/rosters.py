"""The rows of the completion roster and the CE Broker upload, read with `.iterator()` so a long
roster streams without being held in memory, in a fixed number of queries."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone, translation

from accounts.jurisdictions import Jurisdiction
from accounts.models import Profession
from courses.credentials_record import CertificateRecord, PrintedLicence, record_of
from courses.models import (
    Certificate,
    CertificateStatus,
    Course,
    CourseApproval,
    QuizAttempt,
)

# Rows fetched per round trip while a CSV streams.
CSV_CHUNK_SIZE = 500


# --- Certificate rows for the CSV exports -------------------------------------------------------


@dataclass(frozen=True)
class CompletionFilter:
    """Which completions an export covers: a course, and completion dates (inclusive, in the
    site's time zone)."""

    course: Course | None = None
    start: datetime.date | None = None
    end: datetime.date | None = None


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def standing_certificates(filters: CompletionFilter) -> QuerySet[Certificate]:
    """Certificates that stand (not replaced by a reissue), revoked ones included, with their
    learner, course and the best passed score, oldest completion first. One query."""
    best_score = (
        QuizAttempt.objects.filter(enrollment=OuterRef("enrollment_id"), passed=True)
        .order_by("-score")
        .values("score")[:1]
    )
    certificates = Certificate.objects.filter(superseded_by__isnull=True)
    if filters.course is not None:
        certificates = certificates.filter(enrollment__course=filters.course)
    if filters.start is not None:
        certificates = certificates.filter(enrollment__completed_at__gte=_day_start(filters.start))
    if filters.end is not None:
        certificates = certificates.filter(
            enrollment__completed_at__lt=_day_start(filters.end + datetime.timedelta(days=1))
        )
    return (
        certificates.select_related("enrollment__user", "enrollment__course")
        .only(
            "code",
            "status",
            "snapshot",
            "learner_name",
            "enrollment__completed_at",
            "enrollment__user__email",
            "enrollment__course__slug",
            "enrollment__course__title",
            "enrollment__course__ce_hours",
        )
        .annotate(best_score=Subquery(best_score))
        .order_by("enrollment__completed_at", "pk")
    )


ROSTER_HEADER = [
    "Learner name",
    "E-mail",
    "Profession",
    "Licence number",
    "Jurisdiction",
    "Course",
    "CE hours",
    "Credit types",
    "Completion date",
    "Score",
    "Certificate code",
    "Certificate status",
]


def credit_types(record: CertificateRecord) -> str:
    """The credit printed on a certificate, e.g. "APA general; ASWB ACE clinical"; none on a
    certificate of attendance."""
    return "; ".join(
        f"{approval.accreditor} {approval.credit_type}".strip() for approval in record.approvals
    )


def roster_rows(filters: CompletionFilter) -> Iterator[list[str]]:
    """The audit roster: a row per licence printed on each standing certificate (one row with
    the licence columns blank when none was printed). One query, streamed."""
    statuses = dict(CertificateStatus.choices)
    for certificate in standing_certificates(filters).iterator(chunk_size=CSV_CHUNK_SIZE):
        record = record_of(certificate)
        enrollment = certificate.enrollment
        common_before = [record.learner_name, enrollment.user.email]
        common_after = [
            record.course_title,
            # The credit awarded: 0 on a certificate of attendance.
            record.ce_hours_text,
            credit_types(record),
            record.completion_date.isoformat(),
            "" if certificate.best_score is None else f"{certificate.best_score:.2f}",
            certificate.code,
            str(statuses.get(certificate.status, certificate.status)),
        ]
        licences = record.licences or (PrintedLicence(profession="", number=""),)
        for licence in licences:
            yield [
                *common_before,
                licence.profession,
                licence.number,
                licence.jurisdiction,
                *common_after,
            ]


CE_BROKER_HEADER = [
    "Provider Number",
    "Course Number",
    "License Number",
    "Completion Date",
    "State",
    "Profession",
    "Hours",
]

CE_BROKER_ACCREDITOR = "CE Broker"

PROFESSION_CODES = {
    Profession.PSYCHOLOGIST: "PSY",
    Profession.PROFESSIONAL_COUNSELOR: "MHC",
    Profession.CLINICAL_SOCIAL_WORKER: "CSW",
    Profession.MARRIAGE_FAMILY_THERAPIST: "MFT",
    Profession.ADDICTION_COUNSELOR: "ADC",
    Profession.OTHER: "OTH",
}


def _profession_values_by_label() -> dict[str, str]:
    """Snapshots print the profession's name ("Clinical social worker"), not its code: map the
    names (English, and the active language) and the codes themselves back to the code."""
    names = {value: value for value in Profession.values}
    with translation.override("en"):
        names |= {str(label).casefold(): value for value, label in Profession.choices}
    names |= {str(label).casefold(): value for value, label in Profession.choices}
    return names


def profession_code(printed: str, names: dict[str, str] | None = None) -> str:
    """CE Broker's short code for a profession as printed on a certificate."""
    names = names if names is not None else _profession_values_by_label()
    value = names.get(printed) or names.get(printed.casefold())
    return PROFESSION_CODES.get(value, PROFESSION_CODES[Profession.OTHER])


_JURISDICTION_BY_NAME = {label: value for value, label in Jurisdiction.choices}


def _licence_state(licence: PrintedLicence) -> str:
    """The jurisdiction code of a printed licence (older snapshots may carry only the name)."""
    return licence.jurisdiction_code or _JURISDICTION_BY_NAME.get(licence.jurisdiction, "")


@dataclass(frozen=True)
class _BrokerApproval:
    code: str
    hours: Decimal
    valid_from: datetime.date
    valid_until: datetime.date


def _ce_broker_approvals(filters: CompletionFilter) -> dict[int, list[_BrokerApproval]]:
    """Every course's CE Broker approvals, read once (one query) for the whole export."""
    approvals = CourseApproval.objects.filter(
        accreditor__short_name__icontains=CE_BROKER_ACCREDITOR
    ).exclude(approval_code="")
    if filters.course is not None:
        approvals = approvals.filter(course=filters.course)
    by_course: dict[int, list[_BrokerApproval]] = defaultdict(list)
    for course_id, code, hours, valid_from, valid_until in approvals.order_by(
        "course_id", "-valid_until", "pk"
    ).values_list("course_id", "approval_code", "hours", "valid_from", "valid_until"):
        by_course[course_id].append(_BrokerApproval(code.strip(), hours, valid_from, valid_until))
    return by_course


def _approval_on(approvals: list[_BrokerApproval], day: datetime.date | None):
    """The approval in force on the completion date, else the latest one."""
    for approval in approvals:
        if day is not None and approval.valid_from <= day <= approval.valid_until:
            return approval, True
    return (approvals[0], False) if approvals else (None, False)


def _hours(value: Decimal) -> str:
    return f"{value.normalize():f}"


def ce_broker_rows(
    filters: CompletionFilter, *, state: str, provider_number: str
) -> Iterator[list[str]]:
    """CE Broker's roster upload: a row per valid certificate and per licence printed on it in
    `state`. Revoked certificates and certificates of attendance are left out: CE Broker is told
    of credit that stands. Two queries, streamed."""
    approvals = _ce_broker_approvals(filters)
    names = _profession_values_by_label()
    certificates = standing_certificates(filters).filter(status=CertificateStatus.VALID)
    for certificate in certificates.iterator(chunk_size=CSV_CHUNK_SIZE):
        record = record_of(certificate)
        if not record.is_credit:
            continue
        licences = [
            licence
            for licence in record.licences
            if _licence_state(licence) == state and licence.number
        ]
        if not licences:
            continue
        course = certificate.enrollment.course
        day = record.completion_date
        approval, in_force = _approval_on(approvals.get(course.pk, []), day)
        hours = record.ce_hours
        if approval is not None and in_force:
            # Credit is never more than the hours CE Broker approved.
            hours = min(hours, approval.hours)
        for licence in licences:
            yield [
                provider_number,
                approval.code if approval is not None else course.slug,
                licence.number,
                day.strftime("%m/%d/%Y"),
                state,
                # Newer snapshots carry the profession's code; older ones only its printed name.
                PROFESSION_CODES.get(licence.profession_code)
                or profession_code(licence.profession, names),
                _hours(hours),
            ]
