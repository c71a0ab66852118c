"""The production stack as `make prod` runs it (scripts/prod): throwaway PostgreSQL and Redis,
gunicorn with production settings, a Celery worker and beat. A learner's whole journey over real
HTTP, and PostgreSQL restarted under a running site.

Started once for the module on free loopback ports, in the SQLite pass of `make test` only (the
stack brings its own PostgreSQL); under CI=true a missing PostgreSQL or Redis fails it."""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from pypdf import PdfReader

from ceu.testing.services import (
    ServiceUnavailable,
    free_port,
    in_ci,
    postgres_bindir,
)

pytestmark = pytest.mark.prod_stack

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "fixtures" / "demo_trainings.json"
SLUG = "ruptures-ghosting-and-reengaging-stuck-clients"
CODE = re.compile(r"CEU-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}")
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
# A loaded two-core machine: starting the stack (migrate, collectstatic) and rendering a PDF
# on a busy worker each take far longer than on a quiet one.
START_TIMEOUT = 300
RENDER_TIMEOUT = 240


@dataclass
class Stack:
    address: str
    env: dict
    database_url: str
    mail_dir: Path
    log: Path

    def url(self, path: str) -> str:
        return f"{self.address}{path}"

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        """A management command against the stack's own database and settings."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result


def _log_tail(log: Path) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-60:])


def _require_services() -> None:
    try:
        postgres_bindir()
        if shutil.which("redis-server") is None:
            raise ServiceUnavailable(
                "redis-server is not installed: apt-get install --no-install-recommends "
                "redis-server"
            )
    except ServiceUnavailable as missing:
        if in_ci():
            pytest.fail(f"CI=true and {missing}", pytrace=False)
        pytest.skip(str(missing))


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    _require_services()
    workdir = tmp_path_factory.mktemp("prod")
    mail_dir = workdir / "mail"
    port = free_port()
    # Nothing of the suite's own environment (its settings, database, broker) reaches the stack.
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "CACHE_", "CELERY_", "EMAIL_", "SENTRY_"))
        and key not in {"MEDIA_ROOT", "STATIC_ROOT", "CEU_SITE_URL"}
    }
    env = {
        **inherited,
        "CEU_LOCAL_HTTP": "1",
        # Mail lands as files the test reads, as a learner reads their inbox.
        "EMAIL_URL": f"filemail:///{mail_dir}",
        "STATIC_ROOT": str(workdir / "static"),
        "MEDIA_ROOT": str(workdir / "media"),
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "WEB_CONCURRENCY": "2",
        "CELERY_CONCURRENCY": "1",
    }
    log_path = workdir / "prod.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed once the stack has stopped
    process = subprocess.Popen(
        # --demo loads the demo trainings (loaddata) into the stack's database.
        [sys.executable, "scripts/prod", "--bind", f"127.0.0.1:{port}", "--demo"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while "prod: serving" not in log_path.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"scripts/prod did not start:\n{_log_tail(log_path)}", pytrace=False)
            time.sleep(0.5)
        database_url = re.search(r"DATABASE_URL=(\S+)", log_path.read_text(errors="replace")).group(
            1
        )
        yield Stack(
            address=f"http://127.0.0.1:{port}",
            env={
                **env,
                "DJANGO_SETTINGS_MODULE": "ceu.settings.production",
                "DATABASE_URL": database_url,
                "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            },
            database_url=database_url,
            mail_dir=mail_dir,
            log=log_path,
        )
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            returncode = process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            returncode = process.wait(timeout=30)
        log.close()
        tail = _log_tail(log_path)
    # SIGTERM stops everything in order and removes the throwaway servers.
    assert returncode == 0, tail
    assert "prod: stopped" in tail, tail


# --- Helpers: a learner's browser, without the browser -------------------------------------------


def _csrf(response: requests.Response) -> str:
    match = CSRF.search(response.text)
    assert match, f"no form on {response.url}:\n{response.text[:2000]}"
    return match.group(1)


def _post_form(session: requests.Session, page: str, action: str, data: dict, stack: Stack):
    """Open the page the form is on, then send it with that page's CSRF token."""
    token = _csrf(session.get(stack.url(page), timeout=60))
    return session.post(
        stack.url(action),
        data={"csrfmiddlewaretoken": token, **data},
        headers={"Referer": stack.url(page)},
        timeout=120,
    )


def _confirmation_link(stack: Stack, email: str) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for message in sorted(stack.mail_dir.glob("*.log")) if stack.mail_dir.exists() else []:
            text = message.read_text(errors="replace")
            if email in text:
                found = re.search(r"(http://\S+/accounts/confirm-email/\S+?/)\s", text)
                if found:
                    return found.group(1)
        time.sleep(0.5)
    raise AssertionError(f"no confirmation e-mail for {email} in {stack.mail_dir}")


def _right_answers() -> dict[int, list[int]]:
    """The key, from the demo fixture the stack was loaded with: question id to right choices."""
    key: dict[int, list[int]] = {}
    for row in json.loads(DEMO.read_text()):
        if row["model"] == "courses.choice" and row["fields"]["is_correct"]:
            key.setdefault(row["fields"]["question"], []).append(row["pk"])
    return key


# --- The journey --------------------------------------------------------------------------------


def test_a_learner_signs_up_completes_a_training_and_the_worker_renders_the_certificate(
    stack, tmp_path
):
    learner = requests.Session()
    email = "jordan.rivers@example.org"

    # Sign up, and confirm the address from the e-mail.
    signed_up = _post_form(
        learner,
        "/accounts/signup/",
        "/accounts/signup/",
        {
            "full_name": "Jordan Rivers",
            "email": email,
            "password1": "a-long-Passphrase-2026!",
            "password2": "a-long-Passphrase-2026!",
        },
        stack,
    )
    assert signed_up.status_code == 200, signed_up.text[:2000]
    assert "confirm" in signed_up.text.lower()
    link = _confirmation_link(stack, email)
    path = link.split("127.0.0.1", 1)[1].split("/", 1)[1]
    confirmed = _post_form(learner, f"/{path}", f"/{path}", {}, stack)
    assert confirmed.status_code == 200
    assert email in learner.get(stack.url("/accounts/profile/"), timeout=60).text

    # Enroll in a demo training.
    enrolled = _post_form(learner, f"/courses/{SLUG}/", f"/courses/{SLUG}/enroll/", {}, stack)
    assert enrolled.status_code == 200
    assert "When Clients Disappear" in enrolled.text

    # The lessons: real playback would take the training's full minimum time, so the progress
    # the heartbeats would have recorded is written straight into the stack's database.
    stack.manage(
        "shell",
        "-c",
        "from django.utils import timezone\n"
        "from courses.models import Enrollment, LessonProgress\n"
        f"e = Enrollment.objects.get(user__email={email!r}, course__slug={SLUG!r})\n"
        "for lesson in e.course.lessons.all():\n"
        "    LessonProgress.objects.update_or_create(\n"
        "        enrollment=e, lesson=lesson, defaults={'completed_at': timezone.now()})\n"
        "e.engaged_seconds = e.course.minimum_engaged_minutes * 60\n"
        "e.save(update_fields=['engaged_seconds'])\n",
    )

    # The post-test, answered from the key.
    post_test = f"/courses/{SLUG}/post-test/"
    form = _post_form(learner, post_test, f"/courses/{SLUG}/post-test/start/", {}, stack)
    assert form.status_code == 200, form.text[:2000]
    key = _right_answers()
    questions = sorted({int(qid) for qid in re.findall(r'name="q(\d+)"', form.text)})
    assert questions
    answers = {f"q{qid}": [str(choice) for choice in key[qid]] for qid in questions}
    result = learner.post(
        form.url,
        data={"csrfmiddlewaretoken": _csrf(form), **answers},
        headers={"Referer": form.url},
        timeout=120,
    )
    assert result.status_code == 200
    assert "passed" in result.text.lower()

    # The evaluation and the attestation.
    evaluation_page = learner.get(stack.url(f"/courses/{SLUG}/evaluation/"), timeout=60)
    ratings = dict.fromkeys(
        [
            *re.findall(r'name="(objective_\d+)"', evaluation_page.text),
            "learned_rating",
            "usefulness_rating",
            "presenter_rating",
        ],
        "5",
    )
    evaluated = _post_form(
        learner, f"/courses/{SLUG}/evaluation/", f"/courses/{SLUG}/evaluation/", ratings, stack
    )
    assert "your evaluation is recorded" in evaluated.text
    finished = _post_form(learner, post_test, f"/courses/{SLUG}/attest/", {"confirm": "on"}, stack)
    assert "your certificate is issued" in finished.text

    # The worker renders the PDF: the learner's download answers once it has.
    code = CODE.search(learner.get(stack.url("/my/trainings/"), timeout=60).text).group(0)
    deadline = time.monotonic() + RENDER_TIMEOUT
    while True:
        pdf = learner.get(stack.url(f"/certificates/{code}.pdf"), allow_redirects=False, timeout=60)
        if pdf.status_code == 200:
            break
        assert time.monotonic() < deadline, (
            f"no PDF after {RENDER_TIMEOUT} s:\n{_log_tail(stack.log)}"
        )
        time.sleep(2)
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    # Signed by the worker with the run's keys, its credential inside and served on its own.
    signed = tmp_path / f"{code}.pdf"
    signed.write_bytes(pdf.content)
    checked = subprocess.run(
        ["pdfsig", str(signed)], capture_output=True, text=True, timeout=120, check=False
    )
    assert "Signature Validation: Signature is Valid." in checked.stdout, checked.stdout
    embedded = PdfReader(io.BytesIO(pdf.content)).attachments["credential.jwt"][0].decode()
    credential = requests.get(stack.url(f"/credentials/{code}.jwt"), timeout=60)
    assert credential.status_code == 200
    assert credential.text == embedded

    # Anyone verifies it through the API.
    verified = requests.get(stack.url(f"/api/v1/certificates/{code}"), timeout=60)
    assert verified.status_code == 200
    record = verified.json()["certificate"]
    assert record["code"] == code
    assert record["status"] == "valid"
    assert record["learner_name"] == "Jordan Rivers"
    assert record["course_title"].startswith("When Clients Disappear")


# --- PostgreSQL restarted ------------------------------------------------------------------------


def _as_postgres() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def test_the_site_answers_again_after_postgresql_restarts_without_restarting_gunicorn(stack):
    import psycopg

    with psycopg.connect(stack.database_url, autocommit=True) as connection:
        data = Path(connection.execute("SHOW data_directory").fetchone()[0])
    # The server's own command line, to start it again exactly as it was.
    started_with = shlex.split((data / "postmaster.opts").read_text())[1:]
    at = started_with.index("-D")
    options = started_with[:at] + started_with[at + 2 :]
    pg_ctl = [*_as_postgres(), str(postgres_bindir() / "pg_ctl"), "-D", str(data), "-w"]
    assert requests.get(stack.url("/courses/"), timeout=60).status_code == 200

    subprocess.run([*pg_ctl, "-m", "fast", "stop"], check=True, stdout=subprocess.DEVNULL)
    try:
        # Down: the liveness probe still answers (it asks nothing of the database); the
        # readiness check names the database as failing.
        assert requests.get(stack.url("/health/live"), timeout=60).status_code == 200
        health = requests.get(stack.url("/health/?format=json"), timeout=60)
        assert health.status_code == 500
        assert health.json()["database"] != "OK"
        assert health.json()["cache"] == "OK"
    finally:
        subprocess.run(
            [*pg_ctl, "-l", str(data.parent / "log"), "-o", shlex.join(options), "start"],
            check=True,
            stdout=subprocess.DEVNULL,
        )

    # Up again: the same gunicorn workers drop their dead connections (CONN_HEALTH_CHECKS) and
    # serve pages from the database again.
    deadline = time.monotonic() + 60
    while True:
        catalog = requests.get(stack.url("/courses/"), timeout=60)
        if catalog.status_code == 200:
            break
        assert time.monotonic() < deadline, f"the site did not recover:\n{_log_tail(stack.log)}"
        time.sleep(1)
    for _ in range(6):  # every web worker, not just the first to answer
        assert requests.get(stack.url("/courses/"), timeout=60).status_code == 200
    # Every check passes again, the worker's ping included.
    deadline = time.monotonic() + 60
    health_url = stack.url("/health/?format=json")
    while (health := requests.get(health_url, timeout=60)).status_code != 200:
        assert time.monotonic() < deadline, health.text
        time.sleep(1)
    every_check = ["database", "cache", "storage", "broker", "worker"]
    assert health.json() == dict.fromkeys(every_check, "OK")
    assert not re.search(r"^prod: \w+ exited", stack.log.read_text(errors="replace"), re.M)
