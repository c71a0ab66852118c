"""The signed-in user is loaded on every request through `User.objects.get(pk=...)`, which runs
a statement built once instead of a query built by the ORM: it must give what the ORM gives."""

from datetime import timedelta

import pytest
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def the_orms(pk) -> User:
    return QuerySet(User).get(pk=pk)


def test_a_user_by_primary_key_is_the_one_the_orm_reads(django_assert_num_queries):
    user = UserFactory(
        full_name="Zoë Ramírez-Núñez",
        is_staff=True,
        is_active=True,
        wants_nudges=False,
        time_zone="America/Chicago",
        last_login=timezone.now() - timedelta(days=3, microseconds=17),
    )

    with django_assert_num_queries(1):
        loaded = User.objects.get(pk=user.pk)

    expected = the_orms(user.pk)
    for field in User._meta.concrete_fields:
        assert getattr(loaded, field.attname) == getattr(expected, field.attname), field.name
        assert type(getattr(loaded, field.attname)) is type(getattr(expected, field.attname))
    assert loaded.last_login.tzinfo is not None
    assert loaded._state.adding is False
    assert loaded._state.db == "default"
    # A string key, as the session keeps it, reads the same row.
    assert User.objects.get(pk=str(user.pk)) == expected


def test_a_missing_or_malformed_key_fails_as_the_orm_does():
    with pytest.raises(User.DoesNotExist):
        User.objects.get(pk=987654)
    with pytest.raises(User.DoesNotExist):
        User.objects.get(pk=None)
    with pytest.raises(ValueError, match="expected a number"):
        User.objects.get(pk="not-a-number")


def test_other_lookups_are_the_orms(learner):
    assert User.objects.get(email=learner.email) == learner
    assert User.objects.get(pk=learner.pk, is_active=True) == learner
    # A condition beside the key is never dropped for the quick lookup by key alone.
    with pytest.raises(User.DoesNotExist):
        User.objects.get(pk=learner.pk, is_active=False)


def test_a_signed_in_page_knows_its_learner_and_not_a_deactivated_one(learner, client):
    client.force_login(learner)
    assert learner.full_name in client.get(reverse("courses:my_trainings")).content.decode()

    User.objects.filter(pk=learner.pk).update(is_active=False)
    response = client.get(reverse("courses:my_trainings"))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]
