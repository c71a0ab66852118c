"""Every page's scripts run under the Content-Security-Policy: the main pages, loaded in real
Chromium, report no violation (an inline script, style or event handler would)."""

import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from playwright.sync_api import Page, expect

from accounts.tests.factories import PASSWORD, UserFactory
from courses.models import Course

pytestmark = pytest.mark.browser

FIXTURE = Path(django_settings.BASE_DIR, "fixtures", "demo_trainings.json")
RUPTURES = "ruptures-ghosting-and-reengaging-stuck-clients"

# Collects every violation the page reports, from before its first script runs.
LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    event.violatedDirective + " blocked " + (event.blockedURI || "inline") +
    " at " + event.sourceFile + ":" + event.lineNumber
  );
});
"""


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """The policy enforced, as in a learner's browser (the suite's other browser tests bypass it
    for Playwright's own page-side waits)."""
    return {**browser_context_args, "bypass_csp": False}


def violations(page: Page, console: list[str]) -> list[str]:
    page.wait_for_timeout(300)  # a deferred script's violation is reported after load
    return page.evaluate("window.__cspViolations") + console


def sign_in(page: Page, live_server, user, next_url: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/?next={next_url}")
    page.locator("#id_login").fill(user.email)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()


@pytest.mark.django_db(transaction=True)
def test_the_main_pages_run_under_the_policy(page: Page, live_server, settings):
    settings.CEU_REQUIRE_STAFF_MFA = False
    call_command("loaddata", FIXTURE, verbosity=0)
    course = Course.objects.get(slug=RUPTURES)
    learner = UserFactory(full_name="Dana Whitfield")
    operator = UserFactory(is_staff=True, is_superuser=True)
    console: list[str] = []
    page.on(
        "console",
        lambda m: console.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.add_init_script(LISTEN)

    sign_in(page, live_server, learner, "/courses/")
    expect(page.get_by_role("heading", name="Trainings", exact=True)).to_be_visible()
    assert violations(page, console) == [], "catalog"
    assert (
        "script-src 'self'"
        in page.request.get(live_server.url + "/courses/").headers["content-security-policy"]
    )

    page.goto(f"{live_server.url}/courses/{RUPTURES}/")
    expect(page.get_by_role("heading", level=1, name=course.title)).to_be_visible()
    assert violations(page, console) == [], "course page"
    page.get_by_role("button", name=re.compile("Enroll", re.IGNORECASE)).first.click()

    page.goto(f"{live_server.url}/courses/{RUPTURES}/lessons/2/")
    expect(page.locator("#lesson-media")).to_be_attached()
    page.get_by_role("button", name=re.compile("^Play", re.IGNORECASE)).first.click()
    page.wait_for_timeout(1000)
    assert violations(page, console) == [], "lesson with player"

    page.goto(f"{live_server.url}/courses/{RUPTURES}/post-test/")
    assert violations(page, console) == [], "post-test"

    page.goto(f"{live_server.url}/accounts/licences/add/")
    page.get_by_label("Profession").select_option(index=1)
    assert violations(page, console) == [], "licence form"

    page.goto(f"{live_server.url}/accounts/logout/")
    page.get_by_role("button", name="Sign Out").click()
    sign_in(page, live_server, operator, f"/admin/courses/course/{course.pk}/change/")
    expect(page.locator("#course_form")).to_be_visible()
    assert violations(page, console) == [], "admin course change form"

    page.goto(f"{live_server.url}/admin/go-live/")
    expect(page.get_by_role("heading", name="Go-live checklist")).to_be_visible()
    assert violations(page, console) == [], "go-live checklist"


@pytest.mark.django_db(transaction=True)
def test_the_staff_tools_with_their_own_styles_run_under_the_policy(
    page: Page, live_server, settings
):
    """The admin pages that style themselves (import, course report, message preview) take their
    styles from static files: an inline <style> is refused by the policy."""
    from django.urls import reverse

    settings.CEU_REQUIRE_STAFF_MFA = False
    call_command("loaddata", FIXTURE, verbosity=0)
    course = Course.objects.get(slug=RUPTURES)
    operator = UserFactory(is_staff=True, is_superuser=True)
    console: list[str] = []
    page.on(
        "console",
        lambda m: console.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.add_init_script(LISTEN)
    sign_in(page, live_server, operator, reverse("admin:courses_course_import"))
    expect(page.get_by_role("link", name="From a podcast feed")).to_be_visible()
    # The tabs are styled: the current one in bold, from the page's stylesheet.
    current = page.locator(".import-tabs li.current")
    expect(current).to_have_css("font-weight", "700")
    assert violations(page, console) == [], "import from show notes"

    for name, url in (
        ("import from a feed", reverse("admin:courses_course_import_feed")),
        ("course report", reverse("admin:courses_course_report", args=[course.pk])),
        ("message preview", reverse("admin:courses_message_preview", args=["nudge-3"])),
    ):
        page.goto(live_server.url + url)
        expect(page.locator("#content")).to_be_visible()
        assert violations(page, console) == [], name
