"""Learning: who is taking which course, and how far each lesson has got."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .catalog import Course, Lesson


class Enrollment(models.Model):
    """A learner taking a course. One per learner and course, kept for the audit record: a
    completed course can be revisited, never enrolled in twice."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="enrollments"
    )
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="enrollments")
    enrolled_at = models.DateTimeField(_("enrolled"), auto_now_add=True)
    engaged_seconds = models.PositiveIntegerField(_("engaged seconds"), default=0)
    last_lesson = models.ForeignKey(
        Lesson, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    attested_at = models.DateTimeField(_("attested"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        verbose_name = _("enrollment")
        verbose_name_plural = _("enrollments")
        ordering = ["-enrolled_at"]
        constraints = [
            models.UniqueConstraint("user", "course", name="courses_enrollment_once_per_course"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.course}"

    @property
    def is_complete(self) -> bool:
        return self.completed_at is not None

    @property
    def engaged_minutes(self) -> int:
        return self.engaged_seconds // 60


class LessonProgress(models.Model):
    """Time engaged with one lesson and how far its media has been followed."""

    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.CASCADE, related_name="lesson_progress"
    )
    lesson = models.ForeignKey(Lesson, on_delete=models.PROTECT, related_name="progress")
    engaged_seconds = models.PositiveIntegerField(_("engaged seconds"), default=0)
    # Where the learner was last (to resume), and how far they have really listened: the
    # furthest point only advances as fast as the media can play, so a seek is not listening.
    position_seconds = models.PositiveIntegerField(_("last position (seconds)"), default=0)
    # Sub-second: beats a few milliseconds apart each earn a few milliseconds of listening.
    furthest_seconds = models.FloatField(_("furthest position (seconds)"), default=0)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("lesson progress")
        verbose_name_plural = _("lesson progress")
        ordering = ["enrollment", "lesson__position"]
        constraints = [
            models.UniqueConstraint(
                "enrollment", "lesson", name="courses_progress_once_per_lesson"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enrollment} / {self.lesson}"

    @property
    def is_complete(self) -> bool:
        return self.completed_at is not None


class EngagementClock(models.Model):
    """One per learner: the server's time of the learner's last accepted heartbeat, whatever
    course, lesson or tab it came from. Wall time is credited once per learner: three tabs on
    three courses share one clock, so together they earn what one would."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="engagement_clock",
    )
    last_beat_at = models.DateTimeField(_("last accepted heartbeat"), null=True, blank=True)
    # The fraction of a second earned but not yet credited (engagement is kept in whole
    # seconds), carried to the learner's next beat so fast beats neither gain nor lose time.
    carried_seconds = models.FloatField(_("carried fraction of a second"), default=0)

    class Meta:
        verbose_name = _("engagement clock")
        verbose_name_plural = _("engagement clocks")

    def __str__(self) -> str:
        return f"Clock of {self.user}"


class RepeatAllowance(models.Model):
    """A registrar's written permission for one learner to earn credit again from an edition of
    a course whose content they already earned credit for."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="repeat_allowances"
    )
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="repeat_allowances")
    reason = models.TextField(_("reason"))
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    granted_at = models.DateTimeField(_("granted"), auto_now_add=True)

    class Meta:
        verbose_name = _("allowed repeat")
        verbose_name_plural = _("allowed repeats")
        ordering = ["-granted_at"]
        constraints = [
            models.UniqueConstraint("user", "course", name="courses_repeat_once_per_course"),
        ]

    def __str__(self) -> str:
        return f"{self.user} may repeat {self.course}"
