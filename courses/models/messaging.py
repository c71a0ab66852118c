"""Optional messages to learners: nudges for stalled trainings and renewal reminders, each
claimed with a unique row before it is sent, the site's settings for them, and the addresses
that must receive no optional mail (a hard bounce or a complaint)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from .learning import Enrollment

DEFAULT_NUDGE_DAYS = "3, 10, 30"


def parse_days(text: str) -> list[int]:
    """ "3, 10, 30" as sorted, distinct whole days; ValueError on anything else."""
    days = sorted({int(part) for part in text.replace(";", ",").split(",") if part.strip()})
    if not days or days[0] < 1 or days[-1] > 365:
        raise ValueError(text)
    return days


def _validate_days(text: str) -> None:
    try:
        parse_days(text)
    except ValueError:
        raise ValidationError(
            _("Give whole days between 1 and 365, separated by commas, such as 3, 10, 30."),
            code="days",
        ) from None


class MessageKind(models.TextChoices):
    """The kinds of optional message. A learner switches each off on the profile, or with the
    one-click link every such message carries."""

    NUDGE = "nudge", _("Reminders about trainings I have not finished")
    RENEWAL = "renewal", _("Licence renewal reminders")
    NEW_TRAININGS = "new_trainings", _("News of new trainings")


class ReengagementSettings(models.Model):
    """The site's one row of settings for nudges: after how many days without engagement each
    nudge goes, and the learner's local hour they go at."""

    nudge_days = models.CharField(
        _("nudge after (days without engagement)"),
        max_length=100,
        default=DEFAULT_NUDGE_DAYS,
        validators=[_validate_days],
        help_text=_(
            "One nudge per number, each sent at most once per enrollment. Changing the numbers "
            "starts new stages; nudges already sent stay counted under their own."
        ),
    )
    send_hour = models.PositiveSmallIntegerField(
        _("send from (learner's local hour)"),
        default=10,
        validators=[MinValueValidator(0), MaxValueValidator(23)],
        help_text=_("Nudges go out from this hour in each learner's time zone."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("re-engagement settings")
        verbose_name_plural = _("re-engagement settings")

    def __str__(self) -> str:
        return str(_("Nudges after %(days)s days") % {"days": self.nudge_days})

    @property
    def stages(self) -> list[int]:
        return parse_days(self.nudge_days)

    @classmethod
    def current(cls) -> "ReengagementSettings":
        """The site's settings (the defaults until staff save their own)."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)


class SentMessage(models.Model):
    """One optional message, claimed before it is sent: the unique `key` is inserted first, so
    a second run, or another worker at the same moment, finds it taken and sends nothing.
    `sent_at` stays empty while the message is on its way; a worker that died just then leaves
    it empty and the message is not sent again (once at most, never twice)."""

    class Kind(models.TextChoices):
        NUDGE = "nudge", _("nudge")
        RENEWAL = "renewal", _("renewal reminder")
        COVERED = "covered", _("renewal: requirements met")

    key = models.CharField(_("claim"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sent_messages"
    )
    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.CASCADE, null=True, blank=True, related_name="nudges"
    )
    licence = models.ForeignKey(
        "accounts.Licence", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # A nudge's stage (days without engagement) or a reminder's days before the renewal date.
    stage = models.PositiveSmallIntegerField(_("stage (days)"))
    # The renewal date a reminder was about: a later date is reminded of again.
    due_on = models.DateField(_("renewal date"), null=True, blank=True)
    email = models.EmailField(_("sent to"), max_length=254)
    claimed_at = models.DateTimeField(_("claimed"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    # The first engagement seen after a nudge (recorded by the scheduled run).
    resumed_at = models.DateTimeField(_("resumed"), null=True, blank=True)
    # The learner used this message's unsubscribe link.
    unsubscribed_at = models.DateTimeField(_("unsubscribed"), null=True, blank=True)

    class Meta:
        verbose_name = _("sent message")
        verbose_name_plural = _("sent messages")
        ordering = ["-claimed_at"]
        indexes = [models.Index(fields=["kind", "stage"], name="courses_sent_kind_stage")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.stage} days) to {self.email}"


class MailSuppression(models.Model):
    """An address that receives no optional mail: the provider reported a hard bounce or a
    complaint. Transactional mail (certificates, sign-in) is still sent."""

    class Reason(models.TextChoices):
        BOUNCED = "bounced", _("hard bounce")
        COMPLAINED = "complained", _("complaint (marked as spam)")

    email = models.EmailField(_("e-mail address"), max_length=254)
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    detail = models.TextField(_("what the provider said"), blank=True)
    provider = models.CharField(_("reported by"), max_length=50, blank=True)
    created_at = models.DateTimeField(_("since"), auto_now_add=True)

    class Meta:
        verbose_name = _("suppressed address")
        verbose_name_plural = _("suppressed addresses")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="courses_suppression_once_per_address"),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.get_reason_display()})"
