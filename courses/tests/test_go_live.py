"""First-run set-up and the go-live checklist: a fresh database fails every item with what to
do; each item passes once it is set; the "Sample: not valid for credit" notice follows."""

from io import StringIO
from pathlib import Path

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.models import Group
from django.core import mail
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from courses.models import LogEntry, Policy, Provider
from courses.services import credentials, golive
from courses.tests.factories import (
    AccreditorFactory,
    ApprovalFactory,
    CourseFactory,
    EnrollmentFactory,
)

pytestmark = pytest.mark.django_db

SMTP = "django.core.mail.backends.smtp.EmailBackend"


@pytest.fixture(autouse=True)
def go_live_required(settings):
    settings.CEU_GO_LIVE_REQUIRED = True
    settings.CEU_SITE_URL = "http://127.0.0.1:8000"
    settings.CEU_BACKUPS_CONFIGURED = False
    cache.clear()
    yield
    cache.clear()


def results() -> dict[str, golive.Item]:
    return {item.key: item for item in golive.checklist()}


def run_check() -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("go_live_check", stdout=out)
    except CommandError as exc:
        return 1, out.getvalue() + str(exc)
    return 0, out.getvalue()


def make_ready(settings, keys: Path) -> None:
    """Everything the checklist asks for, set the way an operator would."""
    golive.first_run()
    call_command("create_signing_key", "--dir", str(keys), verbosity=0)
    settings.CEU_CREDENTIAL_KEY_FILE = str(keys / "credential-key.jwk")
    settings.CEU_SIGNING_KEY_FILE = str(keys / "document-signing-key.pem")
    settings.CEU_SIGNING_CERT_FILE = str(keys / "document-signing-cert.pem")
    Provider.objects.update(
        name="Harbor Counseling CE",
        email="ce@harborcounseling.org",
        address="12 Wharf Street, Portland, ME 04101",
        is_configured=True,
    )
    for policy in Policy.objects.all():
        policy.body = "Write to ce@harborcounseling.org; we answer within ten working days."
        policy.is_published = True
        policy.save()
    AccreditorFactory(short_name="NBCC", provider_number="7000")
    settings.CEU_SITE_URL = "https://ce.harborcounseling.org"
    golive.send_test_message(to="ops@harborcounseling.org", actor=None)  # to the test outbox
    settings.EMAIL_BACKEND = SMTP
    TOTP.activate(UserFactory(is_staff=True, is_superuser=True), generate_totp_secret())
    settings.CEU_BACKUPS_CONFIGURED = True
    cache.clear()


def test_on_an_empty_database_every_item_fails_with_what_to_do():
    items = results()

    assert list(items) == [
        "provider",
        "policy_grievance",
        "policy_refund",
        "policy_accommodation",
        "accreditor",
        "site_url",
        "email",
        "test_message",
        "staff_mfa",
        "backups",
        "signing_keys",
    ]
    assert not any(item.passed for item in items.values())
    assert "manage.py first_run" in items["provider"].detail
    assert "Missing" in items["policy_grievance"].detail
    assert "current today" in items["accreditor"].detail
    assert "'http://127.0.0.1:8000'" in items["site_url"].detail
    assert "E-mail goes nowhere (locmem)" in items["email"].detail
    assert "--send-test-message" in items["test_message"].detail
    assert "createsuperuser" in items["staff_mfa"].detail
    assert "CEU_BACKUPS_CONFIGURED" in items["backups"].detail
    assert "create_signing_key" in items["signing_keys"].detail


def test_the_command_lists_each_item_and_exits_non_zero_until_all_pass(settings, tmp_path):
    code, out = run_check()

    assert code == 1
    assert out.count("[FAIL]") == 11
    assert "11 of 11 go-live items fail" in out

    make_ready(settings, tmp_path)
    code, out = run_check()

    assert code == 0, out
    assert out.count("[PASS]") == 11
    assert "credit is live" in out


def test_each_item_passes_once_set(settings):
    golive.first_run()
    items = results()
    assert "Fill in the provider's name, contact e-mail, postal address" in items["provider"].detail
    assert "A draft" in items["policy_refund"].detail

    Provider.objects.update(name="Harbor Counseling CE", email="ce@h.org", address="12 Wharf St")
    assert "configured for real credit" in results()["provider"].detail
    Provider.objects.update(is_configured=True)
    assert results()["provider"].passed

    refund = Policy.objects.get(kind="refund")
    refund.is_published = True
    refund.save()
    assert not results()["policy_refund"].passed, "still marked DRAFT"
    refund.body = "Full refund before you start."
    refund.save()
    assert results()["policy_refund"].passed
    assert not results()["policy_grievance"].passed

    AccreditorFactory(short_name="OLD", approved_until=timezone.localdate().replace(year=2001))
    assert not results()["accreditor"].passed
    AccreditorFactory(short_name="NBCC", provider_number="7000")
    assert results()["accreditor"].detail == "NBCC (7000)."

    for url in ("https://localhost", "https://ce.example.org", "http://ce.harbor.org"):
        settings.CEU_SITE_URL = url
        assert not results()["site_url"].passed, url
    settings.CEU_SITE_URL = "https://ce.harbor.org"
    assert results()["site_url"].passed

    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    assert "(console)" in results()["email"].detail
    settings.EMAIL_BACKEND = SMTP
    assert results()["email"].passed
    assert not results()["test_message"].passed

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    golive.send_test_message(to="ops@harbor.org", actor=None)
    assert mail.outbox[-1].to == ["ops@harbor.org"]
    assert LogEntry.objects.filter(action="go_live.test_message_sent").count() == 1
    settings.EMAIL_BACKEND = SMTP
    assert results()["test_message"].passed

    staff = UserFactory(is_staff=True)
    TOTP.activate(UserFactory(is_staff=False), generate_totp_secret())
    assert not results()["staff_mfa"].passed, "a learner's authenticator does not count"
    TOTP.activate(staff, generate_totp_secret())
    assert results()["staff_mfa"].passed

    settings.CEU_BACKUPS_CONFIGURED = True
    assert results()["backups"].passed


def test_first_run_creates_drafts_once_and_says_what_to_do_next():
    out = StringIO()
    call_command("first_run", stdout=out)

    assert Provider.objects.get().name == golive.PLACEHOLDER_PROVIDER_NAME
    assert set(Policy.objects.values_list("kind", "is_published")) == {
        ("grievance", False),
        ("refund", False),
        ("accommodation", False),
    }
    assert "createsuperuser" in out.getvalue()
    assert "two-factor" in out.getvalue()

    Policy.objects.filter(kind="refund").update(body="Our own words.")
    again = StringIO()
    call_command("first_run", stdout=again)

    assert Policy.objects.count() == 3
    assert Policy.objects.get(kind="refund").body == "Our own words."
    assert "left as they are" in again.getvalue()


def test_a_policy_page_answers_on_a_fresh_database_and_names_a_contact(client):
    response = client.get("/policies/grievance/")
    assert response.status_code == 200
    assert "This provider has not published its grievance policy yet." in response.text

    golive.first_run()
    Provider.objects.update(name="Harbor Counseling CE", email="ce@harbor.org")
    cache.clear()
    response = client.get("/policies/grievance/")
    assert "has not published its grievance policy yet" in response.text, "a draft stays hidden"
    assert "DRAFT" not in response.text
    assert "mailto:ce@harbor.org" in response.text

    Policy.objects.filter(kind="grievance").update(body="Write to us.", is_published=True)
    assert "Write to us." in client.get("/policies/grievance/").text
    assert client.get("/policies/nonsense/").status_code == 404


def test_the_sample_notice_comes_off_only_when_the_checklist_passes(
    client, settings, learner, tmp_path
):
    make_ready(settings, tmp_path)
    settings.CEU_BACKUPS_CONFIGURED = False
    cache.clear()
    course = CourseFactory(slug="ghosting")
    ApprovalFactory(course=course, accreditor=AccreditorFactory(short_name="APA"))

    assert "Sample: not valid for credit." in client.get(reverse("courses:catalog")).text
    enrollment = EnrollmentFactory(user=learner, course=course, completed_at=timezone.now())
    certificate = credentials.issue_certificate(enrollment=enrollment)
    assert (
        "Sample: not valid for credit."
        in client.get(reverse("courses:verify_code", args=[certificate.code])).text
    )

    settings.CEU_BACKUPS_CONFIGURED = True
    # The result is cached for a minute; the checklist page or command refreshes it at once.
    assert "Sample: not valid for credit." in client.get(reverse("courses:catalog")).text
    assert run_check()[0] == 0

    assert "Sample: not valid for credit." not in client.get(reverse("courses:catalog")).text
    other = EnrollmentFactory(user=UserFactory(), course=course, completed_at=timezone.now())
    live = credentials.issue_certificate(enrollment=other)
    assert (
        "Sample: not valid for credit."
        not in client.get(reverse("courses:verify_code", args=[live.code])).text
    )


def test_the_checklist_page_is_for_operators_and_registrars(client, settings):
    operator = UserFactory(is_staff=True, is_superuser=True)
    registrar = UserFactory(is_staff=True)
    registrar.groups.add(Group.objects.get(name="Registrars"))
    author = UserFactory(is_staff=True)
    author.groups.add(Group.objects.get(name="Course authors"))
    for user in (operator, registrar, author):
        TOTP.activate(user, generate_totp_secret())
    url = reverse("admin_go_live")

    client.force_login(author)
    assert client.get(url).status_code == 403

    client.force_login(registrar)
    page = client.get(url)
    assert page.status_code == 200
    assert "name, contact and address" in page.text
    assert "Send a test message" not in page.text
    assert client.post(url, {"to": "x@harbor.org"}).status_code == 403

    client.force_login(operator)
    assert f'href="{url}">Go-live checklist</a>' in client.get(reverse("admin:index")).text
    page = client.get(url)
    # Only the staff accounts with two-factor authentication here pass.
    assert page.text.count("<strong>Fail</strong>") == 10
    assert page.text.count("<strong>Pass</strong>") == 1
    response = client.post(url, {"to": "ops@harbor.org"}, follow=True)
    assert "A test message was sent to ops@harbor.org" in response.text
    assert mail.outbox[-1].to == ["ops@harbor.org"]
    entry = LogEntry.objects.get(action="go_live.test_message_sent")
    assert entry.actor == operator
