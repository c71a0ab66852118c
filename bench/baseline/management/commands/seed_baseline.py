"""Create the baseline's table (it has no migrations) and fill it with COUNT rows."""

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from baseline.models import Item


class Command(BaseCommand):
    def add_arguments(self, parser) -> None:
        parser.add_argument("count", type=int)

    def handle(self, *args, count: int, **options) -> None:
        call_command("migrate", run_syncdb=True, verbosity=0)
        now = timezone.now()
        Item.objects.bulk_create(
            (
                Item(code=f"ITEM-{i:06d}", title=f"Item number {i}", issued_at=now)
                for i in range(count)
            ),
            batch_size=5000,
        )
