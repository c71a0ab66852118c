"""Each certificate as an Open Badges 3.0 credential (1EdTech OB 3.0, a W3C Verifiable
Credential 2.0 of type OpenBadgeCredential), secured as VC-JOSE and served at a stable URL.

What a verifier, the PDF signer and the offline verifier can rely on:

URLs (all public, no account; the credential ones rate-limited like the verify pages):
    /credentials/<code>.jwt          the credential as issued: a compact JWS, application/vc+jwt
    /credentials/<code>.json         its payload: the credential itself (no `proof`)
    /credentials/status/<n>.jwt      a revocation status list (courses/services/status_list.py)
    /credentials/status/<n>.json     its payload
    /.well-known/did.json            the issuer's did:web document, every key ever used
    /.well-known/jwks.json           the same public keys as a JWK Set

The JWS (VC-JOSE-COSE: the payload is the credential, no JWT claims added):
    header  {"alg": "EdDSA", "kid": "did:web:<host>#<RFC 7638 thumbprint>",
             "typ": "vc+jwt", "cty": "vc"}
    payload the credential's JSON, UTF-8, compact. `.json` serves these very bytes.
    The key: the fragment of `kid` is the `kid` of a key in jwks.json and the id of a
    verification method in did.json (courses/services/signing_keys.py).

The credential:
    {"@context": ["https://www.w3.org/ns/credentials/v2",
                  "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
     "id": "<site>/credentials/<code>.json",
     "type": ["VerifiableCredential", "OpenBadgeCredential"],
     "issuer": {"id": "did:web:<host>", "type": ["Profile"], "name", "url", "email"},
     "validFrom": "<issued, UTC>", "awardedDate": "<issued, UTC>",
     "name": "CE certificate: <course>" (or "Certificate of attendance: ...", and
             "Sample, not valid for credit. " first while the provider is not live),
     "description": "...",
     "credentialSubject": {
        "type": ["AchievementSubject"],
        "name": "<learner's name as printed>",
        "identifier": [{"type": "IdentityObject", "identityType": "emailAddress",
                        "hashed": true, "salt": "<hex>",
                        "identityHash": "sha256$<hex of SHA-256(lowercased e-mail + salt)>"}],
        "achievement": {"id": "<site>/courses/<slug>/", "type": ["Achievement"],
                        "achievementType": "Course", "name": "<course title>",
                        "description", "criteria": {"narrative"},
                        "creditsAvailable": <the course's hours>,
                        "fieldOfStudy": "<professions credited>" (when any)},
        "creditsEarned": <CE hours awarded> (credit certificates only),
        "activityEndDate": "<completion date, midnight local time>"},
     "credentialStatus": {"id": "<list url>#<index>", "type": "BitstringStatusListEntry",
                          "statusPurpose": "revocation", "statusListIndex": "<index>",
                          "statusListCredential": "<site>/credentials/status/<n>.jwt"},
     "credentialSchema": [{"id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/
                                  ob_v3p0_achievementcredential_schema.json",
                           "type": "1EdTechJsonSchemaValidator2019"}]}

In the certificate's PDF, the JWS is embedded as `credential.jwt` (application/vc+jwt) beside
`certificate.json`. The certificate's code is the last path segment of the credential's `id`
(without `.json`); `credentialSubject.name`, `achievement.name` and `creditsEarned` are the
record's `learner_name`, `course_title` and `ce_hours`.

Verifying one, as the offline verifier does:
 1. split the JWS; the header's `alg` is EdDSA, `typ` vc+jwt; `kid` is `<did>#<thumbprint>`
    and `<did>` is the payload's `issuer.id`;
 2. the key: a pinned public JWK whose RFC 7638 thumbprint is that fragment, or, online, the
    did:web document (did:web:<host>[%3A<port>] is https://<host>[:<port>]/.well-known/did.json)
    whose verificationMethod with that id is listed in `assertionMethod`; verify Ed25519 over
    `<header>.<payload>` (ASCII);
 3. online, the status: fetch `credentialStatus.statusListCredential` (a JWS, checked the same
    way, by the same issuer), decode `credentialSubject.encodedList` (drop the "u", base64url
    with padding restored, gunzip) and read bit `statusListIndex`: 1 is revoked or replaced.

It validates against the OB 3.0 AchievementCredential schema vendored in
courses/schemas/ob_v3p0/. The credential is issued once per certificate (`issue_credential`,
idempotent) from the certificate's record as issued and signed with the key current then; it
is never signed again. A revoked or replaced certificate's credential is still served: its bit
in the status list says so. A reissued certificate gets a new credential.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, time

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from ceu.rows import Prepared
from courses.credentials_record import CertificateRecord, record_of
from courses.models import Certificate, CertificateStatus, OpenBadgeCredential
from courses.services import signing_keys, status_list
from courses.services.certificate_pdf import CREDENTIAL_ATTACHMENT_NAME

CONTEXTS = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
SCHEMA = {
    "id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/"
    "ob_v3p0_achievementcredential_schema.json",
    "type": "1EdTechJsonSchemaValidator2019",
}
MEDIA_TYPE_JWT = "application/vc+jwt"
# The credential's name among the PDF's embedded files, beside certificate.json.
PDF_ATTACHMENT_NAME = CREDENTIAL_ATTACHMENT_NAME
SAMPLE = "Sample, not valid for credit. "

logger = logging.getLogger(__name__)


def _site(path: str) -> str:
    return settings.CEU_SITE_URL.rstrip("/") + path


def credential_url(code: str, form: str = "json") -> str:
    name = "courses:credential_json" if form == "json" else "courses:credential_jwt"
    return _site(reverse(name, args=[code]))


def identity_hash(email: str, salt: str) -> str:
    """OB 3.0's IdentityHash of an e-mail address: SHA-256 of the lowercased address followed by
    the salt, in hex. A verifier who knows the learner's address can check it; nobody else can
    read it."""
    return "sha256$" + hashlib.sha256((email.strip().lower() + salt).encode()).hexdigest()


def _number(value) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _credential_name(record: CertificateRecord) -> str:
    what = "CE certificate" if record.is_credit else "Certificate of attendance"
    return f"{SAMPLE if record.sample else ''}{what}: {record.course_title}"


def _description(record: CertificateRecord) -> str:
    provider = record.provider.name or "the provider"
    if record.is_credit:
        credit = f"{record.ce_hours_text} CE hours awarded by {provider}."
        statements = " ".join(a.statement for a in record.approvals if a.statement)
        text = f"{credit} {statements}".strip()
    else:
        text = (
            f"Attendance recorded by {provider}. No CE credit is awarded: no approval served the "
            "learner's licences on the completion date."
        )
    return f"{SAMPLE if record.sample else ''}{text}"


def _criteria(record: CertificateRecord) -> str:
    return (
        f"Complete every lesson of {record.course_title} ({record.format or 'home study'}, "
        f"{record.course_hours:f} hours), with at least the time it requires, pass its post-test, "
        "submit its evaluation and attest that the work was the learner's own."
    )


def _activity_end(record: CertificateRecord) -> str:
    # The completion date as the provider's local calendar has it: midnight there, with offset.
    midnight = timezone.make_aware(datetime.combine(record.completion_date, time()))
    return midnight.isoformat()


def build_credential(
    record: CertificateRecord, *, learner_email: str, salt: str, status: dict
) -> dict:
    """The OpenBadgeCredential for a certificate's record, unsigned."""
    provider = record.provider
    issuer = {
        "id": signing_keys.issuer_did(),
        "type": ["Profile"],
        "name": provider.name or "CE provider",
        "url": provider.website or _site("/"),
    }
    if provider.email:
        issuer["email"] = provider.email
    achievement = {
        "id": _site(reverse("courses:course_detail", args=[record.course_slug]))
        if record.course_slug
        else credential_url(record.code) + "#achievement",
        "type": ["Achievement"],
        "achievementType": "Course",
        "name": record.course_title,
        "description": f"{record.course_title}: {record.format or 'home study'}, "
        f"{record.course_hours:f} hours"
        + (f", presented by {record.presenter}." if record.presenter.strip(", ") else "."),
        "criteria": {"narrative": _criteria(record)},
        "creditsAvailable": _number(record.course_hours),
    }
    professions = sorted({licence.profession for licence in record.licences if licence.profession})
    if record.is_credit and professions:
        achievement["fieldOfStudy"] = ", ".join(professions)
    subject = {
        "type": ["AchievementSubject"],
        "name": record.learner_name,
        "identifier": [
            {
                "type": "IdentityObject",
                "identityType": "emailAddress",
                "hashed": True,
                "identityHash": identity_hash(learner_email, salt),
                "salt": salt,
            }
        ],
        "achievement": achievement,
        "activityEndDate": _activity_end(record),
    }
    if record.is_credit:
        subject["creditsEarned"] = _number(record.ce_hours)
    issued = status_list.as_timestamp(record.issued_at)
    return {
        "@context": list(CONTEXTS),
        "id": credential_url(record.code),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": issuer,
        "validFrom": issued,
        "awardedDate": issued,
        "name": _credential_name(record),
        "description": _description(record),
        "credentialSubject": subject,
        "credentialStatus": status,
        "credentialSchema": [dict(SCHEMA)],
    }


# --- Issuing ------------------------------------------------------------------------------------


def _issued_credential(certificate: Certificate) -> OpenBadgeCredential | None:
    """The certificate's credential if it has one: from the certificate where it was fetched
    with it (select_related("open_badge")), else read."""
    if Certificate.open_badge.is_cached(certificate):
        return getattr(certificate, "open_badge", None)
    return OpenBadgeCredential.objects.filter(certificate_id=certificate.pk).first()


# Compiled once (ceu.rows.Prepared): each certificate rendered asks for it.
_LOCKED_TO_ISSUE = Prepared(
    lambda pk: (
        Certificate.objects.select_for_update(of=("self",))
        .select_related("enrollment__user", "open_badge")
        .filter(pk=pk)
    )
)


def issue_credential(certificate: Certificate) -> OpenBadgeCredential:
    """The certificate's credential, issued and signed the first time it is asked for (at
    render, or when first fetched), then always the same. A certificate already revoked or
    replaced gets its bit set at once. SigningKeyError where no key is configured."""
    existing = _issued_credential(certificate)
    if existing is not None:
        return existing
    key = signing_keys.credential_key()
    with transaction.atomic():
        # Locked: a revocation waits until the credential and its bit are in. With the
        # credential if one was issued meanwhile (one issued while this waited for the lock is
        # not seen: its insert, below, fails on the certificate and returns that one).
        certificate = _LOCKED_TO_ISSUE.get(certificate.pk)
        existing = getattr(certificate, "open_badge", None)
        if existing is not None:
            return existing
        signer = signing_keys.record(key)
        record = record_of(certificate)
        email = certificate.enrollment.user.email
        salt = secrets.token_hex(16)
        while True:
            place = status_list.open_list()
            for _draw in range(status_list.MAX_DRAWS):
                index = status_list.draw_index(place.size)
                credential = build_credential(
                    record,
                    learner_email=email,
                    salt=salt,
                    status=status_list.entry(place.pk, index),
                )
                signed = signing_keys.sign(status_list.json_bytes(credential), key)
                try:
                    with transaction.atomic():
                        issued = OpenBadgeCredential.objects.create(
                            certificate=certificate,
                            status_list=place,
                            status_index=index,
                            signing_key=signer,
                            jws=signed,
                        )
                except IntegrityError:
                    existing = OpenBadgeCredential.objects.filter(certificate=certificate).first()
                    if existing is not None:
                        return existing  # issued by another process after all
                    continue  # the place was taken by another credential: draw again
                if certificate.status != CertificateStatus.VALID:
                    status_list.set_revoked(place.pk, index, True)
                return issued
            status_list.close_list(place)


def credential_jwt(certificate: Certificate) -> str:
    """The compact JWS of the certificate's credential, issued first if need be."""
    return issue_credential(certificate).jws


def credential_for_pdf(certificate: Certificate) -> str | None:
    """The compact JWS to embed in the certificate's PDF as `credential.jwt` (PDF_ATTACHMENT_NAME),
    beside `certificate.json`; None where no key can sign it yet (logged), so that the PDF is
    rendered all the same."""
    try:
        return credential_jwt(certificate)
    except signing_keys.SigningKeyError:
        logger.exception("Certificate %s is rendered without its credential", certificate.code)
        return None


def credential_json(credential: OpenBadgeCredential) -> bytes:
    """The credential as issued: the JWS payload's bytes."""
    return status_list.payload_of(credential.jws)


def share_links(certificate: Certificate) -> dict[str, str] | None:
    """Where a learner adds the certificate to a profile or wallet, or None: a revoked or
    replaced certificate offers nothing to share (its credential stays served, with its status
    list saying why)."""
    if not certificate.is_valid or certificate.superseded_by_id is not None:
        return None
    return {
        "linkedin": linkedin_url(certificate),
        "jwt": credential_url(certificate.code, "jwt"),
        "json": credential_url(certificate.code, "json"),
    }


def linkedin_url(certificate: Certificate) -> str:
    """LinkedIn's add-to-profile address for the certificate: its name, the provider, the issue
    month, the code and the verify page."""
    from urllib.parse import urlencode

    from courses.services.credentials import verify_url

    record = record_of(certificate)
    return "https://www.linkedin.com/profile/add?" + urlencode(
        {
            "startTask": "CERTIFICATION_NAME",
            "name": record.course_title,
            "organizationName": record.provider.name,
            "issueYear": record.issued_at.year,
            "issueMonth": record.issued_at.month,
            "certId": certificate.code,
            "certUrl": verify_url(certificate.code),
        }
    )
