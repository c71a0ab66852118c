"""Certificates: records, not renderings. Each keeps a snapshot of everything it prints, taken
at issue, and its history; none is ever deleted."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .learning import Enrollment


class CertificateStatus(models.TextChoices):
    VALID = "valid", _("Valid")
    REVOKED = "revoked", _("Revoked")
    SUPERSEDED = "superseded", _("Superseded")


class Certificate(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True)
    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.PROTECT, related_name="certificates"
    )
    # Everything printed, as it stood at issue: name, licences, course, hours, approvals,
    # provider. Later edits to the learner, licence or course never reach a certificate.
    snapshot = models.JSONField(_("record as issued"))
    issued_at = models.DateTimeField(_("issued"))
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=CertificateStatus.choices,
        default=CertificateStatus.VALID,
    )
    learner_name = models.CharField(_("learner name as printed"), max_length=150, db_index=True)

    pdf = models.FileField(_("PDF"), upload_to="certificates/", blank=True)
    pdf_sha256 = models.CharField(_("PDF SHA-256"), max_length=64, blank=True, db_index=True)
    rendered_at = models.DateTimeField(_("rendered"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed"), null=True, blank=True)

    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_reason = models.TextField(_("reason for revocation"), blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    superseded_by = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="supersedes",
    )

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["-issued_at"]
        permissions = [
            ("revoke_certificate", _("Can revoke, reissue and resend certificates")),
        ]
        constraints = [
            # One certificate stands for an enrollment at a time; a reissue supersedes it.
            models.UniqueConstraint(
                "enrollment",
                condition=models.Q(superseded_by__isnull=True),
                name="courses_certificate_one_current_per_enrollment",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def get_absolute_url(self) -> str:
        return reverse("courses:verify_code", args=[self.code])

    @property
    def is_valid(self) -> bool:
        return self.status == CertificateStatus.VALID

    @property
    def is_rendered(self) -> bool:
        return bool(self.pdf_sha256)


class CertificateEvent(models.Model):
    """What happened to a certificate and who did it: issued, rendered, e-mailed, revoked,
    reissued."""

    class Kind(models.TextChoices):
        ISSUED = "issued", _("Issued")
        RENDERED = "rendered", _("PDF rendered")
        EMAILED = "emailed", _("E-mailed to the learner")
        REVOKED = "revoked", _("Revoked")
        REINSTATED = "reinstated", _("Reinstated")
        REISSUED = "reissued", _("Reissued")
        NOTIFIED = "notified", _("Learner told of a change")

    certificate = models.ForeignKey(Certificate, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(_("event"), max_length=12, choices=Kind.choices)
    at = models.DateTimeField(_("when"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    detail = models.TextField(_("detail"), blank=True)

    class Meta:
        verbose_name = _("certificate event")
        verbose_name_plural = _("certificate events")
        ordering = ["certificate", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.certificate}: {self.get_kind_display()}"
