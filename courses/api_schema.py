"""The OpenAPI document of the verification API, served at /api/v1/openapi.json and checked
against the running API by the test suite."""

_STATUS = {
    "type": "string",
    "enum": ["valid", "revoked", "superseded", "unknown", "typo", "malformed"],
    "description": "valid, revoked or superseded for an issued certificate; unknown for a "
    "well-formed code never issued here; typo when the check character does not match; "
    "malformed when the text cannot be a code.",
}

_CERTIFICATE = {
    "type": "object",
    "required": [
        "code",
        "status",
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
        "code": {"type": "string", "example": "CEU-7K3M-Q9XZ-4T2P-HW8R"},
        "status": {"type": "string", "enum": ["valid", "revoked", "superseded"]},
        "sample": {
            "type": "boolean",
            "description": "True while the provider is not configured: "
            "the certificate is not valid for credit.",
        },
        "learner_name": {"type": "string"},
        "licences": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["profession", "jurisdiction", "number_last4"],
                "properties": {
                    "profession": {"type": "string"},
                    "jurisdiction": {"type": "string"},
                    "number_last4": {"type": "string"},
                },
            },
        },
        "course_title": {"type": "string"},
        "ce_hours": {"type": "string", "example": "0.5"},
        "format": {"type": "string"},
        "completion_date": {"type": "string", "format": "date"},
        "presenter": {"type": "string"},
        "provider": {
            "type": "object",
            "required": ["name", "email", "configured"],
            "properties": {
                "name": {"type": "string"},
                "email": {"type": "string"},
                "configured": {"type": "boolean"},
            },
        },
        "credits": {
            "type": "array",
            "items": {
                "type": "object",
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
                    "hours": {"type": "string"},
                    "credit_type": {"type": "string"},
                    "approval_code": {"type": "string"},
                    "statement": {"type": "string"},
                },
            },
        },
        "issued_at": {"type": "string", "format": "date-time"},
        "revoked": {
            "type": ["object", "null"],
            "properties": {
                "at": {"type": "string", "format": "date-time"},
                "reason": {"type": "string"},
            },
        },
        "superseded_by": {"type": ["string", "null"]},
        "verify_url": {"type": "string", "format": "uri"},
    },
}

_RESULT = {
    "type": "object",
    "required": ["query", "status"],
    "properties": {
        "query": {"type": "string"},
        "status": _STATUS,
        "message": {"type": "string"},
        "certificate": {"$ref": "#/components/schemas/Certificate"},
    },
}

_ERROR = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


OPENAPI = {
    "openapi": "3.1.0",
    "info": {
        "title": "Certificate verification",
        "version": "1.0.0",
        "description": "Confirm that a continuing-education certificate was issued here, "
        "unaltered, and whether it still stands. No account is needed; requests are "
        "rate-limited per client address (429 with Retry-After when exceeded).",
    },
    "paths": {
        "/api/v1/certificates/{code}": {
            "get": {
                "operationId": "getCertificate",
                "summary": "Look up one certificate by its code",
                "parameters": [
                    {
                        "name": "code",
                        "in": "path",
                        "required": True,
                        "description": "The code as printed, in any case, with or without dashes.",
                        "schema": {"type": "string", "maxLength": 64},
                    }
                ],
                "responses": {
                    "200": _json({"$ref": "#/components/schemas/Result"}, "An issued certificate"),
                    "400": _json(
                        {"$ref": "#/components/schemas/Result"}, "A typo or not a code at all"
                    ),
                    "404": _json(
                        {"$ref": "#/components/schemas/Result"}, "Well-formed but never issued here"
                    ),
                    "429": _json({"$ref": "#/components/schemas/Error"}, "Too many requests"),
                },
            }
        },
        "/api/v1/certificates/verify": {
            "post": {
                "operationId": "verifyCertificates",
                "summary": "Look up to 100 certificates at once",
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
                                        "maxItems": 100,
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
                            "required": ["results"],
                            "properties": {
                                "results": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Result"},
                                }
                            },
                        },
                        "One result per code, in the order sent",
                    ),
                    "400": _json({"$ref": "#/components/schemas/Error"}, "A malformed body"),
                    "429": _json({"$ref": "#/components/schemas/Error"}, "Too many requests"),
                },
            }
        },
    },
    "components": {
        "schemas": {"Certificate": _CERTIFICATE, "Result": _RESULT, "Error": _ERROR},
    },
}
