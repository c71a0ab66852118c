"""The site's error pages: 400, 403 (CSRF failures included), 404, 429 and 500, each in the site's
layout with a way back. The 500 page renders with no request, so no context processor, session or
user lookup can touch the database that may be the very thing that failed."""

import logging

from django.core.exceptions import DisallowedHost
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    HttpResponseNotFound,
    HttpResponseServerError,
)
from django.middleware.csrf import REASON_NO_CSRF_COOKIE
from django.template import loader
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token

logger = logging.getLogger(__name__)

# What a visitor gets if even the 500 template cannot render (a broken template or URL conf).
BARE_500 = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>Something went wrong · CE Trainings</title></head>"
    '<body><main><p><a href="/">CE Trainings</a></p><h1>Something went wrong</h1>'
    "<p>The site could not show this page. Your progress is saved. Please try again in a few "
    'minutes.</p><p><a href="/">Go to the home page</a></p></main></body></html>'
)


def _back_url(request: HttpRequest) -> str:
    """The page the visitor came from, when it is on this site: a link back to where they were.
    Another site's address is never offered, so an error page cannot be used to send people
    elsewhere."""
    referer = request.META.get("HTTP_REFERER", "")
    if not referer:
        return ""
    try:
        host = request.get_host()
    except DisallowedHost:
        return ""
    safe = url_has_allowed_host_and_scheme(
        referer, allowed_hosts={host}, require_https=request.is_secure()
    )
    return referer if safe else ""


@requires_csrf_token
def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # No link back and nothing read from the request: a forged Host header is one way here,
    # and reading the host again would raise again.
    body = loader.get_template("400.html").render(request=request)
    return HttpResponseBadRequest(body)


@requires_csrf_token
def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    body = loader.get_template("403.html").render({"back_url": _back_url(request)}, request=request)
    return HttpResponseForbidden(body)


@requires_csrf_token
def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without a valid security token: most often a page left open past its
    session, or sent again after signing in or out elsewhere. The same 403 page, saying what
    to do."""
    if reason == REASON_NO_CSRF_COOKIE:
        advice = _(
            "Your browser did not send this site's security cookie with the form. Allow "
            "cookies for this site, then reload the page and send the form again."
        )
    else:
        advice = _(
            "The form had been open for a long time, or you signed in or out in another tab "
            "since it was loaded. Go back, reload the page, and send the form again."
        )
    body = loader.get_template("403.html").render(
        {"csrf_failed": True, "advice": advice, "back_url": _back_url(request)}, request=request
    )
    return HttpResponseForbidden(body)


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    body = loader.get_template("404.html").render(
        {"request_path": request.path, "back_url": _back_url(request)}, request=request
    )
    return HttpResponseNotFound(body)


@requires_csrf_token
def too_many_requests(request: HttpRequest, message: str = "") -> HttpResponse:
    """429: the site's rate limits and allauth's (sign-in, sign-up, password reset) alike."""
    body = loader.get_template("429.html").render(
        {"message": message, "back_url": _back_url(request)}, request=request
    )
    return HttpResponse(body, status=429)


def server_error(request: HttpRequest) -> HttpResponse:
    # Rendered without the request on purpose: no context processors, no session, no user.
    try:
        body = loader.get_template("500.html").render()
    except Exception:
        logger.exception("The 500 page could not be rendered; answering with the bare one.")
        body = BARE_500
    return HttpResponseServerError(body)
