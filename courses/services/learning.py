"""Enrolling and crediting engagement. The server's clock is the only clock: nothing a browser
says about time is believed."""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from courses.models import (
    Certificate,
    Course,
    EngagementClock,
    Enrollment,
    Lesson,
    LessonProgress,
    RepeatAllowance,
)
from courses.selectors.catalog import BeatCourse, BeatLesson
from courses.selectors.learning import lineage_credit, open_to_enrolled
from courses.services import audit, beat_rows
from courses.services.assessment import already_earned
from courses.services.caching import learner_changed

# The lesson page beats this often (settings.CEU_HEARTBEAT_SECONDS, 15 by default) while the
# page is visible or its media plays.
# A gap longer than this means the learner was away (or the tab was frozen): the beat that ends
# it restarts the clock and earns nothing, so a page left open is not credited for the gap.
MAX_BEAT_GAP_SECONDS = 40
# How far ahead of real time the media may run: players offer up to double speed. No slack is
# added per beat, or beats a few milliseconds apart would each earn it.
MAX_PLAYBACK_RATE = 2
# Slack for players that stop just short of a chapter's end: the lesson still counts as heard.
POSITION_TOLERANCE_SECONDS = 3
# A beat that changes nothing of a lesson's progress still marks it as the learner's latest
# activity, at most this often: re-engagement reads that activity in days.
PROGRESS_TOUCH_SECONDS = 60


class LearningError(Exception):
    """Something a learner asked for that the rules do not allow; the message says why."""


def heartbeat_interval() -> int:
    return settings.CEU_HEARTBEAT_SECONDS


def enroll(*, user: User, course: Course) -> tuple[Enrollment, bool]:
    """Enroll the learner; a second call (a double click) returns the same enrollment, also in a
    course archived since, while its learners may still finish it. New enrollments need a
    published course, and none is taken where the learner already earned the credit from
    another edition (unless a registrar allowed a repeat: `allow_repeat`)."""
    existing = Enrollment.objects.filter(
        open_to_enrolled(prefix="course__"), user=user, course=course
    ).first()
    if existing is not None:
        return existing, False
    if not course.is_published:
        raise LearningError(_("This training is not open for enrollment."))
    earned = lineage_credit(user=user, course=course).elsewhere
    if earned is not None:
        raise CreditAlreadyEarned(
            " ".join(
                [
                    already_earned(earned),
                    _("If your board asks you to repeat it, write to us: we can allow a repeat."),
                ]
            ),
            certificate=earned,
        )
    enrollment, created = Enrollment.objects.get_or_create(user=user, course=course)
    return enrollment, created


@dataclass(frozen=True)
class Heartbeat:
    credited_seconds: int
    lesson_seconds: int
    lesson_complete: bool
    course_seconds: int
    position_seconds: int
    # The course's lessons completed once this beat counted, for the progress bar.
    lessons_done: int = 0


@transaction.atomic
def record_heartbeat(
    *,
    user: User,
    course: Course | BeatCourse,
    lesson: Lesson | BeatLesson,
    position: float | None,
    playing: bool,
) -> Heartbeat:
    """Credit the wall time since the learner's previous accepted beat, from any course or tab,
    to this lesson of the learner's enrollment, and move its media position on no faster than
    the media can play. Raises Enrollment.DoesNotExist when the learner is not enrolled.

    A beat arrives every few seconds from every open lesson page, so it reads and writes only
    what it must: the enrollment is read in the query that locks it, and the rows are read and
    written through statements built once (`beat_rows`; nothing listens to their saves, and
    the learner's pages are told once, at the end). The course and the lesson are the models
    or what a beat keeps of them (`BeatCourse`, `BeatLesson`)."""
    if lesson.course_id != course.id:
        raise LearningError(_("This lesson belongs to another training."))
    # The learner's one clock, locked first and always before the enrollment: beats from every
    # tab and course queue here, so each second of wall time is credited once, to one enrollment.
    # Then the enrollment with all its lessons' progress, locked in one query (the enrollment
    # alone before the course's first progress row).
    clock, enrollment, rows = beat_rows.lock(user.pk, course.id)
    if clock is None:
        # The learner's first beat ever: there was no clock to lock, so the progress rows were
        # locked first. No beat of theirs can hold the clock while waiting for those rows, and
        # beats racing to make it meet on its unique key (get_or_create).
        EngagementClock.objects.get_or_create(user_id=user.pk)
        clock, enrollment, rows = beat_rows.lock(user.pk, course.id)
    if enrollment is None:
        enrollment = beat_rows.enrollment_row(
            Enrollment.objects.select_for_update().get(user_id=user.pk, course_id=course.id)
        )
    now = timezone.now()
    start = lesson.media_start_seconds or 0
    progress = next((row for row in rows if row.lesson_id == lesson.id), None)
    if progress is None:
        made, _created = LessonProgress.objects.get_or_create(
            enrollment_id=enrollment.pk,
            lesson_id=lesson.id,
            defaults={"position_seconds": start, "furthest_seconds": start},
        )
        progress = beat_rows.progress_row(made)
        rows.append(progress)

    elapsed = (now - clock.last_beat_at).total_seconds() if clock.last_beat_at else None
    if elapsed is None or abs(elapsed) > MAX_BEAT_GAP_SECONDS:
        # The first beat, or one after a long gap: the clock starts now and nothing is earned.
        elapsed, whole = 0.0, 0
        clock.carried_seconds = 0.0
        clock.last_beat_at = now
    elif elapsed < 0:
        # Stamped before the last accepted beat (a web node whose clock runs a little behind):
        # it earns nothing, and the clock is not wound back, which would count time twice.
        elapsed, whole = 0.0, 0
    else:
        # Engagement is kept in whole seconds; the fraction is carried to the next beat.
        earned = clock.carried_seconds + elapsed
        whole = int(earned)
        clock.carried_seconds = earned - whole
        clock.last_beat_at = now
    # At the course's hours the interval is still spent: it earns nothing here and is not kept
    # for another course.
    room = max(0, course.credit_seconds_cap - enrollment.engaged_seconds)
    credited = min(whole, room)

    was_at, was_heard = progress.position_seconds, progress.furthest_seconds
    if lesson.has_media and position is not None:
        at = min(max(float(position), lesson.media_start_seconds), lesson.media_end_seconds)
        progress.position_seconds = int(at)
        if playing:
            # No faster than double speed over the time since the previous accepted beat,
            # counted from the chapter's start at the earliest.
            heard = max(progress.furthest_seconds, lesson.media_start_seconds)
            reachable = heard + elapsed * MAX_PLAYBACK_RATE
            progress.furthest_seconds = max(progress.furthest_seconds, min(at, reachable))

    progress.engaged_seconds += credited
    completed = progress.completed_at is None and _lesson_done(lesson, progress)
    if completed:
        progress.completed_at = now
    # Most beats between two whole seconds change nothing of the lesson's progress: the row is
    # then written only to mark the learner's activity, once a minute.
    progress_changed = (
        credited
        or completed
        or (progress.position_seconds, progress.furthest_seconds) != (was_at, was_heard)
        or progress.updated_at is None
        or (now - progress.updated_at).total_seconds() >= PROGRESS_TOUCH_SECONDS
    )
    if progress_changed:
        progress.updated_at = now

    # Written only when the beat changed it (at the course's hours, a beat on the same lesson
    # credits nothing).
    moved_on = enrollment.last_lesson_id != lesson.id
    if credited or moved_on:
        enrollment.engaged_seconds += credited
        enrollment.last_lesson_id = lesson.id
    beat_rows.write(
        clock,
        progress=progress if progress_changed else None,
        enrollment=enrollment if credited or moved_on else None,
    )
    # The updates above bypass save(), so the learner's kept pages are told here, when the beat
    # changed something they show: time, a completion, the lesson to resume or where in it.
    if credited or completed or moved_on or progress.position_seconds != was_at:
        learner_changed(user.pk)
    return Heartbeat(
        credited_seconds=credited,
        lesson_seconds=progress.engaged_seconds,
        lesson_complete=progress.completed_at is not None,
        course_seconds=enrollment.engaged_seconds,
        position_seconds=progress.position_seconds,
        lessons_done=sum(row.completed_at is not None for row in rows),
    )


def _lesson_done(lesson: Lesson | BeatLesson, progress: beat_rows.ProgressRow) -> bool:
    if progress.engaged_seconds >= lesson.minimum_seconds:
        return True
    return lesson.has_media and (
        progress.furthest_seconds >= lesson.media_end_seconds - POSITION_TOLERANCE_SECONDS
    )


def open_lesson(*, enrollment: Enrollment, lesson: Lesson) -> None:
    """Remember the lesson the learner is on, so My trainings can resume it."""
    if enrollment.last_lesson_id != lesson.pk:
        enrollment.last_lesson = lesson
        enrollment.save(update_fields=["last_lesson"])


class CreditAlreadyEarned(LearningError):
    """The learner holds a valid certificate from another edition of the course."""

    def __init__(self, message: str, *, certificate: Certificate):
        super().__init__(message)
        self.certificate = certificate


@transaction.atomic
def allow_repeat(*, user: User, course: Course, reason: str, acting_user: User) -> RepeatAllowance:
    """A registrar lets one learner earn credit again from this course although they earned it
    from another edition; the written reason goes to the audit trail with the allowance."""
    reason = reason.strip()
    if not reason:
        raise LearningError(_("Write the reason for allowing the repeat; auditors will read it."))
    if RepeatAllowance.objects.filter(user=user, course=course).exists():
        raise LearningError(_("This learner may already repeat this course."))
    allowance = RepeatAllowance.objects.create(
        user=user, course=course, reason=reason, granted_by=acting_user
    )
    audit.record(
        "enrollment.repeat_allowed",
        actor=acting_user,
        subject=allowance,
        data={
            "learner": user.email,
            "course": course.slug,
            "lineage": str(course.lineage),
            "reason": reason,
        },
    )
    return allowance
