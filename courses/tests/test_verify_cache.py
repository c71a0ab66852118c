"""The verify page and the API keep what they show per code until the certificate changes: a
revocation, reinstatement or reissue shows at once, a kept record is never another code's, the
limit still counts every lookup, and the headers are the same as on a page rendered afresh."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import LicenceFactory, UserFactory
from courses.models import Certificate
from courses.services import caching, credentials
from courses.tests.factories import (
    AccreditorFactory,
    ApprovalFactory,
    CourseFactory,
    EnrollmentFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _production_sessions(settings):
    # As production keeps them (the suite's default is the database alone): the query counts
    # below are production's.
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"


# Set afresh on every answer, never part of what is kept.
PER_REQUEST_HEADERS = {"X-Request-ID", "Date"}


def issue(name: str, *, course=None):
    learner = UserFactory(full_name=name)
    LicenceFactory(user=learner, profession="clinical_social_worker", number=f"LCSW {name[:4]}")
    if course is None:
        course = CourseFactory()
        ApprovalFactory(
            course=course,
            accreditor=AccreditorFactory(professions=["clinical_social_worker"]),
        )
    enrollment = EnrollmentFactory(user=learner, course=course, completed_at=timezone.now())
    return credentials.issue_certificate(enrollment=enrollment)


@pytest.fixture
def certificate(db):
    return issue("Ines Moreau")


@pytest.fixture
def registrar(db):
    return UserFactory(is_staff=True)


def page(client, code: str) -> str:
    response = client.get(reverse("courses:verify_code", args=[code]))
    assert response.status_code == 200
    return response.content.decode()


def api(client, code: str) -> dict:
    return client.get(reverse("courses:api_certificate", args=[code])).json()


@pytest.fixture
def board(db):
    """A board member following a QR code: no cookie at all."""
    return Client()


@pytest.fixture
def visitors(board, learner_client):
    """A board member (the page is put together from a layout rendered once and the
    certificate's part kept per code) and a signed-in learner (the page rendered around the
    kept part): both ways a verify page is answered."""
    return {"board": board, "learner": learner_client}


def warm(visitors, code: str) -> None:
    for visitor in visitors.values():
        page(visitor, code)
        page(visitor, code)
    api(visitors["board"], code)


def test_a_page_put_together_is_the_page_rendered_whole(board, certificate):
    url = reverse("courses:verify_code", args=[certificate.code])
    first, kept = board.get(url), board.get(url)
    # A cookie of no meaning to the site: signed out all the same, the page rendered whole.
    whole = Client()
    whole.cookies["consent"] = "yes"

    assert kept.content == first.content == whole.get(url).content
    assert "Ines Moreau" in kept.content.decode()
    assert "Valid." in kept.content.decode()


def test_a_revocation_shows_at_once_on_the_page_and_the_api(visitors, certificate, registrar):
    warm(visitors, certificate.code)

    credentials.revoke_certificate(
        certificate=certificate, reason="Attendance not confirmed.", acting_user=registrar
    )

    for visitor in visitors.values():
        shown = page(visitor, certificate.code)
        assert "Revoked." in shown
        assert "Reason: Attendance not confirmed." in shown
        assert "Valid." not in shown
    record = api(visitors["board"], certificate.code)
    assert record["status"] == "revoked"
    assert record["certificate"]["revoked"]["reason"] == "Attendance not confirmed."


def test_a_reinstatement_shows_at_once(visitors, certificate, registrar):
    credentials.revoke_certificate(certificate=certificate, reason="Mistake", acting_user=registrar)
    warm(visitors, certificate.code)

    credentials.reinstate_certificate(
        certificate=certificate, reason="Revoked by mistake.", acting_user=registrar
    )

    for visitor in visitors.values():
        shown = page(visitor, certificate.code)
        assert "Valid." in shown
        assert "Revoked." not in shown
    assert api(visitors["board"], certificate.code)["status"] == "valid"


def test_a_correction_shows_at_once_on_the_old_code_and_the_new(
    visitors, certificate, registrar, learner
):
    warm(visitors, certificate.code)
    certificate.enrollment.user.full_name = "Ines Moreau-Diallo"
    certificate.enrollment.user.save()

    new = credentials.reissue_certificate(
        certificate=certificate, acting_user=registrar, reason="Name corrected."
    )

    for visitor in visitors.values():
        old_page = page(visitor, certificate.code)
        assert "Superseded." in old_page
        assert new.code in old_page
        new_page = page(visitor, new.code)
        assert "Valid." in new_page
        assert "Ines Moreau-Diallo" in new_page
    assert api(visitors["board"], certificate.code)["certificate"]["superseded_by"] == new.code
    assert api(visitors["board"], new.code)["certificate"]["learner_name"] == ("Ines Moreau-Diallo")


def test_a_kept_record_is_never_another_codes(visitors, certificate):
    other = issue("Rahel Tesfaye")
    warm(visitors, certificate.code)
    warm(visitors, other.code)

    for visitor in visitors.values():
        mine, theirs = page(visitor, certificate.code), page(visitor, other.code)
        assert f"<title>{certificate.code} · CE Trainings</title>" in mine
        assert f"<title>{other.code} · CE Trainings</title>" in theirs
        assert "Ines Moreau" in mine
        assert certificate.code in mine
        assert "Rahel Tesfaye" not in mine
        assert "Rahel Tesfaye" in theirs
        assert other.code in theirs
        assert "Ines Moreau" not in theirs
    assert api(visitors["board"], certificate.code)["certificate"]["code"] == certificate.code
    assert api(visitors["board"], other.code)["certificate"]["learner_name"] == "Rahel Tesfaye"


def test_an_unknown_code_is_not_kept(board, certificate):
    unknown = "CEU-7K3M-Q9XZ-4T2P-HW8C"
    assert board.get(reverse("courses:verify_code", args=[unknown])).status_code == 404
    assert board.get(reverse("courses:api_certificate", args=[unknown])).status_code == 404

    # The code turns up (as it would once issued): it is found at once.
    Certificate.objects.filter(pk=certificate.pk).update(code=unknown)

    assert "Ines Moreau" in page(board, unknown)
    assert api(board, unknown)["status"] == "valid"


def test_a_lookup_that_read_the_old_row_keeps_nothing(certificate):
    """A lookup reads the database, the certificate changes before it stores what it read: the
    stale copy must never be served."""

    def read_then_changed():
        stale = "as it stood before the change"
        caching.certificate_changed(certificate.code)
        return stale

    assert caching.cached_for_code(certificate.code, "test", read_then_changed) == (
        "as it stood before the change"
    )
    assert caching.cached_for_code(certificate.code, "test", lambda: "fresh") == "fresh"
    assert caching.cached_for_code(certificate.code, "test", lambda: "not read") == "fresh"


def test_the_limit_counts_every_lookup_kept_or_not(board, certificate, settings):
    settings.CEU_RATE_LIMITS = {"verify": 3, "verify_api": 2, "verify_pdf": 1}
    verify = reverse("courses:verify_code", args=[certificate.code])
    record = reverse("courses:api_certificate", args=[certificate.code])

    assert [board.get(verify).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert [board.get(record).status_code for _ in range(3)] == [200, 200, 429]


@pytest.mark.parametrize("signed_in", [False, True], ids=["board", "learner"])
def test_a_kept_page_carries_every_header_a_fresh_one_does(
    board, learner_client, certificate, signed_in
):
    visitor = learner_client if signed_in else board
    url = reverse("courses:verify_code", args=[certificate.code])

    fresh, kept = visitor.get(url), visitor.get(url)

    def headers(response) -> dict:
        return {k: v for k, v in response.headers.items() if k not in PER_REQUEST_HEADERS}

    assert headers(kept) == headers(fresh)
    for name in (
        "Content-Security-Policy",
        "Permissions-Policy",
        "X-Frame-Options",
        "X-Content-Type-Options",
        "Referrer-Policy",
        "X-Robots-Tag",
    ):
        assert kept.has_header(name), name
    assert "Cookie" in kept["Vary"]
    assert "Accept-Language" in kept["Vary"]


def test_a_signed_in_learner_never_gets_the_page_kept_for_visitors(
    board, learner_client, certificate
):
    assert "Sign in" in page(board, certificate.code)

    mine = page(learner_client, certificate.code)

    assert "My trainings" in mine
    assert "Sign in" not in mine
    assert "Ines Moreau" in mine
    assert "Sign in" in page(board, certificate.code)


def test_the_page_kept_for_visitors_is_in_their_language(board, certificate, registrar):
    credentials.revoke_certificate(
        certificate=certificate, reason="Attendance not confirmed.", acting_user=registrar
    )
    revoked_on = timezone.localdate(Certificate.objects.get(pk=certificate.pk).revoked_at)
    url = reverse("courses:verify_code", args=[certificate.code])

    english = board.get(url, headers={"accept-language": "en"}).content.decode()
    german = board.get(url, headers={"accept-language": "de"}).content.decode()

    # Dates are printed through Django's formats, which follow the visitor's language.
    assert english != german
    assert str(revoked_on.year) in german
    assert board.get(url, headers={"accept-language": "en"}).content.decode() == english


# --- Query counts, flat in the number of certificates -----------------------------------------


@pytest.fixture(params=[2, 30], ids=["2-certificates", "30-certificates"])
def many(request, certificate):
    course = CourseFactory()
    ApprovalFactory(
        course=course, accreditor=AccreditorFactory(professions=["clinical_social_worker"])
    )
    for index in range(request.param - 1):
        issue(f"Learner {index}", course=course)
    assert Certificate.objects.count() == request.param
    return certificate


@pytest.mark.parametrize(
    ("view", "cold", "warm"),
    [
        # The certificate with its replacement; then nothing at all.
        ("courses:verify_code", 1, 0),
        ("courses:api_certificate", 1, 0),
    ],
)
def test_query_counts_for_a_board(board, many, django_assert_num_queries, view, cold, warm):
    url = reverse(view, args=[many.code])
    with django_assert_num_queries(cold):
        assert board.get(url).status_code == 200
    with django_assert_num_queries(warm):
        assert board.get(url).status_code == 200


def test_query_counts_for_a_signed_in_learner(learner_client, many, django_assert_num_queries):
    url = reverse("courses:verify_code", args=[many.code])
    # The session comes from the cache; the user, then the certificate with its replacement.
    with django_assert_num_queries(2):
        assert learner_client.get(url).status_code == 200
    # The user only: the certificate's part of the page is kept.
    with django_assert_num_queries(1):
        assert learner_client.get(url).status_code == 200


def test_a_new_release_never_serves_what_an_older_one_kept(certificate, monkeypatch):
    assert caching.cached_for_code(certificate.code, "test", lambda: "old") == "old"
    assert caching.cached_for_code(certificate.code, "test", lambda: "not read") == "old"

    monkeypatch.setattr(caching, "release", lambda: "a-newer-release")

    assert caching.cached_for_code(certificate.code, "test", lambda: "new") == "new"
