"""A learner's own pages (My trainings, the transcript, a lesson) answered from the cache while
nothing they show has changed: see courses/services/caching.py for what replaces a kept page.
Kept per learner and per session, never shown to anyone else."""

import functools
import hashlib
from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from courses.models.catalog import CONTENT_VERSION_KEY
from courses.services import caching


def _page_key(request: HttpRequest) -> str:
    # The page's forms carry a token of the browser's CSRF secret, and its header the session's
    # account: a page is kept for both, never across a sign-in.
    parts = (
        request.get_full_path(),
        translation.get_language() or "",
        timezone.localdate().isoformat(),
        request.session.session_key or "",
        request.META.get("CSRF_COOKIE", ""),
    )
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def kept_per_learner(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Keep the view's page for the signed-in learner who asked for it. A page with a message for
    the learner, an answer other than 200, or one setting cookies is answered and not kept. A
    view may set `kept_until` on its response: the page is not served after that moment (an
    archived training closing)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if (
            request.method != "GET"
            or not request.user.is_authenticated
            or len(messages.get_messages(request))
        ):
            return view(request, *args, **kwargs)
        answered: list[HttpResponse] = []

        def build():
            response = view(request, *args, **kwargs)
            answered.append(response)
            keep = (
                response.status_code == 200
                and not response.streaming
                and not response.cookies
                and not len(messages.get_messages(request))
            )
            # The CSRF secret the page's tokens were made from: a browser that sent none is
            # given this one with the kept page, so page and cookie always agree.
            secret = (
                request.META.get("CSRF_COOKIE")
                if request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
                else None
            )
            page = (response.content, response["Content-Type"], secret) if keep else None
            return page, keep, getattr(response, "kept_until", None)

        page = caching.cached_for_learner(
            request.user.pk, _page_key(request), build, content_version_key=CONTENT_VERSION_KEY
        )
        if answered:
            return answered[0]
        content, content_type, secret = page
        if secret is not None:
            # As rendering the page's CSRF token would: the secret's cookie is sent (again).
            request.META.setdefault("CSRF_COOKIE", secret)
            request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
        return HttpResponse(content, content_type=content_type)

    return wrapper
