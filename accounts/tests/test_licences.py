"""Licences: the learner's own list, add, view, edit and remove; bad input on the form;
another learner's licence answers 404."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import Licence
from accounts.tests.factories import LicenceFactory

pytestmark = pytest.mark.django_db

VALID = {
    "profession": "marriage_family_therapist",
    "jurisdiction": "CA",
    "jurisdiction_other": "",
    "number": "  lmft 98765  ",
    "renewal_date": "2027-06-30",
    "hours_required": "36",
}


def test_adding_a_licence_keeps_the_number_as_issued(learner_client, learner):
    response = learner_client.post(reverse("accounts:licence_add"), VALID, follow=True)

    licence = Licence.objects.get(user=learner)
    assert licence.number == "lmft 98765"  # trimmed, case and inner space kept
    assert licence.hours_required == Decimal("36")
    assert licence.jurisdiction_other == ""
    page = response.content.decode()
    assert "Licence added." in page
    assert "Marriage and family therapist" in page
    assert "California" in page
    assert "lmft 98765" in page


def test_a_licence_from_another_jurisdiction_is_named(learner_client, learner):
    data = {**VALID, "jurisdiction": "OTHER", "jurisdiction_other": "  Ontario  "}
    learner_client.post(reverse("accounts:licence_add"), data)

    licence = Licence.objects.get(user=learner)
    assert licence.jurisdiction_name == "Ontario"


def test_other_jurisdiction_without_a_name_is_refused(learner_client, learner):
    data = {**VALID, "jurisdiction": "OTHER", "jurisdiction_other": "   "}
    response = learner_client.post(reverse("accounts:licence_add"), data)

    assert response.status_code == 200
    assert "Name the state, province or country of your board." in response.content.decode()
    assert not Licence.objects.exists()


def test_a_state_licence_drops_a_stray_other_name(learner_client, learner):
    learner_client.post(reverse("accounts:licence_add"), {**VALID, "jurisdiction_other": "Ohio"})

    assert Licence.objects.get(user=learner).jurisdiction_other == ""


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("number", "   ", "This field is required."),
        ("number", "X" * 41, "Ensure this value has at most 40 characters (it has 41)."),
        ("profession", "", "This field is required."),
        ("profession", "astrologer", "Select a valid choice. astrologer is not one of"),
        ("jurisdiction", "ZZ", "Select a valid choice. ZZ is not one of"),
        ("jurisdiction_other", "Y" * 101, "at most 100 characters"),
        ("renewal_date", "30/06/2027x", "Enter a valid date."),
        ("hours_required", "-1", "greater than or equal to 0"),
        ("hours_required", "lots", "Enter a number."),
        ("hours_required", "12.345", "no more than 2 decimal places"),
    ],
)
def test_bad_input_is_answered_on_the_form_and_saves_nothing(learner_client, field, value, message):
    response = learner_client.post(reverse("accounts:licence_add"), {**VALID, field: value})

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Licence.objects.exists()
    # What was typed elsewhere is still in the form, not lost.
    assert 'value="2027-06-30"' in response.content.decode() or field == "renewal_date"


def test_the_same_licence_twice_is_refused_whatever_its_case(learner_client, learner):
    LicenceFactory(
        user=learner, profession="marriage_family_therapist", jurisdiction="CA", number="LMFT 98765"
    )

    response = learner_client.post(reverse("accounts:licence_add"), VALID)

    assert response.status_code == 200
    assert "You already keep this licence." in response.content.decode()
    assert Licence.objects.filter(user=learner).count() == 1


def test_the_same_number_may_be_held_by_another_learner(learner_client, other_learner):
    LicenceFactory(
        user=other_learner,
        profession="marriage_family_therapist",
        jurisdiction="CA",
        number="lmft 98765",
    )

    learner_client.post(reverse("accounts:licence_add"), VALID)

    assert Licence.objects.count() == 2


def test_editing_a_licence(learner_client, licence):
    response = learner_client.post(
        reverse("accounts:licence_edit", args=[licence.pk]),
        {**VALID, "number": "LPC-00418", "jurisdiction": "FL"},
        follow=True,
    )

    licence.refresh_from_db()
    assert licence.number == "LPC-00418"
    assert licence.jurisdiction == "FL"
    assert "Licence saved." in response.content.decode()


def test_editing_into_a_copy_of_another_licence_is_refused(learner_client, learner, licence):
    LicenceFactory(
        user=learner, profession="marriage_family_therapist", jurisdiction="CA", number="LMFT 98765"
    )

    response = learner_client.post(reverse("accounts:licence_edit", args=[licence.pk]), VALID)

    assert "You already keep this licence." in response.content.decode()
    licence.refresh_from_db()
    assert licence.number == "LPC-00417"
    # The page still names the licence being edited, not the refused change.
    assert "LPC-00417" in response.content.decode()


def test_removing_a_licence_asks_first(learner_client, licence):
    confirm = learner_client.get(reverse("accounts:licence_delete", args=[licence.pk]))
    assert "Remove this licence?" in confirm.content.decode()
    assert Licence.objects.filter(pk=licence.pk).exists()

    response = learner_client.post(
        reverse("accounts:licence_delete", args=[licence.pk]), follow=True
    )

    assert "Licence removed." in response.content.decode()
    assert not Licence.objects.filter(pk=licence.pk).exists()


def test_the_detail_page_shows_the_licence(learner_client, licence):
    response = learner_client.get(reverse("accounts:licence_detail", args=[licence.pk]))

    assert response.status_code == 200
    assert "LPC-00417" in response.content.decode()


@pytest.mark.parametrize("name", ["licence_detail", "licence_edit", "licence_delete"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_another_learners_licence_answers_404(client, other_learner, licence, name, method):
    client.force_login(other_learner)

    response = getattr(client, method)(reverse(f"accounts:{name}", args=[licence.pk]), VALID)

    assert response.status_code == 404
    licence.refresh_from_db()
    assert licence.number == "LPC-00417"


@pytest.mark.parametrize("path", ["/accounts/licences/0/", "/accounts/licences/999999/edit/"])
def test_unknown_licences_answer_404(learner_client, path):
    assert learner_client.get(path).status_code == 404


@pytest.mark.parametrize(
    "name", ["accounts:licence_list", "accounts:licence_add", "accounts:profile"]
)
def test_pages_need_a_signed_in_learner(client, name):
    response = client.get(reverse(name))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_the_list_shows_only_my_licences(learner_client, licence, other_learner):
    LicenceFactory(user=other_learner, number="NOT-MINE-1")

    page = learner_client.get(reverse("accounts:licence_list")).content.decode()

    assert "LPC-00417" in page
    assert "NOT-MINE-1" not in page


def test_licence_list_keeps_its_query_count(learner_client, learner, django_assert_num_queries):
    LicenceFactory.create_batch(25, user=learner)

    # session, user, licences: one query for the whole list however long it is.
    with django_assert_num_queries(3):
        response = learner_client.get(reverse("accounts:licence_list"))
    assert response.content.decode().count("/edit/") == 25


def test_profile_keeps_its_query_count(learner_client, learner, django_assert_num_queries):
    LicenceFactory.create_batch(25, user=learner)

    with django_assert_num_queries(3):
        response = learner_client.get(reverse("accounts:profile"))
    assert response.status_code == 200


def test_renaming_changes_the_printed_name(learner_client, learner):
    response = learner_client.post(
        reverse("accounts:profile"), {"full_name": "  Dana   Whitfield-Ortiz "}, follow=True
    )

    learner.refresh_from_db()
    assert learner.full_name == "Dana Whitfield-Ortiz"
    assert "Your name is saved." in response.content.decode()


@pytest.mark.parametrize("name", ["", "   ", "N" * 151])
def test_a_blank_or_overlong_name_is_refused(learner_client, learner, name):
    response = learner_client.post(reverse("accounts:profile"), {"full_name": name})

    assert response.status_code == 200
    assert "is-invalid" in response.content.decode()
    learner.refresh_from_db()
    assert learner.full_name == "Dana Whitfield"
