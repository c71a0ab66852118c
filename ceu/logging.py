"""Logs and error reports for production: JSON log lines (CEU_JSON_LOGS=1), a request id on
every line logged while a request is served, and Sentry (SENTRY_DSN) with personal data removed
before an event leaves the process.

Learners' e-mail addresses, names, licence numbers and session cookies are what an error
report would most often carry; none of them may reach a third party's servers."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("ceu_request_id", default="")

# What a proxy may already have given the request; anything else is replaced with our own.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def current_request_id() -> str:
    return _request_id.get()


class RequestIdMiddleware:
    """Give each request an id (the proxy's X-Request-ID when it sent a sane one), log it on
    every line written while serving the request, and answer with it, so a learner's report
    of an error can be found in the logs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get("X-Request-ID", "")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = current_request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the request id
    when there is one, and the traceback as one string when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", "") or current_request_id()
        if request_id:
            line["request_id"] = request_id
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def json_logging(logging_config: dict) -> dict:
    """The same logging set-up, writing JSON lines to the console."""
    handlers = {
        name: {**handler, "formatter": "json", "filters": ["request_id"]}
        if name == "console"
        else handler
        for name, handler in logging_config.get("handlers", {}).items()
    }
    return {
        **logging_config,
        "filters": {
            **logging_config.get("filters", {}),
            "request_id": {"()": "ceu.logging.RequestIdFilter"},
        },
        "formatters": {
            **logging_config.get("formatters", {}),
            "json": {"()": "ceu.logging.JsonFormatter"},
        },
        "handlers": handlers,
    }


# --- Sentry -------------------------------------------------------------------------------------

SCRUBBED = "[scrubbed]"
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# Keys whose values are personal whatever they hold: a learner's name (as printed on
# certificates), e-mail, licence number, and anything that opens a session.
_PERSONAL_KEY = re.compile(
    r"(^|_)(e-?mail|name|full_name|first_name|last_name|username|licen[cs]e|number|"
    r"cookie|cookies|session|sessionid|csrftoken|authorization|password|secret|token)($|_|s$)",
    re.IGNORECASE,
)


def _scrub(value: Any, depth: int = 0) -> Any:
    if depth > 20:
        return SCRUBBED
    if isinstance(value, str):
        return _EMAIL.sub(SCRUBBED, value)
    if isinstance(value, dict):
        return {
            key: SCRUBBED
            if isinstance(key, str) and _PERSONAL_KEY.search(key)
            else _scrub(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrub(item, depth + 1) for item in value]
    return value


def scrub_event(event: dict, hint: dict | None = None) -> dict:
    """Sentry's before_send: drop cookies and the user's identity, replace every e-mail
    address in any text, and every value kept under a personal key (name, e-mail, licence
    number, cookie, session, password)."""
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("cookies", None)
        headers = request.get("headers")
        if isinstance(headers, dict):
            for header in list(headers):
                if header.lower() in {"cookie", "set-cookie", "authorization"}:
                    headers[header] = SCRUBBED
    user = event.get("user")
    if isinstance(user, dict):
        # The id is enough to find the account; nothing that names the person leaves.
        event["user"] = {"id": user["id"]} if "id" in user else {}
    # The SDK's own description of itself is not personal and Sentry reads it as sent.
    sdk = event.pop("sdk", None)
    event = _scrub(event)
    if sdk is not None:
        event["sdk"] = sdk
    return event


def scrub_breadcrumb(crumb: dict, hint: dict | None = None) -> dict:
    return _scrub(crumb)


def init_sentry(dsn: str, *, environment: str = "production", release: str = "", **options):
    """Report errors to Sentry with personal data removed; called only when SENTRY_DSN is set.
    `options` are passed on (the tests give a transport that keeps events in memory)."""
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        send_default_pii=False,
        # Local variables hold model instances whose text is a learner's name: never sent.
        include_local_variables=False,
        max_request_body_size="never",
        before_send=scrub_event,
        before_breadcrumb=scrub_breadcrumb,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        **options,
    )
