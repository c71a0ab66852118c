"""Who reaches the admin: staff with two-factor authentication; staff without it are sent to set
it up; learners and strangers never."""

import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from django.urls import reverse

from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def current_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


@pytest.fixture
def staff(db):
    return UserFactory(email="registrar@example.com", is_staff=True)


def sign_in(client, email: str, next_url: str = "/admin/"):
    return client.post(
        f"{reverse('account_login')}?next={next_url}",
        {"login": email, "password": PASSWORD},
        follow=True,
    )


def test_strangers_are_sent_to_the_sites_sign_in(client):
    response = client.get("/admin/", follow=True)

    assert response.redirect_chain[-1][0] == f"{reverse('account_login')}?next=%2Fadmin%2F"
    assert "Sign In" in response.content.decode()


def test_staff_without_two_factor_are_sent_to_set_it_up_and_then_get_in(client, staff):
    sign_in(client, staff.email)

    response = client.get("/admin/", follow=True)

    assert response.redirect_chain[0][0] == reverse("mfa_activate_totp")
    page = response.content.decode()
    assert "Set up two-factor authentication to use the admin" in page
    assert "Site administration" not in page

    # allauth asks for the password again before a new second factor is added.
    reauthenticate = response.redirect_chain[-1][0]
    assert reauthenticate.startswith(reverse("account_reauthenticate"))
    response = client.post(reauthenticate, {"password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("mfa_activate_totp")
    secret = client.session["mfa.totp.secret"]
    client.post(reverse("mfa_activate_totp"), {"code": current_code(secret)}, follow=True)
    assert Authenticator.objects.filter(user=staff, type=Authenticator.Type.TOTP).exists()

    response = client.get("/admin/")
    assert response.status_code == 200
    assert "Courses, learners and certificates" in response.content.decode()


def test_staff_with_two_factor_give_their_code_at_sign_in(client, staff):
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)

    response = sign_in(client, staff.email)
    assert response.redirect_chain[-1][0].startswith(reverse("mfa_authenticate"))
    assert client.get("/admin/").status_code == 302  # not in yet: the code is still owed

    response = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert "Incorrect code." in response.content.decode()

    response = client.post(reverse("mfa_authenticate"), {"code": current_code(secret)}, follow=True)
    assert response.redirect_chain[-1][0] == "/admin/"
    assert response.status_code == 200
    assert "Courses, learners and certificates" in response.content.decode()


def test_learners_never_reach_the_admin(client, learner):
    client.force_login(learner)

    response = client.get("/admin/", follow=True)

    assert response.status_code == 403
    page = response.content.decode()
    assert "The admin is for staff" in page
    assert "Courses, learners and certificates" not in page
    assert client.get("/admin/accounts/user/").status_code in (302, 403)
    assert client.get("/admin/accounts/user/", follow=True).status_code == 403


def test_the_demo_may_relax_two_factor_and_says_so(client, staff, settings):
    settings.CEU_REQUIRE_STAFF_MFA = False

    login_page = client.get(f"{reverse('account_login')}?next=/admin/").content.decode()
    assert "Two-factor authentication is not required for staff on this demo site." in login_page

    client.force_login(staff)
    response = client.get("/admin/")
    assert response.status_code == 200
    assert "Two-factor authentication is not required for staff" in response.content.decode()


def test_a_site_that_requires_two_factor_says_nothing_of_relaxing_it(client):
    login_page = client.get(f"{reverse('account_login')}?next=/admin/").content.decode()

    assert "not required for staff" not in login_page


@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example/", "//evil.example/", "/\\evil.example/", "https:evil.example"],
)
def test_the_admin_sign_in_never_sends_staff_to_another_site(client, settings, next_url):
    """Today a signed-in staff member following /admin/login/?next=https://evil.example/ was
    redirected there."""
    settings.CEU_REQUIRE_STAFF_MFA = False
    client.force_login(UserFactory(is_staff=True))

    response = client.get(reverse("admin:login"), {"next": next_url})

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")


def test_the_admin_sign_in_keeps_a_next_page_on_this_site(client, settings):
    settings.CEU_REQUIRE_STAFF_MFA = False
    client.force_login(UserFactory(is_staff=True))

    response = client.get(reverse("admin:login"), {"next": "/admin/courses/course/"})

    assert response["Location"] == "/admin/courses/course/"


def test_a_stranger_is_sent_to_sign_in_with_only_a_local_next(client):
    response = client.get(reverse("admin:login"), {"next": "https://evil.example/"})

    assert response.status_code == 302
    assert "evil.example" not in response["Location"]
