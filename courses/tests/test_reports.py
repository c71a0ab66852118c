"""Staff compliance reporting: a course's report page and the audit roster (CE Broker's rosters
are tested in test_ce_broker.py).

The numbers are checked against a cohort built by hand; query counts are pinned with 20 and 200
learners. The views are not wired into the admin's URLs here: this module is its own urlconf and
mounts them under the admin's namespace with the names CourseAdmin will give them."""

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import partial

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.urls import path, reverse
from django.utils import timezone

from accounts.models import Licence, User
from accounts.tests.factories import LicenceFactory, UserFactory
from ceu import urls as site_urls
from courses.admin import reports as admin_reports
from courses.codes import new_code
from courses.models import (
    Certificate,
    Course,
    Enrollment,
    EvaluationResponse,
    LessonProgress,
    LogEntry,
    QuizAttempt,
)
from courses.reports import course_report
from courses.services import credentials
from courses.tests.factories import (
    AccreditorFactory,
    ApprovalFactory,
    CourseFactory,
    EnrollmentFactory,
    ObjectiveFactory,
)


def _admin_view(view):
    return admin.site.admin_view(partial(view, admin_site=admin.site))


# As CourseAdmin.get_urls will add them, ahead of the admin's own (its catch-all comes last).
report_urls = [
    path(
        "courses/course/roster.csv",
        _admin_view(admin_reports.completion_roster_csv),
        name="courses_course_roster",
    ),
    path(
        "courses/course/ce-broker.csv",
        _admin_view(admin_reports.ce_broker_csv),
        name="courses_course_ce_broker",
    ),
    path(
        "courses/course/<path:object_id>/report/",
        _admin_view(admin_reports.course_report_view),
        name="courses_course_report",
    ),
]
urlpatterns = [
    path("admin/", (report_urls + admin.site.get_urls(), "admin", admin.site.name)),
    *[p for p in site_urls.urlpatterns if getattr(p, "namespace", None) != "admin"],
]

pytestmark = [pytest.mark.django_db, pytest.mark.urls("courses.tests.test_reports")]


@pytest.fixture(autouse=True)
def _report_settings(settings):
    # The admin sends staff without two-factor to set it up; these tests are about reports.
    settings.CEU_REQUIRE_STAFF_MFA = False
    settings.CEU_CE_BROKER_PROVIDER_NUMBER = "50-1234"


def at(year: int, month: int, day: int, hour: int = 12) -> datetime:
    return timezone.make_aware(datetime(year, month, day, hour))  # noqa: DTZ001


def staff_with(*codenames: str) -> User:
    user = UserFactory(is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="courses", codename__in=codenames)
    )
    return user


@pytest.fixture
def registrar(db):
    return staff_with("view_enrollment", "view_certificate", "view_course", "add_cebrokerroster")


@pytest.fixture
def registrar_client(client, registrar):
    client.force_login(registrar)
    return client


def report_url(course) -> str:
    return reverse("admin:courses_course_report", args=[course.pk])


ROSTER_URL = "/admin/courses/course/roster.csv"
CE_BROKER_URL = "/admin/courses/course/ce-broker.csv"


def read_csv(response) -> list[list[str]]:
    assert response.streaming
    content = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(content.removeprefix("\ufeff"))))


def accreditor(short_name: str, professions: list[str]):
    return AccreditorFactory(
        short_name=short_name,
        professions=professions,
        approved_from=date(2025, 1, 1),
        approved_until=date(2030, 12, 31),
    )


def approve(course, short_name: str, professions: list[str], **fields):
    fields.setdefault("hours", course.ce_hours)
    return ApprovalFactory(
        course=course,
        accreditor=accreditor(short_name, professions),
        valid_from=date(2025, 6, 1),
        valid_until=date(2030, 6, 1),
        **fields,
    )


def attempt(enrollment, number: int, score: int | None, submitted_at=None) -> QuizAttempt:
    submitted = score is not None
    return QuizAttempt.objects.create(
        enrollment=enrollment,
        number=number,
        questions=[],
        pass_mark=75,
        score=Decimal(score) if submitted else None,
        passed=(score >= 75) if submitted else None,
        submitted_at=(submitted_at or at(2026, 1, 5)) if submitted else None,
    )


def evaluate(enrollment, objectives, learned, usefulness, presenter, comments, submitted_at):
    evaluation = EvaluationResponse.objects.create(
        enrollment=enrollment,
        objective_ratings=[
            {"objective": text, "rating": rating}
            for text, rating in zip(OBJECTIVES, objectives, strict=True)
        ],
        learned_rating=learned,
        usefulness_rating=usefulness,
        presenter_rating=presenter,
        comments=comments,
    )
    # submitted_at is set on insert; the cohort needs known dates.
    EvaluationResponse.objects.filter(pk=evaluation.pk).update(submitted_at=submitted_at)
    return evaluation


OBJECTIVES = ["Describe three attachment styles.", "Apply a repair strategy in session."]


@dataclass
class Cohort:
    course: object
    other_course: object
    enrollments: list[Enrollment]
    other_enrollment: Enrollment
    certificates: dict[str, Certificate]


@pytest.fixture
def cohort(db) -> Cohort:
    """Ten learners in a two-lesson course, every figure chosen by hand:

    learner  lesson 1  lesson 2  attempts (score)        evaluation            certificate
    L0       yes       yes       60 fail, 90 pass        5,4 / 5 4 5 comment   valid (FL, GA)
    L1       yes       yes       80 pass                 4,4 / 4 4 5 no text   reissued, no licence
    L2       yes       yes       100 pass                3,5 / 3 5 4 comment   revoked (FL)
    L3       yes       yes       75 pass                 -                     -
    L4       yes       yes       50 fail, one open       -                     -
    L5       yes       yes       -                       -                     -
    L6, L7   yes       -         -                       -                     -
    L8, L9   -         -         -                       -                     -

    and, in another course, one learner with a valid certificate for a Florida licence.
    """
    course = CourseFactory(
        slug="attachment", title="Attachment in practice", lessons=2, ce_hours=Decimal("1.50")
    )
    for position, text in enumerate(OBJECTIVES, start=1):
        ObjectiveFactory(course=course, position=position, text=text)
    approve(course, "APA", ["psychologist"])
    approve(course, "NBCC", ["professional_counselor"])
    approve(course, "ASWB ACE", ["clinical_social_worker"], credit_type="clinical")
    approve(
        course,
        "CE Broker",
        ["professional_counselor"],
        hours=Decimal("1.00"),
        approval_code="20-123456",
    )
    lesson1, lesson2 = course.lessons.order_by("position")

    learners = [
        UserFactory(full_name=f"Learner {n}", email=f"learner{n}@example.com") for n in range(10)
    ]
    LicenceFactory(
        user=learners[0], profession="professional_counselor", jurisdiction="FL", number="MH 0001-a"
    )
    LicenceFactory(user=learners[0], profession="psychologist", jurisdiction="GA", number="PSY-77")
    LicenceFactory(
        user=learners[2], profession="clinical_social_worker", jurisdiction="FL", number="SW12345"
    )
    enrollments = [EnrollmentFactory(user=learner, course=course) for learner in learners]
    e = enrollments

    for enrollment in e[:8]:
        LessonProgress.objects.create(enrollment=enrollment, lesson=lesson1)
    for enrollment in e[:6]:
        LessonProgress.objects.create(
            enrollment=enrollment, lesson=lesson2, completed_at=at(2026, 1, 1)
        )

    attempt(e[0], 1, 60)
    attempt(e[0], 2, 90)
    attempt(e[1], 1, 80)
    attempt(e[2], 1, 100)
    attempt(e[3], 1, 75)
    attempt(e[4], 1, 50)
    attempt(e[4], 2, None)

    evaluate(e[0], [5, 4], 5, 4, 5, "Great case examples.", at(2026, 1, 9))
    evaluate(e[1], [4, 4], 4, 4, 5, "", at(2026, 2, 14))
    evaluate(e[2], [3, 5], 3, 5, 4, "  Too short on ethics.\n", at(2026, 3, 19))

    for enrollment, completed in [
        (e[0], at(2026, 1, 10)),
        (e[1], at(2026, 2, 15)),
        (e[2], at(2026, 3, 20)),
    ]:
        enrollment.completed_at = completed
        enrollment.save(update_fields=["completed_at"])
    certificates = {
        n: credentials.issue_certificate(enrollment=e[int(n[1])]) for n in ["L0", "L1", "L2"]
    }

    # Later changes reach no certificate: L0's licences now, L1's name corrected by a reissue,
    # L2's certificate withdrawn.
    learners[0].licences.filter(jurisdiction="FL").update(number="MH-CHANGED")
    LicenceFactory(user=learners[0], profession="psychologist", jurisdiction="TX", number="TX-1")
    registrar = staff_with("view_certificate")
    learners[1].full_name = "Learner One, corrected"
    learners[1].save()
    certificates["L1-old"] = certificates["L1"]
    certificates["L1"] = credentials.reissue_certificate(
        certificate=certificates["L1"], acting_user=registrar, reason="Name corrected"
    )
    certificates["L2"] = credentials.revoke_certificate(
        certificate=certificates["L2"], reason="Did not do the work.", acting_user=registrar
    )

    other_course = CourseFactory(slug="ethics-refresher", title="Ethics refresher", lessons=1)
    # Credit for counselors, but none through CE Broker.
    approve(other_course, "NBCC", ["professional_counselor"])
    other_learner = UserFactory(full_name="Other Learner", email="other@example.com")
    LicenceFactory(
        user=other_learner, profession="professional_counselor", jurisdiction="FL", number="MH-9999"
    )
    other = EnrollmentFactory(user=other_learner, course=other_course)
    attempt(other, 1, 40)
    attempt(other, 2, 85)
    evaluate(other, [1, 1], 1, 1, 1, "Other course comment", at(2026, 2, 19))
    other.completed_at = at(2026, 2, 20)
    other.save(update_fields=["completed_at"])
    certificates["other"] = credentials.issue_certificate(enrollment=other)

    return Cohort(course, other_course, enrollments, other, certificates)


# --- The report's numbers -----------------------------------------------------------------------


def test_the_report_counts_the_cohort(cohort):
    report = course_report(course=cohort.course)

    assert report.enrollments == 10
    assert report.completions == 3
    assert report.learners_started_test == 5  # L0 to L4
    assert report.learners_submitted == 5
    assert report.learners_passed == 4  # L0 to L3
    assert report.pass_rate == Decimal("80.0")
    # 60 + 90 + 80 + 100 + 75 + 50 = 455 over six submitted attempts; L4's open one is not scored.
    assert report.submitted_attempts == 6
    assert report.mean_score == Decimal("75.83")
    # L0 and L4 used two attempts (L4's second still open); L1, L2, L3 one.
    assert report.attempt_distribution == {1: 3, 2: 2}
    assert report.attempts_mean == Decimal("1.40")  # 7 attempts, 5 learners
    assert report.attempt_rows == [(1, 3, Decimal("60.0")), (2, 2, Decimal("40.0"))]


def test_the_report_averages_the_evaluation(cohort):
    report = course_report(course=cohort.course)

    assert report.evaluations == 3
    assert [(m.label, m.mean, m.responses) for m in report.objective_means] == [
        (OBJECTIVES[0], Decimal("4.00"), 3),  # 5 + 4 + 3
        (OBJECTIVES[1], Decimal("4.33"), 3),  # 4 + 4 + 5
    ]
    assert report.learned_mean.mean == Decimal("4.00")  # 5 + 4 + 3
    assert report.usefulness_mean.mean == Decimal("4.33")  # 4 + 4 + 5
    assert report.presenter_mean.mean == Decimal("4.67")  # 5 + 5 + 4
    assert report.learned_mean.label.startswith("How much did you learn")
    # Non-empty comments only, newest first, trimmed; nothing from the other course.
    assert [(c.submitted_at, c.text) for c in report.comments] == [
        (at(2026, 3, 19), "Too short on ethics."),
        (at(2026, 1, 9), "Great case examples."),
    ]


def test_the_funnel_follows_the_course(cohort):
    report = course_report(course=cohort.course)

    assert [(s.label, s.count, s.percent) for s in report.funnel] == [
        ("Enrolled", 10, Decimal("100.0")),
        ("Lesson 1: Chapter 1", 8, Decimal("80.0")),
        ("Lesson 2: Chapter 2", 6, Decimal("60.0")),
        ("Post-test started", 5, Decimal("50.0")),
        ("Evaluation submitted", 3, Decimal("30.0")),
        # L1's superseded certificate is not counted twice; L2's revoked one still stands.
        ("Certificate", 3, Decimal("30.0")),
    ]


def test_a_reworded_objective_is_reported_as_rated(cohort):
    enrollment = cohort.enrollments[3]
    EvaluationResponse.objects.create(
        enrollment=enrollment,
        objective_ratings=[
            {"objective": OBJECTIVES[0], "rating": 1},
            {"objective": "Apply two repair strategies.", "rating": 2},
        ],
        learned_rating=1,
        usefulness_rating=1,
        presenter_rating=1,
    )

    report = course_report(course=cohort.course)

    assert [(m.label, m.mean, m.responses) for m in report.objective_means] == [
        (OBJECTIVES[0], Decimal("3.25"), 4),  # 5 + 4 + 3 + 1
        (OBJECTIVES[1], Decimal("4.33"), 3),
        ("Apply two repair strategies.", Decimal("2.00"), 1),
    ]


def test_an_empty_course_reports_zeros(db):
    course = CourseFactory(lessons=1)

    report = course_report(course=course)

    assert report.enrollments == 0
    assert report.pass_rate is None
    assert report.mean_score is None
    assert report.attempts_mean is None
    assert report.attempt_distribution == {}
    assert report.objective_means == []
    assert report.learned_mean.mean is None
    assert [(s.count, s.percent) for s in report.funnel] == [(0, Decimal("0.0"))] * 5


# --- The report page ----------------------------------------------------------------------------


def test_the_report_page_shows_the_numbers_and_draws_the_funnel(registrar_client, cohort):
    response = registrar_client.get(report_url(cohort.course))

    assert response.status_code == 200
    assert response.templates[0].name == "admin/courses/course_report.html"
    page = response.content.decode()
    main = page[page.index('id="content-main"') :]
    # Breadcrumbs lead back to the course.
    change = reverse("admin:courses_course_change", args=[cohort.course.pk])
    assert f'<a href="{change}">Attachment in practice</a>' in page
    assert '<td class="number" id="pass-rate">80.0%</td>' in main
    assert '<td class="number" id="mean-score">75.83%</td>' in main
    # The funnel is an inline SVG whose bars carry their count and share; no script needed.
    assert "<svg" in main
    for label in ["10 (100.0%)", "8 (80.0%)", "6 (60.0%)", "5 (50.0%)", "3 (30.0%)"]:
        assert label in main
    assert 'width="304.0"' in main  # the lesson 1 bar: 80 % of 380
    assert "<script" not in main
    assert main.index("Too short on ethics.") < main.index("Great case examples.")
    assert "Other course comment" not in main
    # The exports, filtered to this course.
    assert f'href="{ROSTER_URL}?course={cohort.course.pk}"' in main
    # CE Broker's rosters are generated on their own page, this course filled in.
    assert f'action="{reverse("admin:courses_cebrokerroster_add")}"' in main


def test_the_report_page_keeps_numbers_plain_in_other_languages(registrar_client, cohort):
    response = registrar_client.get(report_url(cohort.course), HTTP_ACCEPT_LANGUAGE="de")

    assert response.status_code == 200
    assert 'width="304.0"' in response.content.decode()


def test_the_report_page_is_for_the_registrar_role(client, cohort):
    url = report_url(cohort.course)
    client.force_login(staff_with("view_enrollment"))
    assert client.get(url).status_code == 200

    client.force_login(staff_with("view_course", "view_certificate"))
    assert client.get(url).status_code == 403

    client.logout()
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_an_unknown_course_is_not_found(registrar_client, cohort):
    missing = reverse("admin:courses_course_report", args=[cohort.other_course.pk + 100])

    assert registrar_client.get(missing).status_code == 404
    assert registrar_client.get("/admin/courses/course/not-a-number/report/").status_code == 404


# --- The completion roster ----------------------------------------------------------------------

ROSTER_HEADER = [
    "Learner name",
    "E-mail",
    "Profession",
    "Licence number",
    "Jurisdiction",
    "Course",
    "CE hours",
    "Credit types",
    "Completion date",
    "Score",
    "Certificate code",
    "Certificate status",
]


def test_the_roster_has_a_row_per_licence_on_each_standing_certificate(registrar_client, cohort):
    response = registrar_client.get(ROSTER_URL)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="completion-roster-{today}.csv"'
    )
    header, *rows = read_csv(response)
    assert header == ROSTER_HEADER
    codes = cohort.certificates
    assert rows == [
        # Licences as printed at issue, not as L0 holds them now.
        [
            "Learner 0",
            "learner0@example.com",
            "Professional counselor",
            "MH 0001-a",
            "Florida",
            "Attachment in practice",
            "1.5",
            "APA general; CE Broker general; NBCC general",
            "2026-01-10",
            "90.00",
            codes["L0"].code,
            "Valid",
        ],
        [
            "Learner 0",
            "learner0@example.com",
            "Psychologist",
            "PSY-77",
            "Georgia",
            "Attachment in practice",
            "1.5",
            "APA general; CE Broker general; NBCC general",
            "2026-01-10",
            "90.00",
            codes["L0"].code,
            "Valid",
        ],
        # No licence on record: one row, licence columns blank; no approval serves a licence,
        # so it is a certificate of attendance with no hours. The reissued certificate only,
        # with the corrected name.
        [
            "Learner One, corrected",
            "learner1@example.com",
            "",
            "",
            "",
            "Attachment in practice",
            "0",
            "",
            "2026-02-15",
            "80.00",
            codes["L1"].code,
            "Valid",
        ],
        [
            "Other Learner",
            "other@example.com",
            "Professional counselor",
            "MH-9999",
            "Florida",
            "Ethics refresher",
            "0.5",
            "NBCC general",
            "2026-02-20",
            "85.00",
            codes["other"].code,
            "Valid",
        ],
        # Revoked certificates stay on the audit roster, with their status.
        [
            "Learner 2",
            "learner2@example.com",
            "Clinical social worker",
            "SW12345",
            "Florida",
            "Attachment in practice",
            "1.5",
            "ASWB ACE clinical",
            "2026-03-20",
            "100.00",
            codes["L2"].code,
            "Revoked",
        ],
    ]
    assert codes["L1-old"].code not in {row[10] for row in rows}


def codes_in(response) -> list[str]:
    assert response.status_code == 200
    return [row[10] for row in read_csv(response)[1:]]


def test_the_roster_filters_by_course_and_completion_dates(registrar_client, cohort):
    codes = {key: certificate.code for key, certificate in cohort.certificates.items()}
    get = registrar_client.get

    response = get(ROSTER_URL, {"course": cohort.other_course.pk})
    assert "ethics-refresher" in response["Content-Disposition"]
    assert codes_in(response) == [codes["other"]]
    assert codes_in(get(ROSTER_URL, {"course": cohort.course.pk})) == [
        codes["L0"],
        codes["L0"],
        codes["L1"],
        codes["L2"],
    ]
    assert codes_in(get(ROSTER_URL, {"start": "2026-02-01", "end": "2026-02-28"})) == [
        codes["L1"],
        codes["other"],
    ]
    # Both ends are inclusive, whole days in the site's time zone.
    assert codes_in(get(ROSTER_URL, {"end": "2026-01-10"})) == [codes["L0"], codes["L0"]]
    assert codes_in(get(ROSTER_URL, {"start": "2026-03-20"})) == [codes["L2"]]
    assert codes_in(get(ROSTER_URL, {"start": "2026-03-21"})) == []
    assert codes_in(
        get(ROSTER_URL, {"course": cohort.course.pk, "start": "2026-02-01", "end": "2026-02-28"})
    ) == [codes["L1"]]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "2026-13-01"}, "'start' must be a date written YYYY-MM-DD"),
        ({"end": "01/31/2026"}, "'end' must be a date written YYYY-MM-DD"),
        ({"start": "20260101"}, "'start' must be a date written YYYY-MM-DD"),
        ({"start": "2026-02-01", "end": "2026-01-01"}, "'end' is before 'start'"),
        ({"course": "abc"}, "'course' must be a course id"),
        ({"course": "999999"}, "There is no course with id 999999"),
    ],
)
def test_the_roster_refuses_bad_parameters_in_plain_words(registrar_client, cohort, query, message):
    response = registrar_client.get(ROSTER_URL, query)

    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert message in response.content.decode()


def test_the_roster_keeps_formulas_out_of_spreadsheets(registrar_client, cohort):
    certificate = cohort.certificates["L0"]
    snapshot = {**certificate.snapshot, "learner_name": '=HYPERLINK("http://x.example")'}
    Certificate.objects.filter(pk=certificate.pk).update(snapshot=snapshot)

    rows = read_csv(registrar_client.get(ROSTER_URL, {"course": cohort.course.pk}))

    assert rows[1][0] == '\'=HYPERLINK("http://x.example")'


@pytest.mark.parametrize("export", [ROSTER_URL])
def test_the_exports_are_for_registrars(client, cohort, export):
    client.force_login(staff_with("view_certificate"))
    assert client.get(export).status_code == 200

    client.force_login(staff_with("view_enrollment", "view_course"))
    assert client.get(export).status_code == 403

    client.logout()
    response = client.get(export)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


# --- Exports in the audit trail -----------------------------------------------------------------


def exports(action: str) -> list[LogEntry]:
    return list(LogEntry.objects.filter(action=action).order_by("pk"))


def test_a_roster_export_records_who_which_filters_and_how_many_rows(
    registrar_client, registrar, cohort
):
    response = registrar_client.get(
        ROSTER_URL, {"course": cohort.course.pk, "start": "2026-01-01", "end": "2026-02-28"}
    )
    rows = read_csv(response)[1:]

    [entry] = exports("roster.exported")
    assert entry.actor == registrar
    assert entry.subject == cohort.course
    assert entry.data == {
        "filters": {"course": "attachment", "start": "2026-01-01", "end": "2026-02-28"},
        "rows": len(rows),
    }
    assert len(rows) == 3
    assert entry.at is not None


def test_an_unfiltered_roster_export_is_recorded_too(registrar_client, registrar, cohort):
    rows = read_csv(registrar_client.get(ROSTER_URL))[1:]

    [entry] = exports("roster.exported")
    assert entry.subject is None
    assert entry.data == {
        "filters": {"course": None, "start": None, "end": None},
        "rows": len(rows),
    }


@pytest.mark.parametrize(
    ("url", "query"),
    [
        (ROSTER_URL, {"start": "yesterday"}),
        (ROSTER_URL, {"course": "999999"}),
    ],
)
def test_a_refused_export_records_nothing(registrar_client, cohort, url, query):
    assert registrar_client.get(url, query).status_code == 400

    assert not LogEntry.objects.filter(action__startswith="roster.").exists()


def test_an_export_refused_for_want_of_permission_records_nothing(client, cohort):
    client.force_login(staff_with("view_enrollment", "view_course"))

    assert client.get(ROSTER_URL).status_code == 403
    assert client.get(CE_BROKER_URL, {"state": "FL"}).status_code == 403
    assert not LogEntry.objects.filter(action__startswith="roster.").exists()


# --- Query counts -------------------------------------------------------------------------------


def add_learners(course, count: int) -> None:
    """`count` learners who all finished the course with a Florida licence, in bulk."""
    lessons = list(course.lessons.all())
    User.objects.bulk_create(
        User(email=f"bulk{n}@example.com", full_name=f"Bulk Learner {n}", password="!")
        for n in range(count)
    )
    users = list(User.objects.filter(email__startswith="bulk").order_by("pk"))
    Licence.objects.bulk_create(
        Licence(
            user=user, profession="professional_counselor", jurisdiction="FL", number=f"MH-{n:05d}"
        )
        for n, user in enumerate(users)
    )
    completed = at(2026, 4, 1)
    Enrollment.objects.bulk_create(
        Enrollment(user=user, course=course, completed_at=completed, engaged_seconds=1800)
        for user in users
    )
    enrollments = list(Enrollment.objects.filter(course=course, user__in=users).order_by("pk"))
    LessonProgress.objects.bulk_create(
        LessonProgress(enrollment=enrollment, lesson=lesson, completed_at=completed)
        for enrollment in enrollments
        for lesson in lessons
    )
    QuizAttempt.objects.bulk_create(
        QuizAttempt(
            enrollment=enrollment,
            number=1,
            questions=[],
            pass_mark=75,
            score=Decimal(75 + n % 26),
            passed=True,
            submitted_at=completed,
        )
        for n, enrollment in enumerate(enrollments)
    )
    EvaluationResponse.objects.bulk_create(
        EvaluationResponse(
            enrollment=enrollment,
            objective_ratings=[{"objective": text, "rating": 4} for text in OBJECTIVES],
            learned_rating=4,
            usefulness_rating=5,
            presenter_rating=3,
            comments=f"Comment {n}",
        )
        for n, enrollment in enumerate(enrollments)
    )
    # One certificate issued the real way, its snapshot copied for the rest.
    first = credentials.issue_certificate(enrollment=enrollments[0])
    template = first.snapshot
    issued = timezone.now()

    def certificate(enrollment, user, number):
        code = new_code()
        licence = {**template["licences"][0], "number": number}
        snapshot = {**template, "code": code, "learner_name": user.full_name, "licences": [licence]}
        return Certificate(
            code=code,
            enrollment=enrollment,
            snapshot=snapshot,
            issued_at=issued,
            learner_name=user.full_name,
        )

    Certificate.objects.bulk_create(
        certificate(enrollment, user, f"MH-{n:05d}")
        for n, (enrollment, user) in enumerate(zip(enrollments, users, strict=True))
        if n
    )


# Session, user, and the user's and groups' permissions; then the page's own reads (the
# re-engagement section's one query among them).
REPORT_PAGE_QUERIES = 12
# Session, user, permissions, the course filter; then one query for all the rows, and the audit
# entry written in its own savepoint (savepoint, insert, release).
ROSTER_QUERIES = 9


@pytest.fixture
def big_course(db):
    course = CourseFactory(slug="big", title="A big course", lessons=3)
    for position, text in enumerate(OBJECTIVES, start=1):
        ObjectiveFactory(course=course, position=position, text=text)
    approve(course, "NBCC", ["professional_counselor"])
    approve(course, "CE Broker", ["professional_counselor"], approval_code="20-999")
    return course


@pytest.mark.parametrize("size", [20, 200])
def test_the_report_page_keeps_its_query_count(
    registrar_client, big_course, django_assert_num_queries, size
):
    add_learners(big_course, size)
    url = report_url(big_course)

    with django_assert_num_queries(REPORT_PAGE_QUERIES):
        response = registrar_client.get(url)

    assert response.status_code == 200
    assert f"{size} (100.0%)" in response.content.decode()


@pytest.mark.parametrize("size", [20, 200])
def test_the_roster_keeps_its_query_count(
    registrar_client, big_course, django_assert_num_queries, size
):
    add_learners(big_course, size)
    ContentType.objects.get_for_model(Course)  # cached once per process, as in production

    with django_assert_num_queries(ROSTER_QUERIES):
        response = registrar_client.get(ROSTER_URL, {"course": big_course.pk})
        rows = read_csv(response)

    assert len(rows) == size + 1
    assert rows[1][9] == "75.00"
