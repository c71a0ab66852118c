"""The go-live checklist for scripts: each item with PASS or FAIL and what to do; exit status 1
while anything fails."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from courses.services import golive


class Command(BaseCommand):
    help = "Check that this site is ready to issue real CE credit (non-zero exit if not)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--send-test-message",
            metavar="ADDRESS",
            help="First send a test message to ADDRESS and record it in the audit trail.",
        )

    def handle(self, *args, **options) -> None:
        address = options.get("send_test_message")
        if address:
            try:
                validate_email(address)
            except ValidationError as exc:
                raise CommandError(f"{address!r} is not an e-mail address.") from exc
            golive.send_test_message(to=address, actor=None)
            self.stdout.write(f"Sent a test message to {address}.")
        items = golive.checklist()
        for item in items:
            mark = self.style.SUCCESS("PASS") if item.passed else self.style.ERROR("FAIL")
            self.stdout.write(f"[{mark}] {item.title}: {item.detail}")
        failed = [item for item in items if not item.passed]
        if failed:
            raise CommandError(
                f"{len(failed)} of {len(items)} go-live items fail: certificates stay samples, "
                "not valid for credit."
            )
        self.stdout.write(self.style.SUCCESS("Every go-live item passes: credit is live."))
