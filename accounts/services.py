"""Every change to a learner's account and licences goes through here."""

import copy
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


def rename(*, user: User, full_name: str) -> User:
    """Change the name printed on future certificates."""
    user.full_name = " ".join(full_name.split())
    user.save(update_fields=["full_name", "updated_at"])
    return user
