"""Whether the stored certificate PDFs are the ones issued: each rendered certificate's file,
read back through the storage, must hash to the SHA-256 recorded when it was rendered. Run after
a restore (docs/backup.md): a copy that lost or changed a file would otherwise show only when a
board uploads the learner's PDF and the site no longer recognises it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from courses.models import Certificate


@dataclass
class FileCheck:
    checked: int = 0
    missing: list[str] = field(default_factory=list)
    altered: list[str] = field(default_factory=list)

    @property
    def holds(self) -> bool:
        return not (self.missing or self.altered)


def check_certificate_files() -> FileCheck:
    """Every rendered certificate's stored PDF against its recorded SHA-256, by code."""
    result = FileCheck()
    rendered = Certificate.objects.exclude(pdf_sha256="").only("code", "pdf", "pdf_sha256")
    for certificate in rendered.order_by("pk").iterator():
        result.checked += 1
        digest = hashlib.sha256()
        try:
            with certificate.pdf.open("rb") as stored:
                for chunk in stored.chunks():
                    digest.update(chunk)
        except (FileNotFoundError, ValueError):  # ValueError: no file named at all
            result.missing.append(certificate.code)
            continue
        if digest.hexdigest() != certificate.pdf_sha256:
            result.altered.append(certificate.code)
    return result
