"""Names as printed on certificates: a name with nothing visible in it is refused, as are
text-direction overrides and isolates (U+202A-U+202E, U+2066-U+2069) and names past the printed
field's 150 characters, by the service as well as by the sign-up and profile forms. Everything
else is kept and printed exactly as typed."""

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory
from courses.services import credentials
from courses.tests.adminforms import form_data
from courses.tests.factories import CourseFactory, EnrollmentFactory

pytestmark = pytest.mark.django_db

NOTHING_VISIBLE = [
    "\u200b\u200b",  # zero-width spaces
    "\u200d\u200c",  # zero-width joiner and non-joiner
    "\u00ad",  # soft hyphen
    "\u2060\ufeff",  # word joiner, zero-width no-break space
    "\u3164\u3164",  # Hangul filler (a "letter" that prints nothing)
    "\u2800",  # Braille pattern blank
    "\u034f\ufe0f",  # combining grapheme joiner, variation selector
    "\u0301\u0301",  # accents with no letter to sit on
    "\u00a0\u3000\u2009",  # no-break, ideographic and thin spaces
    "\U000e0041\U000e0042",  # tag characters
]

BIDI_CONTROLS = [
    "\u202aDana",
    "\u202bDana",
    "\u202cDana",
    "\u202dDana",
    "Dana \u202eztiW",  # right-to-left override: "Dana Witz" that reads "Dana ztiW" in the data
    "\u2066Dana\u2069",
    "\u2067Dana\u2069",
    "\u2068Dana\u2069",
]

AS_TYPED = [
    "Zoë Ramírez-Núñez",
    "Jose\u0301 Nu\u0303n\u0303ez",  # decomposed accents, kept undecomposed
    "Nguyễn Thị Minh Khai",
    "محمد علي",  # right-to-left needs no control characters
    "مريم\u200cزاده",  # Persian zero-width non-joiner inside a name
    "क्\u200dष",  # Devanagari with a zero-width joiner
    "Sarah \u200fאברהם\u200e Cohen",  # marks (not overrides) are kept
    "李小龙",
    "O'Brien & <b>Sons</b>",
    "X Æ A-12",
    "Ｆｕｌｌｗｉｄｔｈ",  # not normalised
    "a" * 150,
]


def sign_up(client, full_name: str):
    return client.post(
        reverse("account_signup"),
        {
            "full_name": full_name,
            "email": "new@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )


def save_name(client, full_name: str):
    return client.post(reverse("accounts:profile"), {"full_name": full_name})


# --- Sign-up ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NOTHING_VISIBLE)
def test_sign_up_refuses_a_name_with_nothing_visible(client, name):
    response = sign_up(client, name)

    assert response.status_code == 200
    page = response.content.decode()
    assert "has no visible characters" in page or "This field is required." in page
    assert not User.objects.exists()


@pytest.mark.parametrize("name", BIDI_CONTROLS)
def test_sign_up_refuses_text_direction_controls(client, name):
    response = sign_up(client, name)

    assert response.status_code == 200
    assert "hidden text-direction control" in response.content.decode()
    assert not User.objects.exists()


def test_sign_up_names_the_control_it_refuses(client):
    page = sign_up(client, "Dana \u202eztiW").content.decode()

    assert "(U+202E)" in page
    assert "names in right-to-left scripts print correctly as they are" in page


def test_sign_up_refuses_a_name_longer_than_the_certificate_prints(client):
    response = sign_up(client, "a" * 151)

    assert response.status_code == 200
    assert "at most 150 characters" in response.content.decode()
    assert not User.objects.exists()


@pytest.mark.parametrize("name", AS_TYPED)
def test_sign_up_keeps_a_name_exactly_as_typed(client, name):
    sign_up(client, name)

    assert User.objects.get().full_name == name


# --- The profile --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [*NOTHING_VISIBLE, *BIDI_CONTROLS, "a" * 151, "Dana\x00", "\x07"])
def test_the_profile_refuses_a_name_that_cannot_be_printed(learner_client, learner, name):
    before = learner.full_name

    response = save_name(learner_client, name)

    assert response.status_code == 200
    assert response.context["form"].errors["full_name"]
    learner.refresh_from_db()
    assert learner.full_name == before


@pytest.mark.parametrize("name", AS_TYPED)
def test_the_profile_keeps_a_name_exactly_as_typed(learner_client, learner, name):
    response = save_name(learner_client, name)

    assert response.status_code == 302
    learner.refresh_from_db()
    assert learner.full_name == name


def test_another_learners_name_is_not_reachable(client, learner, other_learner):
    client.force_login(other_learner)

    save_name(client, "Changed By Someone Else")

    learner.refresh_from_db()
    assert learner.full_name == "Dana Whitfield"


# --- The service: the rule holds however the name arrives --------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        *[(name, "no visible characters") for name in NOTHING_VISIBLE],
        *[(name, "text-direction control") for name in BIDI_CONTROLS],
        ("a" * 151, "at most 150 characters"),
        ("Dana\x00Whitfield", "control character"),
        ("Dana\x1bWhitfield", "control character"),
        ("", "no visible characters"),
    ],
)
def test_the_service_refuses_what_cannot_be_printed(learner, name, message):
    before = learner.full_name

    with pytest.raises(services.PrintedNameError, match=message):
        services.rename(user=learner, full_name=name)

    learner.refresh_from_db()
    assert learner.full_name == before


def test_the_service_counts_the_name_as_printed(learner):
    # Runs of white space print as one space: 150 characters as printed are allowed.
    services.rename(user=learner, full_name="  " + "a" * 75 + "   " + "b" * 74 + " ")

    learner.refresh_from_db()
    assert len(learner.full_name) == 150


@pytest.mark.parametrize("name", AS_TYPED)
def test_the_certificate_prints_the_name_exactly_as_typed(client, learner, name):
    services.rename(user=learner, full_name=name)
    enrollment = EnrollmentFactory(
        user=learner, course=CourseFactory(), completed_at=timezone.now()
    )

    certificate = credentials.issue_certificate(enrollment=enrollment)

    assert certificate.snapshot["learner_name"] == name
    api = client.get(reverse("courses:api_certificate", args=[certificate.code])).json()
    assert api["certificate"]["learner_name"] == name


def test_staff_editing_a_name_in_the_admin_meet_the_same_rule(client, settings):
    settings.CEU_REQUIRE_STAFF_MFA = False
    learner = UserFactory(full_name="Dana Whitfield")
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:accounts_user_change", args=[learner.pk])
    data = form_data(client.get(url).content.decode(), "user_form")
    data["full_name"] = "Dana \u202eWhitfield"

    response = client.post(url, data)

    assert response.status_code == 200
    assert "text-direction control" in response.content.decode()
    learner.refresh_from_db()
    assert learner.full_name == "Dana Whitfield"
