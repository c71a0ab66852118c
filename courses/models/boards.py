"""Board rules as data: what each licensing board (jurisdiction x profession) asks of a licensee
to renew, each fact with the public page it comes from and the date it was checked. Licences,
the catalog, the course page and the transcript read these rules; none hard-codes a state.
Where a fact could not be sourced it is recorded as unknown, never guessed."""

from datetime import date

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.jurisdictions import Jurisdiction
from accounts.models import Profession


class ApprovalBody(models.TextChoices):
    """Approval bodies as boards name them when they say whose credit they accept."""

    APA = "APA", "APA"
    NBCC = "NBCC", "NBCC"
    ASWB_ACE = "ASWB ACE", "ASWB ACE"
    NAADAC = "NAADAC", "NAADAC"
    CAMFT = "CAMFT", "CAMFT"
    AAMFT = "AAMFT", "AAMFT"
    STATE_BOARD = "STATE BOARD", _("the board's own approved providers")
    OTHER = "OTHER", _("other")


class RenewalBasis(models.TextChoices):
    FIXED_DATE = "fixed_date", _("a fixed date")
    BIRTH_MONTH = "birth_month", _("the licensee's birth month")
    ISSUE_DATE = "issue_date", _("the licence's issue date")
    UNKNOWN = "unknown", _("unknown")


class FactStatus(models.TextChoices):
    KNOWN = "known", _("known")
    NONE = "none", _("none (the board states there is none)")
    UNKNOWN = "unknown", _("unknown (not found on the board's pages)")


class SubjectArea(models.Model):
    """A subject boards require hours in (law and ethics, suicide risk...) and courses teach."""

    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=120)

    class Meta:
        verbose_name = _("subject area")
        verbose_name_plural = _("subject areas")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class BoardRule(models.Model):
    jurisdiction = models.CharField(_("jurisdiction"), max_length=5, choices=Jurisdiction.choices)
    profession = models.CharField(_("profession"), max_length=40, choices=Profession.choices)
    board = models.CharField(_("board"), max_length=200)
    licence_titles = models.CharField(
        _("licence titles"), max_length=200, blank=True, help_text=_("e.g. LMHC, LPC")
    )
    checked_on = models.DateField(
        _("checked on"),
        help_text=_("The date the whole rule was last reviewed; each fact keeps its own date."),
    )

    cycle_months = models.PositiveSmallIntegerField(
        _("renewal cycle (months)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text=_("Empty when unknown."),
    )
    renewal_basis = models.CharField(
        _("renewal date set by"),
        max_length=12,
        choices=RenewalBasis.choices,
        default=RenewalBasis.UNKNOWN,
    )
    fixed_month = models.PositiveSmallIntegerField(
        _("fixed renewal month"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
    )
    fixed_day = models.PositiveSmallIntegerField(
        _("fixed renewal day"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(31)],
    )
    cycle_note = models.TextField(_("about the cycle"), blank=True)
    cycle_source = models.URLField(_("cycle: source"), max_length=500, blank=True)
    cycle_checked_on = models.DateField(_("cycle: checked on"), null=True, blank=True)

    hours_required = models.DecimalField(
        _("CE hours per cycle"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Empty when unknown."),
    )
    first_cycle_hours = models.DecimalField(
        _("CE hours in the first cycle"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    first_cycle_note = models.TextField(_("about the first cycle"), blank=True)
    hours_source = models.URLField(_("hours: source"), max_length=500, blank=True)
    hours_checked_on = models.DateField(_("hours: checked on"), null=True, blank=True)

    self_study_status = models.CharField(
        _("self-study cap"), max_length=8, choices=FactStatus.choices, default=FactStatus.UNKNOWN
    )
    self_study_cap_hours = models.DecimalField(
        _("self-study hours allowed per cycle"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
    )
    self_study_kind = models.CharField(
        _("what the cap counts"),
        max_length=40,
        blank=True,
        help_text=_("self-study, online or home-study, as the board words it"),
    )
    self_study_source = models.URLField(_("self-study cap: source"), max_length=500, blank=True)
    self_study_checked_on = models.DateField(_("self-study cap: checked on"), null=True, blank=True)

    approvals_status = models.CharField(
        _("accepted approvals"),
        max_length=8,
        choices=FactStatus.choices,
        default=FactStatus.UNKNOWN,
    )
    # What could not be sourced, and where it was looked for: {"hours": "...", ...}.
    unknown_notes = models.JSONField(
        _("what is unknown, and where it was looked for"), default=dict
    )
    history_note = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("board rule")
        verbose_name_plural = _("board rules")
        ordering = ["jurisdiction", "profession"]
        constraints = [
            models.UniqueConstraint(
                "jurisdiction", "profession", name="courses_board_rule_once_per_board"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_jurisdiction_display()}: {self.get_profession_display()}"

    @property
    def oldest_check(self) -> date:
        """The earliest date any of the rule's facts was checked: how stale the rule may be,
        which the whole-rule review date alone would hide. Reads subjects and accepted
        approvals through `.all()`, so a page listing rules should prefetch both."""
        dates = [self.cycle_checked_on, self.hours_checked_on, self.self_study_checked_on]
        dates += [requirement.checked_on for requirement in self.subjects.all()]
        dates += [approval.checked_on for approval in self.accepted.all()]
        return min(filter(None, dates), default=self.checked_on)


class SubjectRequirement(models.Model):
    rule = models.ForeignKey(BoardRule, on_delete=models.CASCADE, related_name="subjects")
    subject = models.ForeignKey(SubjectArea, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("as the board names it"), max_length=200)
    hours = models.DecimalField(
        _("hours"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Empty when the board requires the subject without stating hours we found."),
    )
    every_n_cycles = models.PositiveSmallIntegerField(
        _("every Nth cycle"), default=1, validators=[MinValueValidator(1)]
    )
    one_time = models.BooleanField(
        _("once in a career"),
        default=False,
        help_text=_("Met once (e.g. a one-time suicide-risk course), not every cycle."),
    )
    source = models.URLField(_("source"), max_length=500)
    checked_on = models.DateField(_("checked on"), null=True, blank=True)

    class Meta:
        verbose_name = _("subject requirement")
        verbose_name_plural = _("subject requirements")
        ordering = ["rule", "subject__name"]

    def __str__(self) -> str:
        return f"{self.name}: {self.hours} h"


class AcceptedApproval(models.Model):
    rule = models.ForeignKey(BoardRule, on_delete=models.CASCADE, related_name="accepted")
    body = models.CharField(_("approval body"), max_length=20, choices=ApprovalBody.choices)
    scope = models.CharField(_("as the board puts it"), max_length=300, blank=True)
    source = models.URLField(_("source"), max_length=500)
    checked_on = models.DateField(_("checked on"), null=True, blank=True)

    class Meta:
        verbose_name = _("accepted approval")
        verbose_name_plural = _("accepted approvals")
        ordering = ["rule", "body"]
        constraints = [
            models.UniqueConstraint("rule", "body", name="courses_accepted_approval_once"),
        ]

    def __str__(self) -> str:
        return self.get_body_display()
