"""A certificate from the learner's last step to a board's check, in real Chromium: the learner
finishes a training and downloads the PDF the task rendered; its QR code opens the public verify
page, which a signed-out auditor sees go from Valid to Revoked; a code typed with a typo is told
apart, and one typed loosely finds the certificate."""

import hashlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from accounts.tests.factories import PASSWORD, LicenceFactory, UserFactory
from ceu.testing.services import in_ci
from courses.codes import ALPHABET, CodeProblem, parse_code
from courses.models import Certificate, Choice, Course, Enrollment, LessonProgress
from courses.services.credentials import revoke_certificate, verify_url

from .test_browser_post_test import answer_every_question

try:
    import zxingcpp
except ImportError:  # pragma: no cover - installed with the dev tools
    zxingcpp = None

FIXTURE = Path(django_settings.BASE_DIR, "fixtures", "demo_trainings.json")
COACHING = "coaching-versus-therapy-for-growth-oriented-clients"
REASON = "Attendance could not be confirmed."
# The attestation renders the PDF in the same request (tasks run in-process, after commit).
RENDER_TIMEOUT_MS = 60_000


def poppler(tool: str) -> str:
    """The full path of a poppler-utils tool; without it the test skips, or fails under CI=true
    as the suite's other missing tools do."""
    path = shutil.which(tool)
    if path is None:
        missing = f"{tool} is not installed: apt-get install poppler-utils"
        if in_ci():
            pytest.fail(f"CI=true and {missing}", pytrace=False)
        pytest.skip(missing)
    return path


def pdf_text(pdf: Path) -> str:
    """The PDF's text as pdftotext reads it, with runs of white space made single spaces."""
    out = subprocess.run([poppler("pdftotext"), str(pdf), "-"], check=True, capture_output=True)
    return " ".join(out.stdout.decode().split())


def qr_target(pdf: Path, text: str, workdir: Path) -> str:
    """The address the certificate's QR code holds: decoded from the page rendered at 200 dpi
    when zxing-cpp is installed, else the "Verify at <url>" printed beside the code."""
    if zxingcpp is None:
        compact = "".join(text.split())  # a long address may wrap in the text
        found = re.search(r"Verifyat(https?://\S+?/verify/CEU(?:-[0-9A-Z]{4}){4}/)", compact)
        assert found, text
        return found.group(1)
    from PIL import Image

    subprocess.run(
        [poppler("pdftoppm"), "-r", "200", "-png", str(pdf), str(workdir / "page")], check=True
    )
    (png,) = workdir.glob("page*.png")
    with Image.open(png) as image:
        codes = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(codes) == 1, [code.text for code in codes]
    return codes[0].text


def with_typo(code: str) -> str:
    """The code with one character of its random part replaced by another of the alphabet."""
    position = len("CEU-")
    wrong = ALPHABET[(ALPHABET.index(code[position]) + 1) % len(ALPHABET)]
    typo = code[:position] + wrong + code[position + 1 :]
    assert parse_code(typo) == (None, CodeProblem.TYPO), typo
    return typo


@pytest.mark.django_db(transaction=True)
def test_certificate_download_qr_verify_revoke_and_typed_code(
    page: Page, browser: Browser, live_server, settings, tmp_path
):
    """A licensed learner who has done the lessons and the time passes the post-test, evaluates
    and attests in the browser and sees "Training complete."; the course page then offers
    "Download certificate (PDF)" at once, and the file downloaded is a PDF byte for byte the
    one stored (same SHA-256) naming the learner, the training and the code. Its QR code opens
    the verify page, where a board auditor who is not signed in reads "Valid.", the learner's
    name and only the last four characters of the licence number; once staff revoke it, the
    same page says "Revoked." and why. At /verify/ the code typed with one wrong character is
    called a typo, and typed in lower case without dashes it leads to the revoked record."""
    settings.CEU_SITE_URL = live_server.url
    call_command("loaddata", FIXTURE, verbosity=0)
    course = Course.objects.get(slug=COACHING)
    learner = UserFactory(full_name="Dana Whitfield")
    LicenceFactory(
        user=learner, profession="professional_counselor", jurisdiction="FL", number="MH 12345"
    )
    enrollment = Enrollment.objects.create(
        user=learner, course=course, engaged_seconds=course.minimum_engaged_minutes * 60
    )
    for lesson in course.lessons.order_by("position"):
        LessonProgress.objects.create(
            enrollment=enrollment,
            lesson=lesson,
            engaged_seconds=lesson.minimum_seconds,
            completed_at=timezone.now(),
        )
    questions = course.questions.count()
    correct_choices = Choice.objects.filter(question__course=course, is_correct=True).count()

    # Sign in through the real login page.
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("#id_login").fill(learner.email)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", level=1, name="My trainings")).to_be_visible()

    # The post-test, passed at the first attempt.
    page.goto(f"{live_server.url}{course.get_absolute_url()}")
    page.get_by_role("link", name="Finish: post-test, evaluation, attestation").click()
    expect(page.get_by_role("heading", name="Finish the training")).to_be_visible()
    page.get_by_role("button", name="Start the post-test").click()
    expect(page.get_by_role("heading", name="Post-test, attempt 1")).to_be_visible()
    assert answer_every_question(page, right=True) == questions
    page.get_by_role("button", name="Submit answers").click()
    expect(page.get_by_role("heading", name="Result of attempt 1")).to_be_visible()
    expect(page.locator("#attempt-result")).to_contain_text("You scored 100%.")
    expect(page.get_by_text("correct answer", exact=True)).to_have_count(correct_choices)

    # The evaluation, rated throughout.
    page.get_by_role("link", name="Back to the post-test").click()
    expect(page.get_by_text("You passed the post-test.")).to_be_visible()
    page.get_by_role("link", name="Evaluate the training").click()
    expect(page.get_by_role("heading", name="Evaluate this training")).to_be_visible()
    groups = page.locator("main form fieldset")
    expect(groups).to_have_count(course.objectives.count() + 3)
    for group in groups.all():
        group.get_by_label("4", exact=True).check()
    page.get_by_role("button", name="Submit evaluation").click()
    expect(page.get_by_text("Evaluation submitted. Thank you.")).to_be_visible()

    # The attestation completes the training; the certificate is rendered in that request.
    page.get_by_label("I completed this training myself.").check()
    page.get_by_role("button", name="Attest").click(timeout=RENDER_TIMEOUT_MS)
    expect(page.get_by_text("Training complete.")).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    certificate = Certificate.objects.get(enrollment=enrollment)
    code = certificate.code
    assert certificate.is_rendered
    assert certificate.pdf_sha256

    # The course page offers the PDF at once, not a "being prepared" badge.
    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name=course.title).click()
    expect(page.get_by_role("heading", level=1, name=course.title)).to_be_visible()
    download_link = page.get_by_role("link", name="Download certificate (PDF)")
    expect(download_link).to_be_visible()
    expect(page.get_by_text("Certificate being prepared")).to_have_count(0)
    expect(page.get_by_text(code, exact=True)).to_be_visible()
    with page.expect_download() as info:
        download_link.click()
    download = info.value
    assert download.suggested_filename == f"{code}.pdf"
    pdf = tmp_path / "downloaded.pdf"
    download.save_as(pdf)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    assert hashlib.sha256(data).hexdigest() == certificate.pdf_sha256
    text = pdf_text(pdf)
    for printed in (learner.full_name, course.title, code):
        assert printed in text, (printed, text)

    # The QR code leads to the public verify page on this site.
    target = qr_target(pdf, text, tmp_path)
    assert target == verify_url(code) == f"{live_server.url}/verify/{code}/"

    # A board auditor, not signed in, opens it in a browser of their own.
    auditor_context = browser.new_context()
    try:
        auditor = auditor_context.new_page()
        auditor.goto(target)
        expect(auditor.get_by_role("link", name="Sign in", exact=True)).to_be_visible()
        expect(auditor.get_by_role("heading", name="Certificate verification")).to_be_visible()
        status = auditor.locator("#verify-status")
        expect(status).to_contain_text("Valid.")
        record = auditor.locator("main dl")
        expect(record).to_contain_text(learner.full_name)
        expect(record).to_contain_text(course.title)
        expect(record).to_contain_text("number ending …2345")
        expect(auditor.locator("main")).not_to_contain_text("MH 12345")

        # Staff revoke it; the auditor's page now says so, and why.
        staff = UserFactory(full_name="Registrar Ruiz", is_staff=True)
        revoke_certificate(certificate=certificate, reason=REASON, acting_user=staff)
        auditor.reload()
        expect(status).to_contain_text("Revoked.")
        expect(status).to_contain_text(f"Reason: {REASON}")
        expect(status).not_to_contain_text("Valid.")

        # Typed at /verify/: one wrong character is a typo ...
        auditor.goto(f"{live_server.url}/verify/")
        expect(auditor.get_by_role("heading", name="Verify a certificate")).to_be_visible()
        auditor.get_by_label("Certificate code").fill(with_typo(code))
        auditor.get_by_role("button", name="Verify").click()
        expect(auditor.get_by_text("This code has a typo")).to_be_visible()
        expect(auditor.locator("#verify-status")).to_have_count(0)

        # ... and the right code, in lower case and without dashes, finds the revoked record.
        auditor.get_by_label("Certificate code").fill(code.replace("-", "").lower())
        auditor.get_by_role("button", name="Verify").click()
        expect(auditor).to_have_url(f"{live_server.url}/verify/{code}/")
        expect(status).to_contain_text("Revoked.")
        expect(status).to_contain_text(REASON)
        expect(auditor.locator("main dl")).to_contain_text(learner.full_name)
    finally:
        auditor_context.close()
