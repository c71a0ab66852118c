"""Reads for staff compliance reporting: the per-course report and the rows of the completion
roster and the CE Broker upload.

Each read runs a fixed number of queries however many learners a course has: counts come from
aggregates and correlated subqueries, never from a query per learner. The CSV rows are read with
`.iterator()` so a long roster streams without being held in memory."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone, translation

from accounts.jurisdictions import Jurisdiction
from accounts.models import Profession

from .credentials_record import CertificateRecord, PrintedLicence, record_of
from .models import (
    Certificate,
    CertificateStatus,
    Course,
    CourseApproval,
    Enrollment,
    EvaluationResponse,
    Lesson,
    QuizAttempt,
)

# Rows fetched per round trip while a CSV streams.
CSV_CHUNK_SIZE = 500

TWO_PLACES = Decimal("0.01")


# --- The per-course report ----------------------------------------------------------------------


@dataclass(frozen=True)
class RatingMean:
    """The mean of one evaluation item over the evaluations that rated it."""

    label: str
    mean: Decimal | None
    responses: int


@dataclass(frozen=True)
class EvaluationComment:
    submitted_at: datetime.datetime
    text: str


@dataclass(frozen=True)
class FunnelStep:
    """How many learners reached a step, and what share of the enrollments that is."""

    label: str
    count: int
    percent: Decimal  # of enrollments, one decimal place; 0 when nobody is enrolled


@dataclass
class CourseReport:
    course: Course
    enrollments: int
    completions: int
    learners_started_test: int
    learners_submitted: int
    learners_passed: int
    submitted_attempts: int
    mean_score: Decimal | None
    # {attempts used: learners who used that many}, over learners who started at least one.
    attempt_distribution: dict[int, int]
    evaluations: int
    objective_means: list[RatingMean]
    learned_mean: RatingMean
    usefulness_mean: RatingMean
    presenter_mean: RatingMean
    comments: list[EvaluationComment]
    funnel: list[FunnelStep]
    lessons: list[Lesson] = field(default_factory=list)

    @property
    def pass_rate(self) -> Decimal | None:
        """Percentage of learners who submitted an attempt and passed one; None before anyone
        has submitted."""
        if not self.learners_submitted:
            return None
        return _percent(self.learners_passed, self.learners_submitted)

    @property
    def attempts_mean(self) -> Decimal | None:
        """Attempts used per learner who started the post-test."""
        learners = sum(self.attempt_distribution.values())
        if not learners:
            return None
        used = sum(n * count for n, count in self.attempt_distribution.items())
        return _quantize(Decimal(used) / learners)

    @property
    def attempt_rows(self) -> list[tuple[int, int, Decimal]]:
        """(attempts used, learners, percent of learners who started) for the page's table."""
        learners = sum(self.attempt_distribution.values())
        return [
            (n, count, _percent(count, learners))
            for n, count in sorted(self.attempt_distribution.items())
        ]

    @property
    def rating_means(self) -> list[RatingMean]:
        """Every evaluation item in the order the evaluation asks them."""
        return [
            *self.objective_means,
            self.learned_mean,
            self.usefulness_mean,
            self.presenter_mean,
        ]


def _quantize(value) -> Decimal | None:
    if value is None:
        return None
    return Decimal(value).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def _percent(part: int, whole: int) -> Decimal:
    if not whole:
        return Decimal("0.0")
    return (Decimal(100) * part / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def course_report(*, course: Course) -> CourseReport:
    """The figures of one course's report in six queries, whatever the number of learners."""
    enrollments = Enrollment.objects.filter(course=course)
    attempts = QuizAttempt.objects.filter(enrollment=OuterRef("pk"))

    # 1. Learner counts at each step, one row.
    counts = (
        enrollments.annotate(
            has_attempt=Exists(attempts),
            has_submitted=Exists(attempts.filter(submitted_at__isnull=False)),
            has_passed=Exists(attempts.filter(passed=True)),
            has_evaluation=Exists(EvaluationResponse.objects.filter(enrollment=OuterRef("pk"))),
            has_certificate=Exists(
                Certificate.objects.filter(enrollment=OuterRef("pk"), superseded_by__isnull=True)
            ),
        )
        .order_by()
        .aggregate(
            enrollments=Count("pk"),
            completions=Count("pk", filter=Q(completed_at__isnull=False)),
            started=Count("pk", filter=Q(has_attempt=True)),
            submitted=Count("pk", filter=Q(has_submitted=True)),
            passed=Count("pk", filter=Q(has_passed=True)),
            evaluated=Count("pk", filter=Q(has_evaluation=True)),
            certified=Count("pk", filter=Q(has_certificate=True)),
        )
    )

    # 2. How many learners used 1, 2, 3... attempts: grouped in the database, a row per count.
    used = (
        QuizAttempt.objects.filter(enrollment=OuterRef("pk"))
        .order_by()
        .values("enrollment")
        .annotate(n=Count("pk"))
        .values("n")
    )
    distribution = {
        row["n"]: row["learners"]
        for row in enrollments.annotate(n=Coalesce(Subquery(used), 0))
        .filter(n__gt=0)
        .values("n")
        .annotate(learners=Count("pk"))
        .order_by("n")
    }

    # 3. Scores of submitted attempts.
    scores = (
        QuizAttempt.objects.filter(enrollment__course=course, submitted_at__isnull=False)
        .order_by()
        .aggregate(mean=Avg("score"), n=Count("pk"))
    )

    # 4. The evaluation's fixed items.
    evaluations = EvaluationResponse.objects.filter(enrollment__course=course)
    ratings = evaluations.order_by().aggregate(
        n=Count("pk"),
        learned=Avg("learned_rating"),
        usefulness=Avg("usefulness_rating"),
        presenter=Avg("presenter_rating"),
    )
    # 5. The per-objective ratings and the comments, newest first: one column read in Python.
    objective_means, comments = _objectives_and_comments(
        evaluations.order_by("-submitted_at", "-pk").values_list(
            "objective_ratings", "comments", "submitted_at"
        )
    )

    # 6. The lessons, each with the learners who reached it.
    lessons = list(
        Lesson.objects.filter(course=course)
        .defer("body")
        # A learner has at most one progress row per lesson: the rows count the learners.
        .annotate(reached=Count("progress"))
        .order_by("position")
    )

    total = counts["enrollments"]
    steps = [("Enrolled", total)]
    steps += [(f"Lesson {lesson.position}: {lesson.title}", lesson.reached) for lesson in lessons]
    steps += [
        ("Post-test started", counts["started"]),
        ("Evaluation submitted", counts["evaluated"]),
        ("Certificate", counts["certified"]),
    ]
    n_eval = ratings["n"]
    return CourseReport(
        course=course,
        enrollments=total,
        completions=counts["completions"],
        learners_started_test=counts["started"],
        learners_submitted=counts["submitted"],
        learners_passed=counts["passed"],
        submitted_attempts=scores["n"],
        mean_score=_quantize(scores["mean"]),
        attempt_distribution=distribution,
        evaluations=n_eval,
        objective_means=objective_means,
        learned_mean=RatingMean(
            str(EvaluationResponse._meta.get_field("learned_rating").verbose_name),
            _quantize(ratings["learned"]),
            n_eval,
        ),
        usefulness_mean=RatingMean(
            str(EvaluationResponse._meta.get_field("usefulness_rating").verbose_name),
            _quantize(ratings["usefulness"]),
            n_eval,
        ),
        presenter_mean=RatingMean("Presenter", _quantize(ratings["presenter"]), n_eval),
        comments=comments,
        funnel=[FunnelStep(label, count, _percent(count, total)) for label, count in steps],
        lessons=lessons,
    )


def _objectives_and_comments(rows) -> tuple[list[RatingMean], list[EvaluationComment]]:
    """Means per objective, as worded when rated, in the course's order; non-empty comments.

    An objective reworded after some learners rated it shows as two items, each with its own
    responses: the ratings were given to the wording they saw."""
    sums: dict[str, int] = defaultdict(int)
    counts: dict[str, int] = defaultdict(int)
    # Where each wording sits in the evaluation (its lowest index), then the older wording first.
    order: dict[str, tuple[int, datetime.datetime]] = {}
    comments = []
    for objective_ratings, text, submitted_at in rows:
        for index, item in enumerate(objective_ratings or []):
            wording, rating = item.get("objective", ""), item.get("rating")
            if rating is None:
                continue
            sums[wording] += int(rating)
            counts[wording] += 1
            seen = order.get(wording)
            order[wording] = min(seen, (index, submitted_at)) if seen else (index, submitted_at)
        if text and text.strip():
            comments.append(EvaluationComment(submitted_at=submitted_at, text=text.strip()))
    means = [
        RatingMean(wording, _quantize(Decimal(sums[wording]) / counts[wording]), counts[wording])
        for wording in sorted(order, key=order.__getitem__)
    ]
    return means, comments


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
