"""Nudges for stalled trainings, run by Celery beat (courses.schedules).

A learner whose unfinished training has seen no engagement for one of the site's stages of days
(3, 10 and 30 unless staff change them) receives a short e-mail: where they stopped, what is
left, the link back to that point. The days are counted in the learner's own calendar, and the
message goes from 10:00 in their time zone. Each stage goes at most once per enrollment, and
none once the training is complete, the course archived or the learner has opted out.

Each message is claimed with a unique row before it is sent (courses.services.messaging), so a
second run the same day sends nothing new and a run cut short is finished by the next one
without sending anything twice. Enrollments are read by chunks in a fixed number of queries."""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import (
    DateTimeField,
    Exists,
    F,
    OuterRef,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce, Greatest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from courses.models import (
    CourseStatus,
    Enrollment,
    EvaluationResponse,
    Lesson,
    LessonProgress,
    MessageKind,
    QuizAttempt,
    ReengagementSettings,
    SentMessage,
)
from courses.services import messaging

logger = logging.getLogger(__name__)

# Enrollments read per query; the next chunk starts after the last one read.
CHUNK = 500


def last_engagement(enrollment_ref: str = "pk") -> Greatest:
    """When the learner last did anything in the enrollment: enrolled, listened or read (a
    lesson's progress row is written at least once a minute while its page beats), took the
    post-test, evaluated, attested.
    `enrollment_ref` names the enrollment's id from the query it is used in."""
    ref = OuterRef(enrollment_ref)
    own = F("enrolled_at") if enrollment_ref == "pk" else F("enrollment__enrolled_at")

    def latest(queryset: QuerySet, column: str) -> Coalesce:
        return Coalesce(
            Subquery(queryset.order_by(f"-{column}").values(column)[:1]),
            own,
            output_field=DateTimeField(),
        )

    attested = F("attested_at") if enrollment_ref == "pk" else F("enrollment__attested_at")
    return Greatest(
        own,
        latest(LessonProgress.objects.filter(enrollment_id=ref), "updated_at"),
        latest(QuizAttempt.objects.filter(enrollment_id=ref), "started_at"),
        latest(
            QuizAttempt.objects.filter(enrollment_id=ref, submitted_at__isnull=False),
            "submitted_at",
        ),
        latest(EvaluationResponse.objects.filter(enrollment_id=ref), "submitted_at"),
        Coalesce(attested, own),
        output_field=DateTimeField(),
    )


def stalled_enrollments(*, now: datetime, first_stage: int) -> QuerySet[Enrollment]:
    """Unfinished enrollments in published courses of learners who want nudges, idle long
    enough that the first stage may be due somewhere on Earth (a day's slack for time zones)."""
    return (
        Enrollment.objects.filter(
            completed_at__isnull=True,
            course__status=CourseStatus.PUBLISHED,
            user__is_active=True,
            user__wants_nudges=True,
        )
        .exclude(user__email="")
        .annotate(
            last_active=last_engagement(),
            passed=Exists(QuizAttempt.objects.filter(enrollment=OuterRef("pk"), passed=True)),
            evaluated=Exists(EvaluationResponse.objects.filter(enrollment=OuterRef("pk"))),
        )
        .filter(last_active__lt=now - timedelta(days=first_stage - 1))
        .select_related("user", "course", "last_lesson")
        .defer(
            "course__description",
            "course__description_html",
            "last_lesson__body",
            "last_lesson__body_html",
        )
    )


def stage_due(
    *,
    stages: list[int],
    idle_days: int,
    claimed: dict[int, datetime],
    last_active: datetime,
) -> int | None:
    """The stage to send now, if any: the longest one the idle days have reached, unless it
    went already (ever, for this enrollment) or a longer one went since the learner was last
    active. A learner idle 40 days when nudges begin gets the 30-day nudge alone."""
    reached = [days for days in stages if days <= idle_days]
    if not reached:
        return None
    stage = reached[-1]
    if stage in claimed:
        return None
    if any(days >= stage and at > last_active for days, at in claimed.items()):
        return None
    return stage


@dataclass
class Nudge:
    """What the e-mail says about one enrollment."""

    enrollment: Enrollment
    stage: int
    lesson: Lesson | None
    position_seconds: int
    lessons_done: int
    lessons_total: int
    minutes_left: int
    steps_left: list[str] = field(default_factory=list)
    resume_url: str = ""
    # Whether the learner opened any lesson at all.
    started: bool = True

    @property
    def minute(self) -> int:
        return self.position_seconds // 60

    @property
    def position(self) -> str:
        return f"{self.position_seconds // 60}:{self.position_seconds % 60:02d}"

    @property
    def steps_in_words(self) -> str:
        """ "the post-test, the evaluation and the attestation"."""
        if len(self.steps_left) < 2:
            return "".join(self.steps_left)
        return _("%(steps)s and %(last)s") % {
            "steps": ", ".join(self.steps_left[:-1]),
            "last": self.steps_left[-1],
        }

    @property
    def lessons_left(self) -> int:
        return self.lessons_total - self.lessons_done

    @property
    def only_steps_left(self) -> bool:
        return bool(self.steps_left) and self.lessons_left == 0 and self.minutes_left == 0


def _details(enrollments: list[tuple[Enrollment, int]]) -> list[Nudge]:
    """The nudges' contents for these enrollments in two queries: their lessons, and their
    progress rows."""
    course_ids = {enrollment.course_id for enrollment, _stage in enrollments}
    lessons: dict[int, list[Lesson]] = {}
    for lesson in (
        Lesson.objects.filter(course_id__in=course_ids)
        .only("pk", "course_id", "position", "title", "media_start_seconds")
        .order_by("course_id", "position")
    ):
        lessons.setdefault(lesson.course_id, []).append(lesson)
    rows: dict[int, dict[int, LessonProgress]] = {}
    for row in LessonProgress.objects.filter(
        enrollment_id__in=[enrollment.pk for enrollment, _stage in enrollments]
    ).only("enrollment_id", "lesson_id", "position_seconds", "completed_at"):
        rows.setdefault(row.enrollment_id, {})[row.lesson_id] = row
    nudges = []
    for enrollment, stage in enrollments:
        course = enrollment.course
        course_lessons = lessons.get(course.pk, [])
        progress = rows.get(enrollment.pk, {})
        done = sum(
            1
            for lesson in course_lessons
            if lesson.pk in progress and progress[lesson.pk].completed_at is not None
        )
        lesson = next((ls for ls in course_lessons if ls.pk == enrollment.last_lesson_id), None)
        if lesson is None:
            lesson = next(
                (
                    ls
                    for ls in course_lessons
                    if ls.pk not in progress or progress[ls.pk].completed_at is None
                ),
                course_lessons[0] if course_lessons else None,
            )
        row = progress.get(lesson.pk) if lesson else None
        position = row.position_seconds if row else (lesson.media_start_seconds if lesson else 0)
        minutes_left = max(0, course.minimum_engaged_minutes - enrollment.engaged_seconds // 60)
        nudge = Nudge(
            enrollment=enrollment,
            stage=stage,
            lesson=lesson,
            position_seconds=position,
            lessons_done=done,
            lessons_total=len(course_lessons),
            minutes_left=minutes_left,
            started=bool(progress) or enrollment.last_lesson_id is not None,
        )
        steps = []
        if not enrollment.passed:
            steps.append((_("the post-test"), "courses:post_test"))
        if not enrollment.evaluated:
            steps.append((_("the evaluation"), "courses:evaluation"))
        if enrollment.attested_at is None:
            steps.append((_("the attestation"), "courses:course_detail"))
        nudge.steps_left = [label for label, _name in steps]
        if nudge.only_steps_left:
            nudge.resume_url = messaging.site_url(reverse(steps[0][1], args=[course.slug]))
        elif lesson is not None:
            nudge.resume_url = messaging.site_url(
                reverse("courses:lesson", args=[course.slug, lesson.position])
            )
        else:
            nudge.resume_url = messaging.site_url(course.get_absolute_url())
        nudges.append(nudge)
    return nudges


def _send(nudge: Nudge, *, now: datetime) -> bool:
    enrollment = nudge.enrollment
    user = enrollment.user
    claimed = messaging.claim(
        key=f"nudge:{enrollment.pk}:{nudge.stage}",
        kind=SentMessage.Kind.NUDGE,
        user=user,
        enrollment=enrollment,
        stage=nudge.stage,
        email=user.email,
    )
    if claimed is None:
        return False
    letter = messaging.compose(
        user=user,
        kind=MessageKind.NUDGE,
        template="nudge",
        context={"nudge": nudge, "course": enrollment.course, "stage": nudge.stage},
        message_id=claimed.pk,
    )
    return messaging.send_claimed(claimed, messaging.email_of(letter, to=user.email))


def record_resumptions(*, now: datetime) -> int:
    """Note, on each nudge of the last week not yet marked, the learner's engagement since it
    went (for the course report's "resumed within 7 days"). Two queries."""
    seen = list(
        SentMessage.objects.filter(
            kind=SentMessage.Kind.NUDGE,
            resumed_at__isnull=True,
            sent_at__isnull=False,
            sent_at__gte=now - timedelta(days=7),
        )
        .annotate(active=last_engagement("enrollment_id"))
        .filter(active__gt=F("sent_at"))
        .values_list("pk", "active")
    )
    for pk, active in seen:
        SentMessage.objects.filter(pk=pk).update(resumed_at=active)
    return len(seen)


def send_nudges(*, now: datetime | None = None) -> int:
    """Send every nudge due now; returns how many went. A message the mail server refuses is
    left for the next run; the others still go."""
    now = now or timezone.now()
    config = ReengagementSettings.current()
    stages = config.stages
    sent = 0
    after = 0
    while True:
        chunk = list(
            stalled_enrollments(now=now, first_stage=stages[0])
            .filter(pk__gt=after)
            .order_by("pk")[:CHUNK]
        )
        if not chunk:
            break
        after = chunk[-1].pk
        due = _due_in(chunk, stages=stages, send_hour=config.send_hour, now=now)
        for nudge in _details(due) if due else []:
            try:
                sent += _send(nudge, now=now)
            except Exception:
                logger.exception("Nudge for enrollment %s was not sent", nudge.enrollment.pk)
        if len(chunk) < CHUNK:
            break
    record_resumptions(now=now)
    return sent


def _due_in(
    chunk: list[Enrollment], *, stages: list[int], send_hour: int, now: datetime
) -> list[tuple[Enrollment, int]]:
    """The enrollments of a chunk with a nudge due now, each with its stage: one query for the
    nudges they already had, one for the suppressed addresses among them."""
    claimed: dict[int, dict[int, datetime]] = {}
    for enrollment_id, stage, at in SentMessage.objects.filter(
        kind=SentMessage.Kind.NUDGE, enrollment_id__in=[e.pk for e in chunk]
    ).values_list("enrollment_id", "stage", "claimed_at"):
        claimed.setdefault(enrollment_id, {})[stage] = at
    due = []
    for enrollment in chunk:
        zone = enrollment.user.zone
        local_now = now.astimezone(zone)
        if local_now < messaging.local_moment(local_now.date(), send_hour, zone):
            continue
        idle_days = (local_now.date() - enrollment.last_active.astimezone(zone).date()).days
        stage = stage_due(
            stages=stages,
            idle_days=idle_days,
            claimed=claimed.get(enrollment.pk, {}),
            last_active=enrollment.last_active,
        )
        if stage is not None:
            due.append((enrollment, stage))
    if not due:
        return []
    closed = messaging.suppressed(enrollment.user.email for enrollment, _stage in due)
    return [(e, stage) for e, stage in due if e.user.email.lower() not in closed]
