"""Load the demo trainings and create the demo accounts: what `make run` serves. Idempotent."""

from pathlib import Path

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.jurisdictions import Jurisdiction
from accounts.models import Licence, Profession, User

DEMO_PASSWORD = "demo-training-2026"  # noqa: S105 - printed for the demo; never in production

DEMO_ACCOUNTS = [
    # (e-mail, name as printed, role, staff, groups)
    ("learner@example.com", "Dana Whitfield", "learner", False, []),
    ("author@example.com", "Avery Chen", "course author", True, ["Course authors"]),
    ("registrar@example.com", "Morgan Ellis", "registrar", True, ["Registrars"]),
]


class Command(BaseCommand):
    help = (
        "Load the demo data in fixtures/ and create demo accounts (not under production settings)."
    )

    def handle(self, *args, **options) -> None:
        if not settings.CEU_DEMO:
            raise CommandError(
                "Demo accounts are never created with these settings (CEU_DEMO off)."
            )
        fixtures = sorted(Path(settings.BASE_DIR, "fixtures").glob("*.json"))
        if fixtures:
            call_command("loaddata", *[str(path) for path in fixtures], verbosity=0)
            # Fixtures load without history; start each content row's kept history here, so
            # an audit of a demo certificate reads the content as offered (models that already
            # have history are left alone, so a second load adds nothing).
            call_command("populate_history", auto=True, verbosity=0)
        with transaction.atomic():
            for email, name, _role, staff, groups in DEMO_ACCOUNTS:
                self._account(email=email, name=name, staff=staff, groups=groups)
        self.stdout.write(f"Loaded {len(fixtures)} demo fixture file(s).")
        self.stdout.write(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
        for email, _name, role, _staff, _groups in DEMO_ACCOUNTS:
            self.stdout.write(f"  {role:<14} {email}")
        self.stdout.write("Site: http://127.0.0.1:8000/  Admin: http://127.0.0.1:8000/admin/")

    def _account(self, *, email: str, name: str, staff: bool, groups: list[str]) -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email, DEMO_PASSWORD, full_name=name, is_staff=staff)
        EmailAddress.objects.update_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        for group in Group.objects.filter(name__in=groups):
            user.groups.add(group)
        if not staff and not user.licences.exists():
            Licence.objects.create(
                user=user,
                profession=Profession.PROFESSIONAL_COUNSELOR,
                jurisdiction=Jurisdiction.FL,
                number="MH 12345",
            )
        return user
