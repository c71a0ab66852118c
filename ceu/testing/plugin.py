"""Pytest fixtures for the suite's real services: Redis with a Celery worker, and Chromium.

A missing binary skips the tests that need it with one line saying what to install; under
CI=true it fails them instead, so CI never passes by skipping."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kombu import pools

from .services import ServiceUnavailable, chromium_executable, in_ci, redis_server

# Playwright's synchronous API runs an event loop in the test's thread; Django's ORM calls made
# by the same test (live_server fixtures) are safe there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_report_header(config) -> str:
    from django.conf import settings

    database = settings.DATABASES["default"]
    return f"database: {database['ENGINE'].rsplit('.', 1)[-1]} {database['NAME']}"


def _unavailable(missing: ServiceUnavailable) -> None:
    if in_ci():
        pytest.fail(f"CI=true and {missing}", pytrace=False)
    pytest.skip(str(missing))


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    # Rate limits count in the cache: each test starts with none spent.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


# --- Redis and a real Celery worker -------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    try:
        server = redis_server()
        url = server.__enter__()
    except ServiceUnavailable as missing:
        _unavailable(missing)
    try:
        yield url
    finally:
        server.__exit__(None, None, None)


@dataclass(frozen=True)
class Worker:
    name: str
    media_root: Path
    broker: str
    results: str


@pytest.fixture
def celery_worker(celery_worker_process: Worker) -> Iterator[Worker]:
    """The session's real worker, and this test's tasks sent to it through Redis. Only for this
    test: afterwards tasks run in-process again, so no later test has its work done by another
    process (on PostgreSQL the worker shares the test database, and would still be writing to it
    while the next test empties it)."""
    from celery.result import allow_join_result

    from ceu.celery import app

    saved = {key: app.conf[key] for key in ("broker_url", "result_backend", "task_always_eager")}
    app.conf.update(
        broker_url=celery_worker_process.broker,
        result_backend=celery_worker_process.results,
        task_always_eager=False,
    )
    _forget_connections(app)
    try:
        # Celery's "inside a task" flag is one for the whole process: two threads running tasks
        # in-process at once (the concurrency tests) can leave it set, and the test is not a task.
        with allow_join_result():
            yield celery_worker_process
    finally:
        app.conf.update(saved)
        _forget_connections(app)


@pytest.fixture(scope="session")
def celery_worker_process(redis_url: str, tmp_path_factory, django_db_setup) -> Iterator[Worker]:
    """A Celery worker in its own process on the test Redis. On PostgreSQL it works on the test
    database itself (tests that need it commit their data: transaction=True); on SQLite, whose
    test database lives in this process's memory, it gets a file of its own."""
    from django.db import connection

    from ceu.celery import app

    broker, results = f"{redis_url}/0", f"{redis_url}/1"
    name = f"ceu-test-{os.getpid()}@localhost"
    workdir = tmp_path_factory.mktemp("worker")
    database = connection.settings_dict
    if connection.vendor == "postgresql":
        database_url = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    else:
        database_url = f"sqlite:///{workdir}/worker.sqlite3"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ceu.settings.test",
        "CELERY_BROKER_URL": broker,
        "CELERY_RESULT_BACKEND": results,
        "DATABASE_URL": database_url,
        "MEDIA_ROOT": str(workdir / "media"),
    }
    log = open(workdir / "worker.log", "wb")  # noqa: SIM115 - closed after the worker stops
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "ceu",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            name,
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    saved = {key: app.conf[key] for key in ("broker_url", "result_backend", "task_always_eager")}
    try:
        # Up before any test relies on it: pinged through the broker, then tasks run
        # in-process again until a test asks for the worker (celery_worker).
        saved = {key: app.conf[key] for key in ("broker_url", "result_backend")}
        app.conf.update(broker_url=broker, result_backend=results)
        _forget_connections(app)
        try:
            deadline = time.monotonic() + 60
            while not any(name in reply for reply in app.control.ping(timeout=0.5)):
                if worker.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"the Celery worker did not start:\n{(workdir / 'worker.log').read_text()}"
                    )
        finally:
            app.conf.update(saved)
            _forget_connections(app)
        yield Worker(name=name, media_root=workdir / "media", broker=broker, results=results)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()


def _forget_connections(app) -> None:
    """Drop the connections and result backend Celery cached for the previous broker."""
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None
    # The control mailbox (ping, inspect) caches the producer pool it first used, and kombu
    # keeps producer pools per broker address for the whole process: a test that used the same
    # address before leaves one behind whose connections were just closed.
    app.control.mailbox.__dict__.pop("producer_pool", None)
    pools.producers.clear()
    pools.connections.clear()
    if hasattr(app._local, "backend"):
        del app._local.backend


# --- An S3-compatible bucket (moto) --------------------------------------------------------------


@pytest.fixture(scope="session")
def s3_server():
    """A moto S3 server for the session; a missing moto skips (fails under CI=true)."""
    from .s3 import s3_server as start

    try:
        server = start()
        running = server.__enter__()
    except ServiceUnavailable as missing:
        _unavailable(missing)
    try:
        yield running
    finally:
        server.__exit__(None, None, None)


@dataclass(frozen=True)
class S3Bucket:
    server: object  # ceu.testing.s3.S3Server
    name: str

    def keys(self) -> list[str]:
        return self.server.keys(self.name)


@pytest.fixture
def s3_storage(s3_server, settings, monkeypatch) -> S3Bucket:
    """The site's files in a fresh bucket, configured as a deployment configures it: the
    environment a deployer sets, read by the settings' own code."""
    from .s3 import default_storage_from_environment

    bucket = s3_server.new_bucket()
    environment = s3_server.environment(bucket)
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": default_storage_from_environment(environment),
    }
    return S3Bucket(server=s3_server, name=bucket)


# --- Chromium through Playwright ----------------------------------------------------------------


def chromium_launch_args(defaults: dict) -> dict:
    """Launch options for the distribution's Chromium; pytest-playwright would look for a build
    of its own, which cannot be downloaded here. Used by the root conftest's override of
    `browser_type_launch_args` (a plugin's fixture cannot override another plugin's)."""
    try:
        executable = chromium_executable()
    except ServiceUnavailable as missing:
        _unavailable(missing)
    # The flags keep Chromium from reaching out to the network at start-up, which a closed
    # machine answers with a flood of errors.
    return {
        **defaults,
        "executable_path": executable,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            # Lesson tests start the player from a script, as a click on it would.
            "--autoplay-policy=no-user-gesture-required",
        ],
    }


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Tests of real concurrency need PostgreSQL's row locks: the SQLite pass leaves them out
    # (deselected, not skipped) and the PostgreSQL pass of `make test` runs them.
    from django.conf import settings

    if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        deselected = [item for item in items if item.get_closest_marker("postgresql")]
        if deselected:
            config.hook.pytest_deselected(items=deselected)
            items[:] = [item for item in items if item not in deselected]
    # Mark by what a test uses, so `-m "not browser"` can never miss a browser test.
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "page" in fixtures:
            item.add_marker(pytest.mark.browser)
        if "celery_worker" in fixtures or "redis_url" in fixtures:
            item.add_marker(pytest.mark.redis)
