"""Revocation without tracking: each credential's bit in a W3C Bitstring Status List, read here
the way a verifier reads it (base64url and GZIP decoded by hand, the list's JWS checked against
the published key), flipped by revoking, reinstating and reissuing."""

import base64
import gzip
import threading

import pytest
from django.db import connection
from django.test import Client

from accounts.tests.factories import UserFactory
from courses.models import OpenBadgeCredential, StatusList
from courses.services import badges, credentials, status_list
from courses.tests.credential_helpers import (
    decoded,
    demo_keys,  # noqa: F401 (an autouse fixture: each test signs with its own key)
    fetch_jwt,
    jws_parts,
    make_certificate,
    published_key,
    verify_with,
)

pytestmark = pytest.mark.django_db


def served_list(client: Client, url: str) -> tuple[dict, bytes]:
    """The status list credential a verifier fetches, its signature checked against the key
    the site publishes, and its bits decoded without the site's code."""
    path = url.removeprefix("https://ce.harborcounseling.org")
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vc+jwt"
    token = response.content.decode()
    header = jws_parts(token)[0]
    assert header["typ"] == "vc+jwt"
    credential = decoded(token)
    verify_with(token, published_key(client, header["kid"]))
    encoded = credential["credentialSubject"]["encodedList"]
    assert encoded.startswith("u")
    body = encoded[1:]
    assert "=" not in body
    bits = gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return credential, bits


def bit(bits: bytes, index: int) -> int:
    # The spec's order: index 0 is the left-most (most significant) bit of the first byte.
    return (bits[index // 8] >> (7 - index % 8)) & 1


def status_of(client: Client, code: str) -> int:
    entry = decoded(fetch_jwt(client, code))["credentialStatus"]
    _list, bits = served_list(client, entry["statusListCredential"])
    return bit(bits, int(entry["statusListIndex"]))


@pytest.fixture
def registrar(db):
    return UserFactory(is_staff=True)


# --- The list as published ----------------------------------------------------------------------


def test_the_list_is_a_signed_bitstring_status_list_of_at_least_16_kb(client):
    certificate = make_certificate()
    entry = decoded(fetch_jwt(client, certificate.code))["credentialStatus"]

    credential, bits = served_list(client, entry["statusListCredential"])

    assert len(bits) * 8 == 131_072
    assert not any(bits)
    assert credential["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert credential["issuer"] == "did:web:ce.harborcounseling.org"
    assert credential["id"] == entry["statusListCredential"]
    subject = credential["credentialSubject"]
    assert subject["type"] == "BitstringStatusList"
    assert subject["statusPurpose"] == "revocation"
    assert entry["id"] == f"{entry['statusListCredential']}#{entry['statusListIndex']}"
    json_form = client.get(entry["statusListCredential"].removesuffix(".jwt") + ".json")
    assert json_form.json() == credential


def test_revoking_sets_the_bit_reinstating_clears_it(client, registrar):
    certificate = make_certificate()
    other = make_certificate(email="sam@example.org", slug="other")
    assert status_of(client, certificate.code) == 0

    credentials.revoke_certificate(
        certificate=certificate, reason="Attendance not verified", acting_user=registrar
    )
    assert status_of(client, certificate.code) == 1
    assert status_of(client, other.code) == 0

    credentials.reinstate_certificate(
        certificate=certificate, reason="Attendance confirmed", acting_user=registrar
    )
    assert status_of(client, certificate.code) == 0


def test_reissuing_sets_the_old_bit_and_the_new_credential_starts_clear(client, registrar):
    certificate = make_certificate()
    fetch_jwt(client, certificate.code)

    replacement = credentials.reissue_certificate(
        certificate=certificate, acting_user=registrar, reason="Name corrected"
    )

    assert status_of(client, certificate.code) == 1
    assert status_of(client, replacement.code) == 0


def test_a_certificate_revoked_before_its_credential_gets_its_bit_at_issue(client, registrar):
    certificate = make_certificate()
    credentials.revoke_certificate(certificate=certificate, reason="Fraud", acting_user=registrar)
    assert not OpenBadgeCredential.objects.filter(certificate=certificate).exists()

    assert status_of(client, certificate.code) == 1


def test_the_list_is_cacheable_and_revalidates_with_its_etag(client, registrar):
    certificate = make_certificate()
    entry = decoded(fetch_jwt(client, certificate.code))["credentialStatus"]
    path = entry["statusListCredential"].removeprefix("https://ce.harborcounseling.org")

    first = client.get(path)
    assert first["Cache-Control"] == "public, max-age=60"
    assert first["Access-Control-Allow-Origin"] == "*"
    unchanged = client.get(path, headers={"If-None-Match": first["ETag"]})
    assert unchanged.status_code == 304
    assert unchanged.content == b""

    credentials.revoke_certificate(certificate=certificate, reason="Fraud", acting_user=registrar)
    changed = client.get(path, headers={"If-None-Match": first["ETag"]})
    assert changed.status_code == 200
    assert changed["ETag"] != first["ETag"]


@pytest.mark.parametrize(
    "path",
    [
        "/credentials/status/999.jwt",
        "/credentials/status/0.json",
        "/credentials/status/99999999999999999999999.jwt",
        "/credentials/status/one.jwt",
        "/credentials/status/-1.jwt",
        "/credentials/status/1.xml",
    ],
)
def test_unknown_lists_are_not_found_never_an_error(client, path):
    make_certificate()

    assert client.get(path).status_code == 404


def test_a_served_list_takes_one_query(client, django_assert_num_queries):
    certificate = make_certificate()
    entry = decoded(fetch_jwt(client, certificate.code))["credentialStatus"]
    path = entry["statusListCredential"].removeprefix("https://ce.harborcounseling.org")
    client.get(path)  # signed on first request

    with django_assert_num_queries(1):
        assert client.get(path).status_code == 200
    with django_assert_num_queries(1):
        assert client.get(path.replace(".jwt", ".json")).status_code == 200


# --- Places in the list -------------------------------------------------------------------------


def test_a_place_already_taken_is_never_given_again(monkeypatch):
    draws = iter([7, 7, 7, 9])
    monkeypatch.setattr(status_list, "draw_index", lambda size: next(draws))

    first = badges.issue_credential(make_certificate())
    second = badges.issue_credential(make_certificate(email="sam@example.org", slug="other"))

    assert first.status_index == 7
    assert (second.status_list_id, second.status_index) == (first.status_list_id, 9)
    assert decoded(second.jws)["credentialStatus"]["statusListIndex"] == "9"


def test_a_list_without_free_places_is_closed_and_a_new_one_opened(monkeypatch):
    monkeypatch.setattr(status_list, "draw_index", lambda size: 7)

    first = badges.issue_credential(make_certificate())
    second = badges.issue_credential(make_certificate(email="sam@example.org", slug="other"))

    assert first.status_index == 7
    assert second.status_list_id != first.status_list_id
    assert second.status_index == 7
    assert StatusList.objects.get(pk=first.status_list_id).full
    assert decoded(second.jws)["credentialStatus"]["statusListCredential"].endswith(
        f"/credentials/status/{second.status_list_id}.jwt"
    )


def test_places_are_drawn_at_random_over_the_whole_list():
    drawn = {status_list.draw_index(131_072) for _ in range(200)}

    assert len(drawn) > 190
    assert max(drawn) > 65_536 > min(drawn)


def test_the_encoding_round_trips_and_orders_bits_from_the_left():
    bits = status_list.with_bit(bytes(16_384), 0, True)
    bits = status_list.with_bit(bits, 131_071, True)

    assert bits[0] == 0x80
    assert bits[-1] == 0x01
    encoded = status_list.encode(bits)
    assert encoded.startswith("u")
    assert status_list.decode(encoded) == bits
    assert status_list.with_bit(bits, 0, False)[0] == 0


def run_together(actions) -> list[BaseException]:
    """Run each action in its own thread and connection, all released at the same moment."""
    barrier = threading.Barrier(len(actions))
    errors: list[BaseException] = []

    def run(action) -> None:
        try:
            barrier.wait(timeout=60)
            action()
        except BaseException as error:  # reported by the caller, in the test's thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_concurrent_issues_never_share_a_place(monkeypatch):
    """Eight credentials issued at the same moment, drawing from only four places of a list:
    the unique constraint turns each clash into another draw."""
    certificates = [
        make_certificate(email=f"learner{n}@example.org", slug=f"course-{n}") for n in range(8)
    ]
    lock = threading.Lock()
    state = {"n": 0}

    def few_places(size: int) -> int:
        with lock:
            state["n"] += 1
            return state["n"] % 4

    monkeypatch.setattr(status_list, "draw_index", few_places)

    errors = run_together([lambda c=c: badges.issue_credential(c) for c in certificates])

    assert errors == []
    places = list(OpenBadgeCredential.objects.values_list("status_list_id", "status_index"))
    assert len(places) == len(certificates)
    assert len(set(places)) == len(places)


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_revocations_at_the_same_moment_are_all_seen(client):
    """Every revocation's bit lands, none overwritten by another's copy of the list."""
    certificates = [
        make_certificate(email=f"learner{n}@example.org", slug=f"course-{n}") for n in range(6)
    ]
    for certificate in certificates:
        badges.issue_credential(certificate)
    registrar = UserFactory(is_staff=True)

    errors = run_together(
        [
            lambda c=c: credentials.revoke_certificate(
                certificate=c, reason="Audit finding", acting_user=registrar
            )
            for c in certificates
        ]
    )

    assert errors == []
    assert [status_of(client, c.code) for c in certificates] == [1] * len(certificates)


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_one_certificate_asked_for_at_once_gets_one_credential():
    certificate = make_certificate()

    errors = run_together([lambda: badges.issue_credential(certificate)] * 4)

    assert errors == []
    assert OpenBadgeCredential.objects.filter(certificate=certificate).count() == 1
