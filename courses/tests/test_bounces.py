"""Hard bounces and complaints reported by the mail provider (django-anymail's tracking webhook)
stop all optional mail to the address; a soft bounce stops nothing, and transactional mail
still goes."""

import base64
import json
from datetime import date

import pytest
from anymail.signals import AnymailTrackingEvent, tracking
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import LicenceFactory, UserFactory
from courses.models import MailSuppression
from courses.services.renewals import send_renewal_reminders
from courses.tests.factories import BoardRuleFactory, CourseFactory
from courses.tests.test_reengagement import CHICAGO, local, run, stall

pytestmark = pytest.mark.django_db

WEBHOOK = "/anymail/postmark/tracking/"
AUTH = "Basic " + base64.b64encode(b"webhook:test-only-secret").decode()


def postmark(record_type: str, email: str, **fields) -> dict:
    return {
        "RecordType": record_type,
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Email": email,
        "BouncedAt": "2027-01-07T16:00:00Z",
        "Description": "The server was unable to deliver your message.",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        **fields,
    }


def post(payload: dict, *, auth: str | None = AUTH):
    headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
    return Client().post(WEBHOOK, json.dumps(payload), content_type="application/json", **headers)


@pytest.fixture
def learner(db):
    return UserFactory(email="dana@example.com", time_zone="America/Chicago")


def test_a_hard_bounce_stops_nudges_and_reminders_but_not_transactional_mail(
    time_machine, learner, mailoutbox
):
    assert post(postmark("Bounce", "Dana@Example.com", Type="HardBounce")).status_code == 200
    assert MailSuppression.objects.get().reason == "bounced"

    stall(time_machine, user=learner, course=CourseFactory(), when=local(CHICAGO, 2027, 1, 4, 15))
    assert run(time_machine, local(CHICAGO, 2027, 1, 7, 10, 5)) == 0
    BoardRuleFactory()
    LicenceFactory(user=learner, renewal_date=date(2027, 3, 31))
    time_machine.move_to(local(CHICAGO, 2026, 12, 31, 12), tick=False)
    assert send_renewal_reminders() == 0
    assert mailoutbox == []

    Client().post(reverse("account_reset_password"), {"email": learner.email})
    assert [m.to for m in mail.outbox] == [[learner.email]]


def test_a_complaint_stops_optional_mail(learner):
    assert post(postmark("SpamComplaint", learner.email, Type="SpamComplaint")).status_code == 200

    assert MailSuppression.objects.get().reason == "complained"


def test_a_soft_bounce_stops_nothing(time_machine, learner, mailoutbox):
    payload = postmark(
        "Bounce", learner.email, Type="SoftBounce", Details="smtp;452 4.2.2 Mailbox full"
    )
    assert post(payload).status_code == 200
    assert not MailSuppression.objects.exists()

    stall(time_machine, user=learner, course=CourseFactory(), when=local(CHICAGO, 2027, 1, 4, 15))
    assert run(time_machine, local(CHICAGO, 2027, 1, 7, 10, 5)) == 1


def test_the_webhook_refuses_a_caller_without_the_shared_secret(learner):
    response = post(postmark("Bounce", learner.email, Type="HardBounce"), auth=None)

    assert response.status_code in (400, 401, 403)
    assert not MailSuppression.objects.exists()


def test_any_providers_tracking_event_counts_and_a_repeat_keeps_the_first_reason(learner):
    for event_type in ("complained", "bounced"):
        tracking.send(
            sender=object,
            event=AnymailTrackingEvent(
                event_type=event_type, recipient=learner.email, mta_response="550 5.7.1"
            ),
            esp_name="Mailgun",
        )

    (suppression,) = MailSuppression.objects.all()
    assert (suppression.reason, suppression.provider) == ("complained", "Mailgun")
