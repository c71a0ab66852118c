"""Optional mail to learners (nudges, renewal reminders, news): who may receive it, the claim
that keeps a message from going twice, the one-click unsubscribe every such message carries
(RFC 8058), and the addresses a hard bounce or a complaint has closed to it.

Transactional mail (certificates, sign-in, password resets) never passes through here and is
never suppressed. Messages are plain text: no tracking pixel, and links go straight to the site
(providers reached through django-anymail are told not to track opens or rewrite links)."""

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from courses.models import MailSuppression, MessageKind, SentMessage

logger = logging.getLogger(__name__)

# The profile switch behind each kind of optional message.
PREFERENCE_FIELDS = {
    MessageKind.NUDGE: "wants_nudges",
    MessageKind.RENEWAL: "wants_renewal_reminders",
    MessageKind.NEW_TRAININGS: "wants_new_trainings",
}
# An unsubscribe link may also stop every optional message at once.
ALL_KINDS = "all"

UNSUBSCRIBE_SALT = "courses.messaging.unsubscribe"
CALENDAR_SALT = "courses.messaging.calendar"


class UnsubscribeLinkError(Exception):
    """The link was altered or cut short: it names nobody."""


# --- Who may receive optional mail -------------------------------------------------------------


def wants(user: User, kind: str) -> bool:
    """Whether the learner's profile switch lets this kind of message go."""
    return bool(user.is_active and user.email and getattr(user, PREFERENCE_FIELDS[kind]))


def suppressed(emails: Iterable[str]) -> set[str]:
    """The addresses among these (lower-cased) that receive no optional mail: one query."""
    wanted = {email.lower() for email in emails if email}
    if not wanted:
        return set()
    return set(
        MailSuppression.objects.annotate(address=Lower("email"))
        .filter(address__in=wanted)
        .values_list("address", flat=True)
    )


def may_receive(user: User, kind: str) -> bool:
    """`wants` and the address not suppressed, for one learner."""
    return wants(user, kind) and not suppressed([user.email])


@transaction.atomic
def suppress(*, email: str, reason: str, detail: str = "", provider: str = "") -> bool:
    """Stop all optional mail to an address (a hard bounce or a complaint). Returns whether it
    was newly suppressed; an address already suppressed keeps its first reason."""
    email = email.strip()
    if not email:
        return False
    if (
        MailSuppression.objects.annotate(address=Lower("email"))
        .filter(address=email.lower())
        .exists()
    ):
        return False
    try:
        with transaction.atomic():
            MailSuppression.objects.create(
                email=email, reason=reason, detail=detail[:2000], provider=provider[:50]
            )
    except IntegrityError:
        return False
    logger.info("Optional mail to %s stopped: %s", email, reason)
    return True


# --- Preferences and time zone -----------------------------------------------------------------


def is_time_zone(name: str) -> bool:
    return name in _zones()


def _zones() -> set[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = available_timezones()
    return _ZONES


_ZONES: set[str] | None = None


def time_zone_choices() -> list[tuple[str, str]]:
    """Every IANA zone the machine knows, for the profile's list."""
    return [(name, name.replace("_", " ")) for name in sorted(_zones()) if "/" in name]


def set_preferences(*, user: User, time_zone: str, **switches: bool) -> User:
    """Save the learner's time zone and message switches (`wants_nudges=...`)."""
    allowed = set(PREFERENCE_FIELDS.values())
    unknown = set(switches) - allowed
    if unknown:
        raise TypeError(f"Unknown preferences: {sorted(unknown)}")
    if time_zone and not is_time_zone(time_zone):
        raise ValueError(time_zone)
    user.time_zone = time_zone
    for name, value in switches.items():
        setattr(user, name, bool(value))
    user.save(update_fields=["time_zone", *switches, "updated_at"])
    return user


def local_moment(day: date, hour: int, zone: ZoneInfo) -> datetime:
    """`hour`:00 on `day` in the learner's zone, as an aware moment. On a day the clocks jump
    over that hour, the moment after the jump."""
    return datetime.combine(day, time(hour), tzinfo=zone)


# --- One-click unsubscribe (RFC 8058) ----------------------------------------------------------


@dataclass(frozen=True)
class Unsubscribe:
    """What an unsubscribe link stands for: whose switch, which kind, from which message."""

    user_id: int
    kind: str
    message_id: int | None = None


def unsubscribe_token(*, user: User, kind: str, message_id: int | None = None) -> str:
    """A signed token for the link: it works without signing in, and never expires (a link in
    an old message must still work)."""
    payload = {"u": user.pk, "k": kind}
    if message_id is not None:
        payload["m"] = message_id
    return signing.dumps(payload, salt=UNSUBSCRIBE_SALT, compress=True)


def read_unsubscribe_token(token: str) -> Unsubscribe:
    try:
        payload = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        kind = payload["k"]
        if kind != ALL_KINDS and kind not in PREFERENCE_FIELDS:
            raise ValueError(kind)
        return Unsubscribe(user_id=int(payload["u"]), kind=kind, message_id=payload.get("m"))
    except (signing.BadSignature, KeyError, TypeError, ValueError) as error:
        raise UnsubscribeLinkError from error


def site_url(path: str) -> str:
    return settings.CEU_SITE_URL.rstrip("/") + path


def unsubscribe_url(token: str) -> str:
    return site_url(reverse("courses:unsubscribe", args=[token]))


def list_unsubscribe_headers(url: str) -> dict[str, str]:
    """RFC 2369's List-Unsubscribe with RFC 8058's one-click POST: a mail client's
    "Unsubscribe" button POSTs `List-Unsubscribe=One-Click` to the link, with no session."""
    return {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


@transaction.atomic
def unsubscribe(link: Unsubscribe) -> User:
    """Turn the switch (or every switch) off, and note on the message that its link was used.
    Doing it twice changes nothing more. Raises UnsubscribeLinkError for a learner who no
    longer exists."""
    user = User.objects.select_for_update().filter(pk=link.user_id).first()
    if user is None:
        raise UnsubscribeLinkError
    fields = (
        list(PREFERENCE_FIELDS.values())
        if link.kind == ALL_KINDS
        else [PREFERENCE_FIELDS[link.kind]]
    )
    for name in fields:
        setattr(user, name, False)
    user.save(update_fields=[*fields, "updated_at"])
    if link.message_id is not None:
        SentMessage.objects.filter(
            pk=link.message_id, user=user, unsubscribed_at__isnull=True
        ).update(unsubscribed_at=timezone.now())
    return user


# --- Signed calendar links ---------------------------------------------------------------------


def calendar_token(*, licence_id: int, renewal_date: date) -> str:
    return signing.dumps(
        {"l": licence_id, "d": renewal_date.isoformat()}, salt=CALENDAR_SALT, compress=True
    )


def read_calendar_token(token: str) -> tuple[int, date]:
    try:
        payload = signing.loads(token, salt=CALENDAR_SALT)
        return int(payload["l"]), date.fromisoformat(payload["d"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as error:
        raise UnsubscribeLinkError from error


# --- Claim, then send --------------------------------------------------------------------------


def claim(*, key: str, **fields) -> SentMessage | None:
    """Insert the message's unique row, committed before anything is sent; None when another
    run (or another worker, at this moment) holds it already."""
    try:
        with transaction.atomic():
            return SentMessage.objects.create(key=key, **fields)
    except IntegrityError:
        return None


@dataclass
class Letter:
    """An optional message ready to go: rendered from `emails/<template>_subject.txt` and
    `_message.txt`."""

    template: str
    context: dict
    attachments: list[tuple[str, bytes | str, str]]

    def render(self) -> tuple[str, str]:
        subject = " ".join(
            render_to_string(f"emails/{self.template}_subject.txt", self.context).split()
        )
        return subject, render_to_string(f"emails/{self.template}_message.txt", self.context)


def compose(
    *, user: User, kind: str, template: str, context: dict, message_id: int | None = None
) -> Letter:
    """The message with what every optional message carries: whom it is for, and the
    one-click link that stops this kind of message."""
    url = unsubscribe_url(unsubscribe_token(user=user, kind=kind, message_id=message_id))
    return Letter(
        template=template,
        context={
            **context,
            "user": user,
            "unsubscribe_url": url,
            "preferences_url": site_url(reverse("accounts:profile")),
            "kind_label": MessageKind(kind).label,
            "site_url": settings.CEU_SITE_URL.rstrip("/"),
        },
        attachments=[],
    )


def email_of(letter: Letter, *, to: str) -> EmailMessage:
    subject, body = letter.render()
    message = EmailMessage(
        subject=subject,
        body=body,
        to=[to],
        headers=list_unsubscribe_headers(letter.context["unsubscribe_url"]),
    )
    for name, content, mimetype in letter.attachments:
        message.attach(name, content, mimetype)
    # Read by django-anymail's provider backends; ignored by SMTP and the others.
    message.track_clicks = False
    message.track_opens = False
    return message


def send_claimed(message: SentMessage, email: EmailMessage) -> bool:
    """Send a claimed message, then record it sent. A refusal from the mail server frees the
    claim (the next run tries again) and is raised; once the server has taken the message the
    claim stays, so nothing can send it again."""
    try:
        email.send()
    except Exception:
        SentMessage.objects.filter(pk=message.pk, sent_at__isnull=True).delete()
        raise
    SentMessage.objects.filter(pk=message.pk).update(sent_at=timezone.now())
    return True


# --- Bounces and complaints (django-anymail's tracking webhooks) --------------------------------

# A soft bounce ("deferred") is retried by the provider and stops nothing.
SUPPRESSING_EVENTS = {
    "bounced": MailSuppression.Reason.BOUNCED,
    "complained": MailSuppression.Reason.COMPLAINED,
}


def record_tracking_event(
    *, event_type: str, recipient: str, detail: str, provider: str, soft: bool = False
) -> bool:
    """What the provider's webhook reported about one recipient; True when it stopped mail.
    A soft bounce (a full mailbox, a server down for the day) stops nothing."""
    reason = SUPPRESSING_EVENTS.get(event_type)
    if reason is None or not recipient or (soft and reason == MailSuppression.Reason.BOUNCED):
        return False
    return suppress(email=recipient, reason=reason, detail=detail, provider=provider)


SOFT_BOUNCE = re.compile(r"^\s*(4\d\d|4\.\d)")


def is_soft_bounce(*, esp_event, mta_response: str) -> bool:
    """Some providers report soft bounces as "bounced" too: a temporary (4xx) SMTP answer, or
    the provider's own bounce type (Postmark's "SoftBounce", SES's "Transient") says so."""
    if mta_response and SOFT_BOUNCE.match(mta_response):
        return True
    raw = esp_event if isinstance(esp_event, dict) else {}
    bounce = raw.get("bounce") if isinstance(raw.get("bounce"), dict) else {}
    kind = str(raw.get("Type") or bounce.get("bounceType") or "").lower()
    return "soft" in kind or "transient" in kind


def connect() -> None:
    """Listen to django-anymail's tracking signal (every provider's webhook sends it)."""
    from anymail.signals import tracking

    # A strong reference: the receiver is defined here, and nothing else keeps it alive.
    @receiver(tracking, weak=False, dispatch_uid="courses.messaging.tracking")
    def on_tracking(sender, event, esp_name: str = "", **kwargs) -> None:
        record_tracking_event(
            event_type=event.event_type,
            recipient=event.recipient or "",
            detail=event.description or event.mta_response or "",
            provider=esp_name,
            soft=is_soft_bounce(esp_event=event.esp_event, mta_response=event.mta_response or ""),
        )
