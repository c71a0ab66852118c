"""The chapter player in real Chromium: captions loaded into the media element's track and in
step with the audio, the transcript following playback and moving it, speed, ±15 s and the
keyboard shortcuts, the live region's announcements, and the page without script."""

import re
from itertools import pairwise
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client
from playwright.sync_api import Page, expect

from accounts.tests.factories import UserFactory
from courses.models import Course, Episode, Lesson, LessonProgress
from courses.services import captions
from courses.tests.factories import EnrollmentFactory

pytestmark = pytest.mark.browser

FIXTURE = Path(django_settings.BASE_DIR, "fixtures", "demo_trainings.json")
AUDIO = "/static/courses/demo/why-therapy-clients-ghost.ogg"
RUPTURES = "ruptures-ghosting-and-reengaging-stuck-clients"
# Lesson 2 of the ruptures training plays the episode's chapter from 7:20 to 10:06.
START, END = 440, 606
MEDIA = "document.getElementById('lesson-media')"
SLACK = 0.6


def sign_in(page: Page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


@pytest.fixture
def lesson(live_server, page: Page) -> Lesson:
    """An enrolled learner on lesson 2 of the ruptures training, its media and track loaded."""
    call_command("loaddata", FIXTURE, verbosity=0)
    learner = UserFactory(full_name="Dana Whitfield")
    EnrollmentFactory(user=learner, course=Course.objects.get(slug=RUPTURES))
    sign_in(page, live_server, learner)
    lesson = Lesson.objects.select_related("course__episode").get(course__slug=RUPTURES, position=2)
    page.goto(f"{live_server.url}{lesson.get_absolute_url()}")
    page.wait_for_function(
        f"{MEDIA}.readyState >= 1 && {MEDIA}.textTracks.length === 1"
        f" && {MEDIA}.textTracks[0].cues && {MEDIA}.textTracks[0].cues.length > 0",
        timeout=15_000,
    )
    return lesson


def now(page: Page) -> float:
    return page.evaluate(f"{MEDIA}.currentTime")


def current_line(page: Page) -> dict:
    """The transcript line marked as being said, and what the media element says at once."""
    return page.evaluate(
        f"""() => {{
            const media = {MEDIA};
            const lines = document.querySelectorAll('[data-transcript] li[aria-current="true"]');
            const active = Array.from(media.textTracks[0].activeCues || []);
            return {{
                time: media.currentTime,
                count: lines.length,
                start: lines.length ? Number(lines[0].dataset.start) : null,
                end: lines.length ? Number(lines[0].dataset.end) : null,
                text: lines.length ? lines[0].querySelector('.transcript-text').textContent : null,
                active: active.map(cue => cue.text),
            }};
        }}"""
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("heartbeats_stopped_at_teardown")
def test_captions_load_into_the_track_and_follow_the_audio(page: Page, lesson: Lesson):
    """The track holds the chapter's cues on the audio's own clock; while it plays, the line
    the transcript marks is the cue the track says is showing."""
    media = page.locator("#lesson-media")
    track = page.locator("#lesson-media track")
    expect(track).to_have_attribute("kind", "captions")
    expect(track).to_have_attribute("srclang", "en")
    expect(track).to_have_attribute("label", "English")
    loaded = page.evaluate(
        f"""() => {{
            const track = {MEDIA}.textTracks[0];
            return {{
                kind: track.kind, language: track.language, mode: track.mode,
                readyState: {MEDIA}.querySelector('track').readyState,
                cues: Array.from(track.cues).map(c => [c.startTime, c.endTime, c.text]),
            }};
        }}"""
    )
    expected = captions.lesson_cues(lesson.course.episode, lesson)
    assert loaded["kind"] == "captions"
    assert loaded["language"] == "en"
    assert loaded["readyState"] == 2  # LOADED
    assert loaded["mode"] == "showing"  # the default track
    assert [(round(s, 3), round(e, 3), t) for s, e, t in loaded["cues"]] == [
        (cue.start, cue.end, cue.text) for cue in expected
    ]
    lines = page.locator("[data-transcript] li")
    expect(lines).to_have_count(len(expected))
    expect(lines.first).to_contain_text(expected[0].plain_text)

    page.evaluate(f"{MEDIA}.play()")
    page.wait_for_function(f"{MEDIA}.currentTime > {START + 6}", timeout=15_000)
    for _ in range(3):
        said = current_line(page)
        assert said["count"] == 1, said
        # The page marks the line a moment after the clock passes its start (timeupdate).
        assert said["start"] <= said["time"] + 0.3, said
        assert said["time"] < said["end"] + 0.3, said
        assert said["text"] in said["active"], said
        page.wait_for_timeout(1_500)
    # The highlight moved on with the audio.
    assert current_line(page)["start"] > expected[0].start
    page.evaluate(f"{MEDIA}.pause()")
    assert page.evaluate(f"{MEDIA}.controls") is False  # the chapter player replaced them
    expect(media).to_be_attached()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("heartbeats_stopped_at_teardown")
def test_a_transcript_line_moves_the_player_to_it(page: Page, lesson: Lesson):
    cues = captions.lesson_cues(lesson.course.episode, lesson)
    fifth, ninth = cues[4], cues[8]

    page.get_by_role("button", name=re.compile(re.escape(fifth.plain_text[:40]))).click()

    assert now(page) == pytest.approx(fifth.start, abs=0.05)
    expect(page.locator('[data-transcript] li[aria-current="true"]')).to_contain_text(
        fifth.plain_text
    )
    # From the keyboard: Tab to a line and press Enter.
    line = page.get_by_role("button", name=re.compile(re.escape(ninth.plain_text[:40])))
    line.focus()
    page.keyboard.press("Enter")
    assert now(page) == pytest.approx(ninth.start, abs=0.05)
    expect(page.locator('[data-transcript] li[aria-current="true"]')).to_contain_text(
        ninth.plain_text
    )
    # The slider shows the chapter's own time.
    slider = page.get_by_role("slider", name="Position in this lesson")
    into = int(ninth.start - START)
    expect(slider).to_have_value(str(into))
    expect(slider).to_have_attribute("max", str(END - START))
    expect(slider).to_have_attribute("aria-valuetext", f"{spoken(into)} of 2 minutes 46 seconds")


def spoken(seconds: int) -> str:
    """As a screen reader should read a point in the chapter: "1 minute 5 seconds"."""
    minutes, seconds = divmod(seconds, 60)
    parts = [f"{minutes} minute{'s' * (minutes != 1)}"] if minutes else []
    if seconds or not minutes:
        parts.append(f"{seconds} second{'s' * (seconds != 1)}")
    return " ".join(parts)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("heartbeats_stopped_at_teardown")
def test_speed_skips_and_keyboard_shortcuts(page: Page, lesson: Lesson):
    rate = f"{MEDIA}.playbackRate"
    expect(page.get_by_role("heading", name="Keyboard shortcuts")).to_be_visible()
    speed = page.get_by_label("Speed")
    expect(speed).to_have_value("1")

    speed.select_option("1.5")
    assert page.evaluate(rate) == 1.5
    page.locator("body").click(position={"x": 5, "y": 5})
    for key, expected in [(">", 1.75), (">", 2), (">", 2), ("<", 1.75)]:
        page.keyboard.press(key)
        assert page.evaluate(rate) == expected, key
    expect(speed).to_have_value("1.75")
    expect(page.locator("[data-player-announcer]")).to_have_text("Speed 1.75 times.")
    speed.select_option("0.75")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("<")
    assert page.evaluate(rate) == 0.75  # the slowest there is

    # ±15 s buttons, held to the chapter.
    assert now(page) == pytest.approx(START, abs=SLACK)
    page.get_by_role("button", name="Forward 15 seconds").click()
    assert now(page) == pytest.approx(START + 15, abs=SLACK)
    page.get_by_role("button", name="Back 15 seconds").click()
    page.get_by_role("button", name="Back 15 seconds").click()
    assert now(page) == pytest.approx(START, abs=SLACK)
    expect(page.get_by_text("0:00 / 2:46")).to_be_visible()

    # j and l skip; k and Space play and pause, away from any field.
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("l")
    page.keyboard.press("l")
    assert now(page) == pytest.approx(START + 30, abs=SLACK)
    page.keyboard.press("j")
    assert now(page) == pytest.approx(START + 15, abs=SLACK)
    page.keyboard.press("k")
    page.wait_for_function(f"!{MEDIA}.paused")
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    page.keyboard.press("k")
    page.wait_for_function(f"{MEDIA}.paused")
    page.keyboard.press(" ")
    page.wait_for_function(f"!{MEDIA}.paused")
    page.keyboard.press(" ")
    page.wait_for_function(f"{MEDIA}.paused")

    # Typing in a field is typing, not a shortcut.
    page.evaluate(
        "() => { const field = document.createElement('input'); field.id = 'note';"
        " field.setAttribute('aria-label', 'Note'); document.querySelector('main, body')"
        ".prepend(field); }"
    )
    before = now(page)
    page.get_by_label("Note").press_sequentially("k l j < > ")
    expect(page.get_by_label("Note")).to_have_value("k l j < > ")
    assert page.evaluate(f"{MEDIA}.paused")
    assert now(page) == pytest.approx(before, abs=0.05)
    assert page.evaluate(rate) == 0.75


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("heartbeats_stopped_at_teardown")
def test_the_live_region_announces_progress_and_completion(page: Page, live_server, settings):
    settings.CEU_HEARTBEAT_SECONDS = 1
    call_command("loaddata", FIXTURE, verbosity=0)
    learner = UserFactory()
    enrollment = EnrollmentFactory(user=learner, course=Course.objects.get(slug=RUPTURES))
    lesson = Lesson.objects.get(course__slug=RUPTURES, position=2)
    # A few seconds of engagement short of completing the lesson.
    LessonProgress.objects.create(
        enrollment=enrollment,
        lesson=lesson,
        engaged_seconds=lesson.minimum_seconds - 3,
        position_seconds=START,
        furthest_seconds=START,
    )
    sign_in(page, live_server, learner)
    page.goto(f"{live_server.url}{lesson.get_absolute_url()}")
    page.wait_for_function(f"{MEDIA}.readyState >= 1")
    status = page.get_by_role("status")
    expect(status).to_have_attribute("aria-live", "polite")
    expect(status).to_have_text("")

    # A quarter of the chapter: said once as it is passed.
    quarter = START + (END - START) / 4
    page.evaluate(f"{MEDIA}.currentTime = {quarter - 0.8}; {MEDIA}.play()")
    expect(status).to_have_text("25 percent of this lesson played.", timeout=5_000)
    # Then the server finds the lesson complete, and that is said too.
    expect(status).to_contain_text("Lesson complete. 1 of 5 lessons done.", timeout=15_000)
    expect(page.locator("[data-lesson-status]")).to_have_text("Lesson complete.")
    page.evaluate(f"{MEDIA}.pause()")
    assert LessonProgress.objects.get(enrollment=enrollment, lesson=lesson).completed_at


@pytest.mark.django_db(transaction=True)
def test_without_script_the_browsers_player_and_the_transcript_remain(browser, live_server):
    call_command("loaddata", FIXTURE, verbosity=0)
    learner = UserFactory()
    EnrollmentFactory(user=learner, course=Course.objects.get(slug=RUPTURES))
    lesson = Lesson.objects.get(course__slug=RUPTURES, position=2)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, live_server, learner)
    try:
        page.goto(f"{live_server.url}{lesson.get_absolute_url()}")
        assert page.locator("#lesson-media").get_attribute("controls") is not None
        expect(page.get_by_role("group", name="Lesson player")).to_be_hidden()
        expect(page.get_by_text("shows the whole episode")).to_be_visible()
        expect(page.get_by_role("heading", name="Transcript")).to_be_visible()
        expect(page.locator("[data-transcript] li").first).to_contain_text("0:00")
        expect(page.locator("[data-transcript] button")).to_have_count(0)
    finally:
        context.close()


@pytest.mark.django_db(transaction=True)
def test_the_demo_captions_are_in_step_with_the_demo_audio(page: Page, live_server):
    """Chromium decodes the demo episode: there is speech inside every cue, and silence in each
    chapter before its first cue and after its last, so no caption runs early or late."""
    call_command("loaddata", FIXTURE, verbosity=0)
    episode = Episode.objects.get()
    cues = captions.episode_cues(episode)
    chapter_ends = sorted(
        {(lesson.media_start_seconds, lesson.media_end_seconds) for lesson in Lesson.objects.all()}
    )
    quiet, onsets = [], []
    for start, end in chapter_ends:
        inside = captions.chapter_cues(cues, start=start, end=end)
        quiet.append((start, inside[0].start - 0.05))
        quiet.append((inside[-1].end + 0.05, end))
        # The words begin as the chapter's first caption appears, not a moment later.
        onsets.append((inside[0].start, inside[0].start + 0.25))
    page.goto(f"{live_server.url}/accounts/login/")

    measured = page.evaluate(
        """async ({url, cues, quiet, onsets}) => {
            const data = await (await fetch(url)).arrayBuffer();
            const rate = 8000;
            const context = new OfflineAudioContext(1, rate * 60 * 30, rate);
            const audio = await context.decodeAudioData(data);
            const samples = audio.getChannelData(0);
            const rms = ([from, to]) => {
                const a = Math.floor(from * rate), b = Math.floor(to * rate);
                let sum = 0;
                for (let i = a; i < b; i++) sum += samples[i] * samples[i];
                return Math.sqrt(sum / Math.max(1, b - a));
            };
            return {
                duration: audio.duration,
                cues: cues.map(rms),
                quiet: quiet.map(rms),
                onsets: onsets.map(rms),
            };
        }""",
        {
            "url": AUDIO,
            "cues": [[c.start, c.end] for c in cues],
            "quiet": quiet,
            "onsets": onsets,
        },
    )

    assert measured["duration"] == pytest.approx(episode.duration_seconds, abs=0.1)
    assert cues[-1].end <= measured["duration"]
    speaking = [
        (cue.plain_text[:30], level) for cue, level in zip(cues, measured["cues"], strict=True)
    ]
    assert min(level for _text, level in speaking) > 0.02, min(speaking, key=lambda s: s[1])
    assert max(measured["quiet"]) < 0.002, measured["quiet"]
    assert min(measured["onsets"]) > 0.02, measured["onsets"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("heartbeats_stopped_at_teardown")
def test_the_lesson_page_reads_in_order_to_a_screen_reader(page: Page, lesson: Lesson):
    """What a screen reader announces, read from Chromium's accessibility tree: the landmarks,
    one top heading naming the lesson, then the player's named controls, the transcript under
    its own heading, the live region, and the way on."""
    tree = page.locator("body").aria_snapshot()

    # Landmarks a screen reader jumps between.
    for landmark in ("banner", "navigation", "main", "contentinfo"):
        assert re.search(rf"^\s*- {landmark}\b", tree, re.MULTILINE), landmark
    headings = re.findall(r'- heading "([^"]+)" \[level=(\d)\]', tree)
    assert [level for _text, level in headings].count("1") == 1
    top = next(text for text, level in headings if level == "1")
    assert lesson.title in top
    assert ("Transcript", "2") in headings
    # Headings never skip a level going down.
    levels = [int(level) for _text, level in headings]
    assert all(b <= a + 1 for a, b in pairwise(levels)), headings
    # Every control of the player has a name that says what it does.
    main = page.get_by_role("main")
    expect(main.get_by_role("button", name="Play")).to_be_visible()
    expect(main.get_by_role("button", name=re.compile("back 15 seconds"))).to_be_visible()
    expect(main.get_by_role("button", name=re.compile("forward 15 seconds"))).to_be_visible()
    slider = main.get_by_role("slider")
    expect(slider).to_have_accessible_name(re.compile(r"\S"))
    assert "of 2 minutes 46 seconds" in (slider.get_attribute("aria-valuetext") or "")
    expect(main.get_by_role("combobox", name=re.compile("speed", re.IGNORECASE))).to_be_visible()
    # The transcript's lines are read as a list, each a control that moves the player.
    transcript = main.locator("[data-transcript]")
    expect(transcript.get_by_role("listitem").first).to_be_visible()
    # Announcements go to a polite live region, not to the page at every second.
    assert page.locator('[aria-live="polite"]').count() >= 1
    # The chapter list says which chapter this is.
    chapters = page.get_by_role("complementary", name="Chapters")
    current = chapters.locator('[aria-current="page"]')
    expect(current).to_have_count(1)
    expect(current).to_contain_text(lesson.title)
    # Nothing in the player is a bare, unnamed control.
    unnamed = page.evaluate(
        """() => Array.from(document.querySelectorAll('main button, main input, main select'))
            .filter(el => el.offsetParent !== null)
            .filter(el => !(el.getAttribute('aria-label') || el.labels?.length
                           || el.textContent.trim() || el.getAttribute('aria-labelledby')))
            .map(el => el.outerHTML.slice(0, 120))"""
    )
    assert unnamed == []
