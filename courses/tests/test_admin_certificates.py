"""The certificate admin for registrars: revoke, reinstate and reissue from the certificate's own
page, each asking the reason and going through the credentials service; the stored PDF fetched
through the admin (on disk or in a bucket); and only the buttons a role can use, shown."""

import hashlib
import re
from html import unescape

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import LicenceFactory, UserFactory
from courses.models import Certificate, CertificateEvent, CertificateStatus, Provider
from courses.services import credentials
from courses.tests.factories import (
    AccreditorFactory,
    ApprovalFactory,
    CourseFactory,
    EnrollmentFactory,
    staff_in,
)

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7 the certificate as issued\n%%EOF\n"
REASON = "Attendance could not be confirmed."


@pytest.fixture(autouse=True)
def _no_second_factor(settings):
    settings.CEU_REQUIRE_STAFF_MFA = False


@pytest.fixture
def registrar(db):
    return staff_in("Registrars")


@pytest.fixture
def registrar_client(client, registrar):
    client.force_login(registrar)
    return client


@pytest.fixture
def certificate(learner) -> Certificate:
    """An issued certificate whose PDF is in the storage, as the renderer leaves it."""
    Provider.objects.create(name="Sample CE Provider", email="ce@example.org")
    LicenceFactory(user=learner, profession="psychologist", jurisdiction="CA", number="PSY 12345")
    course = CourseFactory(slug="ghosting", title="Ruptures and ghosting")
    ApprovalFactory(course=course, accreditor=AccreditorFactory(short_name="APA"))
    enrollment = EnrollmentFactory(user=learner, course=course, completed_at=timezone.now())
    issued = credentials.issue_certificate(enrollment=enrollment)
    issued.pdf.save(f"{issued.code}.pdf", SimpleUploadedFile("c.pdf", PDF))
    Certificate.objects.filter(pk=issued.pk).update(
        pdf_sha256=hashlib.sha256(PDF).hexdigest(), rendered_at=timezone.now()
    )
    issued.refresh_from_db()
    return issued


def page_url(certificate: Certificate) -> str:
    return reverse("admin:courses_certificate_change", args=[certificate.pk])


def change_url(certificate: Certificate, change: str) -> str:
    return reverse(f"admin:courses_certificate_{change}", args=[certificate.pk])


def tools(html: str) -> dict[str, str]:
    """The buttons over an admin page's form (object-tools): label -> address."""
    block = html[html.index('<ul class="object-tools">') :]
    block = block[: block.index("</ul>")]
    return {
        unescape(re.sub(r"<[^>]+>", "", label)).strip(): unescape(href)
        for href, label in re.findall(r'<a href="([^"]+)"[^>]*>(.*?)</a>', block, re.S)
    }


# --- The buttons -------------------------------------------------------------------------------


def test_a_valid_certificate_offers_revoke_and_reissue(registrar_client, certificate):
    html = registrar_client.get(page_url(certificate)).content.decode()

    buttons = tools(html)
    assert buttons["Revoke…"] == change_url(certificate, "revoke")
    assert buttons["Reissue…"] == change_url(certificate, "reissue")
    assert "Reinstate…" not in buttons
    assert buttons["Download the PDF"] == change_url(certificate, "pdf")


def test_a_revoked_certificate_offers_reinstate_and_reissue(
    registrar_client, registrar, certificate
):
    credentials.revoke_certificate(certificate=certificate, reason=REASON, acting_user=registrar)

    buttons = tools(registrar_client.get(page_url(certificate)).content.decode())

    assert buttons["Reinstate…"] == change_url(certificate, "reinstate")
    assert "Reissue…" in buttons
    assert "Revoke…" not in buttons


def test_a_replaced_certificate_offers_no_change(registrar_client, registrar, certificate):
    credentials.reissue_certificate(certificate=certificate, acting_user=registrar, reason="Name")

    buttons = tools(registrar_client.get(page_url(certificate)).content.decode())

    assert not {"Revoke…", "Reinstate…", "Reissue…"} & set(buttons)


def test_staff_who_may_only_look_see_no_change_buttons(client, certificate):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_certificate"))
    client.force_login(viewer)

    buttons = tools(client.get(page_url(certificate)).content.decode())

    assert not {"Revoke…", "Reinstate…", "Reissue…"} & set(buttons)
    assert "Download the PDF" in buttons
    for change in ("revoke", "reinstate", "reissue"):
        assert client.post(change_url(certificate, change), {"reason": REASON}).status_code == 403
    certificate.refresh_from_db()
    assert certificate.status == CertificateStatus.VALID


@pytest.mark.parametrize("role", ["Course authors", "Registrars"])
def test_every_button_a_role_is_shown_opens(client, certificate, role):
    """The course page and the certificate page offer a role only what answers it: no "Report"
    for course authors (a registrar's page), no certificate page at all for them."""
    client.force_login(staff_in(role))
    course = certificate.enrollment.course
    pages = [reverse("admin:courses_course_change", args=[course.pk])]
    if role == "Registrars":
        pages.append(page_url(certificate))

    for address in pages:
        for label, href in tools(client.get(address).content.decode()).items():
            assert client.get(href, follow=True).status_code == 200, f"{label} on {address}"
    course_buttons = tools(client.get(pages[0]).content.decode())
    assert ("Report" in course_buttons) is (role == "Registrars")
    if role == "Course authors":
        assert client.get(page_url(certificate)).status_code == 403


# --- Revoke, reinstate and reissue from the certificate's page ----------------------------------


def test_revoke_asks_the_reason_then_revokes(registrar_client, registrar, certificate):
    asked = registrar_client.get(change_url(certificate, "revoke"))

    assert asked.status_code == 200
    html = asked.content.decode()
    assert "<h1>Revoke certificate " + certificate.code + "</h1>" in html
    assert "Reason (shown on the verify page)" in html

    refused = registrar_client.post(change_url(certificate, "revoke"), {"reason": "   "})
    assert refused.status_code == 200
    assert 'class="errorlist' in refused.content.decode()
    certificate.refresh_from_db()
    assert certificate.status == CertificateStatus.VALID

    done = registrar_client.post(change_url(certificate, "revoke"), {"reason": REASON}, follow=True)

    assert done.redirect_chain[-1][0] == page_url(certificate)
    assert f"Revoked {certificate.code}." in done.content.decode()
    certificate.refresh_from_db()
    assert certificate.status == CertificateStatus.REVOKED
    assert (certificate.revoked_reason, certificate.revoked_by) == (REASON, registrar)


def test_reinstate_from_the_page(registrar_client, registrar, certificate):
    credentials.revoke_certificate(certificate=certificate, reason=REASON, acting_user=registrar)

    done = registrar_client.post(
        change_url(certificate, "reinstate"), {"reason": "Confirmed after all."}, follow=True
    )

    assert f"Reinstated {certificate.code}." in done.content.decode()
    certificate.refresh_from_db()
    assert certificate.status == CertificateStatus.VALID
    assert CertificateEvent.objects.filter(
        certificate=certificate,
        kind=CertificateEvent.Kind.REINSTATED,
        detail="Confirmed after all.",
    ).exists()


def test_reissue_from_the_page_leads_to_the_replacement(registrar_client, certificate):
    response = registrar_client.post(
        change_url(certificate, "reissue"), {"reason": "Name corrected."}
    )

    certificate.refresh_from_db()
    replacement = certificate.superseded_by
    assert replacement is not None
    assert certificate.status == CertificateStatus.SUPERSEDED
    assert response["Location"] == page_url(replacement)
    page = registrar_client.get(response["Location"]).content.decode()
    assert f"{certificate.code} is replaced by {replacement.code}." in page


def test_what_the_service_refuses_is_shown_as_a_warning(registrar_client, certificate):
    # A crafted request: reinstating a certificate that was never revoked.
    response = registrar_client.post(
        change_url(certificate, "reinstate"), {"reason": REASON}, follow=True
    )

    page = response.content.decode()
    assert f"{certificate.code}: Only a revoked certificate can be reinstated." in page
    assert 'class="warning"' in page
    certificate.refresh_from_db()
    assert certificate.status == CertificateStatus.VALID


def test_authors_cannot_revoke_by_a_crafted_request(client, certificate):
    client.force_login(staff_in("Course authors"))

    response = client.post(change_url(certificate, "revoke"), {"reason": REASON})

    assert response.status_code == 403
    certificate.refresh_from_db()
    assert certificate.status == CertificateStatus.VALID


# --- The PDF -----------------------------------------------------------------------------------


def test_the_pdf_link_is_served_to_staff_from_the_storage(registrar_client, certificate):
    html = registrar_client.get(page_url(certificate)).content.decode()

    assert f'<a href="{change_url(certificate, "pdf")}" id="certificate-pdf">' in html
    assert certificate.pdf.url not in html  # the storage's own address is not served
    response = registrar_client.get(change_url(certificate, "pdf"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    assert f'filename="{certificate.code}.pdf"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == PDF


def test_the_pdf_comes_from_a_bucket_too(s3_storage, registrar_client, certificate):
    assert s3_storage.keys() == [f"certificates/{certificate.code}.pdf"]

    response = registrar_client.get(change_url(certificate, "pdf"))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF


def test_the_pdf_is_for_staff_who_may_see_certificates(client, learner, certificate):
    url = change_url(certificate, "pdf")

    assert client.get(url).status_code == 302  # to sign in
    client.force_login(staff_in("Course authors"))
    assert client.get(url).status_code == 403
    client.force_login(learner)
    assert client.get(url).status_code in (302, 403)  # never the file


def test_a_missing_file_is_a_404_not_an_error(registrar_client, certificate):
    certificate.pdf.storage.delete(certificate.pdf.name)

    assert registrar_client.get(change_url(certificate, "pdf")).status_code == 404


def test_a_certificate_not_rendered_yet_says_so(registrar_client, certificate):
    Certificate.objects.filter(pk=certificate.pk).update(pdf="", pdf_sha256="", rendered_at=None)

    html = registrar_client.get(page_url(certificate)).content.decode()

    assert "Not rendered yet." in html
    assert "Download the PDF" not in html
    assert registrar_client.get(change_url(certificate, "pdf")).status_code == 404
