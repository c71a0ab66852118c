"""What counts for a licence is judged by its board: the jurisdiction, the profession and the
approvals the board accepts (its rule), on the catalog, the course page and the certificate."""

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import LicenceFactory
from courses.credentials_record import record_of
from courses.models import (
    AcceptedApproval,
    BoardRule,
    FactStatus,
    SubjectArea,
    SubjectRequirement,
)
from courses.services import credentials
from courses.tests.factories import (
    AccreditorFactory,
    ApprovalFactory,
    CourseFactory,
    EnrollmentFactory,
)

pytestmark = pytest.mark.django_db

COUNSELOR = "professional_counselor"


def rule(jurisdiction: str, *bodies: str, status=FactStatus.KNOWN) -> BoardRule:
    board_rule = BoardRule.objects.create(
        jurisdiction=jurisdiction,
        profession=COUNSELOR,
        board=f"{jurisdiction} counseling board",
        checked_on=date(2026, 11, 28),
        approvals_status=status,
    )
    for body in bodies:
        AcceptedApproval.objects.create(
            rule=board_rule, body=body, source=f"https://board.example/{jurisdiction}"
        )
    return board_rule


def approved_course(slug: str, body: str):
    course = CourseFactory(slug=slug, title=slug.replace("-", " ").title())
    accreditor = AccreditorFactory(short_name=f"{body} ({slug})", professions=[COUNSELOR])
    accreditor.body = body
    accreditor.save()
    ApprovalFactory(course=course, accreditor=accreditor)
    return course


@pytest.fixture
def two_states(learner):
    rule("FL", "NBCC")
    rule("NY", "STATE BOARD")
    LicenceFactory(user=learner, profession=COUNSELOR, jurisdiction="FL", number="MH 1234")
    LicenceFactory(user=learner, profession=COUNSELOR, jurisdiction="NY", number="005678")
    return {
        "nbcc": approved_course("nbcc-approved", "NBCC"),
        "nysed": approved_course("nysed-approved", "STATE BOARD"),
        "apa": approved_course("apa-approved", "APA"),
    }


def test_counts_for_my_licences_follows_each_board(learner_client, two_states):
    page = learner_client.get(reverse("courses:catalog"), {"mine": "on"}).content.decode()

    assert "Nbcc Approved" in page  # counts for the Florida licence
    assert "Nysed Approved" in page  # counts for the New York licence
    assert "Apa Approved" not in page  # neither board accepts it
    assert "Judged by the rules of the FL counseling board, as this site checked them on" in page
    assert "Judged by the rules of the NY counseling board" in page
    assert "Your board has the final word." in page


def test_the_course_page_says_which_licence_it_does_not_count_for(learner_client, two_states):
    page = learner_client.get(
        reverse("courses:course_detail", args=["nbcc-approved"])
    ).content.decode()

    assert "No CE credit for your New York professional counselor licence (005678)" in page
    assert "No CE credit for your Florida professional counselor licence" not in page
    assert (
        "judged by the rules of the FL counseling board as we checked them on Nov 28, 2026" in page
    )
    assert "Your board has the final word." in page


def test_where_the_board_has_not_said_which_approvals_it_accepts_the_profession_decides(
    learner_client, learner
):
    rule("TX", status=FactStatus.UNKNOWN)
    LicenceFactory(user=learner, profession=COUNSELOR, jurisdiction="TX", number="LPC 1")
    approved_course("apa-approved", "APA")

    page = learner_client.get(reverse("courses:catalog"), {"mine": "on"}).content.decode()

    assert "Apa Approved" in page


def test_the_certificate_carries_credit_only_where_the_board_accepts_the_approval(learner):
    rule("NY", "STATE BOARD")
    LicenceFactory(user=learner, profession=COUNSELOR, jurisdiction="NY", number="005678")
    course = approved_course("nbcc-approved", "NBCC")

    certificate = credentials.issue_certificate(
        enrollment=EnrollmentFactory(user=learner, course=course, completed_at=timezone.now())
    )

    assert record_of(certificate).is_attendance


def florida_counseling_rule() -> BoardRule:
    board_rule = rule("FL", "NBCC")
    board_rule.cycle_months = 24
    board_rule.hours_required = 30
    board_rule.self_study_status = FactStatus.KNOWN
    board_rule.self_study_cap_hours = "0.5"
    board_rule.save()
    laws = SubjectArea.objects.create(slug="laws-and-rules", name="Laws and rules")
    SubjectRequirement.objects.create(
        rule=board_rule,
        subject=laws,
        name="Florida laws and rules",
        hours=3,
        source="https://board.example/FL/laws",
    )
    return board_rule


def test_the_course_page_shows_the_renewal_the_subjects_met_and_the_cap(learner_client, learner):
    florida_counseling_rule()
    LicenceFactory(
        user=learner,
        profession=COUNSELOR,
        jurisdiction="FL",
        number="MH 1234",
        renewal_date=date(2027, 3, 31),
    )
    laws = SubjectArea.objects.get(slug="laws-and-rules")
    course = approved_course("florida-laws", "NBCC")
    course.subjects.add(laws)
    course.approvals.get().subjects.add(laws)
    page = learner_client.get(reverse("courses:course_detail", args=[course.slug]))
    html = page.content.decode()

    assert "Toward your renewal on Mar 31, 2027: 0 of 30 hours counted so far." in html
    assert "Meets your board's requirement for Florida laws and rules." in html
    assert "cap of 0.5 self-study hours" not in html

    # Half an hour of home study from another training reaches the board's cap.
    earlier = approved_course("earlier", "NBCC")
    credentials.issue_certificate(
        enrollment=EnrollmentFactory(user=learner, course=earlier, completed_at=timezone.now())
    )
    html = learner_client.get(reverse("courses:course_detail", args=[course.slug])).content
    html = html.decode()

    assert "0.5 of 30 hours counted so far." in html
    assert "You have reached your board's cap of 0.5 self-study hours this cycle" in html


@pytest.mark.parametrize("earned", [1, 5])
def test_the_outlook_keeps_the_course_page_query_count(
    learner_client, learner, django_assert_num_queries, earned
):
    florida_counseling_rule()
    LicenceFactory(user=learner, profession=COUNSELOR, jurisdiction="FL", number="MH 1234")
    course = approved_course("florida-laws", "NBCC")
    for index in range(earned):
        credentials.issue_certificate(
            enrollment=EnrollmentFactory(
                user=learner,
                course=approved_course(f"earlier-{index}", "NBCC"),
                completed_at=timezone.now(),
            )
        )
    url = reverse("courses:course_detail", args=[course.slug])
    learner_client.get(url)

    # The course page's own queries plus the transcript's, whatever the learner has earned (the
    # course's content and the board's rule come from the cache after the first visit).
    with django_assert_num_queries(7):
        assert learner_client.get(url).status_code == 200
