"""Celery beat's schedules, kept in the database by django-celery-beat so staff see and pause
them in the admin. Created after every migrate (and after the test suite flushes the database);
a schedule that exists is left as staff set it (paused, or run at another interval)."""

from datetime import timedelta

# name: (task, how often)
SCHEDULES = {
    "Render certificates missing their PDF": ("courses.render_missing_pdfs", timedelta(minutes=2)),
    "Retry certificate e-mails that failed": ("courses.retry_unsent_emails", timedelta(minutes=10)),
    "Warn registrars of approvals lapsing": (
        "courses.warn_of_lapsing_approvals",
        timedelta(hours=6),
    ),
    "Clear expired sessions": ("courses.clear_expired_sessions", timedelta(days=1)),
    # Often enough that each learner's 10:00 comes round within half an hour of it, whatever
    # their time zone's offset; a run with nothing due reads a few rows and sends nothing.
    "Nudge learners whose trainings stalled": ("courses.send_nudges", timedelta(minutes=30)),
    "Remind learners of licence renewals": (
        "courses.send_renewal_reminders",
        timedelta(minutes=30),
    ),
}


def sync_schedules() -> list[str]:
    """Create each missing schedule; returns the names created (none on a second run)."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    created = []
    for name, (task, every) in SCHEDULES.items():
        seconds = int(every.total_seconds())
        interval, _new = IntervalSchedule.objects.get_or_create(
            every=seconds, period=IntervalSchedule.SECONDS
        )
        schedule, new = PeriodicTask.objects.get_or_create(
            name=name,
            defaults={
                "task": task,
                "interval": interval,
                # Runs queued while no worker was up expire, rather than pile up behind it.
                "expire_seconds": seconds,
            },
        )
        if new:
            created.append(name)
        elif schedule.task != task:
            schedule.task = task
            schedule.save(update_fields=["task"])
    return created


def sync_schedules_after_migrate(sender, **kwargs) -> None:
    sync_schedules()
