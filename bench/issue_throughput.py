"""Issue N certificates and let two Celery workers on Redis render and e-mail them, on a
throwaway PostgreSQL; beside it, as the baseline, N no-op health-check tasks through the same two
workers. Prints both throughputs.

    .venv/bin/python bench/issue_throughput.py [--count 1000]

Needs the machine's PostgreSQL and redis-server (as `make test` does).
"""

import argparse
import os
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


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
        enrollments = make_completed_enrollments(args.count)

        workers = start_workers(env, args.workers, workdir)
        stack.callback(lambda: [w.terminate() for w in workers])
        deadline = time.monotonic() + 60
        while len(app.control.ping(timeout=0.5)) < args.workers:
            if time.monotonic() > deadline:
                sys.exit("the workers did not start; see their logs")

        from ceu.tasks import health_check

        start = time.perf_counter()
        results = [health_check.delay() for _index in range(args.count)]
        for result in results:
            result.get(timeout=600)
        baseline = time.perf_counter() - start

        from courses.models import Certificate
        from courses.services.credentials import issue_certificate

        start = time.perf_counter()
        for enrollment in enrollments:
            issue_certificate(enrollment=enrollment)  # each queues its render on commit
        issued = time.perf_counter() - start
        while Certificate.objects.filter(emailed_at__isnull=True).exists():
            if time.perf_counter() - start > 1800:
                sys.exit("certificates still pending after 30 minutes")
            time.sleep(0.2)
        total = time.perf_counter() - start
        rendered = Certificate.objects.exclude(pdf_sha256="").count()

    print(
        f"{args.count} health-check tasks through {args.workers} workers: "
        f"{baseline:6.1f} s  ({args.count / baseline:7.1f} tasks/s)   <- baseline"
    )
    print(
        f"{args.count} certificates issued in {issued:.1f} s, rendered and e-mailed by "
        f"{args.workers} workers in {total:6.1f} s  ({rendered / total:7.1f} certificates/s)"
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
