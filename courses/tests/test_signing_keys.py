"""The provider's signing keys: made by `create_signing_key` (owner-only files, never replaced
unasked), read from the files the environment names, made on first use only under demo
settings, refused in production when missing, and rotated without breaking a credential
signed before."""

import base64
import io
import json
import stat
from io import StringIO

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from django.core.management import call_command
from django.core.management.base import CommandError
from joserfc.jwk import ECKey, RSAKey
from pyhanko.pdf_utils.reader import PdfFileReader

from accounts.tests.factories import UserFactory
from ceu import checks
from courses.models import OpenBadgeCredential, Provider, SigningKey
from courses.services import badges, credentials, pdf_signing, signing_keys
from courses.services.signing_keys import SigningKeyError
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


def create_keys(*args: str) -> str:
    out = StringIO()
    call_command("create_signing_key", *args, stdout=out)
    return out.getvalue()


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- create_signing_key -------------------------------------------------------------------------


def test_the_command_writes_owner_only_keys_and_a_document_signing_certificate(tmp_path):
    Provider.objects.create(name="Harbor Counseling CE", email="ce@harborcounseling.org")
    folder = tmp_path / "issued-keys"

    out = create_keys("--dir", str(folder))

    paths = {
        line.split("=", 1)[0]: line.split("=", 1)[1]
        for line in out.splitlines()
        if line.startswith("CEU_")
    }
    assert set(paths) == {
        "CEU_CREDENTIAL_KEY_FILE",
        "CEU_SIGNING_KEY_FILE",
        "CEU_SIGNING_CERT_FILE",
    }
    for name in paths.values():
        assert mode(folder / name.rsplit("/", 1)[-1]) == 0o600
    jwk = json.loads((folder / "credential-key.jwk").read_text())
    assert (jwk["kty"], jwk["crv"]) == ("OKP", "Ed25519")
    assert "d" in jwk

    certificate = x509.load_pem_x509_certificate(
        (folder / "document-signing-cert.pem").read_bytes()
    )
    common_name = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert common_name == "Harbor Counseling CE"
    assert certificate.issuer == certificate.subject
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature
    assert usage.content_commitment  # nonRepudiation
    assert not usage.key_cert_sign
    assert isinstance(certificate.public_key(), ec.EllipticCurvePublicKey)
    assert certificate.public_key().curve.name == "secp256r1"


def test_the_command_never_replaces_keys_unless_forced(tmp_path):
    folder = tmp_path / "keys"
    create_keys("--dir", str(folder))
    before = (folder / "credential-key.jwk").read_text()

    with pytest.raises(CommandError, match="already exist"):
        create_keys("--dir", str(folder))
    assert (folder / "credential-key.jwk").read_text() == before

    create_keys("--dir", str(folder), "--force", "--rsa")
    assert (folder / "credential-key.jwk").read_text() != before
    assert mode(folder / "credential-key.jwk") == 0o600
    certificate = x509.load_pem_x509_certificate(
        (folder / "document-signing-cert.pem").read_bytes()
    )
    assert isinstance(certificate.public_key(), rsa.RSAPublicKey)
    assert certificate.public_key().key_size == 2048


def test_without_a_provider_the_certificate_says_it_is_a_demo(tmp_path):
    create_keys("--dir", str(tmp_path))

    certificate = x509.load_pem_x509_certificate(
        (tmp_path / "document-signing-cert.pem").read_bytes()
    )
    common_name = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert "demo" in common_name


# --- Reading keys -------------------------------------------------------------------------------


def test_a_key_is_read_from_a_jwk_or_a_pem_file_alike(tmp_path, settings):
    key = signing_keys.new_credential_key()
    (tmp_path / "key.jwk").write_text(signing_keys.credential_key_file_text(key))
    (tmp_path / "key.pem").write_bytes(key.as_pem(private=True))

    settings.CEU_CREDENTIAL_KEY_FILE = str(tmp_path / "key.jwk")
    from_jwk = signing_keys.credential_key().kid
    settings.CEU_CREDENTIAL_KEY_FILE = str(tmp_path / "key.pem")
    from_pem = signing_keys.credential_key().kid

    assert from_jwk == from_pem == key.thumbprint()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not a key", "not an Ed25519 private key"),
        (
            '{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}',
            "is a public key",
        ),
        ('{"kty": "oct", "k": "c2VjcmV0"}', "not an Ed25519 private key"),
    ],
)
def test_a_key_file_that_cannot_sign_is_refused_with_the_reason(
    tmp_path, settings, content, message
):
    path = tmp_path / "key.jwk"
    path.write_text(content)
    settings.CEU_CREDENTIAL_KEY_FILE = str(path)

    with pytest.raises(SigningKeyError, match=message):
        signing_keys.credential_key()
    [error] = checks.credential_key_messages(production=True)
    assert error.id == "ceu.E002"


def test_a_named_key_file_that_is_missing_stops_the_checks(tmp_path, settings):
    settings.CEU_CREDENTIAL_KEY_FILE = str(tmp_path / "gone.jwk")

    [error] = checks.credential_key_is_usable(None)

    assert error.id == "ceu.E002"
    assert "gone.jwk" in error.msg


def test_demo_settings_make_a_key_on_first_use_readable_by_its_owner_only(settings):
    folder = settings.CEU_KEYS_DIR
    assert not (folder / "credential-key.jwk").exists()
    assert checks.credential_key_messages(production=False) == []

    kid = signing_keys.credential_key().kid

    assert mode(folder / "credential-key.jwk") == 0o600
    assert signing_keys.credential_key().kid == kid
    key_path, cert_path = signing_keys.document_signing_files()
    assert mode(key_path) == mode(cert_path) == 0o600
    x509.load_pem_x509_certificate(cert_path.read_bytes())


def test_production_refuses_to_issue_credentials_without_a_key(client, settings):
    settings.CEU_DEMO_SIGNING_KEYS = False
    certificate = make_certificate()

    with pytest.raises(SigningKeyError, match="CEU_CREDENTIAL_KEY_FILE"):
        badges.issue_credential(certificate)
    assert badges.credential_for_pdf(certificate) is None  # the PDF is rendered without it
    with pytest.raises(SigningKeyError, match="CEU_SIGNING_KEY_FILE"):
        signing_keys.document_signing_files()
    response = client.get(f"/credentials/{certificate.code}.jwt")
    assert response.status_code == 503
    assert response["Retry-After"]
    assert not OpenBadgeCredential.objects.exists()
    assert not any(settings.CEU_KEYS_DIR.glob("*"))
    [warning] = checks.credential_key_messages(production=True)
    assert warning.id == "ceu.W002"
    assert client.get("/.well-known/did.json").json()["verificationMethod"] == []


# --- Rotation -----------------------------------------------------------------------------------


def test_a_credential_signed_before_a_rotation_still_verifies_after_it(client, settings, tmp_path):
    create_keys("--dir", str(tmp_path / "old"))
    create_keys("--dir", str(tmp_path / "new"))
    settings.CEU_CREDENTIAL_KEY_FILE = str(tmp_path / "old" / "credential-key.jwk")
    before = make_certificate()
    old_token = fetch_jwt(client, before.code)
    status_path = decoded(old_token)["credentialStatus"]["statusListCredential"].removeprefix(
        "https://ce.harborcounseling.org"
    )
    old_list = client.get(status_path).content.decode()

    settings.CEU_CREDENTIAL_KEY_FILE = str(tmp_path / "new" / "credential-key.jwk")
    after = make_certificate(email="sam@example.org", slug="other")
    new_token = fetch_jwt(client, after.code)

    old_kid = jws_parts(old_token)[0]["kid"]
    new_kid = jws_parts(new_token)[0]["kid"]
    assert old_kid != new_kid
    # Both keys are published; each credential verifies with its own and not with the other.
    assert fetch_jwt(client, before.code) == old_token
    old_key, new_key = published_key(client, old_kid), published_key(client, new_kid)
    verify_with(old_token, old_key)
    verify_with(new_token, new_key)
    with pytest.raises(InvalidSignature):
        verify_with(old_token, new_key)
    document = client.get("/.well-known/did.json").json()
    credential_methods = [
        method["id"]
        for method in document["verificationMethod"]
        if method["publicKeyJwk"]["kty"] == "OKP"
    ]
    assert credential_methods == [old_kid, new_kid]
    assert document["assertionMethod"][:2] == [old_kid, new_kid]
    assert [row.kid for row in SigningKey.objects.all()] == [
        old_kid.split("#")[1],
        new_kid.split("#")[1],
    ]
    # The status list signed before the rotation stands until it changes, then is signed with
    # the key current now.
    assert client.get(status_path).content.decode() == old_list
    verify_with(old_list, old_key)
    credentials.revoke_certificate(
        certificate=before, reason="Fraud", acting_user=UserFactory(is_staff=True)
    )
    new_list = client.get(status_path).content.decode()
    assert jws_parts(new_list)[0]["kid"] == new_kid
    verify_with(new_list, new_key)


# --- Document-signing certificates, published -----------------------------------------------


def signer_of(pdf: bytes) -> x509.Certificate:
    """The certificate inside the PDF's signature, read from the file alone."""
    signature = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures[-1]
    return x509.load_der_x509_certificate(signature.signer_cert.dump())


def stored_pdf(certificate) -> bytes:
    stored = credentials.render_and_store(certificate_id=certificate.pk)
    with stored.pdf.open("rb") as handle:
        return handle.read()


def published_certificates(client) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The certificates (DER, by kid) in `x5c` of did.json's assertion methods and of jwks.json."""
    document = client.get("/.well-known/did.json").json()
    asserting = set(document["assertionMethod"])
    in_did = {
        method["publicKeyJwk"]["kid"]: base64.b64decode(method["publicKeyJwk"]["x5c"][0])
        for method in document["verificationMethod"]
        if "x5c" in method["publicKeyJwk"] and method["id"] in asserting
    }
    in_jwks = {
        key["kid"]: base64.b64decode(key["x5c"][0])
        for key in client.get("/.well-known/jwks.json").json()["keys"]
        if "x5c" in key
    }
    return in_did, in_jwks


@pytest.fixture
def document_keys(settings, tmp_path):
    settings.CEU_SIGNING_KEY_FILE = ""
    settings.CEU_SIGNING_CERT_FILE = ""
    settings.CEU_TSA_URL = ""


def test_the_document_signing_certificate_of_a_stored_pdf_is_published(client, document_keys):
    certificate = make_certificate()
    credential_kid = jws_parts(fetch_jwt(client, certificate.code))[0]["kid"]
    signer = signer_of(stored_pdf(certificate))
    der = signer.public_bytes(serialization.Encoding.DER)

    in_did, in_jwks = published_certificates(client)

    assert list(in_did.values()) == [der]
    assert in_jwks == in_did
    # The kid is the RFC 7638 thumbprint of the certificate's key, computed by another library.
    kid = ECKey.import_key(signer.public_key()).thumbprint()
    assert list(in_did) == [kid]
    method = next(
        m
        for m in client.get("/.well-known/did.json").json()["verificationMethod"]
        if m["publicKeyJwk"]["kid"] == kid
    )
    assert method["id"] == f"did:web:ce.harborcounseling.org#{kid}"
    assert method["type"] == "JsonWebKey"
    jwk = next(k for k in client.get("/.well-known/jwks.json").json()["keys"] if k["kid"] == kid)
    assert jwk["use"] == "sig"
    assert "alg" not in jwk  # it signs PDFs, never a JWS
    assert "d" not in jwk
    # The credential key is published as before, under the kid credentials already carry.
    assert published_key(client, credential_kid)["kty"] == "OKP"


def test_an_rsa_document_signing_certificate_is_published_as_an_rsa_jwk(tmp_path):
    _key, cert_pem = signing_keys.new_document_signer(name="Harbor Counseling CE", algorithm="rsa")
    certificate = x509.load_pem_x509_certificate(cert_pem)

    jwk = signing_keys.certificate_jwk(certificate)

    assert {"kty", "n", "e", "kid", "use", "x5c"} == set(jwk)
    assert jwk["kid"] == RSAKey.import_key(certificate.public_key()).thumbprint()
    assert base64.b64decode(jwk["x5c"][0]) == certificate.public_bytes(serialization.Encoding.DER)


def test_after_a_document_key_rotation_both_certificates_are_published(
    client, settings, tmp_path, document_keys
):
    before = make_certificate()
    old_signer = signer_of(stored_pdf(before))
    key_pem, cert_pem = signing_keys.new_document_signer(name="Harbor Counseling CE")
    signing_keys.write_private(tmp_path / "new" / "key.pem", key_pem)
    signing_keys.write_private(tmp_path / "new" / "cert.pem", cert_pem)
    settings.CEU_SIGNING_KEY_FILE = str(tmp_path / "new" / "key.pem")
    settings.CEU_SIGNING_CERT_FILE = str(tmp_path / "new" / "cert.pem")
    after = make_certificate(email="sam@example.org", slug="other")
    new_signer = signer_of(stored_pdf(after))

    in_did, in_jwks = published_certificates(client)

    der = serialization.Encoding.DER
    assert list(in_did.values()) == [old_signer.public_bytes(der), new_signer.public_bytes(der)]
    assert in_jwks == in_did


def test_the_published_certificates_take_one_query_however_many(
    client, settings, tmp_path, document_keys, django_assert_num_queries
):
    for number in range(3):
        _key, cert_pem = signing_keys.new_document_signer(name=f"Signer {number}")
        pdf_signing.record_certificate(x509.load_pem_x509_certificate(cert_pem))
    settings.CEU_DEMO_SIGNING_KEYS = False  # nothing configured: only the recorded ones

    # One for the credential keys, one for the certificates.
    with django_assert_num_queries(2):
        certificates = [key for key in signing_keys.jwks()["keys"] if "x5c" in key]
    assert len(certificates) == 3


# --- The issuer's DID ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("site", "did"),
    [
        ("https://ce.harborcounseling.org", "did:web:ce.harborcounseling.org"),
        ("https://CE.Harborcounseling.org/", "did:web:ce.harborcounseling.org"),
        ("http://127.0.0.1:8000", "did:web:127.0.0.1%3A8000"),
        ("https://example.org/ce/site/", "did:web:example.org:ce:site"),
    ],
)
def test_the_issuer_is_did_web_of_the_site_address(site, did):
    assert signing_keys.issuer_did(site) == did


def test_a_site_under_a_path_is_resolved_where_did_web_looks(client):
    assert client.get("/did.json").json() == client.get("/.well-known/did.json").json()


def test_the_go_live_item_passes_only_with_configured_keys(tmp_path, settings):
    assert not signing_keys.golive_item().passed  # demo keys never count
    create_keys("--dir", str(tmp_path))
    settings.CEU_CREDENTIAL_KEY_FILE = str(tmp_path / "credential-key.jwk")
    # The credential key alone is not enough: PDFs are signed too.
    assert "CEU_SIGNING_KEY_FILE" in signing_keys.golive_item().detail
    settings.CEU_SIGNING_KEY_FILE = str(tmp_path / "document-signing-key.pem")
    settings.CEU_SIGNING_CERT_FILE = str(tmp_path / "document-signing-cert.pem")

    item = signing_keys.golive_item()

    assert item.passed
    assert signing_keys.credential_key().kid in item.detail
    assert "PDFs: signed as" in item.detail

    # A certificate that is not the key's pair is refused with what is wrong.
    other = tmp_path / "other"
    create_keys("--dir", str(other))
    settings.CEU_SIGNING_CERT_FILE = str(other / "document-signing-cert.pem")
    refused = signing_keys.golive_item()
    assert not refused.passed
    assert "does not load" in refused.detail or "cannot be read" in refused.detail
