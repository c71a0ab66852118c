"""What scheduled upkeep has already done, so a second run does not do it again."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .catalog import Accreditor, CourseApproval


class ApprovalLapseWarning(models.Model):
    """Registrars were warned that an approval lapses on `lapses_on`, `days` days ahead. Keyed by
    the date as well, so a renewed approval (a later date) is warned about again."""

    course_approval = models.ForeignKey(
        CourseApproval, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    accreditor = models.ForeignKey(
        Accreditor, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    lapses_on = models.DateField(_("lapses on"))
    days = models.PositiveSmallIntegerField(_("warning, days ahead"))
    sent_at = models.DateTimeField(_("sent"), auto_now_add=True)
    sent_to = models.TextField(_("sent to"), blank=True)

    class Meta:
        verbose_name = _("approval lapse warning")
        verbose_name_plural = _("approval lapse warnings")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(course_approval__isnull=True, accreditor__isnull=False)
                | models.Q(course_approval__isnull=False, accreditor__isnull=True),
                name="courses_lapse_warning_one_subject",
            ),
            models.UniqueConstraint(
                "course_approval",
                "lapses_on",
                "days",
                condition=models.Q(course_approval__isnull=False),
                name="courses_lapse_warning_once_per_course_approval",
            ),
            models.UniqueConstraint(
                "accreditor",
                "lapses_on",
                "days",
                condition=models.Q(accreditor__isnull=False),
                name="courses_lapse_warning_once_per_accreditor",
            ),
        ]

    def __str__(self) -> str:
        subject = self.course_approval or self.accreditor
        return f"{subject}: {self.days} days before {self.lapses_on}"
