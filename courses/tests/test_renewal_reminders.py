"""Renewal reminders 90, 30 and 7 days before a licence's renewal date: what is missing under
the board's rule, trainings that would count, the deadline as an .ics file and link; one
"you're covered" note for a learner whose requirements are met; each sent once."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.test import Client

from accounts.tests.factories import LicenceFactory, UserFactory
from courses import tasks
from courses.models import SentMessage
from courses.services.renewals import send_renewal_reminders
from courses.tests.factories import BoardRuleFactory, SubjectAreaFactory, SubjectRequirementFactory
from courses.tests.test_board_rules import accreditor, complete, training

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
RENEWAL = date(2027, 3, 31)


@pytest.fixture
def rule():
    """Florida counselors: 30 hours per 24-month cycle ending 31 March, with 3 hours of laws
    and rules and 2 of medical errors."""
    rule = BoardRuleFactory()
    SubjectRequirementFactory(rule=rule, subject=SubjectAreaFactory(slug="laws-and-rules"))
    SubjectRequirementFactory(
        rule=rule, subject=SubjectAreaFactory(slug="medical-errors"), hours=Decimal("2")
    )
    return rule


@pytest.fixture
def counselors():
    return accreditor("NBCC", "professional_counselor")


@pytest.fixture
def learner(db):
    return UserFactory(full_name="Dana Whitfield", time_zone="America/Chicago")


@pytest.fixture
def licence(learner, rule):
    return LicenceFactory(user=learner, number="MH-417", renewal_date=RENEWAL)


def run(time_machine, day: date, hour: int = 12) -> int:
    time_machine.move_to(datetime(day.year, day.month, day.day, hour, tzinfo=CHICAGO), tick=False)
    return tasks.send_renewal_reminders.delay().get()


def test_a_reminder_lists_the_missing_subjects_with_the_deadline_as_ics(
    time_machine, learner, licence, counselors, mailoutbox
):
    time_machine.move_to(datetime(2026, 6, 1, 12, tzinfo=CHICAGO), tick=False)
    complete(
        learner,
        training((counselors, ["laws-and-rules"]), subjects=("laws-and-rules",)),
        date(2026, 6, 1),
    )
    errors = training((counselors, ["medical-errors"]), hours="2", subjects=("medical-errors",))
    errors.title = "Preventing medical errors"
    errors.save()
    general = training((counselors, []), hours="1")
    general.title = "Ruptures in the therapy room"
    general.save()
    elsewhere = training((accreditor("APA", "psychologist"), []), hours="1")
    elsewhere.title = "For psychologists only"
    elsewhere.save()

    assert run(time_machine, date(2026, 12, 30)) == 0  # 91 days ahead
    assert run(time_machine, date(2026, 12, 31)) == 1  # 90 days ahead

    (reminder,) = mailoutbox
    assert reminder.to == [learner.email]
    assert reminder.subject == "90 days to your licence renewal: what is still needed"
    body = reminder.body
    assert "renews on March 31, 2027, in 90 days" in body
    assert "- 27 CE hours of the 30 required" in body
    assert "- Medical errors: 2 hours still needed (every cycle)" in body
    assert "Laws and rules:" not in body  # met by the training already completed
    suggested = body[body.index("Trainings that would count") :]
    assert suggested.index("Preventing medical errors") < suggested.index(
        "Ruptures in the therapy room"
    )
    assert "For psychologists only" not in body
    assert reminder.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    ((name, content, mimetype),) = reminder.attachments
    assert (name, mimetype) == ("licence-renewal.ics", "text/calendar")
    (event,) = icalendar.Calendar.from_ical(content).walk("VEVENT")
    assert event.decoded("dtstart") == RENEWAL
    assert "MH-417" in str(event["summary"])

    # The link in the text gives the same file, without signing in.
    link = next(line for line in body.splitlines() if "/messages/renewal/" in line)
    response = Client().get(link.strip().removeprefix("http://127.0.0.1:8000"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    (linked,) = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
    assert linked.decoded("dtstart") == RENEWAL

    assert run(time_machine, date(2026, 12, 31), hour=18) == 0  # the same day again
    assert run(time_machine, date(2027, 2, 1)) == 0
    assert run(time_machine, date(2027, 3, 1)) == 1  # 30 days
    assert run(time_machine, date(2027, 3, 24)) == 1  # 7 days
    assert run(time_machine, date(2027, 3, 25)) == 0
    assert sorted(SentMessage.objects.values_list("kind", "stage")) == [
        ("renewal", 7),
        ("renewal", 30),
        ("renewal", 90),
    ]


def covered(learner, counselors, *, on: date) -> None:
    complete(
        learner,
        training(
            (counselors, ["laws-and-rules", "medical-errors"]),
            hours="30",
            subjects=("laws-and-rules", "medical-errors"),
        ),
        on,
    )


def test_a_learner_already_covered_gets_one_note_instead(
    time_machine, learner, licence, counselors, mailoutbox
):
    time_machine.move_to(datetime(2026, 6, 1, 12, tzinfo=CHICAGO), tick=False)
    covered(learner, counselors, on=date(2026, 6, 1))

    assert run(time_machine, date(2026, 12, 31)) == 1
    assert run(time_machine, date(2027, 3, 1)) == 0
    assert run(time_machine, date(2027, 3, 24)) == 0

    (note,) = mailoutbox
    assert note.subject == "You're covered for your licence renewal on March 31, 2027"
    assert "30 of 30 CE hours" in note.body
    assert "This is the only reminder you will receive for this renewal date" in note.body
    assert note.attachments[0][0] == "licence-renewal.ics"


def test_requirements_met_between_two_reminders_bring_the_note_and_then_nothing(
    time_machine, learner, licence, counselors, mailoutbox
):
    assert run(time_machine, date(2026, 12, 31)) == 1
    time_machine.move_to(datetime(2027, 2, 1, 12, tzinfo=CHICAGO), tick=False)
    covered(learner, counselors, on=date(2027, 2, 1))

    assert run(time_machine, date(2027, 3, 1)) == 1
    assert run(time_machine, date(2027, 3, 24)) == 0
    assert [m.subject.split(" ")[0] for m in mailoutbox] == ["90", "You're"]


def test_a_licence_added_late_gets_the_nearest_reminder_only(
    time_machine, learner, rule, mailoutbox
):
    LicenceFactory(user=learner, renewal_date=RENEWAL)

    assert run(time_machine, date(2027, 3, 11)) == 1  # 20 days ahead: the 30-day reminder
    assert run(time_machine, date(2027, 3, 12)) == 0
    assert SentMessage.objects.get().stage == 30


def test_no_reminder_for_a_learner_who_switched_them_off(
    time_machine, learner, licence, mailoutbox
):
    learner.wants_renewal_reminders = False
    learner.save()

    assert run(time_machine, date(2026, 12, 31)) == 0
    assert mailoutbox == []


def test_the_day_is_the_learners_own(time_machine, rule, mailoutbox):
    """At 02:00 UTC on 31 December it is already 90 days ahead in Berlin, not yet in Chicago."""
    berlin = UserFactory(email="berlin@example.com", time_zone="Europe/Berlin")
    chicago = UserFactory(email="chicago@example.com", time_zone="America/Chicago")
    for user in (berlin, chicago):
        LicenceFactory(user=user, renewal_date=RENEWAL)
    time_machine.move_to(datetime(2026, 12, 31, 2, tzinfo=ZoneInfo("UTC")), tick=False)

    assert send_renewal_reminders() == 1
    assert mailoutbox[0].to == ["berlin@example.com"]


# A run with nothing left to send, whatever the number of licences: the licences near their
# renewal date, and the reminders they already had.
REPEAT_RUN_QUERIES = 2


@pytest.mark.parametrize("learners", [2, 6])
def test_a_repeated_run_sends_nothing_in_a_fixed_number_of_queries(
    time_machine, rule, mailoutbox, django_assert_num_queries, learners
):
    for _ in range(learners):
        LicenceFactory(user=UserFactory(time_zone="America/Chicago"), renewal_date=RENEWAL)
    assert run(time_machine, date(2026, 12, 31)) == learners

    with django_assert_num_queries(REPEAT_RUN_QUERIES):
        assert send_renewal_reminders() == 0
    assert len(mailoutbox) == learners
