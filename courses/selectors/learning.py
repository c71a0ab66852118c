"""Reads of a learner's progress: enrollments, lessons done, time engaged."""

from dataclasses import dataclass

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet

from accounts.models import User
from courses.models import (
    Certificate,
    Course,
    CourseStatus,
    Enrollment,
    EvaluationResponse,
    Lesson,
    LessonProgress,
    QuizAttempt,
)


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
