"""Certificates for their owners, and verification for anyone: the verify pages a QR code opens,
the JSON API, and the check of an uploaded PDF. Public lookups are rate-limited per address and
kept out of search engines."""

import hashlib
import json

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from ceu.ratelimit import rate_limited
from courses import selectors
from courses.api_schema import OPENAPI
from courses.codes import CodeProblem, parse_code
from courses.models import Certificate
from courses.services.credentials import verify_url
from courses.services.transcript_pdf import render_transcript_pdf

MAX_PDF_BYTES = 5 * 1024 * 1024
MAX_CODES_PER_REQUEST = 100
PROBLEM_MESSAGES = {
    CodeProblem.MALFORMED: gettext_lazy(
        "That is not a certificate code: codes look like CEU-7K3M-Q9XZ-4T2P-HW8R."
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
    """The PDF, for the learner it was issued to and for registrars; anyone else gets 404."""
    certificate = Certificate.objects.select_related("enrollment__course").filter(code=code).first()
    if certificate is None:
        raise Http404
    is_owner = certificate.enrollment.user_id == request.user.pk
    if not (is_owner or request.user.has_perm("courses.view_certificate")):
        raise Http404
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


# --- The JSON API -------------------------------------------------------------------------------


def _echo(query: str) -> str:
    """The query as sent, made safe to send back as UTF-8 (a lone surrogate cannot be)."""
    return query[:64].encode("utf-8", "replace").decode("utf-8")


def _lookups(queries: list[str]) -> list[dict]:
    """Answer each typed code, fetching every certificate asked about in one query."""
    parsed = [(_echo(query), *parse_code(query[:64])) for query in queries]
    found = {
        certificate.code: certificate
        for certificate in Certificate.objects.select_related("superseded_by").filter(
            code__in=[code for _query, code, _problem in parsed if code]
        )
    }
    results = []
    for query, code, problem in parsed:
        if problem:
            results.append(
                {"query": query, "status": problem.value, "message": str(PROBLEM_MESSAGES[problem])}
            )
        elif code not in found:
            results.append({"query": query, "status": "unknown", "message": str(UNKNOWN)})
        else:
            record = selectors.public_record(found[code])
            record["verify_url"] = verify_url(code)
            results.append({"query": query, "status": record["status"], "certificate": record})
    return results


@rate_limited("verify_api", per_minute=120, json=True)
@require_GET
def api_certificate(request: HttpRequest, code: str) -> JsonResponse:
    return _one_lookup(code)


def _one_lookup(code: str) -> JsonResponse:
    result = _lookups([code])[0]
    status = {"malformed": 400, "typo": 400, "unknown": 404}.get(result["status"], 200)
    return _noindex(JsonResponse(result, status=status, json_dumps_params={"ensure_ascii": False}))


@csrf_exempt  # a public, read-only API: no session, nothing a forged request could change
@rate_limited("verify_api", per_minute=120, json=True)
@require_http_methods(["GET", "POST"])
def api_verify(request: HttpRequest) -> JsonResponse:
    if request.method == "GET":
        # GET .../certificates/verify is a lookup of the (malformed) code "verify".
        return _one_lookup("verify")
    try:
        body = json.loads(request.body or b"")
        codes = body["codes"]
        if not isinstance(codes, list) or not all(isinstance(code, str) for code in codes):
            raise TypeError
    except (ValueError, KeyError, TypeError, RecursionError, RequestDataTooBig):
        return JsonResponse(
            {"error": _('Send JSON like {"codes": ["CEU-7K3M-Q9XZ-4T2P-HW8R"]}.')}, status=400
        )
    if not 1 <= len(codes) <= MAX_CODES_PER_REQUEST:
        return JsonResponse(
            {"error": _("Send between 1 and %(max)d codes.") % {"max": MAX_CODES_PER_REQUEST}},
            status=400,
        )
    return _noindex(
        JsonResponse(
            {"results": _lookups(codes)},
            json_dumps_params={"ensure_ascii": False},
        )
    )


@require_GET
def api_schema(request: HttpRequest) -> JsonResponse:
    schema = {**OPENAPI, "servers": [{"url": request.build_absolute_uri("/").rstrip("/")}]}
    return JsonResponse(schema)
