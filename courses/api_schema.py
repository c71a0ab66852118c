"""The OpenAPI document of the verification API, served at /api/v1/openapi.json. The views in
courses/views/api.py take from it what they enforce (the methods of each path, the shape of a
code, how many codes one request may hold), and the statuses and kinds it lists come from the
code that makes them; the test suite sends what the document allows, and what it forbids, to
the running API with every schemathesis check."""

from courses.codes import ALPHABET, PREFIX, RANDOM_LENGTH, CodeProblem
from courses.credentials_record import CertificateKind
from courses.models import CertificateStatus

DOCUMENT_PATH = "/api/v1/openapi.json"
ONE_PATH = "/api/v1/certificates/{code}"
MANY_PATH = "/api/v1/certificates/verify"
MAX_CODES_PER_REQUEST = 100

# Statuses of a lookup: the certificate's own standing, or why no certificate answers.
ISSUED = [status.value for status in CertificateStatus]
UNKNOWN = "unknown"
NOT_FOUND = [CodeProblem.TYPO.value, UNKNOWN]
NOT_A_CODE = [CodeProblem.MALFORMED.value]


def _code_pattern() -> str:
    """What can be a typed code: the prefix (optional) and the code's characters, in any case,
    with spaces and dashes anywhere between them. The same regular expression in the document
    (ECMA 262) and in the API (Python's `re.search`, as JSON Schema validators apply it)."""
    character = f"[{ALPHABET}{ALPHABET.lower()}]"
    prefix = "".join(f"[{letter}{letter.lower()}]" for letter in PREFIX)
    return rf"^[ -]*(?:{prefix}[ -]*)?(?:{character}[ -]*){{{RANDOM_LENGTH + 1}}}$"


CODE_PATTERN = _code_pattern()
DECIMAL_PATTERN = r"^[0-9]+(\.[0-9]+)?$"
ZERO_PATTERN = r"^0+(\.0+)?$"

_CERTIFICATE = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "code",
        "status",
        "kind",
        "sample",
        "learner_name",
        "licences",
        "course_title",
        "ce_hours",
        "format",
        "completion_date",
        "presenter",
        "provider",
        "credits",
        "issued_at",
        "revoked",
        "superseded_by",
        "verify_url",
    ],
    "properties": {
        "code": {"type": "string", "example": "CEU-7K3M-Q9XZ-4T2P-HW8C"},
        "status": {"type": "string", "enum": ISSUED},
        "kind": {
            "type": "string",
            "enum": [kind.value for kind in CertificateKind],
            "description": "credit: CE hours awarded under the approvals listed in credits. "
            "attendance: no approval served the learner's licences on the completion date; the "
            'training was completed and no CE credit is awarded (ce_hours is "0").',
        },
        "sample": {
            "type": "boolean",
            "description": "True while the provider is not configured: "
            "the certificate is not valid for credit.",
        },
        "learner_name": {"type": "string", "description": "Exactly as printed."},
        "licences": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["profession", "jurisdiction", "number_last4"],
                "properties": {
                    "profession": {"type": "string"},
                    "jurisdiction": {"type": "string"},
                    "number_last4": {
                        "type": "string",
                        "maxLength": 4,
                        "description": "The last four characters of the licence number.",
                    },
                },
            },
        },
        "course_title": {"type": "string"},
        "ce_hours": {
            "type": "string",
            "pattern": DECIMAL_PATTERN,
            "description": "CE hours awarded, a decimal number written out.",
            "example": "1.5",
        },
        "format": {"type": "string", "example": "Home study / recorded audio"},
        "completion_date": {"type": "string", "format": "date"},
        "presenter": {"type": "string"},
        "provider": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "email", "configured"],
            "properties": {
                "name": {"type": "string"},
                "email": {"type": "string"},
                "configured": {"type": "boolean"},
            },
        },
        "credits": {
            "type": "array",
            "description": "One entry per approval the credit is awarded under.",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": [
                    "accreditor",
                    "provider_number",
                    "hours",
                    "credit_type",
                    "approval_code",
                    "statement",
                ],
                "properties": {
                    "accreditor": {"type": "string"},
                    "provider_number": {"type": "string"},
                    "hours": {"type": "string", "pattern": DECIMAL_PATTERN},
                    "credit_type": {"type": "string"},
                    "approval_code": {"type": "string"},
                    "statement": {"type": "string"},
                },
            },
        },
        "issued_at": {"type": "string", "format": "date-time"},
        "revoked": {
            "description": "When and why the certificate was revoked; null unless revoked.",
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["at", "reason"],
                    "properties": {
                        "at": {"type": "string", "format": "date-time"},
                        "reason": {"type": "string"},
                    },
                },
            ],
        },
        "superseded_by": {
            "type": ["string", "null"],
            "description": "The code of the certificate that replaced this one; null unless "
            "superseded.",
        },
        "verify_url": {"type": "string", "format": "uri"},
    },
    # A certificate of attendance awards no hours.
    "if": {"properties": {"kind": {"const": CertificateKind.ATTENDANCE.value}}},
    "then": {"properties": {"ce_hours": {"pattern": ZERO_PATTERN}}},
}

_QUERY = {
    "type": "string",
    "description": "The code exactly as sent, whatever its length or content.",
}

_FOUND = {
    "type": "object",
    "additionalProperties": False,
    "required": ["query", "status", "certificate"],
    "properties": {
        "query": _QUERY,
        "status": {
            "type": "string",
            "enum": ISSUED,
            "description": "The certificate's standing, as in certificate.status.",
        },
        "certificate": {"$ref": "#/components/schemas/Certificate"},
    },
}


def _unanswered(statuses: list[str], description: str) -> dict:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["query", "status", "message"],
        "properties": {
            "query": _QUERY,
            "status": {"type": "string", "enum": statuses, "description": description},
            "message": {"type": "string", "description": "What to do next, in plain words."},
        },
    }


_NOT_FOUND = _unanswered(
    NOT_FOUND,
    "typo: the code's last character (a check character) does not match the rest, so it was "
    "mistyped; unknown: a well-formed code never issued here.",
)
_NOT_A_CODE = _unanswered(NOT_A_CODE, "The text cannot be a certificate code.")

_ERROR = {
    "type": "object",
    "additionalProperties": False,
    "required": ["error"],
    "properties": {"error": {"type": "string", "description": "What to send instead."}},
}


def _json(schema: dict, description: str, headers: dict | None = None) -> dict:
    response = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


_RATE_LIMITED = _json(
    _ref("Error"),
    "Too many requests from this address this minute",
    headers={
        "Retry-After": {
            "description": "Seconds until the next minute's allowance.",
            "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": 60},
        }
    },
)

OPENAPI = {
    "openapi": "3.1.0",
    "info": {
        "title": "Certificate verification",
        "version": "1.1.0",
        "description": "Confirm that a continuing-education certificate was issued here, "
        "unaltered, and whether it still stands. No account is needed; lookups are "
        "rate-limited per client address (429 with Retry-After when exceeded). Every answer "
        "is JSON: a method a path does not list gets 405 with an Allow header naming the "
        "methods it does, and a path not listed here gets 404.",
    },
    "paths": {
        ONE_PATH: {
            "get": {
                "operationId": "getCertificate",
                "summary": "Look up one certificate by its code",
                "parameters": [
                    {
                        "name": "code",
                        "in": "path",
                        "required": True,
                        "description": "The code as printed, in any case, with or without "
                        "its prefix, dashes and spaces.",
                        "schema": {
                            "type": "string",
                            "pattern": CODE_PATTERN,
                            "example": "CEU-7K3M-Q9XZ-4T2P-HW8C",
                        },
                    }
                ],
                "responses": {
                    "200": _json(_ref("Found"), "A certificate issued here, in any standing"),
                    "400": _json(_ref("NotACode"), "Text that cannot be a code"),
                    "404": _json(_ref("NotFound"), "A mistyped code, or one never issued here"),
                    "429": _RATE_LIMITED,
                },
            }
        },
        MANY_PATH: {
            "post": {
                "operationId": "verifyCertificates",
                "summary": f"Look up to {MAX_CODES_PER_REQUEST} certificates at once",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["codes"],
                                "properties": {
                                    "codes": {
                                        "type": "array",
                                        "minItems": 1,
                                        "maxItems": MAX_CODES_PER_REQUEST,
                                        "description": "Codes as typed, any text: each gets "
                                        "a result, text that cannot be a code included.",
                                        "items": {"type": "string"},
                                    }
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["results"],
                            "properties": {
                                "results": {
                                    "type": "array",
                                    "description": "One result per code, in the order sent.",
                                    "items": _ref("Result"),
                                }
                            },
                        },
                        "One result per code, in the order sent",
                    ),
                    "400": _json(_ref("Error"), "A body that is not as described"),
                    "429": _RATE_LIMITED,
                },
            }
        },
        DOCUMENT_PATH: {
            "get": {
                "operationId": "getDocument",
                "summary": "This document",
                "responses": {
                    "200": _json(
                        {"type": "object", "required": ["openapi", "info", "paths"]},
                        "The OpenAPI document, with this server's address",
                    )
                },
            }
        },
    },
    "components": {
        "schemas": {
            "Certificate": _CERTIFICATE,
            "Found": _FOUND,
            "NotFound": _NOT_FOUND,
            "NotACode": _NOT_A_CODE,
            "Result": {"oneOf": [_ref("Found"), _ref("NotFound"), _ref("NotACode")]},
            "Error": _ERROR,
        },
    },
}


def declared_methods(path: str) -> list[str]:
    """The HTTP methods the document lists for a path, upper case, in the document's order."""
    return [method.upper() for method in OPENAPI["paths"][path]]
