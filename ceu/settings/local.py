"""One machine, no services: the demo that `make run` serves."""

from .base import *
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# A development key; production refuses to start without its own DJANGO_SECRET_KEY.
SECRET_KEY = env("DJANGO_SECRET_KEY", default="django-insecure-local-only-0c5f8e1d7a9b4e2f")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])

# The demo lets its staff accounts into the admin without two-factor set-up; the admin's
# sign-in page says so while this is off.
CEU_REQUIRE_STAFF_MFA = env.bool("CEU_REQUIRE_STAFF_MFA", default=False)
CEU_DEMO = True
# Credentials are signed with a key made on first use when none is configured.
CEU_DEMO_SIGNING_KEYS = True
# One machine: a feed served on this machine (a podcast's files being tried out) may be imported.
CEU_FETCH_ALLOW_HOSTS = env.list("CEU_FETCH_ALLOW_HOSTS", default=["localhost", "127.0.0.1", "::1"])

# Files served straight from the source folders: no collectstatic needed on one machine.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
