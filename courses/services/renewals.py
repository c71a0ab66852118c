"""Renewal reminders, run by Celery beat (courses.schedules).

For each licence with a renewal date, a reminder goes 90, 30 and 7 days before it (the learner's
own calendar) while hours or subject requirements are still missing: what is missing under the
board's rule (`courses.selectors.credentials`), trainings that would count for the licence, and
the deadline as an `.ics` file and link. A learner whose requirements are met gets one "you're
covered" note instead. A reminder first due late (a licence added 20 days before its renewal)
is the nearest one crossed, not every earlier one at once.

Each message is claimed with a unique row before it goes (courses.services.messaging); licences
are read by chunks in a fixed number of queries."""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

import icalendar
from django.conf import settings
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone

from accounts.models import Licence
from courses.credentials_record import record_of
from courses.models import (
    Certificate,
    Course,
    CourseStatus,
    MessageKind,
    SentMessage,
)
from courses.selectors.boards import rules_for
from courses.selectors.catalog import current_approvals, serves
from courses.selectors.credentials import (
    LicenceTotal,
    SubjectProgress,
    TranscriptEntry,
    licence_total,
)
from courses.services import messaging

logger = logging.getLogger(__name__)

CHUNK = 500
# Trainings suggested in one reminder.
SUGGESTIONS = 5


def reminder_days() -> list[int]:
    return sorted(settings.CEU_RENEWAL_REMINDER_DAYS, reverse=True)


@dataclass
class Reminder:
    """One licence's standing before its renewal date, as the message tells it."""

    licence: Licence
    renewal_date: date
    days_left: int
    stage: int
    total: LicenceTotal
    suggestions: list[Course] = field(default_factory=list)
    calendar_url: str = ""

    @property
    def hours_missing(self) -> Decimal | None:
        return self.total.remaining

    @property
    def hours_known(self) -> bool:
        return self.total.required is not None

    @property
    def subjects_missing(self) -> list[SubjectProgress]:
        current = self.total.current
        if current is None:
            return []
        return [subject for subject in current.subjects if not subject.met]

    @property
    def covered(self) -> bool:
        """Every requirement the site knows of is met, and it knows the hours."""
        return self.hours_known and not self.hours_missing and not self.subjects_missing


def _threshold(days_left: int, days: list[int]) -> int | None:
    crossed = [d for d in days if days_left <= d]
    return min(crossed) if crossed else None


def _claimed(licence_ids: list[int]) -> set[str]:
    return set(
        SentMessage.objects.filter(
            kind__in=[SentMessage.Kind.RENEWAL, SentMessage.Kind.COVERED],
            licence_id__in=licence_ids,
        ).values_list("key", flat=True)
    )


def _reminder_key(licence: Licence, stage: int) -> str:
    return f"renewal:{licence.pk}:{licence.renewal_date.isoformat()}:{stage}"


def _covered_key(licence: Licence) -> str:
    return f"covered:{licence.pk}:{licence.renewal_date.isoformat()}"


def _candidates(*, now: datetime, after: int):
    # A day's slack either side: each learner's own date decides.
    today = now.date()
    return (
        Licence.objects.filter(
            renewal_date__gte=today - timedelta(days=1),
            renewal_date__lte=today + timedelta(days=max(reminder_days()) + 1),
            user__is_active=True,
            user__wants_renewal_reminders=True,
            pk__gt=after,
        )
        .exclude(user__email="")
        .select_related("user")
        .order_by("pk")[:CHUNK]
    )


def _totals(due: list[tuple[Licence, date, int]]) -> dict[int, LicenceTotal]:
    """Each licence's standing in its current cycle, from its learner's certificates: one query
    for the certificates, the board rules from the cache (three queries per board otherwise)."""
    users = {licence.user_id for licence, _today, _stage in due}
    entries: dict[int, list[TranscriptEntry]] = defaultdict(list)
    for certificate in (
        Certificate.objects.filter(enrollment__user_id__in=users, superseded_by__isnull=True)
        .select_related("enrollment__course")
        .order_by("-issued_at")
    ):
        entry = TranscriptEntry(certificate=certificate, record=record_of(certificate))
        if entry.counts:
            entries[certificate.enrollment.user_id].append(entry)
    rules = rules_for(licence for licence, _today, _stage in due)
    return {
        licence.pk: licence_total(
            licence,
            rules.get((licence.jurisdiction, licence.profession)),
            entries[licence.user_id],
            today,
        )
        for licence, today, _stage in due
    }


def _catalog(today: date) -> list[Course]:
    """Published courses with the approvals current today: a fixed number of queries."""
    return list(
        Course.objects.filter(status=CourseStatus.PUBLISHED)
        .only("pk", "slug", "title", "ce_hours", "published_at")
        .prefetch_related(
            "subjects",
            Prefetch(
                "approvals",
                queryset=current_approvals(today=today)
                .select_related("accreditor")
                .prefetch_related("accreditor__professions", "subjects"),
                to_attr="current_approvals",
            ),
        )
        .order_by("-published_at", "title")
    )


def _suggestions(reminder: Reminder, catalog: list[Course], earned: set[int]) -> list[Course]:
    """Trainings that would count for the licence, not already earned; those teaching a
    missing subject first."""
    licence = reminder.licence
    licence.board_rule = reminder.total.rule
    missing = {s.requirement.subject.slug for s in reminder.subjects_missing}
    counting = []
    for course in catalog:
        if course.pk in earned:
            continue
        serving = [a for a in course.current_approvals if serves(a, licence)]
        if not serving:
            continue
        taught = {s.slug for s in course.subjects.all()} & {
            s.slug for a in serving for s in a.subjects.all()
        }
        counting.append((not (taught & missing), course))
    counting.sort(key=lambda pair: pair[0])
    return [course for _rank, course in counting[:SUGGESTIONS]]


def calendar_file(*, licence: Licence, renewal_date: date, note: str = "") -> bytes:
    """The renewal deadline as an iCalendar file: an all-day event with a week's warning."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//CE Trainings//Licence renewal//EN")
    calendar.add("version", "2.0")
    event = icalendar.Event()
    host = settings.CEU_SITE_URL.split("//")[-1].split("/")[0] or "localhost"
    event.add("uid", f"licence-{licence.pk}-{renewal_date.isoformat()}@{host}")
    event.add("dtstamp", timezone.now())
    event.add("dtstart", renewal_date)
    event.add("dtend", renewal_date + timedelta(days=1))
    event.add("summary", f"Licence renewal: {licence}")
    event.add("description", note or f"Renewal date of your licence {licence}.")
    event.add("url", messaging.site_url(reverse("accounts:licence_detail", args=[licence.pk])))
    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", f"Licence renewal in a week: {licence}")
    alarm.add("trigger", timedelta(days=-7))
    event.add_component(alarm)
    calendar.add_component(event)
    return calendar.to_ical()


def _send(reminder: Reminder) -> bool:
    licence = reminder.licence
    user = licence.user
    covered = reminder.covered
    claimed = messaging.claim(
        key=_covered_key(licence) if covered else _reminder_key(licence, reminder.stage),
        kind=SentMessage.Kind.COVERED if covered else SentMessage.Kind.RENEWAL,
        user=user,
        licence=licence,
        stage=reminder.stage,
        due_on=reminder.renewal_date,
        email=user.email,
    )
    if claimed is None:
        return False
    letter = messaging.compose(
        user=user,
        kind=MessageKind.RENEWAL,
        template="renewal_covered" if covered else "renewal",
        context={"reminder": reminder, "licence": licence},
        message_id=claimed.pk,
    )
    letter.attachments.append(
        (
            "licence-renewal.ics",
            calendar_file(licence=licence, renewal_date=reminder.renewal_date),
            "text/calendar",
        )
    )
    return messaging.send_claimed(claimed, messaging.email_of(letter, to=user.email))


def send_renewal_reminders(*, now: datetime | None = None) -> int:
    """Send every renewal reminder (or "you're covered" note) due today; returns how many
    went. A message the mail server refuses is left for the next run."""
    now = now or timezone.now()
    days = reminder_days()
    sent = 0
    after = 0
    while True:
        chunk = list(_candidates(now=now, after=after))
        if not chunk:
            break
        after = chunk[-1].pk
        claimed = _claimed([licence.pk for licence in chunk])
        due = []
        for licence in chunk:
            today = now.astimezone(licence.user.zone).date()
            stage = _threshold((licence.renewal_date - today).days, days)
            if stage is None or licence.renewal_date < today:
                continue
            if _covered_key(licence) in claimed or _reminder_key(licence, stage) in claimed:
                continue
            due.append((licence, today, stage))
        closed = messaging.suppressed(licence.user.email for licence, _t, _s in due)
        due = [item for item in due if item[0].user.email.lower() not in closed]
        if due:
            sent += _send_all(due, claimed=claimed)
        if len(chunk) < CHUNK:
            break
    return sent


def _send_all(due: list[tuple[Licence, date, int]], *, claimed: set[str]) -> int:
    totals = _totals(due)
    catalog = _catalog(min(today for _licence, today, _stage in due))
    earned: dict[int, set[int]] = defaultdict(set)
    for user_id, course_id in Certificate.objects.filter(
        enrollment__user_id__in={licence.user_id for licence, _t, _s in due}
    ).values_list("enrollment__user_id", "enrollment__course_id"):
        earned[user_id].add(course_id)
    sent = 0
    for licence, today, stage in due:
        reminder = Reminder(
            licence=licence,
            renewal_date=licence.renewal_date,
            days_left=(licence.renewal_date - today).days,
            stage=stage,
            total=totals[licence.pk],
        )
        if reminder.covered and _covered_key(licence) in claimed:
            continue
        if not reminder.covered:
            reminder.suggestions = _suggestions(reminder, catalog, earned[licence.user_id])
        reminder.calendar_url = messaging.site_url(
            reverse(
                "courses:renewal_calendar",
                args=[
                    messaging.calendar_token(
                        licence_id=licence.pk, renewal_date=licence.renewal_date
                    )
                ],
            )
        )
        try:
            sent += _send(reminder)
        except Exception:
            logger.exception("Renewal reminder for licence %s was not sent", licence.pk)
    return sent
