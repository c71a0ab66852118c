"""Files in an S3-compatible bucket (CEU_STORAGE=s3), against a local moto server: certificate
PDFs and uploads go to the bucket and come back through the storage API, never through this
machine's disk, which web nodes and workers do not share."""

import hashlib
import io
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files import File
from django.core.files.storage import default_storage, storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from accounts.tests.factories import LicenceFactory
from courses.models import Certificate
from courses.services import credentials
from courses.services.catalog import media_file, media_file_seconds, media_is_served
from courses.services.importing import import_course
from courses.tests.factories import (
    AccreditorFactory,
    ApprovalFactory,
    CourseFactory,
    EnrollmentFactory,
)

DEMO_AUDIO = (
    Path(django_settings.BASE_DIR) / "courses/static/courses/demo/why-therapy-clients-ghost.ogg"
)


def files_under(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file()) if folder.exists() else []


@pytest.fixture
def issued(s3_storage, db, learner, django_capture_on_commit_callbacks):
    LicenceFactory(user=learner, profession="psychologist", jurisdiction="CA", number="PSY 12345")
    course = CourseFactory(slug="ghosting", title="Ruptures and ghosting")
    ApprovalFactory(course=course, accreditor=AccreditorFactory(short_name="APA"))
    enrollment = EnrollmentFactory(user=learner, course=course, completed_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        certificate = credentials.issue_certificate(enrollment=enrollment)
    return Certificate.objects.get(pk=certificate.pk)


def test_the_environment_chooses_the_bucket(s3_storage):
    options = django_settings.STORAGES["default"]["OPTIONS"]

    assert django_settings.STORAGES["default"]["BACKEND"] == "storages.backends.s3.S3Storage"
    assert options["bucket_name"] == s3_storage.name
    assert options["default_acl"] == "private"
    assert type(storages["default"]).__name__ == "S3Storage"


def test_an_issued_certificate_is_stored_in_the_bucket_not_on_disk(issued, s3_storage, settings):
    assert issued.is_rendered
    assert s3_storage.keys() == [f"certificates/{issued.code}.pdf"]
    assert files_under(Path(settings.MEDIA_ROOT)) == []
    stored = (
        s3_storage.server.client()
        .get_object(Bucket=s3_storage.name, Key=f"certificates/{issued.code}.pdf")["Body"]
        .read()
    )
    assert hashlib.sha256(stored).hexdigest() == issued.pdf_sha256


def test_nothing_in_the_bucket_is_public(issued, s3_storage):
    grants = s3_storage.server.client().get_object_acl(
        Bucket=s3_storage.name, Key=f"certificates/{issued.code}.pdf"
    )["Grants"]

    assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]
    assert all(grant["Grantee"].get("URI") is None for grant in grants)  # no AllUsers group


def test_the_download_streams_the_stored_bytes(issued, learner_client, s3_storage):
    response = learner_client.get(reverse("courses:certificate_pdf", args=[issued.code]))

    assert response.status_code == 200  # streamed by the site, never a redirect to the bucket
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == issued.pdf_sha256
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"


def test_an_uploaded_copy_still_matches_its_sha256(issued, client):
    with issued.pdf.open("rb") as stored:
        content = stored.read()

    page = client.post(
        reverse("courses:verify_pdf"), {"file": SimpleUploadedFile("certificate.pdf", content)}
    ).content.decode()

    assert "This is the unaltered original" in page
    assert issued.code in page


def test_the_certificate_email_attaches_the_stored_pdf(issued, mailoutbox):
    (attachment,) = mailoutbox[0].attachments

    assert attachment[0] == f"{issued.code}.pdf"
    assert hashlib.sha256(attachment[1]).hexdigest() == issued.pdf_sha256


def test_the_transcript_pdf_lists_the_certificate(issued, learner_client, settings):
    response = learner_client.get(reverse("courses:transcript_pdf"))

    assert response.status_code == 200
    pages = PdfReader(io.BytesIO(response.content)).pages
    text = "".join(page.extract_text() for page in pages)
    assert issued.code in text
    assert files_under(Path(settings.MEDIA_ROOT)) == []


@pytest.mark.django_db
def test_an_uploaded_episode_goes_to_the_bucket_and_its_length_is_read(s3_storage, settings):
    with DEMO_AUDIO.open("rb") as audio:
        name = default_storage.save("episodes/ghost.ogg", File(audio, name="ghost.ogg"))
    address = f"/{settings.MEDIA_URL.lstrip('/')}{name}"

    assert s3_storage.keys() == ["episodes/ghost.ogg"]
    assert files_under(Path(settings.MEDIA_ROOT)) == []
    assert media_is_served(address)
    assert round(media_file_seconds(media_file(address))) == 1515  # 25:15
    course = import_course(text="00:00 Opening\n20:00 Resources\n", media_url=address)
    assert course.episode.duration_seconds == 1515
    assert course.lessons.get(position=2).media_end_seconds == 1515


@pytest.mark.django_db
def test_a_missing_upload_does_not_play(s3_storage):
    assert not media_is_served("/media/episodes/never-uploaded.ogg")
    assert not media_is_served("/media/episodes")


def test_a_deployment_without_a_bucket_name_is_refused():
    # A typo in CEU_STORAGE or a missing bucket stops the site at start, not at the first upload.
    for environment, message in [
        ({"CEU_STORAGE": "s3"}, "AWS_STORAGE_BUCKET_NAME"),
        ({"CEU_STORAGE": "s4"}, "use 'filesystem' (the default) or 's3'"),
    ]:
        result = subprocess.run(
            [sys.executable, "-c", "import ceu.settings.base"],
            env={
                "PATH": "/usr/bin:/bin",
                "PYTHONPATH": str(django_settings.BASE_DIR),
                **environment,
            },
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode != 0
        assert message in result.stderr


@pytest.mark.django_db
def test_a_player_streams_ranges_of_an_episode_in_the_private_bucket(s3_storage, client, settings):
    with DEMO_AUDIO.open("rb") as audio:
        name = default_storage.save("episodes/ghost.ogg", File(audio, name="ghost.ogg"))
    data = DEMO_AUDIO.read_bytes()
    address = f"/{settings.MEDIA_URL.lstrip('/')}{name}"

    part = client.get(address, headers={"range": "bytes=4096-8191"})
    whole = client.get(address)

    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 4096-8191/{len(data)}"
    assert b"".join(part.streaming_content) == data[4096:8192]
    assert whole.status_code == 200
    assert hashlib.sha256(b"".join(whole.streaming_content)).digest() == (
        hashlib.sha256(data).digest()
    )
    assert client.get(address, headers={"if-none-match": whole["ETag"]}).status_code == 304
    # Streamed from the bucket: nothing lands on this machine's disk.
    assert files_under(Path(settings.MEDIA_ROOT)) == []


@pytest.mark.django_db
def test_a_record_in_the_bucket_is_not_served_as_media(s3_storage, client, issued):
    response = client.get(f"/media/{issued.pdf.name}")

    assert response.status_code == 404
    assert client.get("/media/episodes/never-uploaded.ogg").status_code == 404
