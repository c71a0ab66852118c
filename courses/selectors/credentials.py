"""Reads of certificates: lookups by code and PDF, the public record, the transcript per licence
and renewal cycle under each board's rule (`courses.selectors.boards`). Each reads the
certificate's record (`courses.credentials_record`), never its stored dict."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Licence, User
from courses.credentials_record import CertificateRecord, record_of
from courses.models import (
    BoardRule,
    Certificate,
    CertificateStatus,
    Course,
    FactStatus,
    SubjectRequirement,
)

from .boards import (
    FINAL_WORD,
    Acceptance,
    Cycle,
    acceptance,
    cycle_for,
    cycle_of_day,
    every_n_in_words,
    rules_for,
    with_rule_flag,
)


def certificate_by_code(code: str) -> Certificate | None:
    """The certificate with this canonical code, with the one that replaced it. Codes are
    unique: no ordering to build into the query (`first()` would add one)."""
    try:
        return Certificate.objects.select_related("superseded_by").get(code=code)
    except Certificate.DoesNotExist:
        return None


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
class CreditLine:
    """One certificate's credit for one licence: what its approvals grant the licence's
    profession, what the board's rule lets count, and the subject hours it carries."""

    entry: TranscriptEntry
    hours: Decimal
    acceptance: Acceptance
    # Subject slug -> hours its counting approvals grant toward that subject.
    subject_hours: dict[str, Decimal] = field(default_factory=dict)
    # After the self-study cap (and nothing where the board does not accept the approval).
    counted: Decimal = Decimal(0)

    @property
    def record(self) -> CertificateRecord:
        return self.entry.record

    @property
    def completion_date(self) -> date:
        return self.entry.record.completion_date

    @property
    def over_cap(self) -> Decimal:
        if self.acceptance == Acceptance.NOT_ACCEPTED:
            return Decimal(0)
        return self.hours - self.counted

    @property
    def accepted(self) -> bool:
        return self.acceptance == Acceptance.ACCEPTED

    @property
    def unconfirmed(self) -> bool:
        return self.acceptance == Acceptance.UNCONFIRMED

    @property
    def not_accepted(self) -> bool:
        return self.acceptance == Acceptance.NOT_ACCEPTED

    @property
    def approval_bodies(self) -> str:
        return ", ".join(sorted({a.body or a.accreditor for a in self.record.approvals}))


@dataclass
class SubjectProgress:
    """Hours toward one of the board's subject requirements in a cycle."""

    requirement: SubjectRequirement
    hours: Decimal
    # Some of the hours come from an approval the site cannot confirm the board accepts.
    unconfirmed: bool = False

    @property
    def hours_stated(self) -> bool:
        """Whether the site knows how many hours the board requires in the subject."""
        return self.requirement.hours is not None

    @property
    def missing(self) -> Decimal | None:
        """Hours still missing; None where the board's hours are not known to the site."""
        if not self.hours_stated:
            return None
        return max(Decimal(0), self.requirement.hours - self.hours)

    @property
    def met(self) -> bool:
        return self.hours_stated and not self.missing

    @property
    def every_n_cycles(self) -> int:
        return self.requirement.every_n_cycles

    @property
    def when(self) -> str:
        return every_n_in_words(self.requirement.every_n_cycles)


@dataclass
class CycleTotal:
    """A renewal cycle's credit for one licence, with the self-study cap applied."""

    cycle: Cycle
    credits: list[CreditLine]
    subjects: list[SubjectProgress] = field(default_factory=list)

    @property
    def start(self) -> date:
        return self.cycle.start

    @property
    def end(self) -> date:
        return self.cycle.end

    @property
    def earned(self) -> Decimal:
        """Hours granted by approvals the board accepts (or may accept), before the cap."""
        return sum((c.hours for c in self.credits if not c.not_accepted), Decimal(0))

    @property
    def counted(self) -> Decimal:
        return sum((c.counted for c in self.credits), Decimal(0))

    @property
    def over_cap(self) -> Decimal:
        return sum((c.over_cap for c in self.credits), Decimal(0))

    @property
    def self_study(self) -> Decimal:
        return sum(
            (c.hours for c in self.credits if c.record.self_study and not c.not_accepted),
            Decimal(0),
        )

    @property
    def unconfirmed(self) -> Decimal:
        return sum((c.counted for c in self.credits if c.unconfirmed), Decimal(0))

    @property
    def not_accepted(self) -> list[CreditLine]:
        return [c for c in self.credits if c.not_accepted]


@dataclass
class LicenceTotal:
    """One licence on the transcript: its board's rule (None where the site has none), the
    current cycle with what is still needed, and the past cycles."""

    licence: Licence
    rule: BoardRule | None
    # Every hour that counts for the licence, in all cycles, before any cap.
    hours: Decimal
    cycle: Cycle | None = None
    current: CycleTotal | None = None
    past: list[CycleTotal] = field(default_factory=list)
    required: Decimal | None = None
    # The hours required are the board's (the learner entered none), not the learner's own.
    required_from_board: bool = False
    remaining: Decimal | None = None
    days_left: int | None = None
    # The renewal date is more than one cycle away: today is before the cycle's first day.
    renewal_far_ahead: bool = False
    # The licence was issued within the current cycle: the board's first-renewal rule applies.
    first_cycle: bool = False
    # The hours the board's rule asks this cycle (its first-renewal hours in the first cycle).
    board_hours: Decimal | None = None

    @property
    def cycle_start(self) -> date | None:
        return self.cycle.start if self.cycle else None

    @property
    def cycle_hours(self) -> Decimal | None:
        return self.current.counted if self.current else None

    @property
    def cap(self) -> Decimal | None:
        """The self-study cap per cycle, where the board's rule states one."""
        rule = self.rule
        if rule and rule.self_study_status == FactStatus.KNOWN:
            return rule.self_study_cap_hours
        return None

    @property
    def cap_known(self) -> bool:
        return self.rule is not None and self.rule.self_study_status != FactStatus.UNKNOWN

    @property
    def approvals_known(self) -> bool:
        return self.rule is not None and self.rule.approvals_status != FactStatus.UNKNOWN

    @property
    def board_hours_differ(self) -> bool:
        """The learner's own hours differ from the board's rule (both are shown)."""
        return bool(
            self.board_hours is not None
            and self.licence.hours_required is not None
            and self.board_hours != self.licence.hours_required
        )


def _credit_line(
    entry: TranscriptEntry, licence: Licence, rule: BoardRule | None
) -> CreditLine | None:
    """The certificate's credit for this licence; None where no approval on it served the
    licence's profession."""
    serving = [a for a in entry.record.approvals if licence.profession in a.professions]
    if not serving:
        return None
    judged = [(a, acceptance(rule, a.body)) for a in serving]
    counting = [(a, verdict) for a, verdict in judged if verdict != Acceptance.NOT_ACCEPTED]
    if not counting:
        return CreditLine(
            entry=entry,
            hours=max(a.hours for a in serving),
            acceptance=Acceptance.NOT_ACCEPTED,
        )
    # Under one rule the approvals that count are all accepted or all unconfirmed.
    best = max(counting, key=lambda pair: (pair[1] == Acceptance.ACCEPTED, pair[0].hours))
    subject_hours: dict[str, Decimal] = {}
    for approval, _verdict in counting:
        for slug in approval.subjects:
            subject_hours[slug] = max(subject_hours.get(slug, Decimal(0)), approval.hours)
    return CreditLine(
        entry=entry, hours=best[0].hours, acceptance=best[1], subject_hours=subject_hours
    )


def _cycle_total(
    cycle: Cycle, credits: list[CreditLine], rule: BoardRule | None, *, with_subjects: bool
) -> CycleTotal:
    """The cycle's credits in completion order with the self-study cap applied: once the cap
    is reached, further self-study hours are shown but not counted."""
    credits = sorted(credits, key=lambda c: (c.completion_date, c.entry.record.issued_at))
    cap_left = None
    if rule is not None and rule.self_study_status == FactStatus.KNOWN:
        cap_left = rule.self_study_cap_hours
    for credit in credits:
        if credit.not_accepted:
            credit.counted = Decimal(0)
        elif credit.record.self_study and cap_left is not None:
            credit.counted = min(credit.hours, cap_left)
            cap_left -= credit.counted
        else:
            credit.counted = credit.hours
    total = CycleTotal(cycle=cycle, credits=credits)
    if with_subjects and rule is not None:
        for requirement in rule.subjects.all():
            slug = requirement.subject.slug
            # Hours over the cap count toward no subject either.
            toward = [
                (min(c.subject_hours[slug], c.counted), c)
                for c in credits
                if slug in c.subject_hours and c.counted
            ]
            total.subjects.append(
                SubjectProgress(
                    requirement=requirement,
                    hours=sum((hours for hours, _c in toward), Decimal(0)),
                    unconfirmed=any(c.unconfirmed for _hours, c in toward),
                )
            )
    return total


def licence_total(
    licence: Licence, rule: BoardRule | None, entries: list[TranscriptEntry], today: date
) -> LicenceTotal:
    """What the learner's credits (`entries`) count toward one licence in its current renewal
    cycle under its board's rule: the transcript's arithmetic, also used for many learners at
    once by the renewal reminders."""
    credits = [
        line for entry in entries if (line := _credit_line(entry, licence, rule)) is not None
    ]
    total = LicenceTotal(
        licence=licence,
        rule=rule,
        hours=sum((c.hours for c in credits if not c.not_accepted), Decimal(0)),
    )
    cycle = cycle_for(licence, rule, today)
    # The first renewal: the licence was issued within the current cycle.
    total.first_cycle = bool(cycle and licence.issued_on and licence.issued_on in cycle)
    if rule is not None:
        total.board_hours = rule.hours_required
        if total.first_cycle and rule.first_cycle_hours is not None:
            total.board_hours = rule.first_cycle_hours
    if licence.hours_required is not None:
        total.required = licence.hours_required
    elif total.board_hours is not None:
        total.required, total.required_from_board = total.board_hours, True
    if cycle is None:
        return total
    total.cycle = cycle
    total.days_left = cycle.days_left(today)
    total.renewal_far_ahead = today < cycle.start
    current = [c for c in credits if c.completion_date in cycle]
    # A board that asks no hours before the first renewal asks no subject hours either.
    exempt = total.first_cycle and rule is not None and rule.first_cycle_hours == 0
    total.current = _cycle_total(cycle, current, rule, with_subjects=not exempt)
    past: dict[date, tuple[Cycle, list[CreditLine]]] = {}
    for credit in credits:
        if credit.completion_date < cycle.start:
            earlier = cycle_of_day(cycle, credit.completion_date)
            past.setdefault(earlier.end, (earlier, []))[1].append(credit)
    total.past = [
        _cycle_total(earlier, lines, rule, with_subjects=False)
        for _end, (earlier, lines) in sorted(past.items(), reverse=True)
    ]
    if total.required is not None:
        total.remaining = max(Decimal(0), total.required - total.current.counted)
    return total


@dataclass
class RenewalOutlook:
    """What a training would do for one licence's current renewal cycle: the hours so far,
    the board's subject requirements it meets, and whether the self-study cap is reached."""

    total: LicenceTotal
    subjects: list[SubjectRequirement]
    cap_reached: bool


def renewal_outlooks(*, user: User, course: Course, licence_credits: list) -> None:
    """Set `outlook` on each of the course page's licence credits (selectors.LicenceCredit)
    that counts, from the learner's transcript: a fixed number of queries."""
    for credit in licence_credits:
        credit.outlook = None
    if not any(credit.approvals for credit in licence_credits):
        return
    totals = {t.licence.pk: t for t in transcript_of(user=user)["licence_totals"]}
    taught = {subject.slug for subject in course.subjects.all()}
    for credit in licence_credits:
        total = totals.get(credit.licence.pk)
        if total is None or not credit.approvals:
            continue
        # A board counts subject hours only where the course teaches the subject and the
        # approval covers it (as the certificate will record).
        covered = taught & {s.slug for a in credit.approvals for s in a.subjects.all()}
        requirements = list(total.rule.subjects.all()) if total.rule else []
        cap = total.cap
        credit.outlook = RenewalOutlook(
            total=total,
            subjects=[r for r in requirements if r.subject.slug in covered],
            cap_reached=bool(
                cap is not None and total.current is not None and total.current.self_study >= cap
            ),
        )


def transcript_of(*, user: User, today: date | None = None) -> dict:
    """Every certificate with its credit, and per licence its board's rule, the current renewal
    cycle (hours counted by completion date, the self-study cap applied, subject requirements,
    what is still needed, days left) and the past cycles. Revoked certificates and certificates
    of attendance count no hours. A fixed number of queries: the certificates, the licences,
    and the rules with their subjects and accepted approvals where any licence has one."""
    today = today or timezone.localdate()
    entries = [
        TranscriptEntry(certificate=certificate, record=record_of(certificate))
        for certificate in certificates_of(user=user)
    ]
    counting = [entry for entry in entries if entry.counts]
    licences = list(
        with_rule_flag(Licence.objects.filter(user=user)).order_by(
            "profession", "jurisdiction", "number", "pk"
        )
    )
    rules = rules_for(licence for licence in licences if licence.has_rule)
    totals = [
        licence_total(
            licence, rules.get((licence.jurisdiction, licence.profession)), counting, today
        )
        for licence in licences
    ]
    return {
        "entries": entries,
        "licence_totals": totals,
        "total_hours": sum((entry.record.ce_hours for entry in counting), Decimal(0)),
        # Each board's rule once, for "your board has the final word" and the dates checked.
        "rules_used": list({t.rule.pk: t.rule for t in totals if t.rule is not None}.values()),
        "final_word": FINAL_WORD,
        "today": today,
    }
