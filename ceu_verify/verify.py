"""The checks behind `python -m ceu_verify`: a certificate PDF or an Open Badges credential,
checked against the issuer's keys and, online, its revocation status list.

Formats (as the issuing site writes them):
- a credential is a compact JWS (VC-JOSE): header {"alg": "EdDSA", "kid": "<did>#<RFC 7638
  thumbprint>", "typ": "vc+jwt"}, payload the OpenBadgeCredential's JSON, whose `issuer.id` is
  the `<did>` of the `kid`;
- the issuer's keys are published as a did:web document (https://<host>/.well-known/did.json):
  the Ed25519 credential keys, and each document-signing certificate that signs its PDFs as a
  JWK (EC P-256 or RSA, no `alg`) carrying the certificate in `x5c`. Only the Ed25519 keys
  ever verify a JWS; the certificates only tie a PDF's signer to the issuer, matched on the
  SHA-256 fingerprint of the certificate's DER;
- `credentialStatus` points into a W3C Bitstring Status List credential, itself a JWS by the same
  issuer, whose `encodedList` is "u" + base64url(gzip(bits)); bit i is the (i % 8)-th most
  significant bit of byte i // 8, and a set bit means revoked;
- a certificate PDF is signed (PAdES) and embeds `certificate.json` (the record as issued) and
  `credential.jwt` (the credential).

Only the standard library, `cryptography`, `pyhanko` and `pypdf` are used: no part of the site.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import gzip
import hashlib
import io
import json
import re
import unicodedata
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import unquote, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

CERTIFICATE_ATTACHMENT = "certificate.json"
CREDENTIAL_ATTACHMENT = "credential.jwt"
FETCH_TIMEOUT = 20
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]

# Verdicts, most serious first, and the exit code of each (documented in README.md).
VALID, ALTERED, REVOKED, UNKNOWN_ISSUER, UNTRUSTED = (
    "VALID",
    "ALTERED",
    "REVOKED",
    "UNKNOWN ISSUER",
    "UNTRUSTED",
)
SEVERITY = [ALTERED, REVOKED, UNKNOWN_ISSUER, UNTRUSTED]
EXIT_CODES = {VALID: 0, ALTERED: 2, REVOKED: 3, UNTRUSTED: 4, UNKNOWN_ISSUER: 5}
EXIT_UNREADABLE = 1


class VerifyError(Exception):
    """The input cannot be read at all (exit code 1)."""


@dataclass
class Check:
    ok: bool
    message: str
    # The verdict a failed check leads to; None for notes that change nothing.
    verdict: str | None = None


@dataclass
class Result:
    kind: str
    checks: list[Check] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)

    def passed(self, message: str) -> None:
        self.checks.append(Check(True, message))

    def note(self, message: str) -> None:
        self.checks.append(Check(True, message, None))

    def failed(self, verdict: str, message: str) -> None:
        self.checks.append(Check(False, message, verdict))

    @property
    def verdict(self) -> str:
        found = {check.verdict for check in self.checks if not check.ok}
        for verdict in SEVERITY:
            if verdict in found:
                return verdict
        return VALID

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]


@dataclass
class Options:
    issuer_key: Path | None = None
    did_web: bool = False
    offline: bool = False


# --- Encoding helpers ---------------------------------------------------------------------------


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def thumbprint(x: str) -> str:
    """RFC 7638 thumbprint of an Ed25519 public JWK, given its `x`."""
    canonical = json.dumps(
        {"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"), sort_keys=True
    )
    return b64url(hashlib.sha256(canonical.encode()).digest())


@dataclass(frozen=True)
class Jws:
    header: dict
    payload: bytes
    signature: bytes
    signing_input: bytes

    @property
    def document(self) -> dict:
        return json.loads(self.payload)


def parse_jws(token: str) -> Jws:
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise ValueError("not a compact JWS (three dot-separated parts)")
    try:
        header = json.loads(b64url_decode(parts[0]))
        payload = b64url_decode(parts[1])
        signature = b64url_decode(parts[2])
        json.loads(payload)
    except (ValueError, binascii.Error) as error:
        raise ValueError(f"not a compact JWS: {error}") from None
    if not isinstance(header, dict):
        raise ValueError("the JWS header is not a JSON object")
    return Jws(header, payload, signature, f"{parts[0]}.{parts[1]}".encode())


# --- Issuer keys --------------------------------------------------------------------------------


def _jwk_key(jwk: dict) -> tuple[str, Ed25519PublicKey] | None:
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or not jwk.get("x"):
        return None
    x = jwk["x"]
    return thumbprint(x), Ed25519PublicKey.from_public_bytes(b64url_decode(x))


def _jwks_of(document: dict) -> list[dict]:
    """The JWKs of a JWK, a JWK Set or a DID document (its assertion methods only)."""
    if "keys" in document:
        jwks = list(document["keys"])
    elif "verificationMethod" in document:
        asserting = set(document.get("assertionMethod", []))
        jwks = [
            method.get("publicKeyJwk", {})
            for method in document["verificationMethod"]
            if isinstance(method, dict) and method.get("id") in asserting
        ]
    else:
        jwks = [document]
    return [jwk for jwk in jwks if isinstance(jwk, dict)]


def keys_from_document(document: dict) -> dict[str, Ed25519PublicKey]:
    """Ed25519 keys by thumbprint from a JWK, a JWK Set or a DID document (its assertion
    methods only). Nothing else: a credential's JWS (alg EdDSA) is only ever checked with one of
    these, never with a document-signing certificate's key published beside them."""
    keys = {}
    for jwk in _jwks_of(document):
        found = _jwk_key(jwk)
        if found:
            keys[found[0]] = found[1]
    return keys


def _int(member: str) -> int:
    return int.from_bytes(b64url_decode(member), "big")


def _certificate_of(jwk: dict) -> str | None:
    """The SHA-256 fingerprint of the certificate in a JWK's `x5c`, where the certificate's
    public key is the JWK's (EC P-256 or RSA); None otherwise."""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    chain = jwk.get("x5c")
    if not isinstance(chain, list) or not chain or not isinstance(chain[0], str):
        return None
    try:
        der = base64.b64decode(chain[0], validate=True)
        public = x509.load_der_x509_certificate(der).public_key()
        if isinstance(public, ec.EllipticCurvePublicKey) and jwk.get("kty") == "EC":
            numbers = public.public_numbers()
            same = (
                isinstance(public.curve, ec.SECP256R1)
                and jwk.get("crv") == "P-256"
                and (numbers.x, numbers.y) == (_int(jwk["x"]), _int(jwk["y"]))
            )
        elif isinstance(public, rsa.RSAPublicKey) and jwk.get("kty") == "RSA":
            numbers = public.public_numbers()
            same = (numbers.n, numbers.e) == (_int(jwk["n"]), _int(jwk["e"]))
        else:
            same = False
    except (ValueError, TypeError, KeyError, binascii.Error):
        return None
    return hashlib.sha256(der).hexdigest() if same else None


def certificates_from_document(document: dict) -> set[str]:
    """The SHA-256 fingerprints of the document-signing certificates (`x5c`) a JWK Set or DID
    document publishes (a DID document's assertion methods only)."""
    found = {_certificate_of(jwk) for jwk in _jwks_of(document)}
    return {fingerprint for fingerprint in found if fingerprint}


def load_issuer_keys(path: Path) -> dict[str, Ed25519PublicKey]:
    """A pinned issuer key file: a JWK, a JWK Set, a DID document, or a PEM (public or private)
    Ed25519 key."""
    return load_issuer_file(path)[0]


def load_issuer_file(path: Path) -> tuple[dict[str, Ed25519PublicKey], set[str]]:
    """A pinned issuer key file's Ed25519 keys, and the fingerprints of the document-signing
    certificates it lists (only a JWK Set or a DID document lists them)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise VerifyError(f"The issuer key file {path} cannot be read: {error.strerror}") from None
    text = data.decode("utf-8", "replace").strip()
    certificates: set[str] = set()
    if text.startswith("{"):
        try:
            document = json.loads(text)
            keys = keys_from_document(document)
            certificates = certificates_from_document(document)
        except (ValueError, TypeError, AttributeError) as error:
            raise VerifyError(f"The issuer key file {path} is not a JWK: {error}") from None
    else:
        try:
            if "PRIVATE KEY" in text:
                key = serialization.load_pem_private_key(data, password=None)
                key = key.public_key() if isinstance(key, Ed25519PrivateKey) else None
            else:
                key = serialization.load_pem_public_key(data)
        except (ValueError, TypeError) as error:
            raise VerifyError(f"The issuer key file {path} is not a PEM key: {error}") from None
        if not isinstance(key, Ed25519PublicKey):
            raise VerifyError(f"The issuer key file {path} holds no Ed25519 key.")
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        keys = {thumbprint(b64url(raw)): key}
    if not keys and not certificates:
        raise VerifyError(f"The issuer key file {path} holds no Ed25519 key.")
    return keys, certificates


def _allowed_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOCAL_HOSTS):
        return url
    raise ValueError(f"{url} is not an https address")


def fetch(url: str) -> bytes:
    request = urllib.request.Request(  # noqa: S310 only https, or http on this machine
        _allowed_url(url), headers={"User-Agent": "ceu_verify"}
    )
    with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:  # noqa: S310
        return response.read()


def did_web_url(did: str) -> str:
    """did:web:host[%3Aport][:path...] -> https://host[:port]/.well-known/did.json (or
    /path/did.json); http only for this machine."""
    if not did.startswith("did:web:"):
        raise ValueError(f"{did} is not a did:web identifier")
    segments = did[len("did:web:") :].split(":")
    host = unquote(segments[0])
    path = "/".join(unquote(s) for s in segments[1:])
    hostname = urlsplit(f"//{host}").hostname
    scheme = "http" if hostname in LOCAL_HOSTS else "https"
    suffix = f"/{path}/did.json" if path else "/.well-known/did.json"
    return f"{scheme}://{host}{suffix}"


def resolve_did_web(did: str) -> dict[str, Ed25519PublicKey]:
    return keys_from_document(fetch_did_document(did))


def fetch_did_document(did: str) -> dict:
    document = json.loads(fetch(did_web_url(did)))
    if not isinstance(document, dict) or document.get("id") != did:
        raise ValueError(f"the DID document at {did_web_url(did)} is not for {did}")
    return document


# --- Credentials --------------------------------------------------------------------------------


def issuer_id(credential: dict) -> str:
    issuer = credential.get("issuer")
    return issuer.get("id", "") if isinstance(issuer, dict) else str(issuer or "")


class Keys:
    """The issuer keys to check against: pinned ones, or the issuer's did:web when online."""

    def __init__(self, options: Options):
        self.options = options
        self.pinned: dict[str, Ed25519PublicKey] | None = None
        self.pinned_certificates: set[str] = set()
        if options.issuer_key:
            self.pinned, self.pinned_certificates = load_issuer_file(options.issuer_key)
        self._resolved: dict[str, dict] = {}

    def _did_document(self, did: str) -> dict:
        if did not in self._resolved:
            try:
                self._resolved[did] = fetch_did_document(did)
            except (OSError, ValueError, TypeError, AttributeError) as error:
                raise ValueError(
                    f"the issuer's did:web ({did}) cannot be resolved: {error}"
                ) from None
        return self._resolved[did]

    def _sources(self) -> tuple[bool, bool]:
        """Whether the pinned file counts, and whether the did:web document does."""
        use_did = (self.options.did_web or self.pinned is None) and not self.options.offline
        if self.pinned is None and not use_did:
            raise ValueError("offline without --issuer-key: no issuer key to check against")
        return self.pinned is not None, use_did

    def for_issuer(self, did: str) -> tuple[dict[str, Ed25519PublicKey], str]:
        """The keys and where they come from; raises ValueError where none can be had."""
        pinned, use_did = self._sources()
        keys: dict[str, Ed25519PublicKey] = {}
        sources = []
        if pinned:
            keys.update(self.pinned or {})
            sources.append("the pinned issuer key")
        if use_did:
            keys.update(keys_from_document(self._did_document(did)))
            sources.append(f"the issuer's published keys ({did_web_url(did)})")
        return keys, " and ".join(sources)

    def certificates_for_issuer(self, did: str) -> tuple[set[str], str]:
        """The fingerprints of the document-signing certificates the issuer publishes, and where
        they come from; raises ValueError where no issuer keys can be had."""
        pinned, use_did = self._sources()
        certificates: set[str] = set()
        sources = []
        if pinned:
            certificates |= self.pinned_certificates
            sources.append("the pinned issuer key file")
        if use_did:
            certificates |= certificates_from_document(self._did_document(did))
            sources.append(f"the issuer's published keys ({did_web_url(did)})")
        return certificates, " and ".join(sources)


def check_jws(token: Jws, keys: Keys, result: Result, what: str) -> bool:
    """The JWS's signature by the issuer it names. Records its checks; True when it verified."""
    header, credential = token.header, token.document
    if header.get("alg") != "EdDSA":
        result.failed(UNTRUSTED, f"{what}: algorithm {header.get('alg')!r}, not EdDSA")
        return False
    did, _hash, kid = str(header.get("kid", "")).partition("#")
    if not kid or did != issuer_id(credential):
        result.failed(ALTERED, f"{what}: the signing key {header.get('kid')!r} is not the issuer's")
        return False
    try:
        known, source = keys.for_issuer(did)
    except ValueError as error:
        result.failed(UNKNOWN_ISSUER, f"{what}: {error}")
        return False
    key = known.get(kid)
    if key is None:
        result.failed(UNKNOWN_ISSUER, f"{what}: signed by key {kid}, which is not among {source}")
        return False
    try:
        key.verify(token.signature, token.signing_input)
    except InvalidSignature:
        result.failed(ALTERED, f"{what}: the signature does not match its content")
        return False
    result.passed(f"{what}: signature verified with key {kid} from {source}")
    return True


def decode_status_list(encoded: str) -> bytes:
    if not encoded.startswith("u"):
        raise ValueError("encodedList is not multibase base64url ('u')")
    return gzip.decompress(b64url_decode(encoded[1:]))


def check_status(credential: dict, keys: Keys, result: Result) -> None:
    """Fetch the whole status list (the issuer cannot tell which entry is looked at) and read
    this credential's bit."""
    status = credential.get("credentialStatus")
    if not status:
        result.note("Status: the credential names no status list")
        return
    if keys.options.offline:
        result.note("Status: not checked (offline)")
        return
    entries = status if isinstance(status, list) else [status]
    for entry in entries:
        if entry.get("statusPurpose", "revocation") != "revocation":
            continue
        url = entry.get("statusListCredential", "")
        try:
            index = int(entry["statusListIndex"])
            body = fetch(url).decode().strip()
        except (KeyError, ValueError, OSError, urllib.error.URLError) as error:
            result.failed(UNTRUSTED, f"Status: the status list {url} cannot be read: {error}")
            continue
        try:
            if body.startswith("{"):
                result.failed(UNTRUSTED, f"Status: the status list {url} is not signed")
                continue
            token = parse_jws(body)
        except ValueError as error:
            result.failed(UNTRUSTED, f"Status: the status list {url} is {error}")
            continue
        listed = token.document
        if issuer_id(listed) != issuer_id(credential):
            result.failed(UNTRUSTED, f"Status: the status list {url} is not the issuer's")
            continue
        if not check_jws(token, keys, result, "Status list"):
            continue
        try:
            bits = decode_status_list(listed["credentialSubject"]["encodedList"])
            revoked = bool(bits[index // 8] & (0x80 >> (index % 8)))
        except (KeyError, ValueError, IndexError, OSError) as error:
            result.failed(UNTRUSTED, f"Status: the status list {url} cannot be decoded: {error}")
            continue
        if revoked:
            result.failed(REVOKED, "Status: REVOKED or replaced by the issuer")
        else:
            result.passed(f"Status: not revoked (entry {index} of {url})")


def credential_fields(credential: dict) -> dict[str, str]:
    subject = credential.get("credentialSubject") or {}
    achievement = subject.get("achievement") or {}
    issuer = credential.get("issuer")
    fields = {
        "Certificate": credential_code(credential),
        "Learner": subject.get("name", ""),
        "Course": achievement.get("name", ""),
        "CE hours": str(subject.get("creditsEarned", "none (attendance)")),
        "Completed": str(subject.get("activityEndDate", ""))[:10],
        "Issued": str(credential.get("validFrom", "")),
        "Issuer": (issuer.get("name", "") + f" ({issuer_id(credential)})")
        if isinstance(issuer, dict)
        else issuer_id(credential),
    }
    return {name: value for name, value in fields.items() if value}


def credential_code(credential: dict) -> str:
    path = urlsplit(str(credential.get("id", ""))).path
    name = path.rstrip("/").rsplit("/", 1)[-1]
    for suffix in (".json", ".jwt"):
        name = name.removesuffix(suffix)
    return name


def check_shape(credential: dict, result: Result) -> bool:
    types = credential.get("type") or []
    subject = credential.get("credentialSubject")
    if "OpenBadgeCredential" not in types or not isinstance(subject, dict):
        result.failed(UNTRUSTED, "Shape: not an Open Badges credential (OpenBadgeCredential)")
        return False
    if not issuer_id(credential) or not subject.get("achievement"):
        result.failed(UNTRUSTED, "Shape: the credential names no issuer or no achievement")
        return False
    result.passed("Shape: an OpenBadgeCredential with issuer, subject and achievement")
    return True


def verify_credential_token(token_text: str, keys: Keys, result: Result) -> dict | None:
    try:
        token = parse_jws(token_text)
    except ValueError as error:
        result.failed(ALTERED, f"Credential: {error}")
        return None
    credential = token.document
    result.fields.update(credential_fields(credential))
    check_shape(credential, result)
    check_jws(token, keys, result, "Credential")
    check_status(credential, keys, result)
    return credential


# --- PDFs ---------------------------------------------------------------------------------------


def _normalised(text: str) -> str:
    return "".join(unicodedata.normalize("NFC", text).split()).casefold()


def _long_date(value: str) -> str:
    day = date.fromisoformat(value[:10])
    return f"{MONTHS[day.month - 1]} {day.day}, {day.year}"


def _same_number(a, b) -> bool:
    try:
        return Decimal(str(a)) == Decimal(str(b))
    except InvalidOperation:
        return False


def check_pdf_signature(data: bytes, result: Result) -> tuple[str, str] | None:
    """The PDF signature's integrity: the signer's name and certificate fingerprint where the
    file is as signed, None otherwise (the failure recorded). Whose the signer is, is
    check_pdf_signer's question."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        signatures = PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures
    except Exception as error:  # any damage is reported as such, never raised
        result.failed(ALTERED, f"PDF signature: the file is damaged ({error})")
        return None
    if not signatures:
        result.failed(UNTRUSTED, "PDF signature: the PDF is not signed")
        return None
    signature = signatures[-1]
    cert = signature.signer_cert
    name = cert.subject.native.get("common_name", cert.subject.human_friendly)
    fingerprint = hashlib.sha256(cert.dump()).hexdigest()
    try:
        status = _outside_event_loop(
            validate_pdf_signature,
            signature,
            ValidationContext(trust_roots=[cert], allow_fetching=False),
        )
    except Exception as error:  # a signature that cannot be checked is not intact
        result.failed(ALTERED, f"PDF signature: cannot be checked ({error})")
        return None
    if not (status.intact and status.valid):
        result.failed(ALTERED, "PDF signature: the file was changed after it was signed")
        return None
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        result.failed(ALTERED, "PDF signature: something was added to the file after signing")
        return None
    when = status.signer_reported_dt
    result.fields["PDF signed by"] = name
    result.passed(
        f"PDF signature: intact, covers the whole file; signed by {name}"
        + (f" at {when.isoformat()}" if when else "")
        + f" (certificate SHA-256 {fingerprint})"
    )
    return name, fingerprint


def check_pdf_signer(signer: tuple[str, str], did: str, keys: Keys, result: Result) -> None:
    """The PDF's signer certificate must be one the issuer publishes (`x5c` in its did.json or
    JWKS): a certificate merely named like the provider proves nothing."""
    name, fingerprint = signer
    who = f"{name} (certificate SHA-256 {fingerprint})"
    if not did:
        result.failed(
            UNTRUSTED, f"PDF signer: {who} cannot be tied to an issuer: no credential names one"
        )
        return
    try:
        published, source = keys.certificates_for_issuer(did)
    except ValueError as error:
        result.failed(UNKNOWN_ISSUER, f"PDF signer: {who} cannot be checked: {error}")
        return
    if fingerprint in published:
        result.passed(f"PDF signer: {who} is a document-signing certificate of {source}")
    elif not published:
        result.failed(
            UNTRUSTED,
            f"PDF signer: {who} could not be tied to the issuer: {source} lists no "
            "document-signing certificates (pin the issuer's did.json or jwks.json, or check "
            "online)",
        )
    else:
        result.failed(
            UNKNOWN_ISSUER,
            f"PDF signer: {who} is not among the document-signing certificates of {source}",
        )


def check_pdf(data: bytes, keys: Keys, result: Result) -> None:
    from pypdf import PdfReader

    signer = check_pdf_signature(data, result)
    try:
        reader = PdfReader(io.BytesIO(data))
        attachments = {name: contents[-1] for name, contents in reader.attachments.items()}
        text = "\n".join(page.extract_text() or "" for page in reader.pages)
    except Exception as error:  # any damage is reported as such
        result.failed(ALTERED, f"PDF: the file cannot be read ({error})")
        return
    record = None
    if CERTIFICATE_ATTACHMENT in attachments:
        try:
            record = json.loads(attachments[CERTIFICATE_ATTACHMENT])
        except ValueError:
            result.failed(ALTERED, f"PDF: the embedded {CERTIFICATE_ATTACHMENT} is not JSON")
    else:
        result.failed(UNTRUSTED, f"PDF: no embedded {CERTIFICATE_ATTACHMENT}")
    credential = None
    if CREDENTIAL_ATTACHMENT in attachments:
        token = attachments[CREDENTIAL_ATTACHMENT].decode("ascii", "replace")
        credential = verify_credential_token(token, keys, result)
    else:
        result.failed(UNTRUSTED, f"PDF: no embedded credential ({CREDENTIAL_ATTACHMENT})")
    if signer is not None:
        check_pdf_signer(signer, issuer_id(credential) if credential else "", keys, result)
    if record is not None:
        check_printed(record, text, result)
        if credential is not None:
            check_record_matches(record, credential, result)


def _shows(printed: str, value: str) -> bool:
    wanted = _normalised(value)
    boundary = r"(?<![\d.])" if wanted[:1].isdigit() else ""
    return re.search(boundary + re.escape(wanted), printed) is not None


def check_printed(record: dict, text: str, result: Result) -> None:
    printed = _normalised(text)
    expected = {
        "certificate code": record.get("code", ""),
        "learner's name": record.get("learner_name", ""),
        "course title": record.get("course_title", ""),
    }
    if record.get("kind", "credit") == "credit" and record.get("ce_hours"):
        expected["CE hours"] = f"{record['ce_hours']} CE hour"
    if record.get("completion_date"):
        try:
            expected["completion date"] = _long_date(record["completion_date"])
        except ValueError:
            result.failed(ALTERED, "PDF: the record's completion date is not a date")
    # Compared without white space (a reader's text extraction breaks and joins lines as it
    # likes), and never inside a longer number: "5 CE hours" is not in "0.5 CE hours".
    missing = [label for label, value in expected.items() if not _shows(printed, value)]
    if missing:
        result.failed(
            ALTERED, "PDF: the printed text does not show the record's " + ", ".join(missing)
        )
    else:
        result.passed("PDF: the printed text shows the record (" + ", ".join(expected) + ")")


def check_record_matches(record: dict, credential: dict, result: Result) -> None:
    subject = credential.get("credentialSubject") or {}
    achievement = subject.get("achievement") or {}
    differences = []
    if credential_code(credential) != record.get("code"):
        differences.append("certificate code")
    if subject.get("name") != record.get("learner_name"):
        differences.append("learner's name")
    if achievement.get("name") != record.get("course_title"):
        differences.append("course title")
    if "creditsEarned" in subject and not _same_number(
        subject["creditsEarned"], record.get("ce_hours")
    ):
        differences.append("CE hours")
    if differences:
        result.failed(
            ALTERED, "PDF: the credential and certificate.json differ in " + ", ".join(differences)
        )
    else:
        result.passed("PDF: the credential and certificate.json agree")


# --- Entry point --------------------------------------------------------------------------------


def verify_file(path: Path, options: Options) -> Result:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise VerifyError(f"{path} cannot be read: {error.strerror}") from None
    keys = Keys(options)
    if data.lstrip()[:5] == b"%PDF-":
        result = Result("certificate PDF")
        check_pdf(data, keys, result)
        return result
    text = data.decode("utf-8", "replace").strip()
    if text.startswith("{"):
        result = Result("credential (JSON, no proof)")
        try:
            credential = json.loads(text)
        except ValueError as error:
            raise VerifyError(f"{path} is not JSON: {error}") from None
        if not isinstance(credential, dict):
            raise VerifyError(f"{path} is not a credential")
        result.fields.update(credential_fields(credential))
        check_shape(credential, result)
        result.failed(
            UNTRUSTED,
            "Proof: a .json credential carries no signature; only its shape and status can be "
            "checked. Check the .jwt (or the PDF) to know it is the issuer's.",
        )
        check_status(credential, keys, result)
        return result
    result = Result("credential (JWS)")
    verify_credential_token(text, keys, result)
    return result


def report(path: Path, result: Result) -> str:
    lines = [f"{result.verdict}: {path.name} ({result.kind})", ""]
    width = max((len(name) for name in result.fields), default=0)
    for name, value in result.fields.items():
        lines.append(f"  {name.ljust(width)}  {value}")
    if result.fields:
        lines.append("")
    for check in result.checks:
        mark = "ok  " if check.ok else "FAIL"
        lines.append(f"  [{mark}] {check.message}")
    return "\n".join(lines)


def _outside_event_loop(function, *args):
    """pyHanko's blocking calls run an event loop of their own (asyncio.run), which cannot start
    in a thread that already runs one (a notebook, an async program): there they get a thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function(*args)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args).result()
