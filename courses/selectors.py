"""Reads the course pages need, each with its joins, so a page's query count does not grow with
the catalog, the lessons or the learner's history."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import Licence, User

from .models import (
    Certificate,
    Course,
    CourseApproval,
    CourseStatus,
    Enrollment,
    EvaluationResponse,
    Lesson,
    LessonProgress,
    Provider,
    QuizAttempt,
)
from .models.catalog import PROVIDER_CACHE_KEY


def current_provider() -> Provider | None:
    """The operator's provider details, cached: every course page and certificate shows them."""
    provider = cache.get(PROVIDER_CACHE_KEY)
    if provider is None:
        provider = Provider.objects.filter(pk=1).first() or False
        cache.set(PROVIDER_CACHE_KEY, provider, 300)
    return provider or None


def can_preview(user: User) -> bool:
    """Staff who author courses see drafts and archived courses as a learner would."""
    return bool(user.is_authenticated and user.is_staff and user.has_perm("courses.view_course"))


def visible_courses(*, user: User) -> QuerySet[Course]:
    """Courses this person may open: published ones, and every course for staff previewing."""
    courses = Course.objects.all()
    if not can_preview(user):
        courses = courses.filter(status=CourseStatus.PUBLISHED)
    return courses


def current_approvals(*, today: date) -> QuerySet[CourseApproval]:
    """Approvals that count today: the course's own period and the accreditor's provider period."""
    return CourseApproval.objects.filter(
        valid_from__lte=today,
        valid_until__gte=today,
    ).filter(
        Q(accreditor__approved_from__isnull=True) | Q(accreditor__approved_from__lte=today),
        Q(accreditor__approved_until__isnull=True) | Q(accreditor__approved_until__gte=today),
    )


def _with_current_approvals(courses: QuerySet[Course], *, today: date) -> QuerySet[Course]:
    return courses.prefetch_related(
        Prefetch(
            "approvals",
            queryset=current_approvals(today=today)
            .select_related("accreditor")
            .prefetch_related("accreditor__professions"),
            to_attr="current_approvals",
        )
    )


HOURS_BUCKETS = {
    "1": (Decimal("0"), Decimal("1")),
    "1-3": (Decimal("1.01"), Decimal("3")),
    "3+": (Decimal("3.01"), None),
}


def catalog(
    *,
    user: User,
    search: str = "",
    topic: str = "",
    hours: str = "",
    for_my_licences: bool = False,
    today: date | None = None,
) -> QuerySet[Course]:
    """Published courses matching the learner's filters, with what the catalog card shows."""
    today = today or timezone.localdate()
    courses = Course.objects.filter(status=CourseStatus.PUBLISHED)
    if search:
        courses = courses.filter(title__icontains=search)
    if topic:
        # Topic slugs are unique: the join matches a course at most once, no DISTINCT needed.
        courses = courses.filter(topics__slug=topic)
    if hours in HOURS_BUCKETS:
        low, high = HOURS_BUCKETS[hours]
        courses = courses.filter(ce_hours__gte=low)
        if high is not None:
            courses = courses.filter(ce_hours__lte=high)
    if for_my_licences and user.is_authenticated:
        professions = Licence.objects.filter(user=user).values("profession")
        courses = courses.filter(
            Exists(
                current_approvals(today=today).filter(
                    course=OuterRef("pk"), accreditor__professions__profession__in=professions
                )
            )
        )
    courses = courses.order_by("-published_at", "title")
    return _with_current_approvals(courses.prefetch_related("topics"), today=today)


def professions_served(course: Course) -> list[str]:
    """The professions a course's current approvals count for, by display name."""
    names = {
        profession.get_profession_display()
        for approval in course.current_approvals
        for profession in approval.accreditor.professions.all()
    }
    return sorted(names)


def course_page(*, slug: str, user: User, today: date | None = None) -> Course:
    """The course with everything its page shows; raises Course.DoesNotExist when not visible."""
    today = today or timezone.localdate()
    courses = _with_current_approvals(
        visible_courses(user=user).select_related("episode"), today=today
    ).prefetch_related(
        "topics",
        "objectives",
        "references",
        Prefetch("lessons", queryset=Lesson.objects.defer("body").order_by("position")),
    )
    return courses.get(slug=slug)


@dataclass
class LicenceCredit:
    """How a course counts for one of the learner's licences."""

    licence: Licence
    approvals: list[CourseApproval] = field(default_factory=list)


def credit_for_licences(*, course: Course, licences: list[Licence]) -> list[LicenceCredit]:
    """For each licence, the course's current approvals whose accreditor serves its profession."""
    credits = []
    for licence in licences:
        matching = [
            approval
            for approval in course.current_approvals
            if any(
                p.profession == licence.profession for p in approval.accreditor.professions.all()
            )
        ]
        credits.append(LicenceCredit(licence=licence, approvals=matching))
    return credits


def enrollment_for(*, user: User, course: Course) -> Enrollment | None:
    if not user.is_authenticated:
        return None
    return Enrollment.objects.filter(user=user, course=course).first()


@dataclass
class LessonStatus:
    lesson: Lesson
    progress: LessonProgress | None

    @property
    def is_complete(self) -> bool:
        return self.progress is not None and self.progress.is_complete

    @property
    def engaged_seconds(self) -> int:
        return self.progress.engaged_seconds if self.progress else 0


@dataclass
class Progress:
    """Where a learner stands in a course."""

    lessons: list[LessonStatus]
    engaged_seconds: int
    minimum_engaged_seconds: int

    @property
    def lessons_done(self) -> int:
        return sum(status.is_complete for status in self.lessons)

    @property
    def lessons_total(self) -> int:
        return len(self.lessons)

    @property
    def engaged_minutes(self) -> int:
        return self.engaged_seconds // 60

    @property
    def minimum_reached(self) -> bool:
        return self.engaged_seconds >= self.minimum_engaged_seconds

    @property
    def percent(self) -> int:
        """Lessons done and time engaged, weighed equally, so the bar moves while listening."""
        if not self.lessons:
            return 0
        lessons = self.lessons_done / self.lessons_total
        time = min(1, self.engaged_seconds / max(1, self.minimum_engaged_seconds))
        return int(50 * lessons + 50 * time)

    @property
    def next_lesson(self) -> Lesson | None:
        for status in self.lessons:
            if not status.is_complete:
                return status.lesson
        return None

    @property
    def lessons_complete(self) -> bool:
        return self.lessons_done == self.lessons_total


def progress_for(*, enrollment: Enrollment, lessons: list[Lesson] | None = None) -> Progress:
    """Progress of one enrollment in two queries (lessons, progress rows), or one when the
    caller already holds the lessons."""
    if lessons is None:
        lessons = list(Lesson.objects.filter(course_id=enrollment.course_id).defer("body"))
    rows = {row.lesson_id: row for row in LessonProgress.objects.filter(enrollment=enrollment)}
    course = enrollment.course
    return Progress(
        lessons=[LessonStatus(lesson=lesson, progress=rows.get(lesson.pk)) for lesson in lessons],
        engaged_seconds=enrollment.engaged_seconds,
        minimum_engaged_seconds=course.minimum_engaged_minutes * 60,
    )


def lesson_page(*, course: Course, position: int) -> tuple[Lesson, list[Lesson]]:
    """The lesson with its text, and the course's chapter list without the texts."""
    lessons = list(Lesson.objects.filter(course=course).defer("body").order_by("position"))
    lesson = Lesson.objects.get(course=course, position=position)
    return lesson, lessons


def my_enrollments(*, user: User) -> QuerySet[Enrollment]:
    """The learner's trainings with the counts their progress bars need, in one query."""
    return (
        Enrollment.objects.filter(user=user)
        .select_related("course", "last_lesson")
        .prefetch_related(
            Prefetch(
                "certificates",
                queryset=Certificate.objects.filter(superseded_by__isnull=True),
                to_attr="current_certificates",
            )
        )
        .annotate(
            lessons_total=Count("course__lessons", distinct=True),
            lessons_done=Count(
                "lesson_progress",
                filter=Q(lesson_progress__completed_at__isnull=False),
                distinct=True,
            ),
            passed=Exists(QuizAttempt.objects.filter(enrollment=OuterRef("pk"), passed=True)),
            evaluated=Exists(EvaluationResponse.objects.filter(enrollment=OuterRef("pk"))),
        )
        # Trainings in progress first, on SQLite and PostgreSQL alike.
        .order_by(F("completed_at").asc(nulls_first=True), "-enrolled_at")
    )


def enrollments_of(*, user: User) -> QuerySet[Enrollment]:
    """Only ever the learner's own enrollments."""
    return Enrollment.objects.filter(user=user)


def learner_enrollment(*, user: User, slug: str) -> Enrollment:
    """The learner's own enrollment in a published course; raises Enrollment.DoesNotExist."""
    return Enrollment.objects.select_related("course").get(
        user=user, course__slug=slug, course__status=CourseStatus.PUBLISHED
    )


def attempts_of(*, enrollment: Enrollment) -> list[QuizAttempt]:
    return list(QuizAttempt.objects.filter(enrollment=enrollment).order_by("number"))


def questions_as_shown(attempt: QuizAttempt) -> list[dict]:
    """An attempt's questions for the page, without the key: the browser never receives it."""
    return [
        {
            "id": question["id"],
            "kind": question["kind"],
            "text": question["text"],
            "choices": [{"id": c["id"], "text": c["text"]} for c in question["choices"]],
        }
        for question in attempt.questions
    ]


def attempt_feedback(attempt: QuizAttempt, *, reveal_key: bool) -> list[dict]:
    """Per question of a graded attempt: what was chosen, whether it was right, the explanation,
    and the right answers only when the learner has passed."""
    feedback = []
    for question in attempt.questions:
        chosen = set(attempt.answers.get(str(question["id"]), []))
        key = {c["id"] for c in question["choices"] if c["correct"]}
        feedback.append(
            {
                "text": question["text"],
                "kind": question["kind"],
                "right": chosen == key,
                "explanation": question["explanation"],
                "choices": [
                    {
                        "text": c["text"],
                        "chosen": c["id"] in chosen,
                        "correct": c["correct"] if reveal_key else None,
                    }
                    for c in question["choices"]
                ],
            }
        )
    return feedback


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
