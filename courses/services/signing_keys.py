"""The provider's signing keys, the issuer identity they publish, and signing with them.

Two kinds of key, each read from a file the environment names:

- `CEU_CREDENTIAL_KEY_FILE`: the Ed25519 key that signs Open Badges credentials and status lists
  (VC-JOSE, alg EdDSA). A private JWK (JSON) or a PKCS#8 PEM. Its public half is recorded in
  `SigningKey` the first time it signs, under its RFC 7638 thumbprint (`kid`), and published
  from then on: `/.well-known/did.json` (did:web) and `/.well-known/jwks.json`. To rotate it,
  point the variable at a new key: credentials signed before keep verifying, because the old
  public key stays published for good.
- `CEU_SIGNING_KEY_FILE` and `CEU_SIGNING_CERT_FILE`: the document-signing key (PEM, ECDSA P-256
  or RSA) and its X.509 certificate (PEM), for the PDF signature (PAdES). Every such
  certificate that has signed (DocumentSigningCertificate), and the configured one, is published
  beside the credential keys, as a JWK with the certificate in `x5c`: a verifier ties a PDF's
  signer to the issuer through it.

`manage.py create_signing_key` writes one of each for demos and tests. Under the local and test
settings (`CEU_DEMO_SIGNING_KEYS`), a file left unnamed is made on first use in `CEU_KEYS_DIR`
(kept out of git); production never makes one, and refuses to sign credentials without its own
key (`SigningKeyError`).

The issuer's DID is did:web of CEU_SITE_URL: its host, a port percent-encoded (`127.0.0.1%3A8000`)
and any path as further colon-separated segments. A verification method's id is
`<did>#<kid>`, the `kid` in the header of every JWS this site signs.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import json
import os
import tempfile
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

from ceu.rows import Prepared
from courses.models import SigningKey

# The algorithm VC-JOSE names for Ed25519 ("EdDSA", RFC 8037). joserfc flags it as superseded by
# RFC 9864's "Ed25519"; verifiers in the field still expect "EdDSA".
ALGORITHM = "EdDSA"
CREDENTIAL_KEY_NAME = "credential-key.jwk"
DOCUMENT_KEY_NAME = "document-signing-key.pem"
DOCUMENT_CERT_NAME = "document-signing-cert.pem"
DEMO_SIGNER_NAME = "CE provider (demo signing certificate)"
DOCUMENT_CERT_DAYS = 5 * 365


class SigningKeyError(ImproperlyConfigured):
    """No usable key: the message says which file and what is wrong with it."""


@dataclass(frozen=True)
class CredentialKey:
    key: OKPKey
    kid: str

    @property
    def public_jwk(self) -> dict:
        return public_jwk(self.key)


def public_jwk(key: OKPKey) -> dict:
    """The public half only, in the members RFC 8037 defines (never `d`)."""
    public = key.as_dict(private=False)
    return {"kty": public["kty"], "crv": public["crv"], "x": public["x"]}


# --- Making keys ----------------------------------------------------------------------------------


def new_credential_key() -> OKPKey:
    return OKPKey.generate_key("Ed25519")


def credential_key_file_text(key: OKPKey) -> str:
    """The private JWK, as written to a key file."""
    return json.dumps(key.as_dict(private=True), indent=2) + "\n"


def new_document_signer(
    *, name: str, email: str = "", algorithm: str = "ec", days: int = DOCUMENT_CERT_DAYS
) -> tuple[bytes, bytes]:
    """A document-signing key and a self-signed certificate naming the provider, both PEM: for
    demos and tests, or until a CA-issued certificate replaces it."""
    if algorithm == "rsa":
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        private = ec.generate_private_key(ec.SECP256R1())
    attributes = [
        x509.NameAttribute(NameOID.COMMON_NAME, name[:64]),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, name[:64]),
    ]
    if email:
        attributes.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, email))
    subject = x509.Name(attributes)
    now = dt.datetime.now(dt.UTC)
    public = private.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,  # nonRepudiation
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
    )
    if email:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False
        )
    certificate = builder.sign(private, hashes.SHA256())
    key_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM)


def write_private(path: Path, data: bytes, *, force: bool = False) -> None:
    """Write a key file readable by its owner only (0600). Without `force` an existing file is
    never replaced: FileExistsError. The file appears whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        if force:
            os.replace(temporary, path)
        else:
            # A hard link fails where the name exists: two processes making the demo key at
            # once keep the first one's.
            os.link(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


# --- Reading keys ---------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _read_credential_key(path: str, _inode: int, _mtime_ns: int, _size: int) -> CredentialKey:
    text = Path(path).read_text(encoding="utf-8").strip()
    try:
        if text.startswith("{"):
            key = OKPKey.import_key(json.loads(text))
        else:
            key = OKPKey.import_key(text.encode())
    except (ValueError, TypeError, JoseError) as error:
        raise SigningKeyError(
            f"The credential key in {path} is not an Ed25519 private key (JWK or PEM): {error}"
        ) from None
    if key.as_dict(private=False).get("crv") != "Ed25519":
        raise SigningKeyError(f"The credential key in {path} is not an Ed25519 key.")
    if not key.is_private:
        raise SigningKeyError(
            f"The credential key in {path} is a public key: name the private key file."
        )
    return CredentialKey(key=key, kid=key.thumbprint())


def _load_credential_key(path: Path) -> CredentialKey:
    try:
        stat = path.stat()
    except OSError as error:
        raise SigningKeyError(
            f"CEU_CREDENTIAL_KEY_FILE names {path}, which cannot be read: {error.strerror}."
        ) from None
    # Keyed on the file's identity too: a key replaced in place is read again.
    return _read_credential_key(str(path), stat.st_ino, stat.st_mtime_ns, stat.st_size)


def credential_key_path() -> Path | None:
    """The file the credential key is read from, or None where none is named and demo keys are
    not allowed (production)."""
    if settings.CEU_CREDENTIAL_KEY_FILE:
        return Path(settings.CEU_CREDENTIAL_KEY_FILE)
    if settings.CEU_DEMO_SIGNING_KEYS:
        return Path(settings.CEU_KEYS_DIR) / CREDENTIAL_KEY_NAME
    return None


def credential_key() -> CredentialKey:
    """The key that signs now; under demo settings, one is made on first use."""
    path = credential_key_path()
    if path is None:
        raise SigningKeyError(
            "No credential signing key: set CEU_CREDENTIAL_KEY_FILE to an Ed25519 private key "
            "(`manage.py create_signing_key` makes one). Credentials are not issued without it."
        )
    if not settings.CEU_CREDENTIAL_KEY_FILE and not path.exists():
        with contextlib.suppress(FileExistsError):
            write_private(path, credential_key_file_text(new_credential_key()).encode())
    return _load_credential_key(path)


def credential_key_problem() -> str:
    """What stops credentials being signed under these settings ("" when nothing does). Reads
    the file; never makes a key."""
    path = credential_key_path()
    if path is None:
        return "CEU_CREDENTIAL_KEY_FILE is not set: Open Badges credentials are not issued."
    if not settings.CEU_CREDENTIAL_KEY_FILE and not path.exists():
        return ""  # a demo key is made on first use
    try:
        _load_credential_key(path)
    except SigningKeyError as error:
        return str(error)
    return ""


def document_signing_files() -> tuple[Path, Path]:
    """The document-signing key and certificate files for the PDF signature; under demo
    settings, a self-signed pair is made on first use. SigningKeyError where none is named."""
    key_name, cert_name = settings.CEU_SIGNING_KEY_FILE, settings.CEU_SIGNING_CERT_FILE
    if key_name and cert_name:
        return Path(key_name), Path(cert_name)
    if key_name or cert_name:
        raise SigningKeyError(
            "Set both CEU_SIGNING_KEY_FILE and CEU_SIGNING_CERT_FILE, or neither."
        )
    if not settings.CEU_DEMO_SIGNING_KEYS:
        raise SigningKeyError(
            "No document-signing key: set CEU_SIGNING_KEY_FILE and CEU_SIGNING_CERT_FILE "
            "(`manage.py create_signing_key` makes a self-signed pair)."
        )
    folder = Path(settings.CEU_KEYS_DIR)
    key_path, cert_path = folder / DOCUMENT_KEY_NAME, folder / DOCUMENT_CERT_NAME
    if not (key_path.exists() and cert_path.exists()):
        name, email = signer_name()
        key_pem, cert_pem = new_document_signer(name=name, email=email)
        # The certificate goes in first: a reader that finds the key finds its certificate.
        write_private(cert_path, cert_pem, force=True)
        write_private(key_path, key_pem, force=True)
    return key_path, cert_path


def document_signing_files_ready() -> bool:
    """Whether a document-signing pair is there to read (named, or a demo pair already made),
    without making one: publishing the keys never writes a key file."""
    if settings.CEU_SIGNING_KEY_FILE and settings.CEU_SIGNING_CERT_FILE:
        return True
    if settings.CEU_SIGNING_KEY_FILE or settings.CEU_SIGNING_CERT_FILE:
        return False
    folder = Path(settings.CEU_KEYS_DIR)
    return settings.CEU_DEMO_SIGNING_KEYS and (folder / DOCUMENT_CERT_NAME).exists()


def signer_name() -> tuple[str, str]:
    """The provider's name and e-mail for a certificate's subject, from the database when a
    real name is there."""
    from courses.models import Provider
    from courses.services.golive import PLACEHOLDER_PROVIDER_NAME

    provider = Provider.objects.filter(pk=1).first()
    if provider is None or not provider.name or provider.name == PLACEHOLDER_PROVIDER_NAME:
        return DEMO_SIGNER_NAME, ""
    return provider.name, provider.email


# --- Publishing and signing -----------------------------------------------------------------------


def issuer_did(site_url: str | None = None) -> str:
    """did:web for the site's address: `did:web:ce.example.org`, `did:web:127.0.0.1%3A8000`."""
    parts = urlsplit(site_url or settings.CEU_SITE_URL)
    host = (parts.hostname or "localhost").lower()
    if parts.port:
        host = f"{host}%3A{parts.port}"
    segments = [quote(segment, safe="") for segment in parts.path.split("/") if segment]
    return ":".join(["did:web", host, *segments])


def verification_method(kid: str) -> str:
    return f"{issuer_did()}#{kid}"


_BY_KID = Prepared(lambda kid: SigningKey.objects.filter(kid=kid))  # compiled once: each issue


def record(key: CredentialKey) -> SigningKey:
    """The key's published row, made the first time it signs; never deleted."""
    row = _BY_KID.first(key.kid)
    if row is None:
        row, _created = SigningKey.objects.get_or_create(
            kid=key.kid, defaults={"public_jwk": key.public_jwk}
        )
    return row


def sign(payload: bytes, key: CredentialKey) -> str:
    """A compact JWS of `payload` as VC-JOSE secures a credential: EdDSA, typ vc+jwt, cty vc,
    and the verification method's DID URL as `kid`."""
    header = {"alg": ALGORITHM, "kid": verification_method(key.kid), "typ": "vc+jwt", "cty": "vc"}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*EdDSA.*")
        return jws.serialize_compact(header, payload, key.key, algorithms=[ALGORITHM])


def published_keys() -> list[dict]:
    """Every public key that has signed here, oldest first, and the current one even before it
    has signed: each as a JWK with its `kid`. No private member, no personal data."""
    rows = list(SigningKey.objects.order_by("first_used_at", "pk"))
    keys = [{**row.public_jwk, "kid": row.kid} for row in rows]
    try:
        current = credential_key()
    except SigningKeyError:
        current = None
    if current is not None and current.kid not in {row.kid for row in rows}:
        keys.append({**current.public_jwk, "kid": current.kid})
    return [{**key, "alg": ALGORITHM, "use": "sig"} for key in keys]


def certificate_jwk(certificate: x509.Certificate) -> dict:
    """A document-signing certificate as a public JWK (EC P-256 or RSA) with the certificate
    itself in `x5c` (standard base64 of its DER). Its `kid` is the RFC 7638 thumbprint of the
    public key, like the credential keys' (a verifier matches a PDF's signer on the certificate
    in `x5c`, by its SHA-256 fingerprint). No `alg`: these keys sign PDFs, never a JWS."""
    public = certificate.public_key()
    if isinstance(public, ec.EllipticCurvePublicKey):
        if not isinstance(public.curve, ec.SECP256R1):
            raise SigningKeyError(f"Document-signing curve {public.curve.name} is not P-256.")
        numbers = public.public_numbers()
        jwk = {
            "kty": "EC",
            "crv": "P-256",
            "x": _b64url(numbers.x.to_bytes(32, "big")),
            "y": _b64url(numbers.y.to_bytes(32, "big")),
        }
    elif isinstance(public, rsa.RSAPublicKey):
        numbers = public.public_numbers()
        jwk = {"kty": "RSA", "n": _b64url(_unsigned(numbers.n)), "e": _b64url(_unsigned(numbers.e))}
    else:
        raise SigningKeyError("A document-signing certificate's key is ECDSA P-256 or RSA.")
    der = certificate.public_bytes(serialization.Encoding.DER)
    return {
        **jwk,
        "kid": _thumbprint(jwk),
        "use": "sig",
        "x5c": [base64.b64encode(der).decode("ascii")],
    }


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unsigned(number: int) -> bytes:
    return number.to_bytes(max(1, (number.bit_length() + 7) // 8), "big")


def _thumbprint(jwk: dict) -> str:
    """RFC 7638: SHA-256 of the required members, sorted, without white space."""
    required = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n")}[jwk["kty"]]
    canonical = json.dumps({name: jwk[name] for name in required}, separators=(",", ":"))
    return _b64url(hashlib.sha256(canonical.encode()).digest())


def published_certificates() -> list[dict]:
    """Every document-signing certificate the provider has signed PDFs with, and the configured
    one even before it has signed, as JWKs with `x5c`: what ties a PDF's signature to the issuer.
    One query, however many there are."""
    from courses.services import pdf_signing

    known = pdf_signing.known_certificates(make_demo=False)
    return [certificate_jwk(certificate) for certificate in known]


def jwks() -> dict:
    """The credential keys (Ed25519, alg EdDSA) and the document-signing certificates."""
    return {"keys": published_keys() + published_certificates()}


def did_document() -> dict:
    """The issuer's DID document: each published key a JsonWebKey verification method, every
    one of them an assertion method (a retired key still vouches for what it signed). The
    credential keys come first, as they always were; then each document-signing certificate,
    which asserts the PDFs it signed."""
    did = issuer_did()
    credential_members = ("kty", "crv", "x", "kid", "alg")
    methods = [
        {
            "id": f"{did}#{key['kid']}",
            "type": "JsonWebKey",
            "controller": did,
            "publicKeyJwk": {member: key[member] for member in credential_members},
        }
        for key in published_keys()
    ]
    methods += [
        {
            "id": f"{did}#{key['kid']}",
            "type": "JsonWebKey",
            "controller": did,
            "publicKeyJwk": {member: value for member, value in key.items() if member != "use"},
        }
        for key in published_certificates()
    ]
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/jwk/v1"],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [method["id"] for method in methods],
    }


def golive_item():
    """The go-live checklist's item for the signing keys (courses/services/golive.py): it passes
    once CEU_CREDENTIAL_KEY_FILE names a key that signs credentials and CEU_SIGNING_KEY_FILE and
    CEU_SIGNING_CERT_FILE a document-signing pair that signs PDFs; demo keys never count."""
    from courses.services import pdf_signing
    from courses.services.golive import Item

    title = "Signing keys configured"
    named = (
        settings.CEU_CREDENTIAL_KEY_FILE
        and settings.CEU_SIGNING_KEY_FILE
        and settings.CEU_SIGNING_CERT_FILE
    )
    if not named:
        return Item(
            "signing_keys",
            title,
            False,
            "Certificates go out signed only with the provider's own keys. Run `manage.py "
            "create_signing_key --dir <folder outside the repository>` (or use a document-signing "
            "certificate from a CA: docs/signing.md) and set CEU_CREDENTIAL_KEY_FILE, "
            "CEU_SIGNING_KEY_FILE and CEU_SIGNING_CERT_FILE.",
        )
    problem = credential_key_problem()
    if problem:
        return Item("signing_keys", title, False, problem)
    try:
        signer = pdf_signing.document_signer()
    except SigningKeyError as error:
        return Item("signing_keys", title, False, str(error))
    return Item(
        "signing_keys",
        title,
        True,
        f"Credentials: key {credential_key().kid}. PDFs: signed as “{signer.name}”.",
    )
