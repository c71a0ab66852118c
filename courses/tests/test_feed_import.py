"""Importing a course from a podcast feed served by a local HTTP server (never the network): the
feed's episodes, chapters (JSON file or description), transcript (VTT or SRT) and length (stated
or read from the audio), the admin's two posts, and the fetcher's refusals: other schemes,
private and loopback addresses, redirects to them, sizes and loops."""

import shutil
import socket
import threading
from dataclasses import dataclass
from datetime import date
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape

from accounts.tests.factories import UserFactory
from courses.models import Course, Episode, Lesson
from courses.services import safe_fetch
from courses.services.captions import lesson_cues
from courses.services.feeds import (
    FeedError,
    html_to_text,
    parse_duration,
    read_chapters,
    read_feed,
)
from courses.services.importing import PLACEHOLDER_BODY
from courses.services.safe_fetch import FetchError, fetch, non_public_kind

pytestmark = pytest.mark.django_db

FIXTURES = settings.BASE_DIR / "fixtures" / "feeds"
# The demo episode's audio: 25:15 long, served by the local server as the feed's enclosures.
AUDIO = (
    settings.BASE_DIR / "courses" / "static" / "courses" / "demo" / "why-therapy-clients-ghost.ogg"
)
FEED_HOST = "https://feeds.example.test"
IMPORT_FEED_URL = reverse("admin:courses_course_import_feed")

BOUNDARIES = "Setting Boundaries Without Losing Rapport"
STALL = "When Sessions Stall: Working With Ambivalence"
QUESTIONS = "Listener Questions: Notes That Help, Notes That Hurt"
TRAILER = "Season Three Is Coming"


class _Handler(SimpleHTTPRequestHandler):
    """Files from the site folder; /redirect?to=… answers 302 to that address, /loop to
    itself."""

    def do_GET(self):
        parts = urlsplit(self.path)
        if parts.path == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if parts.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", parse_qs(parts.query)["to"][0])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, *args):  # the test output stays readable
        pass


@dataclass
class LocalSite:
    base: str
    root: Path

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def write(self, path: str, content: str | bytes) -> str:
        target = self.root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode("utf-8")
        target.write_bytes(content)
        return self.url(path)

    def feed_text(self) -> str:
        return (
            (FIXTURES / "steady-ground.xml")
            .read_text(encoding="utf-8")
            .replace(FEED_HOST, self.base)
        )


@pytest.fixture
def site(tmp_path, settings):
    """The podcast's files on a local server, its feed pointing at it; the fetcher allowed to
    reach this one loopback host, as only the tests allow it."""
    root = tmp_path / "site"
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(root)))
    local = LocalSite(base=f"http://127.0.0.1:{server.server_address[1]}", root=root)
    local.write("/feeds/steady-ground.xml", local.feed_text())
    for name, folder in [
        ("setting-boundaries.json", "chapters"),
        ("setting-boundaries.vtt", "transcripts"),
        ("when-sessions-stall.srt", "transcripts"),
    ]:
        local.write(f"/{folder}/{name}", (FIXTURES / name).read_bytes())
    (root / "audio").mkdir()
    for name in ["setting-boundaries.ogg", "when-sessions-stall.ogg"]:
        shutil.copyfile(AUDIO, root / "audio" / name)
    settings.CEU_FETCH_ALLOW_HOSTS = ["127.0.0.1"]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield local
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=60)


@pytest.fixture(autouse=True)
def _no_second_factor(settings):
    settings.CEU_REQUIRE_STAFF_MFA = False


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def connections(monkeypatch):
    """Every address the fetcher opens a connection to."""
    opened: list[str] = []
    real = safe_fetch.open_connection

    def watched(address, port, timeout):
        opened.append(address)
        return real(address, port, timeout)

    monkeypatch.setattr(safe_fetch, "open_connection", watched)
    return opened


def listed(client, **data):
    """The first post: the feed, answered with its episodes."""
    return client.post(IMPORT_FEED_URL, {"action": "list", **data})


def choose(client, listing, title: str, **extra):
    """The second post: the episode whose title is given, from the listing's page."""
    feed = listing.context["feed"]
    episode = next(e for e in feed.episodes if e.title == title)
    form = listing.context["form"]
    data = {
        "action": "import",
        "feed_url": form["feed_url"].value() or "",
        "feed_token": form["feed_token"].value(),
        "episode": episode.key,
        **extra,
    }
    return client.post(IMPORT_FEED_URL, data)


def counts() -> tuple[int, int, int]:
    return Course.objects.count(), Episode.objects.count(), Lesson.objects.count()


# --- Reading the feed ---------------------------------------------------------------------------


def test_the_feed_lists_its_episodes_with_date_length_chapters_and_transcript(site):
    feed = read_feed(site.feed_text().encode("utf-8"))

    assert feed.title == "Steady Ground: Conversations for Counselors"
    assert [e.title for e in feed.episodes] == [BOUNDARIES, STALL, QUESTIONS, TRAILER]
    assert [e.published for e in feed.episodes] == [
        date(2025, 11, 4),
        date(2025, 10, 21),
        date(2025, 10, 7),
        date(2025, 9, 23),
    ]
    assert [e.duration_seconds for e in feed.episodes] == [1515, None, 750, None]
    boundaries, stall, questions, trailer = feed.episodes
    assert boundaries.chapters_url == site.url("/chapters/setting-boundaries.json")
    # The JSON transcript carries no timings this site reads; the VTT is kept.
    assert [(t.kind, t.url) for t in boundaries.transcripts] == [
        ("vtt", site.url("/transcripts/setting-boundaries.vtt"))
    ]
    assert [t.kind for t in stall.transcripts] == ["srt"]
    assert questions.transcripts == []
    assert questions.chapters_url == ""
    assert trailer.media_url == ""
    assert len({e.key for e in feed.episodes}) == 4


def test_the_admin_lists_the_episodes_of_a_feed_served_locally(staff_client, site):
    response = listed(staff_client, feed_url=site.url("/feeds/steady-ground.xml"))

    assert response.status_code == 200
    page = response.content.decode()
    for title in [BOUNDARIES, STALL, QUESTIONS, TRAILER]:
        assert escape(title) in page
    assert "25:15" in page
    assert "12:30" in page
    assert "read from the audio" in page
    assert "chapters file" in page
    assert "description" in page
    assert "VTT" in page
    assert "SRT" in page
    assert "no audio file" in page
    assert 'name="episode"' in page
    assert Course.objects.count() == 0


# --- Importing an episode -----------------------------------------------------------------------


def test_an_episode_with_a_chapters_file_and_a_vtt_transcript(staff_client, site):
    """Two posts: the feed, then the episode; the draft opens."""
    listing = listed(staff_client, feed_url=site.url("/feeds/steady-ground.xml"))
    response = choose(staff_client, listing, BOUNDARIES)

    course = Course.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:courses_course_change", args=[course.pk])
    assert course.title == BOUNDARIES
    assert course.slug == "setting-boundaries-without-losing-rapport"
    episode = course.episode
    assert episode.title == BOUNDARIES
    assert episode.media_url == site.url("/audio/setting-boundaries.ogg")
    assert episode.media_mime_type == "audio/ogg"
    assert episode.duration_seconds == 1515  # itunes:duration
    assert episode.show == "Steady Ground: Conversations for Counselors"
    assert episode.published_on == date(2025, 11, 4)
    assert episode.source_url == site.url("/episodes/setting-boundaries")

    lessons = list(course.lessons.order_by("position"))
    # From the chapters file: 95.5 s is whole seconds here, the sponsor chapter is not listed.
    assert [
        (lesson.title, lesson.media_start_seconds, lesson.media_end_seconds) for lesson in lessons
    ] == [
        ("Welcome", 0, 95),
        ("What a boundary is for", 95, 410),
        ("Saying it out loud", 410, 780),
        ("When a client pushes back", 780, 1120),
        ("Looking after yourself", 1120, 1380),
        ("Takeaways", 1380, 1515),
    ]
    # The description, as lesson text under its chapters, and its references.
    assert lessons[0].body.startswith("Boundaries are part of what makes therapy safe")
    assert lessons[1].body.startswith("A boundary is a promise about how the work will run")
    assert "- Name the limit without apologising for it." in lessons[2].body
    assert lessons[3].body.startswith("Pushback is information.")
    # The description says nothing under "Takeaways": that lesson is left for the checklist.
    assert [lesson.body == PLACEHOLDER_BODY for lesson in lessons] == [False] * 5 + [True]
    references = list(course.references.order_by("position"))
    assert [(r.doi, r.url) for r in references] == [
        ("10.5555/jcp.2021.0045", ""),
        ("", "https://example.org/rupture-repair"),
    ]
    # Captions from the VTT transcript, each lesson its own part.
    assert "A boundary is a promise about how the work will run." in episode.captions
    cues = lesson_cues(episode, lessons[2])
    assert len(cues) == 1
    assert cues[0].text.endswith("Say it early, say it plainly, and say it once.")
    shown = staff_client.get(response["Location"]).content.decode()
    assert escape(f"Imported 6 chapters as a draft: {BOUNDARIES}") in shown
    assert escape("captioned from the feed's transcript (6 cues)") in shown


def test_chapters_from_the_description_and_the_length_from_the_audio(staff_client, site):
    listing = listed(staff_client, feed_url=site.url("/feeds/steady-ground.xml"))
    choose(staff_client, listing, STALL)

    course = Course.objects.get()
    # No itunes:duration: the audio file was read for its length.
    assert course.episode.duration_seconds == 1515
    lessons = list(course.lessons.order_by("position"))
    assert [(lesson.title, lesson.media_start_seconds) for lesson in lessons] == [
        ("Welcome and why stalls happen", 0),
        ("Ambivalence as a stage of change", 220),
        ("Questions that open things up", 555),
        ("When to revisit the treatment plan", 990),
        ("Closing reflections", 1325),
    ]
    assert lessons[-1].media_end_seconds == 1515
    # The chapter list is the lessons, not their text.
    everything = "\n".join(lesson.body for lesson in lessons)
    assert "03:40" not in everything
    assert "Chapters" not in everything
    assert lessons[0].body.startswith("Every counselor knows the session that goes in circles.")
    assert lessons[2].body == (
        "Scaling questions and looking-back questions help a client notice movement they have "
        "missed."
    )
    # Captions from the SubRip transcript.
    assert [cue.text for cue in lesson_cues(course.episode, lessons[1])] == [
        "Ambivalence is a normal stage of change."
    ]


def test_an_episode_without_chapters_is_one_lesson(staff_client, site):
    listing = listed(staff_client, feed_url=site.url("/feeds/steady-ground.xml"))
    response = choose(staff_client, listing, QUESTIONS)

    course = Course.objects.get()
    lesson = course.lessons.get()
    assert (lesson.title, lesson.media_start_seconds, lesson.media_end_seconds) == (
        QUESTIONS,
        0,
        750,
    )
    assert lesson.body.startswith("Rowan answers listener questions about progress notes")
    assert course.episode.captions == ""
    shown = staff_client.get(response["Location"]).content.decode()
    assert escape("The feed gives no chapters for this episode") in shown


def test_an_uploaded_feed_file_is_kept_between_the_two_posts(staff_client, site):
    upload = SimpleUploadedFile(
        "steady-ground.xml", site.feed_text().encode("utf-8"), content_type="application/rss+xml"
    )
    listing = listed(staff_client, feed_file=upload)
    assert listing.status_code == 200

    response = choose(staff_client, listing, BOUNDARIES)

    assert response.status_code == 302
    assert Course.objects.get().lessons.count() == 6


# --- Importing again ----------------------------------------------------------------------------


def test_importing_the_same_episode_again_offers_the_existing_draft(staff_client, site):
    listing = listed(staff_client, feed_url=site.url("/feeds/steady-ground.xml"))
    choose(staff_client, listing, BOUNDARIES)
    first = Course.objects.get()

    listing = listed(staff_client, feed_url=site.url("/feeds/steady-ground.xml"))
    again = choose(staff_client, listing, BOUNDARIES)

    assert again.status_code == 409
    page = again.content.decode()
    assert "This episode has been imported before." in page
    assert reverse("admin:courses_course_change", args=[first.pk]) in page
    assert 'name="new_copy"' in page
    assert Course.objects.count() == 1
    # The choice is still made on the page.
    assert again.context["episodes"][0]["chosen"]

    copy = choose(staff_client, again, BOUNDARIES, new_copy="1")

    assert copy.status_code == 302
    assert sorted(Course.objects.values_list("slug", flat=True)) == [
        "setting-boundaries-without-losing-rapport",
        "setting-boundaries-without-losing-rapport-2",
    ]


def test_the_same_audio_under_a_new_title_is_the_same_episode(staff_client, site):
    listing = listed(staff_client, feed_url=site.url("/feeds/steady-ground.xml"))
    choose(staff_client, listing, BOUNDARIES)
    Course.objects.update(title="Boundaries, renamed", slug="boundaries-renamed")

    again = choose(staff_client, listing, BOUNDARIES)

    assert again.status_code == 409
    page = again.content.decode()
    assert escape("“Boundaries, renamed”") in page
    assert "It plays the same audio file." in page


# --- Bad input: a message on the form, nothing created, nothing typed lost -------------------


def _bad_feed(site, *, chapters: str | bytes | None = None, transcript: str | None = None) -> str:
    text = site.feed_text()
    if chapters is not None:
        site.write("/chapters/bad.json", chapters)
        text = text.replace("/chapters/setting-boundaries.json", "/chapters/bad.json")
    if transcript is not None:
        site.write("/transcripts/bad.vtt", transcript)
        text = text.replace("/transcripts/setting-boundaries.vtt", "/transcripts/bad.vtt")
    return site.write("/feeds/bad.xml", text)


@pytest.mark.parametrize(
    ("variant", "message"),
    [
        ({"chapters": "{not json"}, "chapters file (podcast:chapters) is not valid JSON"),
        ({"chapters": '{"version": "1.2.0"}'}, "has no “chapters” list"),
        ({"chapters": '{"chapters": [{"title": "No time"}]}'}, "gives chapter 1 no start time"),
        ({"chapters": '{"chapters": [{"startTime": NaN}]}'}, "gives chapter 1 no start time"),
        ({"chapters": "[" * 100_000}, "is not valid JSON"),
        ({"chapters": b'{"chapters": [{"startTime": 0, "title": "Caf\xe9"}]}'}, "is not UTF-8"),
        ({"transcript": "Not a caption file"}, "This is not a WebVTT file"),
        (
            {"transcript": "WEBVTT\n\n00:40:00.000 --> 00:40:05.000\nPast the end.\n"},
            "does not fit the episode",
        ),
    ],
)
def test_bad_files_of_an_episode_are_answered_on_the_form(staff_client, site, variant, message):
    feed_url = _bad_feed(site, **variant)
    listing = listed(staff_client, feed_url=feed_url)

    response = choose(staff_client, listing, BOUNDARIES)

    assert response.status_code == 400
    page = response.content.decode()
    assert escape(message) in page
    assert counts() == (0, 0, 0)
    # What the author gave is still there: the address, the list and the choice.
    assert f'value="{feed_url}"' in page
    assert response.context["episodes"][0]["chosen"]


def test_an_episode_can_be_imported_without_a_chapters_file_that_is_refused(
    staff_client, site, settings
):
    """The author does not own the feed: its chapters file on a private address is refused,
    and one more post imports the episode without it (chapters from the description, if any)."""
    feed_url = site.write(
        "/feeds/elsewhere.xml",
        site.feed_text().replace(
            site.url("/chapters/setting-boundaries.json"), "http://10.9.8.7/chapters.json"
        ),
    )
    listing = listed(staff_client, feed_url=feed_url)
    refused = choose(staff_client, listing, BOUNDARIES)

    assert refused.status_code == 400
    page = refused.content.decode()
    assert escape("which is a private address (10.9.8.7)") in page
    assert 'name="without_files"' in page
    assert counts() == (0, 0, 0)

    response = choose(staff_client, refused, BOUNDARIES, without_files="1")

    assert response.status_code == 302
    course = Course.objects.get()
    assert course.lessons.count() == 1
    assert course.episode.captions == ""
    shown = staff_client.get(response["Location"]).content.decode()
    assert escape("Imported without the feed's chapters file and transcript") in shown


def test_an_episode_without_audio_is_refused(staff_client, site):
    listing = listed(staff_client, feed_url=site.url("/feeds/steady-ground.xml"))

    response = choose(staff_client, listing, TRAILER)

    assert response.status_code == 400
    assert escape(f"“{TRAILER}” has no audio file (enclosure)") in response.content.decode()
    assert counts() == (0, 0, 0)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (
            "/missing.xml",
            "The feed could not be fetched: its server answered “404 File not found”.",
        ),
        ("/page.html", "This is a web page, not a podcast feed."),
        ("/notes.txt", "This is not a podcast feed"),
        ("/empty.xml", "The feed is empty."),
        ("/no-episodes.xml", "The feed lists no episodes with a title"),
    ],
)
def test_a_feed_address_that_gives_no_feed_is_answered_on_the_form(
    staff_client, site, path, message
):
    site.write("/page.html", "<!DOCTYPE html><html><body><p>Our podcast</p></body></html>")
    site.write("/notes.txt", "00:00 Opening\n01:00 Next\n")
    site.write("/empty.xml", "")
    site.write(
        "/no-episodes.xml",
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Empty</title></channel></rss>',
    )

    response = listed(staff_client, feed_url=site.url(path))

    assert response.status_code == 400
    page = response.content.decode()
    assert escape(message) in page
    assert f'value="{site.url(path)}"' in page  # the address stays to be corrected


def test_an_unreachable_feed_is_answered_on_the_form(staff_client, site):
    url = f"http://127.0.0.1:{_closed_port()}/feed.xml"

    response = listed(staff_client, feed_url=url)

    assert response.status_code == 400
    assert escape("The feed could not be reached at “127.0.0.1”.") in response.content.decode()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The submitted file is empty."),
        (b"\xff\xfe\x00\x01 not xml at all", "This is not a podcast feed"),
        (b"<rss>" + b" " * (5 * 1024 * 1024) + b"</rss>", "larger than 5 MB"),
    ],
)
def test_a_bad_feed_file_is_answered_on_the_form(staff_client, content, message):
    upload = SimpleUploadedFile("feed.xml", content, content_type="application/rss+xml")

    response = listed(staff_client, feed_file=upload)

    assert response.status_code == 400
    assert escape(message) in response.content.decode()


def test_a_feed_in_another_declared_encoding_is_read(staff_client, site):
    text = site.feed_text().replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
    text = text.replace("Season Three Is Coming", "Café Conversations Return")
    upload = SimpleUploadedFile("feed.xml", text.encode("latin-1", "xmlcharrefreplace"))

    response = listed(staff_client, feed_file=upload)

    assert response.status_code == 200
    assert escape("Café Conversations Return") in response.content.decode()


def test_a_post_too_large_to_read_is_answered_on_the_form(staff_client, settings):
    huge = "https://example.org/" + "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)

    response = listed(staff_client, feed_url=huge)

    assert response.status_code == 413
    assert escape("A feed file can be at most 5 MB.") in response.content.decode()


def test_the_feed_page_needs_the_add_permission(client):
    client.force_login(UserFactory(is_staff=True))

    assert client.get(IMPORT_FEED_URL).status_code == 403
    assert client.post(IMPORT_FEED_URL, {"feed_url": "https://example.org/feed"}).status_code == 403


# --- The fetcher's refusals ---------------------------------------------------------------------


def test_a_loopback_address_is_refused_unless_the_setting_allows_it(staff_client, site, settings):
    settings.CEU_FETCH_ALLOW_HOSTS = []
    url = site.url("/feeds/steady-ground.xml")

    with pytest.raises(FetchError, match="which is a loopback address"):
        fetch(url, max_bytes=1024 * 1024, what="the feed")
    response = listed(staff_client, feed_url=url)

    assert response.status_code == 400
    assert (
        escape(
            "The feed is at “127.0.0.1”, which is a loopback address (127.0.0.1). Only addresses "
            "on the public internet are fetched: download the file and upload it instead."
        )
        in response.content.decode()
    )


@pytest.mark.parametrize(
    ("target", "kind"),
    [
        ("http://10.0.0.1/feed.xml", "a private address (10.0.0.1)"),
        ("http://169.254.169.254/latest/meta-data/", "a link-local address (169.254.169.254)"),
        ("http://[::1]:8000/feed.xml", "a loopback address (::1)"),
        ("http://localhost/feed.xml", "a loopback address"),
    ],
)
def test_a_redirect_to_a_private_address_is_refused_without_connecting(
    site, connections, target, kind
):
    """The local server is allowed; where it redirects is checked again, before connecting."""
    url = site.url(f"/redirect?to={target}")

    with pytest.raises(FetchError, match=kind.replace("(", r"\(").replace(")", r"\)")):
        fetch(url, max_bytes=1024, what="the feed")

    assert connections == ["127.0.0.1"]


def test_a_name_that_resolves_to_a_private_address_is_refused(monkeypatch, connections):
    def resolves_inside(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.20.30.40", port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolves_inside)

    with pytest.raises(FetchError, match=r"“podcast\.example\.org”, which is a private address"):
        fetch("https://podcast.example.org/feed.xml", max_bytes=1024, what="the feed")
    assert connections == []


def test_the_connection_goes_to_the_address_that_was_checked(
    site, monkeypatch, connections, settings
):
    """A name is resolved once; the connection is to that address, with the name as Host."""
    port = int(site.base.rsplit(":", 1)[1])
    looked_up: list[str] = []

    def resolves(host, port_, *args, **kwargs):
        looked_up.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port_))]

    monkeypatch.setattr(socket, "getaddrinfo", resolves)
    settings.CEU_FETCH_ALLOW_HOSTS = ["podcast.example.org"]

    fetched = fetch(
        f"http://podcast.example.org:{port}/feeds/steady-ground.xml", max_bytes=1 << 20, what="x"
    )

    assert fetched.data.startswith(b"<?xml")
    assert looked_up.count("podcast.example.org") == 1
    assert connections == ["127.0.0.1"]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.org/feed.xml", "must start with https:// or http://"),
        ("file:///etc/passwd", "must start with https:// or http://"),
        ("gopher://example.org/", "must start with https:// or http://"),
        ("https://user:secret@example.org/feed", "carries a user name or password"),
        ("https:///feed.xml", "names no host"),
        ("http://[::1/feed", "is not a valid address"),
    ],
)
def test_only_http_and_https_addresses_are_fetched(url, message, connections):
    with pytest.raises(FetchError, match=message):
        fetch(url, max_bytes=1024, what="the feed")
    assert connections == []


def test_a_file_over_the_size_limit_is_refused(site):
    with pytest.raises(FetchError, match=r"The audio file is larger than 1 KB"):
        fetch(site.url("/audio/setting-boundaries.ogg"), max_bytes=1024, what="the audio file")


def test_a_redirect_loop_is_cut_short(site, connections):
    with pytest.raises(FetchError, match="redirects more than 5 times"):
        fetch(site.url("/loop"), max_bytes=1024, what="the feed")
    assert len(connections) == 6  # the address and five redirects, then no more


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("93.184.216.34", ""),
        ("2606:4700:4700::1111", ""),
        ("10.0.0.1", "a private"),
        ("172.16.5.4", "a private"),
        ("192.168.1.20", "a private"),
        ("127.0.0.1", "a loopback"),
        ("::1", "a loopback"),
        ("169.254.169.254", "a link-local"),
        ("fe80::1", "a link-local"),
        ("224.0.0.251", "a multicast"),
        ("0.0.0.0", "an unspecified"),  # noqa: S104 - an address refused, not bound
        ("240.0.0.1", "a reserved"),
        ("100.64.0.1", "a reserved"),
        ("::ffff:10.0.0.1", "a private"),
        ("fd00::1", "a private"),
    ],
)
def test_what_counts_as_public(address, kind):
    assert non_public_kind(address) == kind


# --- The pieces ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("1515", 1515), ("25:15", 1515), ("0:25:15", 1515), ("01:02:03", 3723), ("1515.6", 1515)],
)
def test_itunes_durations(value, seconds):
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["", "0", "soon", "-5", "99:99:99:99"])
def test_durations_that_say_nothing(value):
    assert parse_duration(value) is None


def test_a_chapters_file_in_order_without_hidden_chapters():
    chapters = read_chapters(
        b'{"version": "1.2.0", "chapters": ['
        b'{"startTime": 30, "title": "First topic"},'
        b'{"startTime": 12.9, "title": "Cold open"},'
        b'{"startTime": 60, "title": "Ad", "toc": false},'
        b'{"startTime": 90}]}'
    )

    assert chapters == [
        (0, "Introduction"),
        (12, "Cold open"),
        (30, "First topic"),
        (90, "Chapter 4"),
    ]


def test_a_chapters_file_that_lists_nothing_is_refused():
    with pytest.raises(FeedError, match="lists no chapters"):
        read_chapters(b'{"chapters": [{"startTime": 5, "title": "x", "toc": false}]}')


def test_html_show_notes_become_the_text_the_import_reads():
    text = html_to_text(
        "<p>Intro <b>bold</b> line.</p><h3>A heading</h3><ul><li>00:00 One</li><li>01:00 Two"
        "</li></ul><p>See <a href='https://example.org/x'>the study</a> and "
        "<a href='https://doi.org/10.1/a'>https://doi.org/10.1/a</a>.</p><script>bad()</script>"
    )

    assert text == (
        "Intro bold line.\n\nA heading\n\n• 00:00 One\n• 01:00 Two\n\n"
        "See [the study](https://example.org/x) and https://doi.org/10.1/a."
    )
