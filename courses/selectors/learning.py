"""Reads of a learner's progress: enrollments, lessons done, time engaged, credit already held,
and which courses an enrolled learner may still follow."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from courses.credentials_record import record_of
from courses.models import (
    Certificate,
    CertificateStatus,
    Course,
    CourseStatus,
    Enrollment,
    EvaluationResponse,
    Lesson,
    LessonProgress,
    QuizAttempt,
    RepeatAllowance,
)


def archive_grace() -> timedelta:
    return timedelta(days=settings.CEU_ARCHIVE_GRACE_DAYS)


def open_to_enrolled(*, prefix: str = "", now: datetime | None = None) -> Q:
    """The one rule for the courses a learner already enrolled may still follow: published ones,
    and archived ones until CEU_ARCHIVE_GRACE_DAYS after archiving. Archiving closes new
    enrollments only; those who started can finish. `prefix` reaches the course from another
    model ("course__")."""
    now = now or timezone.now()
    return Q(**{f"{prefix}status": CourseStatus.PUBLISHED}) | Q(
        **{
            f"{prefix}status": CourseStatus.ARCHIVED,
            f"{prefix}archived_at__gt": now - archive_grace(),
        }
    )


def is_open_to_enrolled(course: Course, *, now: datetime | None = None) -> bool:
    """`open_to_enrolled` asked of one course already read."""
    if course.status == CourseStatus.PUBLISHED:
        return True
    now = now or timezone.now()
    return (
        course.status == CourseStatus.ARCHIVED
        and course.archived_at is not None
        and course.archived_at > now - archive_grace()
    )


def open_until(course: Course) -> datetime | None:
    """When an archived course closes to the learners enrolled in it; None while published."""
    if course.status != CourseStatus.ARCHIVED or course.archived_at is None:
        return None
    return course.archived_at + archive_grace()


def enrollment_for(*, user: User, course: Course) -> Enrollment | None:
    if not user.is_authenticated:
        return None
    return Enrollment.objects.filter(user=user, course=course).first()


def enrollment_on_page(*, user: User, course: Course) -> Enrollment | None:
    """The learner's enrollment with what the course page's steps read: the last lesson
    (joined, not fetched when the page asks for it), and whether a post-test attempt passed and
    the evaluation is in (`passed`, `evaluated`). One query, whatever the learner's history."""
    if not user.is_authenticated:
        return None
    return (
        Enrollment.objects.filter(user=user, course_id=course.pk)
        .select_related("last_lesson")
        .defer("last_lesson__body", "last_lesson__body_html")
        .annotate(
            passed=Exists(QuizAttempt.objects.filter(enrollment=OuterRef("pk"), passed=True)),
            evaluated=Exists(EvaluationResponse.objects.filter(enrollment=OuterRef("pk"))),
        )
        .order_by()
        .first()
    )


def learner_enrollment_in(*, user: User, course: Course) -> Enrollment | None:
    """The learner's own enrollment in this course (already read), for the lesson pages."""
    if not user.is_authenticated:
        return None
    return Enrollment.objects.filter(user=user, course_id=course.pk).order_by().first()


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


def progress_percent(
    *, lessons_done: int, lessons_total: int, engaged_seconds: int, minimum_engaged_seconds: int
) -> int:
    """Lessons done and time engaged, weighed equally, so the bar moves while listening."""
    if not lessons_total:
        return 0
    lessons = lessons_done / lessons_total
    time = min(1, engaged_seconds / max(1, minimum_engaged_seconds))
    return int(50 * lessons + 50 * time)


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
        return progress_percent(
            lessons_done=self.lessons_done,
            lessons_total=self.lessons_total,
            engaged_seconds=self.engaged_seconds,
            minimum_engaged_seconds=self.minimum_engaged_seconds,
        )

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
                # What the page shows of a certificate: its standing and its PDF. Not the record
                # as issued (a JSON document per certificate), which the transcript reads.
                queryset=Certificate.objects.filter(superseded_by__isnull=True).only(
                    "code",
                    "enrollment_id",
                    "status",
                    "pdf_sha256",
                    "revoked_at",
                    "superseded_by_id",
                    "issued_at",
                ),
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


def _open_enrollments(user: User) -> QuerySet[Enrollment]:
    return Enrollment.objects.filter(open_to_enrolled(prefix="course__"), user=user)


def learner_enrollment(*, user: User, slug: str) -> Enrollment:
    """The learner's own enrollment in a course still open to them (published, or archived
    within the grace period); raises Enrollment.DoesNotExist."""
    return _open_enrollments(user).select_related("course").get(course__slug=slug)


def finishing_enrollment(*, user: User, slug: str) -> Enrollment:
    """`learner_enrollment` with `evaluated` (has the learner evaluated it?) in the same query,
    for the page that finishes a training."""
    return (
        _open_enrollments(user)
        .select_related("course")
        .annotate(evaluated=Exists(EvaluationResponse.objects.filter(enrollment=OuterRef("pk"))))
        .get(course__slug=slug)
    )


@dataclass
class LineageCredit:
    """The learner's standing certificates in a course's lineage (all its editions)."""

    # The current certificate of this course's own enrollment, whatever its status.
    own: Certificate | None = None
    # A valid certificate from another edition, unless a registrar allowed this learner to
    # repeat this course: while there is one, this course earns no new credit.
    elsewhere: Certificate | None = None


def lineage_credit(*, user: User, course: Course) -> LineageCredit:
    """Credit already earned from any edition of the course, in one query. "Already earned" is
    asked of the lineage, not the course: a new edition never pays out the same content twice."""
    if not user.is_authenticated:
        return LineageCredit()
    certificates = (
        Certificate.objects.filter(
            enrollment__user=user,
            enrollment__course__lineage=course.lineage,
            superseded_by__isnull=True,
        )
        .select_related("enrollment__course")
        .annotate(repeat_allowed=Exists(RepeatAllowance.objects.filter(user=user, course=course)))
        .order_by("issued_at", "pk")
    )
    credit = LineageCredit()
    for certificate in certificates:
        if certificate.enrollment.course_id == course.pk:
            credit.own = certificate
        elif (
            credit.elsewhere is None
            and certificate.status == CertificateStatus.VALID
            and not certificate.repeat_allowed
            # A certificate of attendance earned no credit: a later edition may still give it.
            and record_of(certificate).is_credit
        ):
            credit.elsewhere = certificate
    return credit


def completions_since(*, user_id: int, since: datetime) -> list[tuple[datetime, Decimal]]:
    """The learner's completions after `since`, oldest first, each with its course's CE hours."""
    return list(
        Enrollment.objects.filter(user_id=user_id, completed_at__gt=since)
        .order_by("completed_at")
        .values_list("completed_at", "course__ce_hours")
    )
