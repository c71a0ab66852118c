"""The per-course report for staff: enrollments, completions, pass rate, scores, evaluation means
and comments, and the drop-off funnel, in a fixed number of queries however many learners."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, Count, Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from courses.models import (
    Certificate,
    Course,
    Enrollment,
    EvaluationResponse,
    Lesson,
    LessonProgress,
    QuizAttempt,
    SentMessage,
)

# A nudge "worked" when the learner was back within this long.
RESUMED_WITHIN = datetime.timedelta(days=7)

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


@dataclass(frozen=True)
class ReengagementStage:
    """One nudge stage of a course: how many nudges went, and what their learners did next."""

    days: int
    sent: int
    resumed: int  # engaged again within 7 days of the nudge
    completed: int  # completed the training after the nudge
    unsubscribed: int  # used the nudge's unsubscribe link

    def share(self, count: int) -> Decimal:
        return _percent(count, self.sent)

    @property
    def resumed_percent(self) -> Decimal:
        return self.share(self.resumed)

    @property
    def completed_percent(self) -> Decimal:
        return self.share(self.completed)

    @property
    def unsubscribed_percent(self) -> Decimal:
        return self.share(self.unsubscribed)


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
    reengagement: list[ReengagementStage] = field(default_factory=list)

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


def reengagement_of(*, course: Course) -> list[ReengagementStage]:
    """Per nudge stage: nudges sent, learners who resumed within 7 days (engagement the nudge
    run noted, or lesson progress, a post-test attempt or completion in the window), learners
    who completed afterwards, learners who unsubscribed from the nudge. One query."""
    sent_at = OuterRef("sent_at")
    until = OuterRef("sent_at") + RESUMED_WITHIN
    progress = LessonProgress.objects.filter(enrollment=OuterRef("enrollment"))
    window = F("sent_at") + RESUMED_WITHIN
    rows = (
        SentMessage.objects.filter(
            kind=SentMessage.Kind.NUDGE, enrollment__course=course, sent_at__isnull=False
        )
        .annotate(
            came_back=Exists(progress.filter(updated_at__gt=sent_at, updated_at__lte=until))
            | Exists(progress.filter(completed_at__gt=sent_at, completed_at__lte=until))
            | Exists(
                QuizAttempt.objects.filter(
                    enrollment=OuterRef("enrollment"),
                    started_at__gt=sent_at,
                    started_at__lte=until,
                )
            )
        )
        .values("stage")
        .annotate(
            sent=Count("pk"),
            resumed=Count(
                "pk",
                filter=Q(came_back=True)
                | Q(resumed_at__lte=window)
                | Q(
                    enrollment__completed_at__gt=F("sent_at"),
                    enrollment__completed_at__lte=window,
                ),
            ),
            completed=Count("pk", filter=Q(enrollment__completed_at__gt=F("sent_at"))),
            unsubscribed=Count("pk", filter=Q(unsubscribed_at__isnull=False)),
        )
        .order_by("stage")
    )
    return [
        ReengagementStage(
            days=row["stage"],
            sent=row["sent"],
            resumed=row["resumed"],
            completed=row["completed"],
            unsubscribed=row["unsubscribed"],
        )
        for row in rows
    ]


def course_report(*, course: Course) -> CourseReport:
    """The figures of one course's report in seven queries, whatever the number of learners."""
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
        # 7. Who came back after each nudge stage.
        reengagement=reengagement_of(course=course),
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
