"""The learner's transcript as a PDF: every certificate with its credit, and per licence its
board's rule, the current renewal cycle and what is still needed, and the past cycles; every
page says the board has the final word. Rendered with the certificate's locked-down fetcher
(static files only, nothing from the network)."""

from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import HTML

from accounts.models import User
from courses.selectors import transcript_of
from courses.services.certificate_pdf import StaticFilesOnlyFetcher, static_base_url


def render_transcript_pdf(*, user: User) -> bytes:
    today = timezone.localdate()
    context = {**transcript_of(user=user, today=today), "learner": user, "generated": today}
    html = render_to_string("pdf/transcript.html", context)
    return HTML(
        string=html, base_url=static_base_url(), url_fetcher=StaticFilesOnlyFetcher()
    ).write_pdf()
