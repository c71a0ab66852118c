"""Certificate PDFs: one landscape page, PDF/A-3b and tagged (a structure tree a screen reader
follows), the issued record embedded as certificate.json. The learner's name carries its own
text as ActualText (`pdf_tagging`), so it reads back as typed, right-to-left names included.

WeasyPrint lays out templates/pdf/certificate.html. It may read the project's own static files
and nothing else: `StaticFilesOnlyFetcher` refuses every other address (http, https, ftp, data,
files outside the static folders), so neither a learner's name nor anything else on the page can
make the renderer reach the network or the file system. The template escapes every value of the
record, so markup in one is printed as text. A certificate of attendance prints no CE hours and
says so.

The QR code is made here (courses/services/qr.py) and drawn as an image with one pixel per
module, never smoothed; the fetcher serves it from memory at `QR_URL`.

Rendering is the worker's main cost, so what does not change from one certificate to the next is
kept per thread: the font configuration, the parsed stylesheets, the static files read. The
speed-ups of WeasyPrint's and pydyf's own steps (SVG paths drawn from what was drawn before, the
values of computed styles reused, the template read by Python's XML parser with a trimmed
user-agent stylesheet, each object of the file serialised once, the garbage collector paused)
are in courses/services/pdf_engine.py. Each PDF is still byte for byte what a fresh worker would
make with WeasyPrint's own ways (courses/tests/test_certificate_render_cache.py)."""

from __future__ import annotations

import json
import logging
import mimetypes
import posixpath
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit
from urllib.request import OpenerDirector, url2pathname

import pydyf
from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils.timezone import localtime
from weasyprint import CSS, HTML, Attachment
from weasyprint.html import parse_w3c_date
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from courses.credentials_record import CertificateRecord
from courses.services import pdf_engine, pdf_tagging, qr

logger = logging.getLogger(__name__)

TEMPLATE = "pdf/certificate.html"
# The certificate's stylesheet, a static file: parsed once per worker thread (`thread_stylesheet`).
STYLESHEET = "courses/pdf/certificate.css"
ATTACHMENT_NAME = "certificate.json"
# The certificate's Open Badges credential beside it (courses/services/badges.py).
CREDENTIAL_ATTACHMENT_NAME = "credential.jwt"
QR_TITLE = "QR code: opens this certificate's page on the provider's verification site"
# PDF/A-3b keeps the file readable for as long as a board may ask for it and allows the embedded
# record; the tags make it readable aloud. PDF/A-3a would promise more than an unvalidated
# structure tree can hold, so the file claims level B and is tagged besides.
PDF_OPTIONS = {"pdf_variant": "pdf/a-3b", "pdf_tags": True}
pdf_tagging.install()

# Relative URLs in the template (the stylesheet, the ornament) resolve against this address and
# are served from the static folders; the host is reserved (RFC 2606) and never contacted.
_STATIC_ORIGIN = "https://static.invalid/"
# The certificate's own QR code, made for each render and served from memory by that render's
# fetcher (outside STATIC_URL, so no static file can stand in for it).
QR_URL = urljoin(_STATIC_ORIGIN, "certificate/qr-code.png")

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True)
class PageSize:
    css: str  # the @page size
    height_in: float  # the landscape page's height, inches


PAGE_SIZES = {
    "letter": PageSize("letter landscape", 8.5),
    "a4": PageSize("A4 landscape", 210 / 25.4),
}
# The page frame, inches: margin outside the outer rule, the rule, the gap to the inner frame.
_PAGE_MARGIN_IN = 0.35
_PAGE_BORDER_IN = 1 / 96
_PAGE_PADDING_IN = 0.07

# Sizes from certificate.css, inches and rem: the sheet's border, the body row's top padding, the
# foot row's bottom padding, the QR code, and the foot's text below and beside the QR code.
_SHEET_BORDER_IN = 2.4 / 72
_BODY_PAD_IN = 0.2
_FOOT_PAD_IN = 0.14
_QR_IN = 0.95
_FOOT_REM = 0.3 + 0.3 + 2 * 0.68 * 1.3
_ORNAMENT_IN = 0.125  # the ornament's height under the heading

# Type scale steps, tried in order until the certificate fits on one page: the root font size in
# points and the gaps between sections in rem. A usual certificate fits at the first step; long
# titles, long names and several approvals take the later ones.
_DENSITIES = (
    (11.0, 2.6),
    (11.0, 1.4),
    (10.0, 0.8),
    (9.0, 0.55),
    (8.0, 0.4),
    (7.0, 0.3),
    (6.2, 0.2),
)


class ForbiddenURL(ValueError):
    """The certificate renderer may read only the project's own static files."""


def static_base_url() -> str:
    """The address the template's relative URLs resolve against."""
    return urljoin(_STATIC_ORIGIN, settings.STATIC_URL)


def _static_roots() -> list[Path]:
    roots = []
    for finder in finders.get_finders():
        for storage in getattr(finder, "storages", {}).values():
            location = getattr(storage, "location", None)
            if location:
                roots.append(Path(location).resolve())
    return roots


@dataclass(frozen=True)
class StaticFile:
    path: Path
    version: tuple[int, int]  # its modification time (ns) and size when read
    content: bytes
    content_type: str


_STATIC_FILES_KEPT = 16  # per thread; a certificate reads three


def _file_version(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


def _static_configuration() -> tuple:
    """What decides where a static file is found (a test, or a deploy, may change it)."""
    return (
        settings.STATIC_URL,
        str(settings.STATIC_ROOT),
        tuple(str(folder) for folder in getattr(settings, "STATICFILES_DIRS", ())),
        tuple(settings.STATICFILES_FINDERS),
        tuple(settings.INSTALLED_APPS),  # the apps' static folders
    )


def _response_headers(content_type: str) -> EmailMessage:
    """A response's headers as WeasyPrint reads them (an EmailMessage), made once per thread for
    each content type. WeasyPrint parses a dict of headers into a new EmailMessage for every
    response (about 0.1 ms, four or five times a certificate); it only ever reads them, and so
    does every other reader of a response this fetcher gives."""
    kept = getattr(_thread, "response_headers", None)
    if kept is None:
        kept = _thread.response_headers = {}
    headers = kept.get(content_type)
    if headers is None:
        headers = kept[content_type] = URLFetcherResponse(
            "", b"", {"Content-Type": content_type}
        ).headers
    return headers


class StaticFilesOnlyFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that serves files found by the staticfiles finders, either under
    `static_base_url()` (or an absolute STATIC_URL) or as file: URLs inside a static folder, and
    raises `ForbiddenURL` for anything else. It has no network handler at all.

    With `fail_on_errors` (the default here) a refused address stops the rendering instead of
    being skipped with a warning: the template is ours, so any other fetch is a bug.

    `generated` serves files the renderer made for this document (the QR code), by their exact
    address: bytes in memory, never a path or a network address."""

    def __init__(
        self,
        *,
        fail_on_errors: bool = True,
        generated: dict[str, tuple[bytes, str]] | None = None,
    ):
        # Deliberately not URLFetcher.__init__, which installs urllib's HTTP, FTP and file
        # handlers: this opener has none, and `fetch` below never calls the base class's.
        OpenerDirector.__init__(self)
        self._fail_on_errors = fail_on_errors
        self._request = None
        self._generated = dict(generated or {})

    def fetch(self, url, headers=None):
        """Serve `url` from the static folders; `ForbiddenURL` for any other address."""
        if url in self._generated:
            content, content_type = self._generated[url]
        else:
            static = self.static_file(url)
            content, content_type = static.content, static.content_type
        return URLFetcherResponse(url, content, _response_headers(content_type))

    def static_file(self, url: str) -> StaticFile:
        """The static file `url` names, read; `ForbiddenURL` for any other address.

        Each thread keeps the files it read (the stylesheet, the ornament, the watermark: every
        certificate reads them) with where `resolve` found them and their size and time, and
        serves them again while one look at the file shows them unchanged and the static folders
        are configured as they were. Finding a file and checking where it lies takes a dozen
        system calls; the look, one. Only files `resolve` allowed are kept."""
        kept = getattr(_thread, "static_files", None)
        if kept is None:
            kept = _thread.static_files = OrderedDict()
        key = (url, _static_configuration())
        static = kept.get(key)
        if static is not None:
            try:
                current = _file_version(static.path)
            except OSError:
                current = None
            if current == static.version:
                kept.move_to_end(key)
                return static
        path = self.resolve(url)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type == "image/svg+xml":
            content_type += "; charset=utf-8"
        version = _file_version(path)
        static = kept[key] = StaticFile(path, version, path.read_bytes(), content_type)
        while len(kept) > _STATIC_FILES_KEPT:
            kept.popitem(last=False)
        return static

    def resolve(self, url: str) -> Path:
        """The static file `url` names; `ForbiddenURL` for any other address."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "file":
            if parts.netloc not in ("", "localhost"):
                raise ForbiddenURL(f"Not a local file: {url}")
            path = Path(url2pathname(unquote(parts.path))).resolve()
            if path.is_file() and any(path.is_relative_to(root) for root in _static_roots()):
                return path
            raise ForbiddenURL(f"Not a file in the static folders: {url}")
        base = static_base_url()
        bare = url.split("#", 1)[0].split("?", 1)[0]
        if scheme in ("http", "https") and bare.startswith(base):
            relative = posixpath.normpath(unquote(bare[len(base) :]))
            if (
                not relative.startswith(("/", "."))
                and "\\" not in relative
                and "\0" not in relative
            ):
                found = finders.find(relative)
                if found and Path(found).is_file():
                    return Path(found).resolve()
        raise ForbiddenURL(f"The certificate renderer fetches no {url}")


_thread = threading.local()


def thread_font_config() -> FontConfiguration:
    """One font configuration per thread, kept between renders: Pango's font map then keeps its
    fonts loaded and its shaping caches warm (about 35 ms of each certificate otherwise). Pango
    font maps are not thread-safe, hence one per thread. The PDF templates have no @font-face
    rule, so nothing one document does changes what the next one gets."""
    config = getattr(_thread, "font_config", None)
    if config is None:
        config = _thread.font_config = FontConfiguration()
    return config


def thread_stylesheet(fetcher: URLFetcher) -> CSS:
    """certificate.css, parsed once per thread and kept while the file is unchanged: parsing it
    is about a fifth of a certificate's rendering. Parsed, a stylesheet is a list of rules
    WeasyPrint only reads, so one document cannot change what the next one gets; a file changed
    on disk (a deploy, an edit while developing) is parsed again, keyed by its size and time.

    It is applied as the renderer's own stylesheet (WeasyPrint's "user" origin) rather than
    linked from the template (the "author" origin). The only rules the two can both set are the
    template's <style> block, which wins either way: it came after the link, and author rules
    beat user rules."""
    url = static_base_url() + STYLESHEET
    key = (url, fetcher.static_file(url).version)
    cached = getattr(_thread, "stylesheet", None)
    if cached is None or cached[0] != key:
        css = CSS(url=url, url_fetcher=fetcher, font_config=thread_font_config())
        cached = _thread.stylesheet = (key, css)
    return cached[1]


def _long_date(day: date) -> str:
    return f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"


def _hours_label(hours: Decimal) -> str:
    return "CE hour" if hours == 1 else "CE hours"


def _issued(record: CertificateRecord) -> datetime:
    return record.issued_at.astimezone(UTC)


def _size_class(text: str, steps: tuple[tuple[int, str], ...]) -> str:
    for limit, name in steps:
        if len(text) > limit:
            return name
    return ""


def _context(record: CertificateRecord, verify_url: str, page: PageSize) -> dict:
    provider = record.provider
    approvals = [
        {
            "accreditor": approval.accreditor,
            "accreditor_name": approval.accreditor_name,
            "provider_number": approval.provider_number,
            "hours": approval.hours_text,
            "hours_label": _hours_label(approval.hours),
            "credit_type": approval.credit_type,
            "approval_code": approval.approval_code,
            "statement": approval.statement,
        }
        for approval in record.approvals
    ]
    address = ", ".join(line.strip() for line in provider.address.splitlines() if line.strip())
    contact = [item for item in (address, provider.email, provider.phone, provider.website) if item]
    completion_date = _long_date(record.completion_date)
    facts = [
        # A certificate of attendance prints no hours at all: it awards none.
        (
            "CE hours",
            f"{record.ce_hours_text} {_hours_label(record.ce_hours)}" if record.is_credit else "",
        ),
        ("Format", record.format),
        ("Completed", completion_date),
        ("Presenter", record.presenter),
    ]
    facts = [(label, value) for label, value in facts if value]
    # Each column as wide as its text wants, within bounds: the table has a fixed layout (fast)
    # and a long value wraps in its own column.
    wants = [min(max(len(value), 14), 60) for _label, value in facts]
    issued = _issued(record)
    columns = 2 if len(approvals) > 1 else 1
    return {
        "s": record,
        "attendance": record.is_attendance,
        "provider": provider,
        "sample": record.sample,
        "approvals": approvals,
        "contact": contact,
        "completion_date": completion_date,
        "facts": [
            {"label": label, "value": value, "width": f"{100 * want / sum(wants):.2f}%"}
            for (label, value), want in zip(facts, wants, strict=True)
        ],
        # The site's own time zone, as for the completion date.
        "issued_date": _long_date(localtime(issued).date()),
        "issued_iso": issued.isoformat(),
        "verify_url": verify_url,
        "qr_url": QR_URL,
        "qr_title": QR_TITLE,
        "name_class": _size_class(
            record.learner_name, ((90, "name-xxl"), (56, "name-xl"), (34, "name-l"))
        ),
        "title_class": _size_class(
            record.course_title, ((170, "title-xl"), (110, "title-l"), (70, "title-m"))
        ),
        # Side by side when there are several: statements are long and the page is wide.
        "approval_columns": columns,
        "approval_rows": [approvals[i : i + columns] for i in range(0, len(approvals), columns)],
    }


def _sizes(page: PageSize, density: int) -> str:
    """The page, the type size, the gaps and the two rows' heights for one density step, as CSS
    (numbers written here, never localised: "9,5pt" is no CSS)."""
    font_pt, gap = _DENSITIES[density]
    rem_in = font_pt / 72
    frame = 2 * (_PAGE_MARGIN_IN + _PAGE_BORDER_IN + _PAGE_PADDING_IN + _SHEET_BORDER_IN)
    # The foot: the QR code, then the contact line (room for two lines), as in certificate.css.
    foot = _QR_IN + _FOOT_REM * rem_in
    body = page.height_in - frame - _BODY_PAD_IN - _FOOT_PAD_IN - foot - 0.02  # 0.02: rounding
    # Room under the heading for the ornament, its background: 0.35rem, then 0.125in.
    heading_padding = 0.35 * font_pt + _ORNAMENT_IN * 72
    return (
        f"@page {{ size: {page.css}; margin: {_PAGE_MARGIN_IN}in;"
        f" border: {_PAGE_BORDER_IN}in solid #1f3a5f; padding: {_PAGE_PADDING_IN}in }}\n"
        f"html {{ font-size: {font_pt:g}pt }}\n"
        f".gap {{ margin-top: {gap:g}rem }}\n"
        f".heading {{ padding-bottom: {heading_padding:.2f}pt }}\n"
        f".body-cell {{ height: {body:.3f}in }}\n"
        f".foot-cell {{ height: {foot:.3f}in }}\n"
    )


def thread_sizes_stylesheet(page: PageSize, density: int) -> CSS:
    """`_sizes` parsed, once per thread for each page size and density step (fourteen at most).
    Applied after certificate.css, in the same origin."""
    kept = getattr(_thread, "sizes_stylesheets", None)
    if kept is None:
        kept = _thread.sizes_stylesheets = {}
    key = (page, density)
    if key not in kept:
        kept[key] = CSS(string=_sizes(page, density), font_config=thread_font_config())
    return kept[key]


def _render_document(context: dict, page: PageSize, density: int, fetcher: URLFetcher):
    html = render_to_string(TEMPLATE, context)
    stylesheets = [thread_stylesheet(fetcher), thread_sizes_stylesheet(page, density)]
    return pdf_engine.parsed_document(html, fetcher, static_base_url()).render(
        font_config=thread_font_config(), stylesheets=stylesheets, **PDF_OPTIONS
    )


def certificate_fetcher(verify_url: str) -> StaticFilesOnlyFetcher:
    """The fetcher of one certificate: the static files, and its QR code (an image with a pixel
    per module, drawn unsmoothed) at `QR_URL`."""
    return StaticFilesOnlyFetcher(generated={QR_URL: (qr.png(qr.qr_code(verify_url)), "image/png")})


def _fits(document) -> bool:
    """One page, and nothing laid out past its content area (a long unbreakable word could run
    off the side without making a second page)."""
    if len(document.pages) != 1:
        return False
    page_box = getattr(document.pages[0], "_page_box", None)
    if page_box is None:  # WeasyPrint's internals changed: the page count is all we can check
        return True
    left, top = page_box.content_box_x(), page_box.content_box_y()
    right, bottom = left + page_box.width, top + page_box.height
    slack = 1.5  # CSS px: rounding in line boxes
    stack = list(page_box.children)
    while stack:
        box = stack.pop()
        if getattr(box, "is_absolutely_positioned", lambda: False)():
            continue  # the sample watermark is placed and clipped on purpose
        if box.width is not None and box.height is not None and box.position_x is not None:
            x, y = box.border_box_x(), box.border_box_y()
            if (
                x < left - slack
                or y < top - slack
                or x + box.border_width() > right + slack
                or y + box.border_height() > bottom + slack
            ):
                return False
        stack.extend(getattr(box, "children", ()))
    return True


def _page_size(page_size: str) -> PageSize:
    try:
        return PAGE_SIZES[page_size.lower()]
    except (KeyError, AttributeError):
        raise ValueError(
            f"page_size must be one of {', '.join(PAGE_SIZES)}, not {page_size!r}"
        ) from None


def render_certificate_pdf(
    record: CertificateRecord | dict,
    *,
    verify_url: str,
    page_size: str = "letter",
    credential_jwt: str | None = None,
) -> bytes:
    """PDF/A-3b bytes of one certificate: one page, US Letter landscape ("letter") or A4
    landscape ("a4"), with the record embedded as certificate.json and, when given, its Open
    Badges credential (a compact JWS) as credential.jwt beside it. A stored snapshot (a dict of
    any schema version) is read as its record first. Fetches nothing from the network."""
    if not isinstance(record, CertificateRecord):
        record = CertificateRecord.from_snapshot(record)
    page = _page_size(page_size)
    with pdf_engine.collector_paused(), pdf_engine.styles_reused():
        return _render(record, verify_url, page, credential_jwt)


def _render(
    record: CertificateRecord, verify_url: str, page: PageSize, credential_jwt: str | None = None
) -> bytes:
    context = _context(record, verify_url, page)
    fetcher = certificate_fetcher(verify_url)
    # Several long statements never fit in the largest type: skip the renders bound to fail.
    start = min(max(len(context["approvals"]) - 2, 0), 2)
    for density in range(start, len(_DENSITIES)):
        document = _render_document(context, page, density, fetcher)
        if _fits(document):
            break
    else:
        # Far past any real certificate (a 250-character title, a 150-character name and five
        # approvals fit). The learner still gets their certificate, on more than one page.
        logger.error(
            "Certificate %s does not fit on one page even in the smallest type: %s pages",
            record.code,
            len(document.pages),
        )
    issued = _issued(record)
    _describe(document, record, context)
    attachment = Attachment(
        string=json.dumps(record.to_snapshot(), ensure_ascii=False, indent=2, sort_keys=True),
        name=ATTACHMENT_NAME,
        description="The certificate record as issued (JSON)",
        relationship="Data",
        created=issued,
        modified=issued,
        url_fetcher=fetcher,
    )
    attachments = [attachment]
    if credential_jwt:
        attachments.append(
            Attachment(
                string=credential_jwt,
                name=CREDENTIAL_ATTACHMENT_NAME,
                description="The certificate as an Open Badges 3.0 credential (compact JWS)",
                relationship="Data",
                created=issued,
                modified=issued,
                url_fetcher=fetcher,
            )
        )
    return document.write_pdf(**PDF_OPTIONS, attachments=attachments, finisher=_finish)


def _describe(document, record: CertificateRecord, context: dict) -> None:
    """The file's description (its subject) and creation date: set on the document, not in the
    template, whose head is then the same from one certificate to the next."""
    # As an HTML parser read it from an attribute: carriage returns are line feeds.
    document.metadata.description = (
        (
            f"Certificate {record.code}: {record.learner_name} completed {record.course_title} "
            f"on {context['completion_date']}"
        )
        .replace("\r\n", "\n")
        .replace("\r", "\n")
    )
    document.metadata.created = parse_w3c_date("dcterms.created", context["issued_iso"])


def _finish(document, pdf: pydyf.PDF) -> None:
    """The certificate's `write_pdf` finisher: the tagging's, then the file written with each
    object serialised once (`pdf_engine.serialise_once_when_written`)."""
    pdf_tagging.finish(document, pdf)
    pdf_engine.serialise_once_when_written(pdf)


def minimal_pdf() -> bytes:
    """A one-page WeasyPrint document with one line of text, rendered the same way: the
    baseline benchmarks compare against."""
    with pdf_engine.collector_paused():
        return _minimal_pdf()


def _minimal_pdf() -> bytes:
    html = (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Minimal</title><style>"
        "@page { size: letter landscape; margin: 0.5in }"
        ' body { font-family: "DejaVu Serif"; font-size: 12pt }'
        "</style></head><body><p>Certificate of Completion</p></body></html>"
    )
    fetcher = StaticFilesOnlyFetcher()
    document = HTML(string=html, base_url=static_base_url(), url_fetcher=fetcher).render(
        font_config=thread_font_config(), **PDF_OPTIONS
    )
    attachment = Attachment(
        string="{}", name=ATTACHMENT_NAME, relationship="Data", url_fetcher=fetcher
    )
    return document.write_pdf(**PDF_OPTIONS, attachments=[attachment], finisher=pdf_tagging.finish)
