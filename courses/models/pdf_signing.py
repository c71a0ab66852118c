"""Every document-signing certificate the site has signed a certificate PDF with. A PDF carries
its signer's certificate inside its signature; this record is what lets the PDF check say that
the signer was this provider, for PDFs signed before a key rotation too. Never deleted."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DocumentSigningCertificate(models.Model):
    """An X.509 document-signing certificate (PEM), recorded the first time it signs a PDF."""

    sha256 = models.CharField(_("SHA-256 fingerprint"), max_length=64, unique=True)
    subject = models.CharField(_("subject"), max_length=255)
    pem = models.TextField(_("certificate (PEM)"))
    not_valid_before = models.DateTimeField(_("valid from"))
    not_valid_after = models.DateTimeField(_("valid until"))
    first_used_at = models.DateTimeField(_("first used"), auto_now_add=True)

    class Meta:
        verbose_name = _("document-signing certificate")
        verbose_name_plural = _("document-signing certificates")
        ordering = ["first_used_at", "pk"]

    def __str__(self) -> str:
        return f"{self.subject} ({self.sha256[:16]})"
