"""`manage.py check_certificate_files`: every rendered certificate's stored PDF against the
SHA-256 recorded at rendering, read through the configured storage (folder or bucket). Exits
non-zero when a file is missing or changed; the restore drill in docs/backup.md ends with it."""

from django.core.management.base import BaseCommand, CommandError

from courses.services.certificate_files import check_certificate_files


class Command(BaseCommand):
    help = "Check that every stored certificate PDF still matches its recorded SHA-256."

    def handle(self, *args, **options):
        result = check_certificate_files()
        for code in result.missing:
            self.stderr.write(f"{code}: its PDF is missing from the storage.")
        for code in result.altered:
            self.stderr.write(f"{code}: its stored PDF does not match its recorded SHA-256.")
        if not result.holds:
            raise CommandError(
                f"Certificate PDFs that do not match their records: "
                f"{len(result.missing) + len(result.altered)} of {result.checked}."
            )
        self.stdout.write(
            f"Certificate PDFs checked: {result.checked}. Each matches its recorded SHA-256."
        )
