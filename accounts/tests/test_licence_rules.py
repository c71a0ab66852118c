"""The licence form suggests what the board's rule says (how the renewal date is set, the hours)
once a jurisdiction and a profession are chosen: from a JSON endpoint for script, and from the
page itself without script. The learner may override both, and theirs are stored."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.models import Licence
from accounts.tests.factories import PASSWORD, LicenceFactory, UserFactory
from courses.tests.factories import (
    BoardRuleFactory,
    SubjectAreaFactory,
    SubjectRequirementFactory,
)

pytestmark = pytest.mark.django_db

RULES = reverse("accounts:licence_rules")


@pytest.fixture
def florida(db):
    rule = BoardRuleFactory(
        jurisdiction="FL",
        profession="professional_counselor",
        board="Florida Board of Mental Health Counseling (test)",
        checked_on=date(2026, 11, 28),
        cycle_months=24,
        renewal_basis="fixed_date",
        fixed_month=3,
        fixed_day=31,
        cycle_note="Licences expire March 31 of odd-numbered years.",
        hours_required=Decimal("30"),
        self_study_status="none",
    )
    SubjectRequirementFactory(
        rule=rule,
        subject=SubjectAreaFactory(slug="laws-and-rules"),
        name="Florida laws and rules",
        hours=Decimal("3"),
    )
    return rule


def _text(response) -> str:
    return " ".join(response.content.decode().split())


# --- The JSON endpoint ---------------------------------------------------------------------------


def test_the_endpoint_suggests_the_boards_renewal_pattern_and_hours(client, florida):
    response = client.get(RULES, {"jurisdiction": "FL", "profession": "professional_counselor"})

    assert response.status_code == 200
    data = response.json()
    assert data["found"] is True
    assert data["board"] == "Florida Board of Mental Health Counseling (test)"
    assert data["checked_on"] == "2026-11-28"
    assert data["hours_required"] == "30"
    assert data["cycle_months"] == 24
    assert data["renewal"] == (
        "Licences renew every 24 months, on March 31. "
        "Licences expire March 31 of odd-numbered years."
    )
    assert data["hours"].startswith("30 CE hours per renewal cycle.")
    assert "3 in Florida laws and rules, every cycle" in data["hours"]
    assert "Your board sets no cap on self-study hours." in data["hours"]
    # Odd years or even: the site does not guess a date for a two-year fixed-date cycle.
    assert data["renewal_date"] is None
    assert data["final_word"] == "Your board has the final word."


def test_a_yearly_fixed_date_suggests_the_next_renewal_date(client, time_machine):
    time_machine.move_to("2026-11-28 15:00Z")
    BoardRuleFactory(jurisdiction="TX", cycle_months=12, fixed_month=2, fixed_day=29)

    data = client.get(RULES, {"jurisdiction": "TX", "profession": "professional_counselor"}).json()

    assert data["renewal_date"] == "2027-02-28"  # no 29 February in 2027
    assert "on February 29" in data["renewal"]


@pytest.mark.parametrize(
    ("issued", "renewal"),
    [
        ("2021-06-15", "2027-06-15"),  # two 24-month cycles after issue, the next one ahead
        ("2024-02-29", "2028-02-29"),  # a leap-day licence renews on a leap day
        ("2025-08-31", "2027-08-31"),
        ("2026-11-28", "2028-11-28"),  # issued today: the first renewal is a cycle away
    ],
)
def test_a_rule_counted_from_the_issue_date_suggests_the_renewal_date(
    client, time_machine, issued, renewal
):
    time_machine.move_to("2026-11-28 15:00Z")
    BoardRuleFactory(jurisdiction="IL", cycle_months=24, renewal_basis="issue_date")
    query = {"jurisdiction": "IL", "profession": "professional_counselor"}

    without = client.get(RULES, query).json()
    data = client.get(RULES, {**query, "issued_on": issued}).json()

    assert without["renewal_date"] is None
    assert "counted from the date your licence was issued" in without["renewal"]
    assert data["renewal_date"] == renewal
    assert data["renewal_date_from_issue_date"] is True


@pytest.mark.parametrize("issued", ["2027-01-01", "2025-02-30", "yesterday", "1850-01-01"])
def test_a_bad_issue_date_answers_400_json(client, time_machine, issued):
    time_machine.move_to("2026-11-28 15:00Z")
    BoardRuleFactory(jurisdiction="IL", cycle_months=24, renewal_basis="issue_date")

    response = client.get(
        RULES, {"jurisdiction": "IL", "profession": "professional_counselor", "issued_on": issued}
    )

    assert response.status_code == 400
    assert "issued_on" in response.json()["fields"]


def test_without_script_the_issue_date_fills_in_the_renewal_date(learner_client, time_machine):
    time_machine.move_to("2026-11-28 15:00Z")
    BoardRuleFactory(jurisdiction="IL", cycle_months=24, renewal_basis="issue_date")

    response = learner_client.post(
        reverse("accounts:licence_add"),
        {
            "profession": "professional_counselor",
            "jurisdiction": "IL",
            "number": "",
            "issued_on": "2025-08-31",
            "renewal_date": "",
            "hours_required": "",
            "suggest": "1",
        },
    )

    page = _text(response)
    assert not Licence.objects.exists()
    assert "your next renewal falls on Aug 31, 2027." in page
    assert 'name="renewal_date" value="2027-08-31"' in page


@pytest.mark.parametrize(
    ("issued", "renewal", "message"),
    [
        ("2027-01-01", "2028-03-31", "A licence cannot have been issued after today."),
        ("2026-05-01", "2026-04-30", "The date first licensed comes before the renewal date."),
    ],
)
def test_an_impossible_issue_date_is_refused_and_nothing_is_lost(
    learner_client, time_machine, issued, renewal, message
):
    time_machine.move_to("2026-11-28 15:00Z")

    response = learner_client.post(
        reverse("accounts:licence_add"),
        {
            "profession": "professional_counselor",
            "jurisdiction": "FL",
            "number": "MH 12345",
            "issued_on": issued,
            "renewal_date": renewal,
            "hours_required": "30",
        },
    )

    page = _text(response)
    assert response.status_code == 200
    assert message in page
    assert not Licence.objects.exists()
    assert 'name="number" value="MH 12345"' in page


@pytest.mark.parametrize(
    ("facts", "renewal", "hours"),
    [
        (
            {"cycle_months": None, "renewal_basis": "birth_month", "hours_required": None},
            "Licences renew in your birth month; the length of the renewal cycle is not known "
            "to this site.",
            "This site does not know how many CE hours your board requires per cycle.",
        ),
        (
            {"cycle_months": 36, "renewal_basis": "unknown", "self_study_status": "unknown"},
            "Licences renew every 36 months; how the renewal date is set is not known to this "
            "site.",
            "Whether your board caps self-study hours is not known to this site.",
        ),
        (
            {"cycle_months": None, "renewal_basis": "unknown"},
            "The length of the renewal cycle and how the renewal date is set are not known to "
            "this site.",
            "30 CE hours per renewal cycle.",
        ),
    ],
)
def test_unknown_facts_are_said_to_be_unknown(client, facts, renewal, hours):
    BoardRuleFactory(jurisdiction="PA", **facts)

    data = client.get(RULES, {"jurisdiction": "PA", "profession": "professional_counselor"}).json()

    assert data["renewal"] == renewal
    assert hours in data["hours"]


def test_the_endpoint_says_when_the_site_has_no_rule(client, florida):
    response = client.get(RULES, {"jurisdiction": "WY", "profession": "psychologist"})

    assert response.status_code == 200
    assert response.json() == {
        "found": False,
        "jurisdiction": "WY",
        "profession": "psychologist",
        "hint": "This site has no rule yet for psychologist licences in Wyoming. Enter the "
        "renewal date and the hours your board gives you.",
    }


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"jurisdiction": "FL"},
        {"profession": "professional_counselor"},
        {"jurisdiction": "fl", "profession": "professional_counselor"},
        {"jurisdiction": "ZZ", "profession": "professional_counselor"},
        {"jurisdiction": "FL", "profession": "wizard"},
        {"jurisdiction": "FL\x00", "profession": "professional_counselor"},
        {"jurisdiction": "F" * 5000, "profession": "professional_counselor"},
        {"jurisdiction": ["FL", "NY"], "profession": "x"},
    ],
)
def test_bad_input_answers_400_json(client, florida, query):
    response = client.get(RULES, query)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "Choose a jurisdiction and a profession from the lists."


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_other_methods_answer_405_json(client, method):
    response = getattr(client, method)(RULES)

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert "error" in response.json()


def test_the_endpoint_keeps_its_query_count(client, florida, django_assert_num_queries):
    # The rule and its subject requirements.
    with django_assert_num_queries(2):
        client.get(RULES, {"jurisdiction": "FL", "profession": "professional_counselor"})


# --- The form, with and without script -----------------------------------------------------------


def test_the_form_carries_the_hint_box_and_its_script(learner_client):
    page = _text(learner_client.get(reverse("accounts:licence_add")))

    assert f'data-rules-url="{RULES}"' in page
    assert "accounts/js/licence_rules.js" in page
    assert 'name="suggest"' in page  # the no-script way to ask


def test_without_script_the_form_shows_the_rule_and_saves_nothing(learner_client, florida):
    response = learner_client.post(
        reverse("accounts:licence_add"),
        {
            "profession": "professional_counselor",
            "jurisdiction": "FL",
            "number": "",
            "renewal_date": "",
            "hours_required": "",
            "suggest": "Show my board's rule",
        },
    )

    page = _text(response)
    assert response.status_code == 200
    assert not Licence.objects.exists()
    assert "What the Florida Board of Mental Health Counseling (test) asks" in page
    assert "Licences renew every 24 months, on March 31." in page
    assert "30 CE hours per renewal cycle." in page
    assert "This site checked the rule on Nov 28, 2026." in page
    assert "Your board has the final word" in page
    # The board's hours are filled in for the learner to keep or change; no error is shown yet.
    assert 'name="hours_required" value="30"' in page
    assert 'value="FL" selected' in page
    assert "This field is required" not in page


def test_the_learner_overrides_the_suggestion_and_both_are_stored(learner_client, learner, florida):
    response = learner_client.post(
        reverse("accounts:licence_add"),
        {
            "profession": "professional_counselor",
            "jurisdiction": "FL",
            "number": "MH 12345",
            "renewal_date": "2029-03-31",
            "hours_required": "36",
        },
    )

    assert response.status_code == 302
    licence = Licence.objects.get(user=learner)
    assert (licence.renewal_date, licence.hours_required) == (date(2029, 3, 31), Decimal("36"))
    page = _text(learner_client.get(reverse("accounts:licence_edit", args=[licence.pk])))
    # Without script, the edit page shows the board's rule beside the learner's own figures.
    assert "30 CE hours per renewal cycle." in page
    assert "You have entered 36 hours; the board's rule says 30. Your figure is kept and used." in (
        page
    )
    assert 'name="hours_required" value="36.00"' in page


def test_a_refused_form_keeps_the_hint(learner_client, florida):
    response = learner_client.post(
        reverse("accounts:licence_add"),
        {"profession": "professional_counselor", "jurisdiction": "FL", "number": "  "},
    )

    page = _text(response)
    assert "Enter the licence number as issued." in page or "This field is required" in page
    assert "30 CE hours per renewal cycle." in page


def test_suggesting_on_the_edit_page_changes_nothing(learner_client, licence, florida):
    licence.hours_required = Decimal("36")
    licence.save()

    response = learner_client.post(
        reverse("accounts:licence_edit", args=[licence.pk]),
        {
            "profession": "psychologist",
            "jurisdiction": "WY",
            "number": licence.number,
            "renewal_date": "",
            "hours_required": "36",
            "suggest": "1",
        },
    )

    assert response.status_code == 200
    assert "This site has no rule yet for psychologist licences in Wyoming." in _text(response)
    licence.refresh_from_db()
    assert (licence.profession, licence.hours_required) == ("professional_counselor", 36)


@pytest.mark.parametrize("method", ["get", "post"])
def test_another_learners_licence_answers_404_even_when_suggesting(
    client, other_learner, licence, florida, method
):
    client.force_login(other_learner)

    response = getattr(client, method)(
        reverse("accounts:licence_edit", args=[licence.pk]),
        {"profession": "professional_counselor", "jurisdiction": "FL", "suggest": "1"},
    )

    assert response.status_code == 404


def test_the_edit_page_keeps_its_query_count(
    learner_client, learner, florida, django_assert_num_queries
):
    licence = LicenceFactory(user=learner)
    # Session, user, the licence, the rule and its subject requirements.
    with django_assert_num_queries(5):
        response = learner_client.get(reverse("accounts:licence_edit", args=[licence.pk]))
    assert response.status_code == 200


# --- With script, in Chromium --------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_choosing_a_board_shows_its_rule_and_the_learner_keeps_their_own_figures(page, live_server):
    BoardRuleFactory(
        board="Florida Board of Mental Health Counseling (test)",
        hours_required=Decimal("30"),
        cycle_note="Licences expire March 31 of odd-numbered years.",
    )
    learner = UserFactory()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(learner.email)
    page.get_by_label(re.compile(r"^\s*Password\s*\*?\s*$")).fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.goto(f"{live_server.url}{reverse('accounts:licence_add')}")
    expect(page.get_by_role("button", name="Show my board's rule")).to_be_hidden()

    page.get_by_label("Profession").select_option(label="Professional counselor")
    page.get_by_label(re.compile(r"^\s*Jurisdiction\s*\*?\s*$")).select_option(label="Florida")

    hint = page.locator("#licence-rule-hint")
    expect(hint).to_contain_text("What the Florida Board of Mental Health Counseling (test) asks")
    expect(hint).to_contain_text("Licences renew every 24 months, on March 31.")
    expect(hint).to_contain_text("30 CE hours per renewal cycle.")
    expect(hint).to_contain_text("This site checked the rule on Nov 28, 2026.")
    expect(hint).to_contain_text("Your board has the final word.")
    hours = page.get_by_label("CE hours required per renewal cycle")
    hint.get_by_role("button", name="Use 30 hours").click()
    expect(hours).to_have_value("30")

    page.get_by_label(re.compile(r"^\s*Jurisdiction\s*\*?\s*$")).select_option(label="Wyoming")
    expect(hint).to_contain_text("This site has no rule yet for professional counselor licences")

    # The learner's own figures are what is kept.
    page.get_by_label(re.compile(r"^\s*Jurisdiction\s*\*?\s*$")).select_option(label="Florida")
    expect(hint).to_contain_text("30 CE hours per renewal cycle.")
    page.get_by_label("Licence number").fill("MH 777")
    page.get_by_label("Renewal date").fill("2029-03-31")
    hours.fill("36")
    page.get_by_role("button", name="Add licence").click()
    expect(page.get_by_text("Licence added.")).to_be_visible()
    licence = Licence.objects.get(user=learner)
    assert (licence.renewal_date, licence.hours_required) == (date(2029, 3, 31), Decimal("36"))
