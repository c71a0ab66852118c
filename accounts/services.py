"""Every change to a learner's account and licences goes through here."""

import copy
import unicodedata
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from .models import Licence, User
from .selectors import duplicate_licence_exists


class LicenceError(Exception):
    """A licence change that cannot be made; the message is shown to the learner."""


def _refuse_duplicate(*, user: User, licence: Licence) -> None:
    if duplicate_licence_exists(
        user=user,
        profession=licence.profession,
        jurisdiction=licence.jurisdiction,
        jurisdiction_other=licence.jurisdiction_other,
        number=licence.number,
        exclude_pk=licence.pk,
    ):
        raise LicenceError(_("You already keep this licence."))


def _save(*, licence: Licence) -> Licence:
    try:
        # The savepoint keeps an outer transaction usable when two saves race past the check.
        with transaction.atomic():
            licence.full_clean(exclude=["user"])
            licence.save()
    except IntegrityError as exc:
        raise LicenceError(_("You already keep this licence.")) from exc
    return licence


def add_licence(
    *,
    user: User,
    profession: str,
    jurisdiction: str,
    number: str,
    jurisdiction_other: str = "",
    renewal_date: date | None = None,
    hours_required: Decimal | None = None,
    issued_on: date | None = None,
) -> Licence:
    """Record a licence the learner holds; the same licence twice is refused."""
    licence = Licence(
        user=user,
        profession=profession,
        jurisdiction=jurisdiction,
        jurisdiction_other=jurisdiction_other,
        number=number.strip(),
        renewal_date=renewal_date,
        hours_required=hours_required,
        issued_on=issued_on,
    )
    _refuse_duplicate(user=user, licence=licence)
    return _save(licence=licence)


def update_licence(*, licence: Licence, **changes) -> Licence:
    """Change a licence's details; turning it into a copy of another one is refused."""
    allowed = {
        "profession",
        "jurisdiction",
        "jurisdiction_other",
        "number",
        "renewal_date",
        "hours_required",
        "issued_on",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"Unknown licence fields: {', '.join(sorted(unknown))}")
    # Changes go onto a copy, so a refused change leaves the caller's licence as it was.
    changed = copy.copy(licence)
    for field, value in changes.items():
        setattr(changed, field, value.strip() if field == "number" else value)
    _refuse_duplicate(user=licence.user, licence=changed)
    return _save(licence=changed)


def remove_licence(*, licence: Licence) -> None:
    """Forget a licence; certificates already issued keep their own copy of it."""
    licence.delete()


class PrintedNameError(ValueError):
    """A name that cannot be printed on a certificate as typed; the message says why."""


MAX_NAME_LENGTH = User._meta.get_field("full_name").max_length
# Bidirectional embeddings, overrides (U+202A-U+202E) and isolates (U+2066-U+2069): they can make a
# name print in another order than it reads, or hide part of it. Right-to-left names need none.
BIDI_CONTROLS = frozenset(map(chr, [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]))
# White space, control, format (zero-width and the like), private-use and unassigned characters,
# and combining marks with nothing to combine with: none prints a mark of its own.
_NOTHING_PRINTED = ("Z", "C", "M")
# Letters and symbols that print as blank space.
_BLANK_CHARACTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _prints_something(character: str) -> bool:
    return (
        not unicodedata.category(character).startswith(_NOTHING_PRINTED)
        and character not in _BLANK_CHARACTERS
    )


def printed_name(full_name: str) -> str:
    """The name as certificates will print it: exactly as typed, runs of white space made one
    space. Refused (`PrintedNameError`): a name with nothing visible in it, with a text-direction
    control, with a control character, or longer than the printed field."""
    name = " ".join(full_name.split())
    bidi = sorted({f"U+{ord(c):04X}" for c in name if c in BIDI_CONTROLS})
    if bidi:
        raise PrintedNameError(
            _(
                "Your name contains a hidden text-direction control (%(codes)s), which could "
                "make it print in another order than you see it. Type your name again without "
                "it; names in right-to-left scripts print correctly as they are."
            )
            % {"codes": ", ".join(bidi)}
        )
    controls = sorted({f"U+{ord(c):04X}" for c in name if unicodedata.category(c) == "Cc"})
    if controls:
        raise PrintedNameError(
            _(
                "Your name contains a control character (%(codes)s), which cannot be printed. "
                "Type your name again without it."
            )
            % {"codes": ", ".join(controls)}
        )
    if not any(_prints_something(c) for c in name):
        raise PrintedNameError(
            _("Enter your name as it should be printed: what you typed has no visible characters.")
        )
    if len(name) > MAX_NAME_LENGTH:
        raise PrintedNameError(
            _(
                "Your name can be at most %(max)d characters as printed on a certificate; this "
                "one has %(count)d."
            )
            % {"max": MAX_NAME_LENGTH, "count": len(name)}
        )
    return name


def rename(*, user: User, full_name: str) -> User:
    """Change the name printed on future certificates; `PrintedNameError` when it cannot be
    printed as typed."""
    user.full_name = printed_name(full_name)
    user.save(update_fields=["full_name", "updated_at"])
    return user
