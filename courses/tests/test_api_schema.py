"""The verification API keeps to its OpenAPI document (courses/api_schema.py, served at
/api/v1/openapi.json). Schemathesis reads the served document, generates requests from it (what
it allows, what it forbids, and methods it does not list), sends them to the Django WSGI
application in-process and runs every one of its checks on each response: a documented status,
content type, headers and body, valid data accepted, invalid data refused, 405 with the right
Allow header for an undeclared method, never a 5xx. Property-based tests add what the fuzzer
cannot guess (codes of real certificates, typed every way people type them); the rest pins each
edge a board's software may reach."""

import copy
import json
from dataclasses import dataclass
from urllib.parse import quote

import jsonschema_rs
import pytest
import schemathesis
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance

from accounts.tests.factories import LicenceFactory, UserFactory
from courses.api_schema import (
    DOCUMENT_PATH,
    MANY_PATH,
    MAX_CODES_PER_REQUEST,
    ONE_PATH,
    OPENAPI,
    declared_methods,
)
from courses.codes import ALPHABET, new_code, parse_code
from courses.credentials_record import CertificateKind
from courses.models import Certificate
from courses.selectors import public_record
from courses.services import credentials
from courses.tests.factories import (
    AccreditorFactory,
    ApprovalFactory,
    CourseFactory,
    EnrollmentFactory,
)

pytestmark = pytest.mark.django_db

load_all_checks()
EVERY_CHECK = CHECKS.get_all()
UNLIMITED = {"verify": 100_000, "verify_api": 100_000, "verify_pdf": 100_000}
FUZZ = hypothesis_settings(
    max_examples=100,
    deadline=None,
    database=None,  # no example database in the tree; a failure prints how to reproduce it
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
JSON = "application/json"


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


def _load(app) -> schemathesis.schemas.BaseSchema:
    """The document as clients get it, bound to the application, with every check turned on."""
    schema = schemathesis.openapi.from_wsgi(DOCUMENT_PATH, app)
    schema.config.checks.update(included_check_names=["all"])
    return schema


@pytest.fixture
def api(app):
    return _load(app)


@pytest.fixture
def unlimited(settings):
    settings.CEU_RATE_LIMITS = UNLIMITED


@pytest.fixture
def strict_client():
    """A client that sends no CSRF token and is held to CSRF checks, as a board's script is."""
    return Client(enforce_csrf_checks=True)


@dataclass
class Issued:
    valid: Certificate
    revoked: Certificate
    superseded: Certificate
    replacement: Certificate
    attendance: Certificate

    @property
    def all(self) -> list[Certificate]:
        return [self.valid, self.revoked, self.superseded, self.replacement, self.attendance]


def _certificate(user, *, licensed: bool = True) -> Certificate:
    if licensed:
        LicenceFactory(
            user=user,
            profession="clinical_social_worker",
            jurisdiction="NY",
            number="LCSW-R 0123456",
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
    """A certificate in each standing (valid, revoked, and superseded by a valid replacement),
    and one of attendance: its learner holds no licence any approval serves."""
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
    attendance = _certificate(UserFactory(full_name="Rosa Lindqvist"), licensed=False)
    return Issued(
        valid=valid,
        revoked=revoked,
        superseded=superseded,
        replacement=replacement,
        attendance=attendance,
    )


def _typo(code: str) -> str:
    return code[:-1] + ("A" if code[-1] != "A" else "B")


def _spellings(codes: list[str]) -> st.SearchStrategy[str]:
    """Ways people type an issued code: as printed, in lower case, without dashes or prefix,
    with spaces; and with a slip of the last character."""
    return st.sampled_from(codes).flatmap(
        lambda code: st.sampled_from(
            [
                code,
                code.lower(),
                code.replace("-", ""),
                code.replace("-", " "),
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


def _url(code: str) -> str:
    return ONE_PATH.replace("{code}", quote(code, safe=""))


def _documented(response, path: str, method: str) -> dict:
    """The JSON body of a response the test client got, checked against the document's
    schema for its operation and status, as schemathesis checks the responses it gets."""
    assert response["Content-Type"] == JSON
    documented = OPENAPI["paths"][path][method]["responses"][str(response.status_code)]
    schema = documented["content"][JSON]["schema"]
    body = response.json()
    jsonschema_rs.validator_for({**schema, "components": OPENAPI["components"]}).validate(body)
    return body


def _check_result(result: dict, *, http_status: int | None = None) -> None:
    """What the document says in prose: the certificate's status is the result's, and the
    HTTP status of a single lookup follows the result's."""
    if "certificate" in result:
        assert result["certificate"]["status"] == result["status"]
    if http_status is not None:
        expected = {"unknown": 404, "typo": 404, "malformed": 400}.get(result["status"], 200)
        assert http_status == expected


# --- Schemathesis, every phase and every check ---------------------------------------------------

# Loaded when the module is collected (the document view reads no database), so that pytest
# runs one test per documented operation.
whole_api = _load(WSGIHandler())


@whole_api.parametrize()
@hypothesis_settings(
    max_examples=300,  # per operation, besides the examples and coverage phases
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_schemathesis_finds_nothing_with_every_check(case, app, settings):
    """Examples, coverage (boundaries, every undeclared method, OPTIONS, wrong content types)
    and fuzzing (valid and invalid requests), each response run through every check. (`app`
    for its connection handling: the requests go to the application the schema was loaded
    with.)"""
    settings.CEU_RATE_LIMITS = UNLIMITED
    cache.clear()

    response = case.call_and_validate()

    assert response.headers["content-type"] == [JSON]


def test_every_check_is_on():
    config = whole_api.config.checks_config_for()
    turned_off = [
        name for name in CHECKS.get_all_names() if not config.get_by_name(name=name).enabled
    ]
    assert turned_off == []
    assert len(EVERY_CHECK) >= 10


# --- Property-based: real certificates, anything the document allows, and more -------------------


@pytest.fixture
def one_code_cases(api, issued):
    operation = api[ONE_PATH]["GET"]
    codes = st.one_of(_spellings([c.code for c in issued.all]), WELL_FORMED)
    return st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        codes.map(lambda code: operation.Case(path_parameters={"code": code})),
    )


@pytest.fixture
def many_codes_cases(api, issued):
    operation = api[MANY_PATH]["POST"]
    codes = st.lists(
        st.one_of(
            _spellings([c.code for c in issued.all]),
            WELL_FORMED,
            st.text(max_size=70),
            # Longer than a code can be: the API once cut what it echoed to 64 characters.
            st.text(min_size=65, max_size=300),
        ),
        min_size=1,
        max_size=MAX_CODES_PER_REQUEST,
    )
    return st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        codes.map(lambda codes: operation.Case(body={"codes": codes}, media_type=JSON)),
    )


@FUZZ
@given(data=st.data())
def test_looking_up_one_code_keeps_to_the_document(data, one_code_cases, unlimited):
    case = data.draw(one_code_cases, label="case")
    # The API only reads the database, so the test's certificates serve every example; what it
    # writes (rate-limit counts, the cached provider) is in the cache, cleared for each example.
    cache.clear()

    response = case.call_and_validate(checks=EVERY_CHECK)

    result = response.json()
    event(f"{response.status_code} {result.get('status')}")  # --hypothesis-show-statistics
    _check_result(result, http_status=response.status_code)


@FUZZ
@given(data=st.data())
def test_looking_up_many_codes_keeps_to_the_document(data, many_codes_cases, unlimited):
    """This test once failed about one run in thirty: hypothesis now and then drew a code
    longer than 64 characters, and the API echoed only its first 64. The API now echoes each
    code exactly as sent and reads it whole; long texts are drawn on every run."""
    case = data.draw(many_codes_cases, label="case")
    cache.clear()

    response = case.call_and_validate(checks=EVERY_CHECK)

    event(str(response.status_code))
    if response.status_code == 200:
        results = response.json()["results"]
        event("with a certificate" if any("certificate" in r for r in results) else "none issued")
        # "One result per code, in the order sent."
        assert [result["query"] for result in results] == case.body["codes"]
        for result in results:
            _check_result(result)


# --- The document ---------------------------------------------------------------------------------


def test_the_served_document_is_the_one_in_the_code(api):
    api.validate()  # a valid OpenAPI 3.1 document

    served = {key: value for key, value in api.raw_schema.items() if key != "servers"}
    assert served == json.loads(json.dumps(OPENAPI))
    assert api.raw_schema["servers"] == [{"url": "http://localhost"}]
    # Schemathesis leaves out the operation that serves the document itself.
    operations = {
        (result.ok().method.upper(), result.ok().path) for result in api.get_all_operations()
    }
    assert operations == {("GET", ONE_PATH), ("POST", MANY_PATH)}
    assert set(OPENAPI["paths"]) == {ONE_PATH, MANY_PATH, DOCUMENT_PATH}


def test_the_document_names_every_field_of_the_record(issued):
    """Every field the API sends is in the document and required there; nothing else is."""
    certificate = OPENAPI["components"]["schemas"]["Certificate"]
    record = {**public_record(issued.valid), "verify_url": "…"}

    assert set(certificate["properties"]) == set(record) == set(certificate["required"])
    assert certificate["additionalProperties"] is False
    for name in ("licences", "credits"):
        items = certificate["properties"][name]["items"]
        assert set(items["properties"]) == set(record[name][0]) == set(items["required"])
    provider = certificate["properties"]["provider"]
    assert set(provider["properties"]) == set(record["provider"]) == set(provider["required"])


def test_the_kind_of_certificate_is_documented_and_sent(api, issued, unlimited):
    """A board tells credit from attendance: `kind` is a required field, one of the kinds the
    record knows, and a certificate of attendance awards no hours."""
    kind = OPENAPI["components"]["schemas"]["Certificate"]["properties"]["kind"]
    assert kind["enum"] == [k.value for k in CertificateKind] == ["credit", "attendance"]
    assert "kind" in OPENAPI["components"]["schemas"]["Certificate"]["required"]

    answers = {}
    for certificate in (issued.valid, issued.attendance):
        case = api[ONE_PATH]["GET"].Case(path_parameters={"code": certificate.code})
        answers[certificate] = case.call_and_validate(checks=EVERY_CHECK).json()["certificate"]

    assert answers[issued.valid]["kind"] == "credit"
    assert answers[issued.valid]["ce_hours"] != "0"
    assert [credit["accreditor"] for credit in answers[issued.valid]["credits"]] == ["ASWB"]
    assert answers[issued.attendance]["kind"] == "attendance"
    assert answers[issued.attendance]["ce_hours"] == "0"


def test_the_schema_check_has_teeth(app, issued, unlimited):
    """The same responses fail against a document that asks for more, or allows less: the
    certificate is really checked against the Certificate component, through each reference."""
    stricter = copy.deepcopy(OPENAPI)
    stricter["components"]["schemas"]["Certificate"]["required"].append("not_in_the_api")
    fewer = copy.deepcopy(OPENAPI)
    del fewer["components"]["schemas"]["Certificate"]["properties"]["kind"]
    fewer["components"]["schemas"]["Certificate"]["required"].remove("kind")

    for document in (stricter, fewer):
        schema = schemathesis.openapi.from_dict(document)
        one = schema[ONE_PATH]["GET"].Case(path_parameters={"code": issued.valid.code})
        many = schema[MANY_PATH]["POST"].Case(
            body={"codes": [issued.revoked.code]}, media_type=JSON
        )
        for case in (one, many):
            with pytest.raises(FailureGroup, match="Response violates schema"):
                case.call_and_validate(app=app, checks=[response_schema_conformance])


# --- Real certificates, one by one ---------------------------------------------------------------


@pytest.mark.parametrize("standing", ["valid", "revoked", "superseded", "replacement"])
@pytest.mark.parametrize(
    "spelling", [str, str.lower, lambda code: code.replace("-", ""), lambda c: f" {c} "]
)
def test_an_issued_certificate_is_answered_in_full(api, issued, unlimited, standing, spelling):
    certificate = getattr(issued, standing)
    case = api[ONE_PATH]["GET"].Case(path_parameters={"code": spelling(certificate.code)})

    response = case.call_and_validate(checks=EVERY_CHECK)

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


def test_many_codes_are_answered_in_order_in_one_query(
    api, issued, unlimited, django_assert_num_queries
):
    codes = [
        issued.valid.code,
        issued.revoked.code.lower(),
        issued.superseded.code.replace("-", ""),
        issued.replacement.code.removeprefix("CEU-"),
        _typo(issued.valid.code),
        new_code(),
        "nonsense",
        "",
        *[issued.attendance.code] * 50,
    ]
    case = api[MANY_PATH]["POST"].Case(body={"codes": codes}, media_type=JSON)

    with django_assert_num_queries(1):  # every certificate asked about, in one query
        response = case.call(headers={"Content-Type": JSON})
    case.validate_response(response, checks=EVERY_CHECK)

    assert response.status_code == 200
    results = response.json()["results"]
    assert [result["query"] for result in results] == codes
    assert [result["status"] for result in results[:8]] == [
        "valid",
        "revoked",
        "superseded",
        "valid",
        "typo",
        "unknown",
        "malformed",
        "malformed",
    ]
    assert [result["certificate"]["code"] for result in results[:4]] == [
        c.code for c in issued.all[:4]
    ]
    for result in results:
        _check_result(result)


# --- What the document says a code is -----------------------------------------------------------


CODE_SCHEMA = jsonschema_rs.validator_for(
    OPENAPI["paths"][ONE_PATH]["get"]["parameters"][0]["schema"]
)


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param(lambda issued: issued.valid.code, id="as printed"),
        pytest.param(lambda issued: issued.valid.code.lower().replace("-", " "), id="spaced"),
        pytest.param(lambda issued: f"-- {issued.valid.code} --", id="padded"),
        pytest.param(lambda issued: _typo(issued.valid.code), id="typo"),
        pytest.param(lambda issued: new_code(), id="never issued"),
        pytest.param(lambda issued: "0", id="a digit"),
        pytest.param(lambda issued: "nonsense", id="a word"),
        pytest.param(lambda issued: issued.valid.code + "A", id="seventeen characters"),
        pytest.param(lambda issued: issued.valid.code + "\t", id="tab"),
        pytest.param(lambda issued: "CEU-7K3M-Q9XZ-4T2P-HW8O", id="letter O"),
        pytest.param(lambda issued: issued.valid.code + "/", id="trailing slash"),
        pytest.param(lambda issued: "a/b", id="slash"),
        pytest.param(lambda issued: "ſ" * 16, id="long s"),
    ],
)
def test_a_code_is_refused_exactly_when_the_document_says_it_cannot_be_one(
    strict_client, issued, unlimited, typed
):
    """Text the document allows is looked up (200, or 404 for a typo or a code never issued);
    only text it forbids is refused with 400. Today "0" and typos, which the document allowed,
    were refused."""
    code = typed(issued)

    # The test client, not schemathesis: it sends tabs and slashes percent-encoded, as given.
    response = strict_client.get(_url(code))

    result = _documented(response, ONE_PATH, "get")
    assert result["query"] == code
    assert (response.status_code == 400) == (not CODE_SCHEMA.is_valid(code))
    _check_result(result, http_status=response.status_code)


# --- Methods --------------------------------------------------------------------------------------

PATHS = {ONE_PATH: _url("CEU-7K3M-Q9XZ-4T2P-HW8C"), MANY_PATH: MANY_PATH, DOCUMENT_PATH: None}


@pytest.mark.parametrize("path", PATHS)
def test_options_names_exactly_the_methods_the_document_lists(strict_client, path):
    response = strict_client.options(PATHS[path] or path)

    assert response.status_code == 200
    assert response["Allow"] == ", ".join(declared_methods(path))
    assert response["Content-Type"] == JSON
    assert response.json()["allow"] == declared_methods(path)


@pytest.mark.parametrize(
    ("path", "method"),
    [
        (ONE_PATH, "POST"),
        (ONE_PATH, "PUT"),
        (ONE_PATH, "PATCH"),
        (ONE_PATH, "DELETE"),
        (ONE_PATH, "TRACE"),
        (ONE_PATH, "QUERY"),
        (MANY_PATH, "GET"),
        (MANY_PATH, "PUT"),
        (MANY_PATH, "DELETE"),
        (DOCUMENT_PATH, "POST"),
        (DOCUMENT_PATH, "DELETE"),
    ],
)
def test_an_undeclared_method_gets_405_in_json_naming_the_declared_ones(
    strict_client, unlimited, path, method
):
    """Not a 403 page from the CSRF check, nor a lookup of the code "verify": 405, in JSON."""
    response = strict_client.generic(method, PATHS[path] or path, b'{"codes": ["x"]}', JSON)

    assert response.status_code == 405
    assert response["Allow"] == ", ".join(declared_methods(path))
    assert response["Content-Type"] == JSON
    assert " ".join(declared_methods(path)) in response.json()["error"]


def test_head_answers_as_get_does(strict_client, issued, unlimited):
    for url, status in ((_url(issued.valid.code), 200), (_url(new_code()), 404), (_url("0"), 400)):
        assert strict_client.head(url).status_code == status
    assert strict_client.head(DOCUMENT_PATH).status_code == 200


def test_the_api_takes_no_csrf_token_and_sets_no_cookie(strict_client, issued, unlimited):
    response = strict_client.post(MANY_PATH, {"codes": [issued.valid.code]}, content_type=JSON)

    assert response.status_code == 200
    assert response.cookies == {}


# --- Every path under /api/ answers JSON --------------------------------------------------------


@pytest.mark.parametrize(
    "code", ["", "a/b", "CEU-7K3M/Q9XZ-4T2P-HW8R", "x/", "/", "../../admin", "line\nbreak"]
)
def test_a_code_with_a_slash_or_none_at_all_is_answered_as_documented(
    strict_client, unlimited, code
):
    """Today these got the site's HTML 404 page."""
    response = strict_client.get(_url(code))

    assert response.status_code == 400
    assert _documented(response, ONE_PATH, "get") == {
        "query": code,
        "status": "malformed",
        "message": "That is not a certificate code: codes look like CEU-7K3M-Q9XZ-4T2P-HW8C.",
    }


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/certificates/",
        "/api/v1/certificates/CEU-7K3M-Q9XZ-4T2P-HW8C/",
        "/api/v1/certificates/a/b",
        "/api/v1/certificates/a%2Fb",
        "/api/v1/certificates",
        "/api/v1/certificate/CEU-7K3M-Q9XZ-4T2P-HW8C",
        "/api/v1/",
        "/api/v1",
        "/api/v1/openapi.yaml",
        "/api/v2/certificates/CEU-7K3M-Q9XZ-4T2P-HW8C",
        "/api/",
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_every_path_under_the_api_answers_json(strict_client, unlimited, path, method):
    response = strict_client.generic(method, path, b"{}", JSON)

    assert response.status_code in {400, 404, 405}
    assert response["Content-Type"] == JSON
    body = response.json()
    assert body.get("error") or body.get("message")
    if response.status_code == 404:
        assert "/api/v1/openapi.json" in body["error"]


# --- Codes echoed as sent -----------------------------------------------------------------------


def test_each_code_is_echoed_exactly_as_sent_and_read_whole(api, issued, unlimited):
    """Today the API echoed the first 64 characters of a code and read only those: text that
    merely began with a certificate's code was answered as that certificate."""
    codes = [
        "X" * 65,
        issued.valid.code + " " * 60 + "and then some",
        "é" * 70,
        "\ud800 lone surrogate",
        "😀" * 100,
        "\x00",
    ]
    case = api[MANY_PATH]["POST"].Case(body={"codes": ["x"]}, media_type=JSON)

    response = case.call_and_validate(data=json.dumps({"codes": codes}), checks=EVERY_CHECK)

    results = response.json()["results"]
    assert [result["query"] for result in results] == codes
    assert {result["status"] for result in results} == {"malformed"}


def test_one_code_is_echoed_exactly_as_sent(api, issued, unlimited):
    code = issued.valid.code + " " * 60 + "x"
    case = api[ONE_PATH]["GET"].Case(path_parameters={"code": code})

    response = case.call_and_validate(checks=EVERY_CHECK)

    assert response.status_code == 400
    assert response.json()["query"] == code


# --- Bad bodies -----------------------------------------------------------------------------------

ASK_FOR_JSON = 'Send JSON like {"codes": ["CEU-7K3M-Q9XZ-4T2P-HW8C"]}.'


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"", ASK_FOR_JSON),
        (b"not json", ASK_FOR_JSON),
        (b"\xff\xfe\x00", ASK_FOR_JSON),
        (b"null", ASK_FOR_JSON),
        (b"[]", ASK_FOR_JSON),
        (b'"codes"', ASK_FOR_JSON),
        (b"{}", ASK_FOR_JSON),
        (b'{"codes": "CEU"}', ASK_FOR_JSON),
        (b'{"codes": null}', ASK_FOR_JSON),
        (b'{"codes": [1, 2]}', ASK_FOR_JSON),
        (b'{"codes": [NaN]}', ASK_FOR_JSON),
        (b'{"codes": ["x", ["y"]]}', ASK_FOR_JSON),
        (b'{"codes": [' + b"9" * 5000 + b"]}", ASK_FOR_JSON),
        (b'{"codes": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", ASK_FOR_JSON),
        (b'{"codes": ["' + b"A" * 3_000_000 + b'"]}', ASK_FOR_JSON),
        (b'{"codes": []}', "Send between 1 and 100 codes."),
        (json.dumps({"codes": ["x"] * 101}).encode(), "Send between 1 and 100 codes."),
    ],
    ids=lambda value: value[:20] if isinstance(value, bytes) else None,
)
def test_a_bad_body_gets_400_saying_what_to_send(api, unlimited, body, error):
    case = api[MANY_PATH]["POST"].Case(body={"codes": ["x"]}, media_type=JSON)

    response = case.call_and_validate(data=body, checks=EVERY_CHECK)

    assert response.status_code == 400
    assert response.json() == {"error": error}


@pytest.mark.parametrize("content_type", ["text/plain", "multipart/form-data", None])
def test_the_body_is_read_as_json_whatever_it_is_labelled(
    strict_client, issued, unlimited, content_type
):
    body = json.dumps({"codes": [issued.valid.code]})

    response = strict_client.generic("POST", MANY_PATH, body, content_type or "")

    assert response.status_code == 200
    assert response.json()["results"][0]["status"] == "valid"


# --- Rate limit ----------------------------------------------------------------------------------


def test_a_rate_limited_client_gets_the_documented_error(api, issued, settings, time_machine):
    settings.CEU_RATE_LIMITS = {**UNLIMITED, "verify_api": 2}
    # The limit counts per minute: mid-minute, with the clock still, no new minute resets it.
    time_machine.move_to(timezone.now().replace(second=30), tick=False)
    one = api[ONE_PATH]["GET"].Case(path_parameters={"code": issued.valid.code})
    many = api[MANY_PATH]["POST"].Case(body={"codes": [issued.valid.code]}, media_type=JSON)

    assert one.call_and_validate(checks=EVERY_CHECK).status_code == 200
    assert many.call_and_validate(checks=EVERY_CHECK).status_code == 200
    for case in (one, many):
        # Every check includes the headers' one: Retry-After is as the document describes.
        response = case.call_and_validate(checks=EVERY_CHECK)
        assert response.status_code == 429
        assert set(response.json()) == {"error"}
        assert "at most 2 a minute" in response.json()["error"]
        assert 0 < int(response.headers["retry-after"][0]) <= 60
    for path, method in ((ONE_PATH, "get"), (MANY_PATH, "post")):
        limited = OPENAPI["paths"][path][method]["responses"]["429"]
        assert limited["headers"]["Retry-After"]["required"] is True
