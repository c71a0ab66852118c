"""The data bench/pages.py loads the site with, and the query count of each page it measures.

Run by bench/pages.py in the benchmark's environment (production settings, its PostgreSQL and
Redis); it writes what the load generator needs (certificate codes, learners' session cookies
and CSRF tokens, the pages' addresses) as JSON:

    python bench/_seed.py STATE.json --learners 20000 --small 100

The demo trainings are loaded as `make prod DEMO=1` loads them. A few learners then complete each
training through the project's own services (lessons, post-test, evaluation, attestation), which
issue, render and e-mail their certificates; the other learners' rows copy those records' shape
with PostgreSQL's COPY: every certificate keeps its own code, its learner's name and licence, and a
snapshot taken with `record_at_issue` for its learner's profession and board, as issue takes it.

Learner number i has a licence and, by i % 4: two trainings completed with certificates and a
third in progress; one completed; one completed and one in progress; one in progress. One
certificate in a hundred is revoked. The query counts are taken twice, once the first
`--small` learners are in and again with all of them, each page opened twice (the second time
any cache is warm), for two learners alike in every way: the second count finds nothing the first
one's visits and beats changed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "bench-learner-password"  # noqa: S105 - throwaway accounts on a throwaway database
FIRST = ["Dana", "Avery", "Morgan", "Jordan", "Riley", "Sam", "Noor", "Mei", "Olu", "Ines"]
LAST = ["Whitfield", "Chen", "Ellis", "Okafor", "García", "Nguyen", "Kowalski", "Haddad", "Ito"]
PROFESSIONS = [
    "professional_counselor",
    "psychologist",
    "clinical_social_worker",
    "marriage_family_therapist",
    "addiction_counselor",
]
# Boards the fixture has rules for, and one it has none for.
JURISDICTIONS = ["CA", "FL", "NY", "TX", "WA"]
# The learners whose pages are counted at each size: alike in everything (two certificates,
# this lesson in progress, a counselor's licence in California), and each counted once, so no
# beat or visit of the first count changes what the second finds. And the lesson they open.
PROBES = (0, 300)
LESSON_POSITION = 2


def say(message: str) -> None:
    print(f"pages: {message}", flush=True)


def setup_django() -> None:
    import django

    django.setup()


def collect_static() -> subprocess.Popen:
    """The pages read static files through the manifest, as under gunicorn. Collecting them
    (compressing each) takes longer than migrating: it runs beside the seeding."""
    return subprocess.Popen(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT
    )


def load_trainings() -> None:
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    fixtures = sorted(Path(settings.BASE_DIR, "fixtures").glob("*.json"))
    call_command("loaddata", *map(str, fixtures), verbosity=0)
    call_command("populate_history", auto=True, verbosity=0)


@dataclasses.dataclass
class Template:
    """A training completed through the services: the rows other completions copy."""

    enrollment: object
    certificate: object
    attempt: object
    evaluation: object
    progress: list


def complete_through_services(course, index: int) -> Template:
    """One learner takes the training as a learner does; the services issue the certificate,
    and (tasks in-process) render and e-mail it."""
    from django.utils import timezone

    from accounts.models import Licence, User
    from courses.models import Certificate, LessonProgress, QuizAttempt
    from courses.services import assessment, learning

    user = User.objects.create_user(
        f"first-{index}@example.org", PASSWORD, full_name=f"Dana Whitfield {index}"
    )
    Licence.objects.create(
        user=user, profession="professional_counselor", jurisdiction="FL", number=f"MH{index:05d}"
    )
    enrollment, _created = learning.enroll(user=user, course=course)
    now = timezone.now()
    for lesson in course.lessons.all():
        LessonProgress.objects.create(
            enrollment=enrollment,
            lesson=lesson,
            engaged_seconds=lesson.minimum_seconds,
            position_seconds=lesson.media_end_seconds or 0,
            furthest_seconds=lesson.media_end_seconds or 0,
            completed_at=now,
        )
    enrollment.engaged_seconds = course.minimum_engaged_minutes * 60
    enrollment.last_lesson = course.lessons.order_by("position").last()
    enrollment.save(update_fields=["engaged_seconds", "last_lesson"])
    attempt = assessment.start_attempt(enrollment=enrollment)
    answers = {
        question["id"]: [choice["id"] for choice in question["choices"] if choice["correct"]]
        for question in attempt.questions
    }
    assessment.submit_attempt(attempt=attempt, answers=answers)
    evaluation = assessment.record_evaluation(
        enrollment=enrollment,
        objective_ratings=[5] * course.objectives.count(),
        learned_rating=5,
        usefulness_rating=4,
        presenter_rating=5,
        comments="Useful with clients who go quiet.",
    )
    assessment.attest(enrollment=enrollment)
    enrollment.refresh_from_db()
    certificate = Certificate.objects.get(enrollment=enrollment)
    if not certificate.is_rendered or certificate.emailed_at is None:
        # Copies of an unrendered certificate would have the scheduled sweep render thousands of
        # PDFs under the load.
        raise SystemExit(f"certificate {certificate.code} was not rendered and e-mailed")
    return Template(
        enrollment=enrollment,
        certificate=certificate,
        attempt=QuizAttempt.objects.get(enrollment=enrollment),
        evaluation=evaluation,
        progress=list(LessonProgress.objects.filter(enrollment=enrollment)),
    )


class Copier:
    """Rows written with PostgreSQL's COPY, many times faster than INSERTs: ids are given here
    and the sequences moved past them at the end. A column a row does not name gets its field's
    default (now, for auto_now fields), so a field added to a model later needs no change here
    unless it is required and has none."""

    def __init__(self, now) -> None:
        from django.db import connection

        self.connection = connection
        self.now = now
        self.next_ids: dict = {}
        self.models: list = []

    def ids(self, model, count: int) -> range:
        if model not in self.next_ids:
            with self.connection.cursor() as cursor:
                table = self.connection.ops.quote_name(model._meta.db_table)
                column = self.connection.ops.quote_name(model._meta.pk.column)
                cursor.execute(f"SELECT COALESCE(MAX({column}), 0) + 1 FROM {table}")  # noqa: S608
                self.next_ids[model] = cursor.fetchone()[0]
            self.models.append(model)
        first = self.next_ids[model]
        self.next_ids[model] += count
        return range(first, first + count)

    def write(self, model, rows: list[dict]) -> None:
        from django.db import models

        fields = model._meta.concrete_fields
        defaults = [
            self.now
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
            else field.get_default()
            for field in fields
        ]
        pairs = list(zip((field.attname for field in fields), defaults, strict=True))
        # A default that is a function (a new UUID, say) is called for each row.
        fresh = [
            (index, field)
            for index, field in enumerate(fields)
            if field.has_default() and callable(field.default)
        ]
        json = [
            (index, field)
            for index, field in enumerate(fields)
            if isinstance(field, models.JSONField)
        ]
        quote = self.connection.ops.quote_name
        columns = ", ".join(quote(field.column) for field in fields)
        sql = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
        self.connection.ensure_connection()
        with self.connection.connection.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                values = [row.get(name, default) for name, default in pairs]
                for index, field in fresh:
                    if field.attname not in row:
                        values[index] = field.get_default()
                for index, field in json:
                    values[index] = field.get_db_prep_save(values[index], self.connection)
                copy.write_row(values)

    def reset_sequences(self) -> None:
        from django.core.management.color import no_style

        with self.connection.cursor() as cursor:
            for sql in self.connection.ops.sequence_reset_sql(no_style(), self.models):
                cursor.execute(sql)


class Seeder:
    def __init__(self) -> None:
        from django.contrib.auth.hashers import make_password

        from accounts.models import User
        from courses.models import Course

        self.courses = list(Course.objects.order_by("pk"))
        self.lessons = {
            course.pk: list(course.lessons.order_by("position")) for course in self.courses
        }
        self.templates = {
            course.pk: complete_through_services(course, index)
            for index, course in enumerate(self.courses)
        }
        self.password = make_password(PASSWORD)
        self.records: dict = {}
        self.printed: dict = {}
        self.staff = User.objects.create_user(
            "registrar@example.org", PASSWORD, full_name="Morgan Ellis", is_staff=True
        )
        self.rng = random.Random(2026)  # noqa: S311 - reproducible data, not secrets

    def licence_of(self, i: int) -> tuple[str, str, str]:
        profession = PROFESSIONS[i % len(PROFESSIONS)]
        jurisdiction = JURISDICTIONS[(i // len(PROFESSIONS)) % len(JURISDICTIONS)]
        return profession, jurisdiction, f"LIC-{i:06d}"

    def plan(self, i: int) -> tuple[list, list]:
        """The courses learner i completed, and the ones in progress."""
        first, second, third = (self.courses[(i + k) % len(self.courses)] for k in range(3))
        shape = i % 4
        if shape == 0:
            return [first, second], [third]
        if shape == 1:
            return [first], []
        if shape == 2:
            return [first], [second]
        return [], [first]

    def record_for(self, course, user_id: int, profession: str, jurisdiction: str):
        """The record issue takes for this course and this kind of licence (profession and
        board), computed once for each from the first learner holding one."""
        from accounts.models import User
        from courses.models import Enrollment
        from courses.services.credentials import record_at_issue

        key = (course.pk, profession, jurisdiction)
        if key not in self.records:
            template = self.templates[course.pk]
            probe = Enrollment(
                user=User.objects.get(pk=user_id),
                course=course,
                completed_at=template.enrollment.completed_at,
            )
            self.records[key] = record_at_issue(
                probe, code="CEU-XXXX", issued_at=template.certificate.issued_at
            )
        return self.records[key]

    def printed_licence(self, profession: str, jurisdiction: str, number: str):
        from accounts.jurisdictions import Jurisdiction
        from accounts.models import Profession
        from courses.credentials_record import PrintedLicence

        key = (profession, jurisdiction)
        if key not in self.printed:
            self.printed[key] = (
                str(Profession(profession).label),
                str(Jurisdiction(jurisdiction).label),
            )
        profession_name, jurisdiction_name = self.printed[key]
        return PrintedLicence(
            profession=profession_name,
            profession_code=profession,
            jurisdiction=jurisdiction_name,
            jurisdiction_code=jurisdiction,
            number=number,
        )

    def seed(self, start: int, stop: int) -> None:
        """Learners start..stop-1 with everything they did, in bulk."""
        from allauth.account.models import EmailAddress
        from django.db import connection
        from django.utils import timezone

        from accounts.models import Licence, User
        from courses.codes import new_code
        from courses.models import (
            Certificate,
            CertificateEvent,
            EngagementClock,
            Enrollment,
            EvaluationResponse,
            LessonProgress,
            QuizAttempt,
        )

        if stop <= start:
            return
        now = timezone.now()
        copier = Copier(now)
        count = stop - start
        learners = list(range(start, stop))
        user_ids = copier.ids(User, count)
        emails = [f"learner{i}@example.org" for i in learners]
        licences = [self.licence_of(i) for i in learners]
        users, addresses, licence_rows, clocks = [], [], [], []
        rows = zip(
            learners,
            user_ids,
            emails,
            licences,
            copier.ids(EmailAddress, count),
            copier.ids(Licence, count),
            strict=True,
        )
        for i, user_id, email, (profession, jurisdiction, number), address_id, licence_id in rows:
            users.append(
                {
                    "id": user_id,
                    "email": email,
                    "full_name": f"{FIRST[i % len(FIRST)]} {LAST[(i // 7) % len(LAST)]} {i}",
                    "password": self.password,
                    "date_joined": now - timedelta(days=700 + i % 300),
                }
            )
            addresses.append(
                {
                    "id": address_id,
                    "user_id": user_id,
                    "email": email,
                    "verified": True,
                    "primary": True,
                }
            )
            licence_rows.append(
                {
                    "id": licence_id,
                    "user_id": user_id,
                    "profession": profession,
                    "jurisdiction": jurisdiction,
                    "number": number,
                }
            )
            # The learner's engagement clock: its key is the learner's.
            clocks.append({"user_id": user_id, "last_beat_at": now - timedelta(hours=2)})

        # A failure leaves a half-seeded database, which is thrown away: no transaction.
        copier.write(User, users)
        copier.write(EmailAddress, addresses)
        copier.write(Licence, licence_rows)
        copier.write(EngagementClock, clocks)

        enrollments, progress, attempts, evaluations, certificates, events = ([] for _ in range(6))
        for i, user in zip(learners, users, strict=True):
            done, doing = self.plan(i)
            profession, jurisdiction, number = self.licence_of(i)
            for n, course in enumerate(done):
                at = now - timedelta(days=2 + (i * 7 + n * 31) % 600, minutes=i % 1440)
                template = self.templates[course.pk]
                enrollment_id = copier.ids(Enrollment, 1)[0]
                enrollments.append(
                    {
                        "id": enrollment_id,
                        "user_id": user["id"],
                        "course_id": course.pk,
                        "enrolled_at": at - timedelta(days=3),
                        "engaged_seconds": template.enrollment.engaged_seconds,
                        "last_lesson_id": template.enrollment.last_lesson_id,
                        "attested_at": at,
                        "completed_at": at,
                    }
                )
                for row, progress_id in zip(
                    template.progress,
                    copier.ids(LessonProgress, len(template.progress)),
                    strict=True,
                ):
                    progress.append(
                        {
                            "id": progress_id,
                            "enrollment_id": enrollment_id,
                            "lesson_id": row.lesson_id,
                            "engaged_seconds": row.engaged_seconds,
                            "position_seconds": row.position_seconds,
                            "furthest_seconds": row.furthest_seconds,
                            "completed_at": at - timedelta(hours=1),
                            "updated_at": at - timedelta(hours=1),
                        }
                    )
                attempts.append(
                    {
                        "id": copier.ids(QuizAttempt, 1)[0],
                        "enrollment_id": enrollment_id,
                        "number": 1,
                        "started_at": at - timedelta(minutes=20),
                        "questions": template.attempt.questions,
                        "answers": template.attempt.answers,
                        "submitted_at": at - timedelta(minutes=5),
                        "score": template.attempt.score,
                        "pass_mark": template.attempt.pass_mark,
                        "passed": True,
                    }
                )
                evaluations.append(
                    {
                        "id": copier.ids(EvaluationResponse, 1)[0],
                        "enrollment_id": enrollment_id,
                        "objective_ratings": template.evaluation.objective_ratings,
                        "learned_rating": 4 + i % 2,
                        "usefulness_rating": template.evaluation.usefulness_rating,
                        "presenter_rating": template.evaluation.presenter_rating,
                        "submitted_at": at - timedelta(minutes=3),
                    }
                )
                code = new_code()
                record = dataclasses.replace(
                    self.record_for(course, user["id"], profession, jurisdiction),
                    code=code,
                    learner_name=user["full_name"],
                    licences=(self.printed_licence(profession, jurisdiction, number),),
                    completion_date=timezone.localdate(at),
                    issued_at=at,
                )
                revoked = self.rng.random() < 0.01
                certificate_id = copier.ids(Certificate, 1)[0]
                certificates.append(
                    {
                        "id": certificate_id,
                        "code": code,
                        "enrollment_id": enrollment_id,
                        "snapshot": record.to_snapshot(),
                        "issued_at": at,
                        "learner_name": record.learner_name,
                        "status": "revoked" if revoked else "valid",
                        # One file stands for every copy of a training's certificate: rendered
                        # and e-mailed, so the scheduled sweep finds nothing to do.
                        "pdf": template.certificate.pdf.name,
                        "pdf_sha256": template.certificate.pdf_sha256,
                        "rendered_at": at + timedelta(seconds=20),
                        "emailed_at": at + timedelta(seconds=25),
                        **(
                            {
                                "revoked_at": at + timedelta(days=3),
                                "revoked_reason": "Issued in error: the evaluation was not "
                                "the learner's.",
                                "revoked_by_id": self.staff.pk,
                            }
                            if revoked
                            else {}
                        ),
                    }
                )
                history = [
                    ("issued", at, "", None),
                    ("rendered", at + timedelta(seconds=20), template.certificate.pdf_sha256, None),
                    ("emailed", at + timedelta(seconds=25), user["email"], None),
                ]
                if revoked:
                    history.append(
                        ("revoked", at + timedelta(days=3), "Issued in error.", self.staff.pk)
                    )
                for (kind, when, detail, actor), event_id in zip(
                    history, copier.ids(CertificateEvent, len(history)), strict=True
                ):
                    events.append(
                        {
                            "id": event_id,
                            "certificate_id": certificate_id,
                            "kind": kind,
                            "at": when,
                            "detail": detail,
                            "actor_id": actor,
                        }
                    )
            for course in doing:
                enrollment_id = copier.ids(Enrollment, 1)[0]
                first, current = self.lessons[course.pk][:LESSON_POSITION]
                enrollments.append(
                    {
                        "id": enrollment_id,
                        "user_id": user["id"],
                        "course_id": course.pk,
                        "enrolled_at": now - timedelta(days=1 + i % 30),
                        "engaged_seconds": first.minimum_seconds + 90,
                        "last_lesson_id": current.pk,
                    }
                )
                start_at = current.media_start_seconds or 0
                first_id, current_id = copier.ids(LessonProgress, 2)
                progress += [
                    {
                        "id": first_id,
                        "enrollment_id": enrollment_id,
                        "lesson_id": first.pk,
                        "engaged_seconds": first.minimum_seconds,
                        "position_seconds": first.media_end_seconds or 0,
                        "furthest_seconds": first.media_end_seconds or 0,
                        "completed_at": now - timedelta(hours=3),
                    },
                    {
                        "id": current_id,
                        "enrollment_id": enrollment_id,
                        "lesson_id": current.pk,
                        "engaged_seconds": 90,
                        "position_seconds": start_at + 90,
                        "furthest_seconds": start_at + 90,
                    },
                ]

        copier.write(Enrollment, enrollments)
        copier.write(LessonProgress, progress)
        copier.write(QuizAttempt, attempts)
        copier.write(EvaluationResponse, evaluations)
        copier.write(Certificate, certificates)
        copier.write(CertificateEvent, events)
        copier.reset_sequences()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def page_list(state: dict, code: str) -> list[tuple[str, str, str, str]]:
    """(name, method, path, who) for each page counted."""
    slug = state["lesson_course"]
    return [
        ("verify", "GET", f"/verify/{code}/", "anonymous"),
        ("api", "GET", f"/api/v1/certificates/{code}", "anonymous"),
        ("catalog", "GET", "/courses/", "anonymous"),
        ("course", "GET", f"/courses/{slug}/", "anonymous"),
        ("course-learner", "GET", f"/courses/{slug}/", "learner"),
        ("lesson", "GET", state["lesson_path"], "learner"),
        ("my-trainings", "GET", "/my/trainings/", "learner"),
        ("transcript", "GET", "/my/transcript/", "learner"),
        ("heartbeat", "POST", state["heartbeat_path"], "learner"),
    ]


def count_queries(state: dict, number: int) -> dict[str, list[int]]:
    """Each page twice for one learner (and their certificate): queries the first time and
    again, with the status."""
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from courses.models import Certificate

    # Both counts start from an empty cache: what the first visits find already cached (board
    # rules read while seeding through the services, say) must not differ between the sizes.
    cache.clear()
    user = User.objects.get(email=f"learner{number}@example.org")
    code = (
        Certificate.objects.filter(enrollment__user=user, status="valid")
        .values_list("code", flat=True)
        .first()
    )
    anonymous = Client(HTTP_HOST="127.0.0.1")
    learner = Client(HTTP_HOST="127.0.0.1")
    learner.force_login(user)
    counts = {}
    for name, method, path, who in page_list(state, code):
        client = learner if who == "learner" else anonymous
        seen = []
        for _time in range(2):
            with CaptureQueriesContext(connection) as queries:
                if method == "POST":
                    response = client.post(
                        path, state["heartbeat_body"], content_type="application/json"
                    )
                else:
                    response = client.get(path)
            seen.append(len(queries))
        counts[name] = [*seen, response.status_code]
    return counts


def log_in(users) -> list[dict]:
    """Session cookies and CSRF tokens of learners signed in, as their browsers hold them: the
    session as signing in stores it, and a CSRF cookie with the same secret in the header, which
    CsrfViewMiddleware accepts as it accepts the page's masked token."""
    from django.conf import settings
    from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
    from django.test import Client
    from django.utils.crypto import get_random_string

    if settings.CSRF_USE_SESSIONS:
        raise SystemExit("CSRF_USE_SESSIONS: read each token from its lesson page instead")
    sessions = []
    for user in users:
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        token = get_random_string(CSRF_SECRET_LENGTH, allowed_chars=CSRF_ALLOWED_CHARS)
        cookies = {
            settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value,
            settings.CSRF_COOKIE_NAME: token,
        }
        sessions.append(
            {
                "cookie": "; ".join(f"{name}={value}" for name, value in cookies.items()),
                "csrf": token,
            }
        )
    return sessions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("state", type=Path)
    parser.add_argument("--learners", type=int, default=20000)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--codes", type=int, default=1000)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ceu.settings.production")
    setup_django()
    started = time.perf_counter()
    static = collect_static()
    try:
        seed(args, static, started)
    finally:
        if static.poll() is None:
            static.kill()
            static.wait()


def seed(args: argparse.Namespace, static: subprocess.Popen, started: float) -> None:
    from django.core.cache import cache

    from accounts.models import User
    from courses.models import Certificate

    load_trainings()
    seeder = Seeder()
    course = seeder.courses[2]
    lesson = seeder.lessons[course.pk][LESSON_POSITION - 1]
    start_at = lesson.media_start_seconds or 0
    state = {
        "learners": args.learners,
        "small": args.small,
        "course_slugs": [c.slug for c in seeder.courses],
        "lesson_course": course.slug,
        "lesson_path": f"/courses/{course.slug}/lessons/{LESSON_POSITION}/",
        "heartbeat_path": f"/courses/{course.slug}/lessons/{LESSON_POSITION}/heartbeat/",
        "heartbeat_body": json.dumps({"position": start_at + 95, "playing": True}),
    }
    small = min(args.small, args.learners)
    seeder.seed(0, small)
    if static.wait() != 0:
        raise SystemExit("collectstatic failed")
    say(f"seeded {small} learners; counting each page's queries")
    state["counts_small"] = count_queries(state, PROBES[0])
    cache.clear()
    seeded = time.perf_counter()
    seeder.seed(small, args.learners)
    state["seed_seconds"] = round(time.perf_counter() - seeded, 1)
    say(f"seeded {args.learners} learners ({state['seed_seconds']} s for the bulk inserts)")
    if args.learners > PROBES[1]:
        state["counts_full"] = count_queries(state, PROBES[1])
    cache.clear()

    # Learners with two certificates and this lesson in progress (learner number i % 12 == 0).
    beating = list(
        User.objects.filter(
            email__in=[f"learner{i}@example.org" for i in range(0, 12 * args.sessions, 12)]
        ).order_by("pk")
    )
    state["sessions"] = log_in(beating)
    codes = list(Certificate.objects.values_list("code", flat=True))
    random.Random(7).shuffle(codes)  # noqa: S311 - a sample, not a secret
    state["codes"] = codes[: args.codes]
    state["certificates"] = len(codes)
    state["enrollments"] = sum(len(d) + len(p) for d, p in map(seeder.plan, range(args.learners)))
    state["total_seconds"] = round(time.perf_counter() - started, 1)
    args.state.write_text(json.dumps(state))


if __name__ == "__main__":
    main()
