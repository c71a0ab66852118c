"""Certificates as Open Badges 3.0 credentials: a VC-JOSE JWS that an independent Ed25519
implementation verifies against the key the site publishes, a payload the OB 3.0 schema
accepts, served at stable public URLs that never answer 500."""

import base64
import hashlib
import json
from datetime import datetime

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.utils import timezone

from accounts.tests.factories import UserFactory
from courses.models import OpenBadgeCredential, Provider
from courses.services import badges, credentials
from courses.tests.credential_helpers import (
    b64url_decode,
    decoded,
    demo_keys,  # noqa: F401 (an autouse fixture: each test signs with its own key)
    fetch_jwt,
    jws_parts,
    make_certificate,
    published_key,
    schema_validator,
    verify_with,
)

pytestmark = pytest.mark.django_db

# --- The signature ------------------------------------------------------------------------------


def test_the_credential_verifies_against_the_published_key_and_no_other(client):
    certificate = make_certificate()

    token = fetch_jwt(client, certificate.code)
    header, _payload, _signature, _input = jws_parts(token)

    assert header == {
        "alg": "EdDSA",
        "kid": header["kid"],
        "typ": "vc+jwt",
        "cty": "vc",
    }
    assert header["kid"].startswith("did:web:ce.harborcounseling.org#")
    jwk = published_key(client, header["kid"])
    credential = json.loads(verify_with(token, jwk))
    assert credential["id"] == (
        f"https://ce.harborcounseling.org/credentials/{certificate.code}.json"
    )

    stranger = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    foreign = {**jwk, "x": base64.urlsafe_b64encode(stranger).decode().rstrip("=")}
    with pytest.raises(InvalidSignature):
        verify_with(token, foreign)

    head, payload, signature = token.split(".")
    altered = json.loads(b64url_decode(payload))
    altered["credentialSubject"]["creditsEarned"] = 15
    forged = ".".join(
        [head, base64.urlsafe_b64encode(json.dumps(altered).encode()).decode(), signature]
    )
    with pytest.raises(InvalidSignature):
        verify_with(forged, jwk)


def test_the_json_is_the_signed_payload_byte_for_byte(client):
    certificate = make_certificate()
    token = fetch_jwt(client, certificate.code)

    response = client.get(f"/credentials/{certificate.code}.json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.content == jws_parts(token)[1]
    assert "proof" not in response.json()
    assert f'filename="{certificate.code}.json"' in response["Content-Disposition"]


def test_the_published_keys_hold_no_private_member_and_no_personal_data(client):
    certificate = make_certificate(email="dana.whitfield@example.com")
    fetch_jwt(client, certificate.code)

    for url in ("/.well-known/did.json", "/.well-known/jwks.json"):
        response = client.get(url)
        assert response.status_code == 200
        assert response["Cache-Control"] == "public, max-age=300"
        assert response["Access-Control-Allow-Origin"] == "*"
        text = response.content.decode()
        assert '"d"' not in text
        assert "Dana" not in text
        assert "example.com" not in text
    keys = client.get("/.well-known/jwks.json").json()["keys"]
    # The credential key; document-signing certificates, once one exists, follow it
    # (test_signing_keys.py).
    assert [set(key) for key in keys if key["kty"] == "OKP"] == [
        {"kty", "crv", "x", "kid", "alg", "use"}
    ]
    for key in keys:
        assert key["kty"] == "OKP" or set(key) == {"kty", "crv", "x", "y", "kid", "use", "x5c"}


# --- The credential -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("credit", "live"),
    [(True, True), (True, False), (False, True)],
    ids=["credit", "sample", "attendance"],
)
def test_each_issued_credential_validates_against_the_open_badges_schema(
    client, settings, credit, live
):
    if live:
        Provider.objects.create(
            name="Harbor Counseling CE",
            email="ce@harborcounseling.org",
            website="https://harborcounseling.org",
            is_configured=True,
        )
    certificate = make_certificate(credit=credit)
    credential = decoded(fetch_jwt(client, certificate.code))

    errors = sorted(schema_validator().iter_errors(credential), key=str)

    assert errors == []
    for moment in (
        credential["validFrom"],
        credential["awardedDate"],
        credential["credentialSubject"]["activityEndDate"],
    ):
        assert datetime.fromisoformat(moment).tzinfo is not None
    assert credential["validFrom"].endswith("Z")
    assert credential["name"].startswith("Sample") is not live
    if credit:
        assert credential["name"].endswith("CE certificate: Ruptures and ghosting")
    else:
        assert "Certificate of attendance" in credential["name"]
        assert "creditsEarned" not in credential["credentialSubject"]


def test_the_schema_rejects_what_it_should():
    """The vendored schema is not a rubber stamp: a credential without its subject's
    achievement, or with a bare string type, fails."""
    certificate = make_certificate()
    credential = decoded(badges.credential_jwt(certificate))
    validator = schema_validator()

    broken = json.loads(json.dumps(credential))
    del broken["credentialSubject"]["achievement"]
    assert not validator.is_valid(broken)
    broken = json.loads(json.dumps(credential))
    broken["type"] = ["VerifiableCredential"]
    assert not validator.is_valid(broken)


def test_the_credential_says_who_earned_what_from_whom(client):
    Provider.objects.create(
        name="Harbor Counseling CE",
        email="ce@harborcounseling.org",
        website="https://harborcounseling.org",
        is_configured=True,
    )
    certificate = make_certificate(email="Dana.Whitfield@Example.com")
    credential = decoded(fetch_jwt(client, certificate.code))

    assert credential["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["issuer"] == {
        "id": "did:web:ce.harborcounseling.org",
        "type": ["Profile"],
        "name": "Harbor Counseling CE",
        "url": "https://harborcounseling.org",
        "email": "ce@harborcounseling.org",
    }
    assert credential["validFrom"] == certificate.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    subject = credential["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    assert subject["name"] == "Dana Whitfield"
    (identity,) = subject["identifier"]
    assert identity["identityType"] == "emailAddress"
    assert identity["hashed"] is True
    expected = hashlib.sha256(("dana.whitfield@example.com" + identity["salt"]).encode())
    assert identity["identityHash"] == "sha256$" + expected.hexdigest()
    assert "example.com" not in json.dumps(credential).lower()
    assert subject["creditsEarned"] == 1.5
    achievement = subject["achievement"]
    assert achievement["name"] == "Ruptures and ghosting"
    assert achievement["creditsAvailable"] == 1.5
    assert achievement["achievementType"] == "Course"
    assert achievement["id"] == "https://ce.harborcounseling.org/courses/ghosting/"
    assert "post-test" in achievement["criteria"]["narrative"]
    assert subject["activityEndDate"].startswith(
        timezone.localdate(certificate.enrollment.completed_at).isoformat()
    )
    status = credential["credentialStatus"]
    assert status["type"] == "BitstringStatusListEntry"
    assert status["statusPurpose"] == "revocation"
    placed = OpenBadgeCredential.objects.get(certificate=certificate)
    assert status["statusListCredential"] == (
        f"https://ce.harborcounseling.org/credentials/status/{placed.status_list_id}.jwt"
    )
    assert int(status["statusListIndex"]) == placed.status_index
    assert credential["credentialSchema"] == [
        {
            "id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/"
            "ob_v3p0_achievementcredential_schema.json",
            "type": "1EdTechJsonSchemaValidator2019",
        }
    ]


def test_a_credential_is_issued_once_and_served_unchanged(client):
    certificate = make_certificate()

    first = fetch_jwt(client, certificate.code)
    # What the PDF embeds is what the URL serves.
    assert badges.credential_jwt(certificate) == first
    assert fetch_jwt(client, certificate.code) == first
    assert OpenBadgeCredential.objects.filter(certificate=certificate).count() == 1


def test_a_revoked_certificate_keeps_its_credential_and_a_reissue_gets_a_new_one(client):
    registrar = UserFactory(is_staff=True)
    certificate = make_certificate()
    before = fetch_jwt(client, certificate.code)

    credentials.revoke_certificate(
        certificate=certificate, reason="Attendance not verified", acting_user=registrar
    )
    assert fetch_jwt(client, certificate.code) == before

    replacement = credentials.reissue_certificate(
        certificate=certificate, acting_user=registrar, reason="Name corrected"
    )
    new = decoded(fetch_jwt(client, replacement.code))
    old = decoded(before)
    assert new["id"].endswith(f"{replacement.code}.json")
    assert new["credentialStatus"]["id"] != old["credentialStatus"]["id"]


# --- The URLs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "nonsense",
        "CEU-7K3M-Q9XZ-4T2P-HW8D",  # a typo: the check character does not match
        "CEU-7K3M-Q9XZ-4T2P-HW8C.json",
        "%00",
        "CEU-0000-0000-0000-0000",
        "'; DROP TABLE courses_certificate; --",
        "x" * 500,
    ],
)
@pytest.mark.parametrize("form", ["json", "jwt"])
def test_bad_codes_are_not_found_never_an_error(client, code, form):
    response = client.get(f"/credentials/{code}.{form}")

    assert response.status_code == 404
    assert response.json() == {"error": "No certificate has this code."}


def test_a_well_formed_code_never_issued_is_not_found(client):
    make_certificate()

    response = client.get("/credentials/CEU-7K3M-Q9XZ-4T2P-HW8C.jwt")

    assert response.status_code == 404


def test_a_code_typed_loosely_is_sent_to_its_canonical_address(client):
    certificate = make_certificate()
    loose = certificate.code.lower().replace("-", "")

    response = client.get(f"/credentials/{loose}.jwt")

    assert response.status_code == 302
    assert response["Location"] == f"/credentials/{certificate.code}.jwt"


def test_only_reading_is_allowed(client):
    certificate = make_certificate()

    assert client.head(f"/credentials/{certificate.code}.jwt").status_code == 200
    assert client.post(f"/credentials/{certificate.code}.jwt").status_code == 405
    assert client.post("/.well-known/did.json").status_code == 405


def test_credential_lookups_share_the_verify_pages_rate_limit(client, settings):
    settings.CEU_RATE_LIMITS = {**settings.CEU_RATE_LIMITS, "verify": 3}
    certificate = make_certificate()

    answers = [client.get(f"/credentials/{certificate.code}.jwt").status_code for _ in range(3)]
    limited = client.get(f"/credentials/{certificate.code}.json")

    assert answers == [200, 200, 200]
    assert limited.status_code == 429
    assert "Too many lookups" in limited.json()["error"]
    assert limited["Retry-After"]


def test_served_credentials_take_one_query(client, django_assert_num_queries):
    certificate = make_certificate()
    fetch_jwt(client, certificate.code)

    with django_assert_num_queries(1):
        assert client.get(f"/credentials/{certificate.code}.jwt").status_code == 200
    with django_assert_num_queries(1):
        assert client.get(f"/credentials/{certificate.code}.json").status_code == 200
    # The credential keys, and the document-signing certificates: one query each, however many.
    with django_assert_num_queries(2):
        assert client.get("/.well-known/did.json").status_code == 200
    with django_assert_num_queries(2):
        assert client.get("/.well-known/jwks.json").status_code == 200
    with django_assert_num_queries(2):
        assert client.get("/credentials/CEU-7K3M-Q9XZ-4T2P-HW8C.jwt").status_code == 404


def test_linkedin_add_to_profile_names_the_certificate():
    certificate = make_certificate()

    url = badges.linkedin_url(certificate)

    assert url.startswith("https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME")
    assert f"certId={certificate.code}" in url
    assert "certUrl=https%3A%2F%2Fce.harborcounseling.org%2Fverify%2F" in url


@pytest.mark.django_db
def test_the_certificate_page_offers_linkedin_and_the_credential_while_valid(client):
    certificate = make_certificate()

    page = client.get(f"/verify/{certificate.code}/").content.decode()

    assert "Add to LinkedIn" in page
    assert "https://www.linkedin.com/profile/add?" in page
    assert f"certId={certificate.code}" in page
    assert f'href="{badges.credential_url(certificate.code, "jwt")}" download' in page
    assert client.get(f"/credentials/{certificate.code}.jwt").status_code == 200

    registrar = UserFactory()
    credentials.revoke_certificate(
        certificate=certificate, reason="Issued in error", acting_user=registrar
    )
    revoked = client.get(f"/verify/{certificate.code}/").content.decode()
    assert "Revoked." in revoked
    assert "Add to LinkedIn" not in revoked
