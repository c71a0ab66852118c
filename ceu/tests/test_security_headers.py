"""The security headers every page carries, personal pages kept out of every cache, rate limits
from the environment, and the warning for a per-process cache under production settings."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from ceu import checks
from ceu.security import rate_limits
from ceu.tests.test_settings import PRODUCTION, manage
from courses.services import credentials
from courses.tasks import render_certificate
from courses.tests.factories import CourseFactory, EnrollmentFactory

DEFAULTS = {"verify": 60, "verify_api": 120, "verify_pdf": 10}


def directives(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return {
        part.strip().split(" ", 1)[0]: part.strip().partition(" ")[2]
        for part in policy.split(";")
        if part.strip()
    }


@pytest.mark.django_db
def test_every_page_forbids_inline_scripts_and_framing(client):
    policy = directives(client.get(reverse("courses:catalog")))

    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["img-src"] == "'self' data:"
    # Audio from the site, and from any https address (episodes live on their podcast hosts);
    # plain http too only because the suite's site runs on plain http, like a local demo.
    assert policy["media-src"] == "'self' https: http:"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["form-action"] == "'self'"
    assert policy["base-uri"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert "unsafe-inline" not in client.get("/").headers["Content-Security-Policy"]


@pytest.mark.django_db
def test_every_page_turns_off_the_browser_features_it_never_uses(client):
    header = client.get(reverse("courses:catalog"))["Permissions-Policy"]
    features = dict(item.strip().split("=", 1) for item in header.split(","))

    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert features[feature] == "()", feature
    assert features["autoplay"] == "(self)"


@pytest.mark.django_db
def test_pages_with_personal_records_are_never_stored(learner_client, licence):
    private = [
        reverse("accounts:profile"),
        reverse("accounts:licence_list"),
        reverse("accounts:licence_detail", args=[licence.pk]),
        reverse("courses:my_trainings"),
        reverse("courses:transcript"),
        reverse("courses:transcript_pdf"),
    ]
    for url in private:
        response = learner_client.get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == "private, no-store", url

    enrollment = EnrollmentFactory(
        user=licence.user, course=CourseFactory(slug="ghosting"), completed_at=timezone.now()
    )
    certificate = credentials.issue_certificate(enrollment=enrollment)
    render_certificate(certificate.pk)
    pdf = learner_client.get(reverse("courses:certificate_pdf", args=[certificate.code]))
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Cache-Control"] == "private, no-store"
    attempts = learner_client.get(reverse("courses:post_test", args=["ghosting"]))
    assert attempts["Cache-Control"] == "private, no-store"

    catalog = learner_client.get(reverse("courses:catalog"))
    assert "no-store" not in catalog.get("Cache-Control", "")


def test_rate_limits_read_from_the_environment():
    assert rate_limits("", defaults=DEFAULTS) == DEFAULTS
    assert rate_limits("verify=5, verify_pdf=2", defaults=DEFAULTS) == {
        "verify": 5,
        "verify_api": 120,
        "verify_pdf": 2,
    }
    for wrong, message in [
        ("verfy=5", "scope=limit with a scope among verify, verify_api, verify_pdf"),
        ("verify", "scope=limit"),
        ("verify=0", "at least 1 a minute, not '0'"),
        ("verify=ten", "not 'ten'"),
    ]:
        with pytest.raises(ImproperlyConfigured, match=message):
            rate_limits(wrong, defaults=DEFAULTS)


def test_the_site_starts_with_the_rate_limits_it_was_given():
    code = "from django.conf import settings; print(settings.CEU_RATE_LIMITS['verify_api'])"
    given = manage(
        "shell", "-v", "0", "-c", code, env={**PRODUCTION, "CEU_RATE_LIMITS": "verify_api=7"}
    )
    assert given.returncode == 0, given.stderr
    assert given.stdout.strip() == "7"

    wrong = manage("check", env={**PRODUCTION, "CEU_RATE_LIMITS": "verify_api=lots"})
    assert wrong.returncode != 0
    assert "CEU_RATE_LIMITS" in wrong.stderr


def test_hsts_preload_and_subdomains_are_opt_in():
    code = (
        "from django.conf import settings; print(settings.SECURE_HSTS_SECONDS, "
        "settings.SECURE_HSTS_INCLUDE_SUBDOMAINS, settings.SECURE_HSTS_PRELOAD)"
    )
    default = manage("shell", "-v", "0", "-c", code, env=PRODUCTION)
    assert default.stdout.split() == ["31536000", "False", "False"], default.stderr

    opted = manage(
        "shell",
        "-v",
        "0",
        "-c",
        code,
        env={
            **PRODUCTION,
            "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
            "DJANGO_SECURE_HSTS_PRELOAD": "true",
        },
    )
    assert opted.stdout.split() == ["31536000", "True", "True"], opted.stderr


def test_production_warns_of_a_per_process_cache():
    local = {k: v for k, v in PRODUCTION.items() if k != "CACHE_URL"}
    result = manage("check", env={**local, "CACHE_URL": "locmemcache://"})

    assert "ceu.W001" in result.stderr
    assert "each counts on its own" in result.stderr

    shared = manage("check", env=PRODUCTION)
    assert "ceu.W001" not in shared.stderr + shared.stdout


def test_the_cache_check_names_each_per_process_backend(settings):
    for backend in checks.PER_PROCESS_CACHES:
        settings.CACHES = {"default": {"BACKEND": backend}}
        assert [w.id for w in checks.per_process_cache_warnings()] == ["ceu.W001"]
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache"}}
    assert checks.per_process_cache_warnings() == []
    call_command("check")  # the suite's own settings (locmem) are not production: no warning
