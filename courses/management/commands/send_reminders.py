"""Send the optional mail that is due now: nudges to learners whose trainings stalled, and
licence renewal reminders. Celery beat runs the same two tasks every half hour and every day
(courses/schedules.py); this runs them at once, for an operator or a cron without beat. Safe to
run at any time and as often as wanted: each message is claimed before it is sent, so none goes
twice."""

from django.core.management.base import BaseCommand

from courses.services import reengagement, renewals


class Command(BaseCommand):
    help = "Send the nudges and licence renewal reminders due now (each at most once)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--nudges-only", action="store_true", help="send no renewal reminders")
        parser.add_argument("--renewals-only", action="store_true", help="send no nudges")

    def handle(self, *args, nudges_only: bool, renewals_only: bool, **options) -> None:
        if not renewals_only:
            sent = reengagement.send_nudges()
            self.stdout.write(f"Nudges sent: {sent}")
        if not nudges_only:
            sent = renewals.send_renewal_reminders()
            self.stdout.write(f"Renewal reminders sent: {sent}")
