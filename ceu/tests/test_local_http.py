"""Production settings over plain HTTP: only when asked (CEU_LOCAL_HTTP=1), only on loopback."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "ceu.settings.production",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
    "DATABASE_URL": "postgres://ceu@127.0.0.1:5432/ceu",
}
SHOW = (
    "from django.conf import settings as s; "
    "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
    "s.SECURE_HSTS_SECONDS > 0, s.ACCOUNT_DEFAULT_HTTP_PROTOCOL)"
)


def shell(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    clean.pop("CEU_LOCAL_HTTP", None)
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", SHOW],
        cwd=ROOT,
        env={**clean, **PRODUCTION, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_insists_on_https_by_default():
    result = shell(DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "True", "True", "https"]


def test_the_local_flag_serves_plain_http_on_loopback():
    result = shell(DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost", CEU_LOCAL_HTTP="1")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False", "False", "False", "http"]


def test_the_local_flag_is_refused_for_a_public_host():
    result = shell(DJANGO_ALLOWED_HOSTS="127.0.0.1,ce.example.org", CEU_LOCAL_HTTP="1")

    assert result.returncode != 0
    assert "CEU_LOCAL_HTTP serves plain HTTP and is for this machine only" in result.stderr
