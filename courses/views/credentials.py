"""Certificates for their owners, and verification for anyone: the verify pages a QR code opens
and the check of an uploaded PDF (the JSON API is in courses/views/api.py). Public lookups are
rate-limited per address and kept out of search engines."""

import functools
import hashlib

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from ceu.ratelimit import rate_limited
from courses import selectors
from courses.codes import CodeProblem, parse_code
from courses.models import Certificate
from courses.services import badges, pdf_signing
from courses.services.caching import cached_for_code, lookup_keys
from courses.services.transcript_pdf import render_transcript_pdf
from courses.views.personal import kept_per_learner

MAX_PDF_BYTES = 5 * 1024 * 1024
PROBLEM_MESSAGES = {
    CodeProblem.MALFORMED: gettext_lazy(
        "That is not a certificate code: codes look like CEU-7K3M-Q9XZ-4T2P-HW8C."
    ),
    CodeProblem.TYPO: gettext_lazy(
        "This code has a typo: its last character does not match the rest. Check each "
        "character against the certificate."
    ),
}
UNKNOWN = gettext_lazy("No certificate with this code was issued here.")


def _noindex(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


# --- The owner's copy ---------------------------------------------------------------------------


@login_required
@require_GET
def certificate_pdf(request: HttpRequest, code: str) -> HttpResponse:
    """The PDF, for the learner it was issued to and for registrars; anyone else gets 404. A
    revoked or replaced certificate is not a credential: its learner is sent to the transcript
    with the reason, and only registrars may still fetch the file as issued."""
    certificate = (
        Certificate.objects.select_related("enrollment__course", "superseded_by")
        .filter(code=code)
        .first()
    )
    if certificate is None:
        raise Http404
    is_registrar = request.user.has_perm("courses.view_certificate")
    is_owner = certificate.enrollment.user_id == request.user.pk
    if not (is_owner or is_registrar):
        raise Http404
    if not certificate.is_valid and not is_registrar:
        if certificate.revoked_at:
            messages.warning(
                request,
                _(
                    "Certificate %(code)s was revoked on %(date)s, so its PDF is no longer "
                    "offered. Its verify page gives the reason."
                )
                % {
                    "code": certificate.code,
                    "date": date_format(timezone.localdate(certificate.revoked_at)),
                },
            )
        else:
            messages.warning(
                request,
                _("Certificate %(code)s was replaced by %(new)s: download that one instead.")
                % {"code": certificate.code, "new": certificate.superseded_by.code},
            )
        return redirect("courses:transcript")
    if not certificate.is_rendered:
        messages.info(request, _("Your certificate is being prepared; it will be ready shortly."))
        return redirect(certificate.enrollment.course)
    response = FileResponse(
        certificate.pdf.open("rb"),
        as_attachment=True,
        filename=f"{certificate.code}.pdf",
        content_type="application/pdf",
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def transcript_pdf(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(
        render_transcript_pdf(user=request.user), content_type="application/pdf"
    )
    response["Content-Disposition"] = 'attachment; filename="ce-transcript.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
@kept_per_learner
def transcript(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "courses/transcript.html",
        selectors.transcript_of(user=request.user),
    )


# --- Verification for boards --------------------------------------------------------------------


class VerifyForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Certificate code"),
        max_length=64,
        widget=forms.TextInput(
            attrs={"placeholder": "CEU-XXXX-XXXX-XXXX-XXXX", "autocomplete": "off"}
        ),
    )

    def clean_code(self) -> str:
        code, problem = parse_code(self.cleaned_data["code"])
        if problem:
            raise forms.ValidationError(PROBLEM_MESSAGES[problem])
        return code


@rate_limited("verify", per_minute=60)
@require_GET
def verify(request: HttpRequest) -> HttpResponse:
    form = VerifyForm(request.GET or None)
    if form.is_bound and form.is_valid():
        return redirect("courses:verify_code", code=form.cleaned_data["code"])
    return _noindex(
        render(request, "courses/verify.html", {"form": form}, status=400 if form.is_bound else 200)
    )


def _standing(certificate: Certificate) -> str:
    """The certificate's standing and public record as the verify page shows them: the same
    for every visitor, so rendered without the request."""
    return render_to_string(
        "courses/verify_result_card.html",
        {
            "record": selectors.public_record(certificate),
            "revoked_at": certificate.revoked_at,
            "share": badges.share_links(certificate),
        },
    )


def _verify_result(request: HttpRequest, code: str, standing: str) -> str:
    return render_to_string(
        "courses/verify_result.html",
        {"code": code, "standing": mark_safe(standing)},  # noqa: S308 - rendered by us, escaped
        request=request,
    )


def _standing_of_code(code: str) -> str | None:
    certificate = selectors.certificate_by_code(code)
    return None if certificate is None else _standing(certificate)


# Where the code and the certificate's part go in the layout kept for visitors the site knows
# nothing of (characters of Unicode's private use area: never in a page).
_CODE_MARK, _STANDING_MARK = "\ue000code\ue001", "\ue000standing\ue001"
# Per language: that layout, or "" where it turned out to depend on the request's address
# (then every such page is rendered whole).
_layouts: dict[str, str] = {}


def _page_for_anyone(request: HttpRequest, code: str, standing: str) -> str:
    """The verify page as every visitor with no cookie sees it (no session, so signed out,
    and no messages: the usual board member following a QR code). Its layout, the same for
    every code, is rendered once per language and process around two marks; the certificate's
    part is the one kept per code."""
    language = get_language()
    layout = "" if settings.DEBUG else _layouts.get(language)  # DEBUG: templates edited live
    if layout is None:
        layout = _verify_result(request, _CODE_MARK, _STANDING_MARK)
        shared = (
            layout.count(_CODE_MARK) == 1
            and layout.count(_STANDING_MARK) == 1
            and code not in layout  # nothing of this request's own address
        )
        layout = _layouts[language] = layout if shared else ""
    if not layout:
        return _verify_result(request, code, standing)
    return layout.replace(_CODE_MARK, escape(code)).replace(_STANDING_MARK, standing)


@receiver(setting_changed)
def _forget_layouts(**kwargs) -> None:
    _layouts.clear()


# Read twice a lookup: for the rate limit's fetch, then by the view.
_parse_code = functools.lru_cache(maxsize=1024)(parse_code)


def _verify_prefetch(request: HttpRequest, code: str) -> list[str]:
    canonical, problem = _parse_code(code)
    if problem or canonical != code:
        return []
    return lookup_keys(code, "verify-standing", variant=get_language())


@rate_limited("verify", per_minute=60, prefetch=_verify_prefetch)
@require_GET
def verify_code(request: HttpRequest, code: str) -> HttpResponse:
    canonical, problem = _parse_code(code)
    if problem:
        form = VerifyForm({"code": code})
        form.is_valid()
        return _noindex(render(request, "courses/verify.html", {"form": form}, status=400))
    if canonical != code:
        return redirect("courses:verify_code", code=canonical)
    # The certificate's part of the page: the same for every visitor, kept per code and
    # language until the certificate changes (courses/services/caching.py).
    standing = cached_for_code(
        canonical,
        "verify-standing",
        lambda: _standing_of_code(canonical),
        variant=get_language(),
        prefetched=request.prefetched_cache,
    )
    if standing is None:
        return _noindex(
            render(
                request,
                "courses/verify.html",
                {"form": VerifyForm(initial={"code": code}), "unknown": UNKNOWN, "code": code},
                status=404,
            )
        )
    if not request.COOKIES and not request.META.get("QUERY_STRING"):
        page = _page_for_anyone(request, canonical, standing)
    else:
        page = _verify_result(request, canonical, standing)
    # The headers are the middleware's, set afresh. The page differs for a signed-in visitor,
    # whether or not this answer read the session.
    response = HttpResponse(page)
    patch_vary_headers(response, ("Cookie",))
    return _noindex(response)


class PdfCheckForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Certificate PDF"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size == 0:
            raise forms.ValidationError(_("The file is empty."))
        if upload.size > MAX_PDF_BYTES:
            raise forms.ValidationError(
                _("The file is larger than a certificate can be (5 MB at most).")
            )
        return upload


@rate_limited("verify_pdf", per_minute=10)
@never_cache
@require_http_methods(["GET", "POST"])
def verify_pdf(request: HttpRequest) -> HttpResponse:
    form = PdfCheckForm(request.POST, request.FILES) if request.method == "POST" else PdfCheckForm()
    outcome = None
    if request.method == "POST" and form.is_valid():
        # At most MAX_PDF_BYTES (the form refuses more), so it is read whole: the signature
        # check needs the file itself.
        data = b"".join(form.cleaned_data["file"].chunks())
        certificate = selectors.certificate_by_pdf_digest(hashlib.sha256(data).hexdigest())
        if certificate is not None:
            outcome = {"verdict": "original", "record": selectors.public_record(certificate)}
        elif data.startswith(b"%PDF-"):
            outcome = {"verdict": "altered"}
        else:
            outcome = {"verdict": "not_pdf"}
        if outcome["verdict"] != "not_pdf":
            # What the file's own digital signature says, as a PDF reader would show it.
            outcome["signature"] = pdf_signing.signature_report(data)
    status = 400 if request.method == "POST" and not form.is_valid() else 200
    return _noindex(
        render(
            request, "courses/verify_pdf.html", {"form": form, "outcome": outcome}, status=status
        )
    )
