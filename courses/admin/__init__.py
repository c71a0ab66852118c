"""The admin, one module per sub-domain, as the models and services are split."""

from . import assessment, audit, boards, catalog, credentials, learning  # noqa: F401  (registrations)
