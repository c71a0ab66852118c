"""Reads the accounts pages need."""

from django.db.models import QuerySet

from .models import Licence, User


def licences_for(*, user: User) -> QuerySet[Licence]:
    """The licences this user keeps, in a stable order; only ever theirs."""
    return Licence.objects.filter(user=user).order_by("profession", "jurisdiction", "number", "pk")


def duplicate_licence_exists(
    *,
    user: User,
    profession: str,
    jurisdiction: str,
    jurisdiction_other: str,
    number: str,
    exclude_pk: int | None = None,
) -> bool:
    """Whether the user already keeps this licence (numbers compared regardless of case)."""
    duplicates = Licence.objects.filter(
        user=user,
        profession=profession,
        jurisdiction=jurisdiction,
        jurisdiction_other__iexact=jurisdiction_other,
        number__iexact=number,
    )
    if exclude_pk is not None:
        duplicates = duplicates.exclude(pk=exclude_pk)
    return duplicates.exists()
