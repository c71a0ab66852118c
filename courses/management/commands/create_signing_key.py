"""Make the provider's signing keys for demos and tests: the Ed25519 key that signs Open Badges
credentials, and a document-signing key with a self-signed X.509 certificate for the PDF
signature. Files are written readable by their owner only, and never replaced without --force."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from courses.services import signing_keys


class Command(BaseCommand):
    help = (
        "Write a credential signing key (Ed25519 JWK) and a self-signed document-signing "
        "certificate with its key, and print the environment variables that name them."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--dir",
            type=Path,
            default=None,
            help="Folder to write to (default: CEU_KEYS_DIR, the demo keys folder).",
        )
        parser.add_argument(
            "--force", action="store_true", help="Replace files that already exist."
        )
        parser.add_argument(
            "--rsa",
            action="store_true",
            help="An RSA 2048 document-signing key instead of ECDSA P-256.",
        )
        parser.add_argument(
            "--name",
            default="",
            help="The signer's name in the certificate (default: the provider's name).",
        )
        parser.add_argument(
            "--days",
            type=int,
            default=signing_keys.DOCUMENT_CERT_DAYS,
            help="Days the self-signed certificate is valid.",
        )

    def handle(self, *args, **options) -> None:
        folder: Path = (options["dir"] or Path(settings.CEU_KEYS_DIR)).resolve()
        paths = {
            "CEU_CREDENTIAL_KEY_FILE": folder / signing_keys.CREDENTIAL_KEY_NAME,
            "CEU_SIGNING_KEY_FILE": folder / signing_keys.DOCUMENT_KEY_NAME,
            "CEU_SIGNING_CERT_FILE": folder / signing_keys.DOCUMENT_CERT_NAME,
        }
        existing = [str(path) for path in paths.values() if path.exists()]
        if existing and not options["force"]:
            raise CommandError(
                f"Not replaced: {', '.join(existing)} already exist. Credentials signed with a "
                "key stay verifiable only while its public key is published; use --force to "
                "replace them anyway, or --dir for another folder."
            )
        if options["days"] < 1:
            raise CommandError("--days must be at least 1.")
        name, email = signing_keys.signer_name()
        name = options["name"].strip() or name
        key_pem, cert_pem = signing_keys.new_document_signer(
            name=name,
            email=email,
            algorithm="rsa" if options["rsa"] else "ec",
            days=options["days"],
        )
        credential_key = signing_keys.new_credential_key()
        contents = {
            "CEU_CREDENTIAL_KEY_FILE": signing_keys.credential_key_file_text(
                credential_key
            ).encode(),
            "CEU_SIGNING_KEY_FILE": key_pem,
            "CEU_SIGNING_CERT_FILE": cert_pem,
        }
        for variable, path in paths.items():
            signing_keys.write_private(path, contents[variable], force=options["force"])
        self.stdout.write(
            f"Credential key {credential_key.thumbprint()} (Ed25519) and a self-signed "
            f"document-signing certificate for {name!r} written to {folder}, readable by you "
            "only. Name them in the environment:"
        )
        for variable, path in paths.items():
            self.stdout.write(f"{variable}={path}")
