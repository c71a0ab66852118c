"""CE Broker's roster, as CE Broker takes it: only completions under an approval CE Broker reports
(its course number on the approval), for the chosen state; CE Broker's profession codes, and the
professions without one refused by name; licence numbers as the state's lookup writes them; a
roster that, once posted, is locked and recorded, with later revocations listed as corrections;
the .xls read back and compared column by column with CE Broker's published upload format.

At ad34e0e none of this existed: the CE Broker export was a CSV with a header and an hours
column, fell back to the course's slug for the course number, sent "OTH" for an unknown
profession, copied licence numbers as typed, and kept no record of what was posted."""

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import pytest
import xlrd
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from accounts.models import Licence, User
from accounts.tests.factories import LicenceFactory, UserFactory
from courses.codes import new_code
from courses.models import (
    CeBrokerRoster,
    CeBrokerRosterEntry,
    Certificate,
    Course,
    Enrollment,
    LogEntry,
    RosterLocked,
)
from courses.reports.rosters import CE_BROKER_PROFESSIONS
from courses.services import credentials, rosters
from courses.tests.factories import AccreditorFactory, ApprovalFactory, CourseFactory

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/courses/cebrokerroster/add/"
OLD_EXPORT_URL = "/admin/courses/course/ce-broker.csv"


@pytest.fixture(autouse=True)
def _roster_settings(settings):
    # The admin sends staff without two-factor to set it up; these tests are about rosters.
    settings.CEU_REQUIRE_STAFF_MFA = False
    settings.CEU_CE_BROKER_PROVIDER_NUMBER = "50-1234"


def at(year: int, month: int, day: int, hour: int = 12) -> datetime:
    return timezone.make_aware(datetime(year, month, day, hour))  # noqa: DTZ001


def staff(role: str, **fields) -> User:
    user = UserFactory(is_staff=True, **fields)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def registrar(db) -> User:
    return staff("Registrars", full_name="Rae Registrar", email="rae@example.com")


@pytest.fixture
def registrar_client(client, registrar):
    client.force_login(registrar)
    return client


def roster_url(roster, name: str = "change") -> str:
    return reverse(f"admin:courses_cebrokerroster_{name}", args=[roster.pk])


def approve(course, short_name: str, professions: list[str], **fields):
    fields.setdefault("hours", course.ce_hours)
    fields.setdefault("valid_from", date(2025, 6, 1))
    fields.setdefault("valid_until", date(2030, 6, 1))
    accreditor = AccreditorFactory(
        short_name=short_name,
        professions=professions,
        approved_from=date(2025, 1, 1),
        approved_until=date(2030, 12, 31),
    )
    return ApprovalFactory(course=course, accreditor=accreditor, **fields)


def complete(user, course, when) -> Certificate:
    """The learner finished the course at `when`; the certificate prints their licences then."""
    enrollment = Enrollment.objects.create(user=user, course=course, completed_at=when)
    return credentials.issue_certificate(enrollment=enrollment)


def learner(name: str, *licences: tuple[str, str, str]) -> User:
    user = UserFactory(full_name=name)
    for profession, jurisdiction, number in licences:
        LicenceFactory(user=user, profession=profession, jurisdiction=jurisdiction, number=number)
    return user


FL_BOARD_PROFESSIONS = [
    "professional_counselor",
    "clinical_social_worker",
    "marriage_family_therapist",
    "addiction_counselor",
]


@dataclass
class World:
    course: Course
    apa_only: Course
    nbcc_only: Course
    certificates: dict[str, Certificate]


@pytest.fixture
def world(db) -> World:
    """Three courses and a learner for each way a completion can meet CE Broker:

    course "attachment": the Florida board's approval, reported to CE Broker as 20-123456
      (counselors, social workers, MFTs, addiction counselors), and APA's for psychologists
    course "ethics": NBCC only, with an approval code but no CE Broker course number
    course "boundaries": the Florida board's approval, CE Broker course number 654321

    counselor   FL MH, typed "mh 12345"   attachment  reported as MH12345
    social      FL SW, typed "SW-0042"    attachment  reported as SW0042
    addiction   FL addiction counselor    attachment  refused: CE Broker code not on record
    digits      FL MH, typed "12345"      attachment  refused: no letters, cannot be written
    two-states  FL MH777 and GA LPC       boundaries  FL: reported; GA: refused (no code)
    psychologist FL PY                    attachment  credit from APA: not CE Broker's
    nbcc        FL MH                     ethics      credit from NBCC: not CE Broker's
    revoked     FL MT                     attachment  revoked: not reported
    no-licence  -                         attachment  attendance: not reported
    """
    course = CourseFactory(slug="attachment", title="Attachment in practice", ce_hours=Decimal(1))
    approve(
        course,
        "FL 491 Board",
        FL_BOARD_PROFESSIONS,
        approval_code="BAP-1",
        ce_broker_course_number="20-123456",
    )
    approve(course, "APA", ["psychologist"])
    nbcc_only = CourseFactory(slug="ethics", title="Ethics refresher", ce_hours=Decimal(1))
    approve(nbcc_only, "NBCC", ["professional_counselor"], approval_code="20-999")
    apa_only = CourseFactory(slug="boundaries", title="Boundaries", ce_hours=Decimal(1))
    approve(apa_only, "FL 491 Board", FL_BOARD_PROFESSIONS, ce_broker_course_number="654321")

    people = {
        "counselor": learner("Cora Counselor", ("professional_counselor", "FL", "mh 12345")),
        "social": learner("Sam Social", ("clinical_social_worker", "FL", "SW-0042")),
        "addiction": learner("Ada Addiction", ("addiction_counselor", "FL", "AC123")),
        "digits": learner("Dee Digits", ("professional_counselor", "FL", "12345")),
        "two-states": learner(
            "Tess Twostates",
            ("professional_counselor", "FL", "MH777"),
            ("professional_counselor", "GA", "LPC-1"),
        ),
        "psychologist": learner("Pat Psychologist", ("psychologist", "FL", "PY9")),
        "nbcc": learner("Nia Nbcc", ("professional_counselor", "FL", "MH555")),
        "revoked": learner("Rory Revoked", ("marriage_family_therapist", "FL", "MT1")),
        "no-licence": learner("Nell Nolicence"),
    }
    courses = {"two-states": apa_only, "nbcc": nbcc_only}
    certificates = {
        key: complete(user, courses.get(key, course), at(2026, 1, 10 + index))
        for index, (key, user) in enumerate(people.items())
    }
    certificates["revoked"] = credentials.revoke_certificate(
        certificate=certificates["revoked"],
        reason="Did not do the work.",
        acting_user=staff("Registrars"),
    )
    return World(course, apa_only, nbcc_only, certificates)


def generate(client, **data):
    return client.post(ADD_URL, {"state": "FL", **data})


def the_roster() -> CeBrokerRoster:
    return CeBrokerRoster.objects.get()


def read_xls(content: bytes):
    book = xlrd.open_workbook(file_contents=content, formatting_info=True)
    return book, book.sheet_by_index(0)


# --- What goes on the roster --------------------------------------------------------------------

FL_ROWS = [
    ["1234", "123456", "", "", "MH12345", "2026-01-10", "State=FL", "Profession=MH"],
    ["1234", "123456", "", "", "SW0042", "2026-01-11", "State=FL", "Profession=SW"],
    # The course number of the approval, never the course's slug ("boundaries").
    ["1234", "654321", "", "", "MH777", "2026-01-14", "State=FL", "Profession=MH"],
]


def test_the_roster_holds_only_completions_under_approvals_ce_broker_reports(
    registrar_client, registrar, world
):
    response = generate(registrar_client)

    roster = the_roster()
    assert response.status_code == 302
    assert response["Location"] == roster_url(roster)
    assert roster.state == "FL"
    assert roster.created_by == registrar
    # Provider and course numbers without their 50-/20- prefixes; licence numbers as Florida's
    # lookup writes them; CE Broker's profession codes. Not the psychologist (credit from APA),
    # not the NBCC course's counselor, not the revoked certificate, not the attendance.
    assert roster.rows == FL_ROWS
    assert [entry.certificate for entry in roster.entries.order_by("position")] == [
        world.certificates["counselor"],
        world.certificates["social"],
        world.certificates["two-states"],
    ]


def test_professions_without_a_ce_broker_code_are_refused_by_name(registrar_client, world):
    generate(registrar_client)
    page = registrar_client.get(roster_url(the_roster())).content.decode()

    refused = page[page.index('id="not-reported"') :]
    assert "2 completions could not be reported" in refused
    assert "Ada Addiction" in refused
    assert "No CE Broker profession code is on record for Addiction counselor in Florida" in refused
    assert "Dee Digits" in refused
    assert "Florida licence numbers are letters then digits, such as MH12345" in refused
    # Nothing is sent as "other", and credit CE Broker does not report is not listed as refused.
    assert "OTH" not in page
    for name in ["Pat Psychologist", "Nia Nbcc", "Rory Revoked", "Nell Nolicence"]:
        assert name not in page


def test_another_state_reports_its_own_licences_only(registrar_client, world):
    response = generate(registrar_client, state="GA")

    # Georgia has no CE Broker codes on record: nothing to upload, and the page says who and why.
    assert response.status_code == 200
    assert not CeBrokerRoster.objects.exists()
    page = response.content.decode()
    assert "No completion in Georgia is there to report to CE Broker." in page
    refused = page[page.index('id="not-reported"') :]
    assert "Tess Twostates" in refused
    assert "LPC-1" in refused
    assert "No CE Broker profession code is on record for Professional counselor in Georgia" in (
        refused
    )
    assert "Cora Counselor" not in page


def test_an_unreadable_certificate_record_is_refused_by_name(registrar_client, world):
    broken = world.certificates["social"]
    Certificate.objects.filter(pk=broken.pk).update(snapshot={"schema_version": 99})

    generate(registrar_client)

    roster = the_roster()
    assert roster.rows == [FL_ROWS[0], FL_ROWS[2]]
    [refusal] = [r for r in roster.refusals if r["learner"] == "Sam Social"]
    assert refusal["certificate"] == broken.code
    assert refusal["reason"].startswith("The certificate's record cannot be read")


def test_the_profession_table_maps_florida_mental_health_professions_only():
    assert {
        (state, profession): entry.code
        for (state, profession), entry in CE_BROKER_PROFESSIONS.items()
    } == {
        ("FL", "psychologist"): "PY",
        ("FL", "clinical_social_worker"): "SW",
        ("FL", "marriage_family_therapist"): "MT",
        ("FL", "professional_counselor"): "MH",
    }


def test_the_roster_filters_by_course_and_completion_dates(registrar_client, world):
    generate(registrar_client, course=world.apa_only.pk)
    assert the_roster().rows == [FL_ROWS[2]]
    assert the_roster().filters == {"course": "boundaries", "start": None, "end": None}

    CeBrokerRoster.objects.all().delete()
    generate(registrar_client, start="2026-01-11", end="2026-01-13")
    assert the_roster().rows == [FL_ROWS[1]]


def test_the_course_number_is_the_approvals_own_not_its_approval_code(registrar_client, world):
    # The NBCC course carries an approval code shaped like a CE Broker number, but no CE Broker
    # course number: it is not reported.
    response = generate(registrar_client, course=world.nbcc_only.pk)

    assert response.status_code == 200
    assert not CeBrokerRoster.objects.exists()
    assert "No completion in Florida is there to report to CE Broker." in response.content.decode()


def test_a_registrar_records_a_ce_broker_number_issued_after_completions(
    registrar_client, registrar, world
):
    # CE Broker issued the NBCC course's number only after learners had completed (so its
    # content is frozen); without it the completion cannot be reported.
    approval = world.nbcc_only.approvals.get()
    url = reverse("admin:courses_courseapproval_change", args=[approval.pk])

    page = registrar_client.get(url).content.decode()
    bad = registrar_client.post(url, {"ce_broker_course_number": "CE-12"})
    saved = registrar_client.post(url, {"ce_broker_course_number": "20-777001", "hours": "9"})

    assert 'name="ce_broker_course_number"' in page
    assert 'name="hours"' not in page  # the approval itself stays as offered
    assert bad.status_code == 200
    assert "CE Broker&#x27;s course tracking number: digits" in bad.content.decode()
    assert saved.status_code == 302
    approval.refresh_from_db()
    assert (approval.ce_broker_course_number, approval.hours) == ("20-777001", Decimal(1))
    entry = LogEntry.objects.filter(action="course.approval_changed").latest("pk")
    assert entry.actor == registrar
    assert entry.data["changed"] == ["ce_broker_course_number"]
    assert entry.data["before"] == {"ce_broker_course_number": ""}
    generate(registrar_client, course=world.nbcc_only.pk)
    assert the_roster().rows == [
        ["1234", "777001", "", "", "MH555", "2026-01-16", "State=FL", "Profession=MH"]
    ]


def test_the_ce_broker_number_is_the_only_change_a_frozen_approval_takes(world):
    from courses.services.freezing import FrozenContent

    approval = world.course.approvals.get(ce_broker_course_number="20-123456")
    approval.ce_broker_course_number = "20-123457"
    approval.save()
    approval.hours = Decimal("0.5")

    with pytest.raises(FrozenContent):
        approval.save()
    with pytest.raises(FrozenContent):
        approval.save(update_fields=["hours", "ce_broker_course_number"])
    approval.refresh_from_db()
    assert (approval.ce_broker_course_number, approval.hours) == ("20-123457", Decimal(1))


def test_approvals_are_not_added_or_removed_outside_their_course(registrar_client, world):
    approval = world.nbcc_only.approvals.get()

    add = registrar_client.get(reverse("admin:courses_courseapproval_add"))
    delete = registrar_client.get(
        reverse("admin:courses_courseapproval_delete", args=[approval.pk])
    )

    assert add.status_code == 403
    assert delete.status_code == 403


# --- The file, as CE Broker's upload takes it ---------------------------------------------------


def test_the_xls_matches_ce_brokers_published_format_column_by_column(registrar_client, world):
    generate(registrar_client)
    roster = the_roster()

    response = registrar_client.get(roster_url(roster, "xls"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.ms-excel"
    created = timezone.localdate(roster.created_at).isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="ce-broker-fl-roster-{roster.pk}-{created}.xls"'
    )
    book, sheet = read_xls(response.content)
    assert book.nsheets == 1
    # One row per completion from row 1: no header row.
    assert (sheet.nrows, sheet.ncols) == (3, 8)
    expected = [
        ("1234", "123456", "MH12345", date(2026, 1, 10), "State=FL", "Profession=MH"),
        ("1234", "123456", "SW0042", date(2026, 1, 11), "State=FL", "Profession=SW"),
        ("1234", "654321", "MH777", date(2026, 1, 14), "State=FL", "Profession=MH"),
    ]
    for row, (provider, course, licence, completed, state, profession) in enumerate(expected):
        # A: the provider tracking number without "50-"; B: the course number without "20-".
        assert sheet.cell(row, 0).ctype == xlrd.XL_CELL_TEXT
        assert sheet.cell_value(row, 0) == provider
        assert sheet.cell_value(row, 1) == course
        # C (own course ID) and D (publishing number) stay blank.
        assert sheet.cell(row, 2).ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK)
        assert sheet.cell(row, 3).ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK)
        assert sheet.cell_value(row, 4) == licence
        # F: an Excel date, shown as CE Broker's example writes one (12/3/2008).
        cell = sheet.cell(row, 5)
        assert cell.ctype == xlrd.XL_CELL_DATE
        assert xlrd.xldate_as_datetime(cell.value, book.datemode).date() == completed
        number_format = book.format_map[book.xf_list[cell.xf_index].format_key]
        assert number_format.format_str == "m/d/yyyy"
        assert sheet.cell_value(row, 6) == state
        assert sheet.cell_value(row, 7) == profession
    # The file is the one recorded when the roster was generated.
    assert hashlib.sha256(response.content).hexdigest() == roster.xls_sha256


def test_the_csv_has_the_same_columns(registrar_client, world):
    generate(registrar_client)
    roster = the_roster()

    response = registrar_client.get(roster_url(roster, "csv"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].endswith('.csv"')
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8"))))
    assert rows == [
        ["1234", "123456", "", "", "MH12345", "1/10/2026", "State=FL", "Profession=MH"],
        ["1234", "123456", "", "", "SW0042", "1/11/2026", "State=FL", "Profession=SW"],
        ["1234", "654321", "", "", "MH777", "1/14/2026", "State=FL", "Profession=MH"],
    ]
    assert hashlib.sha256(response.content).hexdigest() == roster.csv_sha256


def test_partial_credit_writes_the_subject_area_and_hours_in_i_and_j():
    rows = [
        ["1234", "123456", "", "", "MH1", "2026-02-28", "State=FL", "Profession=MH", "X1", "1.5"]
    ]

    _book, sheet = read_xls(rosters.roster_xls(rows))

    assert sheet.ncols == 10
    assert sheet.cell_value(0, 8) == "X1"
    assert sheet.cell(0, 9).ctype == xlrd.XL_CELL_NUMBER
    assert sheet.cell_value(0, 9) == 1.5
    assert rosters.roster_csv(rows).decode().split(",")[-2:] == ["X1", "1.5\r\n"]


def test_without_a_provider_number_no_roster_is_generated(registrar_client, world, settings):
    settings.CEU_CE_BROKER_PROVIDER_NUMBER = ""

    response = generate(registrar_client)

    assert response.status_code == 200
    assert "CE Broker&#x27;s provider tracking number is not set" in response.content.decode()
    assert not CeBrokerRoster.objects.exists()


# --- Posted: locked and recorded ----------------------------------------------------------------


def post(client, roster):
    return client.post(roster_url(roster, "post"), follow=True)


def test_marking_posted_records_who_when_and_which_rows(registrar_client, registrar, world):
    generate(registrar_client)
    roster = the_roster()

    response = post(registrar_client, roster)

    roster.refresh_from_db()
    assert roster.posted_by == registrar
    assert roster.posted_at is not None
    assert "is recorded as posted and locked" in response.content.decode()
    [entry] = LogEntry.objects.filter(action="roster.ce_broker_posted")
    assert entry.actor == registrar
    assert entry.subject == roster
    assert entry.data["posted_at"] == roster.posted_at.isoformat()
    assert entry.data["rows"] == FL_ROWS
    assert entry.data["xls_sha256"] == roster.xls_sha256
    assert set(roster.entries.values_list("posted_completion", flat=True)) == set(
        roster.entries.values_list("completion", flat=True)
    )


def test_a_posted_roster_cannot_be_changed_by_the_service(registrar, world):
    roster = rosters.generate_ce_broker_roster(
        state="FL", filters=rosters.CompletionFilter(), acting_user=registrar
    )
    rosters.post_ce_broker_roster(roster=roster, acting_user=registrar)
    posted_at = CeBrokerRoster.objects.get().posted_at

    with pytest.raises(rosters.RosterError, match=r"was posted on .* and cannot be changed"):
        rosters.post_ce_broker_roster(roster=roster, acting_user=UserFactory(is_staff=True))
    roster.refresh_from_db()
    roster.rows = []
    with pytest.raises(RosterLocked):
        roster.save()
    with pytest.raises(RosterLocked):
        roster.delete()

    roster = CeBrokerRoster.objects.get()
    assert (roster.rows, roster.posted_at, roster.posted_by) == (FL_ROWS, posted_at, registrar)
    assert LogEntry.objects.filter(action="roster.ce_broker_posted").count() == 1


def test_a_posted_roster_cannot_be_changed_in_the_admin(registrar_client, registrar, world):
    generate(registrar_client)
    roster = the_roster()
    post(registrar_client, roster)
    superuser = UserFactory(is_staff=True, is_superuser=True)
    registrar_client.force_login(superuser)

    # Posting again is refused, in words; the record stays as it was.
    response = post(registrar_client, roster)
    assert "and cannot be changed" in response.content.decode()
    # The page edits nothing, and there is no delete.
    assert registrar_client.post(roster_url(roster), {"rows": "[]"}).status_code == 405
    assert registrar_client.post(roster_url(roster, "delete"), {"post": "yes"}).status_code == 403
    page = registrar_client.get(roster_url(roster)).content.decode()
    assert "Mark as posted" not in page
    assert "Locked: it is kept exactly as posted." in page

    roster = CeBrokerRoster.objects.get()
    assert roster.rows == FL_ROWS
    assert roster.posted_by == registrar
    assert LogEntry.objects.filter(action="roster.ce_broker_posted").count() == 1


def test_nothing_posted_is_repeated_in_a_later_roster(registrar_client, world):
    generate(registrar_client)
    first = the_roster()
    post(registrar_client, first)
    late = learner("Lee Late", ("professional_counselor", "FL", "MH900"))
    complete(late, world.course, at(2026, 2, 1))

    generate(registrar_client)
    second = CeBrokerRoster.objects.exclude(pk=first.pk).get()
    assert second.rows == [
        ["1234", "123456", "", "", "MH900", "2026-02-01", "State=FL", "Profession=MH"]
    ]
    post(registrar_client, second)

    response = generate(registrar_client)
    assert response.status_code == 200
    assert (
        "Nothing new to report for Florida: the 4 completion(s) these filters find were all "
        "posted to CE Broker already."
    ) in response.content.decode()
    assert CeBrokerRoster.objects.count() == 2


def test_a_draft_whose_completions_were_posted_since_cannot_be_posted(registrar_client, world):
    generate(registrar_client)
    generate(registrar_client)
    first, second = CeBrokerRoster.objects.order_by("pk")
    post(registrar_client, first)

    response = post(registrar_client, second)

    assert f"holds completions already posted in roster #{first.pk}" in response.content.decode()
    second.refresh_from_db()
    assert second.posted_at is None
    assert not second.entries.filter(posted_completion__isnull=False).exists()


def test_a_reissue_is_the_same_completion_and_is_not_reported_again(
    registrar_client, registrar, world
):
    generate(registrar_client)
    post(registrar_client, the_roster())
    credentials.reissue_certificate(
        certificate=world.certificates["counselor"], acting_user=registrar, reason="Name"
    )

    response = generate(registrar_client)

    assert "Nothing new to report for Florida" in response.content.decode()


# --- Corrections after posting ------------------------------------------------------------------


def test_a_revocation_after_posting_is_listed_as_a_correction(registrar_client, registrar, world):
    generate(registrar_client)
    roster = the_roster()
    post(registrar_client, roster)
    revoked = credentials.revoke_certificate(
        certificate=world.certificates["social"],
        reason="Plagiarised the post-test.",
        acting_user=registrar,
    )

    page = registrar_client.get(roster_url(roster)).content.decode()

    corrections = page[page.index('id="corrections"') : page.index('id="roster-rows"')]
    assert "Corrections since posting" in corrections
    assert "Sam Social" in corrections
    assert revoked.code in corrections
    assert "1234 | 123456 |  |  | SW0042 | 2026-01-11 | State=FL | Profession=SW" in corrections
    assert (
        f"Certificate {revoked.code} was revoked on {timezone.localdate().isoformat()}: "
        f"Plagiarised the post-test. Ask CE Broker to remove this completion."
    ) in corrections
    assert "Cora Counselor" not in corrections
    # The roster itself is untouched: the same rows, the same file.
    roster.refresh_from_db()
    assert roster.rows == FL_ROWS
    xls = registrar_client.get(roster_url(roster, "xls")).content
    assert hashlib.sha256(xls).hexdigest() == roster.xls_sha256
    # And the revoked completion goes in no later roster.
    assert "Nothing new to report" in generate(registrar_client).content.decode()


def test_a_reissue_with_another_licence_number_is_listed_as_a_correction(
    registrar_client, registrar, world
):
    generate(registrar_client)
    roster = the_roster()
    post(registrar_client, roster)
    cora = world.certificates["counselor"].enrollment.user
    Licence.objects.filter(user=cora).update(number="MH12346")
    credentials.reissue_certificate(
        certificate=world.certificates["counselor"], acting_user=registrar, reason="Licence typo"
    )

    page = registrar_client.get(roster_url(roster)).content.decode()

    corrections = page[page.index('id="corrections"') : page.index('id="roster-rows"')]
    assert "Cora Counselor" in corrections
    assert "licence number (E) &#x27;MH12345&#x27; is now &#x27;MH12346&#x27;" in corrections
    assert the_roster().rows == FL_ROWS


def test_a_draft_shows_what_changed_before_it_is_uploaded(registrar_client, registrar, world):
    generate(registrar_client)
    credentials.revoke_certificate(
        certificate=world.certificates["counselor"], reason="Withdrawn.", acting_user=registrar
    )

    page = registrar_client.get(roster_url(the_roster())).content.decode()

    assert "Changed since this roster was generated" in page
    assert "Do not upload this file: generate a new roster." in page


# --- The audit trail ----------------------------------------------------------------------------


def test_generating_and_downloading_are_recorded(registrar_client, registrar, world):
    generate(registrar_client, start="2026-01-01")
    roster = the_roster()
    registrar_client.get(roster_url(roster, "xls"))
    registrar_client.get(roster_url(roster, "csv"))

    [generated] = LogEntry.objects.filter(action="roster.ce_broker_generated")
    assert generated.actor == registrar
    assert generated.data == {
        "roster": roster.pk,
        "state": "FL",
        "filters": {"course": None, "start": "2026-01-01", "end": None},
        "rows": 3,
        "not_reported": 2,
        "already_posted": 0,
    }
    exports = LogEntry.objects.filter(action="roster.ce_broker_exported").order_by("pk")
    assert [(e.actor, e.data["format"], e.data["rows"]) for e in exports] == [
        (registrar, "xls", 3),
        (registrar, "csv", 3),
    ]
    assert exports[0].data["sha256"] == roster.xls_sha256


# --- The form, addresses and permissions --------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"state": ""}, "Choose the state whose licences this roster reports"),
        ({"state": "ZZ"}, "Choose a state from the list; ZZ is not one."),
        ({"state": "OTHER"}, "Choose a state from the list; OTHER is not one."),
        ({"state": "ON"}, "Choose a state from the list; ON is not one."),
        ({"start": "2026-13-01"}, "Write the date as YYYY-MM-DD, e.g. 2026-01-31."),
        ({"end": "01/31/2026"}, "Write the date as YYYY-MM-DD, e.g. 2026-01-31."),
        ({"start": "2026-02-01", "end": "2026-01-01"}, "The end date is before the start date."),
        ({"course": "999999"}, "There is no such course; choose one from the list or none."),
        ({"course": "abc"}, "There is no such course; choose one from the list or none."),
        (
            {"course": "99999999999999999999999"},
            "There is no such course; choose one from the list or none.",
        ),
    ],
)
def test_the_form_refuses_bad_input_in_plain_words(registrar_client, world, data, message):
    response = generate(registrar_client, **data)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert "no roster was generated" in response.content.decode()
    assert not CeBrokerRoster.objects.exists()
    assert not LogEntry.objects.filter(action__startswith="roster.").exists()


def test_the_old_export_address_leads_to_the_form_filled_in(registrar_client, world):
    response = registrar_client.get(OLD_EXPORT_URL, {"state": "fl", "course": world.course.pk})

    assert response.status_code == 302
    assert response["Location"] == f"{ADD_URL}?state=FL&course={world.course.pk}"
    page = registrar_client.get(response["Location"]).content.decode()
    assert '<option value="FL" selected>Florida</option>' in page
    assert f'<option value="{world.course.pk}" selected>' in page


@pytest.mark.parametrize("name", ["change", "xls", "csv"])
@pytest.mark.parametrize("object_id", ["999999", "abc", "99999999999999999999999"])
def test_an_unknown_roster_is_not_found(registrar_client, world, name, object_id):
    url = reverse(f"admin:courses_cebrokerroster_{name}", args=[object_id])

    assert registrar_client.get(url).status_code == 404


def test_posting_an_unknown_roster_is_not_found(registrar_client, world):
    url = reverse("admin:courses_cebrokerroster_post", args=["999999"])

    assert registrar_client.post(url).status_code == 404
    assert registrar_client.get(url).status_code == 405


@pytest.mark.parametrize(
    ("role", "form", "page", "file", "post_status"),
    [
        ("Registrars", 200, 200, 200, 302),
        ("Course authors", 403, 403, 403, 403),
    ],
)
def test_rosters_are_for_registrars(client, registrar, world, role, form, page, file, post_status):
    roster = rosters.generate_ce_broker_roster(
        state="FL", filters=rosters.CompletionFilter(), acting_user=registrar
    )
    client.force_login(staff(role))

    assert client.get(ADD_URL).status_code == form
    assert client.get(reverse("admin:courses_cebrokerroster_changelist")).status_code == page
    assert client.get(OLD_EXPORT_URL, {"state": "FL"}).status_code == (302 if form == 200 else 403)
    assert client.get(roster_url(roster)).status_code == page
    assert client.get(roster_url(roster, "xls")).status_code == file
    assert client.post(roster_url(roster, "post")).status_code == post_status
    assert CeBrokerRoster.objects.filter(posted_at__isnull=False).exists() is (post_status == 302)


def test_learners_are_sent_to_sign_in(client, registrar, world):
    roster = rosters.generate_ce_broker_roster(
        state="FL", filters=rosters.CompletionFilter(), acting_user=registrar
    )
    client.force_login(UserFactory())

    for url in [ADD_URL, roster_url(roster), roster_url(roster, "xls")]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


# --- Query counts -------------------------------------------------------------------------------


def add_counselors(course, count: int, completed) -> None:
    """`count` Florida counselors who finished the course, in bulk; their certificates copy the
    snapshot of one issued the real way."""
    first = learner("Bulk First", ("professional_counselor", "FL", "MH99999"))
    template = complete(first, course, completed).snapshot
    User.objects.bulk_create(
        User(email=f"bulk{n}@example.com", full_name=f"Bulk Learner {n}", password="!")
        for n in range(count - 1)
    )
    users = list(User.objects.filter(email__startswith="bulk").order_by("pk"))
    Enrollment.objects.bulk_create(
        Enrollment(user=user, course=course, completed_at=completed) for user in users
    )
    enrollments = Enrollment.objects.filter(course=course, user__in=users).order_by("user_id")

    def certificate(n, enrollment):
        code = new_code()
        licence = {**template["licences"][0], "number": f"MH{n:05d}"}
        snapshot = {
            **template,
            "code": code,
            "learner_name": f"Bulk Learner {n}",
            "licences": [licence],
        }
        return Certificate(
            code=code,
            enrollment=enrollment,
            snapshot=snapshot,
            issued_at=completed,
            learner_name=f"Bulk Learner {n}",
        )

    Certificate.objects.bulk_create(
        certificate(n, enrollment) for n, enrollment in enumerate(enrollments)
    )


@pytest.fixture
def big_course(db):
    course = CourseFactory(slug="big", title="A big course", ce_hours=Decimal(1))
    approve(course, "FL 491 Board", FL_BOARD_PROFESSIONS, ce_broker_course_number="20-777")
    return course


# Session, user, the user's and groups' permissions; then the roster, its rows with their
# learners, and the corrections (the rows, the certificates that stand, the approvals).
ROSTER_PAGE_QUERIES = 9
# Session, user, permissions, the roster; the audit entry in its savepoint.
DOWNLOAD_QUERIES = 8


@pytest.mark.parametrize("size", [20, 200])
def test_the_roster_page_and_files_keep_their_query_counts(
    registrar_client, registrar, big_course, django_assert_num_queries, size
):
    add_counselors(big_course, size, at(2026, 4, 1))
    roster = rosters.generate_ce_broker_roster(
        state="FL", filters=rosters.CompletionFilter(), acting_user=registrar
    )
    rosters.post_ce_broker_roster(roster=roster, acting_user=registrar)
    ContentType.objects.get_for_model(CeBrokerRoster)  # cached once per process, as in production

    with django_assert_num_queries(ROSTER_PAGE_QUERIES):
        page = registrar_client.get(roster_url(roster))
    with django_assert_num_queries(DOWNLOAD_QUERIES):
        xls = registrar_client.get(roster_url(roster, "xls"))

    assert page.status_code == 200
    assert f'<td id="row-count">{size}</td>' in page.content.decode()
    assert read_xls(xls.content)[1].nrows == size


# Session, user, permissions, the course list of the form's choices; the certificates, the
# approvals, the completions posted before; the roster, its rows, the audit entry (with their
# savepoints).
GENERATE_QUERIES = 13


@pytest.mark.parametrize("size", [20, 100])
def test_generating_keeps_its_query_count(
    registrar_client, big_course, django_assert_num_queries, size
):
    # (Up to SQLite's batch of rows per insert; a longer roster adds one insert per batch.)
    add_counselors(big_course, size, at(2026, 4, 1))
    ContentType.objects.get_for_model(CeBrokerRoster)

    with django_assert_num_queries(GENERATE_QUERIES):
        response = generate(registrar_client, course=big_course.pk)

    assert response.status_code == 302
    assert CeBrokerRosterEntry.objects.count() == size


def test_the_roster_list_tells_posted_from_not_yet(registrar_client, registrar, world):
    first = rosters.generate_ce_broker_roster(
        state="FL", filters=rosters.CompletionFilter(), acting_user=registrar
    )
    rosters.post_ce_broker_roster(roster=first, acting_user=registrar)
    late = learner("Lee Late", ("professional_counselor", "FL", "MH900"))
    complete(late, world.course, at(2026, 2, 1))
    second = rosters.generate_ce_broker_roster(
        state="FL", filters=rosters.CompletionFilter(), acting_user=registrar
    )
    url = reverse("admin:courses_cebrokerroster_changelist")

    posted = registrar_client.get(url, {"posted": "yes"}).context["cl"].result_list
    waiting = registrar_client.get(url, {"posted": "no"}).context["cl"].result_list

    assert [(r.pk, r.row_count) for r in posted] == [(first.pk, 3)]
    assert [(r.pk, r.row_count) for r in waiting] == [(second.pk, 1)]
