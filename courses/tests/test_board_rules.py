"""Board rules drive the transcript: the renewal cycle per board (29 February and month ends
included, a completion on the renewal date in the cycle ending that day), the hours required,
the self-study cap, subject requirements met only under an approval the board accepts, past
cycles kept, and "your board has the final word" with the date the rule was checked, on the page
and in the PDF. Today is 28 November 2026 throughout."""

import io
import re
from datetime import date, datetime, time
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from accounts.tests.factories import LicenceFactory, UserFactory
from courses.credentials_record import CertificateRecord, record_of
from courses.selectors import cycle_for, transcript_of
from courses.selectors.boards import add_months
from courses.services import caching, credentials
from courses.tests.factories import (
    AcceptedApprovalFactory,
    AccreditorFactory,
    ApprovalFactory,
    BoardRuleFactory,
    CourseFactory,
    EnrollmentFactory,
    SubjectAreaFactory,
    SubjectRequirementFactory,
)

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 28)


@pytest.fixture(autouse=True)
def today(time_machine):
    time_machine.move_to(datetime(2026, 11, 28, 15, 0, tzinfo=timezone.get_default_timezone()))


# --- Helpers -------------------------------------------------------------------------------------


def accreditor(body: str, *professions: str):
    return AccreditorFactory(
        short_name=f"{body} (test)",
        body=body,
        professions=list(professions or ["professional_counselor"]),
        approved_from=None,
        approved_until=None,
    )


def training(*approvals, hours: str = "3", subjects: tuple[str, ...] = ()):
    """A course of `hours` teaching `subjects`; each approval is (accreditor, subjects it
    covers) and grants the course's hours."""
    course = CourseFactory(ce_hours=Decimal(hours), lessons=0)
    course.subjects.set([SubjectAreaFactory(slug=slug) for slug in subjects])
    for approving, covers in approvals:
        approval = ApprovalFactory(
            course=course,
            accreditor=approving,
            hours=Decimal(hours),
            valid_from=date(2020, 1, 1),
            valid_until=date(2030, 12, 31),
        )
        approval.subjects.set([SubjectAreaFactory(slug=slug) for slug in covers])
    return course


def complete(learner, course, on: date):
    completed_at = timezone.make_aware(datetime.combine(on, time(12)))
    enrollment = EnrollmentFactory(user=learner, course=course, completed_at=completed_at)
    return credentials.issue_certificate(enrollment=enrollment)


def page_of(client) -> str:
    response = client.get(reverse("courses:transcript"))
    assert response.status_code == 200
    return " ".join(response.content.decode().split())


def section(page: str, licence) -> str:
    """The transcript's part about one licence."""
    start = page.index(f'data-licence="{licence.pk}"')
    return page[start : page.index("</article>", start)]


def pdf_pages(client) -> list[str]:
    response = client.get(reverse("courses:transcript_pdf"))
    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.content))
    return [" ".join(page.extract_text().split()) for page in reader.pages]


# --- Rules per board -----------------------------------------------------------------------------


def test_each_boards_rule_drives_its_licence(learner_client, learner):
    florida = BoardRuleFactory(
        jurisdiction="FL", profession="professional_counselor", accepted=["NBCC"]
    )
    new_york = BoardRuleFactory(
        jurisdiction="NY",
        profession="professional_counselor",
        board="New York State Board for Mental Health Practitioners (test)",
        checked_on=date(2026, 11, 20),
        cycle_months=36,
        renewal_basis="birth_month",
        hours_required=Decimal("36"),
    )
    fl = LicenceFactory(user=learner, jurisdiction="FL", renewal_date=date(2027, 3, 31))
    ny = LicenceFactory(user=learner, jurisdiction="NY", renewal_date=date(2028, 12, 31))
    complete(learner, training((accreditor("NBCC"), ())), on=date(2026, 6, 1))

    page = page_of(learner_client)

    in_florida = section(page, fl)
    assert florida.board in in_florida
    assert "as this site checked it on Nov 28, 2026" in in_florida
    assert "Your board has the final word." in in_florida
    # The board's 24-month cycle and 30 hours, the learner having entered none.
    assert "Current cycle: Apr 1, 2025 to renewal on Mar 31, 2027" in in_florida
    assert "<strong>27</strong> of 30" in in_florida
    assert "(your board's hours; you have not entered your own)" in in_florida
    assert "not confirmed" not in in_florida

    in_new_york = section(page, ny)
    assert new_york.board in in_new_york
    assert "as this site checked it on Nov 20, 2026" in in_new_york
    # 36 months up to the renewal date; the board's accepted approvals are unknown to the site.
    assert "Current cycle: Jan 1, 2026 to renewal on Dec 31, 2028" in in_new_york
    assert "<strong>33</strong> of 36" in in_new_york
    assert "3 of these hours are not confirmed for your board" in in_new_york


def test_a_licence_without_a_rule_says_its_cycle_is_an_assumption(learner_client, learner):
    licence = LicenceFactory(
        user=learner,
        jurisdiction="OH",
        renewal_date=date(2027, 10, 31),
        hours_required=Decimal("30"),
    )

    page = page_of(learner_client)

    mine = section(page, licence)
    assert "This site has no rule yet for this board" in mine
    assert "Current cycle: Nov 1, 2025 to renewal on Oct 31, 2027" in mine
    assert "Assumed cycle: this site does not know how long your board's renewal" in mine
    assert "not your board's rule" in mine
    assert "<strong>30</strong> of 30" in mine


def test_a_rule_with_an_unknown_cycle_length_falls_back_to_an_assumption(learner_client, learner):
    BoardRuleFactory(cycle_months=None, renewal_basis="unknown")
    licence = LicenceFactory(user=learner, renewal_date=date(2027, 3, 31))

    mine = section(page_of(learner_client), licence)

    assert "Current cycle: Apr 1, 2025 to renewal on Mar 31, 2027" in mine
    assert "Assumed cycle" in mine
    assert "Your board has the final word." in mine


# --- Cycle boundaries ----------------------------------------------------------------------------


def test_a_completion_on_the_renewal_date_counts_in_the_cycle_ending_that_day(
    learner_client, learner
):
    BoardRuleFactory(hours_required=Decimal("30"))
    # The renewal date has passed: the cycle rolls forward by a whole cycle.
    licence = LicenceFactory(user=learner, renewal_date=date(2026, 3, 31))
    counselors = accreditor("STATE BOARD")
    complete(learner, training((counselors, ()), hours="2"), on=date(2026, 3, 30))
    complete(learner, training((counselors, ()), hours="3"), on=date(2026, 3, 31))
    complete(learner, training((counselors, ()), hours="1"), on=date(2026, 4, 1))

    mine = section(page_of(learner_client), licence)

    assert "Current cycle: Apr 1, 2026 to renewal on Mar 31, 2028" in mine
    assert "<strong>29</strong> of 30" in mine  # only the day after the renewal counts now
    assert "Apr 1, 2024 to Mar 31, 2026: 5 hours counted" in mine  # kept, as a past cycle
    assert "489 days left" in mine


def test_on_the_renewal_date_itself_the_cycle_ending_today_is_current(
    learner_client, learner, time_machine
):
    BoardRuleFactory(hours_required=Decimal("30"))
    licence = LicenceFactory(user=learner, renewal_date=date(2026, 3, 31))
    counselors = accreditor("STATE BOARD")
    complete(learner, training((counselors, ()), hours="2"), on=date(2026, 3, 30))
    time_machine.move_to(datetime(2026, 3, 31, 23, 0, tzinfo=timezone.get_default_timezone()))
    complete(learner, training((counselors, ()), hours="3"), on=date(2026, 3, 31))

    mine = section(page_of(learner_client), licence)

    assert "Current cycle: Apr 1, 2024 to renewal on Mar 31, 2026" in mine
    assert "<strong>25</strong> of 30" in mine
    assert "0 days left" in mine


@pytest.mark.parametrize(
    ("renewal", "months", "cycle", "past"),
    [
        # A renewal on 29 February two years ahead: the cycle starts the day after the 28th.
        (date(2028, 2, 29), 24, "Mar 1, 2026 to renewal on Feb 29, 2028", "Mar 1, 2024 to Feb 28"),
        # Passed: rolls forward through 28 February 2026 to 29 February 2028.
        (date(2024, 2, 29), 24, "Mar 1, 2026 to renewal on Feb 29, 2028", "Mar 1, 2024 to Feb 28"),
        # A yearly cycle: 28 February in years without a 29th.
        (date(2024, 2, 29), 12, "Mar 1, 2026 to renewal on Feb 28, 2027", "Mar 1, 2025 to Feb 28"),
        # Month ends: six months from 31 August is the end of February, never 3 March.
        (date(2026, 8, 31), 6, "Sep 1, 2026 to renewal on Feb 28, 2027", "Mar 1, 2026 to Aug 31"),
    ],
)
def test_29_february_and_month_ends(learner_client, learner, renewal, months, cycle, past):
    BoardRuleFactory(cycle_months=months)
    licence = LicenceFactory(user=learner, renewal_date=renewal)
    complete(learner, training((accreditor("STATE BOARD"), ())), on=date(2026, 2, 28))
    complete(learner, training((accreditor("STATE BOARD"), ())), on=date(2026, 8, 31))

    mine = section(page_of(learner_client), licence)

    assert f"Current cycle: {cycle}" in mine
    assert f"{past}, 2026: 3 hours counted" in mine
    assert pdf_pages(learner_client)  # the PDF renders too


@pytest.mark.parametrize("renewal", [date(2028, 2, 29), date(2024, 2, 29)])
def test_29_february_without_a_rule(learner_client, learner, renewal):
    licence = LicenceFactory(user=learner, jurisdiction="OH", renewal_date=renewal)

    mine = section(page_of(learner_client), licence)

    assert "Current cycle: Mar 1, 2026 to renewal on Feb 29, 2028" in mine
    assert "Assumed cycle" in mine
    assert any("Mar 1, 2026 to renewal on Feb 29, 2028" in p for p in pdf_pages(learner_client))


def test_a_renewal_date_more_than_a_cycle_away_is_questioned(learner_client, learner):
    BoardRuleFactory()
    licence = LicenceFactory(user=learner, renewal_date=date(2030, 3, 31))
    complete(learner, training((accreditor("STATE BOARD"), ())), on=date(2026, 11, 2))

    mine = section(page_of(learner_client), licence)

    assert "Current cycle: Apr 1, 2028 to renewal on Mar 31, 2030" in mine
    assert "Your renewal date is more than one cycle away" in mine
    assert "Apr 1, 2026 to Mar 31, 2028: 3 hours counted" in mine


def test_month_arithmetic_clamps_and_never_drifts(learner):
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2024, 2, 29), 48) == date(2028, 2, 29)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)
    rule = BoardRuleFactory(cycle_months=1)
    licence = LicenceFactory(user=learner, renewal_date=date(2026, 1, 31))
    # Worked out from the renewal date, not month by month: March ends on the 31st again.
    cycle = cycle_for(licence, rule, date(2026, 3, 15))
    assert (cycle.start, cycle.end) == (date(2026, 3, 1), date(2026, 3, 31))
    start, end = cycle_for(licence, rule, date(2026, 2, 28))
    assert (start, end) == (date(2026, 2, 1), date(2026, 2, 28))


# --- The self-study cap --------------------------------------------------------------------------


def test_hours_beyond_the_self_study_cap_are_shown_but_not_counted(learner_client, learner):
    BoardRuleFactory(
        jurisdiction="NY",
        cycle_months=36,
        hours_required=Decimal("36"),
        self_study_status="known",
        self_study_cap_hours=Decimal("12"),
        self_study_kind="self-study",
    )
    licence = LicenceFactory(user=learner, jurisdiction="NY", renewal_date=date(2028, 12, 31))
    nbcc = accreditor("NBCC")
    for month in range(2, 7):
        complete(learner, training((nbcc, ())), on=date(2026, month, 1))

    mine = section(page_of(learner_client), licence)

    assert "At most 12 hours of self-study count per cycle." in mine
    assert "Self-study this cycle: 15 hours." in mine
    assert "3 hours over the cap are shown but not counted." in mine
    assert "<strong>24</strong> of 36" in mine
    pdf = " ".join(pdf_pages(learner_client))
    assert "3 over the cap shown but not counted" in pdf
    assert "24 of 36" in pdf


def test_the_cap_applies_per_cycle(learner_client, learner):
    BoardRuleFactory(
        self_study_status="known",
        self_study_cap_hours=Decimal("3"),
        hours_required=Decimal("30"),
    )
    licence = LicenceFactory(user=learner, renewal_date=date(2027, 3, 31))
    nbcc = accreditor("NBCC")
    complete(learner, training((nbcc, ())), on=date(2025, 1, 10))  # the cycle before
    complete(learner, training((nbcc, ())), on=date(2025, 2, 10))
    complete(learner, training((nbcc, ())), on=date(2026, 1, 10))

    mine = section(page_of(learner_client), licence)

    assert "Apr 1, 2023 to Mar 31, 2025: 3 hours counted (3 over the self-study cap)" in mine
    assert "<strong>27</strong> of 30" in mine


# --- Subject requirements and accepted approvals -------------------------------------------------


def test_a_subject_counts_only_under_an_approval_the_board_accepts(learner_client, learner):
    rule = BoardRuleFactory(accepted=["NBCC"], hours_required=Decimal("30"))
    SubjectRequirementFactory(
        rule=rule,
        subject=SubjectAreaFactory(slug="laws-and-rules", name="Laws and rules"),
        name="Florida laws and rules",
        hours=Decimal("3"),
    )
    licence = LicenceFactory(user=learner, renewal_date=date(2027, 3, 31))
    nbcc, other = accreditor("NBCC"), accreditor("OTHER")
    law = ("laws-and-rules",)
    # Taught and covered, but under an approval this board does not accept.
    complete(learner, training((other, law), subjects=law), on=date(2026, 1, 5))
    # Accepted approval, but it does not cover the subject the course teaches.
    complete(learner, training((nbcc, ()), subjects=law), on=date(2026, 1, 6))
    # Accepted approval covering the subject, for a course that does not teach it.
    complete(learner, training((nbcc, law)), on=date(2026, 1, 7))

    mine = section(page_of(learner_client), licence)
    row = mine[mine.index('data-subject="laws-and-rules"') :]
    assert "Florida laws and rules" in row
    assert "3 hours, every cycle" in row
    assert re.search(r"<td>0</td> <td><strong>3</strong>", row)
    assert "<strong>24</strong> of 30" in mine  # the OTHER approval's hours count nowhere

    complete(learner, training((nbcc, law), subjects=law), on=date(2026, 1, 8))

    mine = section(page_of(learner_client), licence)
    row = mine[mine.index('data-subject="laws-and-rules"') :]
    assert re.search(r"<td>3</td> <td><span class=\"text-success\">met</span>", row)
    assert "<strong>21</strong> of 30" in mine


def test_credit_under_an_approval_the_board_does_not_list_is_shown_not_counted(
    learner_client, learner
):
    licence = LicenceFactory(user=learner, renewal_date=date(2027, 3, 31))
    certificate = complete(learner, training((accreditor("APA"), ())), on=date(2026, 2, 2))
    # The board's rule, added after the certificate, lists only the board's own providers.
    BoardRuleFactory(accepted=["STATE BOARD"])

    mine = section(page_of(learner_client), licence)

    assert certificate.code  # the certificate stands, and is listed under Certificates
    assert "not counted: your board's rule does not list this approval (APA)" in mine
    assert "<strong>30</strong> of 30" in mine


def test_where_accepted_approvals_are_unknown_credit_counts_but_is_not_confirmed(
    learner_client, learner
):
    rule = BoardRuleFactory(hours_required=Decimal("30"))  # approvals_status unknown
    SubjectRequirementFactory(
        rule=rule, subject=SubjectAreaFactory(slug="ethics"), name="Ethics", hours=Decimal("3")
    )
    licence = LicenceFactory(user=learner, renewal_date=date(2027, 3, 31))
    complete(
        learner,
        training((accreditor("APA"), ("ethics",)), subjects=("ethics",)),
        on=date(2026, 2, 2),
    )

    mine = section(page_of(learner_client), licence)

    assert "<strong>27</strong> of 30" in mine
    assert "3 of these hours are not confirmed for your board" in mine
    assert 'Ethics <span class="small text-body-secondary">(not confirmed for your board)' in mine


def test_an_every_nth_cycle_requirement_says_so(learner_client, learner):
    rule = BoardRuleFactory()
    SubjectRequirementFactory(
        rule=rule,
        subject=SubjectAreaFactory(slug="medical-errors"),
        name="Prevention of medical errors",
        hours=Decimal("2"),
        every_n_cycles=3,
    )
    licence = LicenceFactory(user=learner, renewal_date=date(2027, 3, 31))

    mine = section(page_of(learner_client), licence)

    assert "2 hours, every 3 cycles" in mine
    assert "does not say which cycles: check whether this is one" in mine
    assert "<strong>2</strong> if due this cycle" in mine


def test_the_learners_own_hours_override_the_boards(learner_client, learner):
    BoardRuleFactory(hours_required=Decimal("30"))
    licence = LicenceFactory(
        user=learner, renewal_date=date(2027, 3, 31), hours_required=Decimal("40")
    )

    mine = section(page_of(learner_client), licence)

    assert "<strong>40</strong> of 40" in mine
    assert "You entered 40 hours; the board's rule says 30. Your figure is used." in mine


# --- The first renewal ---------------------------------------------------------------------------


def test_the_first_renewal_asks_the_boards_first_cycle_hours(learner_client, learner):
    BoardRuleFactory(
        jurisdiction="IL",
        hours_required=Decimal("30"),
        first_cycle_hours=Decimal("0"),
        first_cycle_note="No CE is required for the first renewal.",
    )
    requirement = SubjectRequirementFactory(
        rule=BoardRuleFactory(jurisdiction="IL", profession="clinical_social_worker"),
        name="Ethics (test)",
        hours=Decimal("3"),
    )
    new = LicenceFactory(
        user=learner,
        jurisdiction="IL",
        issued_on=date(2026, 2, 1),
        renewal_date=date(2027, 11, 30),
    )
    seasoned = LicenceFactory(
        user=learner,
        jurisdiction="IL",
        profession="clinical_social_worker",
        issued_on=date(2019, 5, 1),
        renewal_date=date(2027, 11, 30),
    )

    page = page_of(learner_client)

    first = section(page, new)
    assert "You were first licensed on Feb 1, 2026, in this cycle" in first
    assert "It asks 0 CE hours for the first renewal. No subject hours are due before it" in first
    assert "none: requirement met" in first
    assert "(your board's hours; you have not entered your own)" in first
    later = section(page, seasoned)
    assert "first licensed" not in later
    assert "<strong>30</strong> of 30" in later
    assert requirement.name in later
    assert "first-renewal rule applies (0 hours)" in " ".join(pdf_pages(learner_client))


def test_without_an_issue_date_the_first_renewal_rule_is_offered_not_applied(
    learner_client, learner
):
    BoardRuleFactory(
        hours_required=Decimal("30"),
        first_cycle_hours=Decimal("0"),
        first_cycle_note="No CE is required for the first renewal.",
    )
    licence = LicenceFactory(user=learner, renewal_date=date(2027, 3, 31))

    mine = section(page_of(learner_client), licence)

    assert "If this is your first renewal: No CE is required for the first renewal." in mine
    assert "Add the date you were first licensed</a> and the transcript applies it." in mine
    assert "<strong>30</strong> of 30" in mine


# --- The record carries what the rules ask -------------------------------------------------------


def test_the_certificate_records_body_subjects_and_self_study_as_issued(learner):
    LicenceFactory(user=learner)
    course = training(
        (accreditor("NBCC"), ("laws-and-rules", "ethics")),
        subjects=("laws-and-rules", "suicide-risk"),
    )
    certificate = complete(learner, course, on=date(2026, 11, 2))

    record = record_of(certificate)

    assert certificate.snapshot["schema_version"] == 3
    (approval,) = record.approvals
    assert approval.body == "NBCC"
    assert approval.subjects == ("laws-and-rules",)  # taught and covered
    assert record.self_study is True
    assert CertificateRecord.from_snapshot(record.to_snapshot()) == record


@pytest.mark.parametrize("version", [1, 2])
def test_older_records_load_with_sensible_defaults(version):
    snapshot = {
        "code": "CEU-7K3M-Q9XZ-4T2P-HW8C",
        "learner_name": "Dana Whitfield",
        "course_title": "Ruptures",
        "ce_hours": "1",
        "completion_date": "2026-01-05",
        "issued_at": "2026-01-05T12:00:00+00:00",
        "approvals": [
            {"accreditor": "NBCC", "hours": "1", "professions": ["professional_counselor"]},
            {"accreditor": "ASWB", "hours": "1", "professions": ["clinical_social_worker"]},
        ],
    }
    if version == 2:
        snapshot |= {"schema_version": 2, "kind": "credit", "course_hours": "1"}

    record = CertificateRecord.from_snapshot(snapshot)

    # The short name stands for the body where it is one boards name; otherwise unknown.
    assert [a.body for a in record.approvals] == ["NBCC", ""]
    assert [a.subjects for a in record.approvals] == [(), ()]
    assert record.self_study is True
    assert record.to_snapshot()["schema_version"] == 3


def test_an_older_record_counts_under_the_boards_accepted_approvals(learner_client, learner):
    BoardRuleFactory(accepted=["NBCC"], hours_required=Decimal("30"))
    licence = LicenceFactory(user=learner, renewal_date=date(2027, 3, 31))
    certificate = complete(learner, training((accreditor("NBCC"), ())), on=date(2026, 2, 2))
    snapshot = dict(certificate.snapshot, schema_version=2)
    snapshot["approvals"] = [
        {k: v for k, v in a.items() if k not in ("body", "subjects")} | {"accreditor": "NBCC"}
        for a in snapshot["approvals"]
    ]
    del snapshot["self_study"]
    certificate.snapshot = snapshot
    certificate.save(update_fields=["snapshot"])

    mine = section(page_of(learner_client), licence)

    assert "<strong>27</strong> of 30" in mine


# --- Final word, PDF, query counts ---------------------------------------------------------------


def test_every_pdf_page_says_the_board_has_the_final_word(learner_client, learner):
    rule = BoardRuleFactory()
    LicenceFactory(user=learner, renewal_date=date(2027, 3, 31))
    nbcc = accreditor("NBCC")
    for day in range(1, 29):
        complete(learner, training((nbcc, ()), hours="1"), on=date(2026, 2, day))

    pages = pdf_pages(learner_client)

    assert len(pages) > 1
    for text in pages:
        assert "Your board has the final word." in text
        assert rule.board in text
        assert "Nov 28, 2026" in text


def test_the_transcript_keeps_its_query_count_with_rules(
    learner_client, learner, django_assert_num_queries
):
    for jurisdiction in ("FL", "NY"):
        rule = BoardRuleFactory(jurisdiction=jurisdiction, accepted=["NBCC"])
        SubjectRequirementFactory(rule=rule, subject=SubjectAreaFactory(slug="ethics"))
        LicenceFactory(user=learner, jurisdiction=jurisdiction, renewal_date=date(2027, 3, 31))
    nbcc = accreditor("NBCC")
    complete(learner, training((nbcc, ("ethics",)), subjects=("ethics",)), on=date(2026, 1, 1))

    # Session, user; the certificates; the licences (the boards' rules, with their subject
    # requirements and accepted approvals, are read once and cached while the content stands).
    # Grows with neither the certificates nor the licences.
    with django_assert_num_queries(4):
        assert learner_client.get(reverse("courses:transcript")).status_code == 200

    for month in range(2, 12):
        complete(
            learner, training((nbcc, ("ethics",)), subjects=("ethics",)), on=date(2025, month, 1)
        )
    LicenceFactory(user=learner, jurisdiction="NY", renewal_date=date(2026, 5, 31))
    LicenceFactory(user=learner, jurisdiction="OH", renewal_date=date(2026, 5, 31))
    learner_client.get(reverse("courses:transcript"))  # Ohio's board, looked up once
    # The page built again, not the copy kept for the learner (courses/views/personal.py).
    caching.learner_changed(learner.pk)

    with django_assert_num_queries(4):
        assert learner_client.get(reverse("courses:transcript")).status_code == 200
    with django_assert_num_queries(4):
        assert learner_client.get(reverse("courses:transcript_pdf")).status_code == 200


def test_transcript_of_reads_the_same_numbers_the_page_shows(learner):
    BoardRuleFactory(hours_required=Decimal("30"))
    licence = LicenceFactory(user=learner, renewal_date=date(2026, 3, 31))
    complete(learner, training((accreditor("NBCC"), ()), hours="2"), on=date(2026, 3, 31))
    complete(learner, training((accreditor("NBCC"), ()), hours="1"), on=date(2026, 4, 1))

    (total,) = transcript_of(user=learner)["licence_totals"]

    assert total.licence == licence
    assert (total.cycle.start, total.cycle.end) == (date(2026, 4, 1), date(2028, 3, 31))
    assert total.current.counted == Decimal("1")
    assert [(p.end, p.counted) for p in total.past] == [(date(2026, 3, 31), Decimal("2"))]
    assert total.remaining == Decimal("29")
    assert total.days_left == (date(2028, 3, 31) - TODAY).days


# --- Dates checked, per fact ---------------------------------------------------------------------


def test_a_rule_is_as_fresh_as_its_oldest_checked_fact():
    rule = BoardRuleFactory(
        checked_on=date(2026, 11, 28),
        cycle_checked_on=date(2026, 11, 20),
        hours_checked_on=date(2026, 11, 28),
    )
    requirement = SubjectRequirementFactory(rule=rule, checked_on=date(2026, 9, 1))

    assert rule.oldest_check == date(2026, 9, 1)

    requirement.delete()
    assert rule.oldest_check == date(2026, 11, 20)


def test_a_rule_whose_facts_carry_no_date_falls_back_to_its_review_date():
    assert BoardRuleFactory(checked_on=date(2026, 11, 28)).oldest_check == date(2026, 11, 28)


def test_the_admin_shows_each_facts_date_beside_its_source(client, settings):
    settings.CEU_REQUIRE_STAFF_MFA = False  # the two-factor gate has its own tests
    rule = BoardRuleFactory(
        cycle_checked_on=date(2026, 10, 1),
        hours_checked_on=date(2026, 10, 2),
        self_study_status="known",
        self_study_cap_hours=Decimal("12"),
        self_study_source="https://example.org/board/self-study",
        self_study_checked_on=date(2026, 10, 3),
    )
    SubjectRequirementFactory(rule=rule, checked_on=date(2026, 10, 4))
    AcceptedApprovalFactory(rule=rule, checked_on=date(2026, 10, 5))
    # Registrars keep board rules current.
    registrar = UserFactory(is_staff=True)
    registrar.groups.add(Group.objects.get(name="Registrars"))
    client.force_login(registrar)

    response = client.get(reverse("admin:courses_boardrule_change", args=[rule.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    for fact, source, checked in [
        ("cycle", "https://example.org/board/renewal", "2026-10-01"),
        ("hours", "https://example.org/board/ce", "2026-10-02"),
        ("self_study", "https://example.org/board/self-study", "2026-10-03"),
    ]:
        start = html.index(f'class="form-row field-{fact}_source field-{fact}_checked_on"')
        row = html[start : html.index('class="form-row', start + 1)]
        assert f'value="{source}"' in row, fact
        assert f'value="{checked}"' in row, fact
    for inline, checked in [("subjects", "2026-10-04"), ("accepted", "2026-10-05")]:
        start = html.index(f'id="{inline}-0"')
        row = html[start : html.index("</tr>", start)]
        assert re.search(
            # The date's cell comes right after the source's, and holds the date.
            rf'<td class="field-source">.*?</td>\s*<td class="field-checked_on">'
            rf'(?:(?!</td>).)*value="{checked}"',
            row,
            re.DOTALL,
        ), inline
