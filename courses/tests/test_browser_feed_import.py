"""A course author, in real Chromium, turns a podcast's episode into a published course from the
podcast's feed, served by a local HTTP server (never the network): the feed's episodes listed
with their lengths, one chosen, its chapters as lessons and its transcript as captions; then
what the publish checklist asks, following its links, the post-test written on one page, and
Publish, which keeps the edit typed just before it. An anonymous visitor then finds the course
in the catalog. A feed address on a private network is refused on the page, the address kept."""

import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from functools import partial
from http.server import ThreadingHTTPServer

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from courses.models import Course, CourseStatus, Policy, PolicyKind
from courses.services.publishing import publish_checklist

from .factories import AccreditorFactory
from .test_browser_admin import admin_messages, sign_in_to_admin, staff_member
from .test_feed_import import FEED_HOST, FIXTURES, LocalSite, _Handler

SHOW = "Steady Ground: Conversations for Counselors"
BOUNDARIES = "Setting Boundaries Without Losing Rapport"
STALL = "When Sessions Stall: Working With Ambivalence"
QUESTIONS = "Listener Questions: Notes That Help, Notes That Hurt"
TRAILER = "Season Three Is Coming"
CHAPTERS = [
    "Welcome",
    "What a boundary is for",
    "Saying it out loud",
    "When a client pushes back",
    "Looking after yourself",
    "Takeaways",
]


@pytest.fixture
def podcast_host(tmp_path, settings) -> Iterator[LocalSite]:
    """The podcast's feed, chapters file and transcripts on a local server, which the fetcher
    is allowed to reach (only tests allow a loopback host). The audio stays where the feed
    says, on its host's https address, as real feeds have it: an http address would be flagged
    by the checklist as one learners' players cannot load, and the lengths come from the feed."""
    root = tmp_path / "podcast"
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(root)))
    local = LocalSite(base=f"http://127.0.0.1:{server.server_address[1]}", root=root)
    feed = (FIXTURES / "steady-ground.xml").read_text(encoding="utf-8")
    for folder in ("/feeds/", "/chapters/", "/transcripts/", "/episodes/"):
        feed = feed.replace(FEED_HOST + folder, local.base + folder)
    local.write("/feeds/steady-ground.xml", feed)
    for name, folder in [
        ("setting-boundaries.json", "chapters"),
        ("setting-boundaries.vtt", "transcripts"),
        ("when-sessions-stall.srt", "transcripts"),
    ]:
        local.write(f"/{folder}/{name}", (FIXTURES / name).read_bytes())
    settings.CEU_FETCH_ALLOW_HOSTS = ["127.0.0.1"]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield local
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=60)


@pytest.fixture
def author(settings):
    """A course author on a site its operators have set up: the policies published and an
    accreditor to be approved by (authors may only read both)."""
    settings.CEU_REQUIRE_STAFF_MFA = False
    for kind, label in PolicyKind.choices:
        Policy.objects.create(kind=kind, title=str(label), body=f"Our {label}.")
    AccreditorFactory(short_name="NBCC", name="National Board for Certified Counselors")
    return staff_member("Course authors", full_name="Avery Author")


def form_submissions(page: Page) -> list[str]:
    """Every form the author submits (a POST loading a page), as it happens."""
    posted: list[str] = []
    page.on(
        "request",
        lambda request: (
            posted.append(request.url)
            if request.method == "POST" and request.resource_type == "document"
            else None
        ),
    )
    return posted


@pytest.mark.django_db(transaction=True)
def test_an_author_imports_an_episode_from_a_feed_and_publishes_it(
    page: Page, browser: Browser, live_server, podcast_host, author
):
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in_to_admin(page, live_server, author)
    submissions = form_submissions(page)

    # The course list offers the feed; the feed's address lists its episodes.
    page.goto(f"{live_server.url}/admin/courses/course/")
    page.get_by_role("link", name="Import from a podcast feed").click()
    expect(page.get_by_role("heading", name="Import a course from a podcast feed")).to_be_visible()
    page.get_by_label("Feed address").fill(podcast_host.url("/feeds/steady-ground.xml"))
    page.get_by_role("button", name="List the episodes").click()
    expect(page.get_by_role("heading", name=f"{SHOW}: 4 episodes")).to_be_visible()
    rows = page.locator("table.episodes tbody tr")
    expect(rows).to_have_count(4)
    listed = [
        # Title, length: stated by the feed, read from the audio at import, or none to play.
        (BOUNDARIES, "25:15"),
        (STALL, "read from the audio"),
        (QUESTIONS, "12:30"),
        (TRAILER, "—"),
    ]
    for row, (title, length) in zip(rows.all(), listed, strict=True):
        expect(row.locator("td").nth(0)).to_contain_text(title)
        expect(row.locator("td").nth(2)).to_have_text(length)
    expect(rows.nth(0).locator("td").nth(3)).to_have_text("chapters file")
    expect(rows.nth(0).locator("td").nth(4)).to_have_text("VTT")
    expect(rows.nth(3)).to_contain_text("no audio file")
    expect(rows.nth(3).get_by_role("radio")).to_be_disabled()

    # The chosen episode becomes a draft, which opens with what was made of it.
    page.get_by_role("radio", name=BOUNDARIES).check()
    page.get_by_role("button", name="Import the chosen episode as a draft").click()
    expect(admin_messages(page, "success")).to_have_text(
        f"Imported 6 chapters as a draft: {BOUNDARIES}, captioned from the feed's transcript "
        "(6 cues)."
    )
    course = Course.objects.get()
    expect(page).to_have_url(f"{live_server.url}/admin/courses/course/{course.pk}/change/")
    expect(page.locator("#id_title")).to_have_value(BOUNDARIES)
    for index, chapter in enumerate(CHAPTERS):
        expect(page.locator(f"#id_lessons-{index}-title")).to_have_value(chapter)
    expect(page.locator("#lessons-group .inline-related:not(.empty-form)")).to_have_count(6)

    checklist = page.locator("#publish-checklist")
    expect(checklist).to_contain_text("Before this course can be published it needs:")
    missing = publish_checklist(course)
    lines = checklist.get_by_role("listitem")
    expect(lines).to_have_text(missing)
    # Captions came with the import: nothing about them, nor about the audio, is missing.
    expect(checklist).not_to_contain_text("caption")
    expect(checklist).not_to_contain_text("media")

    def follow(line: str, target: str) -> None:
        """A checklist line on this page: a link to where it is put right."""
        lines.filter(has_text=line).get_by_role("link").click()
        expect(page).to_have_url(re.compile(re.escape(target) + "$"))
        expect(page.locator(target)).to_be_in_viewport()

    follow("At least 3 measurable learning objectives", "#objectives-group")
    objectives = [
        "Describe what a clinical boundary protects in outpatient counseling.",
        "Apply a three-part script to state a boundary without apologising for it.",
        "Identify pushback to a boundary as information about the client's needs.",
    ]
    for index, text in enumerate(objectives):
        page.locator("#objectives-group").get_by_role(
            "button", name="Add another Learning objective"
        ).click()
        page.locator(f"#id_objectives-{index}-position").fill(str(index + 1))
        page.locator(f"#id_objectives-{index}-text").fill(text)

    follow("At least 3 references besides the source material", "#references-group")
    page.locator("#references-group").get_by_role("button", name="Add another Reference").click()
    page.locator("#id_references-2-position").fill("3")
    page.locator("#id_references-2-citation").fill(
        "Miller, W. R., & Rollnick, S. (2013). Motivational interviewing: Helping people change "
        "(3rd ed.). Guilford Press."
    )

    follow("The presenter's name and credentials.", "#id_presenter_name")
    page.locator("#id_presenter_name").fill("Rowan Hale")
    page.locator("#id_presenter_credentials").fill("PhD, LPC")
    follow("The name of the post-test's author", "#id_test_author")
    page.locator("#id_test_author").fill("Rowan Hale, PhD, LPC")

    # The description said nothing under the last chapter.
    follow("Text for lesson 6.", "#lessons-5")
    takeaways = (
        "Name the limit without apologising, tie it to the client's goals, say what you can do, "
        "and treat pushback as information."
    )
    page.locator("#id_lessons-5-body").fill(takeaways)

    follow("A current approval from an accreditor.", "#approvals-group")
    approvals = page.locator("#approvals-group")
    approvals.get_by_role("button", name="Add another Course approval").click()
    approvals.locator("#approvals-0 .select2-selection").click()
    page.locator(".select2-search__field").fill("NBCC")
    page.locator(".select2-results__option", has_text="NBCC").click()
    page.locator("#id_approvals-0-hours").fill("0.5")
    page.locator("#id_approvals-0-credit_type").fill("general")
    today = timezone.localdate()
    page.locator("#id_approvals-0-valid_from").fill((today - timedelta(days=1)).isoformat())
    page.locator("#id_approvals-0-valid_until").fill((today + timedelta(days=365)).isoformat())

    # The post-test is on a page of its own: the checklist's line saves the course form first.
    follow_post_test = lines.filter(has_text="At least 3 post-test questions")
    follow_post_test.get_by_role("link").click()
    expect(page.get_by_role("heading", name=f"Post-test: {BOUNDARIES}")).to_be_visible()
    expect(admin_messages(page, "info")).to_have_text(f"“{BOUNDARIES}” was saved.")
    questions = page.locator("#post_test_form .post-test-question")
    expect(questions).to_have_count(3)
    for index in range(3):
        question = questions.nth(index)
        number = index + 1
        question.get_by_label("Question:").fill(f"Which step of stating a boundary is {number}?")
        question.get_by_label("Explanation:").fill(f"Step {number} is named in lesson 3.")
        for place in range(1, 5):
            question.get_by_label(f"Question {number}, choice {place}", exact=True).fill(
                f"Step {place}"
            )
        question.get_by_label(f"Question {number}, choice {number} is correct").check()
    page.get_by_role("button", name="Save", exact=True).click()

    # Back on the course: nothing is missing.
    expect(admin_messages(page, "success")).to_have_text(
        f"The post-test of “{BOUNDARIES}” is saved: 3 questions."
    )
    expect(checklist).to_contain_text("Everything an accreditor asks for is here.")
    expect(checklist.get_by_role("listitem")).to_have_count(0)
    course.refresh_from_db()
    assert (course.presenter_name, course.test_author) == ("Rowan Hale", "Rowan Hale, PhD, LPC")
    assert list(course.objectives.values_list("text", flat=True)) == objectives
    assert course.lessons.get(position=6).body == takeaways
    assert course.approvals.get().accreditor.short_name == "NBCC"

    # One more edit typed, then Publish: saved, then published.
    bio = "Rowan Hale hosts Steady Ground and supervises counselors in training."
    page.locator("#id_presenter_bio").fill(bio)
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(admin_messages(page, "success")).to_have_text(f"“{BOUNDARIES}” is published.")
    expect(admin_messages(page, "info")).to_have_text(f"“{BOUNDARIES}” was saved.")
    expect(page.locator("#id_presenter_bio")).to_have_value(bio)
    expect(page.locator("#publish-checklist")).to_have_count(0)
    course.refresh_from_db()
    assert course.status == CourseStatus.PUBLISHED
    assert course.presenter_bio == bio

    # Five form submissions, each one needed:
    # 1. the feed's address, answered with its episodes;
    # 2. the chosen episode, imported as the draft;
    # 3. the course form, saved by the checklist's post-test line before leaving the page (the
    #    objectives, reference, presenter, lesson text and approval typed on it);
    # 4. the post-test, its three questions with their choices on one page;
    # 5. Publish, which saves the last typed edit and publishes.
    assert len(submissions) == 5, submissions

    # The episode's captions, from the feed's transcript, on its page.
    page.goto(f"{live_server.url}/admin/courses/episode/{course.episode_id}/change/")
    captions = page.locator(".field-captions_summary")
    expect(captions).to_contain_text("6 cues")
    expect(captions).to_contain_text("Welcome back to Steady Ground.")

    # Anyone finds it in the catalog.
    visitor = browser.new_context()
    try:
        anonymous = visitor.new_page()
        anonymous.goto(f"{live_server.url}/courses/")
        anonymous.get_by_role("link", name=BOUNDARIES).click()
        expect(anonymous.get_by_role("heading", level=1)).to_have_text(BOUNDARIES)
        expect(anonymous.locator("main")).to_contain_text("Rowan Hale")
    finally:
        visitor.close()


@pytest.mark.django_db(transaction=True)
def test_a_feed_on_a_private_network_is_refused_on_the_page(
    page: Page, live_server, author, settings
):
    # Even with the loopback host the tests' local servers use allowed, a private network is not.
    settings.CEU_FETCH_ALLOW_HOSTS = ["127.0.0.1"]
    address = "http://10.0.0.1/feed.xml"
    sign_in_to_admin(page, live_server, author)
    page.goto(f"{live_server.url}/admin/courses/course/import/feed/")

    page.get_by_label("Feed address").fill(address)
    page.get_by_role("button", name="List the episodes").click()

    expect(page.locator(".errornote")).to_have_text("The feed could not be imported.")
    expect(page.locator("ul.errorlist.nonfield")).to_have_text(
        "The feed is at “10.0.0.1”, which is a private address (10.0.0.1). Only addresses on the "
        "public internet are fetched: download the file and upload it instead."
    )
    expect(page.get_by_label("Feed address")).to_have_value(address)
    expect(page.locator("table.episodes")).to_have_count(0)
    assert Course.objects.count() == 0
