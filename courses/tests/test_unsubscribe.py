"""One-click unsubscribe (RFC 8058) from a plain HTTP client with no session, the profile's
switches and time zone, the time zone guessed at sign-up, and transactional mail that no
switch or suppression stops."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory
from courses.models import MailSuppression, SentMessage
from courses.services import messaging
from courses.tests.factories import CourseFactory
from courses.tests.test_reengagement import CHICAGO, local, run, stall

pytestmark = pytest.mark.django_db


@pytest.fixture
def nudged(time_machine, mailoutbox):
    """A learner who received the 3-day nudge; returns the learner and the message."""
    learner = UserFactory(time_zone="America/Chicago")
    course = CourseFactory(lessons=2)
    stall(time_machine, user=learner, course=course, when=local(CHICAGO, 2027, 1, 4, 15))
    assert run(time_machine, local(CHICAGO, 2027, 1, 7, 10, 5)) == 1
    return learner, mailoutbox[0]


def link_of(message) -> str:
    header = message.extra_headers["List-Unsubscribe"]
    url = re.fullmatch(r"<(https?://[^>]+)>", header).group(1)
    assert url in message.body  # the same link, readable in the text
    return url.removeprefix("http://127.0.0.1:8000")


def test_the_mail_clients_one_click_post_unsubscribes_without_a_session(nudged):
    learner, message = nudged
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # A mail provider's POST: no cookie, no CSRF token, just RFC 8058's body.
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        link_of(message),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert "You are unsubscribed" in response.text
    learner.refresh_from_db()
    assert learner.wants_nudges is False
    assert learner.wants_renewal_reminders is True  # only the kind the message was
    assert SentMessage.objects.get().unsubscribed_at is not None


def test_opening_the_link_only_asks_and_a_second_post_changes_nothing(nudged):
    learner, message = nudged
    client = Client(enforce_csrf_checks=True)

    page = client.get(link_of(message))
    assert page.status_code == 200
    assert "Reminders about trainings I have not finished" in page.text
    assert "no-store" in page["Cache-Control"] or "no-cache" in page["Cache-Control"]
    learner.refresh_from_db()
    assert learner.wants_nudges is True  # a link scanner's GET stops nothing

    for _ in range(2):
        assert client.post(link_of(message)).status_code == 200
    learner.refresh_from_db()
    assert learner.wants_nudges is False


def test_the_page_can_stop_every_optional_message(nudged):
    learner, message = nudged

    response = Client().post(link_of(message), {"scope": "all"})

    assert "any optional message" in response.text
    learner.refresh_from_db()
    assert learner.wants_nudges is False
    assert learner.wants_renewal_reminders is False
    assert learner.wants_new_trainings is False


def test_an_altered_link_answers_404_and_stops_nothing(nudged):
    learner, message = nudged
    url = link_of(message)
    token = url.rstrip("/").rsplit("/", 1)[1]
    forged = messaging.unsubscribe_token(user=learner, kind="nudge").replace(token[:5], "AAAAA")

    assert Client().post(url.replace(token, token[:-2] + "xy")).status_code == 404
    assert Client().post(reverse("courses:unsubscribe", args=[forged + "x"])).status_code == 404
    learner.refresh_from_db()
    assert learner.wants_nudges is True


def test_an_unsubscribed_learner_is_not_nudged_again(time_machine, nudged, mailoutbox):
    _learner, message = nudged
    Client().post(link_of(message))

    assert run(time_machine, local(CHICAGO, 2027, 1, 14, 10, 5)) == 0
    assert len(mailoutbox) == 1


def test_the_profile_sets_the_switches_and_the_time_zone(learner_client, learner):
    page = learner_client.get(reverse("accounts:profile"))
    assert "E-mails you receive" in page.text
    assert 'value="America/Chicago"' in page.text

    response = learner_client.post(
        reverse("accounts:profile"),
        {
            "time_zone": "Europe/Berlin",
            "wants_nudges": "",
            "wants_renewal_reminders": "on",
            "wants_new_trainings": "",
            "save_preferences": "Save preferences",
        },
    )

    assert response.status_code == 302
    learner.refresh_from_db()
    assert learner.time_zone == "Europe/Berlin"
    assert (learner.wants_nudges, learner.wants_renewal_reminders) == (False, True)
    assert learner.wants_new_trainings is False
    assert learner.full_name == "Dana Whitfield"  # the name form was not touched


def test_the_profile_refuses_a_time_zone_it_does_not_know(learner_client, learner):
    response = learner_client.post(
        reverse("accounts:profile"),
        {"time_zone": "Mars/Olympus_Mons", "save_preferences": "1"},
    )

    assert response.status_code == 200
    assert "Choose a time zone from the list" in response.text
    learner.refresh_from_db()
    assert learner.time_zone == ""


def test_sign_up_keeps_the_time_zone_the_browser_gave(client):
    page = client.get(reverse("account_signup"))
    assert 'name="time_zone"' in page.text
    # The script that fills it is a static file: the policy forbids inline script.
    assert re.search(r'<script src="/static/accounts/js/time_zone\.js" defer>', page.text)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text)
    assert "'unsafe-inline'" not in page["Content-Security-Policy"]

    client.post(
        reverse("account_signup"),
        {
            "full_name": "Ana Lima",
            "email": "ana@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "time_zone": "America/Sao_Paulo",
        },
    )

    assert User.objects.get(email="ana@example.com").time_zone == "America/Sao_Paulo"


def test_sign_up_drops_a_time_zone_it_does_not_know(client):
    client.post(
        reverse("account_signup"),
        {
            "full_name": "Ana Lima",
            "email": "ana@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "time_zone": "Nowhere/Special",
        },
    )

    assert User.objects.get(email="ana@example.com").time_zone == ""


def test_transactional_mail_goes_to_an_address_that_opted_out_and_bounced(client, learner):
    learner.wants_nudges = learner.wants_renewal_reminders = learner.wants_new_trainings = False
    learner.save()
    MailSuppression.objects.create(email=learner.email, reason="complained")

    client.post(reverse("account_reset_password"), {"email": learner.email})

    assert [m.to for m in mail.outbox] == [[learner.email]]
    assert "password" in mail.outbox[0].subject.lower()
