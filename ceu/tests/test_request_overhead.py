"""What every request pays for, kept small: a rate-limit count in one Redis round trip (with the
view's cached lookups in the same one), one Redis client per process instead of one per call,
and sessions read from the cache with the database behind them."""

import pytest
import redis
from django.core.cache import cache, caches
from django.urls import reverse

from ceu.ratelimit import WINDOW_SECONDS, count_request
from ceu.tests.test_settings import PRODUCTION, manage

CACHED_DB = "django.contrib.sessions.backends.cached_db"


@pytest.fixture(autouse=True)
def _production_sessions(settings):
    # The suite keeps sessions in the database alone (ceu/settings/test.py); these tests are
    # about production's engine.
    settings.SESSION_ENGINE = CACHED_DB


@pytest.fixture
def redis_cache(redis_url, settings):
    settings.CACHES = {"default": {"BACKEND": "ceu.cache.RedisCache", "LOCATION": f"{redis_url}/5"}}
    cache.clear()
    yield caches["default"]
    cache.clear()


@pytest.fixture
def round_trips(monkeypatch) -> list:
    """Every command (or pipeline of commands) sent to Redis, one entry per round trip."""
    sent = []
    original = redis.connection.Connection.send_packed_command

    def send(connection, command, *args, **kwargs):
        sent.append(command)
        return original(connection, command, *args, **kwargs)

    monkeypatch.setattr(redis.connection.Connection, "send_packed_command", send)
    return sent


def test_a_count_on_redis_is_one_round_trip_with_the_views_lookups(redis_cache, round_trips):
    cache.set("looked-up", {"code": "CEU-7K3M-Q9XZ-4T2P-HW8C"})
    round_trips.clear()

    first = count_request("ratelimit:test", also_get=["looked-up", "never-set"])
    assert len(round_trips) == 1
    second = count_request("ratelimit:test", also_get=["looked-up"])
    third = count_request("ratelimit:test")

    assert first == (1, {"looked-up": {"code": "CEU-7K3M-Q9XZ-4T2P-HW8C"}, "never-set": None})
    assert second == (2, {"looked-up": {"code": "CEU-7K3M-Q9XZ-4T2P-HW8C"}})
    assert third == (3, {})
    assert len(round_trips) == 3
    # Django's cache reads the count back, and it lapses with its window.
    assert cache.get("ratelimit:test") == 3
    client = redis_cache._cache.get_client()
    assert 0 < client.ttl(redis_cache.make_and_validate_key("ratelimit:test")) <= WINDOW_SECONDS


def test_a_kept_verify_page_costs_one_round_trip(redis_cache, round_trips, client, db):
    from courses.tests.test_verify_cache import issue

    certificate = issue("Ines Moreau")
    url = reverse("courses:verify_code", args=[certificate.code])
    assert client.get(url).status_code == 200
    round_trips.clear()

    response = client.get(url)

    assert response.status_code == 200
    assert "Ines Moreau" in response.content.decode()
    # The count, the certificate's stamp and the kept page, together.
    assert len(round_trips) == 1


def test_the_redis_cache_builds_one_client_and_works_as_djangos(redis_cache):
    assert redis_cache._cache.get_client() is redis_cache._cache.get_client(write=True)

    cache.set("a", 1)
    assert cache.incr("a") == 2
    assert cache.add("a", 5) is False
    assert cache.get_many(["a", "b"]) == {"a": 2}
    cache.delete_many(["a"])
    assert cache.get("a") is None


def test_production_settings_use_it_and_keep_sessions_in_the_cache():
    code = (
        "from django.conf import settings; "
        "print(settings.CACHES['default']['BACKEND']); print(settings.SESSION_ENGINE)"
    )
    result = manage("shell", "-v", "0", "-c", code, env=PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "ceu.cache.RedisCache",
        "django.contrib.sessions.backends.cached_db",
    ]


@pytest.mark.django_db
def test_a_signed_in_page_reads_its_session_from_the_cache(
    learner_client, django_assert_num_queries
):
    # The user only: no session row.
    with django_assert_num_queries(1):
        page = learner_client.get(reverse("home")).content.decode()
    assert "Sign out" in page


@pytest.mark.django_db
def test_a_cache_emptied_signs_nobody_out(learner_client):
    cache.clear()

    page = learner_client.get(reverse("home")).content.decode()

    assert "Sign out" in page


@pytest.mark.django_db
def test_pages_follow_the_visitors_language_without_reading_it_from_the_path(client, monkeypatch):
    from django.utils import translation

    def never(path):
        raise AssertionError(f"asked whether {path!r} starts with a language")

    monkeypatch.setattr(translation, "get_language_from_path", never)

    german = client.get(reverse("courses:catalog"), headers={"accept-language": "de"})
    plain = client.get(reverse("courses:catalog"))

    assert german.status_code == plain.status_code == 200
    assert german["Content-Language"] == "de"
    assert plain["Content-Language"] == "en"
    assert "Accept-Language" in german["Vary"]
    assert "Accept-Language" in plain["Vary"]


def _csp_headers(middleware, request, view) -> dict:
    from csp.constants import HEADER, HEADER_REPORT_ONLY

    response = middleware(view)(request) if isinstance(middleware, type) else middleware(request)
    return {name: response.headers.get(name) for name in (HEADER, HEADER_REPORT_ONLY)}


@pytest.mark.parametrize("case", ["site-wide", "view's own", "exempt", "report-only", "nonce"])
def test_the_policy_is_the_one_django_csp_builds(rf, settings, case):
    from csp.middleware import CSPMiddleware as Library
    from django.http import HttpResponse

    from ceu.middleware import CSPMiddleware

    if case == "nonce":
        from csp.constants import NONCE, SELF

        directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
        settings.CONTENT_SECURITY_POLICY = {
            "DIRECTIVES": {**directives, "script-src": [SELF, NONCE]}
        }
    if case == "report-only":
        settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {
            "DIRECTIVES": {"default-src": ["'self'"], "report-uri": "/csp-reports/"}
        }

    def view(request):
        response = HttpResponse("<p>Hello</p>")
        if case == "view's own":
            response._csp_update = {"img-src": ["https://images.example.org"]}
        if case == "exempt":
            response._csp_exempt = True
        if case == "nonce":
            request.nonce_used = str(request.csp_nonce)
        return response

    request = rf.get("/verify/")
    ours = _csp_headers(CSPMiddleware, request, view)
    theirs = _csp_headers(Library, rf.get("/verify/"), view)

    if case == "nonce":
        assert f"'nonce-{request.nonce_used}'" in ours["Content-Security-Policy"]
    else:
        assert ours == theirs
    assert (ours["Content-Security-Policy"] is None) == (case == "exempt")
    assert (ours["Content-Security-Policy-Report-Only"] is None) == (case != "report-only")


def test_a_policy_built_once_follows_a_change_of_settings(rf, settings):
    from django.http import HttpResponse

    from ceu.middleware import CSPMiddleware

    middleware = CSPMiddleware(lambda request: HttpResponse("<p>Hello</p>"))
    before = _csp_headers(middleware, rf.get("/"), None)["Content-Security-Policy"]
    assert "media-src 'self'" in before

    settings.CONTENT_SECURITY_POLICY = {
        "DIRECTIVES": {
            **settings.CONTENT_SECURITY_POLICY["DIRECTIVES"],
            "media-src": ["'self'", "https://media.example.org"],
        }
    }

    after = _csp_headers(middleware, rf.get("/"), None)["Content-Security-Policy"]
    assert "media-src 'self' https://media.example.org" in after
