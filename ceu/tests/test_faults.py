"""Faults survived on real processes: a worker killed mid-render, Redis down when a training is
completed, the mail server down. Nothing is lost and nothing is done twice."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from accounts.tests.factories import LicenceFactory, UserFactory
from ceu.mail import close_kept_connections
from ceu.testing.plugin import _forget_connections, _unavailable
from ceu.testing.services import ServiceUnavailable, _wait_for_port, free_port
from courses import tasks
from courses.models import Certificate, CertificateEvent
from courses.services import credentials, upkeep
from courses.tests.factories import (
    AccreditorFactory,
    ApprovalFactory,
    CourseFactory,
    EnrollmentFactory,
)

# Generous: the suite may share two loaded cores with a browser and a database.
PATIENCE = 240


class Redis:
    """A Redis server on a fixed loopback port, to be stopped and started again on it."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            _unavailable(ServiceUnavailable("redis-server is not installed"))
        self.binary = binary
        self.port = free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix="ceu-faults-redis-"))
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *(self.binary, "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.workdir)),
            ],
            stdout=subprocess.DEVNULL,
        )
        _wait_for_port(self.port, timeout=30, process=self.process)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
        self.process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


def _database_url() -> str:
    database = connection.settings_dict
    return f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"


class Stack:
    """Celery processes (workers, beat) against one Redis and the test's own database."""

    def __init__(self, redis: Redis, media_root: Path, logs: Path) -> None:
        self.redis = redis
        self.media_root = media_root
        self.logs = logs
        self.processes: list[subprocess.Popen] = []
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "ceu.settings.test",
            "CELERY_BROKER_URL": redis.url,
            "DATABASE_URL": _database_url(),
            "MEDIA_ROOT": str(media_root),
        }
        self.env.pop("CELERY_RESULT_BACKEND", None)

    def start(self, name: str, *arguments: str) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - the process holds it
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "ceu", *arguments],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.processes.append(process)
        return process

    def worker(self, name: str) -> subprocess.Popen:
        return self.start(
            name,
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"{name}-{os.getpid()}@localhost",
        )

    def beat(self) -> subprocess.Popen:
        return self.start("beat", "beat", "--loglevel=INFO", "--max-interval=1")

    def log(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}"
            for path in sorted(self.logs.glob("*.log"))
        )

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=20)


@contextmanager
def celery_stack(tmp_path: Path, settings) -> Iterator[Stack]:
    """A Redis server and the means to start Celery processes on it, this process sending to
    it; everything started is stopped after."""
    from ceu.celery import app

    redis = Redis()
    redis.start()
    settings.MEDIA_ROOT = tmp_path / "media"
    logs = tmp_path / "logs"
    logs.mkdir()
    stack = Stack(redis, settings.MEDIA_ROOT, logs)
    saved = {key: app.conf[key] for key in ("broker_url", "result_backend", "task_always_eager")}
    app.conf.update(broker_url=redis.url, result_backend=None, task_always_eager=False)
    _forget_connections(app)
    try:
        yield stack
    finally:
        stack.stop()
        redis.close()
        app.conf.update(saved)
        _forget_connections(app)


def wait_until(condition, *, stack: Stack, what: str, timeout: float = PATIENCE) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} within {timeout} s\n{stack.log()}"
        time.sleep(0.1)


def completed_enrollment(learner, n: int = 0):
    LicenceFactory(user=learner, profession="psychologist", jurisdiction="CA", number=f"PSY {n}")
    course = CourseFactory(slug=f"ghosting-{n}", title=f"Ruptures and ghosting {n}")
    ApprovalFactory(course=course, accreditor=AccreditorFactory(short_name=f"APA {n}"))
    return EnrollmentFactory(user=learner, course=course, completed_at=timezone.now())


def events(kind: str) -> dict[int, int]:
    counts: dict[int, int] = {}
    for certificate_id in CertificateEvent.objects.filter(kind=kind).values_list(
        "certificate_id", flat=True
    ):
        counts[certificate_id] = counts.get(certificate_id, 0) + 1
    return counts


def assert_each_rendered_and_emailed_once(certificates, media_root: Path) -> None:
    ids = {certificate.pk for certificate in certificates}
    assert events(CertificateEvent.Kind.RENDERED) == dict.fromkeys(ids, 1)
    assert events(CertificateEvent.Kind.EMAILED) == dict.fromkeys(ids, 1)
    stored = sorted(path.name for path in (media_root / "certificates").iterdir())
    assert stored == sorted(f"{certificate.code}.pdf" for certificate in certificates)


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_render_leaves_every_certificate_rendered_and_sent_once(
    tmp_path, settings
):
    issued = 16
    with celery_stack(tmp_path, settings) as stack:
        # Issued with no worker up: every render waits in the queue.
        certificates = [
            credentials.issue_certificate(enrollment=completed_enrollment(UserFactory(), n))
            for n in range(issued)
        ]
        first = stack.worker("first")
        rendered = Certificate.objects.exclude(pdf_sha256="")
        wait_until(lambda: rendered.count() >= 3, stack=stack, what="3 rendered")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        assert rendered.count() < issued, "the worker finished before it could be killed"

        stack.worker("second")
        # What beat sends (every two minutes, every ten); here at once and without the grace.
        # The worker may have been killed after a PDF was stored and before its e-mail went:
        # the render sweep leaves that one to the e-mail sweep.
        tasks.render_missing_pdfs.delay(older_than=0)
        tasks.retry_unsent_emails.delay(older_than=0)

        done = Certificate.objects.filter(emailed_at__isnull=False)
        wait_until(lambda: done.count() == issued, stack=stack, what="all rendered and sent")
        assert_each_rendered_and_emailed_once(certificates, stack.media_root)


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_with_redis_down_a_completion_issues_and_beat_renders_it_when_redis_returns(
    tmp_path, settings, caplog
):
    with celery_stack(tmp_path, settings) as stack:
        stack.worker("worker")
        stack.redis.stop()

        enrollment = completed_enrollment(UserFactory())
        certificate = credentials.issue_certificate(enrollment=enrollment)  # must not raise

        assert Certificate.objects.get(pk=certificate.pk).is_valid
        assert "was issued but not queued for rendering" in caplog.text
        assert not Certificate.objects.get(pk=certificate.pk).is_rendered

        # The schedule as created by migrate, run often for the test: nothing is sent by hand.
        sweep = PeriodicTask.objects.get(task="courses.render_missing_pdfs")
        sweep.interval, _ = IntervalSchedule.objects.get_or_create(
            every=2, period=IntervalSchedule.SECONDS
        )
        sweep.kwargs = '{"older_than": 0}'
        sweep.expire_seconds = None
        sweep.save()
        stack.redis.start()
        stack.beat()

        done = Certificate.objects.filter(pk=certificate.pk, emailed_at__isnull=False)
        wait_until(done.exists, stack=stack, what="rendered and e-mailed once Redis was back")
        time.sleep(5)  # more sweeps run: none renders or sends it again
        assert_each_rendered_and_emailed_once([certificate], stack.media_root)


class MailServer:
    """A real SMTP server on a fixed port (aiosmtpd), down until started."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list = []
        self.controller = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        outer = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                outer.received.append(message_from_bytes(envelope.content))
                return "250 Message accepted for delivery"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def mail_server(settings) -> Iterator[MailServer]:
    server = MailServer()
    settings.EMAIL_BACKEND = "ceu.mail.EmailBackend"  # as EMAIL_URL=smtp://... gives
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 10
    try:
        yield server
    finally:
        close_kept_connections()
        server.stop()


@pytest.mark.django_db
def test_with_the_mail_server_down_the_certificate_is_sent_later_and_once(
    learner, mail_server, django_capture_on_commit_callbacks, caplog
):
    with django_capture_on_commit_callbacks(execute=True):
        certificate = credentials.issue_certificate(enrollment=completed_enrollment(learner))

    certificate.refresh_from_db()
    assert certificate.is_rendered
    assert certificate.emailed_at is None
    assert "was not queued for e-mail" in caplog.text

    upkeep.retry_unsent_emails(older_than=0)  # still down: nothing recorded
    assert Certificate.objects.get(pk=certificate.pk).emailed_at is None

    mail_server.start()
    tasks.retry_unsent_emails.delay(older_than=0)
    tasks.retry_unsent_emails.delay(older_than=0)

    (message,) = mail_server.received
    assert message["To"] == learner.email
    assert message["Subject"] == "Your certificate: Ruptures and ghosting 0"
    attachments = [part.get_filename() for part in message.walk() if part.get_filename()]
    assert attachments == [f"{certificate.code}.pdf"]
    assert list(certificate.events.values_list("kind", flat=True)) == [
        "issued",
        "rendered",
        "emailed",
    ]
