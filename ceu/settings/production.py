"""Production: every secret and address comes from the environment, nothing has a default that
could leak into a real deployment."""

from django.core.exceptions import ImproperlyConfigured

from ceu.logging import init_sentry, json_logging

from .base import *
from .base import MIDDLEWARE, env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
DATABASES = {"default": env.db("DATABASE_URL")}
# Persistent connections: without them a one-query page serves about a fifth of the requests.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

CEU_REQUIRE_STAFF_MFA = True
CEU_DEMO = False

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
# Subdomains and the browsers' preload list are opt-in: both outlive a change of mind by months,
# and a provider's other subdomains may not serve HTTPS yet.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
# Leaving them off is that decision, not an oversight: Django's deploy check need not repeat it.
SILENCED_SYSTEM_CHECKS = [
    *([] if SECURE_HSTS_INCLUDE_SUBDOMAINS else ["security.W005"]),
    *([] if SECURE_HSTS_PRELOAD else ["security.W021"]),
]
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https"
# Load balancers probe the nodes themselves, over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^health/"]

# Plain HTTP on this machine only (`make prod LOCAL_HTTP=1`): no redirect to HTTPS, no HSTS,
# cookies sent without TLS. Refused for any host but a loopback one, so it cannot go live.
CEU_LOCAL_HTTP = env.bool("CEU_LOCAL_HTTP", default=False)
if CEU_LOCAL_HTTP:
    if set(ALLOWED_HOSTS) - {"127.0.0.1", "localhost", "[::1]"}:
        raise ImproperlyConfigured(
            "CEU_LOCAL_HTTP serves plain HTTP and is for this machine only: "
            "DJANGO_ALLOWED_HOSTS may then name only 127.0.0.1, localhost or [::1]."
        )
    SECURE_SSL_REDIRECT = False
    SESSION_COOKIE_SECURE = False
    CSRF_COOKIE_SECURE = False
    SECURE_HSTS_SECONDS = 0
    ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http"

# Every log line and error report carries the request's id (X-Request-ID, answered too).
MIDDLEWARE = ["ceu.logging.RequestIdMiddleware", *MIDDLEWARE]

LOGGING = {
    **LOGGING,
    "handlers": {
        **LOGGING["handlers"],
        "mail_admins": {"class": "django.utils.log.AdminEmailHandler", "level": "ERROR"},
    },
    "loggers": {
        **LOGGING["loggers"],
        "django.request": {"handlers": ["console", "mail_admins"], "level": "ERROR"},
    },
}

# One JSON object per line (time, level, logger, message, request id) for log collectors.
if env.bool("CEU_JSON_LOGS", default=False):
    LOGGING = json_logging(LOGGING)
    # Celery would otherwise replace the root logger's handlers with its own plain format.
    CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Errors go to Sentry only when a DSN is given, with personal data scrubbed (ceu/logging.py).
SENTRY_DSN = env("SENTRY_DSN", default="")
if SENTRY_DSN:
    init_sentry(
        SENTRY_DSN,
        environment=env("SENTRY_ENVIRONMENT", default="production"),
        release=env("SENTRY_RELEASE", default=""),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )
