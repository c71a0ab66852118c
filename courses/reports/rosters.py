"""The rows of the completion roster, read with `.iterator()` so a long roster streams without
being held in memory, and of CE Broker's roster upload: its rows, the completions it cannot
report and why, and what a posted roster needs corrected. Each in a fixed number of queries."""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone, translation

from accounts.jurisdictions import Jurisdiction
from accounts.models import Profession
from courses.credentials_record import (
    CertificateRecord,
    PrintedApproval,
    PrintedLicence,
    RecordError,
    record_of,
)
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


def completed_within(
    certificates: QuerySet[Certificate], filters: CompletionFilter
) -> QuerySet[Certificate]:
    """Certificates of the filter's course whose completion falls within its dates."""
    if filters.course is not None:
        certificates = certificates.filter(enrollment__course=filters.course)
    if filters.start is not None:
        certificates = certificates.filter(enrollment__completed_at__gte=_day_start(filters.start))
    if filters.end is not None:
        certificates = certificates.filter(
            enrollment__completed_at__lt=_day_start(filters.end + datetime.timedelta(days=1))
        )
    return certificates


def standing_certificates(filters: CompletionFilter) -> QuerySet[Certificate]:
    """Certificates that stand (not replaced by a reissue), revoked ones included, with their
    learner, course and the best passed score, oldest completion first. One query."""
    best_score = (
        QuizAttempt.objects.filter(enrollment=OuterRef("enrollment_id"), passed=True)
        .order_by("-score")
        .values("score")[:1]
    )
    certificates = completed_within(Certificate.objects.filter(superseded_by__isnull=True), filters)
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


# --- CE Broker's roster upload ------------------------------------------------------------------
#
# The file as CE Broker's provider help pages describe its Excel upload, one row per completion
# and no header row (https://help.cebroker.com/hc/en-us/articles/15226514662548, full credit;
# https://help.cebroker.com/hc/en-us/articles/15226532103572-Creating-Excel-Files-Partial-Course-Credit,
# partial credit):
#   A  the provider tracking number, without its "50-" prefix
#   B  the course tracking number, without its "20-" prefix (C, the provider's own course ID,
#      stays blank: B is always given)
#   D  a CE Broker publishing number: blank, as for most providers
#   E  the licence number, exactly as the state's licence lookup shows it
#   F  the completion date, an Excel date
#   G  "State=<abbreviation>"
#   H  "Profession=<CE Broker profession code>"
#   I  the CE Broker subject-area code, and J the hours earned: partial credit only
# Both pages ask for a ".xls" file; neither says CE Broker takes ".xlsx", so .xls it is.

PROVIDER_PREFIX = "50-"
COURSE_PREFIX = "20-"
COLUMNS = "ABCDEFGHIJ"


@dataclass(frozen=True)
class CeBrokerProfession:
    """CE Broker's code for a profession licensed in one state, and the letters that state's
    licence numbers for it begin with (what its licence lookup shows)."""

    code: str
    licence_prefix: str


# CE Broker's profession codes, by state and profession: a maintained table. CE Broker publishes
# its list behind the "Profession Codes" link of the Excel pages above; that list itself was not
# among the pages that could be read, so only what the following sources show is here:
# - For a Florida licence, CE Broker's profession code is the letters the licence number begins
#   with: its licence-validation example sends profession "SA" for licence "SA99999999"
#   (https://help.cebroker.com/hc/en-us/articles/15226531517716-XML-License-Validation-Examples).
# - Florida's Department of Health numbers psychologists PY, clinical social workers SW,
#   marriage and family therapists MT and mental health counselors MH
#   (https://browardconnections.org/helpful-information.html, "Florida Licensed Mental Health
#   Professions Classifications"); a provider's roster posted to CE Broker's web service with
#   "PY" and "SW" for Florida psychologists and clinical social workers agrees.
# A profession or state not listed is refused by name on the export page, never sent as "other":
# add its row here from CE Broker's list (with the page it came from) to report it. Florida's
# addiction counselors are certified by the Florida Certification Board, not licensed by the
# Department of Health, and have no code here.
CE_BROKER_PROFESSIONS: dict[tuple[str, str], CeBrokerProfession] = {
    ("FL", Profession.PSYCHOLOGIST): CeBrokerProfession(code="PY", licence_prefix="PY"),
    ("FL", Profession.CLINICAL_SOCIAL_WORKER): CeBrokerProfession(code="SW", licence_prefix="SW"),
    ("FL", Profession.MARRIAGE_FAMILY_THERAPIST): CeBrokerProfession(
        code="MT", licence_prefix="MT"
    ),
    ("FL", Profession.PROFESSIONAL_COUNSELOR): CeBrokerProfession(code="MH", licence_prefix="MH"),
}


class LicenceNumberError(ValueError):
    """A licence number that cannot be written the way the state's lookup shows it."""


_FLORIDA_NUMBER = re.compile(r"([A-Z]+)([0-9]+)")


def _florida_licence(number: str, profession: CeBrokerProfession) -> str:
    """Florida's lookup shows a licence as its profession's letters then digits, upper case, no
    spaces or dashes (MH12345). CE Broker matches the full number against it (since 5 September
    2021 its roster service asks for the full number as the state's lookup shows it:
    https://help.cebroker.com/hc/en-us/articles/15226511846292-Web-Service-Roster-posting-update-Role-1-to-Role-2),
    so the letters are kept, and a number without them, with other letters or with anything else
    in it is refused rather than guessed at."""
    compact = re.sub(r"[\s\-]+", "", number).upper()
    match = _FLORIDA_NUMBER.fullmatch(compact)
    if match is None:
        raise LicenceNumberError(
            f"Florida licence numbers are letters then digits, such as "
            f"{profession.licence_prefix}12345; {number!r} is not."
        )
    if match.group(1) != profession.licence_prefix:
        raise LicenceNumberError(
            f"{number!r} does not begin with {profession.licence_prefix}, the letters of this "
            f"profession's Florida licence numbers."
        )
    return compact


# How each state's licence lookup writes a number; a state without a rule here is not reported.
LICENCE_NUMBER_RULES = {"FL": _florida_licence}


def ce_broker_licence_number(state: str, number: str, profession: CeBrokerProfession) -> str:
    """The licence number as `state`'s lookup shows it; LicenceNumberError when it cannot be."""
    rule = LICENCE_NUMBER_RULES.get(state)
    if rule is None:
        raise LicenceNumberError(f"this site has no licence-number rule for {state} yet.")
    return rule(number, profession)


def without_prefix(number: str, prefix: str) -> str:
    """A CE Broker tracking number as its upload wants it: no "50-"/"20-" prefix, no spaces."""
    number = number.strip()
    return number[len(prefix) :] if number.startswith(prefix) else number


@dataclass(frozen=True)
class CeBrokerRow:
    """One completion as CE Broker's upload takes it, with what it was read from."""

    completion: str
    enrollment_id: int
    certificate_id: int
    certificate_code: str
    learner_name: str
    profession: str
    provider_number: str
    course_number: str
    licence_number: str
    completed_on: datetime.date
    state: str
    profession_code: str
    subject_code: str = ""
    partial_hours: Decimal | None = None

    def cells(self) -> list[str]:
        """Columns A to H (and I and J for partial credit) as stored with the roster; the
        completion date in ISO form, which each file writes its own way."""
        cells = [
            self.provider_number,
            self.course_number,
            "",
            "",
            self.licence_number,
            self.completed_on.isoformat(),
            f"State={self.state}",
            f"Profession={self.profession_code}",
        ]
        if self.partial_hours is not None:
            cells += [self.subject_code, _hours(self.partial_hours)]
        return cells


@dataclass(frozen=True)
class CeBrokerRefusal:
    """A completion that cannot go to CE Broker, with why and what to do."""

    enrollment_id: int
    learner_name: str
    certificate_code: str
    profession: str
    licence_number: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {
            "learner": self.learner_name,
            "certificate": self.certificate_code,
            "profession": self.profession,
            "licence": self.licence_number,
            "reason": self.reason,
        }


def _profession_values_by_label() -> dict[str, str]:
    """Older snapshots print the profession's name ("Clinical social worker"), not its code: map
    the names (English, and the active language) and the codes themselves back to the code."""
    names = {value: value for value in Profession.values}
    with translation.override("en"):
        names |= {str(label).casefold(): value for value, label in Profession.choices}
    names |= {str(label).casefold(): value for value, label in Profession.choices}
    return names


def profession_of(licence: PrintedLicence, names: dict[str, str] | None = None) -> str:
    """The profession (a `Profession` value) of a printed licence; "" when it is not one."""
    if licence.profession_code in Profession.values:
        return licence.profession_code
    names = names if names is not None else _profession_values_by_label()
    return names.get(licence.profession) or names.get(licence.profession.casefold(), "")


_JURISDICTION_BY_NAME = {label: value for value, label in Jurisdiction.choices}


def _licence_state(licence: PrintedLicence) -> str:
    """The jurisdiction code of a printed licence (older snapshots may carry only the name)."""
    return licence.jurisdiction_code or _JURISDICTION_BY_NAME.get(licence.jurisdiction, "")


@dataclass(frozen=True)
class _BrokerApproval:
    course_number: str
    accreditor: str
    hours: Decimal
    valid_from: datetime.date
    valid_until: datetime.date
    professions: frozenset[str]


def ce_broker_approvals(
    course_ids: Iterable[int] | None = None,
) -> dict[int, list[_BrokerApproval]]:
    """The approvals CE Broker reports (those carrying its course number), by course, with the
    professions each serves. One query for the whole export."""
    approvals = CourseApproval.objects.exclude(ce_broker_course_number="")
    if course_ids is not None:
        approvals = approvals.filter(course_id__in=list(course_ids))
    found: dict[int, dict] = {}
    for (
        pk,
        course_id,
        number,
        short_name,
        hours,
        valid_from,
        valid_until,
        profession,
    ) in approvals.order_by("course_id", "-valid_until", "pk").values_list(
        "pk",
        "course_id",
        "ce_broker_course_number",
        "accreditor__short_name",
        "hours",
        "valid_from",
        "valid_until",
        "accreditor__professions__profession",
    ):
        entry = found.setdefault(
            pk,
            {
                "course_id": course_id,
                "args": (number, short_name, hours, valid_from, valid_until),
                "professions": set(),
            },
        )
        if profession:
            entry["professions"].add(profession)
    by_course: dict[int, list[_BrokerApproval]] = defaultdict(list)
    for entry in found.values():
        number, short_name, hours, valid_from, valid_until = entry["args"]
        by_course[entry["course_id"]].append(
            _BrokerApproval(
                course_number=without_prefix(number, COURSE_PREFIX),
                accreditor=short_name,
                hours=hours,
                valid_from=valid_from,
                valid_until=valid_until,
                professions=frozenset(entry["professions"]),
            )
        )
    return by_course


def _reporting_approval(
    approvals: list[_BrokerApproval], record: CertificateRecord, profession: str
) -> tuple[_BrokerApproval, PrintedApproval] | None:
    """The CE Broker approval this licence's credit was awarded under: in force on the
    completion date, serving the profession, and printed on the certificate. None when the
    credit came from elsewhere (then CE Broker is not this completion's business)."""
    day = record.completion_date
    for approval in approvals:
        if not (approval.valid_from <= day <= approval.valid_until):
            continue
        if profession not in approval.professions:
            continue
        for printed in record.approvals:
            # Older records print no professions; the accreditor then stands for the approval.
            if printed.accreditor == approval.accreditor and (
                not printed.professions or profession in printed.professions
            ):
                return approval, printed
    return None


def _hours(value: Decimal) -> str:
    return f"{value.normalize():f}"


def ce_broker_outcomes(
    certificate: Certificate,
    *,
    state: str,
    provider_number: str,
    approvals: dict[int, list[_BrokerApproval]],
    names: dict[str, str],
) -> Iterator[CeBrokerRow | CeBrokerRefusal]:
    """What CE Broker is told of one certificate for `state`: a row per licence printed in that
    state whose credit came from an approval CE Broker reports, or a refusal saying why that
    licence cannot be reported. A certificate that stands no more, or of attendance, tells CE
    Broker nothing."""
    if certificate.status != CertificateStatus.VALID:
        return
    enrollment = certificate.enrollment
    course_approvals = approvals.get(enrollment.course_id, [])
    if not course_approvals:
        return
    try:
        record = record_of(certificate)
    except RecordError as unreadable:
        yield CeBrokerRefusal(
            enrollment_id=enrollment.pk,
            learner_name=certificate.learner_name,
            certificate_code=certificate.code,
            profession="",
            licence_number="",
            reason=(
                f"The certificate's record cannot be read ({unreadable}); nothing on it can be "
                f"reported. Reissue the certificate, then generate the roster again."
            ),
        )
        return
    if not record.is_credit:
        return
    state_name = Jurisdiction(state).label
    seen: set[str] = set()
    for licence in record.licences:
        if _licence_state(licence) != state:
            continue
        profession = profession_of(licence, names)
        found = _reporting_approval(course_approvals, record, profession)
        if found is None:
            continue
        approval, printed = found

        def refused(reason: str, licence=licence) -> CeBrokerRefusal:
            return CeBrokerRefusal(
                enrollment_id=enrollment.pk,
                learner_name=record.learner_name,
                certificate_code=certificate.code,
                profession=licence.profession,
                licence_number=licence.number,
                reason=reason,
            )

        code = CE_BROKER_PROFESSIONS.get((state, profession))
        if code is None:
            # The table is CE_BROKER_PROFESSIONS above; a developer adds the code, with its
            # source, once CE Broker's list gives it.
            yield refused(
                f"No CE Broker profession code is on record for "
                f"{licence.profession or 'this profession'} in {state_name}. Report this "
                f"completion in CE Broker by hand, and ask the site's developers to add the code "
                f"from CE Broker's profession-code list so later rosters include it."
            )
            continue
        try:
            number = ce_broker_licence_number(state, licence.number, code)
        except LicenceNumberError as error:
            yield refused(
                f"The licence number cannot be written as {state_name}'s lookup shows it: "
                f"{error} Ask the learner to correct it on their account and reissue the "
                f"certificate, or report this completion in CE Broker by hand."
            )
            continue
        completion = f"{state}:{enrollment.pk}:{code.code}"
        if completion in seen:
            yield refused(
                f"The certificate prints two {state_name} licences for this profession; CE "
                f"Broker takes one completion per profession. Report the other by hand."
            )
            continue
        seen.add(completion)
        awarded = min(printed.hours, record.ce_hours)
        if awarded < approval.hours:
            # Partial credit needs CE Broker's subject-area code (column I), which this site
            # does not record: refused rather than sent as full credit.
            yield refused(
                f"Partial credit: {_hours(awarded)} of the {_hours(approval.hours)} hours CE "
                f"Broker approved. CE Broker needs a subject-area code for partial credit, "
                f"which is not on record here; report this completion in CE Broker by hand."
            )
            continue
        yield CeBrokerRow(
            completion=completion,
            enrollment_id=enrollment.pk,
            certificate_id=certificate.pk,
            certificate_code=certificate.code,
            learner_name=record.learner_name,
            profession=licence.profession,
            provider_number=provider_number,
            course_number=approval.course_number,
            licence_number=number,
            completed_on=record.completion_date,
            state=state,
            profession_code=code.code,
        )


def _ce_broker_certificates(certificates: QuerySet[Certificate]) -> QuerySet[Certificate]:
    return certificates.select_related("enrollment").only(
        "code",
        "status",
        "snapshot",
        "learner_name",
        "revoked_at",
        "revoked_reason",
        "enrollment__course_id",
    )


def ce_broker_rows(
    filters: CompletionFilter, *, state: str, provider_number: str
) -> tuple[list[CeBrokerRow], list[CeBrokerRefusal]]:
    """CE Broker's roster for `state`: a row per valid certificate and licence printed in that
    state whose credit came from an approval CE Broker reports, oldest completion first, and the
    completions refused with the reason. Two queries, however many certificates."""
    approvals = ce_broker_approvals([filters.course.pk] if filters.course is not None else None)
    names = _profession_values_by_label()
    rows: list[CeBrokerRow] = []
    refusals: list[CeBrokerRefusal] = []
    certificates = _ce_broker_certificates(
        completed_within(
            Certificate.objects.filter(
                superseded_by__isnull=True,
                status=CertificateStatus.VALID,
                # Only courses with an approval CE Broker reports have anything to tell it.
                enrollment__course_id__in=list(approvals),
            ),
            filters,
        )
    ).order_by("enrollment__completed_at", "pk")
    for certificate in certificates.iterator(chunk_size=CSV_CHUNK_SIZE):
        for outcome in ce_broker_outcomes(
            certificate,
            state=state,
            provider_number=provider_number,
            approvals=approvals,
            names=names,
        ):
            (rows if isinstance(outcome, CeBrokerRow) else refusals).append(outcome)
    return rows, refusals


def ce_broker_rows_now(
    enrollment_ids: Iterable[int], *, state: str, provider_number: str
) -> dict[int, tuple[Certificate | None, list[CeBrokerRow]]]:
    """For each enrollment, the certificate that stands for it now (revoked ones included) and
    the rows CE Broker would be told of it today: what a posted roster is compared with. Two
    queries."""
    enrollment_ids = list(enrollment_ids)
    certificates = list(
        _ce_broker_certificates(
            Certificate.objects.filter(enrollment_id__in=enrollment_ids, superseded_by__isnull=True)
        )
    )
    approvals = ce_broker_approvals({c.enrollment.course_id for c in certificates})
    names = _profession_values_by_label()
    now: dict[int, tuple[Certificate | None, list[CeBrokerRow]]] = {
        pk: (None, []) for pk in enrollment_ids
    }
    for certificate in certificates:
        rows = [
            outcome
            for outcome in ce_broker_outcomes(
                certificate,
                state=state,
                provider_number=provider_number,
                approvals=approvals,
                names=names,
            )
            if isinstance(outcome, CeBrokerRow)
        ]
        now[certificate.enrollment_id] = (certificate, rows)
    return now


COLUMN_NAMES = {
    "A": "provider number",
    "B": "course number",
    "E": "licence number",
    "F": "completion date",
    "G": "state",
    "H": "profession",
    "I": "subject area",
    "J": "hours",
}


@dataclass(frozen=True)
class CeBrokerCorrection:
    """A row of a roster that no longer says what stands: what was in the file, what CE Broker
    should hold instead (nothing, for a revoked certificate), and what changed."""

    position: int
    learner_name: str
    certificate_code: str
    in_file: list[str]
    now: list[str] | None
    what: str


def _changed_columns(before: list[str], after: list[str]) -> str:
    changes = []
    for index, column in enumerate(COLUMNS):
        was = before[index] if index < len(before) else ""
        now = after[index] if index < len(after) else ""
        if was != now:
            changes.append(f"{COLUMN_NAMES.get(column, column)} ({column}) {was!r} is now {now!r}")
    return "; ".join(changes)


def ce_broker_corrections(roster) -> list[CeBrokerCorrection]:
    """The rows of `roster` that no longer match what stands: a certificate revoked since, or
    reissued with another licence number, date, course number or hours. For a posted roster it
    is what CE Broker must be asked to correct; the roster itself never changes. Four queries,
    however long the roster."""
    entries = list(
        roster.entries.select_related("certificate")
        .only(
            "position",
            "enrollment_id",
            "completion",
            "roster_id",
            "certificate__code",
            "certificate__learner_name",
        )
        .order_by("position")
    )
    if not entries:
        return []
    provider_number = roster.rows[0][0] if roster.rows else ""
    now = ce_broker_rows_now(
        [entry.enrollment_id for entry in entries],
        state=roster.state,
        provider_number=provider_number,
    )
    corrections = []
    for entry in entries:
        in_file = list(roster.rows[entry.position - 1])
        standing, rows = now.get(entry.enrollment_id, (None, []))
        current = next((row for row in rows if row.completion == entry.completion), None)
        code = standing.code if standing is not None else entry.certificate.code
        if standing is not None and standing.status == CertificateStatus.REVOKED:
            revoked_on = (
                timezone.localdate(standing.revoked_at).isoformat() if standing.revoked_at else ""
            )
            what = (
                f"Certificate {standing.code} was revoked on {revoked_on}: "
                f"{standing.revoked_reason} Ask CE Broker to remove this completion."
            )
            new = None
        elif current is None:
            what = (
                "This completion is no longer one CE Broker is told of (the certificate that "
                "stands prints no licence or approval that it reports). Ask CE Broker to remove "
                "it."
            )
            new = None
        elif current.cells() != in_file:
            new = current.cells()
            what = (
                f"Certificate {current.certificate_code} now says: "
                f"{_changed_columns(in_file, new)}. Ask CE Broker to correct this completion."
            )
        else:
            continue
        corrections.append(
            CeBrokerCorrection(
                position=entry.position,
                learner_name=entry.certificate.learner_name,
                certificate_code=code,
                in_file=in_file,
                now=new,
                what=what,
            )
        )
    return corrections
