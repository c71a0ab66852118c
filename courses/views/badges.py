"""Open Badges credentials, their status lists and the issuer's keys, for anyone: wallets,
verifiers and the offline verifier fetch them without an account. Formats in
courses/services/badges.py. Credentials are looked up by code like the verify pages, and share
their rate limit; the lists and keys hold no personal data and are cacheable by anyone."""

import hashlib
import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.http import parse_etags
from django.views.decorators.http import require_safe

from ceu.ratelimit import rate_limited
from courses.codes import parse_code
from courses.models import Certificate, OpenBadgeCredential
from courses.services import badges, signing_keys, status_list
from courses.services.signing_keys import SigningKeyError

# Keys change rarely and a new one is published before it signs; a verifier meeting an unknown
# `kid` fetches again.
KEYS_MAX_AGE = 300
# A revocation shows within a minute; a verifier revalidates with the ETag.
STATUS_LIST_MAX_AGE = 60
# A credential never changes once issued.
CREDENTIAL_MAX_AGE = 3600
# No more lists than this can exist; a larger number is not looked up (nor sent to the database).
MAX_LIST_ID = 2**31 - 1


def _public(response: HttpResponse, max_age: int) -> HttpResponse:
    response["Cache-Control"] = f"public, max-age={max_age}"
    # Read from other sites' verifiers in the browser; no cookie is ever involved.
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _problem(message: str, status: int) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _unavailable() -> JsonResponse:
    response = _problem("Credentials cannot be signed here at the moment; try again later.", 503)
    response["Retry-After"] = "300"
    return response


# --- The issuer's keys --------------------------------------------------------------------------


@require_safe
def did_document(request: HttpRequest) -> HttpResponse:
    body = json.dumps(signing_keys.did_document(), indent=2)
    return _public(HttpResponse(body, content_type="application/json"), KEYS_MAX_AGE)


@require_safe
def jwks(request: HttpRequest) -> HttpResponse:
    body = json.dumps(signing_keys.jwks(), indent=2)
    return _public(HttpResponse(body, content_type="application/jwk-set+json"), KEYS_MAX_AGE)


# --- Credentials --------------------------------------------------------------------------------


def _credential(request: HttpRequest, code: str, form: str) -> HttpResponse:
    canonical, problem = parse_code(code)
    if problem:
        return _problem("No certificate has this code.", 404)
    view = "courses:credential_json" if form == "json" else "courses:credential_jwt"
    if canonical != code:
        return redirect(view, code=canonical)
    credential = OpenBadgeCredential.objects.filter(certificate__code=canonical).only("jws").first()
    if credential is None:
        certificate = Certificate.objects.filter(code=canonical).first()
        if certificate is None:
            return _problem("No certificate has this code.", 404)
        try:
            credential = badges.issue_credential(certificate)
        except SigningKeyError:
            return _unavailable()
    if form == "json":
        response = HttpResponse(badges.credential_json(credential), content_type="application/json")
    else:
        response = HttpResponse(credential.jws, content_type=badges.MEDIA_TYPE_JWT)
    response["Content-Disposition"] = f'inline; filename="{canonical}.{form}"'
    response["X-Robots-Tag"] = "noindex, nofollow"
    return _public(response, CREDENTIAL_MAX_AGE)


@rate_limited("verify", per_minute=60, json=True)
@require_safe
def credential_json(request: HttpRequest, code: str) -> HttpResponse:
    return _credential(request, code, "json")


@rate_limited("verify", per_minute=60, json=True)
@require_safe
def credential_jwt(request: HttpRequest, code: str) -> HttpResponse:
    return _credential(request, code, "jwt")


# --- Status lists -------------------------------------------------------------------------------


def _status_list(request: HttpRequest, list_id: int, form: str) -> HttpResponse:
    if list_id > MAX_LIST_ID:
        return _problem("No such status list.", 404)
    try:
        signed = status_list.signed_list(list_id)
    except SigningKeyError:
        return _unavailable()
    if signed is None:
        return _problem("No such status list.", 404)
    etag = f'"{hashlib.sha256(signed.signed.encode()).hexdigest()[:32]}-{form}"'
    if etag in parse_etags(request.headers.get("If-None-Match", "")):
        response = HttpResponse(status=304)
    elif form == "json":
        response = HttpResponse(
            status_list.payload_of(signed.signed), content_type="application/json"
        )
    else:
        response = HttpResponse(signed.signed, content_type=badges.MEDIA_TYPE_JWT)
    response["ETag"] = etag
    return _public(response, STATUS_LIST_MAX_AGE)


@require_safe
def status_list_jwt(request: HttpRequest, list_id: int) -> HttpResponse:
    return _status_list(request, list_id, "jwt")


@require_safe
def status_list_json(request: HttpRequest, list_id: int) -> HttpResponse:
    return _status_list(request, list_id, "json")
