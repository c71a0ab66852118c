"""Django's LocaleMiddleware and django-csp's CSPMiddleware, without work that changes nothing.

- Django's LocaleMiddleware asks, twice a request, whether the first part of the path ("verify",
  "api", "courses"...) is a language code, even where no URL is prefixed with a language
  (i18n_patterns). Each time it compares that word with every language Django knows (about a
  hundred), and the answer, "no", is never cached: about 0.1 ms a request, on every page.
  Without i18n_patterns the answer changes nothing, so this version does not ask; with them it
  is Django's own.
- django-csp builds the Content-Security-Policy header (and its report-only twin) from settings
  on every response. Unless a view brings a policy of its own (the csp decorators) or the page
  used a nonce, the header depends on settings alone: it is built once, and again only when the
  settings object changes. Otherwise, and for DEBUG's error pages, it is django-csp's own.
"""

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.conf.urls.i18n import is_language_prefix_patterns_used
from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.utils import translation
from django.utils.cache import patch_vary_headers


def _prefixed_urls(request) -> bool:
    urlconf = getattr(request, "urlconf", settings.ROOT_URLCONF)
    return is_language_prefix_patterns_used(urlconf)[0]


class LocaleMiddleware(DjangoLocaleMiddleware):
    def process_request(self, request):
        if _prefixed_urls(request):
            return super().process_request(request)
        translation.activate(translation.get_language_from_request(request, check_path=False))
        request.LANGUAGE_CODE = translation.get_language()
        return None

    def process_response(self, request, response):
        if _prefixed_urls(request):
            return super().process_response(request, response)
        # As Django's: the language came from the request's headers or cookie.
        patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", translation.get_language())
        return response


# What a view's csp decorators leave on its response: a policy of its own.
_OWN_POLICY = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
)
# Header, setting, the response's exemption, report-only.
_HEADERS = (
    (HEADER, "CONTENT_SECURITY_POLICY", "_csp_exempt", False),
    (HEADER_REPORT_ONLY, "CONTENT_SECURITY_POLICY_REPORT_ONLY", "_csp_exempt_ro", True),
)


class CSPMiddleware(DjangoCSPMiddleware):
    def __init__(self, get_response):
        super().__init__(get_response)
        self._built: dict[bool, tuple[object, str]] = {}

    def _site_policy(self, setting: str, report_only: bool) -> tuple[str, tuple[str, ...]]:
        """The policy the settings give, and the path prefixes they exempt from it."""
        config = getattr(settings, setting, None)
        built = self._built.get(report_only)
        if built is None or built[0] is not config:
            built = self._built[report_only] = (config, build_policy(report_only=report_only))
        return built[1], tuple((config or {}).get("EXCLUDE_URL_PREFIXES") or ())

    def process_response(self, request, response):
        if (
            getattr(request, "_csp_nonce", None) is not None
            or any(getattr(response, name, None) is not None for name in _OWN_POLICY)
            or settings.DEBUG
        ):
            return super().process_response(request, response)
        for header, setting, exempt, report_only in _HEADERS:
            policy, excluded = self._site_policy(setting, report_only)
            if (
                policy
                and header not in response
                and getattr(response, exempt, False) is False
                and not request.path_info.startswith(excluded)
            ):
                response[header] = policy
        # As django-csp: a nonce asked for after the header went out is an error, not a gap.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
