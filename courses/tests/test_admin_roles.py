"""Least privilege in the admin: one table of (role, page, expected status). Course authors build
courses and cannot touch certificates; registrars handle enrollments, certificates and rosters and
cannot edit courses; learners never get in; superusers are for operators."""

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import LicenceFactory, UserFactory
from courses.models import Certificate, Course, CourseStatus, LogEntry, Provider
from courses.services import credentials, publishing
from courses.tests.factories import (
    ApprovalFactory,
    CourseFactory,
    EnrollmentFactory,
    QuestionFactory,
)

pytestmark = pytest.mark.django_db

DEMO = Path(django_settings.BASE_DIR, "fixtures", "demo_trainings.json")
COACHING = "coaching-versus-therapy-for-growth-oriented-clients"


@pytest.fixture(autouse=True)
def _no_second_factor(settings):
    # The two-factor gate has its own tests (ceu/tests/test_admin_access.py).
    settings.CEU_REQUIRE_STAFF_MFA = False


@pytest.fixture
def world(db):
    course = CourseFactory(slug="ghosting")
    ApprovalFactory(course=course)
    QuestionFactory(course=course)
    learner = UserFactory()
    LicenceFactory(user=learner, jurisdiction="FL")
    enrollment = EnrollmentFactory(user=learner, course=course, completed_at=timezone.now())
    certificate = credentials.issue_certificate(enrollment=enrollment)
    Provider.objects.create(name="Sample CE Provider", email="ce@example.org")
    return {"course": course, "certificate": certificate, "enrollment": enrollment}


def user_for(role: str):
    if role == "superuser":
        return UserFactory(is_staff=True, is_superuser=True)
    if role == "learner":
        return UserFactory()
    user = UserFactory(is_staff=True)
    user.groups.add(
        Group.objects.get(name={"author": "Course authors", "registrar": "Registrars"}[role])
    )
    return user


PAGES = {
    "index": lambda w: reverse("admin:index"),
    "courses": lambda w: reverse("admin:courses_course_changelist"),
    "course add": lambda w: reverse("admin:courses_course_add"),
    "course change": lambda w: reverse("admin:courses_course_change", args=[w["course"].pk]),
    "course import": lambda w: reverse("admin:courses_course_import"),
    "course report": lambda w: reverse("admin:courses_course_report", args=[w["course"].pk]),
    "roster csv": lambda w: reverse("admin:courses_course_roster"),
    "ce broker csv": lambda w: reverse("admin:courses_course_ce_broker") + "?state=FL",
    "questions": lambda w: reverse("admin:courses_question_changelist"),
    "certificates": lambda w: reverse("admin:courses_certificate_changelist"),
    "certificate": lambda w: reverse(
        "admin:courses_certificate_change", args=[w["certificate"].pk]
    ),
    "enrollments": lambda w: reverse("admin:courses_enrollment_changelist"),
    "users": lambda w: reverse("admin:accounts_user_changelist"),
    "provider": lambda w: reverse("admin:courses_provider_changelist"),
    "post-test preview": lambda w: reverse("courses:post_test_preview", args=["ghosting"]),
}

#                      author registrar learner superuser
EXPECTED = {
    "index":             (200, 200, 403, 200),
    "courses":           (200, 200, 403, 200),
    "course add":        (200, 403, 403, 200),
    "course change":     (200, 200, 403, 200),
    "course import":     (200, 403, 403, 200),
    "course report":     (403, 200, 403, 200),
    "roster csv":        (403, 200, 403, 200),
    "ce broker csv":     (403, 200, 403, 200),
    "questions":         (200, 403, 403, 200),
    "certificates":      (403, 200, 403, 200),
    "certificate":       (403, 200, 403, 200),
    "enrollments":       (403, 200, 403, 200),
    "users":             (403, 200, 403, 200),
    "provider":          (403, 403, 403, 200),
    "post-test preview": (200, 200, 404, 200),
}  # fmt: skip
ROLES = ["author", "registrar", "learner", "superuser"]
CASES = [
    (role, page, EXPECTED[page][index]) for page in EXPECTED for index, role in enumerate(ROLES)
]


# (Not "page": pytest-playwright would take a parameter of that name for its browser page.)
@pytest.mark.parametrize(("role", "screen", "status"), CASES)
def test_role_matrix(client, world, role, screen, status):
    client.force_login(user_for(role))

    response = client.get(PAGES[screen](world), follow=True)

    assert response.status_code == status


@pytest.fixture
def draft(db):
    """A demo training taken back to draft: complete, so only the role decides who publishes it."""
    call_command("loaddata", DEMO, verbosity=0)
    Course.objects.filter(slug=COACHING).update(status=CourseStatus.DRAFT, published_at=None)
    course = Course.objects.get(slug=COACHING)
    assert publishing.publish_checklist(course) == []
    return course


@pytest.mark.parametrize(("role", "allowed"), [("author", True), ("registrar", False)])
def test_only_authors_publish(client, draft, role, allowed):
    user = user_for(role)
    client.force_login(user)

    response = client.post(reverse("admin:courses_course_publish", args=[draft.pk]))

    assert response.status_code == (302 if allowed else 403)
    draft.refresh_from_db()
    assert (draft.status == CourseStatus.PUBLISHED) is allowed
    assert LogEntry.objects.filter(action="course.published", actor=user).exists() is allowed


@pytest.mark.parametrize(("role", "allowed"), [("registrar", True), ("author", False)])
def test_only_registrars_revoke(client, world, role, allowed):
    certificate = world["certificate"]
    client.force_login(user_for(role))

    client.post(
        reverse("admin:courses_certificate_changelist"),
        {
            "action": "revoke_selected",
            "_selected_action": [certificate.pk],
            "reason": "Attendance could not be confirmed.",
        },
    )

    certificate.refresh_from_db()
    assert (certificate.status == "revoked") is allowed


def change_form_data(response) -> dict:
    """What a browser posts back from an admin change page left as shown: every field of the
    form and of its inlines, with their management forms."""
    forms = [response.context["adminform"].form]
    data = {}
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        forms += [formset.management_form, *formset.forms]
    for form in forms:
        for field in form:
            value = field.value()
            if isinstance(value, bool):
                if value:
                    data[field.html_name] = "on"
            elif isinstance(value, list | tuple):
                data[field.html_name] = [str(item) for item in value]
            elif value is not None:
                data[field.html_name] = str(value)
    return data


def test_registrars_cannot_edit_courses(client, draft):
    author, registrar = user_for("author"), user_for("registrar")
    url = reverse("admin:courses_course_change", args=[draft.pk])
    client.force_login(author)
    post = {**change_form_data(client.get(url)), "summary": "A summary changed in the admin."}

    client.force_login(registrar)
    refused = client.post(url, post)

    assert refused.status_code == 403
    draft.refresh_from_db()
    assert draft.summary != "A summary changed in the admin."

    # The very same post from an author saves: only the role stood in the way.
    client.force_login(author)
    saved = client.post(url, post)

    assert saved.status_code == 302, saved.context and saved.context["errors"]
    draft.refresh_from_db()
    assert draft.summary == "A summary changed in the admin."


def test_certificates_are_never_deleted_from_the_admin(client, world):
    client.force_login(user_for("superuser"))
    certificate = world["certificate"]

    response = client.post(
        reverse("admin:courses_certificate_delete", args=[certificate.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert Certificate.objects.filter(pk=certificate.pk).exists()
