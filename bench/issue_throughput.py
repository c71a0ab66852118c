"""Issue N certificates and let two Celery workers on Redis render and e-mail them, on a
throwaway PostgreSQL; beside it, as the baseline, N no-op health-check tasks through the same two
workers. Prints both throughputs, the CPU time per certificate (the workers', this process's:
issuing and the mail server, PostgreSQL's and Redis's), which other load on the machine inflates
far less than the wall time, how much of the machine's cores they used together (near 100 %, the
run is bound by the CPU), and each worker's resident memory (RSS) before and after.

    .venv/bin/python bench/issue_throughput.py [--count 1000]

The workers send real e-mail, over SMTP, to a mail server this script runs (aiosmtpd): a message
per certificate, counted as it arrives. Before the timed run each worker renders a couple of
certificates (fonts loaded, stylesheet parsed), so the RSS growth printed is what N renders add
to a worker that has started work, and the time is the throughput of workers in service.

Needs the machine's PostgreSQL and redis-server (as `make test` does).
"""

import argparse
import os
import re
import subprocess
import sys
import threading
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WARM_UP_PER_WORKER = 2


@contextmanager
def mail_server():
    """An SMTP server on a free loopback port that counts the messages it accepts."""
    from aiosmtpd.controller import Controller

    from ceu.testing.services import free_port

    class Counter:
        def __init__(self) -> None:
            self.received = 0
            self.with_pdf = 0
            self.lock = threading.Lock()

        async def handle_DATA(self, server, session, envelope):
            with self.lock:
                self.received += 1
                self.with_pdf += b"application/pdf" in envelope.content
            return "250 Message accepted for delivery"

    counter = Counter()
    controller = Controller(counter, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield counter, controller.port
    finally:
        controller.stop()


def worker_settings(workdir: Path, smtp_port: int) -> str:
    """A settings module for the workers: the test settings, e-mail over SMTP to `smtp_port` on a
    connection kept between messages, and database connections kept between tasks, as production
    keeps them (ceu/settings/production.py) where the test settings open one per task."""
    (workdir / "bench_worker_settings.py").write_text(
        "from ceu.settings.test import *  # noqa: F403\n"
        # What EMAIL_URL=smtp://... gives in production (ceu/settings/base.py).
        'EMAIL_BACKEND = "ceu.mail.EmailBackend"\n'
        f'EMAIL_HOST = "127.0.0.1"\nEMAIL_PORT = {smtp_port}\n'
        'EMAIL_USE_TLS = EMAIL_USE_SSL = False\nEMAIL_HOST_USER = EMAIL_HOST_PASSWORD = ""\n'
        'DATABASES["default"]["CONN_MAX_AGE"] = 60  # noqa: F405\n'
        'DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # noqa: F405\n'
    )
    return "bench_worker_settings"


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far (/proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat") as stat:
        # The command name may hold spaces: the fields counted from its closing parenthesis.
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu_seconds(port: int) -> float:
    """CPU time of the server listening on `port` (PostgreSQL or Redis) and of its processes: the
    server's own, its children's that have ended (cutime, cstime) and those still running (one
    PostgreSQL backend per connection)."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes()
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # ended meanwhile
            stats[int(entry.name)] = (command, fields)
    ticks = 0
    for pid, (command, fields) in stats.items():
        # The server names its port in its command line: "-p 5432", "127.0.0.1:6379".
        if str(port).encode() in re.split(rb"[\s:\0]", command):
            ticks += sum(int(value) for value in fields[11:15])
            ticks += sum(
                int(child[11]) + int(child[12])
                for _command, child in stats.values()
                if child[1] == str(pid)
            )
    return ticks / os.sysconf("SC_CLK_TCK")


def wait_until_emailed(timeout: float) -> None:
    from courses.models import Certificate

    start = time.perf_counter()
    while Certificate.objects.filter(emailed_at__isnull=True).exists():
        if time.perf_counter() - start > timeout:
            sys.exit(f"certificates still pending after {timeout:.0f} s")
        time.sleep(0.2)


def start_workers(env: dict, count: int, logdir: Path) -> list[subprocess.Popen]:
    workers = []
    for index in range(count):
        log = open(logdir / f"worker{index}.log", "wb")  # noqa: SIM115 - lives with the worker
        workers.append(
            subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "ceu",
                    "worker",
                    "--pool=solo",
                    "--loglevel=WARNING",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "-n",
                    f"bench{index}@localhost",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    return workers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    from ceu.testing.services import postgres_server, redis_server

    with ExitStack() as stack:
        database_url = stack.enter_context(postgres_server())
        redis_url = stack.enter_context(redis_server())
        workdir = Path(stack.enter_context(__import__("tempfile").TemporaryDirectory()))
        mail, smtp_port = stack.enter_context(mail_server())
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "ceu.settings.test",
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": f"{redis_url}/0",
            "CELERY_RESULT_BACKEND": f"{redis_url}/1",
            "MEDIA_ROOT": str(workdir / "media"),
        }
        os.environ.update(env)
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        settings.CELERY_TASK_ALWAYS_EAGER = False
        from ceu.celery import app

        app.conf.update(
            broker_url=env["CELERY_BROKER_URL"],
            result_backend=env["CELERY_RESULT_BACKEND"],
            task_always_eager=False,
        )
        call_command("migrate", verbosity=0)
        warm_up = WARM_UP_PER_WORKER * args.workers
        enrollments = make_completed_enrollments(args.count + warm_up)

        worker_env = {
            **env,
            "DJANGO_SETTINGS_MODULE": worker_settings(workdir, smtp_port),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(workdir), env.get("PYTHONPATH")])),
        }
        workers = start_workers(worker_env, args.workers, workdir)
        stack.callback(lambda: [w.terminate() for w in workers])
        deadline = time.monotonic() + 60
        while len(app.control.ping(timeout=0.5)) < args.workers:
            if time.monotonic() > deadline:
                sys.exit("the workers did not start; see their logs")

        from ceu.tasks import health_check

        baseline_cpu = [cpu_seconds(worker.pid) for worker in workers]
        start = time.perf_counter()
        results = [health_check.delay() for _index in range(args.count)]
        for result in results:
            result.get(timeout=600)
        baseline = time.perf_counter() - start
        baseline_cpu = sum(cpu_seconds(w.pid) for w in workers) - sum(baseline_cpu)

        from courses.models import Certificate
        from courses.services.credentials import issue_certificate

        # Warm-up, untimed: a couple of certificates per worker.
        for enrollment in enrollments[:warm_up]:
            issue_certificate(enrollment=enrollment)
        wait_until_emailed(timeout=600)
        rss_before = [rss_mb(worker.pid) for worker in workers]
        # CPU time, which the machine's other load does not inflate as it does the wall time:
        # the workers', and this process's (issuing, and the mail server's thread).
        cpu_before = [cpu_seconds(worker.pid) for worker in workers]
        main_before = cpu_seconds(os.getpid())
        servers = [urlsplit(url).port for url in (database_url, redis_url)]
        servers_before = [server_cpu_seconds(port) for port in servers]

        start = time.perf_counter()
        for enrollment in enrollments[warm_up:]:
            issue_certificate(enrollment=enrollment)  # each queues its render on commit
        issued = time.perf_counter() - start
        wait_until_emailed(timeout=1800)
        total = time.perf_counter() - start
        rss_after = [rss_mb(worker.pid) for worker in workers]
        worker_cpu = sum(cpu_seconds(w.pid) for w in workers) - sum(cpu_before)
        main_cpu = cpu_seconds(os.getpid()) - main_before
        database_cpu, broker_cpu = (
            server_cpu_seconds(port) - before
            for port, before in zip(servers, servers_before, strict=True)
        )
        failures = sum(
            (workdir / f"worker{index}.log").read_text(errors="replace").count("Traceback")
            for index in range(args.workers)
        )
        rendered = Certificate.objects.exclude(pdf_sha256="").count() - warm_up
        deadline = time.monotonic() + 30
        while mail.received < args.count + warm_up and time.monotonic() < deadline:
            time.sleep(0.1)
        received = mail.received - warm_up

    print(
        f"{args.count} health-check tasks through {args.workers} workers: "
        f"{baseline:6.1f} s  ({args.count / baseline:7.1f} tasks/s)   <- baseline; "
        f"{baseline_cpu / args.count * 1000:.1f} ms of the workers' CPU per task"
    )
    print(
        f"{args.count} certificates issued in {issued:.1f} s, rendered and e-mailed by "
        f"{args.workers} workers in {total:6.1f} s  ({rendered / total:7.1f} certificates/s); "
        f"{received} e-mails received over SMTP, {mail.with_pdf - warm_up} with the PDF"
    )
    print(
        f"CPU per certificate: {worker_cpu / args.count * 1000:.1f} ms in the workers, "
        f"{main_cpu / args.count * 1000:.1f} ms in this process (issuing, and the mail server), "
        f"{database_cpu / args.count * 1000:.1f} ms in PostgreSQL, "
        f"{broker_cpu / args.count * 1000:.1f} ms in Redis; "
        f"{failures} tracebacks in the workers' logs"
    )
    used = worker_cpu + main_cpu + database_cpu + broker_cpu
    print(
        f"CPU used by all of them: {used:.1f} s, {used / total / os.cpu_count():.0%} of this "
        f"machine's {os.cpu_count()} cores over the {total:.1f} s"
    )
    for index, (before, after) in enumerate(zip(rss_before, rss_after, strict=True)):
        print(
            f"worker {index}: RSS {before:6.1f} MB after warm-up, {after:6.1f} MB after "
            f"the run ({after - before:+.1f} MB, about {args.count // args.workers} certificates)"
        )


def make_completed_enrollments(count: int) -> list:
    from decimal import Decimal

    from django.utils import timezone

    from accounts.models import Licence, User
    from courses.models import Course, CourseApproval, Enrollment, Provider
    from courses.models.catalog import Accreditor, AccreditorProfession

    Provider.objects.create(name="Bench CE Provider", email="ce@example.org")
    accreditor = Accreditor.objects.create(
        name="Bench accreditor",
        short_name="BENCH",
        provider_number="B-1",
        statement_template="{provider} is approved, provider {provider_number}.",
    )
    AccreditorProfession.objects.create(accreditor=accreditor, profession="psychologist")
    course = Course.objects.create(
        slug="bench",
        title="A benchmark training",
        summary="s",
        description="d",
        presenter_name="Jordan Avery",
        presenter_credentials="PhD",
        format="home_study_audio",
        level="intermediate",
        target_audience="Therapists",
        ce_hours=Decimal("1"),
        media_minutes=Decimal("60"),
        minimum_engaged_minutes=50,
        status="published",
        published_at=timezone.now(),
    )
    today = timezone.localdate()
    CourseApproval.objects.create(
        course=course,
        accreditor=accreditor,
        hours=Decimal("1"),
        credit_type="general",
        valid_from=today.replace(year=today.year - 1),
        valid_until=today.replace(year=today.year + 1),
    )
    users = User.objects.bulk_create(
        User(email=f"bench{i}@example.com", full_name=f"Learner Number {i}") for i in range(count)
    )
    Licence.objects.bulk_create(
        Licence(user=user, profession="psychologist", jurisdiction="CA", number=f"PSY{i:05d}")
        for i, user in enumerate(users)
    )
    now = timezone.now()
    return Enrollment.objects.bulk_create(
        Enrollment(user=user, course=course, completed_at=now) for user in users
    )


if __name__ == "__main__":
    main()
