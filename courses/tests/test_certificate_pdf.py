"""The certificate PDF: every field a board asks for is in its text; one landscape page in US
Letter and A4, however long the title, the name or the list of approvals; names in any script;
a QR code that opens the verify page; the snapshot embedded as certificate.json in a PDF/A-3b
file; and nothing fetched from anywhere but the project's static folders.

Needs poppler-utils (pdftotext, pdftoppm) and the zxing-cpp wheel to decode the QR code; without
them these tests skip, and fail under CI=true."""

from __future__ import annotations

import copy
import io
import itertools
import json
import re
import shutil
import subprocess
import threading
import unicodedata
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings
from pypdf import PdfReader
from weasyprint import HTML
from weasyprint.formatting_structure import boxes
from weasyprint.urls import FatalURLFetchingError

from ceu.testing.services import in_ci
from courses.credentials_record import CertificateRecord
from courses.services import qr
from courses.services.certificate_pdf import (
    _DENSITIES,
    QR_URL,
    ForbiddenURL,
    StaticFilesOnlyFetcher,
    _context,
    _fits,
    _page_size,
    _render_document,
    certificate_fetcher,
    minimal_pdf,
    render_certificate_pdf,
    static_base_url,
)

VERIFY_URL = "https://ce.example.org/verify/CEU-7K3M-Q9XZ-4T2P-HW8C/"

ASWB_STATEMENT = (
    "Sample CE Provider (demo), provider #SAMPLE-0000, is approved as an ACE provider to offer "
    "social work continuing education by the Association of Social Work Boards (ASWB) Approved "
    "Continuing Education (ACE) program. Regulatory boards are the final authority on courses "
    "accepted for continuing education credit. ACE provider approval period: 01/01/2026-"
    "01/01/2029. Social workers completing this course receive 0.5 clinical continuing education "
    "credits."
)
NBCC_STATEMENT = (
    "Sample CE Provider (demo) has been approved by NBCC as an Approved Continuing Education "
    "Provider, ACEP No. 0000. Programs that do not qualify for NBCC credit are clearly "
    "identified. Sample CE Provider (demo) is solely responsible for all aspects of the programs."
)

SNAPSHOT = {
    "schema_version": 3,
    "code": "CEU-7K3M-Q9XZ-4T2P-HW8C",
    "kind": "credit",
    "learner_name": "Zoë Ramírez-Núñez",
    "licences": [
        {
            "profession": "Clinical social worker",
            "profession_code": "clinical_social_worker",
            "jurisdiction": "New York",
            "jurisdiction_code": "NY",
            "number": "LCSW-R 0123456",
        },
        {
            "profession": "Licensed professional counselor",
            "profession_code": "professional_counselor",
            "jurisdiction": "Texas",
            "jurisdiction_code": "TX",
            "number": "LPC-00417",
        },
    ],
    "course_title": "When Clients Disappear: Ruptures, Ghosting, and Re-Engaging Stuck Clients",
    "course_slug": "when-clients-disappear",
    "ce_hours": "0.5",
    "course_hours": "0.5",
    "format": "Home study: recorded audio",
    "self_study": True,
    "completion_date": "2026-11-26",
    "presenter": "Jordan Avery, PhD, LMFT",
    "provider": {
        "name": "Sample CE Provider (demo)",
        "address": "100 Example Street, Suite 200\nSpringfield, ST 00000",
        "email": "ce@example.org",
        "phone": "(555) 010-0100",
        "website": "https://ce.example.org",
        "configured": False,
    },
    "approvals": [
        {
            "accreditor": "ASWB ACE",
            "accreditor_name": "Association of Social Work Boards Approved Continuing Education",
            "provider_number": "SAMPLE-0000",
            "hours": "0.5",
            "credit_type": "clinical",
            "approval_code": "SAMPLE-001",
            "statement": ASWB_STATEMENT,
            "professions": ["clinical_social_worker"],
            "body": "ASWB ACE",
            "subjects": [],
        },
        {
            "accreditor": "NBCC",
            "accreditor_name": "National Board for Certified Counselors",
            "provider_number": "ACEP-0000",
            "hours": "0.5",
            "credit_type": "general",
            "approval_code": "",
            "statement": NBCC_STATEMENT,
            "professions": ["professional_counselor"],
            "body": "NBCC",
            "subjects": ["law-and-ethics"],
        },
    ],
    "issued_at": "2026-11-26T14:03:00+00:00",
}

# Bidirectional controls pdftotext puts around right-to-left runs.
_BIDI_CONTROLS = dict.fromkeys(
    [0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)], None
)


def snapshot(**changes) -> dict:
    data = copy.deepcopy(SNAPSHOT)
    data.update(changes)
    return data


def configured(data: dict) -> dict:
    data["provider"]["configured"] = True
    return data


# --- Tools ------------------------------------------------------------------------------------


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed: apt-get install --no-install-recommends poppler-utils"
        if in_ci():
            pytest.fail(f"CI=true and {message}", pytrace=False)
        pytest.skip(message)
    return path


def _zxingcpp():
    try:
        import zxingcpp
    except ImportError:
        message = "zxing-cpp is not installed: .venv/bin/pip install zxing-cpp"
        if in_ci():
            pytest.fail(f"CI=true and {message}", pytrace=False)
        pytest.skip(message)
    return zxingcpp


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """The PDF's text as pdftotext reads it, NFKC-normalised, bidi controls dropped, and every
    run of white space made one space (statements wrap over several lines)."""
    source = tmp_path / "text.pdf"
    source.write_bytes(pdf)
    result = subprocess.run(
        [_tool("pdftotext"), "-enc", "UTF-8", str(source), "-"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    text = unicodedata.normalize("NFKC", result.stdout.decode()).translate(_BIDI_CONTROLS)
    return " ".join(text.split())


def nfkc(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


def squash(text: str) -> str:
    """`text` without white space and hyphens, to find a long text that wraps: a line may break
    after a hyphen or a slash, and pdftotext joins "Re-" at a line's end and "Engaging" at the
    next one's start as "ReEngaging"."""
    return re.sub(r"[\s-]+", "", unicodedata.normalize("NFKC", text))


def text_runs(pdf: bytes) -> list[tuple[str, str]]:
    """(text, font name) for each run of text on the first page, read by pypdf."""
    runs = []

    def visit(text, _cm, _tm, font_dict, _size):
        if text.strip() and font_dict is not None:
            runs.append((text, str(font_dict.get("/BaseFont", ""))))

    PdfReader(io.BytesIO(pdf)).pages[0].extract_text(visitor_text=visit)
    return runs


def font_names(pdf: bytes) -> set[str]:
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    fonts = page["/Resources"]["/Font"]
    return {str(ref.get_object()["/BaseFont"]).split("+", 1)[-1] for ref in fonts.values()}


# --- Renders shared by several tests ------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_pdf() -> bytes:
    return render_certificate_pdf(snapshot(), verify_url=VERIFY_URL)


@pytest.fixture(scope="module")
def configured_pdf() -> bytes:
    return render_certificate_pdf(configured(snapshot()), verify_url=VERIFY_URL, page_size="a4")


# --- What the certificate shows -----------------------------------------------------------------


def test_text_carries_every_field(sample_pdf, tmp_path):
    text = pdf_text(sample_pdf, tmp_path)
    data = SNAPSHOT
    expected = [
        data["learner_name"],
        data["course_title"],
        "0.5 CE hours",
        data["format"],
        "November 26, 2026",
        data["presenter"],
        data["provider"]["name"],
        data["provider"]["email"],
        data["provider"]["phone"],
        "100 Example Street, Suite 200, Springfield, ST 00000",
        data["code"],
        "Certificate of Completion",
        "has completed",
        "Continuing Education Administrator",
        "Sample: not valid for credit",
    ]
    for licence in data["licences"]:
        expected += [licence["profession"], licence["jurisdiction"], licence["number"]]
    for approval in data["approvals"]:
        expected += [
            approval["provider_number"],
            f"{approval['hours']} {approval['credit_type']} CE hours",
            approval["statement"],
        ]
    expected.append(f"Verify at {VERIFY_URL}")
    folded = squash(text).casefold()
    missing = [item for item in expected if squash(item).casefold() not in folded]
    assert not missing, f"missing from the PDF's text: {missing}\n---\n{text}"


def test_sample_notice_only_when_the_provider_is_not_configured(configured_pdf, tmp_path):
    text = pdf_text(configured_pdf, tmp_path)
    assert SNAPSHOT["learner_name"] in text
    assert "not valid for credit" not in text.casefold()
    assert "sample:" not in text.casefold()


def test_issue_date_is_the_sites_local_date(settings, tmp_path):
    settings.TIME_ZONE = "America/New_York"
    data = snapshot(issued_at="2026-11-27T03:30:00+00:00")  # 22:30 on the 26th in New York
    text = pdf_text(render_certificate_pdf(data, verify_url=VERIFY_URL), tmp_path)
    assert "Issued November 26, 2026" in text


def test_one_hour_is_singular(tmp_path):
    data = snapshot(ce_hours="1")
    data["approvals"] = [dict(SNAPSHOT["approvals"][0], hours="1.0")]
    text = pdf_text(render_certificate_pdf(data, verify_url=VERIFY_URL), tmp_path)
    assert "1 CE hour " in text
    assert "1.0 clinical CE hour " in text


def test_no_licences_no_approvals_no_presenter(tmp_path):
    data = snapshot(licences=[], approvals=[], presenter="")
    text = pdf_text(render_certificate_pdf(data, verify_url=VERIFY_URL), tmp_path)
    assert SNAPSHOT["learner_name"] in text
    assert "licence no." not in text
    assert "Presenter" not in text


def test_a_certificate_of_attendance_prints_no_hours_and_says_so(tmp_path):
    data = snapshot(kind="attendance", ce_hours="0", approvals=[])
    pdf = render_certificate_pdf(data, verify_url=VERIFY_URL)
    text = pdf_text(pdf, tmp_path)

    assert "Certificate of Attendance" in text
    assert "Certificate of attendance: no CE credit" in text
    assert "Certificate of Completion" not in text
    assert "CE HOURS" not in text  # no hours among the facts
    assert not re.search(r"\d CE hour", text)
    assert "0.5" not in text
    assert SNAPSHOT["learner_name"] in text
    assert squash(SNAPSHOT["course_title"]) in squash(text)
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    (content,) = dict(PdfReader(io.BytesIO(pdf)).attachments)["certificate.json"]
    assert json.loads(content)["kind"] == "attendance"


def test_a_version_1_snapshot_still_renders_as_the_current_version(tmp_path):
    # As stored before records had versions: no schema_version, kind, course_hours, nor
    # (version 3) self_study and each approval's body and subjects.
    data = snapshot()
    for key in ("schema_version", "kind", "course_hours", "self_study"):
        del data[key]
    for approval in data["approvals"]:
        del approval["body"], approval["subjects"]

    pdf = render_certificate_pdf(data, verify_url=VERIFY_URL)

    assert "0.5 CE hours" in pdf_text(pdf, tmp_path)
    (content,) = dict(PdfReader(io.BytesIO(pdf)).attachments)["certificate.json"]
    embedded = json.loads(content)
    assert (embedded["schema_version"], embedded["kind"]) == (3, "credit")


# --- Page -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page_size", "width", "height"),
    [("letter", 792, 612), ("a4", 841.89, 595.28), ("A4", 841.89, 595.28)],
)
def test_one_landscape_page(page_size, width, height):
    pdf = render_certificate_pdf(snapshot(), verify_url=VERIFY_URL, page_size=page_size)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert float(box.width) == pytest.approx(width, abs=0.1)
    assert float(box.height) == pytest.approx(height, abs=0.1)
    assert box.width > box.height


def test_unknown_page_size_is_refused():
    with pytest.raises(ValueError, match="page_size"):
        render_certificate_pdf(snapshot(), verify_url=VERIFY_URL, page_size="legal")


def _long_approvals(count: int) -> list[dict]:
    return [
        dict(
            SNAPSHOT["approvals"][index % 2],
            accreditor=f"Accreditor {index}",
            provider_number=f"PN-{index:04d}",
            statement=f"Statement {index}. " + ASWB_STATEMENT,
        )
        for index in range(count)
    ]


@pytest.mark.parametrize("page_size", ["letter", "a4"])
def test_long_title_long_name_and_five_approvals_fit_on_one_page(page_size, tmp_path):
    title = ("Ruptures and Repair: Ghosting, Silence and Re-Engaging Stuck Clients " * 4)[:250]
    name = ("Maximiliana Alexandrina Ramírez-Núñez de la Vega y Castellanos " * 3)[:150]
    data = snapshot(course_title=title, learner_name=name, approvals=_long_approvals(5))
    data["licences"] = SNAPSHOT["licences"] * 2
    assert (len(title), len(name)) == (250, 150)
    pdf = render_certificate_pdf(data, verify_url=VERIFY_URL, page_size=page_size)
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    text = pdf_text(pdf, tmp_path)
    assert squash(name) in squash(text)
    assert squash(title) in squash(text)
    for index in range(5):
        assert f"PN-{index:04d}" in text
        assert f"Statement {index}." in text
    assert "Continuing Education Administrator" in text
    assert SNAPSHOT["code"] in text


def test_an_unbreakable_name_wraps_inside_the_page(tmp_path):
    name = "Ñ" + "x" * 148 + "Z"
    pdf = render_certificate_pdf(snapshot(learner_name=name), verify_url=VERIFY_URL)
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    assert name in squash(pdf_text(pdf, tmp_path))


def test_far_too_much_text_still_renders_and_is_logged(caplog):
    data = snapshot(approvals=_long_approvals(40))
    pdf = render_certificate_pdf(data, verify_url=VERIFY_URL)
    assert len(PdfReader(io.BytesIO(pdf)).pages) > 1
    assert "does not fit on one page" in caplog.text


def test_the_fit_check_sees_overflow():
    fetcher = StaticFilesOnlyFetcher()
    page = "<style>@page { size: letter landscape; margin: 0.5in }</style>"
    fits = HTML(string=page + "<p>one line</p>", url_fetcher=fetcher).render()
    too_wide = HTML(string=page + '<div style="width: 20in">wide</div>', url_fetcher=fetcher)
    too_long = HTML(string=page + '<div style="height: 20in">long</div>', url_fetcher=fetcher)
    assert _fits(fits)
    assert not _fits(too_wide.render())
    assert not _fits(too_long.render())


# --- Names in any script ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "font"),
    [
        ("Zoë Ramírez-Núñez", "DejaVu-Serif-Bold"),
        ("محمد الأحمد", "Noto-Naskh-Arabic"),
        ("王小明", "WenQuanYi"),
    ],
)
def test_names_in_any_script(name, font, tmp_path):
    pdf = render_certificate_pdf(snapshot(learner_name=name), verify_url=VERIFY_URL)
    text = pdf_text(pdf, tmp_path)
    # pdftotext gives Arabic in logical order (bidi marks dropped above, presentation forms
    # folded by NFKC); a reader that gives visual order would give it reversed.
    assert name in text or name[::-1] in text
    # Each script comes from a font that has its letters, never from a missing-glyph box.
    runs = [(run_text, run_font) for run_text, run_font in text_runs(pdf) if name in nfkc(run_text)]
    assert runs, text_runs(pdf)
    assert all(font in run_font for _text, run_font in runs), runs


def test_nothing_is_italic(sample_pdf):
    """WeasyPrint garbles italic mixed Latin and Arabic: the page uses no italic face at all,
    and the learner's name is set upright."""
    name_runs = [font for text, font in text_runs(sample_pdf) if "Ramírez" in nfkc(text)]
    assert name_runs
    for font in [*font_names(sample_pdf), *name_runs]:
        assert "italic" not in font.lower()
        assert "oblique" not in font.lower()


# --- QR code, attachment, PDF/A -----------------------------------------------------------------


def test_qr_code_opens_the_verify_page(sample_pdf, tmp_path):
    from PIL import Image

    zxingcpp = _zxingcpp()
    (tmp_path / "certificate.pdf").write_bytes(sample_pdf)
    subprocess.run(
        [
            _tool("pdftoppm"),
            "-r",
            "200",
            "-png",
            str(tmp_path / "certificate.pdf"),
            str(tmp_path / "page"),
        ],
        check=True,
        timeout=60,
    )
    (png,) = tmp_path.glob("page*.png")
    with Image.open(png) as image:
        codes = zxingcpp.read_barcodes(image)
    assert [code.text for code in codes if code.format == zxingcpp.BarcodeFormat.QRCode] == [
        VERIFY_URL
    ]


def test_snapshot_is_embedded_as_certificate_json(sample_pdf):
    reader = PdfReader(io.BytesIO(sample_pdf))
    attachments = dict(reader.attachments)
    assert list(attachments) == ["certificate.json"]
    (content,) = attachments["certificate.json"]
    assert json.loads(content) == SNAPSHOT
    # PDF/A-3 ties the file to the document: an associated file, related as data.
    filespecs = [ref.get_object() for ref in reader.trailer["/Root"]["/AF"]]
    assert {str(spec["/AFRelationship"]) for spec in filespecs} == {"/Data"}


def test_identifies_as_pdf_a_3b(sample_pdf):
    reader = PdfReader(io.BytesIO(sample_pdf))
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert re.search(r'pdfaid:part(="|>)3', xmp)
    assert re.search(r'pdfaid:conformance(="|>)B', xmp)
    (intent,) = root["/OutputIntents"]
    assert intent.get_object()["/S"] == "/GTS_PDFA1"
    assert reader.pdf_header == "%PDF-1.7"


def test_the_files_description_and_creation_date_are_the_certificates(sample_pdf):
    reader = PdfReader(io.BytesIO(sample_pdf))
    assert reader.metadata.subject == (
        f"Certificate {SNAPSHOT['code']}: {SNAPSHOT['learner_name']} completed "
        f"{SNAPSHOT['course_title']} on November 26, 2026"
    )
    assert reader.metadata.creation_date.isoformat() == SNAPSHOT["issued_at"]
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert SNAPSHOT["learner_name"] in xmp
    assert "2026-11-26T14:03:00" in xmp


def test_same_snapshot_same_bytes(sample_pdf):
    # Dates in the file come from the snapshot, not the clock: a re-render is identical.
    assert render_certificate_pdf(snapshot(), verify_url=VERIFY_URL) == sample_pdf


def test_minimal_pdf_is_a_one_page_pdf_a():
    reader = PdfReader(io.BytesIO(minimal_pdf()))
    assert len(reader.pages) == 1
    assert "pdfaid:part" in reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()


# --- Nothing fetched ----------------------------------------------------------------------------


class _Recorder(BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.requests.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def listener():
    """A local HTTP server that records every request; yields its base URL and the list."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_the_listener_hears_an_ordinary_fetcher(listener):
    """The control for the tests below: WeasyPrint's default fetcher does reach it."""
    base, requests = listener
    HTML(string=f'<img src="{base}/x.png">').render()
    assert requests == ["/x.png"]


def test_markup_in_the_name_is_printed_and_fetches_nothing(listener, tmp_path):
    base, requests = listener
    name = f'<img src="{base}/x.png">'
    pdf = render_certificate_pdf(snapshot(learner_name=name), verify_url=VERIFY_URL)
    assert name in pdf_text(pdf, tmp_path)
    assert requests == []


def test_markup_in_the_title_is_printed_and_fetches_nothing(listener, tmp_path):
    base, requests = listener
    title = f"Ruptures <link rel=stylesheet href={base}/a.css> and repair"
    pdf = render_certificate_pdf(snapshot(course_title=title), verify_url=VERIFY_URL)
    assert title in pdf_text(pdf, tmp_path)
    assert requests == []


def test_markup_in_every_field_fetches_nothing(listener, tmp_path):
    base, requests = listener
    attacks = itertools.cycle(
        [
            f'<img src="{base}/img.png">',
            f'<link rel=stylesheet href="{base}/a.css">',
            f'<link rel=attachment href="{base}/file.bin">',
            f"<style>@import url({base}/b.css);</style>",
            f'<p style="background: url({base}/bg.png)">x</p>',
            f"<svg><image href='{base}/s.png'/></svg>",
            f"<iframe src={base}/frame></iframe>",
            f'<object data="{base}/o.svg"></object>',
        ]
    )

    def poison(value):
        if isinstance(value, dict):
            return {key: poison(item) for key, item in value.items()}
        if isinstance(value, list):
            return [poison(item) for item in value]
        return value + next(attacks) if isinstance(value, str) else value

    data = poison(snapshot())
    # Every string but the dates, the hours and the kind, which must parse.
    data |= {
        key: SNAPSHOT[key]
        for key in ("completion_date", "issued_at", "ce_hours", "course_hours", "kind")
    }
    for approval, clean in zip(data["approvals"], SNAPSHOT["approvals"], strict=True):
        approval["hours"] = clean["hours"]
    pdf = render_certificate_pdf(data, verify_url=VERIFY_URL)
    assert requests == []
    text = squash(pdf_text(pdf, tmp_path))
    assert squash(data["learner_name"]) in text
    assert squash(data["provider"]["email"]) in text


def test_even_unescaped_markup_cannot_reach_the_network(listener):
    """Belt and braces: were the template ever to print raw HTML, the fetcher still refuses."""
    base, requests = listener
    html = f'<p>x</p><img src="{base}/x.png"><link rel=stylesheet href="{base}/a.css">'
    with pytest.raises(FatalURLFetchingError):
        HTML(string=html, url_fetcher=StaticFilesOnlyFetcher()).render()
    # With errors skipped instead of fatal, the page renders without the resources.
    HTML(string=html, url_fetcher=StaticFilesOnlyFetcher(fail_on_errors=False)).render()
    assert requests == []


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org/x.png",
        "https://example.org/x.png",
        "ftp://example.org/x.png",
        "data:text/css,body{}",
        "file:///etc/passwd",
        "file://example.org/etc/passwd",
        "http://127.0.0.1/static/courses/pdf/certificate.css",
        "STATIC:../../ceu/settings/base.py",
        "STATIC:%2e%2e/%2e%2e/ceu/settings/base.py",
        "STATIC:courses/pdf/does-not-exist.css",
        "STATIC:",
        "FILE:ceu/settings/base.py",
        "FILE:courses/static/../../manage.py",
    ],
)
def test_fetcher_refuses_everything_but_static_files(url):
    url = url.replace("STATIC:", static_base_url())
    url = url.replace("FILE:", Path(settings.BASE_DIR).as_uri() + "/")
    fetcher = StaticFilesOnlyFetcher()
    with pytest.raises(ForbiddenURL):
        fetcher(url)


def test_fetcher_serves_the_static_files():
    fetcher = StaticFilesOnlyFetcher()
    stylesheet = fetcher(static_base_url() + "courses/pdf/certificate.css")
    assert stylesheet.content_type == "text/css"
    assert b"DejaVu Serif" in stylesheet.read()
    ornament = Path(settings.BASE_DIR) / "courses/static/courses/pdf/ornament.svg"
    image = fetcher(ornament.as_uri())
    assert image.content_type == "image/svg+xml"
    assert image.read().startswith(b"<svg")
    assert stylesheet.charset == image.charset == "utf-8"


def test_the_fetchers_responses_share_headers_made_once_per_content_type():
    """WeasyPrint only reads a response's headers: each thread makes them once for each type of
    file, instead of parsing them anew for every file of every certificate."""
    fetcher, other = StaticFilesOnlyFetcher(), certificate_fetcher(VERIFY_URL)
    css = static_base_url() + "courses/pdf/certificate.css"
    assert fetcher(css).headers is other(css).headers
    qr_code = other(QR_URL)
    assert qr_code.headers is not fetcher(css).headers
    assert (qr_code.content_type, qr_code.charset) == ("image/png", None)


def test_a_file_made_for_one_certificate_is_served_by_its_own_fetcher_only():
    """The QR code is made in memory for each certificate and served at its reserved address by
    that certificate's fetcher; any other fetcher refuses the address, and the certificate's
    fetcher still refuses everything but static files."""
    fetcher = certificate_fetcher(VERIFY_URL)
    served = fetcher(QR_URL)
    assert served.content_type == "image/png"
    assert served.read() == qr.png(qr.qr_code(VERIFY_URL))
    with pytest.raises(ForbiddenURL):
        StaticFilesOnlyFetcher()(QR_URL)
    for url in (QR_URL + "?x", QR_URL.replace("qr-code", "other"), "https://example.org/x.png"):
        with pytest.raises(ForbiddenURL):
            fetcher(url)


# --- The sample banner ----------------------------------------------------------------------------


def _boxes(box):
    yield box
    for child in getattr(box, "children", ()):
        yield from _boxes(child)


@pytest.mark.parametrize("density", range(len(_DENSITIES)))
def test_the_sample_banner_frames_its_one_line_of_text(density):
    """The banner is as wide as its text at a width measured once (a shrink-to-fit box costs a
    second layout): at every type size its text keeps to one line that fills the frame, give or
    take a little."""
    page = _page_size("letter")
    context = _context(CertificateRecord.from_snapshot(snapshot()), VERIFY_URL, page)
    document = _render_document(context, page, density, certificate_fetcher(VERIFY_URL))
    (banner,) = [
        box
        for box in _boxes(document.pages[0]._page_box)
        if isinstance(box, boxes.BlockBox) and "sample-banner" in (box.element.get("class") or "")
    ]
    (line,) = banner.children
    text_width = sum(child.margin_width() for child in line.children)
    em = banner.style["font_size"]
    assert banner.width - 0.5 * em < text_width <= banner.width
