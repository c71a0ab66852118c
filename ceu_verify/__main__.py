"""`python -m ceu_verify FILE [--issuer-key FILE] [--did-web] [--offline]`: prints a verdict and
exits 0 only when the file is valid (exit codes in README.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ceu_verify.verify import EXIT_UNREADABLE, Options, VerifyError, report, verify_file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ceu_verify",
        description=(
            "Check a CE certificate PDF (its signature, embedded credential and printed text) or "
            "an Open Badges credential (.jwt or .json) against the issuer's keys and, online, "
            "its revocation status list."
        ),
    )
    parser.add_argument("file", type=Path, help="certificate PDF, .jwt or .json credential")
    parser.add_argument(
        "--issuer-key",
        type=Path,
        help="trust only this issuer key: a JWK, a JWK Set (jwks.json), a DID document "
        "(did.json) or an Ed25519 PEM",
    )
    parser.add_argument(
        "--did-web",
        action="store_true",
        help="also fetch the issuer's keys from its did:web document (the default when no "
        "--issuer-key is given)",
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="fetch nothing: no did:web, no status list (the status is then not checked)",
    )
    args = parser.parse_args(argv)
    if args.offline and args.did_web:
        parser.error("--did-web needs the network; drop --offline")
    options = Options(issuer_key=args.issuer_key, did_web=args.did_web, offline=args.offline)
    try:
        result = verify_file(args.file, options)
    except VerifyError as error:
        print(f"CANNOT CHECK: {error}", file=sys.stderr)
        return EXIT_UNREADABLE
    print(report(args.file, result))
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
