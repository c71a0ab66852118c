"""The verification API under /api/v1/, for boards' and auditors' software. It keeps to its
document (courses/api_schema.py): every answer is JSON, whatever the path, method or body; a
method a path does not list gets 405 naming the ones it does. It only reads, needs no account
and sets no cookie, so no request can be forged on anyone's behalf: it takes no CSRF token."""

import functools
import json
import re
from collections.abc import Callable
from functools import wraps

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.common import no_append_slash
from django.views.decorators.csrf import csrf_exempt

from ceu.ratelimit import rate_limited
from courses import selectors
from courses.api_schema import (
    CODE_PATTERN,
    DOCUMENT_PATH,
    MANY_PATH,
    MAX_CODES_PER_REQUEST,
    ONE_PATH,
    OPENAPI,
    UNKNOWN,
    declared_methods,
)
from courses.codes import CodeProblem, parse_code
from courses.models import Certificate
from courses.services.caching import cached_for_code, lookup_keys
from courses.services.credentials import verify_url
from courses.views.credentials import PROBLEM_MESSAGES
from courses.views.credentials import UNKNOWN as UNKNOWN_MESSAGE

BAD_BODY = gettext_lazy('Send JSON like {"codes": ["CEU-7K3M-Q9XZ-4T2P-HW8C"]}.')
HTTP_STATUS = {CodeProblem.MALFORMED.value: 400, CodeProblem.TYPO.value: 404, UNKNOWN: 404}
_CODE = re.compile(CODE_PATTERN)
_SURROGATE = re.compile("[\ud800-\udfff]")


# --- Answers ------------------------------------------------------------------------------------


def _escape_surrogate(match: re.Match) -> str:
    return f"\\u{ord(match.group()):04x}"


def _json(data: dict, *, status: int = 200) -> HttpResponse:
    """JSON as people read it (UTF-8, not \\u escapes), except for a lone surrogate: JSON may
    carry one and UTF-8 cannot, so it goes back escaped, as it came, and each query is echoed
    exactly as sent."""
    text = _SURROGATE.sub(_escape_surrogate, json.dumps(data, ensure_ascii=False))
    response = HttpResponse(text, status=status, content_type="application/json")
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _error(message: str, *, status: int) -> HttpResponse:
    return _json({"error": message}, status=status)


def api_endpoint(path: str) -> Callable:
    """Serve a path of the document with exactly the methods it lists there (HEAD with GET):
    OPTIONS names them, any other method gets 405 naming them."""
    methods = declared_methods(path)
    allow = ", ".join(methods)
    accepted = {*methods, *(["HEAD"] if "GET" in methods else [])}

    def decorator(view: Callable) -> Callable:
        @csrf_exempt  # read-only, no session: nothing a forged request could do
        @no_append_slash
        @wraps(view)
        def endpoint(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method == "OPTIONS":
                response = _json({"allow": methods, "document": DOCUMENT_PATH})
            elif request.method not in accepted:
                response = _error(
                    _("This address answers %(methods)s only. Its use is described in %(doc)s.")
                    % {"methods": allow, "doc": DOCUMENT_PATH},
                    status=405,
                )
            else:
                return view(request, *args, **kwargs)
            response["Allow"] = allow
            return response

        return endpoint

    return decorator


# --- Lookups ------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)  # read twice a lookup: for the rate limit's fetch, and here
def _parse(text: str) -> tuple[str | None, CodeProblem | None]:
    """A code as the document describes it (CODE_PATTERN), in canonical form; or why not."""
    if not _CODE.search(text):
        return None, CodeProblem.MALFORMED
    return parse_code(text)


def _record(certificate: Certificate) -> dict:
    record = selectors.public_record(certificate)
    record["verify_url"] = verify_url(certificate.code)
    return record


def _result(query: str, code: str | None, problem: CodeProblem | None, record: dict | None) -> dict:
    """The answer to one typed code: why it is not one, that none was issued, or the record."""
    if problem:
        message = PROBLEM_MESSAGES[problem]
        return {"query": query, "status": problem.value, "message": str(message)}
    if record is None:
        return {"query": query, "status": UNKNOWN, "message": str(UNKNOWN_MESSAGE)}
    return {"query": query, "status": record["status"], "certificate": record}


def _lookups(queries: list[str]) -> list[dict]:
    """Answer each typed code, fetching every certificate asked about in one query."""
    parsed = [(query, *_parse(query)) for query in queries]
    found = {
        certificate.code: certificate
        for certificate in Certificate.objects.select_related("superseded_by").filter(
            code__in={code for _query, code, _problem in parsed if code}
        )
    }
    return [
        _result(query, code, problem, _record(found[code]) if code in found else None)
        for query, code, problem in parsed
    ]


def _record_of_code(code: str) -> dict | None:
    certificate = selectors.certificate_by_code(code)
    return None if certificate is None else _record(certificate)


def _record_prefetch(request: HttpRequest, code: str) -> list[str]:
    canonical, problem = _parse(code)
    return [] if problem else lookup_keys(canonical, "api-record")


@api_endpoint(ONE_PATH)
@rate_limited("verify_api", per_minute=120, json=True, prefetch=_record_prefetch)
def certificate(request: HttpRequest, code: str) -> HttpResponse:
    """One code: 200 with the certificate; 404 when none has it (a typo, or never issued);
    400 when the text cannot be a code. The body says which. The record is kept per code until
    the certificate changes (courses/services/caching.py)."""
    canonical, problem = _parse(code)
    record = None
    if not problem:
        record = cached_for_code(
            canonical,
            "api-record",
            lambda: _record_of_code(canonical),
            prefetched=request.prefetched_cache,
        )
    result = _result(code, canonical, problem, record)
    return _json(result, status=HTTP_STATUS.get(result["status"], 200))


@api_endpoint(MANY_PATH)
@rate_limited("verify_api", per_minute=120, json=True)
def verify(request: HttpRequest) -> HttpResponse:
    try:
        body = json.loads(request.body or b"")
        codes = body["codes"]
    except (ValueError, KeyError, TypeError, RecursionError, RequestDataTooBig):
        return _error(str(BAD_BODY), status=400)
    if not isinstance(codes, list) or not all(isinstance(code, str) for code in codes):
        return _error(str(BAD_BODY), status=400)
    if not 1 <= len(codes) <= MAX_CODES_PER_REQUEST:
        return _error(
            _("Send between 1 and %(max)d codes.") % {"max": MAX_CODES_PER_REQUEST}, status=400
        )
    return _json({"results": _lookups(codes)})


@api_endpoint(DOCUMENT_PATH)
def document(request: HttpRequest) -> HttpResponse:
    return _json({**OPENAPI, "servers": [{"url": request.build_absolute_uri("/").rstrip("/")}]})


@csrf_exempt
@no_append_slash
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any other path under /api/: JSON, like the rest of the API, never the site's HTML page."""
    return _error(
        _("There is nothing at this address. The API's paths are listed in %(doc)s.")
        % {"doc": DOCUMENT_PATH},
        status=404,
    )
