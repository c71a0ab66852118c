"""The site on a 390 px phone (390 × 844, an iPhone 12 to 15 screen), in real Chromium: the
course page's action is in the first screen whatever the learner's state, the licence and
profile tables never scroll sideways, and a form that comes back with errors puts focus on its
error summary."""

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from accounts.models import User
from accounts.tests.factories import LicenceFactory, UserFactory
from courses.models import Course, Enrollment
from courses.services import assessment, credentials
from courses.tests.factories import EnrollmentFactory, QuestionFactory, finish_lessons

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIXTURE = Path(django_settings.BASE_DIR, "fixtures", "demo_trainings.json")
# The demo training with the longest title: the most the action has to sit below.
COACHING = "coaching-versus-therapy-for-growth-oriented-clients"
PHONE = {"width": 390, "height": 844}
# Long enough to wrap on a phone: boards issue numbers like this one.
LONG_LICENCE_NUMBER = "LMHC-FL-2019-000123456789-PROVISIONAL-REINSTATED"


@pytest.fixture
def phone(page: Page) -> Page:
    page.set_viewport_size(PHONE)
    return page


@pytest.fixture
def demo(db) -> Course:
    call_command("loaddata", FIXTURE, verbosity=0)
    return Course.objects.get(slug=COACHING)


def sign_in(page: Page, live_server, user: User) -> None:
    """Signed in through a session the test client opened; signing in itself is tested
    elsewhere."""
    client = Client()
    client.force_login(user)
    session = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": django_settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )


def bottom(locator: Locator) -> float:
    """Where the element ends, in CSS pixels from the top of the page as first shown."""
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    return box["y"] + box["height"]


def sideways_scroll(page: Page) -> int:
    return page.evaluate("document.scrollingElement.scrollWidth")


def learner_with(*, licences: int = 0) -> User:
    learner = UserFactory(full_name="Maria-Fernanda Castellanos-Wójcik")
    for n in range(licences):
        LicenceFactory(user=learner, number=f"{LONG_LICENCE_NUMBER}-{n}")
    return learner


# --- The course page's action is in the first screen ---------------------------------------------


def test_a_visitor_sees_sign_in_to_enroll_in_the_first_screen(phone: Page, live_server, demo):
    phone.goto(f"{live_server.url}{demo.get_absolute_url()}")

    action = phone.get_by_role("link", name="Sign in to enroll")
    assert bottom(action) <= PHONE["height"]


def test_a_signed_in_learner_sees_enroll_in_the_first_screen(phone: Page, live_server, demo):
    sign_in(phone, live_server, learner_with(licences=2))
    phone.goto(f"{live_server.url}{demo.get_absolute_url()}")

    action = phone.get_by_role("button", name="Enroll")
    assert bottom(action) <= PHONE["height"]


def test_an_enrolled_learner_sees_continue_in_the_first_screen(phone: Page, live_server, demo):
    learner = learner_with(licences=2)
    enrollment = EnrollmentFactory(user=learner, course=demo, engaged_seconds=300)
    Enrollment.objects.filter(pk=enrollment.pk).update(last_lesson=demo.lessons.get(position=2))
    sign_in(phone, live_server, learner)
    phone.goto(f"{live_server.url}{demo.get_absolute_url()}")

    action = phone.get_by_role("link", name="Continue")
    assert bottom(action) <= PHONE["height"]


def test_a_learner_who_completed_sees_review_in_the_first_screen(phone: Page, live_server, demo):
    learner = learner_with(licences=2)
    enrollment = finish_lessons(
        EnrollmentFactory(user=learner, course=demo, completed_at=timezone.now())
    )
    credentials.issue_certificate(enrollment=enrollment)
    sign_in(phone, live_server, learner)
    phone.goto(f"{live_server.url}{demo.get_absolute_url()}")

    action = phone.get_by_role("link", name="Review the lessons")
    assert bottom(action) <= PHONE["height"]
    expect(phone.get_by_role("link", name="Start the first lesson")).to_have_count(0)
    expect(phone.get_by_role("link", name="Download certificate (PDF)")).to_be_visible()


# --- Tables do not scroll sideways ---------------------------------------------------------------


@pytest.mark.parametrize("url_name", ["accounts:licence_list", "accounts:profile"])
def test_licences_stack_without_sideways_scrolling(phone: Page, live_server, url_name):
    sign_in(phone, live_server, learner_with(licences=3))
    phone.goto(f"{live_server.url}{reverse(url_name)}")

    licences = phone.get_by_role("row").filter(has_text=LONG_LICENCE_NUMBER)
    expect(licences).to_have_count(3)
    expect(licences.first.get_by_role("link", name="Edit")).to_be_visible()
    # Each value is labelled on screen, as the column headers label it on a wide screen.
    number = licences.first.locator("td.licence-number")
    label = number.evaluate("cell => getComputedStyle(cell, '::before').content")
    assert "Licence number" in label
    assert sideways_scroll(phone) <= PHONE["width"]


def test_the_licence_table_is_a_table_on_a_wide_screen(page: Page, live_server):
    sign_in(page, live_server, learner_with(licences=1))
    page.goto(f"{live_server.url}{reverse('accounts:licence_list')}")

    expect(page.get_by_role("columnheader", name="Licence number")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text=LONG_LICENCE_NUMBER)).to_have_count(1)


# --- After a form error, focus is on the error summary -------------------------------------------


def focused(page: Page) -> Locator:
    return page.locator(":focus")


def test_an_empty_post_test_submit_focuses_the_error_summary(phone: Page, live_server):
    call_command("loaddata", FIXTURE, verbosity=0)
    learner = learner_with()
    course = Course.objects.get(slug=COACHING)
    for _ in range(max(0, assessment.required_questions(course) - course.questions.count())):
        QuestionFactory(course=course)
    enrollment = finish_lessons(EnrollmentFactory(user=learner, course=course))
    attempt = assessment.start_attempt(enrollment=enrollment)
    sign_in(phone, live_server, learner)
    phone.goto(f"{live_server.url}{reverse('courses:attempt', args=[course.slug, attempt.pk])}")

    phone.get_by_role("button", name="Submit answers").click()

    summary = phone.get_by_role("alert").filter(has_text="Your answers were not submitted")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Answer questions 1, 2")
    # The summary's link to a question takes focus to that question's first choice.
    summary.get_by_role("link", name="Question 2", exact=True).click()
    expect(focused(phone)).to_have_attribute("name", f"q{attempt.questions[1]['id']}")


def test_a_bad_licence_focuses_the_error_summary(phone: Page, live_server):
    sign_in(phone, live_server, learner_with())
    phone.goto(f"{live_server.url}{reverse('accounts:licence_add')}")
    phone.get_by_label("Profession").select_option(label="Professional counselor")
    phone.get_by_label("Jurisdiction", exact=False).first.select_option(label="Florida")
    # Blank but for spaces: the browser lets it through, the site does not.
    phone.get_by_label("Licence number").fill("   ")

    phone.get_by_role("button", name="Add licence").click()

    summary = phone.get_by_role("alert").filter(has_text="The licence was not saved")
    expect(summary).to_be_focused()
    number = summary.get_by_role("link", name="Licence number")
    expect(number).to_contain_text("This field is required.")
    number.click()
    expect(phone.get_by_label("Licence number")).to_be_focused()
