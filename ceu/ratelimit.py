"""A fixed-window rate limit per client address, counted in the shared cache, for public
lookups that need no account (certificate verification, its API and the PDF check)."""

import time
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse

from ceu.errors import too_many_requests


def client_address(request: HttpRequest) -> str:
    """The client's address; behind N trusted proxies, the Nth address from the right of
    X-Forwarded-For (the ones further left are the client's to forge)."""
    proxies = settings.CEU_TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "unknown")


def rate_limited(scope: str, *, per_minute: int, json: bool = False):
    """Allow `per_minute` requests a minute per client address to the views in `scope`; the
    rest get 429 with a readable message and a Retry-After header."""

    def decorator(view):
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            window = int(time.time() // 60)
            key = f"ratelimit:{scope}:{client_address(request)}:{window}"
            cache.add(key, 0, timeout=61)
            try:
                count = cache.incr(key)
            except ValueError:  # evicted between add and incr
                cache.set(key, 1, timeout=61)
                count = 1
            limit = settings.CEU_RATE_LIMITS.get(scope, per_minute)
            if count > limit:
                retry_after = str(60 - int(time.time()) % 60)
                message = (
                    f"Too many lookups from your address: at most {limit} a minute. "
                    f"Please wait {retry_after} seconds and try again."
                )
                if json:
                    response = JsonResponse({"error": message}, status=429)
                else:
                    response = too_many_requests(request, message)
                response["Retry-After"] = retry_after
                return response
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
