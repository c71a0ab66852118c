"""The certificate PDF's digital signature: PAdES baseline B-B by the provider's document-signing
key (B-T, with a timestamp token, where CEU_TSA_URL names an RFC 3161 timestamp authority), and
the report the PDF check gives on a signed file.

The signature is an incremental update appended to the rendered PDF/A-3b file: the bytes
WeasyPrint wrote are kept as they are (XMP metadata, the embedded certificate.json and
credential.jwt), and an invisible signature field is added, which PDF/A allows. Any PDF reader
shows "signed by <provider>" and whether the file changed since.

Key rotation: each signature carries its signer's X.509 certificate, and every certificate the
site has signed with is recorded (DocumentSigningCertificate) the first time it signs. A PDF
signed before a rotation still validates, and `signature_report` still calls it the
provider's, because its certificate is on that record. The same certificates are published in
the issuer's did.json and JWKS (signing_keys.published_certificates), which is how a verifier
without the site's database ties a PDF's signer to the issuer.

Nothing is fetched while signing unless a timestamp authority is configured; nothing is ever
fetched while checking.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from asn1crypto import cms
from asn1crypto import parser as asn1_parser
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from django.conf import settings
from pyhanko.pdf_utils import generic, misc
from pyhanko.pdf_utils.decode_limits import DecodePurpose
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers import constants
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from ceu.rows import Prepared
from courses.models import DocumentSigningCertificate
from courses.services import signing_keys

logger = logging.getLogger(__name__)

SIGNATURE_FIELD = "ProviderSignature"
DEFAULT_REASON = "Certificate of completion issued by the provider"


class PdfSigningError(Exception):
    """The PDF cannot be signed: the message says why."""


@dataclass(frozen=True)
class DocumentSigner:
    signer: signers.SimpleSigner
    certificate: x509.Certificate
    name: str
    sha256: str


@dataclass(frozen=True)
class SignatureReport:
    """What a signed PDF's (last) signature says, for the PDF check page."""

    signed: bool
    # The signed bytes are the ones signed and the signature verifies against its certificate.
    intact: bool = False
    # Nothing was added to the file after it was signed.
    covers_whole_file: bool = False
    signer_name: str = ""
    signed_at: datetime | None = None
    certificate_sha256: str = ""
    # The signer's certificate is one this provider has signed certificates with.
    trusted: bool = False
    problem: str = ""

    @property
    def valid(self) -> bool:
        """Unchanged since the provider signed it."""
        return self.signed and self.intact and self.covers_whole_file and self.trusted


def fingerprint(certificate: x509.Certificate) -> str:
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


def common_name(certificate: x509.Certificate) -> str:
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else certificate.subject.rfc4514_string()


# --- Signing ------------------------------------------------------------------------------------


def document_signer() -> DocumentSigner:
    """The configured key and certificate (signing_keys.document_signing_files), as the files
    stand now: a rotated key is used from the next signature on. SigningKeyError where none is
    configured."""
    key_path, cert_path = signing_keys.document_signing_files()
    try:
        key_stat, cert_stat = key_path.stat(), cert_path.stat()
    except OSError as error:
        raise signing_keys.SigningKeyError(
            f"The document-signing key {key_path} or certificate {cert_path} cannot be read: "
            f"{error}"
        ) from None
    # Read once per process while the files are the same ones (a key replaced in place has
    # another inode, time or size): parsing and pairing them cost more than signing's hash.
    return _read_document_signer(
        str(key_path),
        str(cert_path),
        (key_stat.st_ino, key_stat.st_mtime_ns, key_stat.st_size),
        (cert_stat.st_ino, cert_stat.st_mtime_ns, cert_stat.st_size),
    )


@lru_cache(maxsize=8)
def _read_document_signer(
    key_name: str, cert_name: str, _key_identity: tuple, _cert_identity: tuple
) -> DocumentSigner:
    key_path, cert_path = Path(key_name), Path(cert_name)
    try:
        certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
        loaded = signers.SimpleSigner.load(str(key_path), str(cert_path))
    except (OSError, ValueError) as error:
        raise signing_keys.SigningKeyError(
            f"The document-signing key {key_path} or certificate {cert_path} cannot be read: "
            f"{error}"
        ) from None
    if loaded is None or not _is_pair(key_path, certificate):
        raise signing_keys.SigningKeyError(
            f"The document-signing key {key_path} does not load with certificate {cert_path}."
        )
    signer = _RepeatingSigner(
        signing_cert=loaded.signing_cert,
        signing_key=loaded.signing_key,
        cert_registry=loaded.cert_registry,
    )
    return DocumentSigner(
        signer=signer,
        certificate=certificate,
        name=common_name(certificate),
        sha256=fingerprint(certificate),
    )


def _is_pair(key_path: Path, certificate: x509.Certificate) -> bool:
    """Whether the key is the certificate's: a mismatched pair signs PDFs no reader accepts."""
    spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        return False
    return key.public_key().public_bytes(*spki) == certificate.public_key().public_bytes(*spki)


_BY_FINGERPRINT = Prepared(  # compiled once: each signature
    lambda sha256: DocumentSigningCertificate.objects.filter(sha256=sha256)
)


def record_certificate(certificate: x509.Certificate) -> DocumentSigningCertificate:
    """The certificate's row, made the first time it signs; kept for good."""
    sha256 = fingerprint(certificate)
    row = _BY_FINGERPRINT.first(sha256)
    if row is not None:
        return row
    row, _created = DocumentSigningCertificate.objects.get_or_create(
        sha256=sha256,
        defaults={
            "subject": certificate.subject.rfc4514_string()[:255],
            "pem": certificate.public_bytes(serialization.Encoding.PEM).decode(),
            "not_valid_before": certificate.not_valid_before_utc,
            "not_valid_after": certificate.not_valid_after_utc,
        },
    )
    return row


# --- The signature container -------------------------------------------------------------------
# pyHanko assembles each signature container (CMS SignedData) field by field with asn1crypto,
# which costs about half of a signature's time. Without a timestamp, every container one key
# makes is the same but for two values: the document's digest (in the message-digest attribute)
# and the signature over the signed attributes. So the first container a signer makes is
# pyHanko's; from it `_ContainerTemplate` keeps the bytes around those two values, and the next
# containers are those bytes with the two values put in, and the DER lengths around the
# signature (31 to 33 bytes per ECDSA integer) counted again. A template is kept only where
# assembling pyHanko's own digest and signature with it gives back pyHanko's container byte for
# byte, and only where every signed attribute depends on the signer alone.

# The signed attributes whose values depend only on the signer, its certificate and the digest
# algorithm, or on the digest (message_digest, put in for each container). Any other (a signing
# time, a timestamp, a commitment type) leaves pyHanko assembling every container.
_SIGNER_ATTRIBUTES = frozenset(
    {
        "content_type",
        "message_digest",
        "signing_certificate",
        "signing_certificate_v2",
        "cms_algorithm_protection",
    }
)


def _der(tag: int, content: bytes) -> bytes:
    """A DER value of one tag byte: the tag, the content's length, the content."""
    length = len(content)
    if length < 0x80:
        return bytes((tag, length)) + content
    size = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(size))) + size + content


@dataclass(frozen=True)
class _ContainerTemplate:
    """A signer's container, as pyHanko assembles it, with the document's digest and the
    signature left out (RFC 5652: ContentInfo, SignedData, one SignerInfo)."""

    attributes_head: bytes  # the signed attributes (a SET) up to the digest
    attributes_tail: bytes  # and after it
    info_head: bytes  # SignerInfo: version, signer identifier, digest algorithm
    signature_algorithm: bytes
    data_head: bytes  # SignedData: version, digest algorithms, content, certificates
    content_type: bytes  # ContentInfo: the signed-data type

    @classmethod
    def of(cls, container: cms.ContentInfo, digest: bytes) -> _ContainerTemplate | None:
        """The template of pyHanko's `container` for `digest`; None where its containers cannot
        be repeated so."""
        made = container.dump()
        parsed = cms.ContentInfo.load(made)  # the bytes as encoded, field by field
        signed_data = parsed["content"]
        infos = signed_data["signer_infos"]
        if parsed["content_type"].native != "signed_data" or len(infos) != 1:
            return None
        info = infos[0]
        attributes = info["signed_attrs"]
        if info["unsigned_attrs"].dump() or any(
            attribute["type"].native not in _SIGNER_ATTRIBUTES for attribute in attributes
        ):
            return None
        # Signed as a SET (RFC 5652, 5.4), stored with its tag implicit [0].
        signed = b"\x31" + attributes.dump()[1:]
        if signed.count(digest) != 1:
            return None
        head, tail = signed.split(digest)
        template = cls(
            attributes_head=head,
            attributes_tail=tail,
            info_head=b"".join(
                info[name].dump() for name in ("version", "sid", "digest_algorithm")
            ),
            signature_algorithm=info["signature_algorithm"].dump(),
            data_head=b"".join(
                signed_data[name].dump()
                for name in (
                    "version",
                    "digest_algorithms",
                    "encap_content_info",
                    "certificates",
                    "crls",
                )
            ),
            content_type=parsed["content_type"].dump(),
        )
        if template.container(signed, info["signature"].native) != made:
            return None
        return template

    def signed_attributes(self, digest: bytes) -> bytes:
        return self.attributes_head + digest + self.attributes_tail

    def container(self, signed_attributes: bytes, signature: bytes) -> bytes:
        info = _der(
            0x30,
            self.info_head
            + b"\xa0"
            + signed_attributes[1:]
            + self.signature_algorithm
            + _der(0x04, signature),
        )
        signed_data = _der(0x30, self.data_head + _der(0x31, info))
        return _der(0x30, self.content_type + _der(0xA0, signed_data))


class _RepeatingSigner(signers.SimpleSigner):
    """pyHanko's signer with a key and certificate in memory, which makes its first container
    the pyHanko way and the next ones from that container's template (see above)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._templates: dict[tuple[str, bool], _ContainerTemplate | None] = {}

    async def async_sign(
        self,
        data_digest: bytes,
        digest_algorithm: str,
        dry_run=False,
        use_pades=False,
        timestamper=None,
        signed_attr_settings: PdfCMSSignedAttributes | None = None,
        is_pdf_sig=True,
        encap_content_info=None,
    ) -> cms.ContentInfo:
        repeatable = (
            not dry_run
            and timestamper is None
            and is_pdf_sig
            and encap_content_info is None
            and (
                signed_attr_settings is None
                or (
                    signed_attr_settings.cades_signed_attrs is None
                    and signed_attr_settings.adobe_revinfo_attr is None
                )
            )
        )
        key = (digest_algorithm.lower(), bool(use_pades))
        template = self._templates.get(key) if repeatable else None
        if template is None:
            container = await super().async_sign(
                data_digest,
                digest_algorithm,
                dry_run=dry_run,
                use_pades=use_pades,
                timestamper=timestamper,
                signed_attr_settings=signed_attr_settings,
                is_pdf_sig=is_pdf_sig,
                encap_content_info=encap_content_info,
            )
            if repeatable and key not in self._templates:
                self._templates[key] = _ContainerTemplate.of(container, data_digest)
            return container
        signed = template.signed_attributes(data_digest)
        signature = await self.async_sign_raw(signed, key[0])
        return cms.ContentInfo.load(template.container(signed, signature))


class _PdfA3Signer(signers.PdfSigner):
    """pyHanko marks a file signed with ECDSA on P-256 as PDF 2.0 (ISO/TS 32002) in its catalog;
    a PDF/A-3 file is PDF 1.7 and stays so. Only PAdES's own extension to 1.7 (ESIC) is
    declared: readers of PDF 1.7 check ECDSA signatures all the same."""

    def register_extensions(self, pdf_out: BasePdfFileWriter, *, md_algorithm: str) -> None:
        pdf_out.ensure_output_version(version=(1, 7))
        if pdf_out.output_version < (2, 0):
            pdf_out.register_extension(constants.ESIC_EXTENSION_1)


def outside_event_loop(function, *args, **kwargs):
    """pyHanko's blocking calls run an event loop of their own (asyncio.run), which cannot start
    in a thread already running one (an async view, or a browser driving the site from the same
    thread in tests): there they run in a short-lived thread. Only pyHanko's work goes there,
    never the database's, whose connections belong to their thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function(*args, **kwargs)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args, **kwargs).result()


def _timestamper() -> timestamps.TimeStamper | None:
    url = getattr(settings, "CEU_TSA_URL", "")
    return timestamps.HTTPTimeStamper(url) if url else None


# The room reserved for the signature container (CMS), in hex digits, by signer and settings,
# as measured on this process's first signature with them. pyHanko otherwise signs every PDF
# twice: a dry run to measure the container, then the signature, and reserves half as much
# again as it measured. Without a timestamp the container's size is the same for every PDF a
# key signs, but for a few bytes: an ECDSA signature's two DER integers are 31 to 33 bytes
# each. RESERVE_MARGIN covers that; should a container still not fit, the PDF is signed again
# with pyHanko's own estimate and the size measured anew. With a timestamp authority the
# token's size is the authority's to choose, and pyHanko estimates every time.
RESERVE_MARGIN = 64
_reserved_sizes: dict[tuple[str, str, str], int] = {}


def _container_size(signed: bytes) -> int:
    """The DER size of the signature container in a PDF just signed (its /Contents string is
    padded with zeros up to the room that was reserved)."""
    signature = PdfFileReader(io.BytesIO(signed), strict=False).embedded_signatures[-1]
    _class, _method, _tag, header, contents, _trailer = asn1_parser.parse(
        bytes(signature.sig_object["/Contents"])
    )
    return len(header) + len(contents)


class _Reader(PdfFileReader):
    """pyHanko's reader (not strict), which reads an object stream's header (the number and
    place of each object in it) once, instead of from its start up to the object for every
    object it reads from it: a signature reads four from a stream of some hundred."""

    def _get_object_from_stream(self, idnum, stmnum, idx):
        places = self.__dict__.setdefault("_object_places", {})
        if stmnum not in places:
            places[stmnum] = _object_places(generic.Reference(stmnum, 0, self).get_object())
        place = places[stmnum] and places[stmnum].get(idnum)
        if place is None or place[0] != idx or self.strict:
            return super()._get_object_from_stream(idnum, stmnum, idx)
        stream, offset = place[1], place[2]
        data = io.BytesIO(stream.read_data(DecodePurpose.OBJECT_STREAM))
        data.seek(stream["/First"] + offset)
        try:
            return generic.read_object(data, generic.Reference(idnum, 0, self))
        except (misc.PdfStreamError, PdfReadError):
            return super()._get_object_from_stream(idnum, stmnum, idx)


def _object_places(stream) -> dict | None:
    """Each object of an object stream: its number's (index, the stream, offset); None where the
    header is not what pyHanko reads (then pyHanko's own way reads it)."""
    try:
        if stream["/Type"] != "/ObjStm":
            return None
        count, first = int(stream["/N"]), int(stream["/First"])
        numbers = stream.read_data(DecodePurpose.OBJECT_STREAM)[:first].split()
        if len(numbers) < 2 * count:
            return None
        pairs = [(int(numbers[2 * i]), int(numbers[2 * i + 1])) for i in range(count)]
    except (KeyError, TypeError, ValueError, misc.PdfStreamError, PdfReadError):
        return None
    places = {}
    for index, (number, offset) in enumerate(pairs):
        places.setdefault(number, (index, stream, offset))  # the first, as pyHanko finds it
    return places


def _sign_once(
    pdf_bytes: bytes,
    metadata: signers.PdfSignatureMetadata,
    signer: DocumentSigner,
    timestamper: timestamps.TimeStamper | None,
    reserved: int | None,
) -> bytes:
    source = io.BytesIO(pdf_bytes)
    writer = IncrementalPdfFileWriter(source, prev=_Reader(source, strict=False))
    pdf_signer = _PdfA3Signer(
        metadata,
        signer=signer.signer,
        timestamper=timestamper,
        # Invisible: a zero-size widget, printable, which PDF/A accepts without appearance.
        new_field_spec=fields.SigFieldSpec(sig_field_name=metadata.field_name),
    )
    return outside_event_loop(pdf_signer.sign_pdf, writer, bytes_reserved=reserved).getvalue()


def sign_pdf(
    pdf_bytes: bytes,
    *,
    reason: str = DEFAULT_REASON,
    location: str = "",
    contact_info: str = "",
    field_name: str = SIGNATURE_FIELD,
) -> bytes:
    """The PDF with the provider's signature appended as an incremental update (PAdES B-B, or
    B-T with CEU_TSA_URL). The signer's name in the signature is the provider's, as its
    certificate names it. SigningKeyError where no key is configured; PdfSigningError where the
    PDF cannot be signed (not a PDF, already signed in that field)."""
    signer = document_signer()
    record_certificate(signer.certificate)
    timestamper = _timestamper()
    metadata = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason or None,
        location=location or None,
        contact_info=contact_info or None,
        name=signer.name,
        # B-B and B-T: no revocation data embedded (that is B-LT), nothing fetched for it.
        embed_validation_info=False,
    )
    size_key = (
        None
        if timestamper is not None
        else (signer.sha256, metadata.md_algorithm, metadata.subfilter.value)
    )
    reserved = _reserved_sizes.get(size_key) if size_key else None
    try:
        try:
            signed = _sign_once(pdf_bytes, metadata, signer, timestamper, reserved)
        except SigningError:
            if reserved is None:
                raise
            # The container outgrew the room measured for it: pyHanko estimates it again.
            _reserved_sizes.pop(size_key, None)
            reserved = None
            signed = _sign_once(pdf_bytes, metadata, signer, timestamper, None)
    except (ValueError, TypeError, KeyError, SigningError) as error:
        raise PdfSigningError(f"The PDF cannot be signed: {error}") from error
    if size_key and reserved is None:
        try:
            _reserved_sizes[size_key] = 2 * _container_size(signed) + RESERVE_MARGIN
        except (PdfReadError, ValueError, KeyError, IndexError):
            # Only a saving lost: the next signature is estimated by pyHanko as this one was.
            logger.warning("The size of a signature container could not be measured")
    return signed


# --- Checking -----------------------------------------------------------------------------------


def known_certificates(*, make_demo: bool = True) -> list[x509.Certificate]:
    """Every document-signing certificate this provider has signed with, oldest first, and the
    configured one even before it has signed. One query. Without `make_demo`, a demo pair not
    made yet is left unmade (and so unlisted)."""
    pems = list(DocumentSigningCertificate.objects.values_list("pem", flat=True))
    known = [x509.load_pem_x509_certificate(pem.encode()) for pem in pems]
    current = None
    if make_demo or signing_keys.document_signing_files_ready():
        try:
            current = document_signer().certificate
        except signing_keys.SigningKeyError:
            current = None
    if current is not None and fingerprint(current) not in {fingerprint(c) for c in known}:
        known.append(current)
    return known


def _as_asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def signature_report(pdf_bytes: bytes) -> SignatureReport:
    """Whether the PDF carries a signature, whether the file is as signed, who signed it and
    when, and whether the signer is this provider. Never fetches anything."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf_bytes), strict=False)
        signatures = reader.embedded_signatures
    except Exception as error:  # a damaged upload is reported, never raised
        return SignatureReport(signed=False, problem=f"Not a readable PDF: {error}")
    if not signatures:
        return SignatureReport(signed=False, problem="The PDF carries no digital signature.")
    signature = signatures[-1]
    certificate = x509.load_der_x509_certificate(signature.signer_cert.dump())
    sha256 = fingerprint(certificate)
    known = {fingerprint(c): c for c in known_certificates()}
    trust_roots = [_as_asn1(c) for c in known.values()]
    signed_at = signature.self_reported_timestamp
    context = ValidationContext(
        trust_roots=trust_roots,
        allow_fetching=False,
        # Checked as of when it was signed: an expired or retired certificate still vouches
        # for what it signed while it was valid.
        moment=signed_at or datetime.now(UTC),
        best_signature_time=signed_at,
    )
    try:
        status = outside_event_loop(validate_pdf_signature, signature, context)
    except Exception as error:  # a malformed signature is reported, never raised
        return SignatureReport(
            signed=True,
            signer_name=common_name(certificate),
            certificate_sha256=sha256,
            problem=f"The signature cannot be checked: {error}",
        )
    intact = bool(status.intact and status.valid)
    covers = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    trusted = sha256 in known and intact
    problem = ""
    if not intact:
        problem = "The file was changed after it was signed."
    elif not covers:
        problem = "Something was added to the file after it was signed."
    elif not trusted:
        problem = "The signer is not one of this provider's document-signing certificates."
    return SignatureReport(
        signed=True,
        intact=intact,
        covers_whole_file=covers,
        signer_name=common_name(certificate),
        signed_at=status.signer_reported_dt or signed_at,
        certificate_sha256=sha256,
        trusted=trusted,
        problem=problem,
    )
