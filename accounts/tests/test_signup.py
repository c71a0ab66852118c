"""Sign-up, e-mail verification and sign-in, end to end through allauth's views."""

import re

import pytest
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _sign_up(client, **overrides):
    data = {
        "full_name": "  Zoë   Ramírez-Núñez ",
        "email": "Zoe.Ramirez@Example.com",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **overrides,
    }
    return client.post(reverse("account_signup"), data, follow=True)


def _confirmation_link(message) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_sign_up_sends_a_verification_email_and_confirming_signs_in(client, mailoutbox):
    response = _sign_up(client)

    assert "Verify Your Email Address" in response.content.decode()
    user = User.objects.get()
    assert user.email == "zoe.ramirez@example.com"
    assert user.full_name == "Zoë Ramírez-Núñez"  # spaces tidied, accents kept
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["zoe.ramirez@example.com"]

    link = _confirmation_link(mailoutbox[0])
    assert client.get(link).status_code == 200  # a page with a button, never confirm-on-GET
    response = client.post(link, follow=True)

    assert response.redirect_chain[-1][0] == reverse("accounts:profile")
    assert "Zoë Ramírez-Núñez" in response.content.decode()
    assert user.emailaddress_set.get().verified


def test_a_confirmed_learner_signs_in_with_email_and_password(client, mailoutbox):
    _sign_up(client)
    client.post(_confirmation_link(mailoutbox[0]))
    client.logout()

    response = client.post(
        reverse("account_login"),
        {"login": "zoe.ramirez@example.com", "password": PASSWORD},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == reverse("courses:my_trainings")
    assert response.context["user"].is_authenticated


def test_wrong_password_is_answered_on_the_form(client):
    UserFactory(email="dana@example.com")

    response = client.post(
        reverse("account_login"), {"login": "dana@example.com", "password": "not-it"}
    )

    assert response.status_code == 200
    assert "The email address and/or password you specified are not correct." in (
        response.content.decode()
    )
    assert not response.context["user"].is_authenticated


def test_unverified_email_cannot_sign_in_and_is_told_to_verify(client, mailoutbox):
    UserFactory(email="new@example.com", verified=False)

    response = client.post(
        reverse("account_login"), {"login": "new@example.com", "password": PASSWORD}, follow=True
    )

    assert "Verify Your Email Address" in response.content.decode()
    assert not response.context["user"].is_authenticated
    assert len(mailoutbox) == 1  # a fresh link is sent


def test_sign_up_needs_a_printable_name(client, mailoutbox):
    response = _sign_up(client, full_name="   ")

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not User.objects.exists()
    assert mailoutbox == []


def test_sign_up_with_a_registered_address_creates_nothing_and_warns_its_owner(client, mailoutbox):
    UserFactory(email="dana@example.com")

    response = _sign_up(client, email="DANA@example.com")

    # The page reads as for any sign-up, so nobody can probe which addresses have accounts;
    # the owner of the address is told by e-mail instead.
    assert "Verify Your Email Address" in response.content.decode()
    assert User.objects.count() == 1
    assert [message.to for message in mailoutbox] == [["dana@example.com"]]
    assert "Account Already Exists" in mailoutbox[0].subject


def test_sign_up_refuses_mismatched_and_weak_passwords(client):
    response = _sign_up(client, password2="something-else-entirely")
    assert "You must type the same password each time." in response.content.decode()

    response = _sign_up(client, password1="password", password2="password")
    assert "This password is too common." in response.content.decode()
    assert not User.objects.exists()


def test_failed_logins_are_rate_limited(client):
    UserFactory(email="dana@example.com")
    for _attempt in range(5):
        client.post(reverse("account_login"), {"login": "dana@example.com", "password": "no"})

    response = client.post(
        reverse("account_login"), {"login": "dana@example.com", "password": PASSWORD}
    )

    assert "Too many failed login attempts. Try again later." in response.content.decode()
    assert not response.context["user"].is_authenticated


def test_password_reset_sends_a_link_that_sets_a_new_password(client, mailoutbox):
    UserFactory(email="dana@example.com")

    client.post(reverse("account_reset_password"), {"email": "dana@example.com"})
    assert len(mailoutbox) == 1
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/[^\s]+/)", mailoutbox[0].body)
    assert link, mailoutbox[0].body
    form_url = client.get(link.group(1), follow=True).redirect_chain[-1][0]
    new_password = "a-fresh-and-long-passphrase"
    client.post(form_url, {"password1": new_password, "password2": new_password})

    assert client.login(email="dana@example.com", password=new_password)
