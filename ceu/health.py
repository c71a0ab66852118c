"""Health endpoints for load balancers and monitors.

`/health/live` says the process answers, and touches nothing else: a load balancer that
restarts web nodes on it must not restart them all because the database is down.
`/health/` checks what a request needs (django-health-check): the database, the cache, the
broker, the file storage and at least one live Celery worker. Neither is rate-limited, and
neither names a host, a port or a person: each check reports under a fixed name.
"""

import dataclasses
import datetime

import celery
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET
from health_check import checks
from health_check.base import HealthCheck
from health_check.contrib.celery import Ping
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView

from ceu.celery import app as site_app


class _Named:
    """Reports under a fixed name: the package's own names carry hosts and ports."""

    label = ""

    def __repr__(self) -> str:
        return self.label


@dataclasses.dataclass(repr=False)
class Database(_Named, checks.Database):
    label = "database"


@dataclasses.dataclass(repr=False)
class Cache(_Named, checks.Cache):
    label = "cache"


@dataclasses.dataclass(repr=False)
class Storage(_Named, checks.Storage):
    label = "storage"


@dataclasses.dataclass(repr=False)
class Broker(_Named, HealthCheck):
    """The broker accepts a connection: without it no certificate is rendered or e-mailed."""

    label = "broker"
    app: celery.Celery = dataclasses.field(default_factory=lambda: site_app)
    timeout: datetime.timedelta = dataclasses.field(default=datetime.timedelta(seconds=3))

    def run(self) -> None:
        try:
            with self.app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, timeout=self.timeout.total_seconds())
        except Exception as error:
            raise ServiceUnavailable("the broker does not answer") from error


@dataclasses.dataclass(repr=False)
class Worker(_Named, Ping):
    """At least one Celery worker answers a ping: a broker with nobody reading it renders
    nothing. The first answer is enough, so a healthy site answers quickly."""

    label = "worker"
    app: celery.Celery = dataclasses.field(default_factory=lambda: site_app)
    timeout: datetime.timedelta = dataclasses.field(default=datetime.timedelta(seconds=2))
    limit: int | None = 1

    def run(self) -> None:
        try:
            super().run()
        except ServiceUnavailable:
            raise
        except Exception as error:
            raise ServiceUnavailable("no worker answers") from error


def configured_checks() -> list[type[HealthCheck]]:
    found: list[type[HealthCheck]] = [Database, Cache, Storage]
    # With no broker the site runs its tasks in-process (one machine, `make run`): there is no
    # broker or worker to be down.
    if settings.CELERY_BROKER_URL and not settings.CELERY_TASK_ALWAYS_EAGER:
        found += [Broker, Worker]
    return found


class HealthView(HealthCheckView):
    def get_checks(self):
        for check in configured_checks():
            yield check()


health = HealthView.as_view()


@require_GET
def live(request: HttpRequest) -> HttpResponse:
    """The process is up and serving requests; nothing else is asked."""
    response = HttpResponse("ok\n", content_type="text/plain; charset=utf-8")
    add_never_cache_headers(response)
    return response
