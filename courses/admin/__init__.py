"""The admin, one module per sub-domain, as the models and services are split."""

from . import (  # noqa: F401  (registrations)
    assessment,
    audit,
    boards,
    catalog,
    credentials,
    learning,
    messaging,
)
