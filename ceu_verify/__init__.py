"""Offline verifier for the CE site's certificates: `python -m ceu_verify FILE`. Usable without
the site; depends only on the signature libraries (see README.md)."""

__version__ = "1.0.0"
