"""The learner's transcript as a PDF: every certificate with its credit, and per licence its
board's rule, the current renewal cycle and what is still needed, and the past cycles; every
page says the board has the final word. Rendered like the certificate: the locked-down fetcher
(static files only, nothing from the network), the thread's font configuration, the collector
paused while it is drawn, PDF/A-3b and tagged, the learner's name with its ActualText; marked
"Sample: not valid for credit" while the site is in sample mode, as the certificate is."""

from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import HTML

from accounts.models import User
from courses.selectors import current_provider, transcript_of
from courses.services import golive, pdf_tagging
from courses.services.certificate_pdf import (
    PDF_OPTIONS,
    StaticFilesOnlyFetcher,
    static_base_url,
    thread_font_config,
)
from courses.services.pdf_engine import collector_paused


def render_transcript_pdf(*, user: User) -> bytes:
    today = timezone.localdate()
    context = {
        **transcript_of(user=user, today=today),
        "learner": user,
        "generated": today,
        # Marked as the site's pages are while its provider details are placeholders: a sample
        # transcript is never one to hand to a board.
        "sample": not golive.credit_is_live(current_provider()),
    }
    html = render_to_string("pdf/transcript.html", context)
    with collector_paused():
        return HTML(
            string=html, base_url=static_base_url(), url_fetcher=StaticFilesOnlyFetcher()
        ).write_pdf(font_config=thread_font_config(), finisher=pdf_tagging.finish, **PDF_OPTIONS)
