"""Where a learner lands and what each page offers them: signing in opens My trainings, a
completed training offers its review and certificate (never "Start"), and every page prints a
date the same way ("Nov 28, 2026")."""

import re
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from accounts.tests.factories import PASSWORD, LicenceFactory, UserFactory
from courses.models import Certificate, Choice, Policy
from courses.services import assessment, publishing
from courses.tests.factories import (
    AccreditorFactory,
    ApprovalFactory,
    BoardRuleFactory,
    CourseFactory,
    EnrollmentFactory,
    ObjectiveFactory,
    QuestionFactory,
    finish_lessons,
)

pytestmark = pytest.mark.django_db


# --- Signing in ---------------------------------------------------------------------------------


def sign_in(client, *, next_url: str = ""):
    UserFactory(email="dana@example.com")
    url = reverse("account_login") + (f"?next={next_url}" if next_url else "")
    return client.post(url, {"login": "dana@example.com", "password": PASSWORD}, follow=True)


def test_signing_in_lands_on_my_trainings(client):
    response = sign_in(client)

    assert response.redirect_chain[-1][0] == reverse("courses:my_trainings")
    assert '<h1 class="h3 mb-3">My trainings</h1>' in response.content.decode()


def test_signing_in_from_a_page_returns_to_it(client):
    catalog = reverse("courses:catalog")

    response = sign_in(client, next_url=catalog)

    assert response.redirect_chain[-1][0] == catalog


# --- A completed training -----------------------------------------------------------------------


def take_it_all_the_way(enrollment):
    """Lessons, a passed post-test, the evaluation and the attestation: a completed training
    with its certificate."""
    course = enrollment.course
    for _n in range(assessment.required_questions(course)):
        QuestionFactory(course=course)
    finish_lessons(enrollment)
    attempt = assessment.start_attempt(enrollment=enrollment)
    answers = {
        question["id"]: list(
            Choice.objects.filter(question_id=question["id"], is_correct=True).values_list(
                "pk", flat=True
            )
        )
        for question in attempt.questions
    }
    assessment.submit_attempt(attempt=attempt, answers=answers)
    assessment.record_evaluation(
        enrollment=enrollment,
        objective_ratings=[4] * course.objectives.count(),
        learned_rating=4,
        usefulness_rating=5,
        presenter_rating=4,
    )
    assessment.attest(enrollment=enrollment)
    enrollment.refresh_from_db()
    assert enrollment.completed_at is not None
    return enrollment


@pytest.fixture
def completed(learner):
    course = CourseFactory(slug="ghosting", title="Ruptures and ghosting")
    ObjectiveFactory(course=course)
    return take_it_all_the_way(EnrollmentFactory(user=learner, course=course))


def test_a_completed_training_offers_review_and_its_certificate_never_start(
    learner_client, completed
):
    certificate = Certificate.objects.get(enrollment=completed)

    course_page = learner_client.get(completed.course.get_absolute_url()).content.decode()
    my_trainings = learner_client.get(reverse("courses:my_trainings")).content.decode()
    catalog = learner_client.get(reverse("courses:catalog")).content.decode()

    for page in (course_page, my_trainings, catalog):
        assert not re.search(r">\s*Start\b", page)
    assert "Review the lessons" in course_page
    assert "Review the lessons" in my_trainings
    assert f'href="{certificate.get_absolute_url()}" data-view-certificate>View certificate' in (
        my_trainings
    )


def test_a_training_not_yet_opened_still_offers_start(learner_client, learner):
    course = CourseFactory(slug="ghosting")
    EnrollmentFactory(user=learner, course=course)

    assert ">Start</a>" in learner_client.get(reverse("courses:my_trainings")).content.decode()
    assert (
        "Start the first lesson" in learner_client.get(course.get_absolute_url()).content.decode()
    )


# --- One date format ----------------------------------------------------------------------------

THE_FORMAT = re.compile(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{1,2}, \d{4}\b")
OTHER_FORMATS = {
    "ISO": re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),
    "month spelled out": re.compile(
        r"\b(January|February|March|April|June|July|August|September|October|November|December)"
        r" \d{1,2}, \d{4}"
    ),
    "Django's default": re.compile(r"\b(Jan|Feb|Aug|Sept|Oct|Nov|Dec)\. \d{1,2}, \d{4}"),
    "numeric": re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b"),
}


class VisibleText(HTMLParser):
    """The text a reader sees: not attributes (a <time datetime>, an input's value), scripts or
    styles, which keep machine formats."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._hidden += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


@pytest.fixture
def dated_world(learner, settings):
    """A learner with a dated licence judged by a board rule, a completed training whose
    approval has a period, and an archived one still open to finish: a date on every page."""
    settings.CEU_ARCHIVE_GRACE_DAYS = 365
    BoardRuleFactory(checked_on=date(2026, 11, 20))
    licence = LicenceFactory(
        user=learner,
        profession="professional_counselor",
        jurisdiction="FL",
        number="MH 12345",
        issued_on=date(2020, 6, 15),
        renewal_date=date(2027, 3, 31),
        hours_required=Decimal("30"),
    )
    counselors = AccreditorFactory(short_name="NBCC", professions=["professional_counselor"])
    course = CourseFactory(slug="ghosting", title="Ruptures and ghosting")
    ObjectiveFactory(course=course)
    ApprovalFactory(course=course, accreditor=counselors)
    completed = take_it_all_the_way(EnrollmentFactory(user=learner, course=course))
    archived = CourseFactory(slug="safety", title="Emotional safety")
    EnrollmentFactory(user=learner, course=archived)
    publishing.archive_course(course=archived)
    for kind in ("grievance", "refund", "accommodation"):
        Policy.objects.create(kind=kind, title=f"{kind.title()} policy", body="Our policy.")
    certificate = Certificate.objects.get(enrollment=completed)
    return {
        "course": course,
        "archived": archived,
        "licence": licence,
        "certificate": certificate,
    }


def main_pages(world) -> dict[str, str]:
    course, licence = world["course"].slug, world["licence"].pk
    return {
        "course page": reverse("courses:course_detail", args=[course]),
        "archived course page": reverse("courses:course_detail", args=[world["archived"].slug]),
        "catalog for my licences": reverse("courses:catalog") + "?mine=on",
        "my trainings": reverse("courses:my_trainings"),
        "CE transcript": reverse("courses:transcript"),
        "post-test": reverse("courses:post_test", args=[course]),
        "evaluation": reverse("courses:evaluation", args=[course]),
        "verify": reverse("courses:verify_code", args=[world["certificate"].code]),
        "policy": reverse("courses:policy", args=["grievance"]),
        "my licences": reverse("accounts:licence_list"),
        "licence": reverse("accounts:licence_detail", args=[licence]),
        "licence form": reverse("accounts:licence_edit", args=[licence]),
        "profile": reverse("accounts:profile"),
    }


def test_every_main_page_prints_dates_one_way(learner_client, dated_world):
    pages = {name: learner_client.get(url) for name, url in main_pages(dated_world).items()}

    wrong = []
    for name, response in pages.items():
        assert response.status_code == 200, name
        text = visible_text(response.content.decode())
        assert THE_FORMAT.search(text), f"{name} shows no date"
        for label, pattern in OTHER_FORMATS.items():
            wrong += [f"{name}: {found.group(0)} ({label})" for found in pattern.finditer(text)]
    assert not wrong, "\n".join(wrong)
