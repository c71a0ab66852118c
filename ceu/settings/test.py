"""The test suite: fast hashing, mail in memory, tasks in-process unless a test starts a worker."""

import os
import tempfile

from .base import *
from .base import BASE_DIR, env

DEBUG = False
SECRET_KEY = "test-only-secret-key-not-for-any-deployment-5b1f0c2e9d"  # noqa: S105
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
# The suite runs on SQLite by default; the PostgreSQL pass sets DATABASE_URL to a throwaway server.
DATABASES = {"default": env.db("DATABASE_URL", default="sqlite://:memory:")}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The test database is a file, not memory: Django hands an in-memory database's one
    # connection to the live server's thread as well, and a page's request (a heartbeat) running
    # beside the test's own queries on that shared connection can leave it stuck outside
    # autocommit for every later test. With a file, each thread has its own connection. Nothing
    # is synced to disk (the file is thrown away), writers queue for the lock instead of
    # failing on an upgrade, and readers never wait for a writer (WAL).
    DATABASES["default"]["TEST"] = {
        "NAME": os.path.join(tempfile.gettempdir(), f"ceu-test-{os.getpid()}.sqlite3")
    }
    DATABASES["default"]["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF",
    }

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Sessions in the database alone: the suite's pinned query counts include the session's row.
# Production reads it from the cache (base.py); ceu/tests/test_request_overhead.py and
# courses/tests/test_verify_cache.py run with that engine.
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# Tasks run in-process in the suite; the test that starts a real worker gives it (and itself)
# a Redis broker through these variables.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="memory://")
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_ALWAYS_EAGER = True

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# A worker started by the suite keeps its files where the test that started it can read them.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
CEU_REQUIRE_STAFF_MFA = True
CEU_DEMO = False
# Credentials are signed with a key made on first use when none is configured.
CEU_DEMO_SIGNING_KEYS = True
# PDF signatures are never timestamped by an outside service in tests.
CEU_TSA_URL = ""
# The suite's pages show configured providers as live; the go-live tests turn the checklist on.
CEU_GO_LIVE_REQUIRED = False
LOGGING = {"version": 1, "disable_existing_loggers": False}
# The provider webhook is served in the suite, behind this secret (courses/tests/test_bounces.py).
ANYMAIL = {"WEBHOOK_SECRET": "webhook:test-only-secret"}
