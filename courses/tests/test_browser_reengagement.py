"""A learner who stalled, in real Chromium: the nudge's unsubscribe link, opened from the e-mail
without signing in, asks before it stops anything; its button stops the nudges and says so. Signed
in afterwards, the learner finds the nudges switched off on the profile, and switches them back
on."""

import re

import pytest
import time_machine
from playwright.sync_api import Page, expect

from accounts.tests.factories import PASSWORD, UserFactory
from courses.models import SentMessage
from courses.tests.factories import CourseFactory
from courses.tests.test_reengagement import CHICAGO, local, run, stall

NUDGES = "Reminders about trainings I have not finished"
UNSUBSCRIBE_LINK = re.compile(r"https?://\S+/messages/unsubscribe/[^\s/]+/")


@pytest.mark.django_db(transaction=True)
def test_a_learner_unsubscribes_from_a_nudge_then_switches_nudges_back_on(
    page: Page, live_server, settings, mailoutbox
):
    # The links in the mail lead to this site as the browser reaches it.
    settings.CEU_SITE_URL = live_server.url
    learner = UserFactory(full_name="Dana Whitfield", time_zone="America/Chicago")
    course = CourseFactory(title="Why clients ghost", slug="why-clients-ghost", lessons=2)
    # Stalled on Monday 4 January 2027 in Chicago; the 3-day nudge goes on Thursday at 10:05.
    # Time moves only while the nudge is produced: the browser and the live server run on the
    # real clock.
    with time_machine.travel(local(CHICAGO, 2027, 1, 4, 15), tick=False) as traveller:
        stall(traveller, user=learner, course=course, when=local(CHICAGO, 2027, 1, 4, 15))
        assert run(traveller, local(CHICAGO, 2027, 1, 7, 10, 5)) == 1
    (nudge,) = mailoutbox
    assert nudge.to == [learner.email]
    links = UNSUBSCRIBE_LINK.findall(nudge.body)
    assert len(links) == 1, nudge.body
    link = links[0]
    assert link.startswith(live_server.url)

    # Opened from the e-mail, with no session: it asks first, and opening it stops nothing.
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Stop these e-mails?")
    expect(page.locator("main")).to_contain_text(
        "This link stops: Reminders about trainings I have not finished."
    )
    expect(page.locator("main")).to_contain_text(
        "Certificates and sign-in messages are always sent."
    )
    expect(page.get_by_role("button", name="Stop all optional messages")).to_be_visible()
    learner.refresh_from_db()
    assert learner.wants_nudges is True

    page.get_by_role("button", name="Unsubscribe", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are unsubscribed")
    expect(page.locator("main")).to_contain_text(
        "You will no longer receive: Reminders about trainings I have not finished."
    )
    expect(page.locator("main")).to_contain_text(
        "Certificates and sign-in messages are still sent."
    )
    learner.refresh_from_db()
    assert (learner.wants_nudges, learner.wants_renewal_reminders, learner.wants_new_trainings) == (
        False,
        True,
        True,
    )
    assert SentMessage.objects.get().unsubscribed_at is not None

    # From there to the profile: signing in on the way.
    page.get_by_role("link", name="Choose which messages you receive").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.locator("#id_login").fill(learner.email)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your profile")

    emails = page.get_by_role("region", name="E-mails you receive")
    nudges = emails.get_by_role("checkbox", name=NUDGES)
    expect(nudges).not_to_be_checked()
    expect(
        emails.get_by_role("checkbox", name="Reminders before my licence renewal dates")
    ).to_be_checked()
    expect(emails.get_by_role("checkbox", name="News of new trainings")).to_be_checked()

    nudges.check()
    emails.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_text("Your message preferences are saved.")).to_be_visible()
    expect(
        page.get_by_role("region", name="E-mails you receive").get_by_role("checkbox", name=NUDGES)
    ).to_be_checked()
    learner.refresh_from_db()
    assert learner.wants_nudges is True
    assert learner.time_zone == "America/Chicago"  # the other field on the form, kept
