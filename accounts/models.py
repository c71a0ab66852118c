from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ceu import rows

from .jurisdictions import Jurisdiction


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get(self, *args, **kwargs) -> "User":
        """The auth backends load the signed-in user with `get(pk=...)` on every request: that
        lookup alone runs a statement built once (`ceu.rows.by_pk`), the same row with the same
        errors, where building the query through the ORM cost more than running it. Any other
        lookup is the ORM's."""
        if args or kwargs.keys() != {"pk"}:
            return super().get(*args, **kwargs)
        return rows.by_pk(self, kwargs["pk"])

    def _create_user(self, email: str, password: str | None, **extra_fields) -> "User":
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields) -> "User":
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields) -> "User":
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an e-mail address: a learner, or staff in the admin."""

    email = models.EmailField(_("e-mail address"), max_length=254, unique=True)
    full_name = models.CharField(
        _("name as printed on certificates"),
        max_length=150,
        help_text=_("Exactly as your licensing board knows you, with any accents."),
    )
    is_staff = models.BooleanField(
        _("staff"), default=False, help_text=_("May sign in to the admin.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # An IANA name ("America/Chicago"), guessed by the browser at sign-up and changed on the
    # profile; empty means the site's own zone. Reminders go out in the learner's morning.
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True, default="")
    # Optional messages, one switch each; certificates and sign-in mail are not optional.
    wants_nudges = models.BooleanField(
        _("reminders about trainings I have not finished"), default=True
    )
    wants_renewal_reminders = models.BooleanField(
        _("reminders before my licence renewal dates"), default=True
    )
    wants_new_trainings = models.BooleanField(_("news of new trainings"), default=True)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def zone(self) -> ZoneInfo:
        """The learner's time zone, or the site's where none is set (or the name is unknown)."""
        try:
            return ZoneInfo(self.time_zone) if self.time_zone else timezone.get_default_timezone()
        except (ZoneInfoNotFoundError, ValueError):
            return timezone.get_default_timezone()


class Profession(models.TextChoices):
    PSYCHOLOGIST = "psychologist", _("Psychologist")
    PROFESSIONAL_COUNSELOR = "professional_counselor", _("Professional counselor")
    CLINICAL_SOCIAL_WORKER = "clinical_social_worker", _("Clinical social worker")
    MARRIAGE_FAMILY_THERAPIST = "marriage_family_therapist", _("Marriage and family therapist")
    ADDICTION_COUNSELOR = "addiction_counselor", _("Addiction counselor")
    OTHER = "other", _("Other")


class Licence(models.Model):
    """A professional licence a learner holds: what credit must count for, and what a
    certificate prints."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="licences")
    profession = models.CharField(_("profession"), max_length=40, choices=Profession.choices)
    jurisdiction = models.CharField(_("jurisdiction"), max_length=5, choices=Jurisdiction.choices)
    jurisdiction_other = models.CharField(
        _("other jurisdiction"),
        max_length=100,
        blank=True,
        help_text=_("The board's state, province or country, when it is not a US jurisdiction."),
    )
    number = models.CharField(
        _("licence number"),
        max_length=40,
        help_text=_("As your board issued it, letters and dashes included."),
    )
    renewal_date = models.DateField(_("renewal date"), null=True, blank=True)
    # Boards count the first renewal from the day a licence was issued, and many ask fewer hours
    # (or none) before it; some set every renewal date from it.
    issued_on = models.DateField(
        _("date first licensed"),
        null=True,
        blank=True,
        help_text=_("The day this licence was first issued, as your board's lookup shows it."),
    )
    hours_required = models.DecimalField(
        _("CE hours required per renewal cycle"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(500)],
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("licence")
        verbose_name_plural = _("licences")
        ordering = ["profession", "jurisdiction", "number", "pk"]
        constraints = [
            # One licence is one licence however its number is capitalised when typed again.
            models.UniqueConstraint(
                "user",
                "profession",
                "jurisdiction",
                Lower("jurisdiction_other"),
                Lower("number"),
                name="accounts_licence_unique_per_user",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(jurisdiction=Jurisdiction.OTHER) & ~models.Q(jurisdiction_other="")
                )
                | (~models.Q(jurisdiction=Jurisdiction.OTHER) & models.Q(jurisdiction_other="")),
                name="accounts_licence_other_jurisdiction_named",
            ),
            models.CheckConstraint(
                condition=~models.Q(number=""), name="accounts_licence_number_present"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_profession_display()}, {self.jurisdiction_name} #{self.number}"

    def clean(self) -> None:
        super().clean()
        if self.issued_on is None:
            return
        if self.issued_on > timezone.localdate():
            raise ValidationError(
                {"issued_on": _("A licence cannot have been issued after today.")}
            )
        if self.renewal_date is not None and self.issued_on >= self.renewal_date:
            raise ValidationError(
                {"issued_on": _("The date first licensed comes before the renewal date.")}
            )

    @property
    def jurisdiction_name(self) -> str:
        if self.jurisdiction == Jurisdiction.OTHER:
            return self.jurisdiction_other
        return self.get_jurisdiction_display()
