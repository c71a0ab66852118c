"""Certificate PDFs: one landscape page, PDF/A-3b and tagged (a structure tree a screen reader
follows), the issued record embedded as certificate.json. The learner's name carries its own
text as ActualText (`pdf_tagging`), so it reads back as typed, right-to-left names included.

WeasyPrint lays out templates/pdf/certificate.html. It may read the project's own static files
and nothing else: `StaticFilesOnlyFetcher` refuses every other address (http, https, ftp, data,
files outside the static folders), so neither a learner's name nor anything else on the page can
make the renderer reach the network or the file system. The template escapes every value of the
record, so markup in one is printed as text. A certificate of attendance prints no CE hours and
says so.

Rendering is the worker's main cost, so what does not change from one certificate to the next is
kept per thread: the font configuration, the parsed stylesheet, the operators of SVG paths drawn
before (the ornament, the sample watermark). Each PDF is still byte for byte what a fresh worker
would make (courses/tests/test_certificate_render_cache.py)."""

from __future__ import annotations

import gc
import json
import logging
import mimetypes
import posixpath
import re
import threading
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from math import atan2, pi
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit
from urllib.request import OpenerDirector, url2pathname

import segno
from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.timezone import localtime
from weasyprint import CSS, HTML, Attachment
from weasyprint import svg as weasyprint_svg
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from courses.credentials_record import CertificateRecord
from courses.services import pdf_tagging

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


class StaticFilesOnlyFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that serves files found by the staticfiles finders, either under
    `static_base_url()` (or an absolute STATIC_URL) or as file: URLs inside a static folder, and
    raises `ForbiddenURL` for anything else. It has no network handler at all.

    With `fail_on_errors` (the default here) a refused address stops the rendering instead of
    being skipped with a warning: the template is ours, so any other fetch is a bug."""

    def __init__(self, *, fail_on_errors: bool = True):
        # Deliberately not URLFetcher.__init__, which installs urllib's HTTP, FTP and file
        # handlers: this opener has none, and `fetch` below never calls the base class's.
        OpenerDirector.__init__(self)
        self._fail_on_errors = fail_on_errors
        self._request = None

    def fetch(self, url, headers=None):
        """Serve `url` from the static folders; `ForbiddenURL` for any other address."""
        path = self.resolve(url)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type == "image/svg+xml":
            content_type += "; charset=utf-8"
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})

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
    stat = fetcher.resolve(url).stat()
    key = (url, stat.st_mtime_ns, stat.st_size)
    cached = getattr(_thread, "stylesheet", None)
    if cached is None or cached[0] != key:
        css = CSS(url=url, url_fetcher=fetcher, font_config=thread_font_config())
        cached = _thread.stylesheet = (key, css)
    return cached[1]


# --- Drawing SVG paths --------------------------------------------------------------------------
# WeasyPrint draws an SVG path by parsing its `d` text a command at a time, slowly: the QR code
# (about 600 commands) and the sample watermark (an outlined line of text) took a quarter of a
# certificate's rendering. `_draw_path` replaces its path drawer with one that writes the very
# same PDF operators faster:
# - a path drawn before (the ornament, the watermark: static files) has its operators replayed;
# - a path of straight lines (the QR code) is read by `_draw_straight_path` in one pass.
# Anything else goes to WeasyPrint's own drawer. courses/tests/test_certificate_render_cache.py
# checks operator for operator that both give what WeasyPrint gives.

_weasyprint_path = weasyprint_svg.TAGS["path"]
# Paths made of numbers and path letters only: no unit, no percentage, so what is drawn depends
# on the text alone, never on the font size or the viewport.
_PLAIN_PATH = re.compile(r"[MmLlHhVvZzCcSsQqTtAa0-9.,+\-\s]*")
# Straight lines with plain decimal numbers (no sign but minus, no exponent).
_STRAIGHT_PATH = re.compile(r"(?:[\s,]*(?:[MmLlHhVvZz]|-?\d+(?:\.\d+)?))*[\s,]*")
_STRAIGHT_TOKEN = re.compile(r"[MmLlHhVvZz]|-?\d+(?:\.\d+)?")
_ARGUMENTS = {"M": 2, "L": 2, "H": 1, "V": 1, "Z": 0}
_PATHS_KEPT = 32  # drawn paths replayed, per thread; a QR code is drawn once and dropped


def _path_memory() -> tuple[OrderedDict, OrderedDict]:
    """Per thread: the operators of paths drawn twice or more, and the paths seen once."""
    memory = getattr(_thread, "paths", None)
    if memory is None:
        memory = _thread.paths = (OrderedDict(), OrderedDict())
    return memory


def _straight_commands(d: str) -> list[tuple[str, tuple[float, ...]]] | None:
    """The commands of a path of straight lines, each repetition of a command spelt out as
    WeasyPrint reads it (a moveto's extra pairs are linetos); None for any other path."""
    if not _STRAIGHT_PATH.fullmatch(d):
        return None
    tokens = _STRAIGHT_TOKEN.findall(d)
    if not tokens or tokens[0] not in "MmLlHhVvZz":
        return None
    commands = []
    index = 0
    while index < len(tokens):
        letter = tokens[index]
        index += 1
        end = index
        while end < len(tokens) and tokens[end][-1].isdigit():
            end += 1
        numbers = [float(token) for token in tokens[index:end]]
        index = end
        count = _ARGUMENTS[letter.upper()]
        if count == 0:
            if numbers:
                return None
            commands.append((letter, ()))
            continue
        if not numbers or len(numbers) % count:
            return None
        for start in range(0, len(numbers), count):
            commands.append((letter, tuple(numbers[start : start + count])))
            letter = {"m": "l", "M": "L"}.get(letter, letter)
    return commands


def _draw_straight_path(svg, node, commands) -> None:
    """WeasyPrint's path drawer (weasyprint/svg/path.py) for straight lines, step for step: the
    same operators and the same vertices (the points markers are drawn at)."""
    stream = svg.stream
    vertices = node.vertices
    current = (0, 0)
    stream.move_to(*current)
    last = None
    first = None
    for letter, numbers in commands:
        if last in (None, "z", "Z") and letter not in "mM":
            vertices.append(current)
            first = current
        if last in (None, "m", "M", "z", "Z"):
            first = None
        if letter not in "mMzZ" and first is None:
            first = current
        old_x, old_y = current
        if letter in "hH":
            x = numbers[0] + old_x if letter == "h" else numbers[0]
            angle = 0 if x > old_x else pi
            vertices.append((pi - angle, angle))
            stream.line_to(x, old_y)
            current = x, old_y
        elif letter in "vV":
            y = numbers[0] + old_y if letter == "v" else numbers[0]
            angle = pi / 2 if y > old_y else -pi / 2
            vertices.append((pi - angle, angle))
            stream.line_to(old_x, y)
            current = old_x, y
        elif letter in "lL":
            x, y = numbers
            if letter == "l":
                x += old_x
                y += old_y
            angle = atan2(y - old_y, x - old_x)
            vertices.append((pi - angle, angle))
            stream.line_to(x, y)
            current = x, y
        elif letter in "mM":
            x, y = numbers
            if last and last not in "zZ":
                vertices.append(None)
            if letter == "m":
                x += old_x
                y += old_y
            stream.move_to(x, y)
            current = x, y
        elif first:  # z, Z
            vertices.append(None)
            stream.close()
            current = first
        if letter not in "zZ":
            vertices.append(current)
        last = letter


def _has_markers(node) -> bool:
    """Whether the path has markers to draw at its vertices, read as WeasyPrint reads them
    (svg/__init__.py, draw_markers). Without any, the vertices are never used."""
    return bool(node.get("marker")) or any(
        f"marker-{position}" in node.attrib for position in ("start", "mid", "end")
    )


def _draw_path(svg, node, font_size) -> None:
    d = node.get("d", "")
    plain = _PLAIN_PATH.fullmatch(d) is not None
    markers = _has_markers(node)
    drawn, seen = _path_memory()
    if plain and d in drawn:
        operators, points = drawn[d]
        drawn.move_to_end(d)
        svg.stream.stream.extend(operators)
        if markers:
            node.vertices.extend(points)
        return
    operators_from, points_from = len(svg.stream.stream), len(node.vertices)
    commands = _straight_commands(d)
    if commands is None:
        _weasyprint_path(svg, node, font_size)
    else:
        _draw_straight_path(svg, node, commands)
    points = list(node.vertices)[points_from:]
    if not markers:
        # Nothing is drawn at them: leave WeasyPrint's marker pass nothing to walk through
        # (a QR code has some 1,300 vertices).
        for _point in points:
            node.vertices.pop()
    if not plain:
        return
    if d in seen:  # drawn a second time: keep it for the next ones
        del seen[d]
        drawn[d] = (svg.stream.stream[operators_from:], points)
        while len(drawn) > _PATHS_KEPT:
            drawn.popitem(last=False)
    else:
        seen[d] = None
        while len(seen) > _PATHS_KEPT:
            seen.popitem(last=False)


def install_path_drawing() -> None:
    """Draw SVG paths with `_draw_path`. Idempotent."""
    weasyprint_svg.TAGS["path"] = _draw_path


install_path_drawing()


@contextmanager
def collector_paused():
    """Pause Python's cyclic garbage collector while a PDF is drawn. A rendering makes some
    hundred thousand objects that live until it ends; collected on the way, they are moved into
    the older generations and make the collector walk the whole process (Django, the fonts)
    again and again: about an eighth of a certificate's time. Paused, the rendering's garbage is
    freed when it ends, most of it at once and its cycles by the next young collection. Nothing
    is kept: only when the collector runs changes. A collector already off stays off."""
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _long_date(day: date) -> str:
    return f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"


def _hours_label(hours: Decimal) -> str:
    return "CE hour" if hours == 1 else "CE hours"


def _issued(record: CertificateRecord) -> datetime:
    return record.issued_at.astimezone(UTC)


def _qr_svg(verify_url: str) -> str:
    # segno writes only its own path data and the fixed title: verify_url never reaches the
    # markup. The title is the figure's alternative text in the tagged PDF.
    return segno.make(verify_url, error="m").svg_inline(
        scale=1, border=4, dark="#000", omitsize=True, title=QR_TITLE
    )


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
        "qr_svg": mark_safe(_qr_svg(verify_url)),  # noqa: S308 segno's own SVG, no input text
        "page_css_size": page.css,
        "page_margin": f"{_PAGE_MARGIN_IN}in",
        "page_border": f"{_PAGE_BORDER_IN}in",
        "page_padding": f"{_PAGE_PADDING_IN}in",
        "page_height_in": page.height_in,
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


def _sizes(page_height_in: float, density: int) -> dict:
    """The type size, the gaps and the two rows' heights (inches) for one density step. The
    numbers go in as strings: the template must not localise them ("9,5pt" is no CSS)."""
    font_pt, gap = _DENSITIES[density]
    rem_in = font_pt / 72
    frame = 2 * (_PAGE_MARGIN_IN + _PAGE_BORDER_IN + _PAGE_PADDING_IN + _SHEET_BORDER_IN)
    # The foot: the QR code, then the contact line (room for two lines), as in certificate.css.
    foot = _QR_IN + _FOOT_REM * rem_in
    body = page_height_in - frame - _BODY_PAD_IN - _FOOT_PAD_IN - foot - 0.02  # 0.02: rounding
    return {
        "font_pt": f"{font_pt:g}",
        "gap": f"{gap:g}",
        "foot_height": f"{foot:.3f}in",
        "body_height": f"{body:.3f}in",
    }


def _render_document(context: dict, density: int, fetcher: URLFetcher):
    sizes = _sizes(context["page_height_in"], density)
    html = render_to_string(TEMPLATE, {**context, **sizes})
    return HTML(string=html, base_url=static_base_url(), url_fetcher=fetcher).render(
        font_config=thread_font_config(), stylesheets=[thread_stylesheet(fetcher)], **PDF_OPTIONS
    )


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
    with collector_paused():
        return _render(record, verify_url, page, credential_jwt)


def _render(
    record: CertificateRecord, verify_url: str, page: PageSize, credential_jwt: str | None = None
) -> bytes:
    context = _context(record, verify_url, page)
    fetcher = StaticFilesOnlyFetcher()
    # Several long statements never fit in the largest type: skip the renders bound to fail.
    start = min(max(len(context["approvals"]) - 2, 0), 2)
    for density in range(start, len(_DENSITIES)):
        document = _render_document(context, density, fetcher)
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
    return document.write_pdf(**PDF_OPTIONS, attachments=attachments, finisher=pdf_tagging.finish)


def minimal_pdf() -> bytes:
    """A one-page WeasyPrint document with one line of text, rendered the same way: the
    baseline benchmarks compare against."""
    with collector_paused():
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
