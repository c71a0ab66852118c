"""Staff in real Chromium. A course author finishes a draft without losing anything they type:
the course page fits a 1280 px screen, its buttons clear of the title; the checklist's line about
the post-test saves the typed presenter and opens the post-test editor, where six questions with
their choices are written on one page and saved at once; back on the course, Publish saves the
last typed edit and publishes. Three form submissions in all, counted. A registrar downloads a
certificate's PDF from its page and revokes it there, with a reason."""

import hashlib
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.tests.factories import UserFactory
from ceu.testing.axe import axe_violations, describe
from courses.models import Certificate, CertificateStatus, Course, CourseStatus
from courses.services.assessment import required_questions
from courses.services.credentials import issue_certificate
from courses.services.publishing import publish_checklist

from .test_browser_admin import admin_messages, sign_in_to_admin, staff_member

DEMO = Path(django_settings.BASE_DIR, "fixtures", "demo_trainings.json")
COACHING = "coaching-versus-therapy-for-growth-oriented-clients"
QUESTIONS = 6
CHOICES = 4


def accessible(page: Page) -> None:
    violations = axe_violations(page)
    assert not violations, f"{page.url}:\n{describe(violations)}"


def fits_the_screen(page: Page) -> None:
    """No sideways scrolling, and the page's buttons (object-tools) clear of its title: the h1
    ("Change course") and the heading under it naming the course."""
    width = page.evaluate("document.scrollingElement.scrollWidth")
    inner = page.evaluate("window.innerWidth")
    assert width <= inner, f"the page is {width} px wide in a {inner} px window"
    titles = page.locator("#content > h1, #content > h2")
    assert titles.count() >= 1
    buttons = page.locator(".object-tools a")
    for t in range(titles.count()):
        title = titles.nth(t).bounding_box()
        assert title is not None
        for b in range(buttons.count()):
            box = buttons.nth(b).bounding_box()
            assert box is not None
            apart = (
                box["x"] + box["width"] <= title["x"]
                or title["x"] + title["width"] <= box["x"]
                or box["y"] + box["height"] <= title["y"]
                or title["y"] + title["height"] <= box["y"]
            )
            assert apart, (
                f"“{buttons.nth(b).inner_text()}” overlaps “{titles.nth(t).inner_text()}”: "
                f"{box} {title}"
            )


@pytest.mark.django_db(transaction=True)
def test_an_author_writes_a_six_question_post_test_on_one_page_and_publishes(
    page: Page, live_server, settings
):
    settings.CEU_REQUIRE_STAFF_MFA = False
    call_command("loaddata", DEMO, verbosity=0)
    Course.objects.filter(slug=COACHING).update(status=CourseStatus.DRAFT, published_at=None)
    course = Course.objects.get(slug=COACHING)
    course.questions.all().delete()
    assert required_questions(course) == 3
    missing = "At least 3 post-test questions for 0.5 CE hours (it has 0)."
    assert publish_checklist(course) == [missing]
    author = staff_member("Course authors", full_name="Avery Author")

    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in_to_admin(page, live_server, author)
    submissions: list[str] = []
    page.on(
        "request",
        lambda request: (
            submissions.append(request.url)
            if request.method == "POST" and request.resource_type == "document"
            else None
        ),
    )

    # The course page, at 1280 px.
    page.goto(f"{live_server.url}/admin/courses/course/{course.pk}/change/")
    expect(page.locator("#course_form")).to_be_visible()
    fits_the_screen(page)
    # A course author has no use for the registrar's report: not offered.
    expect(page.locator(".object-tools").get_by_role("link", name="Report")).to_have_count(0)

    # A presenter typed, then the checklist's line about the post-test: the edit is saved first.
    page.locator("#id_presenter_name").fill("Riley Okonkwo")
    checklist = page.locator("#publish-checklist")
    checklist.get_by_role("link", name=missing).click()
    expect(page.get_by_role("heading", name=f"Post-test: {course.title}")).to_be_visible()
    expect(admin_messages(page, "info")).to_have_text(f"“{course.title}” was saved.")
    course.refresh_from_db()
    assert course.presenter_name == "Riley Okonkwo"
    fits_the_screen(page)

    # One blank question for each one missing, and three more added on the page.
    questions = page.locator("#post_test_form .post-test-question")
    expect(questions).to_have_count(3)
    for _ in range(QUESTIONS - 3):
        page.get_by_role("button", name="Add another question").click()
    expect(questions).to_have_count(QUESTIONS)
    accessible(page)

    for index in range(QUESTIONS):
        question = questions.nth(index)
        expect(question.get_by_role("heading")).to_contain_text(f"Question {index + 1}")
        question.get_by_label("Question:").fill(
            f"Which step comes {index + 1}. in a rupture repair?"
        )
        question.get_by_label("Explanation:").fill(f"Step {index + 1} is named in the lesson.")
        for place in range(1, CHOICES + 1):
            question.get_by_label(f"Question {index + 1}, choice {place}", exact=True).fill(
                f"Answer {place}"
            )
        question.get_by_label(
            f"Question {index + 1}, choice {index % CHOICES + 1} is correct"
        ).check()
    page.get_by_role("button", name="Save", exact=True).click()

    # Back on the course: the post-test is complete, and nothing is missing.
    expect(page).to_have_url(
        f"{live_server.url}/admin/courses/course/{course.pk}/change/#post-test"
    )
    expect(admin_messages(page, "success")).to_have_text(
        f"The post-test of “{course.title}” is saved: {QUESTIONS} questions."
    )
    expect(page.locator("#post-test li")).to_have_count(QUESTIONS)
    expect(checklist).to_contain_text("Everything an accreditor asks for is here.")
    for index, question in enumerate(course.questions.order_by("position")):
        choices = list(question.choices.order_by("position"))
        assert [choice.text for choice in choices] == [f"Answer {n}" for n in range(1, 5)]
        assert [choice.is_correct for choice in choices] == [
            place == index % CHOICES for place in range(CHOICES)
        ]

    # One more edit typed, and Publish: saved, then published.
    page.locator("#id_test_author").fill("Riley Okonkwo, PhD")
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(admin_messages(page, "success")).to_have_text(f"“{course.title}” is published.")
    expect(page.locator("#id_test_author")).to_have_value("Riley Okonkwo, PhD")
    course.refresh_from_db()
    assert course.status == CourseStatus.PUBLISHED
    assert (course.presenter_name, course.test_author) == ("Riley Okonkwo", "Riley Okonkwo, PhD")

    # Saving the presenter on the way, saving the post-test, publishing.
    assert len(submissions) == 3, submissions


@pytest.mark.django_db(transaction=True)
def test_a_registrar_downloads_and_revokes_a_certificate_from_its_page(
    page: Page, live_server, settings
):
    settings.CEU_REQUIRE_STAFF_MFA = False
    call_command("loaddata", DEMO, verbosity=0)
    course = Course.objects.get(slug=COACHING)
    learner = UserFactory(full_name="Dana Whitfield")
    enrollment = course.enrollments.create(user=learner, completed_at=timezone.now())
    certificate = issue_certificate(enrollment=enrollment)
    pdf = b"%PDF-1.7 as issued\n%%EOF\n"
    certificate.pdf.save(f"{certificate.code}.pdf", SimpleUploadedFile("c.pdf", pdf))
    Certificate.objects.filter(pk=certificate.pk).update(
        pdf_sha256=hashlib.sha256(pdf).hexdigest(), rendered_at=timezone.now()
    )
    registrar = staff_member("Registrars", full_name="Registrar Ruiz")

    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in_to_admin(page, live_server, registrar)
    page.goto(f"{live_server.url}/admin/courses/certificate/{certificate.pk}/change/")
    expect(page.get_by_role("heading", name="View certificate")).to_be_visible()
    tools = page.locator(".object-tools")
    expect(tools.get_by_role("link", name="Revoke…")).to_be_visible()
    expect(tools.get_by_role("link", name="Reissue…")).to_be_visible()
    expect(tools.get_by_role("link", name="Reinstate…")).to_have_count(0)
    fits_the_screen(page)
    accessible(page)

    # The PDF, from the storage, through the admin.
    with page.expect_download() as download:
        tools.get_by_role("link", name="Download the PDF").click()
    assert Path(download.value.path()).read_bytes() == pdf
    assert download.value.suggested_filename == f"{certificate.code}.pdf"

    # Revoke, with the reason asked on the way.
    tools.get_by_role("link", name="Revoke…").click()
    expect(
        page.get_by_role("heading", name=f"Revoke certificate {certificate.code}")
    ).to_be_visible()
    accessible(page)
    page.get_by_label("Reason (shown on the verify page)").fill(
        "Attendance could not be confirmed."
    )
    page.get_by_role("button", name="Revoke", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/admin/courses/certificate/{certificate.pk}/change/$"))
    expect(admin_messages(page, "success")).to_have_text(f"Revoked {certificate.code}.")
    expect(tools.get_by_role("link", name="Reinstate…")).to_be_visible()
    expect(tools.get_by_role("link", name="Revoke…")).to_have_count(0)
    certificate.refresh_from_db()
    assert certificate.status == CertificateStatus.REVOKED
    assert certificate.revoked_by == registrar
