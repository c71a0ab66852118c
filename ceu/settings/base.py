"""Settings shared by every environment; each value that differs between machines comes from the
environment (django-environ), with defaults that serve one machine with no services."""

from pathlib import Path

import environ
from csp.constants import NONE, SELF

from ceu.security import rate_limits

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# A .env file beside manage.py is optional; real deployments set the environment itself.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# --- Core ---------------------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

DJANGO_APPS = [
    "ceu.apps.CEUAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
]
THIRD_PARTY_APPS = [
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "crispy_forms",
    "crispy_bootstrap5",
    "simple_history",
    # /health/ (ceu/health.py) renders the package's status page.
    "health_check",
    # Celery beat's schedules live in the database: staff see and pause them in the admin.
    "django_celery_beat",
]
LOCAL_APPS = [
    "ceu",
    "accounts",
    "courses",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy, Permissions-Policy and no-store on personal pages (below). The
    # policy is django-csp's, built once rather than on every response (ceu/middleware.py).
    "ceu.middleware.CSPMiddleware",
    "ceu.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Django's, without asking of every path whether it starts with a language (ceu/middleware.py).
    "ceu.middleware.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Content history records which staff member made each change.
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "ceu.urls"
WSGI_APPLICATION = "ceu.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ceu.context_processors.site",
            ],
        },
    },
]

# --- Data ---------------------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the demo's in-process tasks write while a page reads; the timeout rides out
    # the short write locks a single machine sees.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"init_command": "PRAGMA journal_mode=WAL;", "timeout": 20, "transaction_mode": "IMMEDIATE"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://ceu")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # The same cache, without a new Redis client object built for every call (ceu/cache.py).
    CACHES["default"]["BACKEND"] = "ceu.cache.RedisCache"
# Sessions are read from the cache (Redis where CACHE_URL names it) and written through to the
# database: a signed-in page reads no session row, and a cache restart signs nobody out.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# --- Accounts -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
# Signing in lands on the learner's trainings; a ?next= address still wins. A new account, once
# its e-mail is confirmed, starts on the profile, where licences are added.
LOGIN_REDIRECT_URL = "courses:my_trainings"
ACCOUNT_SIGNUP_REDIRECT_URL = "accounts:profile"

ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_FORMS = {"signup": "accounts.forms.SignupForm"}
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[CE Trainings] "
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_PRESERVE_USERNAME_CASING = False
# allauth's built-in rate limits stay on at their defaults (failed logins, sign-ups, password
# resets, e-mail confirmations). They count in the cache above, so several web nodes need a
# shared CACHE_URL (Redis) for the limits to hold across nodes.

MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env("MFA_TOTP_ISSUER", default="CE Trainings")
# Staff reach the admin only once they have two-factor authentication set up.
CEU_REQUIRE_STAFF_MFA = env.bool("CEU_REQUIRE_STAFF_MFA", default=True)
# Demo accounts (make run) exist only where this is on; production turns it off for good.
CEU_DEMO = False

# The site's public address: QR codes and e-mails link to it.
CEU_SITE_URL = env("CEU_SITE_URL", default="http://127.0.0.1:8000")
# Hosts a podcast feed import may fetch although they resolve to a private or loopback address
# (courses/services/safe_fetch.py). Empty: only the public internet is fetched.
CEU_FETCH_ALLOW_HOSTS = env.list("CEU_FETCH_ALLOW_HOSTS", default=[])
# The keys that sign certificates (courses/services/signing_keys.py; `manage.py
# create_signing_key` writes a set): the Ed25519 key for Open Badges credentials and status
# lists (a private JWK or PEM), and the document-signing key and X.509 certificate for PDFs.
CEU_CREDENTIAL_KEY_FILE = env("CEU_CREDENTIAL_KEY_FILE", default="")
CEU_SIGNING_KEY_FILE = env("CEU_SIGNING_KEY_FILE", default="")
CEU_SIGNING_CERT_FILE = env("CEU_SIGNING_CERT_FILE", default="")
# Where keys are made for demos when none is named above (kept out of git); production never
# makes one and refuses to sign without its own.
CEU_KEYS_DIR = env.path("CEU_KEYS_DIR", default=BASE_DIR / ".keys")
CEU_DEMO_SIGNING_KEYS = False
# A timestamp authority (RFC 3161) for PDF signatures: PAdES B-T where set, B-B where not.
CEU_TSA_URL = env("CEU_TSA_URL", default="")
# Certificates print on US Letter landscape, or A4 landscape with "a4".
CEU_CERTIFICATE_PAGE_SIZE = env("CEU_CERTIFICATE_PAGE_SIZE", default="letter")

# The provider number CE Broker issued, printed in its roster uploads.
CEU_CE_BROKER_PROVIDER_NUMBER = env("CEU_CE_BROKER_PROVIDER_NUMBER", default="")
# Public lookups allowed per client address a minute (verify pages, API, PDF check); the
# environment may change any of them: CEU_RATE_LIMITS=verify=60,verify_api=120.
CEU_RATE_LIMITS = rate_limits(
    env("CEU_RATE_LIMITS", default=""),
    defaults={"verify": 60, "verify_api": 120, "verify_pdf": 10},
)
# How many reverse proxies in front of the site append to X-Forwarded-For (0: use REMOTE_ADDR).
CEU_TRUSTED_PROXY_COUNT = env.int("CEU_TRUSTED_PROXY_COUNT", default=0)

# How often a lesson page reports engagement; the server credits wall time between beats.
CEU_HEARTBEAT_SECONDS = env.int("CEU_HEARTBEAT_SECONDS", default=15)
# Online CE hours a learner may complete in any rolling 24 hours (NAADAC caps them at eight).
CEU_MAX_ONLINE_HOURS_PER_DAY = env.int("CEU_MAX_ONLINE_HOURS_PER_DAY", default=8)
# The lowest pass mark a post-test may publish with (APA: at least 75 %).
CEU_MIN_PASS_MARK = env.int("CEU_MIN_PASS_MARK", default=75)
# Days an archived course stays open to learners already enrolled in it, to finish.
CEU_ARCHIVE_GRACE_DAYS = env.int("CEU_ARCHIVE_GRACE_DAYS", default=365)
# Years records are kept (rosters, completions, certificates, the audit trail). Nothing is purged
# automatically: this is the promise staff plan deletions against.
CEU_RETENTION_YEARS = env.int("CEU_RETENTION_YEARS", default=7)

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- E-mail -------------------------------------------------------------------------------------
email_config = env.email_url("EMAIL_URL", default="consolemail://")
if email_config["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend":
    # Django's, with the connection kept between messages (ceu/mail.py).
    email_config["EMAIL_BACKEND"] = "ceu.mail.EmailBackend"
vars().update(email_config)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="CE Trainings <no-reply@localhost>")
SERVER_EMAIL = env("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
# A mail server that accepts the connection and then says nothing must not hold a worker (and
# the certificate row it locks) for ever; the scheduled retry sends it later.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
# Seconds an SMTP connection is kept unused for the next message (0: one per message). Servers
# close idle clients after some minutes; a connection they have closed is replaced unseen.
EMAIL_KEEPALIVE = env.int("EMAIL_KEEPALIVE", default=30)

# --- Files --------------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "ceu" / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Certificate PDFs and uploads go through the storage API only, never a path on this machine.
# On one machine the folder above serves; with several web nodes and workers they must share a
# store, and CEU_STORAGE=s3 puts them in an S3-compatible bucket (AWS, MinIO, Ceph, R2...).
# Credentials come from boto3's usual sources: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY,
# AWS_PROFILE or an instance role. Static files stay with WhiteNoise, in the release.
CEU_STORAGE = env("CEU_STORAGE", default="filesystem")
if CEU_STORAGE == "s3":
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env("AWS_S3_ENDPOINT_URL", default=None),
            "region_name": env("AWS_S3_REGION_NAME", default=None),
            # "path" for servers without a wildcard DNS name per bucket (MinIO and the like).
            "addressing_style": env("AWS_S3_ADDRESSING_STYLE", default=None),
            "location": env("AWS_LOCATION", default=""),
            # Learners' records: nothing in the bucket is public. The site streams certificate
            # PDFs through its own views; any URL the storage gives out is signed and short-lived.
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": env.int("AWS_QUERYSTRING_EXPIRE", default=300),
            # As on the file system, a name already taken gets a new one, never overwritten.
            "file_overwrite": False,
            # Reading a large episode file spills to a temporary file past 10 MB.
            "max_memory_size": 10 * 1024 * 1024,
        },
    }
elif CEU_STORAGE != "filesystem":
    raise environ.ImproperlyConfigured(
        f"CEU_STORAGE is {CEU_STORAGE!r}: use 'filesystem' (the default) or 's3'."
    )

# --- Background work ----------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default="") or None
# With no broker the site runs its tasks in-process, so one machine needs no services.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A task is acknowledged only once it finished, and handed back if its worker dies, so a
# certificate is never lost between a crash and a retry. Tasks must therefore be idempotent.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery closes a worker's database connections around every task unless this is set; then only
# after this many tasks, and ceu.celery closes them as Django does after a request (by
# CONN_MAX_AGE). Without it, every certificate cost a new PostgreSQL connection and its backend.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_TIMEZONE = "UTC"
# Redis hands an unacknowledged task (its worker was killed) to another worker only after this
# many seconds. Longer than the task time limit, so a slow render is never run twice at once,
# and than the longest retry back-off, which Redis also holds unacknowledged.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=900),
    # A broker that does not answer must not hold a learner's request for long.
    "socket_connect_timeout": 5,
    "socket_timeout": 10,
}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Scheduled upkeep (courses.services.upkeep): a certificate without its PDF this long after
# issue, or rendered and not e-mailed this long, is taken up again by the next sweep.
CEU_UPKEEP_GRACE_SECONDS = env.int("CEU_UPKEEP_GRACE_SECONDS", default=120)
# Registrars are warned this many days before an approval lapses.
CEU_APPROVAL_WARNING_DAYS = (60, 14)
# Learners are reminded this many days before a licence's renewal date (courses/services/
# renewals.py). Nudges' days are set in the admin (re-engagement settings).
CEU_RENEWAL_REMINDER_DAYS = (90, 30, 7)
# django-anymail: a provider's tracking webhook (/anymail/<provider>/tracking/) reports hard
# bounces and complaints, which stop optional mail to the address. The webhook is served only
# when its shared secret ("user:password", given to the provider as basic auth) is set.
ANYMAIL = {"WEBHOOK_SECRET": env("ANYMAIL_WEBHOOK_SECRET", default="")}

# --- Locale -------------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env("DJANGO_TIME_ZONE", default="America/New_York")
USE_I18N = True
USE_TZ = True
# One date format on every page: ceu/formats/en/formats.py.
FORMAT_MODULE_PATH = ["ceu.formats"]

# --- Security defaults (production tightens them) -----------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# A form refused for its CSRF token gets the site's 403 page, saying what to do next.
CSRF_FAILURE_VIEW = "ceu.errors.csrf_failure"

# No inline scripts, styles or event handlers anywhere: every script is a static file, page data
# travels in json_script blocks. Audio may come from the media storage's own address, and from
# any https address (episodes imported from a feed live on their podcast host or its CDN); from
# plain http only while the site itself is served over plain http (a demo on this machine),
# as a browser would refuse it on an https page anyway.
CEU_MEDIA_ORIGIN = env("CEU_MEDIA_ORIGIN", default="")
MEDIA_SCHEMES = ["https:", *(["http:"] if CEU_SITE_URL.startswith("http://") else [])]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "media-src": [SELF, *MEDIA_SCHEMES, *([CEU_MEDIA_ORIGIN] if CEU_MEDIA_ORIGIN else [])],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}
# Powerful browser features the site never uses, off for every page and anything it embeds.
PERMISSIONS_POLICY = {
    "accelerometer": [],
    "autoplay": ["self"],
    "camera": [],
    "display-capture": [],
    "geolocation": [],
    "gyroscope": [],
    "magnetometer": [],
    "microphone": [],
    "midi": [],
    "payment": [],
    "publickey-credentials-get": [],
    "usb": [],
    "serial": [],
    "xr-spatial-tracking": [],
}
# Who has sent the go-live test message, and whether backups run: see ceu/golive.py. Until the
# go-live checklist passes every page and certificate says "Sample: not valid for credit".
CEU_GO_LIVE_REQUIRED = env.bool("CEU_GO_LIVE_REQUIRED", default=True)
CEU_BACKUPS_CONFIGURED = env.bool("CEU_BACKUPS_CONFIGURED", default=False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # WeasyPrint reports every step of every PDF at INFO.
        "weasyprint": {"level": "WARNING"},
        "weasyprint.progress": {"level": "WARNING"},
    },
}
