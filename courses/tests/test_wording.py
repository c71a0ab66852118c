"""What a learner reads: hours in the right number ("1 CE hour", "2 CE hours") on every page, PDF
and e-mail; a course's summary not printed twice; the way on from the last lesson and from a
completed training; e-mails that name the provider (never the host and port) and the code a
reissued certificate replaces; the transcript PDF marked as a sample while the site is one."""

import html
import io
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from accounts.tests.factories import PASSWORD, LicenceFactory, UserFactory
from courses.models import Certificate, Enrollment, Provider
from courses.services import credentials
from courses.tests.factories import (
    AccreditorFactory,
    ApprovalFactory,
    CourseFactory,
    EnrollmentFactory,
)

pytestmark = pytest.mark.django_db

PROVIDER_NAME = "Harbor Counseling Institute"


def text_of(response) -> str:
    """The page as a reader sees it: tags dropped, entities decoded, whitespace collapsed."""
    body = response.content.decode()
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def says(text: str, phrase: str) -> bool:
    """Whether the text says the phrase as words: "1 CE hour" is not in "1 CE hours"."""
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text) is not None


def pdf_text(content: bytes) -> str:
    return " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(content)).pages
    )


def one_hour_course():
    course = CourseFactory(slug="one-hour", title="One hour of ruptures", ce_hours=Decimal("1.00"))
    ApprovalFactory(
        course=course,
        accreditor=AccreditorFactory(short_name="APA", professions=["psychologist"]),
        hours=Decimal("1.00"),
        credit_type="general",
    )
    return course


@pytest.fixture
def psychologist(learner):
    LicenceFactory(user=learner, profession="psychologist", jurisdiction="CA", number="PSY 12345")
    return learner


def issued(enrollment) -> Certificate:
    """The certificate as the render task leaves it: issued, its PDF stored."""
    certificate = credentials.issue_certificate(enrollment=enrollment)
    return with_pdf(certificate)


def with_pdf(certificate: Certificate) -> Certificate:
    certificate.pdf.save(f"{certificate.code}.pdf", SimpleUploadedFile("c.pdf", b"%PDF-1.7"))
    Certificate.objects.filter(pk=certificate.pk).update(
        pdf_sha256="a" * 64, rendered_at=timezone.now()
    )
    certificate.refresh_from_db()
    return certificate


@pytest.fixture
def one_hour_certificate(psychologist):
    enrollment = EnrollmentFactory(
        user=psychologist, course=one_hour_course(), completed_at=timezone.now()
    )
    return issued(enrollment)


# --- Pluralisation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "ce", "of_a_kind"),
    [
        (Decimal("1"), "1 CE hour", "1 ethics hour"),
        (Decimal("1.00"), "1 CE hour", "1 ethics hour"),
        (Decimal("0.5"), "0.5 CE hours", "0.5 ethics hours"),
        (Decimal("1.5"), "1.5 CE hours", "1.5 ethics hours"),
        (Decimal("2.00"), "2 CE hours", "2 ethics hours"),
        ("1.25", "1.25 CE hours", "1.25 ethics hours"),
        ("1.0", "1 CE hour", "1 ethics hour"),
    ],
)
def test_hours_take_the_singular_for_exactly_one(hours, ce, of_a_kind):
    shown = Template(
        "{% load ceu %}{{ hours|ce_hours }}|{{ hours|hours_unit:'ethics' }}|{{ hours|hours_unit }}"
    ).render(Context({"hours": hours}))

    assert shown.split("|") == [ce, of_a_kind, ce.replace("CE ", "")]


def test_one_hour_is_singular_in_the_catalog_and_on_the_course_page(client, psychologist):
    one_hour_course()
    client.force_login(psychologist)

    catalog = text_of(client.get(reverse("courses:catalog")))
    page = text_of(client.get(reverse("courses:course_detail", args=["one-hour"])))

    assert says(catalog, "1 CE hour")
    assert says(page, "1 CE hour")
    assert says(page, "APA accreditor (APA): 1 general hour")  # the approvals
    assert says(page, "1 general hour through APA")  # what it gives the learner's licence
    assert not re.search(r"\b1 (CE |general )?hours\b", catalog + page)


def test_one_hour_is_singular_on_the_transcript_and_its_pdf(learner_client, one_hour_certificate):
    page = text_of(learner_client.get(reverse("courses:transcript")))
    pdf = pdf_text(learner_client.get(reverse("courses:transcript_pdf")).content)

    assert says(page, "1 CE hour in all")
    assert says(page, "1 CE hour APA: 1 general hour")  # the certificate's row
    assert says(pdf, "Certificates (1 CE hour in all)")
    assert says(pdf, "1 CE hour APA SAMPLE-1: 1 general hour")
    assert not re.search(r"\b1 (CE |general )?hours\b", page + pdf)


def test_one_hour_is_singular_on_the_verify_page(client, one_hour_certificate):
    page = text_of(client.get(reverse("courses:verify_code", args=[one_hour_certificate.code])))

    assert says(page, "CE hours 1 CE hour")
    assert says(page, "APA (provider SAMPLE-1): 1 general")  # a credit, as the API gives it
    assert not re.search(r"\b1 (CE |general )?hours\b", page)


def test_one_hour_is_singular_in_the_certificate_email(one_hour_certificate, mailoutbox):
    assert credentials.email_certificate(certificate_id=one_hour_certificate.pk, force=True)

    (message,) = mailoutbox
    html_body = message.alternatives[0][0]
    assert "Your certificate (1 CE hour) is attached" in message.body
    assert "Your certificate (1 CE hour) is attached" in html_body
    assert "CE hours)" not in message.body + html_body


# --- Summary and description ---------------------------------------------------------------------


def test_a_summary_the_same_as_the_description_is_printed_once(client):
    said = "A plain account of why clients stop coming, and what to do about it."
    CourseFactory(slug="same", summary=said, description=f"{said}\n")

    page = text_of(client.get(reverse("courses:course_detail", args=["same"])))

    assert page.count(said) == 1


@pytest.mark.parametrize("blank_line", ["\n\n", "\r\n\r\n"])  # as a browser's form sends it
def test_a_description_opening_with_the_summary_prints_the_rest_once(client, blank_line):
    said = "Why clients stop coming."
    CourseFactory(
        slug="opening", summary=said, description=f"{said}{blank_line}What to do about it."
    )

    page = text_of(client.get(reverse("courses:course_detail", args=["opening"])))

    assert page.count(said) == 1
    assert page.count("What to do about it.") == 1


def test_a_different_description_is_printed_with_the_summary(client):
    CourseFactory(slug="both", summary="Short.", description="Long, *and* different.")

    page = text_of(client.get(reverse("courses:course_detail", args=["both"])))

    assert says(page, "Short.")
    assert says(page, "Long, and different.")


# --- The way on ----------------------------------------------------------------------------------


def test_the_last_lessons_next_button_leads_to_the_post_test(learner_client, learner):
    course = CourseFactory(slug="three", lessons=3)
    EnrollmentFactory(user=learner, course=course)

    middle = learner_client.get(reverse("courses:lesson", args=["three", 2])).content.decode()
    last = learner_client.get(reverse("courses:lesson", args=["three", 3])).content.decode()

    assert f'href="{reverse("courses:lesson", args=["three", 3])}" rel="next"' in middle
    post_test = reverse("courses:post_test", args=["three"])
    assert re.search(rf'<a [^>]*href="{post_test}" rel="next">Next: the post-test', last)

    # Once the training is completed, the last lesson leads back to it and its certificate.
    Enrollment.objects.filter(user=learner).update(completed_at=timezone.now())
    last = learner_client.get(reverse("courses:lesson", args=["three", 3])).content.decode()
    assert post_test not in last
    assert "Back to the training" in last


def test_a_completed_training_offers_review_and_view_certificate(
    learner_client, one_hour_certificate
):
    verify = one_hour_certificate.get_absolute_url()
    for url in (
        reverse("courses:course_detail", args=["one-hour"]),
        reverse("courses:my_trainings"),
    ):
        body = learner_client.get(url).content.decode()
        shown = text_of(learner_client.get(url))

        assert "Review the lessons" in shown, url
        assert re.search(rf'<a [^>]*href="{verify}"[^>]*>View certificate', body), url


# --- E-mails -------------------------------------------------------------------------------------


def host_outside_links(body: str) -> list[str]:
    """Lines that name the site's host other than in a link to follow."""
    return [line for line in body.splitlines() if "testserver" in line and "://" not in line]


@pytest.mark.parametrize("configured", [True, False])
def test_the_confirmation_email_names_the_provider_not_the_host(client, mailoutbox, configured):
    if configured:
        Provider.objects.create(name=PROVIDER_NAME, email="ce@example.org")
    client.post(
        reverse("account_signup"),
        {
            "full_name": "Zoe Ramirez",
            "email": "zoe@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )

    (message,) = mailoutbox
    # Without a provider on record, the name the site's mail comes from.
    name = PROVIDER_NAME if configured else "CE Trainings"
    assert f"Hello from {name}!" in message.body
    assert f"register an account with {name}" in message.body
    assert host_outside_links(message.body) == []


def test_the_password_reset_email_names_the_provider_not_the_host(client, mailoutbox):
    Provider.objects.create(name=PROVIDER_NAME, email="ce@example.org")
    UserFactory(email="dana@example.com")

    client.post(reverse("account_reset_password"), {"email": "dana@example.com"})

    (message,) = mailoutbox
    assert f"Hello from {PROVIDER_NAME}!" in message.body
    assert f"Thank you for using {PROVIDER_NAME}!" in message.body
    assert host_outside_links(message.body) == []


def test_the_reissued_certificates_email_names_the_code_it_replaces(
    one_hour_certificate, mailoutbox
):
    registrar = UserFactory(is_staff=True)
    replacement = with_pdf(
        credentials.reissue_certificate(
            certificate=one_hour_certificate, acting_user=registrar, reason="Name corrected."
        )
    )

    assert credentials.email_certificate(certificate_id=replacement.pk)

    (message,) = mailoutbox
    old = one_hour_certificate.code
    said = f"This certificate replaces {old}, which is no longer valid"
    assert said in message.body
    assert said in message.alternatives[0][0]
    assert f"Certificate code: {replacement.code}" in message.body


def test_a_first_certificates_email_replaces_nothing(one_hour_certificate, mailoutbox):
    credentials.email_certificate(certificate_id=one_hour_certificate.pk)

    (message,) = mailoutbox
    assert "replaces" not in message.body


# --- The transcript PDF in sample mode -----------------------------------------------------------


def test_the_transcript_pdf_says_sample_while_the_site_is_one(
    learner_client, one_hour_certificate, settings
):
    assert not Provider.objects.exists()  # no provider details yet: a sample site

    sample = pdf_text(learner_client.get(reverse("courses:transcript_pdf")).content)

    assert "Sample: not valid for credit." in sample

    settings.CEU_GO_LIVE_REQUIRED = False
    Provider.objects.create(name=PROVIDER_NAME, email="ce@example.org", is_configured=True)

    live = pdf_text(learner_client.get(reverse("courses:transcript_pdf")).content)

    assert "Sample" not in live
    assert "Continuing education transcript" in live
