"""The new learner's first journey in real Chromium: sign up, confirm by the e-mailed link, add a
licence, and see it listed."""

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.tests.factories import PASSWORD


@pytest.mark.django_db(transaction=True)
def test_sign_up_confirm_and_add_a_licence(page: Page, live_server, mailoutbox):
    page.goto(live_server.url)
    page.get_by_role("link", name="Create an account").first.click()

    page.get_by_label("Name as printed on certificates").fill("Zoë Ramírez-Núñez")
    page.get_by_label("Email").fill("zoe@example.com")
    page.get_by_label(re.compile(r"^\s*Password\s*\*?\s*$")).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_role("heading", name="Verify Your Email Address")).to_be_visible()

    assert len(mailoutbox) == 1
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mailoutbox[0].body).group(0)
    page.goto(link)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Your profile")).to_be_visible()
    expect(page.get_by_role("textbox", name="Name as printed on certificates")).to_have_value(
        "Zoë Ramírez-Núñez"
    )

    page.get_by_role("link", name="Add a licence").click()
    page.get_by_label("Profession").select_option(label="Clinical social worker")
    page.get_by_label(re.compile(r"^\s*Jurisdiction\s*\*?\s*$")).select_option(label="New York")
    page.get_by_label("Licence number").fill("  LCSW-R 0123456 ")
    page.get_by_label("Renewal date").fill("2027-10-31")
    page.get_by_label("CE hours required per renewal cycle").fill("36")
    page.get_by_role("button", name="Add licence").click()

    expect(page.get_by_text("Licence added.")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="LCSW-R 0123456")
    expect(row).to_contain_text("Clinical social worker")
    expect(row).to_contain_text("New York")
    expect(row).to_contain_text("Oct 31, 2027")
