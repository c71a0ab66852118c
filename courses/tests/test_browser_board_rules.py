"""A Florida counselor's renewal in real Chromium: add the licence (the form suggests the board's
hours), see on the transcript what is still needed, filter the catalog to what counts for the
licence, complete a training, and see the hours and the subject requirement move."""

import re
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.tests.factories import PASSWORD, UserFactory
from courses.models import (
    AcceptedApproval,
    BoardRule,
    Course,
    Enrollment,
    FactStatus,
    LessonProgress,
    RenewalBasis,
    SubjectArea,
    SubjectRequirement,
)
from courses.tests.factories import AccreditorFactory, ApprovalFactory, CourseFactory
from courses.tests.test_browser_post_test import answer_every_question

FIXTURE = Path(django_settings.BASE_DIR, "fixtures", "demo_trainings.json")
COACHING = "coaching-versus-therapy-for-growth-oriented-clients"


def florida_counseling_board() -> SubjectArea:
    rule = BoardRule.objects.create(
        jurisdiction="FL",
        profession="professional_counselor",
        board="Florida Board of Mental Health Counseling (test)",
        licence_titles="LMHC",
        checked_on=date(2026, 11, 28),
        cycle_months=24,
        renewal_basis=RenewalBasis.FIXED_DATE,
        fixed_month=3,
        fixed_day=31,
        cycle_source="https://board.example/fl/renewal",
        hours_required=30,
        hours_source="https://board.example/fl/ce",
        self_study_status=FactStatus.NONE,
        self_study_source="https://board.example/fl/ce",
        approvals_status=FactStatus.KNOWN,
    )
    AcceptedApproval.objects.create(rule=rule, body="NBCC", source="https://board.example/fl")
    laws = SubjectArea.objects.create(slug="laws-and-rules", name="Laws and rules")
    SubjectRequirement.objects.create(
        rule=rule,
        subject=laws,
        name="Florida laws and rules",
        hours="0.5",
        source="https://board.example/fl/laws",
    )
    return laws


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_florida_counselor_sees_what_is_missing_and_watches_it_move(page: Page, live_server):
    call_command("loaddata", FIXTURE, verbosity=0)
    laws = florida_counseling_board()
    course = Course.objects.get(slug=COACHING)
    # Staff have marked this training, and its NBCC approval, as teaching Florida's laws.
    course.subjects.add(laws)
    course.approvals.get(accreditor__short_name="NBCC").subjects.add(laws)
    # A training only psychologists' approvals cover: it does not count for a counselor.
    apa = AccreditorFactory(short_name="APA (psychologists only)", professions=["psychologist"])
    apa.body = "APA"
    apa.save()
    ApprovalFactory(
        course=CourseFactory(slug="for-psychologists", title="For Psychologists Only"),
        accreditor=apa,
    )
    learner = UserFactory(full_name="Dana Whitfield")

    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("#id_login").fill(learner.email)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", level=1, name="My trainings")).to_be_visible()

    # Adding the licence: the form suggests the board's hours; the learner takes them.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My licences").click()
    page.get_by_role("link", name="Add a licence").click()
    page.get_by_label("Profession").select_option(label="Professional counselor")
    page.get_by_label(re.compile(r"^\s*Jurisdiction\s*\*?\s*$")).select_option(label="Florida")
    hint = page.locator("#licence-rule-hint")
    expect(hint).to_contain_text("Florida Board of Mental Health Counseling (test)")
    expect(hint).to_contain_text("Your board has the final word")
    page.get_by_role("button", name="Use 30 hours").click()
    expect(page.get_by_label("CE hours required per renewal cycle")).to_have_value(
        re.compile(r"^30(\.0+)?$")
    )
    page.get_by_label("Licence number").fill("MH 12345")
    page.get_by_label("Renewal date").fill("2027-03-31")
    page.get_by_role("button", name="Add licence").click()
    expect(page.get_by_text("Licence added.")).to_be_visible()

    # The transcript: everything is still needed.
    page.goto(f"{live_server.url}/my/transcript/")
    remaining = page.locator("[data-remaining]")
    expect(remaining).to_contain_text("30 of 30")
    laws_row = page.get_by_role("row").filter(has_text="Florida laws and rules")
    expect(laws_row).to_contain_text("0.5")
    expect(laws_row).not_to_contain_text("met")
    expect(page.get_by_text("Your board has the final word").first).to_be_visible()

    # The catalog, filtered to what counts for the licence.
    page.goto(f"{live_server.url}/courses/")
    page.get_by_label("Counts for my licences").check()
    page.get_by_role("button", name=re.compile("Filter|Show|Apply")).first.click()
    expect(page.get_by_role("link", name=course.title)).to_be_visible()
    expect(page.get_by_role("link", name="For Psychologists Only")).to_have_count(0)

    # The course page says what it does for the renewal.
    page.get_by_role("link", name=course.title).click()
    outlook = page.locator("[data-renewal-outlook]")
    expect(outlook).to_contain_text("Toward your renewal on Mar 31, 2027: 0 of 30")
    expect(outlook).to_contain_text("Meets your board's requirement for Florida laws and rules.")
    expect(page.get_by_role("button", name=re.compile("^Enroll"))).to_be_visible()

    # Enrolled, with the lessons and time done (the lesson journey, whose page beats while it
    # is open, has its own test): then the post-test, evaluation and attestation here.
    enrollment = Enrollment.objects.create(
        user=learner, course=course, engaged_seconds=course.minimum_engaged_minutes * 60
    )
    for lesson in course.lessons.all():
        LessonProgress.objects.create(
            enrollment=enrollment,
            lesson=lesson,
            engaged_seconds=lesson.minimum_seconds,
            completed_at=timezone.now(),
        )
    page.goto(f"{live_server.url}/courses/{course.slug}/post-test/")
    page.get_by_role("button", name="Start the post-test").click()
    answer_every_question(page, right=True)
    page.get_by_role("button", name="Submit answers").click()
    expect(page.locator("#attempt-result")).to_contain_text("You passed.")
    page.get_by_role("link", name="Back to the post-test").click()
    page.get_by_role("link", name="Evaluate the training").click()
    for group in page.locator("main form fieldset").all():
        group.get_by_label("4", exact=True).check()
    page.get_by_role("button", name="Submit evaluation").click()
    page.get_by_label("I completed this training myself.").check()
    page.get_by_role("button", name="Attest").click()
    expect(page.get_by_text("Training complete.")).to_be_visible()

    # The requirement moved.
    page.goto(f"{live_server.url}/my/transcript/")
    hours = course.approvals.get(accreditor__short_name="NBCC").hours
    left = 30 - hours
    expect(page.locator("[data-remaining]")).to_contain_text(f"{left.normalize():f} of 30")
    expect(page.get_by_role("row").filter(has_text="Florida laws and rules")).to_contain_text("met")
