"""A licensed clinician's journey through the demo trainings in real Chromium: sign in, find the
trainings that count for their licence, enroll, listen to a chapter while the progress bar moves,
leave, and resume the audio where they paused it."""

import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from playwright.sync_api import Page, expect

from accounts.tests.factories import PASSWORD, LicenceFactory, UserFactory
from courses.models import Course, Lesson, LessonProgress

FIXTURE = Path(django_settings.BASE_DIR, "fixtures", "demo_trainings.json")
RUPTURES = "ruptures-ghosting-and-reengaging-stuck-clients"
EMOTIONAL_SAFETY = "emotional-safety-trust-and-open-communication"
COACHING = "coaching-versus-therapy-for-growth-oriented-clients"
# Lesson 2 of the ruptures training teaches the episode's chapter from 7:20.
CHAPTER_START = 440
SLACK_SECONDS = 2

MEDIA = "document.getElementById('lesson-media')"


def media_time(page: Page) -> float:
    return page.evaluate(f"{MEDIA}.currentTime")


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("heartbeats_stopped_at_teardown")
def test_find_enroll_listen_leave_and_resume_where_paused(page: Page, live_server, settings):
    """A clinical social worker signs in, filters the catalog to what counts for their licence,
    enrolls in the ruptures training, plays lesson 2 from its chapter start while the progress
    bar rises, pauses, goes to My trainings, and resumes: the audio continues where it paused."""
    settings.CEU_HEARTBEAT_SECONDS = 1
    call_command("loaddata", FIXTURE, verbosity=0)
    # One engaged minute completes the time half of the bar, so it visibly moves within seconds.
    Course.objects.filter(slug=RUPTURES).update(minimum_engaged_minutes=1)
    titles = dict(Course.objects.values_list("slug", "title"))
    lesson_two = Lesson.objects.get(course__slug=RUPTURES, position=2)
    learner = UserFactory(full_name="Dana Whitfield")
    licence = LicenceFactory(
        user=learner, profession="clinical_social_worker", jurisdiction="NY", number="LCSW-0417"
    )

    # Sign in through the real login page.
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(learner.email)
    page.get_by_label(re.compile(r"^\s*Password\s*\*?\s*$")).fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", level=1, name="My trainings")).to_be_visible()

    # The catalog, narrowed to what counts for a clinical social worker's licence: the coaching
    # training is approved only by NBCC and CAMFT, which do not serve social workers.
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Trainings", exact=True
    ).click()
    expect(page.get_by_role("heading", name="Trainings", exact=True)).to_be_visible()
    for slug in (RUPTURES, EMOTIONAL_SAFETY, COACHING):
        expect(page.get_by_role("link", name=titles[slug])).to_be_visible()
    page.get_by_label("Counts for my licences").check()
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("2 trainings", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=titles[COACHING])).to_have_count(0)
    expect(page.get_by_role("link", name=titles[EMOTIONAL_SAFETY])).to_be_visible()
    expect(page.get_by_role("link", name=titles[RUPTURES])).to_be_visible()

    # The course page: what it teaches, and that it counts for this licence.
    page.get_by_role("link", name=titles[RUPTURES]).click()
    expect(page.get_by_role("heading", level=1, name=titles[RUPTURES])).to_be_visible()
    expect(page.get_by_role("heading", name="What you will learn")).to_be_visible()
    credit = page.get_by_role("listitem").filter(has_text=licence.number)
    expect(credit).to_contain_text("Counts")
    expect(credit).to_contain_text("Clinical social worker, New York")
    expect(credit).to_contain_text("0.5 clinical hours through ASWB ACE")

    # Enrolling opens the first lesson; the chapter list leads to the second.
    page.get_by_role("button", name="Enroll").click()
    expect(page).to_have_url(re.compile(rf"/courses/{RUPTURES}/lessons/1/$"))
    expect(page.get_by_text("You are enrolled.")).to_be_visible()
    chapters = page.get_by_role("complementary").filter(
        has=page.get_by_role("heading", name="Chapters")
    )
    chapters.get_by_role("link", name=f"2. {lesson_two.title}").click()
    expect(page).to_have_url(re.compile(rf"/courses/{RUPTURES}/lessons/2/$"))
    expect(page.get_by_role("heading", level=1, name=f"2. {lesson_two.title}")).to_be_visible()

    # Listening starts at the chapter, and the progress bar moves while it plays.
    bar = page.get_by_role("progressbar", name="Training progress")
    initial = int(bar.get_attribute("aria-valuenow"))
    page.evaluate(f"{MEDIA}.play()")
    assert media_time(page) == pytest.approx(CHAPTER_START, abs=SLACK_SECONDS)
    page.wait_for_function(
        "initial => Number(document.querySelector('[data-progress-bar]')"
        ".getAttribute('aria-valuenow')) > initial",
        arg=initial,
        timeout=15_000,
    )
    # Far enough in that resuming at the chapter's start could not pass for resuming here.
    page.wait_for_function(
        f"{MEDIA}.currentTime > {CHAPTER_START + 3 * SLACK_SECONDS}", timeout=15_000
    )
    assert page.evaluate(f"!{MEDIA}.paused")

    # Pause, and give the pause's heartbeat a moment to be stored.
    page.evaluate(f"{MEDIA}.pause()")
    paused_at = media_time(page)
    page.wait_for_timeout(1_500)
    progress = LessonProgress.objects.get(enrollment__user=learner, lesson__position=2)
    assert progress.position_seconds == pytest.approx(paused_at, abs=SLACK_SECONDS)

    # Leave for My trainings, then resume: the audio picks up where it was paused.
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="My trainings", exact=True
    ).click()
    expect(page.get_by_role("heading", name="My trainings")).to_be_visible()
    training = page.get_by_role("listitem").filter(has_text=titles[RUPTURES])
    expect(training).to_be_visible()
    resume = training.get_by_role("link", name=f"Resume: {lesson_two.title}")
    expect(resume).to_be_visible()
    resume.click()
    expect(page).to_have_url(re.compile(rf"/courses/{RUPTURES}/lessons/2/$"))
    page.wait_for_function(
        f"{MEDIA}.readyState >= 1 && {MEDIA}.currentTime > {CHAPTER_START}", timeout=15_000
    )
    assert media_time(page) == pytest.approx(paused_at, abs=SLACK_SECONDS)
