"""Error reports and log lines in production: Sentry only with a DSN and never with a learner's
personal data; JSON log lines on request."""

import io
import json
import logging
import os
import secrets
import subprocess
import sys
import textwrap
from pathlib import Path

from django.http import HttpResponse
from django.test import RequestFactory

from ceu.logging import JsonFormatter, RequestIdFilter, RequestIdMiddleware, scrub_event

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "ceu.settings.production",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
    "DJANGO_ALLOWED_HOSTS": "ce.example.org",
    "DATABASE_URL": "postgres://ceu@127.0.0.1:5432/ceu",
}
FAKE_DSN = "https://public@sentry.example.invalid/1"


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "SENTRY_", "CEU_JSON"))
    }
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env={**clean, **PRODUCTION, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# --- Sentry --------------------------------------------------------------------------------------

# Run in a process of its own: Sentry's integrations patch Django for the life of a process.
CAPTURE = """
    import json, logging
    import django
    django.setup()
    import sentry_sdk
    from sentry_sdk.transport import Transport
    from ceu.logging import init_sentry

    sent = []

    class Capture(Transport):
        def capture_envelope(self, envelope):
            for item in envelope.items:
                if item.type == "event":
                    sent.append(item.payload.json)

    init_sentry("FAKE_DSN", transport=Capture)
    with sentry_sdk.new_scope() as scope:
        scope.set_user({"id": 42, "email": "dana.whitfield@example.com", "username": "dana"})
        scope.set_context("learner", {"full_name": "Dana Whitfield", "licence_number": "MH 12345"})
        scope.set_extra("licence", {"number": "MH 12345", "jurisdiction": "FL"})
        try:
            raise ValueError("Rendering failed for dana.whitfield@example.com")
        except ValueError:
            sentry_sdk.capture_exception()
        sentry_sdk.capture_event({
            "message": "cookie trouble",
            "request": {
                "url": "https://ce.example.org/my/transcript/",
                "cookies": {"sessionid": "s3cret-session"},
                "headers": {"Cookie": "sessionid=s3cret-session", "User-Agent": "Firefox"},
                "data": {"full_name": "Dana Whitfield", "email": "dana.whitfield@example.com"},
            },
        })
        logging.getLogger("courses").error("No PDF for certificate of dana.whitfield@example.com")
    sentry_sdk.flush()
    print(json.dumps(sent))
""".replace("FAKE_DSN", FAKE_DSN)


def test_sentry_reports_errors_with_personal_data_scrubbed():
    result = run_python(CAPTURE)

    assert result.returncode == 0, result.stderr
    events = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(events) == 3
    sent = json.dumps(events)
    for personal in ("dana.whitfield@example.com", "Dana Whitfield", "MH 12345", "s3cret-session"):
        assert personal not in sent
    # What helps find the fault is still there.
    assert "ValueError" in sent
    assert "Rendering failed for [scrubbed]" in sent
    assert "No PDF for certificate of [scrubbed]" in sent
    assert events[0]["user"] == {"id": 42}
    assert events[1]["request"]["url"] == "https://ce.example.org/my/transcript/"
    assert events[1]["request"]["headers"]["User-Agent"] == "Firefox"


def test_scrubbing_keeps_an_event_without_personal_data_as_it_was():
    event = {"message": "Celery broker unreachable", "level": "error", "extra": {"retries": 3}}

    assert scrub_event(json.loads(json.dumps(event))) == event


SENTRY_STATE = """
    import django
    django.setup()
    import sentry_sdk
    client = sentry_sdk.get_client()
    print(client.is_active(), client.options.get("send_default_pii"),
          getattr(client.options.get("before_send"), "__name__", None))
"""


def test_production_starts_sentry_only_when_a_dsn_is_given():
    without = run_python(SENTRY_STATE)
    with_dsn = run_python(SENTRY_STATE, SENTRY_DSN=FAKE_DSN)

    assert without.returncode == 0, without.stderr
    assert without.stdout.split()[0] == "False"
    assert with_dsn.returncode == 0, with_dsn.stderr
    assert with_dsn.stdout.split() == ["True", "False", "scrub_event"]


# --- JSON log lines -------------------------------------------------------------------------------


def test_json_logs_write_one_object_per_line_under_production_settings():
    code = """
        import django, logging
        django.setup()
        logging.getLogger("courses.tasks").warning("Certificate %s queued", "CEU-7K3M")
        try:
            1 / 0
        except ZeroDivisionError:
            logging.getLogger("courses.tasks").exception("Render failed")
    """
    plain = run_python(code)
    result = run_python(code, CEU_JSON_LOGS="1")

    assert "Certificate CEU-7K3M queued" in plain.stderr
    assert not plain.stderr.lstrip().startswith("{")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 2
    first, second = lines
    assert set(first) == {"time", "level", "logger", "message"}
    assert first["level"] == "WARNING"
    assert first["logger"] == "courses.tasks"
    assert first["message"] == "Certificate CEU-7K3M queued"
    assert first["time"].endswith("+00:00")
    assert second["level"] == "ERROR"
    assert "ZeroDivisionError" in second["exception"]


def _json_lines_handler() -> tuple[logging.Handler, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    return handler, stream


def test_lines_logged_while_serving_a_request_carry_its_id():
    handler, stream = _json_lines_handler()
    logger = logging.getLogger("ceu.tests.request_id")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    def view(request):
        logger.info("serving")
        return HttpResponse("ok")

    try:
        given = RequestIdMiddleware(view)(
            RequestFactory().get("/", HTTP_X_REQUEST_ID="edge-4f2a9c")
        )
        forged = RequestIdMiddleware(view)(
            RequestFactory().get("/", HTTP_X_REQUEST_ID='"}\n{"level": "forged"')
        )
        logger.info("after the request")
    finally:
        logger.removeHandler(handler)

    first, second, after = (json.loads(line) for line in stream.getvalue().splitlines())
    assert given["X-Request-ID"] == "edge-4f2a9c"
    assert first["request_id"] == "edge-4f2a9c"
    # A header that is not a plain id is replaced by one of ours, never written to the logs.
    assert len(forged["X-Request-ID"]) == 32
    assert second["request_id"] == forged["X-Request-ID"]
    assert "request_id" not in after
