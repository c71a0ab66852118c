"""Queue rendering (and e-mail) for every certificate issued but not yet rendered: the recovery
path after a failed render, safe to run at any time or on a schedule."""

from django.core.management.base import BaseCommand

from courses.models import Certificate
from courses.tasks import render_certificate


class Command(BaseCommand):
    help = "Render and e-mail certificates that were issued but have no PDF yet."

    def handle(self, *args, **options) -> None:
        pending = list(Certificate.objects.filter(pdf_sha256="").values_list("pk", flat=True))
        for certificate_id in pending:
            render_certificate.delay(certificate_id)
        self.stdout.write(f"Queued {len(pending)} certificate(s).")
