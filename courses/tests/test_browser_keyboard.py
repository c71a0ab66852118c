"""A learner who uses no mouse, in real Chromium: from the catalog to the certificate with Tab,
Shift+Tab, Enter, Space and the arrow keys alone, seeing at every stop where the focus is.

Only the first page is opened by address. The lessons' listening time is credited by the test
between steps, as the board-rules journey does; the player's own keys have their own tests."""

import re
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from playwright.sync_api import Locator, Page, Request, expect

from accounts.tests.factories import PASSWORD, UserFactory
from courses.models import Choice, Course, Enrollment
from courses.tests.factories import finish_lessons

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIXTURE = Path(django_settings.BASE_DIR, "fixtures", "demo_trainings.json")
COACHING = "coaching-versus-therapy-for-growth-oriented-clients"
# More tab stops than any page here has: a target not reached by then is not reachable.
MAX_TAB_STOPS = 120

# A focus indicator: an outline (the browser's own "auto" ring, or one at least 2 px wide), or a
# box shadow no fainter than half opaque (Bootstrap's 25% glow vanishes on the blue navbar).
FOCUS_RING = """() => {
    const element = document.activeElement;
    if (!element || element === document.body) return null;
    const style = getComputedStyle(element);
    const alpha = colour => {
        const match = /rgba?\\(([^)]*)\\)/.exec(colour || "");
        if (!match) return 0;
        const parts = match[1].split(",");
        return parts.length > 3 ? parseFloat(parts[3]) : 1;
    };
    const outline = style.outlineStyle === "auto" || (
        style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2
        && alpha(style.outlineColor) > 0
    );
    const shadow = style.boxShadow !== "none" && alpha(style.boxShadow) >= 0.5;
    const label = element.innerText || element.value || element.getAttribute("aria-label") || "";
    return {
        visible: outline || shadow,
        what: `${element.tagName.toLowerCase()} "${label.trim().slice(0, 60)}"`,
        outline: `${style.outlineStyle} ${style.outlineWidth} ${style.outlineColor}`,
        shadow: style.boxShadow,
    };
}"""


def assert_focus_visible(page: Page) -> None:
    """The focused element shows that it has the focus."""
    focus = page.evaluate(FOCUS_RING)
    assert focus is not None, "nothing has the focus"
    assert focus["visible"], f"the focus on {focus['what']} is not visible: {focus}"


def is_focused(locator: Locator) -> bool:
    return locator.evaluate("element => element === document.activeElement")


def press(page: Page, key: str) -> None:
    page.keyboard.press(key)
    assert_focus_visible(page)


def tab_to(page: Page, target: Locator, *, backwards: bool = False) -> None:
    """Tab (or Shift+Tab) until the target has the focus, checking the focus is visible at every
    stop on the way."""
    expect(target).to_be_visible()
    key = "Shift+Tab" if backwards else "Tab"
    for _stop in range(MAX_TAB_STOPS):
        press(page, key)
        if is_focused(target):
            return
    raise AssertionError(f"{key} never reaches {target}")


def follow(page: Page, target: Locator, *, backwards: bool = False, key: str = "Enter") -> None:
    """Tab to a link or button and activate it from the keyboard, waiting for the next page."""
    tab_to(page, target, backwards=backwards)
    with page.expect_navigation():
        page.keyboard.press(key)


def answer_right_by_keyboard(page: Page) -> int:
    """Answer every question of the attempt page correctly: arrow keys within a radio group
    (they move and choose), Space on each right box of a choose-all question."""
    fieldsets = page.locator("main form fieldset")
    for index in range(fieldsets.count()):
        inputs = fieldsets.nth(index).locator("input")
        ids = [int(value) for value in inputs.evaluate_all("all => all.map(i => i.value)")]
        right = set(Choice.objects.filter(pk__in=ids, is_correct=True).values_list("pk", flat=True))
        if inputs.first.get_attribute("type") == "radio":
            # Tab enters the group on its first choice; each arrow press moves on and chooses.
            tab_to(page, inputs.first)
            (answer,) = right
            steps = ids.index(answer)
            if steps == 0:
                press(page, "Space")
            for _step in range(steps):
                press(page, "ArrowDown")
        else:
            for position, choice in enumerate(ids):
                tab_to(page, inputs.nth(position))
                if choice in right:
                    press(page, "Space")
        checked = {
            int(value)
            for value in fieldsets.nth(index)
            .locator("input:checked")
            .evaluate_all("all => all.map(i => i.value)")
        }
        assert checked == right, f"question {index + 1}: chose {checked}, right is {right}"
    return fieldsets.count()


@pytest.fixture
def heartbeats(page: Page) -> set[Request]:
    """The lesson pages' heartbeats still in flight: the test waits for none before it writes,
    since the live server shares the test's database connection."""
    in_flight: set[Request] = set()
    page.on("request", lambda r: in_flight.add(r) if r.url.endswith("/heartbeat/") else None)
    page.on("requestfinished", lambda r: in_flight.discard(r))
    page.on("requestfailed", lambda r: in_flight.discard(r))
    return in_flight


def test_a_keyboard_user_goes_from_the_catalog_to_the_certificate(
    page: Page, live_server, heartbeats: set[Request]
):
    call_command("loaddata", FIXTURE, verbosity=0)
    course = Course.objects.get(slug=COACHING)
    learner = UserFactory(full_name="Dana Whitfield")
    main = page.locator("main")

    # Sign in, then on to the catalog. The first Tab reaches the skip link, shown as it takes
    # the focus; Enter on it moves the focus past the navigation, into the page's content.
    page.goto(f"{live_server.url}/accounts/login/?next=/courses/")
    skip = page.get_by_role("link", name="Skip to main content")
    on_screen = "link => link.getBoundingClientRect().bottom > 0"
    assert not skip.evaluate(on_screen), "the skip link shows before it has the focus"
    press(page, "Tab")
    assert is_focused(skip)
    page.wait_for_function(on_screen, arg=skip.element_handle(), timeout=2_000)
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    press(page, "Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null"), (
        "after the skip link, Tab goes to the navigation again"
    )
    tab_to(page, page.get_by_label("Email"))
    page.keyboard.type(learner.email)
    press(page, "Tab")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1, name="Trainings")).to_be_visible()

    # The course, from its card in the catalog; Enroll is a button, pressed with Space.
    follow(page, main.get_by_role("link", name=course.title))
    expect(page.get_by_role("heading", level=1, name=course.title)).to_be_visible()
    follow(page, main.get_by_role("button", name="Enroll"), key="Space")
    expect(page).to_have_url(re.compile(rf"/courses/{COACHING}/lessons/1/$"))
    expect(page.get_by_text("You are enrolled.")).to_be_visible()

    # The lessons, one after the other by their Next links.
    lessons = list(course.lessons.order_by("position"))
    for lesson in lessons[1:]:
        follow(page, main.locator("a[rel=next]"))
        expect(page.get_by_role("heading", level=1, name=f"{lesson.position}. {lesson.title}"))
        expect(page).to_have_url(re.compile(rf"/lessons/{lesson.position}/$"))
    # Back to the training by the breadcrumb, Shift+Tab from the end of the page. From here on
    # no lesson page is open: no beat is sent, and the ones in flight are waited for.
    page.route("**/heartbeat/", lambda route: route.abort())
    follow(
        page,
        main.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name=course.title),
        backwards=True,
    )
    deadline = time.monotonic() + 5
    while heartbeats and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    # The listening, credited (the lesson journey plays it for real).
    finish_lessons(Enrollment.objects.get(user=learner, course=course))

    # My trainings, from the navigation: the lessons are done and the training ready to finish.
    follow(
        page,
        page.get_by_role("navigation", name="Main").get_by_role("link", name="My trainings"),
        backwards=True,
    )
    expect(main).to_contain_text(f"{len(lessons)} of {len(lessons)} lessons done")
    follow(page, main.get_by_role("link", name="Finish the training"))
    expect(page.get_by_role("heading", level=1, name="Finish the training")).to_be_visible()

    # The post-test, answered with the arrow keys and Space.
    follow(page, main.get_by_role("button", name="Start the post-test"))
    expect(page.get_by_role("heading", name="Post-test, attempt 1")).to_be_visible()
    assert answer_right_by_keyboard(page) == course.questions.count()
    follow(page, main.get_by_role("button", name="Submit answers"))
    expect(page.locator("#attempt-result")).to_contain_text("You passed.")

    # The evaluation: each rating a radio group, 4 reached with the arrow keys.
    follow(page, main.get_by_role("link", name="Back to the post-test"))
    follow(page, main.get_by_role("link", name="Evaluate the training"))
    groups = page.locator("main form fieldset")
    for index in range(groups.count()):
        tab_to(page, groups.nth(index).locator("input").first)
        for _step in range(3):
            press(page, "ArrowRight")
        expect(groups.nth(index).get_by_label("4", exact=True)).to_be_checked()
    tab_to(page, page.get_by_label("Comments (optional)"))
    page.keyboard.type("Clear, and every control answered the keyboard.")
    follow(page, main.get_by_role("button", name="Submit evaluation"))
    expect(page.get_by_text("Evaluation submitted. Thank you.")).to_be_visible()

    # The attestation: the box ticked with Space, then Attest.
    box = page.get_by_label("I completed this training myself.")
    tab_to(page, box)
    press(page, "Space")
    expect(box).to_be_checked()
    follow(page, main.get_by_role("button", name="Attest"))
    expect(page.get_by_text("Training complete.")).to_be_visible()

    # The certificate, from the training's page: Enter on its link downloads the PDF.
    follow(
        page,
        main.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name=course.title),
        backwards=True,
    )
    certificate = Enrollment.objects.get(user=learner, course=course).certificates.get()
    link = main.get_by_role("link", name="Download certificate (PDF)")
    tab_to(page, link)
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    assert certificate.code in download.value.suggested_filename
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF-")
