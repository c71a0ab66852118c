"""`manage.py check_certificate_files`, the last step of a restore drill: it passes only while
every rendered certificate's stored PDF hashes to its recorded SHA-256."""

import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.tests.factories import LicenceFactory
from courses.models import Certificate
from courses.services import credentials
from courses.tests.factories import (
    AccreditorFactory,
    ApprovalFactory,
    CourseFactory,
    EnrollmentFactory,
)


@pytest.fixture
def issued(db, learner, django_capture_on_commit_callbacks):
    LicenceFactory(user=learner, profession="psychologist", jurisdiction="CA")
    course = CourseFactory(slug="ghosting", title="Ruptures and ghosting")
    ApprovalFactory(course=course, accreditor=AccreditorFactory(short_name="APA"))
    enrollment = EnrollmentFactory(user=learner, course=course, completed_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        certificate = credentials.issue_certificate(enrollment=enrollment)
    return Certificate.objects.get(pk=certificate.pk)


def test_stored_pdfs_that_match_pass(issued, capsys):
    call_command("check_certificate_files")

    out = capsys.readouterr().out
    assert "Certificate PDFs checked: 1. Each matches its recorded SHA-256." in out


def test_a_changed_pdf_is_named(issued, capsys):
    name = issued.pdf.name
    issued.pdf.storage.delete(name)
    issued.pdf.storage.save(name, ContentFile(b"%PDF-1.7 something else"))

    with pytest.raises(CommandError, match="do not match their records: 1 of 1"):
        call_command("check_certificate_files")
    assert f"{issued.code}: its stored PDF does not match" in capsys.readouterr().err


def test_a_lost_pdf_is_named(issued, capsys):
    issued.pdf.storage.delete(issued.pdf.name)

    with pytest.raises(CommandError):
        call_command("check_certificate_files")
    assert f"{issued.code}: its PDF is missing" in capsys.readouterr().err


def test_a_lost_pdf_in_the_bucket_is_named(s3_storage, issued, capsys):
    assert s3_storage.keys() == [issued.pdf.name]
    issued.pdf.storage.delete(issued.pdf.name)

    with pytest.raises(CommandError):
        call_command("check_certificate_files")
    assert f"{issued.code}: its PDF is missing" in capsys.readouterr().err
