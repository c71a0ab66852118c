"""The certificate PDF's digital signature: poppler's pdfsig and pyHanko's validator both accept
a signed certificate and both reject it after a one-byte change; the signed file is still the
PDF/A-3b file that was rendered, with its record embedded; and a PDF signed before a key
rotation is still reported valid and the provider's after it.

Needs poppler-utils (pdfsig); without it these tests skip, and fail under CI=true."""

from __future__ import annotations

import asyncio
import io
import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader

from ceu.testing.services import in_ci
from courses.models import DocumentSigningCertificate
from courses.services import pdf_signing, signing_keys
from courses.services.certificate_pdf import render_certificate_pdf
from courses.tests.test_certificate_pdf import VERIFY_URL, snapshot

pytestmark = pytest.mark.django_db

VALID_LINE = "Signature Validation: Signature is Valid."


@pytest.fixture(autouse=True)
def demo_keys(settings, tmp_path):
    """Each test signs with a document-signing pair of its own, made on first use."""
    settings.CEU_KEYS_DIR = tmp_path / "keys"
    settings.CEU_SIGNING_KEY_FILE = ""
    settings.CEU_SIGNING_CERT_FILE = ""
    settings.CEU_DEMO_SIGNING_KEYS = True
    settings.CEU_TSA_URL = ""
    return settings.CEU_KEYS_DIR


@pytest.fixture(scope="module")
def rendered() -> bytes:
    return render_certificate_pdf(snapshot(), verify_url=VERIFY_URL)


def sign(pdf: bytes) -> bytes:
    return pdf_signing.sign_pdf(pdf, reason="Certificate of completion", location="Springfield")


def pdfsig(pdf: bytes, tmp_path: Path) -> str:
    if shutil.which("pdfsig") is None:
        if in_ci():
            pytest.fail("pdfsig (poppler-utils) is missing: scripts/setup test installs it")
        pytest.skip("pdfsig (poppler-utils) is not installed")
    path = tmp_path / "signed.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(
        ["pdfsig", str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    return done.stdout + done.stderr


def pyhanko_status(pdf: bytes, certificate_pem: bytes):
    """pyHanko's own validation, with the provider's certificate as the only trust root."""
    certificate = x509.load_pem_x509_certificate(certificate_pem)
    root = asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))
    signature = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures[0]
    return pdf_signing.outside_event_loop(
        validate_pdf_signature,
        signature,
        ValidationContext(trust_roots=[root], allow_fetching=False),
    )


def flipped_inside_signed_range(pdf: bytes) -> bytes:
    """One byte changed in the page's content stream: the structure still parses, the signed
    bytes are not the same."""
    reader = PdfReader(io.BytesIO(pdf))
    reference = reader.pages[0].raw_get("/Contents")
    if isinstance(reference, list):
        reference = reference[0]
    start = pdf.index(b"\n%d 0 obj" % reference.idnum)
    at = pdf.index(b"stream", start) + len("stream") + 40
    changed = bytearray(pdf)
    changed[at] ^= 0x01
    return bytes(changed)


def cert_pem() -> bytes:
    _key, cert = signing_keys.document_signing_files()
    return cert.read_bytes()


def test_pdfsig_and_pyhanko_accept_the_signed_certificate(rendered, tmp_path):
    signed = sign(rendered)
    name = pdf_signing.common_name(x509.load_pem_x509_certificate(cert_pem()))

    output = pdfsig(signed, tmp_path)
    assert VALID_LINE in output
    assert "Total document signed" in output
    assert f"Signer Certificate Common Name: {name}" in output

    status = pyhanko_status(signed, cert_pem())
    assert status.intact
    assert status.valid
    assert status.trusted
    assert status.bottom_line

    report = pdf_signing.signature_report(signed)
    assert report.valid
    assert report.signer_name == name
    assert report.signed_at is not None
    assert report.problem == ""


def test_one_changed_byte_is_rejected_by_both(rendered, tmp_path):
    altered = flipped_inside_signed_range(sign(rendered))

    output = pdfsig(altered, tmp_path)
    assert VALID_LINE not in output
    assert "Signature Validation: Digest Mismatch." in output

    status = pyhanko_status(altered, cert_pem())
    assert not status.intact
    assert not status.bottom_line

    report = pdf_signing.signature_report(altered)
    assert report.signed
    assert not report.intact
    assert not report.valid
    assert report.problem == "The file was changed after it was signed."


def test_the_signed_file_is_still_the_rendered_pdf_a_3b(rendered):
    signed = sign(rendered)

    # An incremental update: every byte WeasyPrint wrote is still there, first.
    assert signed.startswith(rendered)
    assert signed.startswith(b"%PDF-1.7")
    reader = PdfReader(io.BytesIO(signed))
    root = reader.trailer["/Root"]
    # A PDF/A-3 file stays PDF 1.7 (pyHanko would declare 2.0 for ECDSA otherwise).
    assert root.get("/Version") in (None, "/1.7")
    xmp = reader.xmp_metadata.rdf_root.toxml()
    assert "<pdfaid:part>3</pdfaid:part>" in xmp or 'pdfaid:part="3"' in xmp
    assert "<pdfaid:conformance>B</pdfaid:conformance>" in xmp or 'pdfaid:conformance="B"' in xmp
    record = json.loads(reader.attachments["certificate.json"][0])
    assert record["code"] == snapshot()["code"]
    assert record["learner_name"] == snapshot()["learner_name"]
    # The signature field is invisible (no appearance needed) and printable, as PDF/A wants.
    field = root["/AcroForm"]["/Fields"][0].get_object()
    assert field["/FT"] == "/Sig"
    assert [float(n) for n in field["/Rect"]] == [0, 0, 0, 0]
    assert int(field["/F"]) & 4


def test_a_pdf_signed_before_a_key_rotation_is_still_valid_and_trusted(
    rendered, settings, tmp_path
):
    before = sign(rendered)
    old = pdf_signing.signature_report(before)

    # Rotation: the operator points the environment at a new key and certificate.
    key_pem, cert_pem_new = signing_keys.new_document_signer(name="Harbor Counseling CE")
    new_key, new_cert = tmp_path / "new" / "key.pem", tmp_path / "new" / "cert.pem"
    signing_keys.write_private(new_key, key_pem)
    signing_keys.write_private(new_cert, cert_pem_new)
    settings.CEU_SIGNING_KEY_FILE, settings.CEU_SIGNING_CERT_FILE = str(new_key), str(new_cert)
    after = sign(rendered)

    still = pdf_signing.signature_report(before)
    assert still.valid
    assert still.trusted
    assert still.certificate_sha256 == old.certificate_sha256
    assert VALID_LINE in pdfsig(before, tmp_path)

    rotated = pdf_signing.signature_report(after)
    assert rotated.valid
    assert rotated.signer_name == "Harbor Counseling CE"
    assert rotated.certificate_sha256 != old.certificate_sha256


def test_a_pdf_signed_by_someone_else_is_intact_but_not_the_providers(rendered, settings, tmp_path):
    key_pem, cert = signing_keys.new_document_signer(name="Somebody Else")
    folder = tmp_path / "foreign"
    signing_keys.write_private(folder / "key.pem", key_pem)
    signing_keys.write_private(folder / "cert.pem", cert)
    foreign = signers.SimpleSigner.load(str(folder / "key.pem"), str(folder / "cert.pem"))
    signed = pdf_signing.outside_event_loop(
        signers.sign_pdf,
        IncrementalPdfFileWriter(io.BytesIO(rendered)),
        signers.PdfSignatureMetadata(field_name="Forged"),
        signer=foreign,
    ).getvalue()
    sign(rendered)  # the provider's own certificate is on record

    report = pdf_signing.signature_report(signed)
    assert report.signed
    assert report.intact
    assert report.signer_name == "Somebody Else"
    assert not report.trusted
    assert not report.valid
    assert "not one of this provider's" in report.problem


def test_an_unsigned_pdf_says_so(rendered):
    report = pdf_signing.signature_report(rendered)
    assert not report.signed
    assert not report.valid
    assert report.problem == "The PDF carries no digital signature."
    assert not pdf_signing.signature_report(b"not a pdf").signed


def test_a_timestamp_authority_is_used_only_when_configured(settings):
    settings.CEU_TSA_URL = ""
    assert pdf_signing._timestamper() is None
    settings.CEU_TSA_URL = "https://tsa.example.org/"
    stamper = pdf_signing._timestamper()
    assert stamper is not None
    assert stamper.url == "https://tsa.example.org/"


def contents_room(signed: bytes) -> int:
    """The hex digits reserved for the signature container (/Contents) in a signed PDF."""
    signature = PdfFileReader(io.BytesIO(signed), strict=False).embedded_signatures[-1]
    start, length, after, _rest = signature.sig_object["/ByteRange"]
    return after - (start + length) - 2  # less the angle brackets of the hex string


@pytest.fixture
def estimates(monkeypatch):
    """Each time pyHanko measures the signature container with a dry run."""
    made = []
    session = signers.pdf_signer.PdfSigningSession
    measure = session.estimate_signature_container_size

    async def counted(self, *args, **kwargs):
        made.append(self.pdf_signer.signer.signing_cert.sha256.hex())
        return await measure(self, *args, **kwargs)

    monkeypatch.setattr(session, "estimate_signature_container_size", counted)
    return made


def test_later_signatures_reserve_the_measured_room_and_still_validate(
    rendered, tmp_path, estimates
):
    first = sign(rendered)
    second = sign(rendered)
    third = sign(rendered)

    # pyHanko measured the container once, for the first; the others reserve that size and a
    # small margin instead of half as much again, and are smaller files for it.
    assert len(estimates) == 1
    measured = pdf_signing._container_size(first) * 2
    assert contents_room(second) == measured + pdf_signing.RESERVE_MARGIN
    assert contents_room(first) > contents_room(second)
    assert len(second) < len(first)
    for signed in (second, third):
        assert VALID_LINE in pdfsig(signed, tmp_path)
        assert pyhanko_status(signed, cert_pem()).bottom_line
        assert pdf_signing.signature_report(signed).valid
        assert signed.startswith(rendered)
    altered = flipped_inside_signed_range(second)
    assert VALID_LINE not in pdfsig(altered, tmp_path)
    assert not pyhanko_status(altered, cert_pem()).intact


def test_a_new_key_is_measured_anew(rendered, settings, tmp_path, estimates):
    sign(rendered)
    sign(rendered)
    key_pem, cert = signing_keys.new_document_signer(name="Harbor Counseling CE", algorithm="rsa")
    signing_keys.write_private(tmp_path / "rsa" / "key.pem", key_pem)
    signing_keys.write_private(tmp_path / "rsa" / "cert.pem", cert)
    settings.CEU_SIGNING_KEY_FILE = str(tmp_path / "rsa" / "key.pem")
    settings.CEU_SIGNING_CERT_FILE = str(tmp_path / "rsa" / "cert.pem")

    rotated = sign(rendered)
    again = sign(rendered)

    assert len(estimates) == 2
    assert estimates[0] != estimates[1]
    assert pdf_signing.signature_report(rotated).signer_name == "Harbor Counseling CE"
    assert pdf_signing.signature_report(again).valid
    assert VALID_LINE in pdfsig(again, tmp_path)


def test_a_container_outgrowing_its_room_is_signed_again_with_a_fresh_estimate(
    rendered, tmp_path, estimates
):
    sign(rendered)
    signer = pdf_signing.document_signer()
    (size_key,) = [key for key in pdf_signing._reserved_sizes if key[0] == signer.sha256]
    pdf_signing._reserved_sizes[size_key] = 200  # far too small for any container

    signed = sign(rendered)

    assert len(estimates) == 2
    assert pdf_signing.signature_report(signed).valid
    assert VALID_LINE in pdfsig(signed, tmp_path)
    assert pdf_signing._reserved_sizes[size_key] > 200


def test_with_a_timestamp_authority_pyhanko_estimates_every_signature(
    rendered, monkeypatch, estimates
):
    """A timestamp token's size is the authority's to choose: nothing is remembered."""
    reserved = []
    sign_once = pdf_signing._sign_once

    def offline(pdf_bytes, metadata, signer, timestamper, room):
        reserved.append(room)
        return sign_once(pdf_bytes, metadata, signer, None, room)

    monkeypatch.setattr(pdf_signing, "_timestamper", lambda: object())
    monkeypatch.setattr(pdf_signing, "_sign_once", offline)
    sign(rendered)
    sign(rendered)

    assert reserved == [None, None]
    assert len(estimates) == 2


def embedded_container(signed: bytes):
    """The signature container (CMS SignedData) of a signed PDF's last signature."""
    return PdfFileReader(io.BytesIO(signed), strict=False).embedded_signatures[-1].signed_data


def test_containers_after_the_first_are_pyhankos_own_but_for_digest_and_signature(
    rendered, monkeypatch, tmp_path
):
    """pyHanko assembles the first container of a key; the next ones are filled in from it,
    and are the same container but for the document's digest and the signature."""
    assembled = []
    assemble = signers.SimpleSigner.async_sign

    async def counted(self, *args, **kwargs):
        assembled.append(args[0])
        return await assemble(self, *args, **kwargs)

    monkeypatch.setattr(signers.SimpleSigner, "async_sign", counted)
    other = render_certificate_pdf(
        snapshot(code="CEU-2222-3333-4444", learner_name="Ama Mensah"), verify_url=VERIFY_URL
    )
    first = sign(rendered)
    by_pyhanko = len(assembled)  # its dry run to measure the container, then the container
    second = sign(other)

    assert by_pyhanko == 2
    assert len(assembled) == by_pyhanko
    mine, theirs = embedded_container(second), embedded_container(first)
    for field in ("version", "digest_algorithms", "encap_content_info", "certificates"):
        assert mine[field].dump() == theirs[field].dump()
    (info,), (their_info,) = mine["signer_infos"], theirs["signer_infos"]
    for field in ("version", "sid", "digest_algorithm", "signature_algorithm", "unsigned_attrs"):
        assert info[field].dump() == their_info[field].dump()

    def attributes(signer_info) -> dict:
        return {item["type"].native: item["values"].dump() for item in signer_info["signed_attrs"]}

    mine_attributes, their_attributes = attributes(info), attributes(their_info)
    assert mine_attributes.pop("message_digest") != their_attributes.pop("message_digest")
    assert mine_attributes == their_attributes
    assert set(mine_attributes) == {"content_type", "signing_certificate_v2"}
    assert info["signature"].native != their_info["signature"].native
    status = pyhanko_status(second, cert_pem())
    assert status.intact
    assert status.valid
    assert status.bottom_line
    assert VALID_LINE in pdfsig(second, tmp_path)
    assert pdf_signing.signature_report(second).valid


def test_a_signed_attribute_of_its_own_keeps_every_container_pyhankos():
    """A signing time (CMS outside PAdES) differs from one container to the next: nothing is
    filled in from an earlier one."""
    signer = pdf_signing.document_signer().signer
    times = [datetime(2026, 11, 2, 9, 30, tzinfo=UTC), datetime(2026, 11, 3, 16, 5, tzinfo=UTC)]

    def container(index: int, when: datetime):
        return asyncio.run(
            signer.async_sign(
                bytes([index]) * 32,
                "sha256",
                signed_attr_settings=PdfCMSSignedAttributes(signing_time=when),
            )
        )

    # In a thread of its own where this one runs an event loop (a browser test's, before).
    made = [
        pdf_signing.outside_event_loop(container, index, when) for index, when in enumerate(times)
    ]

    for container, when, index in zip(made, times, range(2), strict=True):
        attributes = {
            item["type"].native: item["values"][0].native
            for item in container["content"]["signer_infos"][0]["signed_attrs"]
        }
        assert attributes["signing_time"] == when
        assert attributes["message_digest"] == bytes([index]) * 32


def test_every_certificate_used_is_recorded_once(rendered):
    sign(rendered)
    sign(rendered)
    rows = list(DocumentSigningCertificate.objects.all())
    assert len(rows) == 1
    assert rows[0].pem.encode() == cert_pem()


@pytest.mark.django_db(transaction=True)
def test_the_certificate_the_site_issues_is_signed_with_its_credential_inside(
    tmp_path, client, settings
):
    """Through the real pipeline: issued, rendered with its credential beside certificate.json,
    signed, and stored with the SHA-256 of the signed file, which is what the learner gets."""
    import hashlib

    from courses.models import Certificate
    from courses.services import badges
    from courses.tests.credential_helpers import make_certificate

    settings.MEDIA_ROOT = tmp_path / "media"
    issued = make_certificate()
    certificate = Certificate.objects.get(pk=issued.pk)
    with certificate.pdf.open("rb") as handle:
        stored = handle.read()

    assert hashlib.sha256(stored).hexdigest() == certificate.pdf_sha256
    assert VALID_LINE in pdfsig(stored, tmp_path)
    assert pyhanko_status(stored, cert_pem()).intact
    attachments = PdfReader(io.BytesIO(stored)).attachments
    assert json.loads(attachments["certificate.json"][0])["code"] == certificate.code
    (embedded,) = attachments[badges.PDF_ATTACHMENT_NAME]
    assert embedded.decode() == client.get(f"/credentials/{certificate.code}.jwt").content.decode()
    report = pdf_signing.signature_report(stored)
    assert report.valid
    assert report.trusted


def test_the_signers_reader_reads_every_object_as_pyhankos_reader_does(rendered):
    """The signer reads a certificate's objects with a reader that reads each object stream's
    header once (`pdf_signing._Reader`): every object is the one pyHanko's own reader reads."""
    from pyhanko.pdf_utils import generic

    ours = pdf_signing._Reader(io.BytesIO(rendered), strict=False)
    pyhankos = PdfFileReader(io.BytesIO(rendered), strict=False)
    count = pyhankos.trailer["/Size"]
    assert count > 100
    for number in range(1, count):
        expected = pyhankos.get_object(generic.Reference(number, 0, pyhankos))
        assert repr(ours.get_object(generic.Reference(number, 0, ours))) == repr(expected)
    # Most objects lie in an object stream, whose header was read once.
    places = [found for found in ours.__dict__["_object_places"].values() if found]
    assert sum(map(len, places)) > 50
