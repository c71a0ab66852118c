"""A lesson plays an episode uploaded to the file store, in real Chromium: from the folder on
this machine and from a private S3 bucket, the player loading and seeking by byte ranges."""

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.test import Client
from playwright.sync_api import Page

from accounts.tests.factories import UserFactory
from courses.models import Course, Episode, Lesson
from courses.tests.factories import EnrollmentFactory

pytestmark = pytest.mark.browser

FIXTURE = Path(django_settings.BASE_DIR, "fixtures", "demo_trainings.json")
DEMO_AUDIO = Path(
    django_settings.BASE_DIR, "courses/static/courses/demo/why-therapy-clients-ghost.ogg"
)
RUPTURES = "ruptures-ghosting-and-reengaging-stuck-clients"
MEDIA = "document.getElementById('lesson-media')"


def play_uploaded_episode(page: Page, live_server) -> dict:
    call_command("loaddata", FIXTURE, verbosity=0)
    with DEMO_AUDIO.open("rb") as audio:
        name = default_storage.save("episodes/ghost.ogg", File(audio, name="ghost.ogg"))
    course = Course.objects.get(slug=RUPTURES)
    Episode.objects.filter(pk=course.episode_id).update(media_url=f"/media/{name}")
    learner = UserFactory()
    EnrollmentFactory(user=learner, course=course)
    client = Client()
    client.force_login(learner)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
    ranges = []
    page.on(
        "response",
        lambda response: (
            "/media/" in response.url
            and ranges.append((response.status, response.headers.get("content-range")))
        ),
    )
    lesson = Lesson.objects.get(course=course, position=2)  # plays 7:20 to 10:06
    page.goto(f"{live_server.url}{lesson.get_absolute_url()}")
    page.wait_for_function(f"{MEDIA}.readyState >= 1", timeout=20_000)
    # Seeking to the chapter's start asks for the bytes there; the player then has audio to play.
    page.wait_for_function(
        f"Math.abs({MEDIA}.currentTime - {lesson.media_start_seconds}) < 1"
        f" && {MEDIA}.readyState >= 2",
        timeout=20_000,
    )
    return {
        "src": page.evaluate(f"{MEDIA}.currentSrc"),
        "duration": page.evaluate(f"{MEDIA}.duration"),
        "error": page.evaluate(f"{MEDIA}.error && {MEDIA}.error.code"),
        "ranges": ranges,
    }


def check(played: dict, live_server) -> None:
    assert played["src"].startswith(f"{live_server.url}/media/episodes/")
    assert played["error"] is None
    assert round(played["duration"]) == 1515  # 25:15, the whole episode known to the player
    assert played["ranges"], "the player never fetched the media"
    assert all(status in (200, 206, 304) for status, _range in played["ranges"])
    assert any(status == 206 for status, _range in played["ranges"])


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("heartbeats_stopped_at_teardown")
def test_a_lesson_plays_an_episode_uploaded_to_this_machine(
    page: Page, live_server, settings, tmp_path
):
    # The test server answers MEDIA_ROOT itself (a test-only convenience without byte ranges);
    # the store is kept in another folder so the site's own view serves it, as under gunicorn.
    settings.MEDIA_ROOT = tmp_path / "test-server"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "store"},
        },
    }

    check(play_uploaded_episode(page, live_server), live_server)
    assert (tmp_path / "store" / "episodes" / "ghost.ogg").is_file()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("heartbeats_stopped_at_teardown")
def test_a_lesson_plays_an_episode_from_the_private_bucket(page: Page, live_server, s3_storage):
    check(play_uploaded_episode(page, live_server), live_server)
    assert "episodes/ghost.ogg" in s3_storage.keys()  # noqa: SIM118 - a list of keys, not a dict
