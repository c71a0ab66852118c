"""Uploaded episode media served to lesson players from the file store, in byte ranges: on the
file system here, and from a private S3 bucket in test_storage_s3.py. Learners' records kept in
the same store are never served by this address."""

import hashlib
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from courses.services import media_delivery

DEMO_AUDIO = (
    Path(django_settings.BASE_DIR) / "courses/static/courses/demo/why-therapy-clients-ghost.ogg"
)


@pytest.fixture
def store(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def episode(store) -> tuple[str, bytes]:
    """The demo episode uploaded to the store: its address on the site and its bytes."""
    with DEMO_AUDIO.open("rb") as audio:
        name = default_storage.save("episodes/ghost.ogg", File(audio, name="ghost.ogg"))
    return f"/media/{name}", DEMO_AUDIO.read_bytes()


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_the_whole_file_is_served_with_its_length_and_type(client, episode):
    address, data = episode

    response = client.get(address)

    assert response.status_code == 200
    assert response["Content-Type"] == "audio/ogg"
    assert response["Content-Length"] == str(len(data))
    assert response["Accept-Ranges"] == "bytes"
    assert hashlib.sha256(body(response)).digest() == hashlib.sha256(data).digest()


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=1000-1999", 1000, 1999),
        ("bytes=-500", None, None),  # the last 500 bytes
    ],
)
def test_a_player_gets_exactly_the_bytes_it_asks_for(client, episode, header, first, last):
    address, data = episode
    if first is None:
        first, last = len(data) - 500, len(data) - 1

    response = client.get(address, headers={"range": header})

    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {first}-{last}/{len(data)}"
    assert response["Content-Length"] == str(last - first + 1)
    assert body(response) == data[first : last + 1]


def test_a_range_past_the_end_is_trimmed_to_the_file(client, episode):
    address, data = episode

    response = client.get(address, headers={"range": f"bytes={len(data) - 10}-{len(data) + 50}"})

    assert response.status_code == 206
    assert body(response) == data[-10:]


def test_an_open_ended_range_answers_one_part_so_no_listener_holds_a_worker(
    client, store, monkeypatch
):
    monkeypatch.setattr(media_delivery, "MAX_RANGE_BYTES", 1000)
    name = default_storage.save("episodes/long.mp3", ContentFile(bytes(range(256)) * 20))

    response = client.get(f"/media/{name}", headers={"range": "bytes=2000-"})

    assert response.status_code == 206
    assert response["Content-Range"] == "bytes 2000-2999/5120"
    assert body(response) == (bytes(range(256)) * 20)[2000:3000]
    assert response["Content-Type"] == "audio/mpeg"


def test_a_range_starting_past_the_end_is_refused_with_the_size(client, episode):
    address, data = episode

    response = client.get(address, headers={"range": f"bytes={len(data)}-"})

    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(data)}"


@pytest.mark.parametrize(
    "header", ["bytes=0-1,5-9", "pages=1-2", "bytes=9-3", "bytes=x-y", "bytes=-", "\x00"]
)
def test_ranges_it_cannot_serve_get_the_whole_file(client, episode, header):
    address, data = episode

    response = client.get(address, headers={"range": header})

    assert response.status_code == 200
    assert body(response) == data


def test_a_cached_copy_is_confirmed_and_a_stale_range_gets_the_new_file(client, episode):
    address, data = episode
    etag = client.get(address)["ETag"]

    assert client.get(address, headers={"if-none-match": etag}).status_code == 304
    assert client.get(address, headers={"if-none-match": '"other"'}).status_code == 200
    # If-Range with an old version's tag: the whole current file, not a slice of it.
    stale = client.get(address, headers={"range": "bytes=0-9", "if-range": '"old"'})
    assert stale.status_code == 200
    fresh = client.get(address, headers={"range": "bytes=0-9", "if-range": etag})
    assert fresh.status_code == 206
    assert body(fresh) == data[:10]


def test_head_answers_the_length_without_the_body(client, episode):
    address, data = episode

    response = client.head(address)

    assert response.status_code == 200
    assert response["Content-Length"] == str(len(data))
    assert body(response) == b""


def test_only_reading_is_allowed(client, episode):
    address, _data = episode

    assert client.post(address).status_code == 405


def test_a_certificate_in_the_same_store_is_not_served(client, store):
    # Learners' records share the store with the media; only their own views serve them.
    name = default_storage.save("certificates/ABCD-1234.pdf", ContentFile(b"%PDF-1.7 record"))

    response = client.get(f"/media/{name}")

    assert response.status_code == 404
    assert b"%PDF" not in response.content


@pytest.mark.parametrize(
    "address",
    [
        "/media/episodes/never-uploaded.ogg",
        "/media/episodes/",
        "/media/episodes/../certificates/ABCD-1234.pdf",
        "/media/episodes/%2e%2e/certificates/ABCD-1234.pdf",
        "/media/episodes//ghost.ogg",
        "/media/episodes/ghost.ogg%00.txt",
        "/media/",
    ],
)
def test_missing_and_crafted_names_answer_404(client, episode, address):
    default_storage.save("certificates/ABCD-1234.pdf", ContentFile(b"%PDF-1.7 record"))

    response = client.get(address)

    assert response.status_code == 404
    assert b"%PDF" not in response.content


def test_publishing_accepts_only_media_the_site_serves(store):
    from courses.services.catalog import media_is_served

    default_storage.save("episodes/ghost.ogg", ContentFile(b"OggS"))
    default_storage.save("certificates/ABCD-1234.pdf", ContentFile(b"%PDF"))

    assert media_is_served("/media/episodes/ghost.ogg")
    assert not media_is_served("/media/certificates/ABCD-1234.pdf")
