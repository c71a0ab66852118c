"""The catalog: who approves our credit, what a course offers, and the chapters it teaches from."""

import logging
import string
import uuid
from datetime import date
from decimal import ROUND_FLOOR, Decimal

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.urls import reverse
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from accounts.models import Profession
from ceu.markdown import html_to_store, rendered_from, stored_html

from .boards import ApprovalBody

# How reading time is credited: words divided by this rate. A conservative rate for
# professional reading, stated on every course's credit calculation.
READING_WORDS_PER_MINUTE = 200
# One CE hour is sixty minutes with at least fifty of instruction (Florida 64B4-6.004).
INSTRUCTION_MINUTES_PER_CE_HOUR = 50
QUARTER_HOUR = Decimal("0.25")

PROVIDER_CACHE_KEY = "courses:provider"

logger = logging.getLogger(__name__)


def supported_hours(instruction_minutes: Decimal) -> Decimal:
    """The most CE hours this much instruction supports, in quarter hours."""
    hours = Decimal(instruction_minutes) / INSTRUCTION_MINUTES_PER_CE_HOUR
    return (hours / QUARTER_HOUR).to_integral_value(rounding=ROUND_FLOOR) * QUARTER_HOUR


STATEMENT_PLACEHOLDERS = {
    "provider",
    "provider_number",
    "approved_from",
    "approved_until",
    "hours",
    "credit_type",
    "course_code",
}


class Provider(models.Model):
    """The operator of this site as an approved CE provider: one row, edited in the admin.

    Until it is marked configured, every course, certificate and verify page says the credit is
    a sample and not valid."""

    name = models.CharField(_("provider name"), max_length=200)
    address = models.TextField(_("postal address"), blank=True)
    email = models.EmailField(_("contact e-mail"))
    phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    website = models.URLField(_("website"), blank=True)
    is_configured = models.BooleanField(
        _("configured for real credit"),
        default=False,
        help_text=_(
            "Leave off until the approval numbers below are real: while off, every page and "
            "certificate says 'Sample: not valid for credit'."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("provider")
        verbose_name_plural = _("provider")
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="courses_provider_single_row"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.pk = 1
        super().save(*args, **kwargs)
        # Pages read the provider from the cache; an edit must show at once.
        cache.delete(PROVIDER_CACHE_KEY)


class Accreditor(models.Model):
    """A body whose approval makes our credit count: APA, NBCC, ASWB ACE, a state board..."""

    name = models.CharField(_("name"), max_length=200)
    short_name = models.CharField(_("short name"), max_length=30, unique=True)
    provider_number = models.CharField(
        _("provider (approval) number"),
        max_length=60,
        blank=True,
        help_text=_("The number this accreditor issued to us as a provider."),
    )
    statement_template = models.TextField(
        _("approval statement"),
        help_text=_(
            "The exact wording the accreditor requires. Placeholders: {provider}, "
            "{provider_number}, {approved_from}, {approved_until}, {hours}, {credit_type}, "
            "{course_code}."
        ),
    )
    body = models.CharField(
        _("approval body"),
        max_length=20,
        choices=ApprovalBody.choices,
        blank=True,
        help_text=_("Whose approval this is, as licensing boards name it when they accept it."),
    )
    approved_from = models.DateField(_("provider approval from"), null=True, blank=True)
    approved_until = models.DateField(_("provider approval until"), null=True, blank=True)
    website = models.URLField(_("website"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("accreditor")
        verbose_name_plural = _("accreditors")
        ordering = ["short_name"]

    def __str__(self) -> str:
        return self.short_name

    def clean(self) -> None:
        try:
            fields = {
                name
                for _text, name, _spec, _conv in string.Formatter().parse(self.statement_template)
                if name is not None
            }
        except ValueError as exc:
            raise ValidationError({"statement_template": str(exc)}) from exc
        unknown = fields - STATEMENT_PLACEHOLDERS
        if unknown:
            raise ValidationError(
                {"statement_template": _("Unknown placeholders: %s") % ", ".join(sorted(unknown))}
            )
        if self.approved_from and self.approved_until and self.approved_until < self.approved_from:
            raise ValidationError({"approved_until": _("The approval ends before it starts.")})

    def is_current(self, on: date) -> bool:
        return (self.approved_from is None or self.approved_from <= on) and (
            self.approved_until is None or on <= self.approved_until
        )


class AccreditorProfession(models.Model):
    """A profession whose licensing boards accept this accreditor's credit."""

    accreditor = models.ForeignKey(Accreditor, on_delete=models.CASCADE, related_name="professions")
    profession = models.CharField(_("profession"), max_length=40, choices=Profession.choices)

    class Meta:
        verbose_name = _("profession served")
        verbose_name_plural = _("professions served")
        ordering = ["profession"]
        constraints = [
            models.UniqueConstraint(
                "accreditor", "profession", name="courses_accreditor_profession_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.get_profession_display()


class Topic(models.Model):
    name = models.CharField(_("name"), max_length=60, unique=True)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)

    class Meta:
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Episode(models.Model):
    """A podcast episode a course teaches from; its chapters become lessons."""

    class MediaType(models.TextChoices):
        AUDIO = "audio", _("Audio")
        VIDEO = "video", _("Video")

    title = models.CharField(_("title"), max_length=200)
    show = models.CharField(_("podcast"), max_length=200, blank=True)
    published_on = models.DateField(_("published on"), null=True, blank=True)
    media_url = models.CharField(
        _("media address"),
        max_length=500,
        help_text=_("Where the audio or video is served, absolute or from this site's root."),
    )
    media_type = models.CharField(
        _("media type"), max_length=10, choices=MediaType.choices, default=MediaType.AUDIO
    )
    media_mime_type = models.CharField(_("media MIME type"), max_length=60, default="audio/ogg")
    duration_seconds = models.PositiveIntegerField(_("duration (seconds)"))
    source_url = models.URLField(_("episode page"), blank=True)
    # The episode's transcript with its timings, as normalised WebVTT (courses.services.captions
    # writes it); each lesson plays and captions its chapter's slice of it. Content, like the
    # media: frozen with it once certificates were issued.
    captions = models.TextField(_("captions (WebVTT)"), blank=True, editable=False)
    captions_updated_at = models.DateTimeField(
        _("captions uploaded"), null=True, blank=True, editable=False
    )
    captions_updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("captions uploaded by"),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("episode")
        verbose_name_plural = _("episodes")
        ordering = ["-published_on", "title"]

    def __str__(self) -> str:
        return self.title


class CourseStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    ARCHIVED = "archived", _("Archived")


class CourseFormat(models.TextChoices):
    # Named as accreditors and ASWB expect them on a certificate.
    AUDIO = "home_study_audio", _("Home study: recorded audio")
    VIDEO = "home_study_video", _("Home study: recorded video")
    READING = "home_study_reading", _("Home study: reading")


class InstructionalLevel(models.TextChoices):
    BEGINNING = "beginning", _("Beginning")
    INTERMEDIATE = "intermediate", _("Intermediate")
    ADVANCED = "advanced", _("Advanced")


class Course(models.Model):
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    title = models.CharField(_("title as approved"), max_length=200)
    summary = models.CharField(_("summary"), max_length=300)
    description = models.TextField(_("description (Markdown)"))
    # The Markdown fields as sanitised HTML, rendered when saved (`_render_markdown` below), so
    # no page renders Markdown per request.
    description_html = models.TextField(editable=False, blank=True, default="")
    topics = models.ManyToManyField(Topic, related_name="courses", blank=True)
    subjects = models.ManyToManyField(
        "courses.SubjectArea",
        related_name="courses",
        blank=True,
        verbose_name=_("subject areas"),
        help_text=_("Board subject requirements this course teaches (law and ethics...)."),
    )
    episode = models.ForeignKey(
        Episode, on_delete=models.PROTECT, related_name="courses", null=True, blank=True
    )

    presenter_name = models.CharField(_("presenter"), max_length=150)
    presenter_credentials = models.CharField(
        _("presenter credentials"), max_length=150, help_text=_("e.g. PhD, LMFT")
    )
    presenter_bio = models.TextField(_("presenter biography"), blank=True)
    presenter_bio_html = models.TextField(editable=False, blank=True, default="")
    test_author = models.CharField(
        _("author of the post-test and answer key"), max_length=200, blank=True
    )

    format = models.CharField(_("format"), max_length=30, choices=CourseFormat.choices)
    level = models.CharField(
        _("instructional level"), max_length=20, choices=InstructionalLevel.choices
    )
    target_audience = models.CharField(_("target audience"), max_length=300)

    ce_hours = models.DecimalField(
        _("CE hours"),
        max_digits=4,
        decimal_places=2,
        validators=[MinValueValidator(QUARTER_HOUR), MaxValueValidator(Decimal("40"))],
    )
    media_minutes = models.DecimalField(
        _("media minutes"),
        max_digits=6,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Running time of the recorded media learners must hear or watch."),
    )
    reading_word_count = models.PositiveIntegerField(
        _("reading word count"),
        default=0,
        help_text=_("Words of required reading, credited at %(rate)s words a minute.")
        % {"rate": READING_WORDS_PER_MINUTE},
    )
    minimum_engaged_minutes = models.PositiveIntegerField(
        _("minimum engaged minutes"),
        help_text=_("Time a learner must spend in the lessons before the post-test opens."),
    )

    conflicts_of_interest = models.TextField(
        _("conflicts of interest"), default="None declared by the presenter or planners."
    )
    commercial_support = models.TextField(_("commercial support"), default="None.")

    status = models.CharField(
        _("status"), max_length=12, choices=CourseStatus.choices, default=CourseStatus.DRAFT
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    pass_mark = models.PositiveSmallIntegerField(
        _("pass mark (%)"), default=75, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    attempt_limit = models.PositiveSmallIntegerField(
        _("post-test attempt limit"), default=3, validators=[MinValueValidator(1)]
    )
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    # Editions of one course share a lineage: credit earned from any edition is credit earned
    # from all of them, so a new edition never pays out the same content twice.
    lineage = models.UUIDField(_("lineage"), default=uuid.uuid4, db_index=True, editable=False)
    previous_edition = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="next_editions",
        verbose_name=_("revises"),
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Every state of what was offered is kept (CA BBS 1887.12: materials as offered, 4+ years).
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        ordering = ["title"]
        indexes = [models.Index(fields=["status", "title"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(pass_mark__gte=1, pass_mark__lte=100),
                name="courses_course_pass_mark_range",
            ),
            models.CheckConstraint(
                condition=models.Q(attempt_limit__gte=1), name="courses_course_attempts_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("courses:course_detail", args=[self.slug])

    @property
    def reading_minutes(self) -> Decimal:
        return (Decimal(self.reading_word_count) / READING_WORDS_PER_MINUTE).quantize(
            Decimal("0.01")
        )

    @property
    def instruction_minutes(self) -> Decimal:
        return self.media_minutes + self.reading_minutes

    @property
    def credit_seconds_cap(self) -> int:
        """Engaged time credited for the whole course never exceeds its CE hours."""
        return int(self.ce_hours * 3600)

    @property
    def is_published(self) -> bool:
        return self.status == CourseStatus.PUBLISHED

    @property
    def description_as_html(self) -> SafeString:
        return stored_html(self.description_html, self.description)

    @property
    def presenter_bio_as_html(self) -> SafeString:
        return stored_html(self.presenter_bio_html, self.presenter_bio)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.ce_hours is not None and self.ce_hours % QUARTER_HOUR:
            errors["ce_hours"] = _("CE hours are awarded in quarter hours (0.25, 0.5, 0.75...).")
        if self.ce_hours is not None and self.media_minutes is not None:
            if self.ce_hours > supported_hours(self.instruction_minutes):
                errors["ce_hours"] = _(
                    "%(hours)s CE hours need at least %(needed)s minutes of instruction; media "
                    "and reading give %(have)s."
                ) % {
                    "hours": self.ce_hours,
                    "needed": self.ce_hours * INSTRUCTION_MINUTES_PER_CE_HOUR,
                    "have": self.instruction_minutes,
                }
            if self.minimum_engaged_minutes is not None and (
                self.minimum_engaged_minutes > self.ce_hours * 60
            ):
                errors["minimum_engaged_minutes"] = _(
                    "The minimum cannot exceed the course's %(minutes)s credited minutes."
                ) % {"minutes": self.ce_hours * 60}
        if errors:
            raise ValidationError(errors)


class Lesson(models.Model):
    """One chapter of the episode, taught as a lesson."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="lessons")
    position = models.PositiveSmallIntegerField(_("position"), validators=[MinValueValidator(1)])
    title = models.CharField(_("title"), max_length=200)
    media_start_seconds = models.PositiveIntegerField(
        _("starts at (seconds)"), null=True, blank=True
    )
    media_end_seconds = models.PositiveIntegerField(_("ends at (seconds)"), null=True, blank=True)
    body = models.TextField(_("lesson text (Markdown)"))
    body_html = models.TextField(editable=False, blank=True, default="")
    estimated_minutes = models.PositiveSmallIntegerField(
        _("estimated minutes"),
        validators=[MinValueValidator(1)],
        help_text=_("Listening plus reading; the engaged time that completes the lesson."),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("lesson")
        verbose_name_plural = _("lessons")
        ordering = ["course", "position"]
        constraints = [
            models.UniqueConstraint("course", "position", name="courses_lesson_position_unique"),
            models.CheckConstraint(
                condition=models.Q(media_start_seconds__isnull=True, media_end_seconds__isnull=True)
                | models.Q(
                    media_start_seconds__isnull=False,
                    media_end_seconds__gt=models.F("media_start_seconds"),
                ),
                name="courses_lesson_media_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("courses:lesson", args=[self.course.slug, self.position])

    @property
    def has_media(self) -> bool:
        # Both ends: a draft's last chapter may have a start and no end until its length is known.
        return self.media_start_seconds is not None and self.media_end_seconds is not None

    @property
    def body_as_html(self) -> SafeString:
        return stored_html(self.body_html, self.body)

    @property
    def media_seconds(self) -> int:
        return (self.media_end_seconds - self.media_start_seconds) if self.has_media else 0

    @property
    def minimum_seconds(self) -> int:
        return self.estimated_minutes * 60

    def clean(self) -> None:
        if (self.media_start_seconds is None) != (self.media_end_seconds is None):
            raise ValidationError(_("Give both the start and the end of the chapter, or neither."))
        if self.has_media and self.media_end_seconds <= self.media_start_seconds:
            raise ValidationError({"media_end_seconds": _("The chapter must end after it starts.")})


class LearningObjective(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="objectives")
    position = models.PositiveSmallIntegerField(_("position"))
    text = models.CharField(
        _("objective"),
        max_length=300,
        help_text=_("Start with a measurable verb: describe, apply..."),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("learning objective")
        verbose_name_plural = _("learning objectives")
        ordering = ["course", "position"]
        constraints = [
            models.UniqueConstraint("course", "position", name="courses_objective_position_unique"),
        ]

    def __str__(self) -> str:
        return self.text


class Reference(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="references")
    position = models.PositiveSmallIntegerField(_("position"))
    citation = models.TextField(_("citation (APA style)"))
    doi = models.CharField(_("DOI"), max_length=200, blank=True)
    url = models.URLField(_("address"), max_length=500, blank=True)
    is_source_material = models.BooleanField(
        _("source material"), default=False, help_text=_("The episode the course is built from.")
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("reference")
        verbose_name_plural = _("references")
        ordering = ["course", "position"]
        constraints = [
            models.UniqueConstraint("course", "position", name="courses_reference_position_unique"),
        ]

    def __str__(self) -> str:
        return self.citation[:80]

    @property
    def link(self) -> str:
        return f"https://doi.org/{self.doi}" if self.doi else self.url


class CourseApproval(models.Model):
    """An accreditor's approval of this course: the credit it gives and for how long."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="approvals")
    accreditor = models.ForeignKey(Accreditor, on_delete=models.PROTECT, related_name="approvals")
    hours = models.DecimalField(
        _("hours"), max_digits=4, decimal_places=2, validators=[MinValueValidator(QUARTER_HOUR)]
    )
    credit_type = models.CharField(
        _("credit type"), max_length=80, help_text=_("e.g. general, clinical, ethics")
    )
    approval_code = models.CharField(_("course approval code"), max_length=60, blank=True)
    # Marks the approvals CE Broker reports: their completions go on CE Broker rosters under
    # this number (courses.reports.rosters), never under the course's slug.
    ce_broker_course_number = models.CharField(
        _("CE Broker course number"),
        max_length=20,
        blank=True,
        validators=[
            RegexValidator(
                r"^(20-)?[0-9]{1,12}$",
                _("CE Broker's course tracking number: digits, as 20-123456 or 123456."),
            )
        ],
        help_text=_(
            "The course tracking number CE Broker issued for this approval (20-…). Leave blank "
            "when CE Broker does not report this approval."
        ),
    )
    subjects = models.ManyToManyField(
        "courses.SubjectArea",
        related_name="+",
        blank=True,
        verbose_name=_("approved for subjects"),
        help_text=_("Subject areas this approval covers; a board counts subject hours only here."),
    )
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("course approval")
        verbose_name_plural = _("course approvals")
        ordering = ["accreditor__short_name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__gte=models.F("valid_from")),
                name="courses_approval_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.accreditor}: {self.hours} {self.credit_type}"

    def clean(self) -> None:
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValidationError({"valid_until": _("The approval ends before it starts.")})
        if self.hours and self.course_id and self.hours > self.course.ce_hours:
            raise ValidationError({"hours": _("Credit is never more than the course's CE hours.")})

    def is_current(self, on: date) -> bool:
        return self.valid_from <= on <= self.valid_until and self.accreditor.is_current(on)

    def statement(self, provider: Provider | None) -> str:
        """The accreditor's statement filled in for this course."""
        accreditor = self.accreditor
        values = {
            "provider": provider.name if provider else _("The provider"),
            "provider_number": accreditor.provider_number,
            "approved_from": _format_date(accreditor.approved_from),
            "approved_until": _format_date(accreditor.approved_until),
            "hours": f"{self.hours.normalize():f}",
            "credit_type": self.credit_type,
            "course_code": self.approval_code,
        }
        return accreditor.statement_template.format_map(values)


def _format_date(value: date | None) -> str:
    return value.strftime("%m/%d/%Y") if value else ""


class PolicyKind(models.TextChoices):
    GRIEVANCE = "grievance", _("Grievance policy")
    REFUND = "refund", _("Refund policy")
    ACCOMMODATION = "accommodation", _("Accessibility and accommodations")


class Policy(models.Model):
    """The provider's grievance, refund and accommodation policies, linked from every course."""

    kind = models.CharField(_("policy"), max_length=20, choices=PolicyKind.choices, unique=True)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text (Markdown)"))
    body_html = models.TextField(editable=False, blank=True, default="")
    is_published = models.BooleanField(
        _("published"),
        default=True,
        help_text=_(
            "Off for a draft: the public page then says the policy is not published yet, and "
            "the go-live checklist fails until it is."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("policy")
        verbose_name_plural = _("policies")
        ordering = ["kind"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("courses:policy", args=[self.kind])

    @property
    def body_as_html(self) -> SafeString:
        return stored_html(self.body_html, self.body)


# --- Rendered Markdown and the content version ---------------------------------------------------

# Each Markdown field and the field its sanitised HTML is kept in.
MARKDOWN_FIELDS = {
    "Course": (("description", "description_html"), ("presenter_bio", "presenter_bio_html")),
    "Lesson": (("body", "body_html"),),
    "Policy": (("body", "body_html"),),
}


def _render_markdown(sender, instance, update_fields=None, **kwargs) -> None:
    """Render the Markdown once, as it is saved (fixtures included), never per request. A save
    of other fields only (update_fields) leaves the HTML as it is."""
    for source, target in MARKDOWN_FIELDS[sender.__name__]:
        if update_fields is not None and source not in update_fields:
            continue
        if rendered_from(getattr(instance, target), getattr(instance, source)):
            continue  # the text did not change: its HTML stands as stored
        html = html_to_store(getattr(instance, source))
        setattr(instance, target, html)
        if update_fields is not None and target not in update_fields and instance.pk:
            # The save writes only the fields it names: the HTML goes beside it.
            sender._default_manager.filter(pk=instance.pk).update(**{target: html})


# Pages cache what every visitor sees of the catalog under this token (courses.selectors.catalog
# `content_version`); any change to what they show replaces it, so no page shows a cached copy
# made before the change.
CONTENT_VERSION_KEY = "courses:content-version"


def _new_content_version() -> None:
    try:
        cache.set(CONTENT_VERSION_KEY, uuid.uuid4().hex, None)
    except Exception:
        # The change stands whatever the cache says; copies made before it expire within
        # the hour (courses.selectors.catalog.FRAGMENT_SECONDS).
        logger.exception("Content version not replaced")


def content_changed(*args, **kwargs) -> None:
    """Replace the content version now, and again once the transaction commits: a page built in
    between (it still read the old rows) is kept under a version nothing asks for any more."""
    _new_content_version()
    transaction.on_commit(_new_content_version)


for _model in (Course, Lesson, Policy):
    pre_save.connect(_render_markdown, sender=_model, dispatch_uid=f"markdown-{_model.__name__}")
for _model in (
    Provider,
    Accreditor,
    AccreditorProfession,
    Topic,
    Episode,
    Course,
    Lesson,
    LearningObjective,
    Reference,
    CourseApproval,
    Policy,
    "courses.SubjectArea",
    "courses.BoardRule",
    "courses.SubjectRequirement",
    "courses.AcceptedApproval",
):
    _name = _model if isinstance(_model, str) else _model.__name__
    post_save.connect(content_changed, sender=_model, dispatch_uid=f"content-saved-{_name}")
    post_delete.connect(content_changed, sender=_model, dispatch_uid=f"content-deleted-{_name}")
for _through in (Course.topics.through, Course.subjects.through, CourseApproval.subjects.through):
    m2m_changed.connect(content_changed, sender=_through, dispatch_uid=f"content-m2m-{_through}")
