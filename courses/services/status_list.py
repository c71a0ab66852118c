"""Revocation without tracking: W3C Bitstring Status Lists.

Each credential is given a place (`statusListIndex`) in a list of 131,072 bits, drawn at random
so that neighbouring places say nothing about issue order, and never given to another
credential (a unique constraint; the loser of a race draws again). The bit is set while the
certificate is revoked or replaced by a reissue (any status but valid) and cleared when it is
reinstated: `record_status` is called at each change.

The list is published as a BitstringStatusListCredential, signed like the credentials (VC-JOSE,
courses/services/signing_keys.py), at `/credentials/status/<n>.jwt` (and its payload at
`.json`), cacheable for a minute with an ETag. A verifier fetches the whole list, so the server
cannot tell which certificate it checks.

    {"@context": ["https://www.w3.org/ns/credentials/v2"],
     "id": "<site>/credentials/status/1.jwt",
     "type": ["VerifiableCredential", "BitstringStatusListCredential"],
     "issuer": "did:web:<host>",
     "validFrom": "2026-11-28T22:00:00Z",
     "credentialSubject": {"id": "<site>/credentials/status/1.jwt#list",
                           "type": "BitstringStatusList",
                           "statusPurpose": "revocation",
                           "encodedList": "u<base64url, no padding, of the GZIP of the bits>"}}

Bit `i` is the (i % 8)-th most significant bit of byte i // 8 (index 0 is the left-most bit).
"""

from __future__ import annotations

import base64
import gzip
import json
import secrets

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from ceu.rows import Prepared
from courses.models import Certificate, CertificateStatus, OpenBadgeCredential, StatusList
from courses.models.badges import STATUS_LIST_SIZE
from courses.services import signing_keys

# Places drawn in a list before it counts as full and a new one is opened: a list stops taking
# entries when about nine in ten of its places are taken (0.9 ** 16 is under a fifth).
MAX_DRAWS = 16


# --- The bitstring ------------------------------------------------------------------------------


def encode(bits: bytes) -> str:
    """Multibase base64url (no padding, prefix "u") of the GZIP-compressed bits."""
    compressed = gzip.compress(bits, mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).decode().rstrip("=")


def decode(encoded: str) -> bytes:
    if not encoded.startswith("u"):
        raise ValueError("An encodedList is multibase base64url: it starts with 'u'.")
    body = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def is_set(bits: bytes, index: int) -> bool:
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def with_bit(bits: bytes, index: int, value: bool) -> bytes:
    changed = bytearray(bits)
    if value:
        changed[index // 8] |= 0x80 >> (index % 8)
    else:
        changed[index // 8] &= ~(0x80 >> (index % 8)) & 0xFF
    return bytes(changed)


# --- Places in a list ---------------------------------------------------------------------------


def list_url(list_id: int, form: str = "jwt") -> str:
    name = "courses:status_list_jwt" if form == "jwt" else "courses:status_list_json"
    return settings.CEU_SITE_URL.rstrip("/") + reverse(name, args=[list_id])


def entry(list_id: int, index: int) -> dict:
    """The credential's `credentialStatus`: where a verifier finds its bit."""
    url = list_url(list_id)
    return {
        "id": f"{url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": str(index),
        "statusListCredential": url,
    }


# Compiled once (ceu.rows.Prepared): each credential issued asks for it.
_OPEN = Prepared(
    lambda: StatusList.objects.filter(full=False).defer("bits", "signed").order_by("pk")[:1]
)


def open_list() -> StatusList:
    """The list new places are drawn from, opened when there is none with room."""
    current = _OPEN.first()
    if current is None:
        current = StatusList.objects.create(
            size=STATUS_LIST_SIZE, bits=bytes(STATUS_LIST_SIZE // 8)
        )
    return current


def draw_index(size: int) -> int:
    return secrets.randbelow(size)


def close_list(status_list: StatusList) -> None:
    StatusList.objects.filter(pk=status_list.pk).update(full=True)


# --- Status changes -----------------------------------------------------------------------------


def set_revoked(list_id: int, index: int, revoked: bool) -> bool:
    """Set or clear one bit; the signed list is dropped, to be signed again when next asked for.
    Whether the bit changed."""
    with transaction.atomic():
        # NO KEY: credentials being issued into the list (their rows point at it) go on.
        status_list = StatusList.objects.select_for_update(no_key=True).get(pk=list_id)
        bits = bytes(status_list.bits)
        if is_set(bits, index) == revoked:
            return False
        status_list.bits = with_bit(bits, index, revoked)
        status_list.signed = ""
        status_list.signed_at = None
        status_list.save(update_fields=["bits", "signed", "signed_at"])
    return True


def record_status(certificate: Certificate) -> bool:
    """Make the certificate's bit say what its status now is: set unless it is valid. Call it
    at each change (revoked, reinstated, replaced by a reissue); a certificate without a
    credential yet has no bit, and gets the right one when its credential is issued."""
    place = (
        OpenBadgeCredential.objects.filter(certificate_id=certificate.pk)
        .values_list("status_list_id", "status_index")
        .first()
    )
    if place is None:
        return False
    status = Certificate.objects.values_list("status", flat=True).get(pk=certificate.pk)
    return set_revoked(*place, revoked=status != CertificateStatus.VALID)


# --- The signed list ----------------------------------------------------------------------------


def list_credential(status_list: StatusList, *, valid_from) -> dict:
    url = list_url(status_list.pk)
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": signing_keys.issuer_did(),
        "validFrom": valid_from,
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": status_list.purpose,
            "encodedList": encode(bytes(status_list.bits)),
        },
    }


def signed_list(list_id: int) -> StatusList | None:
    """The list with its signed credential (`signed`), signing it first where a change dropped
    it; None for no such list. SigningKeyError when there is no key to sign with."""
    status_list = StatusList.objects.filter(pk=list_id).defer("bits").first()
    if status_list is None or status_list.signed:
        return status_list
    key = signing_keys.credential_key()
    with transaction.atomic():
        status_list = StatusList.objects.select_for_update(no_key=True).get(pk=list_id)
        if not status_list.signed:
            signing_keys.record(key)
            now = timezone.now()
            payload = list_credential(status_list, valid_from=as_timestamp(now))
            status_list.signed = signing_keys.sign(json_bytes(payload), key)
            status_list.signed_at = now
            status_list.save(update_fields=["signed", "signed_at"])
    return status_list


def as_timestamp(moment) -> str:
    """An XML Schema dateTimeStamp in UTC, to the second: 2026-11-28T22:00:00Z."""
    return moment.astimezone(timezone.get_fixed_timezone(0)).strftime("%Y-%m-%dT%H:%M:%SZ")


def json_bytes(document: dict) -> bytes:
    """The bytes a JWS payload carries and `.json` serves: compact UTF-8 JSON."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def payload_of(compact_jws: str) -> bytes:
    """The payload of a compact JWS, not verified: for serving what this site signed."""
    body = compact_jws.split(".")[1]
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
