"""The verification API keeps to its OpenAPI document (courses/api_schema.py, served at
/api/v1/openapi.json): schemathesis reads the served document, generates requests from it, sends
them to the Django WSGI application in-process and checks each response against the document:
a documented status, the documented content type, a body matching the schema, never a 5xx."""

import copy
import json
from dataclasses import dataclass

import pytest
import schemathesis
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup

from accounts.tests.factories import LicenceFactory, UserFactory
from courses.api_schema import OPENAPI
from courses.codes import ALPHABET, new_code, parse_code
from courses.models import Certificate
from courses.services import credentials
from courses.tests.factories import (
    AccreditorFactory,
    ApprovalFactory,
    CourseFactory,
    EnrollmentFactory,
)

pytestmark = pytest.mark.django_db

ONE = "/api/v1/certificates/{code}"
MANY = "/api/v1/certificates/verify"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
UNLIMITED = {"verify": 100_000, "verify_api": 100_000, "verify_pdf": 100_000}
FUZZ = hypothesis_settings(
    max_examples=50,
    deadline=None,
    database=None,  # no example database; a failure prints how to reproduce it
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# --- The application and its document -----------------------------------------------------------


@pytest.fixture
def app():
    """Django's WSGI application as a server runs it, less the connection housekeeping around
    each request (as Django's own test client does): the test's transaction, which holds the
    certificates, must outlive every request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def api(app):
    """The document as clients get it, bound to the application."""
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def unlimited(settings):
    settings.CEU_RATE_LIMITS = UNLIMITED


@dataclass
class Issued:
    valid: Certificate
    revoked: Certificate
    superseded: Certificate
    replacement: Certificate

    @property
    def all(self) -> list[Certificate]:
        return [self.valid, self.revoked, self.superseded, self.replacement]


def _certificate(user) -> Certificate:
    LicenceFactory(
        user=user, profession="clinical_social_worker", jurisdiction="NY", number="LCSW-R 0123456"
    )
    course = CourseFactory(title="Ruptures and ghosting — a second look")
    ApprovalFactory(
        course=course,
        accreditor=AccreditorFactory(short_name="ASWB", professions=["clinical_social_worker"]),
        credit_type="clinical",
        approval_code="C-42",
    )
    enrollment = EnrollmentFactory(user=user, course=course, completed_at=timezone.now())
    return credentials.issue_certificate(enrollment=enrollment)


@pytest.fixture
def issued(learner) -> Issued:
    """A certificate in each standing: valid, revoked, and superseded by a valid replacement."""
    registrar = UserFactory(is_staff=True)
    valid = _certificate(learner)
    revoked = credentials.revoke_certificate(
        certificate=_certificate(UserFactory(full_name="Zoë Ngọc Đặng")),
        reason="Attendance could not be confirmed — « présence » non vérifiée.",
        acting_user=registrar,
    )
    superseded = _certificate(UserFactory(full_name="Sam Okafor"))
    replacement = credentials.reissue_certificate(
        certificate=superseded, acting_user=registrar, reason="Name corrected."
    )
    superseded.refresh_from_db()
    return Issued(valid=valid, revoked=revoked, superseded=superseded, replacement=replacement)


def _typo(code: str) -> str:
    return code[:-1] + ("A" if code[-1] != "A" else "B")


def _spellings(codes: list[str]) -> st.SearchStrategy[str]:
    """Ways people type an issued code: as printed, in lower case, without dashes or prefix;
    and with a slip of the last character."""
    return st.sampled_from(codes).flatmap(
        lambda code: st.sampled_from(
            [
                code,
                code.lower(),
                code.replace("-", ""),
                code.removeprefix("CEU-"),
                code.removeprefix("CEU-").replace("-", "").lower(),
                _typo(code),
            ]
        )
    )


def _with_check_character(body: str) -> str:
    return next(code for code in (body + check for check in ALPHABET) if not parse_code(code)[1])


# Well-formed codes (right length, alphabet and check character), never issued here.
WELL_FORMED = st.text(alphabet=ALPHABET, min_size=15, max_size=15).map(_with_check_character)


def _check_result(result: dict, *, http_status: int | None = None) -> None:
    """What the document says in prose: a certificate comes with the statuses of an issued
    one, and the HTTP status follows the result's."""
    issued = result["status"] in {"valid", "revoked", "superseded"}
    assert ("certificate" in result) == issued
    if issued:
        assert result["certificate"]["status"] == result["status"]
    if http_status is not None:
        expected = {"unknown": 404, "typo": 400, "malformed": 400}.get(result["status"], 200)
        assert http_status == expected


# --- Property-based: anything the document allows, and some it does not ------------------------


@pytest.fixture
def one_code_cases(api, issued):
    operation = api[ONE]["GET"]
    codes = st.one_of(_spellings([c.code for c in issued.all]), WELL_FORMED)
    return st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        codes.map(lambda code: operation.Case(path_parameters={"code": code})),
    )


@pytest.fixture
def many_codes_cases(api, issued):
    operation = api[MANY]["POST"]
    codes = st.lists(
        st.one_of(_spellings([c.code for c in issued.all]), WELL_FORMED, st.text(max_size=70)),
        min_size=1,
        max_size=100,
    )
    return st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        codes.map(
            lambda codes: operation.Case(body={"codes": codes}, media_type="application/json")
        ),
    )


@FUZZ
@given(data=st.data())
def test_looking_up_one_code_keeps_to_the_document(data, one_code_cases, unlimited):
    case = data.draw(one_code_cases, label="case")
    # The API only reads the database, so the test's certificates serve every example; what it
    # writes (rate-limit counts, the cached provider) is in the cache, cleared for each example.
    cache.clear()

    response = case.call_and_validate(checks=CHECKS)

    result = response.json()
    event(f"{response.status_code} {result.get('status')}")  # --hypothesis-show-statistics
    if response.status_code != 429:
        _check_result(result, http_status=response.status_code)


@FUZZ
@given(data=st.data())
def test_looking_up_many_codes_keeps_to_the_document(data, many_codes_cases, unlimited):
    case = data.draw(many_codes_cases, label="case")
    cache.clear()

    response = case.call_and_validate(checks=CHECKS)

    event(str(response.status_code))
    if response.status_code == 200:
        results = response.json()["results"]
        event("with a certificate" if any("certificate" in r for r in results) else "none issued")
        # "One result per code, in the order sent."
        assert [result["query"] for result in results] == case.body["codes"]
        for result in results:
            _check_result(result)


# --- Real certificates, one by one ---------------------------------------------------------------


def test_the_served_document_is_the_one_in_the_code(api):
    api.validate()  # a valid OpenAPI 3.1 document

    served = {key: value for key, value in api.raw_schema.items() if key != "servers"}
    assert served == json.loads(json.dumps(OPENAPI))
    assert api.raw_schema["servers"] == [{"url": "http://localhost"}]
    operations = {
        (result.ok().method.upper(), result.ok().path) for result in api.get_all_operations()
    }
    assert operations == {("GET", ONE), ("POST", MANY)}


@pytest.mark.parametrize("standing", ["valid", "revoked", "superseded", "replacement"])
@pytest.mark.parametrize("spelling", [str, str.lower, lambda code: code.replace("-", "")])
def test_an_issued_certificate_is_answered_in_full(api, issued, unlimited, standing, spelling):
    certificate = getattr(issued, standing)
    case = api[ONE]["GET"].Case(path_parameters={"code": spelling(certificate.code)})

    response = case.call_and_validate(checks=CHECKS)

    assert response.status_code == 200
    result = response.json()
    _check_result(result, http_status=200)
    record = result["certificate"]
    assert record["code"] == certificate.code
    assert record["status"] == certificate.status
    assert record["verify_url"].endswith(f"/verify/{certificate.code}/")
    assert record["licences"] == [
        {"profession": "Clinical social worker", "jurisdiction": "New York", "number_last4": "3456"}
    ]
    assert [credit["accreditor"] for credit in record["credits"]] == ["ASWB"]
    if standing == "revoked":
        assert record["revoked"]["reason"].startswith("Attendance could not be confirmed")
    else:
        assert record["revoked"] is None
    if standing == "superseded":
        assert record["superseded_by"] == issued.replacement.code
    else:
        assert record["superseded_by"] is None


def test_many_codes_are_answered_in_order(api, issued, unlimited):
    codes = [
        issued.valid.code,
        issued.revoked.code.lower(),
        issued.superseded.code.replace("-", ""),
        issued.replacement.code.removeprefix("CEU-"),
        _typo(issued.valid.code),
        new_code(),
        "nonsense",
        "",
    ]
    case = api[MANY]["POST"].Case(body={"codes": codes}, media_type="application/json")

    response = case.call_and_validate(checks=CHECKS)

    assert response.status_code == 200
    results = response.json()["results"]
    assert [result["query"] for result in results] == codes
    assert [result["status"] for result in results] == [
        "valid",
        "revoked",
        "superseded",
        "valid",
        "typo",
        "unknown",
        "malformed",
        "malformed",
    ]
    assert [result["certificate"]["code"] for result in results[:4]] == [c.code for c in issued.all]
    for result in results:
        _check_result(result)


def test_the_schema_check_has_teeth(app, issued, unlimited):
    """The same responses fail against a document that asks for more: the certificate body is
    really checked against the Certificate component, through the Result's reference."""
    stricter = copy.deepcopy(OPENAPI)
    stricter["components"]["schemas"]["Certificate"]["required"].append("not_in_the_api")
    schema = schemathesis.openapi.from_dict(stricter)
    one = schema[ONE]["GET"].Case(path_parameters={"code": issued.valid.code})
    many = schema[MANY]["POST"].Case(
        body={"codes": [issued.revoked.code]}, media_type="application/json"
    )

    for case in (one, many):
        with pytest.raises(FailureGroup, match="not_in_the_api"):
            case.call_and_validate(app=app, checks=[response_schema_conformance])


# --- Rate limit ----------------------------------------------------------------------------------


def test_a_rate_limited_client_gets_the_documented_error(api, issued, settings):
    settings.CEU_RATE_LIMITS = {**UNLIMITED, "verify_api": 2}
    one = api[ONE]["GET"].Case(path_parameters={"code": issued.valid.code})
    many = api[MANY]["POST"].Case(
        body={"codes": [issued.valid.code]}, media_type="application/json"
    )

    assert one.call_and_validate(checks=CHECKS).status_code == 200
    assert many.call_and_validate(checks=CHECKS).status_code == 200
    for case in (one, many):
        response = case.call_and_validate(checks=CHECKS)
        assert response.status_code == 429
        assert set(response.json()) == {"error"}
        assert "at most 2 a minute" in response.json()["error"]
        assert 0 < int(response.headers["retry-after"][0]) <= 60


# --- Edges the fuzzer does not reach by itself ---------------------------------------------------


def test_the_code_verify_is_looked_up_like_any_other(api, unlimited):
    case = api[ONE]["GET"].Case(path_parameters={"code": "verify"})

    case.call_and_validate(checks=CHECKS)


def test_a_lone_surrogate_in_a_code_is_answered(api, unlimited):
    case = api[MANY]["POST"].Case(body={"codes": ["x"]}, media_type="application/json")

    case.call_and_validate(data=b'{"codes": ["\\ud800"]}', checks=CHECKS)


def test_a_deeply_nested_body_is_refused_as_documented(api, unlimited):
    case = api[MANY]["POST"].Case(body={"codes": ["x"]}, media_type="application/json")
    depth = 100_000

    case.call_and_validate(data=b'{"codes": ' + b"[" * depth + b"]" * depth + b"}", checks=CHECKS)


def test_an_oversized_body_is_refused_as_documented(api, unlimited):
    case = api[MANY]["POST"].Case(body={"codes": ["x"]}, media_type="application/json")

    case.call_and_validate(data=b'{"codes": ["' + b"A" * 3_000_000 + b'"]}', checks=CHECKS)
