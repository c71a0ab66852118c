"""The restore drill of docs/backup.md, run for real: certificates issued and rendered on one
PostgreSQL server, the database dumped with pg_dump and the files copied, the original server and
files thrown away, everything restored into a fresh server and a fresh store, and every
certificate checked there: its stored PDF still hashes to its recorded SHA-256, and the public
verify pages still recognise it.

Each step runs as a deployer would run it, in its own process (`manage.py`, pg_dump,
pg_restore), so nothing carries over in memory. It starts its own PostgreSQL servers, so it needs
no DATABASE_URL; it runs in the SQLite pass only (marked `restore_drill`), the PostgreSQL pass
adding nothing to it."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ceu.testing.services import ServiceUnavailable, in_ci, postgres_bindir, postgres_server

pytestmark = pytest.mark.restore_drill

CERTIFICATES = 3
PROJECT = Path(__file__).resolve().parent.parent.parent
# Generous: migrating a fresh database takes a while on a loaded two-core machine.
STEP_TIMEOUT = 600
REPORT = "DRILL "


def _bindir() -> Path:
    try:
        return postgres_bindir()
    except ServiceUnavailable as missing:
        if in_ci():
            pytest.fail(f"CI=true and {missing}", pytrace=False)
        pytest.skip(str(missing))


def _run(command: list[str], *, environment: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        command,
        cwd=PROJECT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}"
    return result.stdout


def _site(environment: dict[str, str], *args: str) -> str:
    return _run([sys.executable, *args], environment=environment)


def _report(output: str):
    (line,) = [line for line in output.splitlines() if line.startswith(REPORT)]
    return json.loads(line.removeprefix(REPORT))


@pytest.fixture(params=["filesystem", "s3"])
def storage(request, tmp_path):
    """A way to make a fresh, empty store for the site's files, and to copy one to another,
    as docs/backup.md does it: `rsync -a` of the media folder, or `aws s3 sync` of the bucket."""
    if request.param == "filesystem":
        folders = iter(tmp_path / f"media-{n}" for n in range(1, 10))

        def fresh() -> dict[str, str]:
            folder = next(folders)
            folder.mkdir()
            return {"CEU_STORAGE": "filesystem", "MEDIA_ROOT": str(folder)}

        def copy(source: dict[str, str], target: dict[str, str]) -> None:
            shutil.copytree(source["MEDIA_ROOT"], target["MEDIA_ROOT"], dirs_exist_ok=True)

        def destroy(source: dict[str, str]) -> None:
            shutil.rmtree(source["MEDIA_ROOT"])

        def count(store: dict[str, str]) -> int:
            return sum(1 for path in Path(store["MEDIA_ROOT"]).rglob("*.pdf"))

    else:
        server = request.getfixturevalue("s3_server")
        client = server.client()

        def fresh() -> dict[str, str]:
            # MEDIA_ROOT points at an empty folder the site must never write to.
            unused = tmp_path / f"unused-{len(list(tmp_path.iterdir()))}"
            unused.mkdir()
            return {**server.environment(server.new_bucket()), "MEDIA_ROOT": str(unused)}

        def copy(source: dict[str, str], target: dict[str, str]) -> None:
            for key in server.keys(source["AWS_STORAGE_BUCKET_NAME"]):
                client.copy_object(
                    Bucket=target["AWS_STORAGE_BUCKET_NAME"],
                    Key=key,
                    CopySource={"Bucket": source["AWS_STORAGE_BUCKET_NAME"], "Key": key},
                )

        def destroy(source: dict[str, str]) -> None:
            bucket = source["AWS_STORAGE_BUCKET_NAME"]
            for key in server.keys(bucket):
                client.delete_object(Bucket=bucket, Key=key)
            client.delete_bucket(Bucket=bucket)

        def count(store: dict[str, str]) -> int:
            assert not any(Path(store["MEDIA_ROOT"]).iterdir()), "a file written to local disk"
            return len(server.keys(store["AWS_STORAGE_BUCKET_NAME"]))

    return fresh, copy, destroy, count


def test_every_certificate_verifies_after_a_restore(storage, tmp_path):
    fresh, copy, destroy, count = storage
    bindir = _bindir()
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "CEU_STORAGE", "DATABASE_URL", "MEDIA_ROOT"))
    }
    base["DJANGO_SETTINGS_MODULE"] = "ceu.settings.test"
    dump = tmp_path / "ceu.dump"

    # The running site: a database and a store with rendered certificates in them.
    original_store = fresh()
    with postgres_server() as original_url:
        original = {**base, **original_store, "DATABASE_URL": original_url}
        _site(original, "manage.py", "migrate", "--noinput", "-v", "0")
        issued = _report(_site(original, "-m", "ceu.tests.test_restore_drill", "issue"))
        assert len(issued) == CERTIFICATES
        assert count(original_store) == CERTIFICATES
        # The backup: docs/backup.md's commands.
        _run(
            [
                str(bindir / "pg_dump"),
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--file={dump}",
                f"--dbname={original_url}",
            ]
        )
        backup_store = fresh()
        copy(original_store, backup_store)
    # The disaster: the server is gone (stopped and removed above), and so are its files.
    destroy(original_store)

    restored_store = fresh()
    with postgres_server() as restored_url:
        _run(
            [
                str(bindir / "pg_restore"),
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                f"--dbname={restored_url}",
                str(dump),
            ]
        )
        copy(backup_store, restored_store)
        restored = {**base, **restored_store, "DATABASE_URL": restored_url}
        checked = _report(_site(restored, "-m", "ceu.tests.test_restore_drill", "check"))
        files = _site(restored, "manage.py", "check_certificate_files")

    assert sorted(checked) == sorted(issued)
    for code, sha256 in issued.items():
        result = checked[code]
        assert result["recorded_sha256"] == sha256
        assert result["stored_sha256"] == sha256, f"{code}: the stored PDF changed"
        assert result["upload_says_original"], f"{code}: verify-by-upload no longer knows it"
        assert result["verify_page_says_valid"], f"{code}: its verify page no longer says valid"
    assert count(restored_store) == CERTIFICATES
    assert f"Certificate PDFs checked: {CERTIFICATES}. Each matches its recorded SHA-256." in files


# --- The steps run inside the site, each in a process of its own ----------------------------------


def _issue() -> dict[str, str]:
    """Issue and render certificates for several learners; their codes and SHA-256s."""
    from django.utils import timezone

    from accounts.tests.factories import LicenceFactory, UserFactory
    from courses.models import Certificate
    from courses.services import credentials
    from courses.tests.factories import (
        AccreditorFactory,
        ApprovalFactory,
        CourseFactory,
        EnrollmentFactory,
    )

    course = CourseFactory(slug="ghosting", title="Ruptures and ghosting")
    ApprovalFactory(course=course, accreditor=AccreditorFactory(short_name="APA"))
    issued = {}
    for n in range(CERTIFICATES):
        learner = UserFactory(full_name=f"Learner Number {n + 1}")
        LicenceFactory(user=learner, profession="psychologist", jurisdiction="CA")
        enrollment = EnrollmentFactory(user=learner, course=course, completed_at=timezone.now())
        # Outside a transaction the render runs at once (tasks run in-process here).
        certificate = Certificate.objects.get(
            pk=credentials.issue_certificate(enrollment=enrollment).pk
        )
        assert certificate.is_rendered, "the certificate was not rendered"
        issued[certificate.code] = certificate.pdf_sha256
    return issued


def _check() -> dict[str, dict]:
    """Each certificate as the restored site sees it: its stored file's hash, and what the
    public verify pages say of it."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client
    from django.urls import reverse

    from courses.models import Certificate

    client = Client()
    checked = {}
    for certificate in Certificate.objects.order_by("code"):
        with certificate.pdf.open("rb") as stored:
            content = stored.read()
        upload = client.post(
            reverse("courses:verify_pdf"),
            {"file": SimpleUploadedFile("certificate.pdf", content)},
        ).content.decode()
        page = client.get(reverse("courses:verify_code", args=[certificate.code]))
        checked[certificate.code] = {
            "recorded_sha256": certificate.pdf_sha256,
            "stored_sha256": hashlib.sha256(content).hexdigest(),
            "upload_says_original": "This is the unaltered original" in upload
            and certificate.code in upload,
            "verify_page_says_valid": page.status_code == 200
            and "This certificate was issued here and stands." in page.content.decode(),
        }
    return checked


if __name__ == "__main__":
    import django

    django.setup()
    step = {"issue": _issue, "check": _check}[sys.argv[1]]
    print(REPORT + json.dumps(step()))
