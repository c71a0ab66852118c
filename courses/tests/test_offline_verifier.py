"""The offline verifier (`python -m ceu_verify`) on what the site issues: a genuine certificate PDF
and credential are VALID, against the issuer's did:web (served by the live site) or a pinned
key; one changed byte is ALTERED; a revocation is seen through the status list; a file signed
by another key is UNKNOWN ISSUER; a certificate signed before a key rotation is still VALID
after it; and the verifier runs in a fresh virtual environment without Django."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import venv
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pyhanko.pdf_utils import embed, generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers

from accounts.tests.factories import UserFactory
from ceu_verify.__main__ import main as verify_main
from courses.credentials_record import record_of
from courses.services import badges, credentials, pdf_signing, signing_keys
from courses.services.certificate_pdf import render_certificate_pdf
from courses.tests.credential_helpers import make_certificate
from courses.tests.test_pdf_signing import flipped_inside_signed_range

REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture
def site(settings, tmp_path, live_server):
    """The live site as the issuer: its did:web and status lists are what the verifier fetches."""
    settings.CEU_KEYS_DIR = tmp_path / "keys"
    settings.CEU_CREDENTIAL_KEY_FILE = ""
    settings.CEU_SIGNING_KEY_FILE = ""
    settings.CEU_SIGNING_CERT_FILE = ""
    settings.CEU_DEMO_SIGNING_KEYS = True
    settings.CEU_TSA_URL = ""
    settings.CEU_SITE_URL = live_server.url
    return live_server


pytestmark = pytest.mark.django_db(transaction=True)


def with_credential(pdf: bytes, token: str) -> bytes:
    """A rendered PDF with a credential embedded beside certificate.json afterwards, as an
    incremental update: how a forger would slip their own credential in."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    data = embed.EmbeddedFileObject.from_file_data(
        writer, data=token.encode(), mime_type=badges.MEDIA_TYPE_JWT
    )
    embed.embed_file(
        writer,
        embed.FileSpec(
            file_spec_string=badges.PDF_ATTACHMENT_NAME,
            embedded_data=data,
            description="Open Badges 3.0 credential (VC-JOSE)",
            af_relationship=generic.NameObject("/Data"),
        ),
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def certificate_pdf(certificate) -> bytes:
    """The certificate's PDF as the site stored it: rendered with its credential embedded beside
    certificate.json, then signed."""
    stored = credentials.render_and_store(certificate_id=certificate.pk)
    with stored.pdf.open("rb") as handle:
        return handle.read()


def run(capsys, path: Path, *args: str) -> tuple[int, str]:
    code = verify_main([str(path), *args])
    return code, capsys.readouterr().out


def written(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def published_jwks(tmp_path: Path) -> Path:
    return written(tmp_path, "jwks.json", json.dumps(signing_keys.jwks()))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def foreign_jws(genuine: str) -> str:
    """The genuine credential's payload, signed by a key the issuer never had, naming it."""
    key = Ed25519PrivateKey.generate()
    x = b64url(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
    thumb = b64url(
        hashlib.sha256(
            json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":")).encode()
        ).digest()
    )
    payload = genuine.split(".")[1]
    did = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["issuer"]
    header = b64url(
        json.dumps({"alg": "EdDSA", "kid": f"{did['id']}#{thumb}", "typ": "vc+jwt"}).encode()
    )
    signature = b64url(key.sign(f"{header}.{payload}".encode()))
    return f"{header}.{payload}.{signature}"


def test_a_genuine_pdf_is_valid_against_the_issuers_did_web(site, capsys, tmp_path):
    certificate = make_certificate(name="Dana Whitfield")
    path = written(tmp_path, "certificate.pdf", certificate_pdf(certificate))

    code, out = run(capsys, path)

    assert code == 0, out
    assert out.startswith("VALID: certificate.pdf")
    assert "Dana Whitfield" in out
    assert "Ruptures and ghosting" in out
    assert certificate.code in out
    assert "PDF signature: intact, covers the whole file" in out
    assert "the printed text shows the record" in out
    assert "the credential and certificate.json agree" in out
    assert "/.well-known/did.json" in out
    assert "Status: not revoked" in out


def test_a_genuine_credential_is_valid_against_a_pinned_key_offline(site, capsys, tmp_path):
    certificate = make_certificate()
    jwt = written(tmp_path, "credential.jwt", badges.credential_jwt(certificate))

    code, out = run(capsys, jwt, "--issuer-key", str(published_jwks(tmp_path)), "--offline")

    assert code == 0, out
    assert out.startswith("VALID: credential.jwt")
    assert "the pinned issuer key" in out
    assert "Status: not checked (offline)" in out


def test_one_changed_byte_is_altered(site, capsys, tmp_path):
    certificate = make_certificate()
    pdf = certificate_pdf(certificate)
    path = written(tmp_path, "altered.pdf", flipped_inside_signed_range(pdf))

    code, out = run(capsys, path)
    assert code == 2, out
    assert out.startswith("ALTERED")
    assert "changed after it was signed" in out

    token = badges.credential_jwt(certificate)
    header, payload, signature = token.split(".")
    body = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    # One letter of the name changed, the signature kept.
    tampered = b64url(body.replace(b"Dana Whitfield", b"Dana Whitfielt"))
    assert tampered != payload
    jwt = written(tmp_path, "altered.jwt", f"{header}.{tampered}.{signature}")
    code, out = run(capsys, jwt, "--issuer-key", str(published_jwks(tmp_path)), "--offline")
    assert code == 2, out
    assert "the signature does not match its content" in out


def test_a_revocation_is_seen_through_the_status_list(site, capsys, tmp_path):
    certificate = make_certificate()
    pdf = written(tmp_path, "certificate.pdf", certificate_pdf(certificate))
    jwt = written(tmp_path, "credential.jwt", badges.credential_jwt(certificate))
    assert run(capsys, pdf)[0] == 0

    credentials.revoke_certificate(
        certificate=certificate,
        reason="Attendance not verified",
        acting_user=UserFactory(is_staff=True),
    )

    code, out = run(capsys, pdf)
    assert code == 3, out
    assert out.startswith("REVOKED")
    code, out = run(capsys, jwt, "--issuer-key", str(published_jwks(tmp_path)))
    assert code == 3, out
    # A bare .json has no proof: its status is still read.
    body = badges.credential_json(certificate.open_badge)
    code, out = run(capsys, written(tmp_path, "credential.json", body))
    assert code == 3, out
    # Offline, the status cannot be known: the verdict says it was not checked.
    code, out = run(capsys, pdf, "--issuer-key", str(published_jwks(tmp_path)), "--offline")
    assert code == 0, out
    assert "Status: not checked (offline)" in out


def test_a_bare_json_credential_is_never_valid(site, capsys, tmp_path):
    certificate = make_certificate()
    body = badges.credential_json(badges.issue_credential(certificate))

    code, out = run(capsys, written(tmp_path, "credential.json", body))

    assert code == 4, out
    assert out.startswith("UNTRUSTED")
    assert "carries no signature" in out
    assert "Status: not revoked" in out


def test_a_file_signed_by_another_key_is_an_unknown_issuer(site, capsys, tmp_path, settings):
    certificate = make_certificate()
    forged = foreign_jws(badges.credential_jwt(certificate))

    code, out = run(capsys, written(tmp_path, "foreign.jwt", forged))
    assert code == 5, out
    assert out.startswith("UNKNOWN ISSUER")
    code, out = run(
        capsys,
        written(tmp_path, "foreign2.jwt", forged),
        "--issuer-key",
        str(published_jwks(tmp_path)),
        "--offline",
    )
    assert code == 5, out

    # A whole PDF made elsewhere: its own document-signing certificate, the forged credential.
    key_pem, cert_pem = signing_keys.new_document_signer(name="Somebody Else")
    signing_keys.write_private(tmp_path / "f" / "key.pem", key_pem)
    signing_keys.write_private(tmp_path / "f" / "cert.pem", cert_pem)
    rendered = render_certificate_pdf(
        record_of(certificate), verify_url=credentials.verify_url(certificate.code)
    )
    pdf = pdf_signing.outside_event_loop(
        signers.sign_pdf,
        IncrementalPdfFileWriter(io.BytesIO(with_credential(rendered, forged))),
        signers.PdfSignatureMetadata(field_name="Forged"),
        signer=signers.SimpleSigner.load(
            str(tmp_path / "f" / "key.pem"), str(tmp_path / "f" / "cert.pem")
        ),
    ).getvalue()
    code, out = run(capsys, written(tmp_path, "foreign.pdf", pdf))
    assert code == 5, out
    assert "Somebody Else" in out


def test_a_certificate_signed_before_a_key_rotation_is_still_valid(
    site, capsys, tmp_path, settings
):
    before = make_certificate(email="early@example.com", slug="early")
    old_pdf = written(tmp_path, "before.pdf", certificate_pdf(before))

    # The operator rotates both keys: new files named by the environment.
    folder = tmp_path / "rotated"
    signing_keys.write_private(
        folder / "credential.jwk",
        signing_keys.credential_key_file_text(signing_keys.new_credential_key()).encode(),
    )
    key_pem, cert_pem = signing_keys.new_document_signer(name="Harbor Counseling CE")
    signing_keys.write_private(folder / "key.pem", key_pem)
    signing_keys.write_private(folder / "cert.pem", cert_pem)
    settings.CEU_CREDENTIAL_KEY_FILE = str(folder / "credential.jwk")
    settings.CEU_SIGNING_KEY_FILE = str(folder / "key.pem")
    settings.CEU_SIGNING_CERT_FILE = str(folder / "cert.pem")
    after = make_certificate(email="late@example.com", slug="late")
    new_pdf = written(tmp_path, "after.pdf", certificate_pdf(after))
    assert before.open_badge.signing_key_id != after.open_badge.signing_key_id

    # Both document-signing certificates are published; each PDF's signer is tied to the issuer.
    published = [key for key in signing_keys.jwks()["keys"] if "x5c" in key]
    assert len(published) == 2
    for path in (old_pdf, new_pdf):
        code, out = run(capsys, path, "--did-web")
        assert code == 0, out
        assert "is a document-signing certificate of the issuer's published keys" in out
    code, out = run(capsys, old_pdf, "--issuer-key", str(published_jwks(tmp_path)), "--offline")
    assert code == 0, out
    assert "is a document-signing certificate of the pinned issuer key file" in out
    assert pdf_signing.signature_report(old_pdf.read_bytes()).valid


def signed_elsewhere(pdf: bytes, tmp_path: Path, *, name: str, email: str) -> tuple[bytes, str]:
    """The PDF signed with a self-signed certificate made here, naming `name`: what anyone can
    make. The PDF and the certificate's SHA-256 fingerprint."""
    key_pem, cert_pem = signing_keys.new_document_signer(name=name, email=email)
    signing_keys.write_private(tmp_path / "elsewhere" / "key.pem", key_pem)
    signing_keys.write_private(tmp_path / "elsewhere" / "cert.pem", cert_pem)
    signed = pdf_signing.outside_event_loop(
        signers.sign_pdf,
        IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False),
        signers.PdfSignatureMetadata(field_name=pdf_signing.SIGNATURE_FIELD, name=name),
        signer=signers.SimpleSigner.load(
            str(tmp_path / "elsewhere" / "key.pem"), str(tmp_path / "elsewhere" / "cert.pem")
        ),
    ).getvalue()
    return signed, pdf_signing.fingerprint(x509.load_pem_x509_certificate(cert_pem))


def test_a_pdf_re_signed_by_a_certificate_named_like_the_provider_is_not_valid(
    site, capsys, tmp_path
):
    certificate = make_certificate(name="Dana Whitfield")
    genuine = certificate_pdf(certificate)
    provider = pdf_signing.document_signer()
    # The genuine page and its genuine credential, rendered again and signed by a certificate
    # whose subject is the provider's, word for word.
    rendered = render_certificate_pdf(
        record_of(certificate),
        verify_url=credentials.verify_url(certificate.code),
        credential_jwt=badges.credential_for_pdf(certificate),
    )
    name, email = signing_keys.signer_name()
    forged, forged_sha256 = signed_elsewhere(rendered, tmp_path, name=name, email=email)
    forged_subject = pdf_signing_subject(forged)
    assert forged_subject == provider.certificate.subject.rfc4514_string()
    assert forged_sha256 != provider.sha256

    for args in ((), ("--issuer-key", str(published_jwks(tmp_path)), "--offline")):
        code, out = run(capsys, written(tmp_path, "forged.pdf", forged), *args)

        assert code == 5, out
        assert out.startswith("UNKNOWN ISSUER: forged.pdf")
        assert "PDF signature: intact, covers the whole file" in out
        # The embedded credential is genuine and says so; the PDF's signer is not the issuer's.
        assert "Credential: signature verified" in out
        assert (
            f"PDF signer: {provider.name} (certificate SHA-256 {forged_sha256}) is not among"
            in (out)
        )
    assert not pdf_signing.signature_report(forged).valid
    # The genuine file, beside it, is tied to the issuer.
    code, out = run(capsys, written(tmp_path, "genuine.pdf", genuine))
    assert code == 0, out
    assert f"PDF signer: {provider.name} (certificate SHA-256 {provider.sha256}) is a" in out


def pdf_signing_subject(pdf: bytes) -> str:
    signature = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures[-1]
    return x509.load_der_x509_certificate(signature.signer_cert.dump()).subject.rfc4514_string()


def test_pinned_credential_keys_alone_cannot_tie_the_pdf_signer_to_the_issuer(
    site, capsys, tmp_path
):
    certificate = make_certificate()
    pdf = written(tmp_path, "certificate.pdf", certificate_pdf(certificate))
    credential_keys = [key for key in signing_keys.jwks()["keys"] if key["kty"] == "OKP"]
    pinned = written(tmp_path, "ed25519.json", json.dumps({"keys": credential_keys}))

    code, out = run(capsys, pdf, "--issuer-key", str(pinned), "--offline")

    assert code == 4, out
    assert out.startswith("UNTRUSTED")
    assert "Credential: signature verified" in out
    assert "could not be tied to the issuer" in out
    assert pdf_signing.document_signer().sha256 in out


def test_a_document_signing_key_never_verifies_a_credential(site, capsys, tmp_path):
    """Algorithm confusion: the genuine credential's payload signed with the provider's own
    document-signing key (ECDSA P-256), naming that key's published kid, as EdDSA or as ES256.
    Only an Ed25519 credential key ever verifies a credential."""
    certificate = make_certificate()
    genuine = badges.credential_jwt(certificate)
    [certificate_key] = [key for key in signing_keys.jwks()["keys"] if "x5c" in key]
    key_path, _cert_path = signing_keys.document_signing_files()
    document_key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    did = signing_keys.issuer_did()
    payload = genuine.split(".")[1]

    for alg in ("EdDSA", "ES256"):
        header = b64url(
            json.dumps(
                {"alg": alg, "kid": f"{did}#{certificate_key['kid']}", "typ": "vc+jwt"}
            ).encode()
        )
        r, s = decode_dss_signature(
            document_key.sign(f"{header}.{payload}".encode(), ec.ECDSA(hashes.SHA256()))
        )
        signature = b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
        token = written(tmp_path, f"{alg}.jwt", f"{header}.{payload}.{signature}")
        for args in ((), ("--issuer-key", str(published_jwks(tmp_path)), "--offline")):
            code, out = run(capsys, token, *args)

            assert code in (4, 5), out
            assert "Credential: signature verified" not in out
            assert ("which is not among" if alg == "EdDSA" else "not EdDSA") in out
    assert run(capsys, written(tmp_path, "genuine.jwt", genuine))[0] == 0
    from ceu_verify import verify

    assert certificate_key["kid"] not in verify.keys_from_document(signing_keys.did_document())
    assert certificate_key["kid"] not in verify.keys_from_document(signing_keys.jwks())


def test_an_unreadable_file_exits_1(capsys, tmp_path):
    assert verify_main([str(tmp_path / "missing.pdf"), "--offline"]) == 1


def test_runs_in_a_fresh_venv_without_django(site, tmp_path):
    """Installs only ceu_verify/requirements.txt into a new virtual environment and runs the
    verifier there on a genuine PDF and credential, from a copy of the package alone."""
    certificate = make_certificate()
    pdf = written(tmp_path, "certificate.pdf", certificate_pdf(certificate))
    jwt = written(tmp_path, "credential.jwt", badges.credential_jwt(certificate))
    keys = published_jwks(tmp_path)

    environment = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(environment)
    python = environment / "bin" / "python"
    quiet = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    quiet.pop("PYTHONPATH", None)
    quiet.pop("DJANGO_SETTINGS_MODULE", None)
    install = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "-r",
            str(REPOSITORY / "ceu_verify" / "requirements.txt"),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env=quiet,
        check=False,
    )
    assert install.returncode == 0, install.stdout + install.stderr

    # Only the verifier's own folder, away from the project.
    alone = tmp_path / "alone"
    shutil.copytree(
        REPOSITORY / "ceu_verify", alone / "ceu_verify", ignore=shutil.ignore_patterns("tests")
    )
    no_django = subprocess.run(
        [str(python), "-c", "import django"], capture_output=True, cwd=alone, env=quiet, check=False
    )
    assert no_django.returncode != 0

    for target, args in (
        (pdf, ["--did-web"]),
        (jwt, ["--issuer-key", str(keys), "--offline"]),
    ):
        done = subprocess.run(
            [str(python), "-m", "ceu_verify", str(target), *args],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=alone,
            env=quiet,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.startswith("VALID"), done.stdout


# --- The verifier's own rules, without the site --------------------------------------------------

RECORD = {
    "code": "CEU-7K3M-Q9XZ-4T2P-HW8C",
    "kind": "credit",
    "learner_name": "Zoë Ramírez-Núñez",
    "course_title": "When Clients Disappear: Ruptures, Ghosting, and Re-Engaging Stuck Clients",
    "ce_hours": "0.5",
    "completion_date": "2026-11-26",
}
PRINTED = (
    "Certificate of Completion\nTHIS CERTIFIES THAT\nZoë Ramírez-Núñez\nHAS COMPLETED\n"
    "When Clients Disappear: Ruptures, Ghosting, and\nRe-Engaging Stuck Clients\nCE HOURS\n"
    "0.5 CE hours\nCOMPLETED\nNovember 26, 2026\nCEU-7K3M-Q9XZ-4T2P-HW8C"
)


def test_the_record_must_be_what_the_page_prints():
    from ceu_verify import verify

    fine = verify.Result("certificate PDF")
    verify.check_printed(RECORD, PRINTED, fine)
    assert fine.verdict == verify.VALID

    for changed, label in (
        ({"learner_name": "Zoe Ramirez"}, "learner's name"),
        ({"ce_hours": "5"}, "CE hours"),
        ({"completion_date": "2026-11-27"}, "completion date"),
        ({"code": "CEU-0000-0000-0000-0000"}, "certificate code"),
    ):
        result = verify.Result("certificate PDF")
        verify.check_printed({**RECORD, **changed}, PRINTED, result)
        assert result.verdict == verify.ALTERED
        assert label in result.checks[-1].message


def test_the_credential_must_agree_with_the_record():
    from ceu_verify import verify

    credential = {
        "id": "https://ce.example.org/credentials/CEU-7K3M-Q9XZ-4T2P-HW8C.json",
        "credentialSubject": {
            "name": RECORD["learner_name"],
            "creditsEarned": 0.5,
            "achievement": {"name": RECORD["course_title"]},
        },
    }
    result = verify.Result("certificate PDF")
    verify.check_record_matches(RECORD, credential, result)
    assert result.verdict == verify.VALID

    credential["credentialSubject"]["creditsEarned"] = 1.5
    result = verify.Result("certificate PDF")
    verify.check_record_matches(RECORD, credential, result)
    assert result.verdict == verify.ALTERED
    assert "CE hours" in result.checks[-1].message


def test_did_web_addresses_and_plain_http_only_on_this_machine():
    from ceu_verify import verify

    assert verify.did_web_url("did:web:ce.example.org") == (
        "https://ce.example.org/.well-known/did.json"
    )
    assert verify.did_web_url("did:web:localhost%3A8000") == (
        "http://localhost:8000/.well-known/did.json"
    )
    assert verify.did_web_url("did:web:example.org:providers:harbor") == (
        "https://example.org/providers/harbor/did.json"
    )
    with pytest.raises(ValueError, match="not an https address"):
        verify.fetch("http://ce.example.org/credentials/status/1.jwt")
    with pytest.raises(ValueError, match="did:web"):
        verify.did_web_url("did:key:z6Mk")
