"""Security headers Django does not set itself, and the rate limits read from the environment.

- Permissions-Policy: the browser features the site never uses (camera, microphone, location,
  payment, USB...) are off for every page; audio may autoplay only from the site itself.
- `Cache-Control: private, no-store` on every page that shows one person's records (profile,
  licences, My trainings, the CE transcript and its PDF, certificate PDFs, post-test attempts),
  so neither a shared proxy nor the browser's back button on a shared computer keeps a copy.

The Content-Security-Policy itself comes from django-csp (CONTENT_SECURITY_POLICY in settings).
"""

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse

# Pages that show one person's records, by namespace ("accounts": every page of it) or by name.
PRIVATE_NAMESPACES = {"accounts"}
PRIVATE_URL_NAMES = {
    "courses:my_trainings",
    "courses:transcript",
    "courses:transcript_pdf",
    "courses:certificate_pdf",
    "courses:post_test",
    "courses:start_attempt",
    "courses:attempt",
    "courses:evaluation",
    # allauth's own pages: e-mail addresses, two-factor keys and recovery codes.
    "account_email",
    "mfa_index",
    "mfa_activate_totp",
    "mfa_deactivate_totp",
    "mfa_view_recovery_codes",
    "mfa_generate_recovery_codes",
    "mfa_download_recovery_codes",
}


def rate_limits(text: str, *, defaults: dict[str, int]) -> dict[str, int]:
    """The per-minute limits in `defaults`, changed by "scope=limit,scope=limit" from the
    environment. An unknown scope or a limit that is not a positive whole number stops the site
    from starting, rather than silently leaving a lookup unlimited."""
    limits = dict(defaults)
    for item in filter(None, (part.strip() for part in text.split(","))):
        scope, equals, value = item.partition("=")
        scope, value = scope.strip(), value.strip()
        if not equals or scope not in defaults:
            known = ", ".join(sorted(defaults))
            raise ImproperlyConfigured(
                f"CEU_RATE_LIMITS: {item!r} is not scope=limit with a scope among {known}."
            )
        if not value.isdigit() or int(value) < 1:
            raise ImproperlyConfigured(
                f"CEU_RATE_LIMITS: the limit for {scope!r} must be a whole number of at least 1 "
                f"a minute, not {value!r}."
            )
        limits[scope] = int(value)
    return limits


def permissions_policy(features: dict[str, list[str]]) -> str:
    """The header's value: `camera=()` for a feature that is off, `autoplay=(self)`."""
    return ", ".join(f"{feature}=({' '.join(allow)})" for feature, allow in features.items())


def is_private(request: HttpRequest) -> bool:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return False
    return bool(set(match.namespaces) & PRIVATE_NAMESPACES) or match.view_name in PRIVATE_URL_NAMES


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.permissions = permissions_policy(settings.PERMISSIONS_POLICY)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", self.permissions)
        if is_private(request):
            # Replaces whatever a view set: a personal page is never kept anywhere.
            response["Cache-Control"] = "private, no-store"
            response.headers.pop("Expires", None)
        return response
