"""The audit trail: staff changes to what certificates print are recorded with who, when and
what, and registrars read the trail in the admin, where nobody can edit or delete it."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.tests.factories import UserFactory
from courses.models import LogEntry
from courses.services import audit
from courses.tests.adminforms import form_data
from courses.tests.factories import AccreditorFactory, ApprovalFactory, CourseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_second_factor(settings):
    settings.CEU_REQUIRE_STAFF_MFA = False


def staff(role: str | None = None, **extra):
    user = UserFactory(is_staff=True, **extra)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def author():
    return staff("Course authors")


@pytest.fixture
def course():
    course = CourseFactory(slug="ghosting", lessons=1)
    ApprovalFactory(course=course, credit_type="general")
    return course


def test_changing_an_approval_in_the_admin_is_recorded(client, author, course):
    client.force_login(author)
    url = reverse("admin:courses_course_change", args=[course.pk])
    data = form_data(client.get(url).content.decode(), "course_form")
    data["approvals-0-credit_type"] = "clinical"

    response = client.post(url, data)

    assert response.status_code == 302
    entry = LogEntry.objects.get(action="course.approval_changed")
    assert entry.actor == author
    assert entry.object_id == str(course.pk)
    assert entry.data["changed"] == ["credit_type"]
    assert entry.data["approval"]["credit_type"] == "clinical"


def test_removing_an_approval_in_the_admin_is_recorded(client, author, course):
    client.force_login(author)
    url = reverse("admin:courses_course_change", args=[course.pk])
    data = form_data(client.get(url).content.decode(), "course_form")
    data["approvals-0-DELETE"] = "on"

    assert client.post(url, data).status_code == 302

    assert not course.approvals.exists()
    entry = LogEntry.objects.get(action="course.approval_removed")
    assert entry.actor == author
    assert entry.data["approval"]["credit_type"] == "general"


def test_saving_without_touching_the_approvals_records_nothing(client, author, course):
    client.force_login(author)
    url = reverse("admin:courses_course_change", args=[course.pk])
    data = form_data(client.get(url).content.decode(), "course_form")

    assert client.post(url, data).status_code == 302

    assert not LogEntry.objects.filter(action__startswith="course.approval").exists()


def test_changing_a_provider_approval_is_recorded(client):
    operator = staff(is_superuser=True)
    accreditor = AccreditorFactory(short_name="NBCC")
    client.force_login(operator)
    url = reverse("admin:courses_accreditor_change", args=[accreditor.pk])
    data = form_data(client.get(url).content.decode(), "accreditor_form")
    data["provider_number"] = "ACEP-7788"

    assert client.post(url, data).status_code == 302

    entry = LogEntry.objects.get(action="accreditor.changed")
    assert entry.actor == operator
    assert entry.data["changed"] == ["provider_number"]
    assert entry.data["values"]["provider_number"] == "ACEP-7788"


def test_registrars_read_the_trail(client, course):
    actor = staff("Course authors", full_name="Avery Author")
    audit.record("course.published", actor=actor, subject=course, data={"note": "first"})
    client.force_login(staff("Registrars"))

    listing = client.get(reverse("admin:courses_logentry_changelist"))

    assert listing.status_code == 200
    html = listing.content.decode()
    assert "course.published" in html
    assert "Kept for at least 7 years" in html
    assert "Avery Author" in html or actor.email in html
    entry = LogEntry.objects.get()
    detail = client.get(reverse("admin:courses_logentry_change", args=[entry.pk]))
    assert detail.status_code == 200
    assert "first" in detail.content.decode()


@pytest.mark.parametrize("role", ["Registrars", None])
def test_nobody_edits_or_deletes_the_trail(client, course, role):
    entry = audit.record("course.published", actor=None, subject=course)
    client.force_login(staff(role) if role else staff(is_superuser=True))

    change = reverse("admin:courses_logentry_change", args=[entry.pk])
    delete = reverse("admin:courses_logentry_delete", args=[entry.pk])
    assert client.post(change, {"action": "x"}).status_code == 403
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:courses_logentry_add")).status_code == 403
    assert LogEntry.objects.filter(pk=entry.pk, action="course.published").exists()


def test_course_authors_do_not_read_the_trail(client, author):
    client.force_login(author)

    assert client.get(reverse("admin:courses_logentry_changelist")).status_code == 403


def test_the_trail_keeps_its_query_count(client, course, django_assert_num_queries):
    client.force_login(staff("Registrars"))
    url = reverse("admin:courses_logentry_changelist")
    audit.record("course.published", actor=staff(), subject=course)
    client.get(url)
    with django_assert_num_queries(10) as first:
        client.get(url)
    for _ in range(20):
        audit.record("course.archived", actor=staff(), subject=course)

    with django_assert_num_queries(len(first)):
        assert client.get(url).status_code == 200
