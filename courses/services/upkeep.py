"""Scheduled upkeep, run by Celery beat (courses.schedules): what a worker that died, a broker
that was down or a mail server that refused left undone is done here, once. Each sweep may run
any number of times, at the same time as another: a second run finds nothing left to do."""

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import import_module

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import User
from courses.models import (
    Accreditor,
    ApprovalLapseWarning,
    Certificate,
    CertificateEvent,
    CertificateStatus,
    CourseApproval,
    CourseStatus,
)
from courses.services import credentials

logger = logging.getLogger(__name__)

REGISTRARS = "Registrars"

# A sweep works through at most this many certificates, well inside a task's time limit; the
# next run takes the rest.
BATCH = 20

# Past this age an unsent e-mail is left alone: news a week late is better told by a person.
GIVE_UP_AFTER = timedelta(days=7)


def _cutoff(older_than: float | None):
    if older_than is None:
        older_than = settings.CEU_UPKEEP_GRACE_SECONDS
    # The grace keeps a sweep from racing the render or e-mail that issue queued a moment ago.
    return timezone.now() - timedelta(seconds=older_than)


def render_missing_pdfs(*, older_than: float | None = None) -> int:
    """Render the PDF of each issued, unrevoked certificate that has none (its render task was
    lost with a killed worker, or never queued while the broker was down) and e-mail it if it
    never was. Returns how many were rendered."""
    pending = list(
        Certificate.objects.filter(pdf_sha256="", issued_at__lte=_cutoff(older_than))
        .exclude(status=CertificateStatus.REVOKED)
        .order_by("issued_at", "pk")
        .values_list("pk", flat=True)[:BATCH]
    )
    rendered = 0
    for certificate_id in pending:
        try:
            credentials.render_and_store(certificate_id=certificate_id)
        except Exception:
            # One certificate that cannot be drawn must not hold up the others.
            logger.exception("Certificate %s could not be rendered", certificate_id)
            continue
        rendered += 1
        _send_certificate(certificate_id)
    return rendered


def _send_certificate(certificate_id: int) -> bool:
    try:
        return credentials.email_certificate(certificate_id=certificate_id)
    except Exception:
        logger.exception("Certificate %s was not e-mailed; the next sweep retries", certificate_id)
        return False


def retry_unsent_emails(*, older_than: float | None = None) -> int:
    """Send what the mail server refused: rendered, valid certificates never e-mailed, and
    notices of a revocation, reinstatement or reissue never recorded as told. Returns how many
    went out."""
    cutoff = _cutoff(older_than)
    since = timezone.now() - GIVE_UP_AFTER
    sent = 0
    unsent = (
        Certificate.objects.filter(
            status=CertificateStatus.VALID,
            superseded_by__isnull=True,
            emailed_at__isnull=True,
            rendered_at__lte=cutoff,
            rendered_at__gte=since,
        )
        .exclude(pdf_sha256="")
        .order_by("rendered_at", "pk")
        .values_list("pk", flat=True)[:BATCH]
    )
    for certificate_id in list(unsent):
        sent += _send_certificate(certificate_id)
    for event in _untold_changes(cutoff=cutoff, since=since):
        try:
            sent += credentials.notify_learner(event_id=event.pk, reason=_reason_of(event))
        except Exception:
            logger.exception("The learner was not told of certificate event %s", event.pk)
    return sent


def _untold_changes(*, cutoff, since) -> list[CertificateEvent]:
    events = (
        CertificateEvent.objects.filter(
            kind__in=credentials.NOTICE_KINDS, at__lte=cutoff, at__gte=since
        )
        .select_related("certificate__superseded_by")
        .order_by("at", "pk")
    )
    told = set(
        CertificateEvent.objects.filter(
            kind=CertificateEvent.Kind.NOTIFIED, at__gte=since
        ).values_list("detail", flat=True)
    )
    return [
        event
        for event in events
        if not any(detail.endswith(credentials.notice_marker(event)) for detail in told)
    ][:BATCH]


def _reason_of(event: CertificateEvent) -> str:
    """The reason the registrar gave, as the event keeps it. A reissue's detail starts by naming
    the replacement, which the notice names already."""
    detail = event.detail
    replacement = event.certificate.superseded_by
    if event.kind == CertificateEvent.Kind.REISSUED and replacement is not None:
        prefix = f"Superseded by {replacement.code}."
        if detail.startswith(prefix):
            detail = detail[len(prefix) :]
    return detail.strip()


@dataclass(frozen=True)
class Lapse:
    """An approval that lapses soon, as the warning names it."""

    what: str
    lapses_on: date
    days_left: int
    days: int  # the warning threshold it falls under
    course_approval: CourseApproval | None = None
    accreditor: Accreditor | None = None


def _threshold(days_left: int, thresholds: list[int]) -> int:
    # The nearest threshold crossed: an approval first seen 10 days out gets the 14-day
    # warning, not a late 60-day one.
    return min(days for days in thresholds if days_left <= days)


def lapsing_approvals(*, today: date) -> list[Lapse]:
    """Course approvals and accreditors' provider approvals lapsing within the longest warning
    period, and not yet lapsed."""
    thresholds = sorted(settings.CEU_APPROVAL_WARNING_DAYS)
    horizon = today + timedelta(days=thresholds[-1])

    def lapse(what: str, lapses_on: date, **approval) -> Lapse:
        days_left = (lapses_on - today).days
        return Lapse(
            what=what,
            lapses_on=lapses_on,
            days_left=days_left,
            days=_threshold(days_left, thresholds),
            **approval,
        )

    approvals = (
        CourseApproval.objects.filter(valid_until__gte=today, valid_until__lte=horizon)
        .exclude(course__status=CourseStatus.ARCHIVED)
        .select_related("course", "accreditor")
        .order_by("valid_until", "pk")
    )
    accreditors = Accreditor.objects.filter(
        approved_until__gte=today, approved_until__lte=horizon
    ).order_by("approved_until", "pk")
    return [
        lapse(
            f"{approval.accreditor.short_name} approval of “{approval.course.title}”",
            approval.valid_until,
            course_approval=approval,
        )
        for approval in approvals
    ] + [
        lapse(
            f"{accreditor.short_name} provider approval ({accreditor.name})",
            accreditor.approved_until,
            accreditor=accreditor,
        )
        for accreditor in accreditors
    ]


def registrar_emails() -> list[str]:
    return sorted(
        User.objects.filter(groups__name=REGISTRARS, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )


@transaction.atomic
def warn_of_lapsing_approvals(*, today: date | None = None) -> int:
    """E-mail the registrars each approval lapsing within 60 or 14 days, once per approval and
    threshold. The warnings are recorded before the message goes and undone if it fails, so a
    refused message is tried again on the next run. Returns how many lapses were warned of."""
    today = today or timezone.localdate()
    recipients = registrar_emails()
    if not recipients:
        # Nobody to tell yet: nothing is recorded, and the first registrar hears of it.
        return 0
    due = []
    for lapse in lapsing_approvals(today=today):
        try:
            # A concurrent run inserts the same row and one of the two gives way here.
            with transaction.atomic():
                ApprovalLapseWarning.objects.create(
                    course_approval=lapse.course_approval,
                    accreditor=lapse.accreditor,
                    lapses_on=lapse.lapses_on,
                    days=lapse.days,
                    sent_to=", ".join(recipients),
                )
        except IntegrityError:
            continue
        due.append(lapse)
    if not due:
        return 0
    context = {"lapses": due, "today": today, "site_url": settings.CEU_SITE_URL.rstrip("/")}
    EmailMessage(
        subject=" ".join(render_to_string("emails/approvals_lapsing_subject.txt", context).split()),
        body=render_to_string("emails/approvals_lapsing_message.txt", context),
        to=recipients,
    ).send()
    return len(due)


def clear_expired_sessions() -> None:
    """Delete sessions past their expiry date, as `manage.py clearsessions` does."""
    engine = import_module(settings.SESSION_ENGINE)
    engine.SessionStore.clear_expired()
