"""The learner's transcript as a PDF: every certificate with its credit, and the totals per
licence and renewal cycle, rendered with the certificate's locked-down fetcher (static files
only, nothing from the network)."""

from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import HTML

from accounts.models import User
from courses.selectors import transcript_of
from courses.services.certificate_pdf import StaticFilesOnlyFetcher, static_base_url


def render_transcript_pdf(*, user: User) -> bytes:
    context = {**transcript_of(user=user), "learner": user, "generated": timezone.localdate()}
    html = render_to_string("pdf/transcript.html", context)
    return HTML(
        string=html, base_url=static_base_url(), url_fetcher=StaticFilesOnlyFetcher()
    ).write_pdf()
