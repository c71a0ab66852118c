"""The board rules shipped with the site: built from researched sources, every fact with the page
it comes from and the date it was checked, every unknown fact saying where it was looked for."""

import json
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db.models import Q
from django.urls import reverse

from courses.management.commands.build_board_rules import render_fixture
from courses.models import AcceptedApproval, BoardRule, FactStatus, SubjectRequirement

FIXTURE = Path(settings.BASE_DIR, "fixtures", "board_rules.json")
LARGEST_MARKETS = ["CA", "TX", "FL", "NY", "PA", "IL", "OH"]
PROFESSIONS = [
    "psychologist",
    "professional_counselor",
    "clinical_social_worker",
    "marriage_family_therapist",
    "addiction_counselor",
]
PROVINCES = {"AB", "BC", "ON", "QC"}


def test_the_fixture_is_what_the_sources_build():
    # Edit fixtures/boards/source/*.toml and run `manage.py build_board_rules`, never the JSON.
    assert FIXTURE.read_text(encoding="utf-8") == render_fixture()


def rules() -> list[dict]:
    return [
        o["fields"] for o in json.loads(FIXTURE.read_text()) if o["model"] == "courses.boardrule"
    ]


def test_the_largest_markets_and_a_province_are_covered_for_every_profession():
    present = {(rule["jurisdiction"], rule["profession"]) for rule in rules()}

    for jurisdiction in LARGEST_MARKETS:
        for profession in PROFESSIONS:
            assert (jurisdiction, profession) in present, (jurisdiction, profession)
    assert any(
        (province, profession) in present for province in PROVINCES for profession in PROFESSIONS
    )


def test_every_stated_fact_names_its_source_and_every_unknown_one_says_so():
    for rule in rules():
        where = (rule["jurisdiction"], rule["profession"])
        assert rule["checked_on"], where
        if rule["cycle_months"] is not None or rule["renewal_basis"] != "unknown":
            assert rule["cycle_source"].startswith("http"), where
        else:
            assert rule["unknown_notes"].get("cycle"), where
        if rule["hours_required"] is not None:
            assert rule["hours_source"].startswith("http"), where
        else:
            assert rule["unknown_notes"].get("hours") or rule["hours_source"], where
        if rule["self_study_status"] == FactStatus.UNKNOWN:
            assert rule["unknown_notes"].get("self_study"), where
        else:
            assert rule["self_study_source"].startswith("http"), where
        if rule["approvals_status"] == FactStatus.UNKNOWN:
            assert rule["unknown_notes"].get("approvals"), where


@pytest.mark.django_db
def test_the_fixture_loads_with_its_requirements_and_approvals():
    call_command("loaddata", FIXTURE, verbosity=0)

    assert BoardRule.objects.count() == len(rules())
    assert SubjectRequirement.objects.exclude(source__startswith="http").count() == 0
    assert AcceptedApproval.objects.exclude(source__startswith="http").count() == 0
    # Every fact the sources looked at carries the date it was checked.
    assert not BoardRule.objects.filter(
        Q(cycle_checked_on=None) | Q(hours_checked_on=None) | Q(self_study_checked_on=None)
    ).exists()
    assert not SubjectRequirement.objects.filter(checked_on=None).exists()
    assert not AcceptedApproval.objects.filter(checked_on=None).exists()
    # Loading again changes nothing.
    call_command("loaddata", FIXTURE, verbosity=0)
    assert BoardRule.objects.count() == len(rules())


def test_no_fact_rests_on_a_third_party_copy():
    sources = [
        value
        for o in json.loads(FIXTURE.read_text())
        for key, value in o["fields"].items()
        if key.endswith("source") and value
    ]

    assert sources
    for host in ["cornell.edu", "justia.com", "casetext.com", "elaws.us"]:
        assert not [s for s in sources if host in s], host


def test_a_fact_read_only_on_a_copy_is_recorded_as_unknown(tmp_path):
    (tmp_path / "FL.toml").write_text(
        """
jurisdiction = "FL"
[[rules]]
profession = "psychologist"
board = "Board of Psychology"
checked_on = 2026-11-28
  [rules.hours]
  required = 40
  source = "https://www.law.cornell.edu/regulations/florida/64B19-13-003"
  [[rules.approvals]]
  body = "APA"
  source = "https://regulations.justia.com/states/florida/64b19-13"
""",
        encoding="utf-8",
    )

    fields = json.loads(render_fixture(tmp_path))
    rule = next(o["fields"] for o in fields if o["model"] == "courses.boardrule")

    assert rule["hours_required"] is None
    assert "third-party copy (law.cornell.edu)" in rule["unknown_notes"]["hours"]
    assert rule["approvals_status"] == "unknown"
    assert not [o for o in fields if o["model"] == "courses.acceptedapproval"]


def test_each_fact_keeps_its_own_checked_date_or_takes_the_rules(tmp_path):
    (tmp_path / "NY.toml").write_text(
        """
jurisdiction = "NY"
[[rules]]
profession = "psychologist"
board = "State Board for Psychology"
checked_on = 2026-11-28
  [rules.cycle]
  months = 36
  renewal = "issue_date"
  source = "https://www.op.nysed.gov/registration"
  checked_on = 2027-01-15
  [rules.hours]
  required = 36
  source = "https://www.op.nysed.gov/ce"
  [rules.self_study]
  unknown = true
  note = "No cap found on the CE page."
  checked_on = 2026-12-02
  [[rules.subjects]]
  subject = "ethics"
  name = "Ethics"
  hours = 3
  source = "https://www.op.nysed.gov/ce"
  checked_on = 2027-02-01
  [[rules.subjects]]
  subject = "child-abuse"
  name = "Child abuse identification"
  hours = 2
  source = "https://www.op.nysed.gov/ce"
  [[rules.approvals]]
  body = "APA"
  source = "https://www.op.nysed.gov/providers"
  [[rules.approvals]]
  unknown = true
  note = "Whether NBCC approval counts was not found."
  checked_on = 2027-03-03
""",
        encoding="utf-8",
    )

    objects = json.loads(render_fixture(tmp_path))
    rule = next(o["fields"] for o in objects if o["model"] == "courses.boardrule")
    subjects = {
        o["fields"]["name"]: o["fields"]["checked_on"]
        for o in objects
        if o["model"] == "courses.subjectrequirement"
    }
    approvals = [o["fields"] for o in objects if o["model"] == "courses.acceptedapproval"]

    assert rule["checked_on"] == "2026-11-28"
    assert rule["cycle_checked_on"] == "2027-01-15"
    assert rule["hours_checked_on"] == "2026-11-28"
    # An unknown fact is dated with the day it was looked for.
    assert rule["self_study_status"] == "unknown"
    assert rule["self_study_checked_on"] == "2026-12-02"
    assert subjects == {"Ethics": "2027-02-01", "Child abuse identification": "2026-11-28"}
    assert [(a["body"], a["checked_on"]) for a in approvals] == [("APA", "2026-11-28")]
    assert "(looked for on 2027-03-03)" in rule["unknown_notes"]["approvals"]


def test_a_fact_dated_with_anything_but_a_date_is_refused(tmp_path):
    (tmp_path / "OH.toml").write_text(
        """
jurisdiction = "OH"
[[rules]]
profession = "psychologist"
board = "Board"
checked_on = 2026-11-28
  [rules.hours]
  required = 40
  source = "https://psychology.ohio.gov/ce"
  checked_on = "last week"
""",
        encoding="utf-8",
    )

    with pytest.raises(CommandError, match="hours checked_on: checked_on must be a date"):
        render_fixture(tmp_path)


def test_a_source_that_is_not_an_address_is_refused(tmp_path):
    (tmp_path / "TX.toml").write_text(
        """
jurisdiction = "TX"
[[rules]]
profession = "psychologist"
board = "Board"
checked_on = 2026-11-28
  [rules.hours]
  required = 40
  source = "the board told me"
""",
        encoding="utf-8",
    )

    with pytest.raises(CommandError, match="address of the page read"):
        render_fixture(tmp_path)


@pytest.mark.django_db
def test_the_shipped_rules_drive_the_transcript(client):
    """A learner with licences in New York and Texas: the transcript takes each board's hours,
    cycle and self-study cap from the fixture, and says where the site is assuming."""
    from accounts.tests.factories import LicenceFactory, UserFactory

    call_command("loaddata", FIXTURE, verbosity=0)
    learner = UserFactory()
    LicenceFactory(
        user=learner,
        profession="clinical_social_worker",
        jurisdiction="NY",
        number="087654",
        renewal_date=date(2027, 6, 30),
        hours_required=None,
    )
    LicenceFactory(
        user=learner,
        profession="professional_counselor",
        jurisdiction="TX",
        number="LPC 1234",
        renewal_date=date(2027, 6, 30),
        hours_required=None,
    )
    client.force_login(learner)

    html = client.get(reverse("courses:transcript")).content.decode()

    assert "New York State Board for Social Work" in html
    assert "36 hours" in html or "of 36" in html  # the board's 36 hours over three years
    assert "At most 12 hours of" in html  # New York's self-study cap
    assert "Texas State Board of Examiners of Professional Counselors" in html
    assert "Assumed cycle" in html  # Texas's cycle length could not be sourced
    assert "Your board has the final word" in html
    assert "Nov 28, 2026" in html  # when the rules were checked


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("jurisdiction", "profession"),
    [(r["jurisdiction"], r["profession"]) for r in rules()],
)
def test_every_shipped_rule_renders_on_the_transcript_pdf_and_licence_form(
    client, jurisdiction, profession
):
    """No shipped rule, with whatever it leaves unknown, breaks a page that reads it."""
    from accounts.tests.factories import LicenceFactory, UserFactory

    call_command("loaddata", FIXTURE, verbosity=0)
    learner = UserFactory()
    LicenceFactory(
        user=learner,
        profession=profession,
        jurisdiction=jurisdiction,
        number="A-1",
        renewal_date=date(2028, 2, 29),
    )
    client.force_login(learner)

    assert client.get(reverse("courses:transcript")).status_code == 200
    assert client.get(reverse("courses:transcript_pdf")).status_code == 200
    hint = client.get(
        reverse("accounts:licence_rules"),
        {"jurisdiction": jurisdiction, "profession": profession},
    )
    assert hint.status_code == 200
