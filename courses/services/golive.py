"""The go-live checklist: what must hold before this site issues real CE credit.

Each item says whether it holds and, when it does not, what to do. Until every item passes,
every page and certificate says "Sample: not valid for credit" (with the provider's own
"configured for real credit" switch as one of the items). Pages read the result from the cache
(`passes`), so they do not run the checks on every request; the admin's checklist page and
`manage.py go_live_check` always run them afresh and refresh the cached result.

Backups count as configured when the operator sets CEU_BACKUPS_CONFIGURED=true in the
environment, once the nightly pg_dump and storage copy run and a restore has been tried.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from courses.models import Accreditor, LogEntry, Policy, PolicyKind, Provider
from courses.services import audit, signing_keys

CACHE_KEY = "courses:go_live_passes"
# Long enough that a busy page reads the cache, short enough that a fix shows within a minute.
CACHE_SECONDS = 60
TEST_MESSAGE_ACTION = "go_live.test_message_sent"
# The name `first_run` gives the provider record, for the operator to replace.
PLACEHOLDER_PROVIDER_NAME = "Provider name (edit before going live)"
# The first line of each draft policy `first_run` creates.
DRAFT_MARK = "DRAFT: edit this text, then tick 'published'."

# E-mail backends that never reach a mailbox.
UNDELIVERED_EMAIL_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
}
LOCAL_HOSTS = {"localhost", "testserver"}


@dataclass(frozen=True)
class Item:
    key: str
    title: str
    passed: bool
    detail: str  # what holds, or what to do


def _provider() -> Item:
    title = "Provider's name, contact and address"
    provider = Provider.objects.filter(pk=1).first()
    if provider is None:
        return Item(
            "provider",
            title,
            False,
            "No provider record: run `manage.py first_run`, then fill in Provider in the admin.",
        )
    missing = [
        label
        for label, value in (
            ("name", provider.name if provider.name != PLACEHOLDER_PROVIDER_NAME else ""),
            ("contact e-mail", provider.email),
            ("postal address", provider.address),
        )
        if not value.strip()
    ]
    if missing:
        return Item(
            "provider",
            title,
            False,
            f"Fill in the provider's {', '.join(missing)} in the admin (Provider).",
        )
    if not provider.is_configured:
        return Item(
            "provider",
            title,
            False,
            "Tick 'configured for real credit' on the provider once its approval numbers are real.",
        )
    return Item("provider", title, True, f"{provider.name}, {provider.email}.")


def _policies() -> list[Item]:
    published = set(
        Policy.objects.filter(is_published=True)
        .exclude(body__startswith=DRAFT_MARK)
        .values_list("kind", flat=True)
    )
    drafts = set(Policy.objects.values_list("kind", flat=True)) - published
    items = []
    for kind in PolicyKind:
        title = f"{kind.label}, published"
        if kind.value in published:
            items.append(Item(f"policy_{kind.value}", title, True, "Published."))
        elif kind.value in drafts:
            items.append(
                Item(
                    f"policy_{kind.value}",
                    title,
                    False,
                    "A draft: edit its text in the admin (Policies), remove the DRAFT line and "
                    "tick 'published'.",
                )
            )
        else:
            items.append(
                Item(
                    f"policy_{kind.value}",
                    title,
                    False,
                    "Missing: run `manage.py first_run` for a draft, or add it in the admin "
                    "(Policies), and publish it.",
                )
            )
    return items


def _accreditor() -> Item:
    title = "At least one accreditor with a current approval"
    today = timezone.localdate()
    current = (
        Accreditor.objects.exclude(provider_number="")
        .filter(approved_from__lte=today)
        .filter(Q(approved_until__isnull=True) | Q(approved_until__gte=today))
        .order_by("short_name")
        .first()
    )
    if current is None:
        return Item(
            "accreditor",
            title,
            False,
            "Add an accreditor in the admin with its provider number and the dates of an approval "
            "current today.",
        )
    return Item("accreditor", title, True, f"{current.short_name} ({current.provider_number}).")


def _site_url() -> Item:
    title = "CEU_SITE_URL is the public https address"
    url = settings.CEU_SITE_URL
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        local = not ipaddress.ip_address(host).is_global
    except ValueError:
        local = (
            host in LOCAL_HOSTS
            or host.endswith((".localhost", ".local", ".test", ".invalid", ".example"))
            or host.split(".")[-2:-1] == ["example"]
        )
    if parts.scheme != "https" or not host or local:
        return Item(
            "site_url",
            title,
            False,
            f"CEU_SITE_URL is {url!r}: set it to the address learners use, e.g. "
            "https://ce.yourpractice.org (QR codes on certificates point there).",
        )
    return Item("site_url", title, True, url)


def _email() -> list[Item]:
    backend = settings.EMAIL_BACKEND
    configured = backend not in UNDELIVERED_EMAIL_BACKENDS
    items = [
        Item(
            "email",
            "E-mail configured",
            configured,
            f"Sent through {backend}."
            if configured
            else f"E-mail goes nowhere ({backend.rsplit('.', 2)[-2]}): set EMAIL_URL, e.g. "
            "smtp+tls://user:password@smtp.example.org:587, and DEFAULT_FROM_EMAIL.",
        )
    ]
    sent = LogEntry.objects.filter(action=TEST_MESSAGE_ACTION).order_by("-at").first()
    items.append(
        Item(
            "test_message",
            "A test message sent",
            sent is not None and configured,
            f"Sent to {sent.data.get('to', '')} on {timezone.localtime(sent.at):%Y-%m-%d %H:%M}."
            if sent is not None and configured
            else "Send one from the go-live page in the admin, or run "
            "`manage.py go_live_check --send-test-message you@example.org`, and check it arrived.",
        )
    )
    return items


def _staff_mfa() -> Item:
    title = "A staff account with two-factor authentication"
    secured = (
        Authenticator.objects.filter(
            type=Authenticator.Type.TOTP, user__is_staff=True, user__is_active=True
        )
        .select_related("user")
        .first()
    )
    if secured is None:
        return Item(
            "staff_mfa",
            title,
            False,
            "Run `manage.py createsuperuser`, sign in, and set up an authenticator app at "
            "/accounts/2fa/ (the admin asks for it).",
        )
    return Item("staff_mfa", title, True, f"{secured.user.email}.")


def _backups() -> Item:
    title = "Backups configured"
    if settings.CEU_BACKUPS_CONFIGURED:
        return Item("backups", title, True, "CEU_BACKUPS_CONFIGURED is on.")
    return Item(
        "backups",
        title,
        False,
        "Schedule the database dump and the storage copy (docs/deploy.md), try a restore, then "
        "set CEU_BACKUPS_CONFIGURED=true.",
    )


def checklist() -> list[Item]:
    """Every item, checked now; the cached result is refreshed with it."""
    items = [
        _provider(),
        *_policies(),
        _accreditor(),
        _site_url(),
        *_email(),
        _staff_mfa(),
        _backups(),
        signing_keys.golive_item(),
    ]
    cache.set(CACHE_KEY, all(item.passed for item in items), CACHE_SECONDS)
    return items


def passes() -> bool:
    """Whether the whole checklist passed, from the cache when it was checked within a minute."""
    result = cache.get(CACHE_KEY)
    if result is None:
        result = all(item.passed for item in checklist())
    return result


def credit_is_live(provider: Provider | None) -> bool:
    """Whether pages and certificates may drop "Sample: not valid for credit"."""
    if provider is None or not provider.is_configured:
        return False
    return not settings.CEU_GO_LIVE_REQUIRED or passes()


def send_test_message(*, to: str, actor: User | None) -> LogEntry:
    """Send a test message through the configured e-mail and note it in the audit trail. A
    failure to send raises, and nothing is recorded."""
    send_mail(
        subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}Test message",
        message=(
            "This is the go-live test message from your CE site. If you are reading it, e-mail "
            "reaches learners: certificates and password resets will arrive.\n"
        ),
        from_email=None,
        recipient_list=[to],
    )
    entry = audit.record(
        TEST_MESSAGE_ACTION, actor=actor, data={"to": to, "backend": settings.EMAIL_BACKEND}
    )
    cache.delete(CACHE_KEY)
    return entry


DRAFT_POLICIES = {
    PolicyKind.GRIEVANCE: (
        "Grievance policy",
        "How a learner raises a complaint about a training, its post-test or a certificate, who "
        "answers it and within how many days, and where to appeal if the answer does not settle "
        "it (name the accreditor to contact).",
    ),
    PolicyKind.REFUND: (
        "Refund policy",
        "When a learner may have their fee back (before starting, after a cancelled training), "
        "how to ask, and how long a refund takes.",
    ),
    PolicyKind.ACCOMMODATION: (
        "Accessibility and accommodations",
        "How a learner asks for an accommodation (captions, transcripts, more time on the "
        "post-test, another format), who to contact, and how quickly the provider answers.",
    ),
}


@dataclass(frozen=True)
class FirstRun:
    provider_created: bool
    policies_created: tuple[str, ...]


def first_run() -> FirstRun:
    """Create what a fresh database lacks for the checklist to name: the provider record, as a
    placeholder, and the three policies as unpublished drafts. Existing rows are left alone, so
    running it again changes nothing."""
    _provider, provider_created = Provider.objects.get_or_create(
        pk=1, defaults={"name": PLACEHOLDER_PROVIDER_NAME, "email": "", "is_configured": False}
    )
    created = []
    for kind, (title, what) in DRAFT_POLICIES.items():
        body = (
            f"{DRAFT_MARK}\n\n"
            f"Write here: {what}\n\n"
            "Learners read this page from every course. Until it is published, its page says the "
            "provider has not published it yet and gives the provider's contact e-mail."
        )
        _policy, made = Policy.objects.get_or_create(
            kind=kind.value, defaults={"title": title, "body": body, "is_published": False}
        )
        if made:
            created.append(kind.value)
    cache.delete(CACHE_KEY)
    return FirstRun(provider_created=provider_created, policies_created=tuple(created))
