"""Production settings: refuse to start without their secrets, and pass Django's deploy checks."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "ceu.settings.production",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
    "DJANGO_ALLOWED_HOSTS": "ce.example.org",
    "DATABASE_URL": "postgres://ceu@127.0.0.1:5432/ceu",
    # A shared cache: a per-process one fails the deploy check (ceu.W001).
    "CACHE_URL": "redis://127.0.0.1:6379/1",
}


def manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_under_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)

    assert result.returncode == 0, result.stderr
    # HSTS subdomains and preload are opt-in: their two warnings are silenced, nothing else.
    assert "System check identified no issues (2 silenced)." in result.stdout


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL"])
def test_production_refuses_to_start_without_its_settings(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}

    result = manage("check", env=env)

    assert result.returncode != 0
    assert f"Set the {missing} environment variable" in result.stderr


def test_demo_accounts_are_never_created_under_production_settings():
    result = manage("seed_demo", env=PRODUCTION)

    assert result.returncode != 0
    assert "Demo accounts are never created with these settings" in result.stderr


def test_production_keeps_database_connections_open():
    code = "from django.conf import settings; print(settings.DATABASES['default']['CONN_MAX_AGE'])"
    result = manage("shell", "-v", "0", "-c", code, env=PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip()) >= 60


@pytest.mark.django_db
def test_the_suite_runs_on_the_database_it_was_given():
    from django.db import connection

    url = os.environ.get("DATABASE_URL", "sqlite://")
    expected = "postgresql" if url.startswith("postgres") else "sqlite"
    assert connection.vendor == expected
