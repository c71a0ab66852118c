"""Certificates as Open Badges 3.0 verifiable credentials: the issuer's public keys, the
revocation status lists, and each certificate's signed credential. Formats and URLs are described
in courses/services/badges.py; none of these rows is ever deleted."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .credentials import Certificate

# The W3C Bitstring Status List's minimum length (16 KB): a list this long hides which
# certificate a verifier checks among many.
STATUS_LIST_SIZE = 131_072


class SigningKey(models.Model):
    """A public key that has signed credentials, recorded when it first signs one. Rotating the
    key adds a row; every row stays published (did.json, jwks.json) so that every credential
    signed before the rotation still verifies."""

    kid = models.CharField(_("key id (RFC 7638 thumbprint)"), max_length=64, unique=True)
    public_jwk = models.JSONField(_("public key (JWK)"))
    first_used_at = models.DateTimeField(_("first used"), auto_now_add=True)

    class Meta:
        verbose_name = _("credential signing key")
        verbose_name_plural = _("credential signing keys")
        ordering = ["first_used_at", "pk"]

    def __str__(self) -> str:
        return self.kid


class StatusPurpose(models.TextChoices):
    REVOCATION = "revocation", _("Revocation")


class StatusList(models.Model):
    """One W3C Bitstring Status List: a bit per credential pointing into it, set while its
    certificate is revoked or replaced. `signed` is the list credential as last signed; it is
    emptied by every change and signed again when next asked for."""

    purpose = models.CharField(
        _("status purpose"),
        max_length=16,
        choices=StatusPurpose.choices,
        default=StatusPurpose.REVOCATION,
    )
    size = models.PositiveIntegerField(_("entries"), default=STATUS_LIST_SIZE)
    bits = models.BinaryField(_("bitstring"))
    # No longer given new entries: random allocation found too few free places in it.
    full = models.BooleanField(_("full"), default=False)
    signed = models.TextField(_("signed list credential (JWS)"), blank=True)
    signed_at = models.DateTimeField(_("signed"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("status list")
        verbose_name_plural = _("status lists")
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} list {self.pk}"


class OpenBadgeCredential(models.Model):
    """A certificate's OpenBadgeCredential as issued: the compact JWS whose payload is the
    credential, signed once and served unchanged. Its place in a status list is given once and
    never reused; a reissued certificate gets a credential (and a place) of its own."""

    certificate = models.OneToOneField(
        Certificate, on_delete=models.PROTECT, related_name="open_badge"
    )
    status_list = models.ForeignKey(StatusList, on_delete=models.PROTECT, related_name="entries")
    status_index = models.PositiveIntegerField(_("status list index"))
    signing_key = models.ForeignKey(SigningKey, on_delete=models.PROTECT, related_name="+")
    jws = models.TextField(_("signed credential (compact JWS)"))
    issued_at = models.DateTimeField(_("issued"), auto_now_add=True)

    class Meta:
        verbose_name = _("Open Badges credential")
        verbose_name_plural = _("Open Badges credentials")
        constraints = [
            # Two credentials never share a place: the loser of a race picks another.
            models.UniqueConstraint(
                "status_list", "status_index", name="courses_open_badge_one_per_status_index"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.certificate_id} at {self.status_list_id}#{self.status_index}"
