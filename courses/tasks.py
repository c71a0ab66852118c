"""Background work for courses. Each task takes ids and calls one service; each is safe to run
twice, since a worker that dies mid-task hands it back (acks late)."""

from celery import shared_task

from courses.services import credentials, reengagement, renewals, upkeep


# The delivery tasks' return values are for a person calling them by hand: nobody waits on them,
# so none is written to the result backend (a round trip per task saved).
@shared_task(
    name="courses.render_certificate",
    ignore_result=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def render_certificate(certificate_id: int) -> str:
    """Render and store the certificate's PDF, then e-mail it to the learner."""
    # Sent from here rather than from a task of its own: half the broker round trips, database
    # connections and row locks per certificate, and the PDF attached as written rather than
    # read back. A refused message is handed to the e-mail task (or, the broker gone too, left
    # to the scheduled sweep), not retried as a render.
    certificate = credentials.render_and_send(certificate_id)
    return certificate.pdf_sha256


@shared_task(
    name="courses.email_certificate",
    ignore_result=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def email_certificate(certificate_id: int) -> bool:
    return credentials.email_certificate(certificate_id=certificate_id)


@shared_task(
    name="courses.notify_certificate_change",
    ignore_result=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def notify_certificate_change(event_id: int, reason: str = "") -> bool:
    """Tell the learner their certificate was revoked, reinstated or reissued (once per event)."""
    return credentials.notify_learner(event_id=event_id, reason=reason)


# --- Scheduled upkeep (courses.schedules); not retried: the next scheduled run is the retry. ---


@shared_task(name="courses.render_missing_pdfs")
def render_missing_pdfs(older_than: float | None = None) -> int:
    return upkeep.render_missing_pdfs(older_than=older_than)


@shared_task(name="courses.retry_unsent_emails")
def retry_unsent_emails(older_than: float | None = None) -> int:
    return upkeep.retry_unsent_emails(older_than=older_than)


@shared_task(name="courses.warn_of_lapsing_approvals")
def warn_of_lapsing_approvals() -> int:
    return upkeep.warn_of_lapsing_approvals()


@shared_task(name="courses.clear_expired_sessions")
def clear_expired_sessions() -> None:
    upkeep.clear_expired_sessions()


@shared_task(name="courses.send_nudges")
def send_nudges() -> int:
    """Nudge learners whose trainings have stalled (each stage once per enrollment)."""
    return reengagement.send_nudges()


@shared_task(name="courses.send_renewal_reminders")
def send_renewal_reminders() -> int:
    """Remind learners of licence renewals 90, 30 and 7 days ahead (once each)."""
    return renewals.send_renewal_reminders()
