"""A fixed-window rate limit per client address, counted in the shared cache, for public
lookups that need no account (certificate verification, its API and the PDF check). Every
request is counted, answered from a cache or not; on Redis the count costs one round trip."""

import time
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
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


WINDOW_SECONDS = 61  # a minute, and a second's grace for clocks a little apart


def count_request(key: str, *, also_get: Sequence[str] = ()) -> tuple[int, dict[str, Any]]:
    """Add one to the window's count under `key` and return the new count, with the values of
    the cache keys in `also_get` (None for a key not set): what the view will look up, read in
    the same round trip."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        # Create the counter with its expiry if it is new, add one, read the view's keys: all in
        # one round trip (Django's incr alone asks first whether the key exists). Redis keeps
        # integers as plain numbers, as Django's cache reads them back.
        full_key = backend.make_and_validate_key(key)
        pipeline = backend._cache.get_client(full_key, write=True).pipeline(transaction=False)
        pipeline.set(full_key, 0, ex=WINDOW_SECONDS, nx=True)
        pipeline.incr(full_key)
        if also_get:
            pipeline.mget([backend.make_and_validate_key(k) for k in also_get])
        results = pipeline.execute()
        loads = backend._cache._serializer.loads
        values = zip(also_get, results[2] if also_get else [], strict=True)
        return results[1], {k: None if value is None else loads(value) for k, value in values}
    found = cache.get_many(also_get) if also_get else {}
    return _count(key), {k: found.get(k) for k in also_get}


def _count(key: str) -> int:
    try:
        return cache.incr(key)
    except ValueError:  # the window's first request (or its counter was evicted)
        pass
    if cache.add(key, 1, timeout=WINDOW_SECONDS):
        return 1
    try:
        return cache.incr(key)  # another request started the window meanwhile
    except ValueError:
        cache.set(key, 1, timeout=WINDOW_SECONDS)
        return 1


def rate_limited(
    scope: str,
    *,
    per_minute: int,
    json: bool = False,
    prefetch: Callable[..., Sequence[str]] | None = None,
):
    """Allow `per_minute` requests a minute per client address to the views in `scope`; the
    rest get 429 with a readable message and a Retry-After header. `prefetch(request, *args,
    **kwargs)` may name the cache keys the view will read: they are fetched with the count and
    handed to the view as `request.prefetched_cache` ({key: value or None})."""

    def decorator(view):
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            window = int(time.time() // 60)
            key = f"ratelimit:{scope}:{client_address(request)}:{window}"
            also_get = prefetch(request, *args, **kwargs) if prefetch else ()
            count, request.prefetched_cache = count_request(key, also_get=also_get)
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
