"""What the credential tests share: a signing key of each test's own, a JWS read by hand and
checked with `cryptography` alone (never the site's own code), and a certificate to sign."""

import base64
import json
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.test import Client
from django.utils import timezone

from accounts.tests.factories import LicenceFactory, UserFactory
from courses.services import badges, credentials
from courses.tests.factories import (
    AccreditorFactory,
    ApprovalFactory,
    CourseFactory,
    EnrollmentFactory,
)

SCHEMA_FILE = (
    Path(badges.__file__).resolve().parents[1]
    / "schemas"
    / "ob_v3p0"
    / "ob_v3p0_achievementcredential_schema.json"
)


@pytest.fixture(autouse=True)
def demo_keys(settings, tmp_path):
    """Each test signs with a key of its own, made on first use in its own folder."""
    settings.CEU_KEYS_DIR = tmp_path / "keys"
    settings.CEU_CREDENTIAL_KEY_FILE = ""
    settings.CEU_DEMO_SIGNING_KEYS = True
    settings.CEU_SITE_URL = "https://ce.harborcounseling.org"
    return settings.CEU_KEYS_DIR


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jws_parts(token: str) -> tuple[dict, bytes, bytes, bytes]:
    """Header, payload, signature and signing input of a compact JWS, read by hand."""
    header, payload, signature = token.split(".")
    return (
        json.loads(b64url_decode(header)),
        b64url_decode(payload),
        b64url_decode(signature),
        f"{header}.{payload}".encode(),
    )


def verify_with(token: str, jwk: dict) -> bytes:
    """Verify an EdDSA compact JWS with `cryptography` alone; the payload, or InvalidSignature."""
    header, payload, signature, signing_input = jws_parts(token)
    assert header["alg"] == "EdDSA"
    assert jwk["kty"] == "OKP"
    assert jwk["crv"] == "Ed25519"
    Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"])).verify(signature, signing_input)
    return payload


def published_key(client: Client, kid_url: str) -> dict:
    """The key a JWS header names, as the site publishes it over HTTP (did.json and JWKS)."""
    did, _hash, kid = kid_url.partition("#")
    document = client.get("/.well-known/did.json").json()
    assert document["id"] == did
    assert kid_url in document["assertionMethod"]
    method = next(m for m in document["verificationMethod"] if m["id"] == kid_url)
    jwks = client.get("/.well-known/jwks.json").json()
    jwk = next(k for k in jwks["keys"] if k["kid"] == kid)
    assert {m: jwk[m] for m in ("kty", "crv", "x")} == {
        m: method["publicKeyJwk"][m] for m in ("kty", "crv", "x")
    }
    return jwk


def decoded(token: str) -> dict:
    return json.loads(jws_parts(token)[1])


def make_certificate(
    *,
    email: str = "dana.whitfield@example.com",
    name: str = "Dana Whitfield",
    credit: bool = True,
    slug: str = "ghosting",
):
    """A completed course and its certificate: for credit where an approval serves the learner's
    licence, of attendance where none does."""
    learner = UserFactory(email=email, full_name=name)
    if credit:
        LicenceFactory(
            user=learner, profession="clinical_social_worker", jurisdiction="NY", number="L-0417"
        )
    course = CourseFactory(slug=slug, title="Ruptures and ghosting", ce_hours=Decimal("1.5"))
    ApprovalFactory(
        course=course,
        hours=Decimal("1.5"),
        accreditor=AccreditorFactory(short_name="ASWB", professions=["clinical_social_worker"]),
    )
    enrollment = EnrollmentFactory(user=learner, course=course, completed_at=timezone.now())
    return credentials.issue_certificate(enrollment=enrollment)


def schema_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_FILE.read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def fetch_jwt(client: Client, code: str) -> str:
    response = client.get(f"/credentials/{code}.jwt")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/vc+jwt"
    return response.content.decode()
