"""Set up a fresh production database: the provider record and draft policies, then say how
to create the first staff account and what the go-live checklist still needs."""

from django.core.management.base import BaseCommand

from courses.services import golive

NEXT_STEPS = """
Next steps:
  1. Create the first staff account:   python manage.py createsuperuser
  2. Sign in at /accounts/login/ with it. The admin asks for two-factor authentication first:
     scan the QR code at /accounts/2fa/totp/activate/ with an authenticator app, enter its
     code, and keep the recovery codes somewhere safe.
  3. In the admin, fill in Provider (name, contact, address), edit and publish the three
     policies, and add an accreditor with its current approval.
  4. Run `python manage.py go_live_check` (or open /admin/go-live/) and work through what fails.
See docs/go-live.md.
"""


class Command(BaseCommand):
    help = "Create the provider placeholder and draft policies on a fresh database (idempotent)."

    def handle(self, *args, **options) -> None:
        result = golive.first_run()
        if result.provider_created:
            name = golive.PLACEHOLDER_PROVIDER_NAME
            self.stdout.write(f"Created the provider record as a placeholder ({name!r}).")
        else:
            self.stdout.write("The provider record exists: left as it is.")
        for kind in result.policies_created:
            self.stdout.write(f"Created the {kind} policy as an unpublished draft.")
        if not result.policies_created:
            self.stdout.write("The policies exist: left as they are.")
        self.stdout.write(NEXT_STEPS)
