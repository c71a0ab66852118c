"""Certificates for their owners, and verification for anyone: the verify pages a QR code opens
and the check of an uploaded PDF (the JSON API is in courses/views/api.py). Public lookups are
rate-limited per address and kept out of search engines."""

import hashlib

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from ceu.ratelimit import rate_limited
from courses import selectors
from courses.codes import CodeProblem, parse_code
from courses.models import Certificate
from courses.services.transcript_pdf import render_transcript_pdf

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


@rate_limited("verify", per_minute=60)
@require_GET
def verify_code(request: HttpRequest, code: str) -> HttpResponse:
    canonical, problem = parse_code(code)
    if problem:
        form = VerifyForm({"code": code})
        form.is_valid()
        return _noindex(render(request, "courses/verify.html", {"form": form}, status=400))
    if canonical != code:
        return redirect("courses:verify_code", code=canonical)
    certificate = selectors.certificate_by_code(canonical)
    if certificate is None:
        return _noindex(
            render(
                request,
                "courses/verify.html",
                {"form": VerifyForm(initial={"code": code}), "unknown": UNKNOWN, "code": code},
                status=404,
            )
        )
    return _noindex(
        render(
            request,
            "courses/verify_result.html",
            {"record": selectors.public_record(certificate), "certificate": certificate},
        )
    )


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
        upload = form.cleaned_data["file"]
        digest = hashlib.sha256()
        head = b""
        for chunk in upload.chunks():
            head = head or chunk[:5]
            digest.update(chunk)
        certificate = selectors.certificate_by_pdf_digest(digest.hexdigest())
        if certificate is not None:
            outcome = {"verdict": "original", "record": selectors.public_record(certificate)}
        elif head.startswith(b"%PDF-"):
            outcome = {"verdict": "altered"}
        else:
            outcome = {"verdict": "not_pdf"}
    status = 400 if request.method == "POST" and not form.is_valid() else 200
    return _noindex(
        render(
            request, "courses/verify_pdf.html", {"form": form, "outcome": outcome}, status=status
        )
    )
