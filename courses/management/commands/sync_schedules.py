"""Create Celery beat's schedules that are missing; run after every migrate, safe any time."""

from django.core.management.base import BaseCommand

from courses.schedules import sync_schedules


class Command(BaseCommand):
    help = "Create the scheduled upkeep tasks that are missing (leaves existing ones as set)."

    def handle(self, *args, **options) -> None:
        created = sync_schedules()
        self.stdout.write(f"Created {len(created)} schedule(s).")
