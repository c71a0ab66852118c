"""What the certificate renderer keeps between renders in a worker (the parsed stylesheets, the
operators of SVG paths drawn before, the values of computed styles) never shows in another
certificate: a certificate rendered after a run of others is byte for byte the one a fresh
worker renders, a changed stylesheet is read again, and the faster path drawer writes exactly
what WeasyPrint's writes. Its shortcuts make the very file WeasyPrint's own ways make: the
template read by the XML parser, each object of the file serialised once. Also: the task that
renders a certificate e-mails it, and hands a refused message to the e-mail task."""

from __future__ import annotations

import contextlib
import copy
import gc
import io
import os
import re
import shutil
import subprocess
import zlib
from collections import deque
from pathlib import Path
from urllib.parse import quote

import cssselect2
import pydyf
import pytest
import segno
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.utils import timezone
from pypdf import PdfReader
from weasyprint import CSS, HTML
from weasyprint.css import ComputedStyle
from weasyprint.draw import text as weasyprint_draw_text
from weasyprint.formatting_structure import build as weasyprint_build
from weasyprint.formatting_structure.boxes import TableBox
from weasyprint.images import SVGImage
from weasyprint.pdf import stream as weasyprint_pdf_stream
from weasyprint.svg import SVG
from weasyprint.text.ffi import ffi
from weasyprint.text.fonts import get_pango_font_key

from accounts.tests.factories import LicenceFactory
from courses.services import certificate_pdf, pdf_engine
from courses.services.certificate_pdf import render_certificate_pdf
from courses.services.pdf_engine import (
    _draw_path,
    _draw_straight_path,
    _straight_commands,
    _weasyprint_path,
    collector_paused,
)
from courses.services.pdf_tagging import finish
from courses.tests.factories import (
    AccreditorFactory,
    ApprovalFactory,
    CourseFactory,
    EnrollmentFactory,
)
from courses.tests.test_certificate_pdf import (
    VERIFY_URL,
    _tool,
    _zxingcpp,
    configured,
    snapshot,
)

STATIC = Path(__file__).resolve().parents[1] / "static" / "courses" / "pdf"


def fresh_worker() -> None:
    """Forget everything the renderer keeps per thread, as in a worker just started."""
    certificate_pdf._thread.__dict__.clear()
    pdf_engine._thread.__dict__.clear()


def verify_url(code: str) -> str:
    return f"https://ce.example.org/verify/{code}/"


def certificate(code: str, **changes) -> tuple[dict, str]:
    return snapshot(code=code, **changes), verify_url(code)


def render(data: dict, url: str, page_size: str = "letter") -> bytes:
    return render_certificate_pdf(copy.deepcopy(data), verify_url=url, page_size=page_size)


# The certificate the tests of what is kept render after another, and that other one's worker.
NEXT_ONE = certificate("CEU-EEEE-FFFF-GGGG-HHHH", learner_name="Jonas Lindqvist")


def rendered_by_a_fresh_worker(target: tuple[dict, str]) -> bytes:
    fresh_worker()
    return render(*target)


def a_worker_after_another_certificate() -> None:
    """A fresh worker that has rendered certificates of other learners, with other codes: two,
    since a block is kept the second time it is laid out."""
    fresh_worker()
    render(*certificate("CEU-AAAA-BBBB-CCCC-DDDD", learner_name="Amara Okafor"))
    render(*certificate("CEU-PPPP-QQQQ-RRRR-SSSS", learner_name="Noor Haddad"))


# --- Nothing carries over from one certificate to the next ----------------------------------------

# Certificates that use each thing kept: the watermark (a sample), the QR code, a second density
# step (a long name on A4), fonts for another script, styles of other elements (a certificate of
# attendance, one approval, no licence). No emoji: WeasyPrint stamps the emoji font it rewrites
# with the time it wrote it, so two renders a second apart differ there whatever was kept.
TARGETS = {
    "sample": (*certificate("CEU-AAAA-BBBB-CCCC-DDDD"), "letter"),
    "configured": (
        configured(snapshot(code="CEU-EEEE-FFFF-GGGG-HHHH")),
        verify_url("CEU-EEEE-FFFF-GGGG-HHHH"),
        "letter",
    ),
    "long-name-a4": (
        *certificate("CEU-JJJJ-KKKK-MMMM-NNNN", learner_name="Maximiliana Alexandrina " * 5),
        "a4",
    ),
    "arabic": (*certificate("CEU-PPPP-QQQQ-RRRR-SSSS", learner_name="محمد الأحمد"), "letter"),
    "attendance": (
        *certificate("CEU-ZZZZ-YYYY-XXXX-WWWW", kind="attendance", ce_hours="0", approvals=[]),
        "letter",
    ),
    "hebrew-one-approval-a4": (
        configured(
            snapshot(
                code="CEU-2222-3333-4444-5555",
                learner_name="שרה כהן",
                licences=[],
                approvals=snapshot()["approvals"][:1],
            )
        ),
        verify_url("CEU-2222-3333-4444-5555"),
        "a4",
    ),
}


def test_a_certificate_rendered_after_others_is_the_one_a_fresh_worker_renders():
    cold = {}
    for key, (data, url, page_size) in TARGETS.items():
        fresh_worker()
        cold[key] = render(data, url, page_size)

    fresh_worker()
    others = ["王小明", "Ελένη Παπαδοπούλου", "שרה כהן", "Zoë Ramírez-Núñez"]
    # Three rounds: a block is kept the second time it is laid out, so in the third each
    # target's blocks come from what was kept, whatever its tree.
    for round_ in range(3):
        for index, name in enumerate(others):
            code = f"CEU-TTTT-VVVV-WWW{round_}-XXX{index}"
            render(*certificate(code, learner_name=name))
            render(configured(snapshot(code=code, learner_name=name)), verify_url(code))
        warm = {key: render(*target) for key, target in TARGETS.items()}
        assert warm == cold


def _qr_codes(pdf: bytes, tmp_path: Path) -> list[str]:
    """The QR codes a reader finds on the page, rendered as an image."""
    from PIL import Image

    zxingcpp = _zxingcpp()
    source = tmp_path / f"{len(list(tmp_path.iterdir()))}.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        [_tool("pdftoppm"), "-r", "200", "-png", str(source), str(source.with_suffix(""))],
        check=True,
        timeout=60,
    )
    (png,) = tmp_path.glob(f"{source.stem}*.png")
    with Image.open(png) as image:
        codes = zxingcpp.read_barcodes(image)
    return [c.text for c in codes if c.format == zxingcpp.BarcodeFormat.QRCode]


def test_each_certificate_carries_its_own_qr_code(tmp_path):
    first, second = "CEU-7K3M-Q9XZ-4T2P-AAAA", "CEU-7K3M-Q9XZ-4T2P-BBBB"
    fresh_worker()
    # A path drawn twice is replayed from then on: the third render of the first certificate
    # draws its QR code from what was kept.
    pdfs = [render(*certificate(first)) for _ in range(3)] + [render(*certificate(second))]
    assert _qr_codes(pdfs[2], tmp_path) == [verify_url(first)]
    assert _qr_codes(pdfs[3], tmp_path) == [verify_url(second)]


def test_a_qr_code_in_a_block_laid_out_before_is_the_certificates_own(tmp_path):
    """The QR code's block is laid out in the same place with the same text (none) whatever the
    address it stands for: no block holding an image is ever taken from what was kept."""
    data, url = certificate("CEU-7K3M-Q9XZ-4T2P-AAAA")
    elsewhere = url.replace("ce.example.org", "ce.example.net")
    fresh_worker()
    render(data, url)
    render(data, url)
    assert _qr_codes(render(data, elsewhere), tmp_path) == [elsewhere]


def test_a_changed_provider_name_shows_at_once():
    fresh_worker()
    data, url = certificate("CEU-7K3M-Q9XZ-4T2P-HW8C")
    render(data, url)
    render(data, url)
    data["provider"]["name"] = "Riverside Counselling Institute"
    text = PdfReader(io.BytesIO(render(data, url))).pages[0].extract_text()
    # At the top and under the signature line (the approval statements name the provider as
    # their accreditor approved it, and are left as they are).
    assert text.count("Riverside Counselling Institute") == 2


def test_a_changed_stylesheet_is_read_again(tmp_path, settings):
    """The stylesheet is parsed once per worker thread, and again whenever the file changes."""
    folder = tmp_path / "static" / "courses" / "pdf"
    folder.mkdir(parents=True)
    for name in ("certificate.css", "ornament.svg", "sample-watermark.svg"):
        shutil.copy(STATIC / name, folder / name)
    settings.STATICFILES_DIRS = [tmp_path / "static"]
    fresh_worker()
    data, url = certificate("CEU-7K3M-Q9XZ-4T2P-HW8C")

    before = PdfReader(io.BytesIO(render(data, url))).pages[0].extract_text()
    render(data, url)  # its styles' values kept twice over
    with (folder / "certificate.css").open("a") as stylesheet:
        stylesheet.write('\n.heading::after { content: " (restyled)"; }\n')
        # A property of an element whose computed values were kept: the new rule shows.
        stylesheet.write(".provider { text-transform: uppercase; }\n")
    after = PdfReader(io.BytesIO(render(data, url))).pages[0].extract_text()

    assert "(restyled)" not in before
    assert "(restyled)" in after
    assert "SAMPLE CE PROVIDER (DEMO)" not in before
    assert "SAMPLE CE PROVIDER (DEMO)" in after


# --- Shortcuts that make the very file WeasyPrint makes -------------------------------------------


def test_the_styles_kept_are_bounded_and_only_kept_while_rendering(monkeypatch):
    fresh_worker()
    render(*certificate("CEU-7K3M-Q9XZ-4T2P-HW8C"))
    kept = pdf_engine._kept_styles()
    assert 0 < len(kept) <= pdf_engine._STYLES_KEPT
    assert pdf_engine._thread.style_records is None  # other documents keep nothing
    # Every element's style has a key (its background layers included): a second certificate
    # finds each kept, and keeps nothing more.
    count = len(kept)
    records = []
    original = pdf_engine._ReusingStyleFor.__init__

    def recorded(self, *args, **kwargs):
        original(self, *args, **kwargs)
        records.extend(pdf_engine._thread.style_records)

    with monkeypatch.context() as patch:
        patch.setattr(pdf_engine._ReusingStyleFor, "__init__", recorded)
        render(*certificate("CEU-7K3M-Q9XZ-4T2P-BBBB"))
    assert records
    assert all(key in kept and started is kept[key] for key, _style, started in records)
    assert len(pdf_engine._kept_styles()) == count
    monkeypatch.setattr(pdf_engine, "_STYLES_KEPT", 10)
    render(*certificate("CEU-7K3M-Q9XZ-4T2P-AAAA", learner_name="王小明"))
    assert len(pdf_engine._kept_styles()) == 10


@pytest.mark.parametrize("key", ["sample", "long-name-a4", "hebrew-one-approval-a4"])
def test_styles_started_from_kept_values_draw_the_same_file(key, monkeypatch):
    """The same certificate with its styles computed from scratch, and started from the values
    of a first render: the same bytes (a value kept wrongly would show in the drawing)."""
    data, url, page_size = TARGETS[key]
    fresh_worker()
    monkeypatch.setattr(pdf_engine, "styles_reused", contextlib.nullcontext)
    from_scratch = [render(data, url, page_size) for _ in range(2)]
    monkeypatch.undo()
    fresh_worker()
    started = [render(data, url, page_size) for _ in range(3)]
    assert from_scratch[0] == from_scratch[1]  # the control: nothing else differs
    assert started == [from_scratch[0]] * 3
    assert pdf_engine._kept_styles()


def test_a_tables_copy_of_its_style_starts_from_the_values_kept(monkeypatch):
    fresh_worker()
    render(*certificate("CEU-AAAA-BBBB-CCCC-DDDD"))
    tables, computed = [], []
    wrap, missing = weasyprint_build.wrap_table, ComputedStyle.__missing__

    def collected(box, children):
        wrapper = wrap(box, children)
        tables.extend(child.style for child in wrapper.children if isinstance(child, TableBox))
        return wrapper

    def computing(style, key):
        computed.append((style, key))
        return missing(style, key)

    monkeypatch.setattr(weasyprint_build, "wrap_table", collected)
    monkeypatch.setattr(ComputedStyle, "__missing__", computing)
    render(*certificate("CEU-EEEE-FFFF-GGGG-HHHH", learner_name="Jonas Lindqvist"))

    assert len(tables) == 4  # the sheet, the facts, the approvals, the foot
    assert computed  # other copies (a cell's, for a moment) are computed as before
    assert not [key for style, key in computed if any(style is table for table in tables)]


@pytest.fixture
def matched(monkeypatch):
    """The elements cssselect2 matches against the stylesheets' selectors."""
    elements = []
    match = cssselect2.Matcher.match

    def counted(matcher, element):
        elements.append(element.etree_element)
        return match(matcher, element)

    monkeypatch.setattr(cssselect2.Matcher, "match", counted)
    return elements


def test_the_next_certificate_matches_no_selector(matched):
    afresh = rendered_by_a_fresh_worker(NEXT_ONE)
    a_worker_after_another_certificate()
    assert matched
    matched.clear()

    after = render(*NEXT_ONE)

    assert matched == []
    assert after == afresh


def test_a_certificate_of_another_tree_is_matched_afresh(matched):
    fresh_worker()
    render(*certificate("CEU-AAAA-BBBB-CCCC-DDDD"))
    for data, url, page_size in (TARGETS["attendance"], TARGETS["long-name-a4"]):
        matched.clear()
        render(data, url, page_size)
        assert matched  # no approvals; a longer name's class
        matched.clear()
        render(data, url, page_size)
        assert matched == []


def _document_pdf(markup: str, stylesheet: CSS) -> bytes:
    """`markup` rendered as a certificate is (its styles, lines and cascade kept), with
    `stylesheet` as the renderer's own (one object, as the certificate's is)."""
    with pdf_engine.styles_reused():
        document = pdf_engine.parsed_document(markup, None, "https://static.invalid/").render(
            font_config=certificate_pdf.thread_font_config(), stylesheets=[stylesheet]
        )
        return document.write_pdf()


CASCADE_RULES = (
    "p { color: #1f3a5f } p:empty { border: 2pt solid #a8864f } "
    "p:first-child { color: #a8864f } .wide { letter-spacing: 2pt }"
)


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ("<p>Text</p><p>More</p>", "<p></p><p>More</p>"),  # an element now empty
        ("<p>Text</p><p>More</p>", '<p class="wide">Text</p><p>More</p>'),  # an attribute
        ("<p>Text</p><p>More</p>", "<div></div><p>Text</p><p>More</p>"),  # its place
    ],
    ids=["empty", "attribute", "sibling"],
)
def test_the_cascade_kept_is_the_one_of_the_same_tree(first, then, matched):
    sheet = CSS(string=CASCADE_RULES)
    page = "<html><body>{}</body></html>"
    fresh_worker()
    afresh = _document_pdf(page.format(then), sheet)
    fresh_worker()
    _document_pdf(page.format(first), sheet)
    matched.clear()

    assert _document_pdf(page.format(then), sheet) == afresh
    assert matched  # another tree: matched, not taken from the first
    matched.clear()
    assert _document_pdf(page.format(then.replace("More", "Other")), sheet) != afresh
    assert matched == []  # only the text differs

    # A stylesheet of the document's own is parsed anew for each: never the same cascade.
    inline = f"<html><head><style>{CASCADE_RULES}</style></head><body>{then}</body></html>"
    _document_pdf(inline, sheet)
    matched.clear()
    _document_pdf(inline, sheet)
    assert matched


@pytest.mark.parametrize(
    ("limit", "table"),
    [
        ("_PROGRAMS_KEPT", "font_programs"),
        ("_STREAMS_KEPT", "streams_compressed"),
        ("_FONTS_KEPT", "fonts"),
        ("_IMAGES_KEPT", "svg_images"),
        ("_CASCADES_KEPT", "cascades"),
        ("_STRUTS_KEPT", "struts"),
        ("_BLOCKS_KEPT", "blocks_laid_out"),
        ("_BLOCKS_MET", "blocks_met"),
    ],
)
def test_what_a_thread_keeps_is_bounded(limit, table, monkeypatch):
    fresh_worker()
    monkeypatch.setattr(pdf_engine, limit, 1)
    for target in ("sample", "attendance", "arabic"):  # other trees, fonts, streams
        render(*TARGETS[target])
    assert len(pdf_engine._kept(table)) == 1


def test_a_style_key_tells_a_list_from_a_tuple():
    frozen = pdf_engine._frozen
    assert frozen([("url", "a.svg")]) != frozen((("url", "a.svg"),))
    assert frozen({"a": [1]}) != frozen((("a", (1,)),))
    assert hash(frozen([("left", 0), ["x"]])) == hash(frozen([("left", 0), ["x"]]))


def test_each_object_is_serialised_once_into_the_very_file_pydyf_writes(monkeypatch):
    """pydyf alone compresses each stream twice (once to write it, once to hash the file for its
    identifier); the certificate's write compresses each once, and the file is the same."""
    data, url = certificate("CEU-7K3M-Q9XZ-4T2P-HW8C")
    fresh_worker()  # nothing compressed before
    compressions = []
    compressobj = zlib.compressobj

    def counted(*args, **kwargs):
        compressions.append(True)
        return compressobj(*args, **kwargs)

    monkeypatch.setattr(zlib, "compressobj", counted)
    once = render(data, url)
    once_count = len(compressions)
    assert pdf_engine._thread.serialised is None  # pydyf elsewhere works as it always has
    compressions.clear()
    monkeypatch.setattr(certificate_pdf, "_finish", finish)  # pydyf's own write
    fresh_worker()
    assert render(data, url) == once
    assert once_count < len(compressions) <= 2 * once_count


@pytest.mark.parametrize(
    "name",
    [
        "Zoë Ramírez-Núñez",
        "محمد الأحمد",
        "<b>Kim</b> & \"Lee\" 'O'Neil'",
        "Tab\tbetween",  # a tab, kept by HTML in an attribute, made a space by XML
        "Bell\x07ringer",  # a character XML does not allow
    ],
)
def test_the_template_reads_into_the_tree_weasyprints_parser_builds(name, monkeypatch):
    data, url = certificate("CEU-7K3M-Q9XZ-4T2P-HW8C", learner_name=name)
    read = render(data, url)
    monkeypatch.setattr(
        pdf_engine,
        "parsed_document",
        lambda markup, fetcher, base_url: HTML(
            string=markup, base_url=base_url, url_fetcher=fetcher
        ),
    )
    assert render(data, url) == read


def test_a_usual_certificate_is_read_by_the_xml_parser(monkeypatch):
    parsed = []
    original = pdf_engine._ParsedHTML.__init__

    def spy(self, *args, **kwargs):
        parsed.append(True)
        original(self, *args, **kwargs)

    monkeypatch.setattr(pdf_engine._ParsedHTML, "__init__", spy)
    render(*certificate("CEU-7K3M-Q9XZ-4T2P-HW8C"))
    assert parsed == [True]


# --- The path drawer ------------------------------------------------------------------------------


class _Node:
    def __init__(self, d: str, **attributes):
        self.attrib = {"d": d, **attributes}
        self.vertices: deque = deque()

    def get(self, key, default=None):
        return self.attrib.get(key, default)


class _Svg:
    """What a path drawer uses of WeasyPrint's SVG: a stream, and sizes resolved by its rules."""

    point = SVG.point

    def __init__(self):
        self.stream = pydyf.Stream()
        self.inner_width = self.inner_height = 100


# A marker drawn at the path's end: the path's vertices (where markers go) must then be right.
MARKED = {"marker-end": "url(#arrow)"}


def drawn(drawer, d: str, font_size: float = 16, **attributes) -> tuple[list, list]:
    svg, node = _Svg(), _Node(d, **attributes)
    drawer(svg, node, font_size)
    return svg.stream.stream, list(node.vertices)


def qr_path(url: str) -> str:
    """A QR code as one SVG path of straight lines: a long path the drawer must get right."""
    svg = segno.make(url, error="m").svg_inline(scale=1, border=4, omitsize=True)
    return re.search(r' d="([^"]+)"', svg).group(1)


STRAIGHT_PATHS = [
    qr_path(VERIFY_URL),
    qr_path("https://ce.example.org/verify/CEU-0000-0000-0000-0000/"),
    qr_path("https://x.example/" + "v" * 120),
    "M4 4.5h7m1 0h1m-33 1h1",
    "M0 0 L10 0 L10 10 Z",
    "m1 1 2 2 3 3 z l4 4",  # a moveto's extra pairs are linetos; a lineto after a closepath
    "M1,2 3,4 H-5 V-6 h7 v8 Z z",
    "M0 0 H0 V0 h-1 v-1 l0 0 L-3 -4",
    "  M 10 10 h 5  ",
    "M1-2l3-4",
    "L1 1 h2",  # no moveto first
]


@pytest.mark.parametrize("d", STRAIGHT_PATHS)
def test_straight_paths_are_drawn_as_weasyprint_draws_them(d):
    commands = _straight_commands(d)
    assert commands is not None
    assert drawn(lambda svg, node, _size: _draw_straight_path(svg, node, commands), d) == drawn(
        _weasyprint_path, d
    )


@pytest.mark.parametrize(
    "d",
    [
        "M0 0 C1 1 2 2 3 3",  # curves: WeasyPrint's own drawer
        "M1e2 0 L0 0",  # an exponent
        "M1em 0 L2 2",  # a unit
        "M0 0 L1",  # an odd number of coordinates
        "10 10 L1 1",
        "M0 0 Z 5",
        "M1.5.5 L0 0",
        "",
    ],
)
def test_other_paths_go_to_weasyprint(d):
    assert _straight_commands(d) is None


@pytest.mark.parametrize(
    "d",
    [
        re.search(r' d="([^"]+)"', (STATIC / "sample-watermark.svg").read_text()).group(1),
        "M108 6 L114 2 L120 6 L114 10 Z M120 6 L126 2 L132 6 L126 10 Z",
        qr_path(VERIFY_URL),
    ],
)
def test_a_path_drawn_again_is_replayed_exactly(d):
    fresh_worker()
    operators, vertices = drawn(_weasyprint_path, d)
    assert [drawn(_draw_path, d, **MARKED) for _ in range(4)] == [(operators, vertices)] * 4
    # Without a marker nothing is drawn at the vertices, and none is kept for the marker pass.
    assert [drawn(_draw_path, d) for _ in range(2)] == [(operators, [])] * 2


def test_a_path_with_units_is_drawn_afresh_for_each_font_size():
    fresh_worker()
    d = "M1ex 1ex L2ex 2ex"  # an ex is half the font size here
    for font_size in (10, 20, 10, 20):
        assert drawn(_draw_path, d, font_size, **MARKED) == drawn(_weasyprint_path, d, font_size)


def test_the_paths_kept_are_bounded():
    fresh_worker()
    for index in range(200):
        d = f"M0 0 L{index} 1"
        drawn(_draw_path, d)
        drawn(_draw_path, d)
    kept, seen = pdf_engine._path_memory()
    assert len(kept) <= pdf_engine._PATHS_KEPT
    assert len(seen) <= pdf_engine._PATHS_KEPT


# --- The text drawer ------------------------------------------------------------------------------

_SERIF = (
    '"DejaVu Serif", "Noto Serif Hebrew", "Noto Naskh Arabic", "Noto Serif Devanagari", '
    '"WenQuanYi Micro Hei"'
)
# Every kind of glyph the drawer meets: accents, letter and word spacing (kerning entries), right
# to left with joining (Arabic), marks set above and below their letter (pointed Hebrew: glyphs
# with a vertical offset), Devanagari clusters, CJK, bold and a second face, a character no font
# has (.notdef, logged), and lines of justified text.
TEXTS = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><style>
@page {{ size: letter landscape; margin: 0.5in }} body {{ font-family: {_SERIF}; font-size: 11pt }}
.sans {{ font-family: "DejaVu Sans" }} .spaced {{ letter-spacing: 0.08em; word-spacing: 3pt }}
.justified {{ width: 3in; text-align: justify }}
</style></head><body>
<p>Zoë Ramírez-Núñez, LCSW-R · <b>Certificate of Completion</b>
<span class="sans">CEU-7K3M</span></p>
<p class="spaced sans">THIS CERTIFIES THAT, word spaced</p>
<p lang="ar" dir="rtl">محمد الأحمد، أخصائي اجتماعي</p>
<p lang="he" dir="rtl">שָׁלוֹם עֲלֵיכֶם, שָׂרָה כֹּהֵן</p>
<p lang="hi">अनन्या शर्मा, क्षत्रिय</p>
<p>王小明 山田 さくら 김민준 Ελένη Παπαδοπούλου Анастасия Шевченко</p>
<p>A character no font has: \ue000; zero-width ones: a\u200bb c\u00add e\u2060f.</p>
<p class="justified">Sample CE Provider, provider number SAMPLE-0000, is approved to offer
continuing education; its statement runs over several justified lines of text here.</p>
</body></html>"""


def _text_pdf(html: str) -> bytes:
    return HTML(string=html).write_pdf(font_config=certificate_pdf.thread_font_config())


@pytest.fixture
def handed_over(monkeypatch):
    """The text of each line the faster drawer hands to WeasyPrint's."""
    lines = []
    weasyprints = pdf_engine._weasyprint_first_line

    def counted(*args, **kwargs):
        lines.append(args[1].text)
        return weasyprints(*args, **kwargs)

    monkeypatch.setattr(pdf_engine, "_weasyprint_first_line", counted)
    return lines


def test_the_text_drawer_writes_the_file_weasyprints_drawer_writes(monkeypatch, handed_over):
    ours = _text_pdf(TEXTS)
    assert handed_over == []  # every line was drawn by the faster drawer
    monkeypatch.setattr(weasyprint_draw_text, "draw_first_line", pdf_engine._weasyprint_first_line)
    assert _text_pdf(TEXTS) == ours


def _page_contents(pdf: bytes) -> bytes:
    return PdfReader(io.BytesIO(pdf)).pages[0].get_contents().get_data()


def test_emoji_and_ellipses_are_drawn_by_weasyprints_drawer(monkeypatch, handed_over):
    html = TEXTS.replace(
        "</body>",
        "<p>Sam \U0001f44d\U0001f3fd and Kim \u2764\ufe0f</p>"
        '<p style="width: 1in; overflow: hidden; white-space: nowrap; text-overflow: ellipsis">'
        "A title far too long for its box</p></body>",
    )
    ours = _text_pdf(html)
    assert any("\U0001f44d" in text for text in handed_over)
    assert any(text.startswith("A title") for text in handed_over)
    monkeypatch.setattr(weasyprint_draw_text, "draw_first_line", pdf_engine._weasyprint_first_line)
    # The emoji font is stamped with the time it was written: the pages' drawing is compared.
    assert _page_contents(_text_pdf(html)) == _page_contents(ours)


# --- Lines of text laid out and drawn before --------------------------------------------------


def _page_text(pdf: bytes) -> str:
    return PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


@pytest.fixture
def weasyprint_lines(monkeypatch):
    """The lines WeasyPrint itself lays out and draws (the others come from what was kept)."""
    made = {"laid out": [], "drawn": []}
    split, draw = pdf_engine._weasyprint_split_first_line, pdf_engine._weasyprint_draw_text

    def laid_out(text, *args, **kwargs):
        made["laid out"].append(text)
        return split(text, *args, **kwargs)

    def drawn(stream, textbox, *args, **kwargs):
        made["drawn"].append(textbox.text)
        return draw(stream, textbox, *args, **kwargs)

    monkeypatch.setattr(pdf_engine, "_weasyprint_split_first_line", laid_out)
    monkeypatch.setattr(pdf_engine, "_weasyprint_draw_text", drawn)
    return made


def test_the_next_certificate_lays_out_and_draws_only_its_own_lines(weasyprint_lines):
    fresh_worker()
    first = render(*certificate("CEU-AAAA-BBBB-CCCC-DDDD", learner_name="Amara Okafor"))
    laid_out, drawn = len(weasyprint_lines["laid out"]), len(weasyprint_lines["drawn"])
    weasyprint_lines["laid out"].clear()
    weasyprint_lines["drawn"].clear()

    second = render(*certificate("CEU-EEEE-FFFF-GGGG-HHHH", learner_name="Jonas Lindqvist"))

    # Only what differs is laid out and drawn again: the name, the code, the verify address.
    assert "Jonas Lindqvist" in weasyprint_lines["laid out"]
    assert "Jonas Lindqvist" in weasyprint_lines["drawn"]
    assert len(weasyprint_lines["laid out"]) <= 6 < laid_out
    assert len(weasyprint_lines["drawn"]) <= 6 < drawn
    assert "Certificate of Completion" not in weasyprint_lines["drawn"]
    text = _page_text(second)
    assert "Jonas Lindqvist" in text
    assert "Amara Okafor" not in text
    assert "CEU-EEEE-FFFF-GGGG-HHHH" in text
    assert "CEU-AAAA-BBBB-CCCC-DDDD" not in text
    assert (
        _page_text(first)
        .replace("Amara Okafor", "Jonas Lindqvist")
        .replace("AAAA-BBBB-CCCC-DDDD", "EEEE-FFFF-GGGG-HHHH")
        == text
    )


def test_lines_are_kept_only_while_a_certificate_renders_and_are_bounded(
    monkeypatch, weasyprint_lines
):
    fresh_worker()
    monkeypatch.setattr(pdf_engine, "_LINES_KEPT", 5)
    render(*certificate("CEU-AAAA-BBBB-CCCC-DDDD"))
    assert len(pdf_engine._kept("lines_laid_out")) == 5
    assert len(pdf_engine._kept("lines_drawn")) == 5
    assert pdf_engine._thread.style_keys is None

    # Another document (the transcript is one) lays out and draws every line itself.
    fresh_worker()
    weasyprint_lines["laid out"].clear()
    _text_pdf(TEXTS)
    _text_pdf(TEXTS)
    assert weasyprint_lines["laid out"].count("THIS CERTIFIES THAT, word spaced") == 2
    assert not pdf_engine._kept("lines_laid_out")
    assert not pdf_engine._kept("lines_drawn")


@pytest.mark.parametrize(
    "name",
    ["Ama\u200bMensah O\u2060Brien", "שָׂרָה כֹּהֵן", "अनन्या शर्मा", "Zoë Ramírez-Núñez"],
    ids=["zero-width", "pointed-hebrew", "devanagari", "latin"],
)
def test_a_line_drawn_again_from_what_was_kept_is_the_line_drawn_afresh(name, weasyprint_lines):
    data, url = certificate("CEU-AAAA-BBBB-CCCC-DDDD", learner_name=name)
    fresh_worker()
    afresh = render(data, url)
    render(*certificate("CEU-EEEE-FFFF-GGGG-HHHH", learner_name=name))
    weasyprint_lines["drawn"].clear()

    again = render(data, url)

    assert name not in weasyprint_lines["drawn"]  # the name's line came from what was kept
    assert again == afresh


def test_lines_are_kept_for_the_font_configuration_that_shaped_them(weasyprint_lines):
    from weasyprint.text.fonts import FontConfiguration

    fresh_worker()
    render(*certificate("CEU-AAAA-BBBB-CCCC-DDDD"))
    weasyprint_lines["laid out"].clear()
    weasyprint_lines["drawn"].clear()
    certificate_pdf._thread.font_config = FontConfiguration()  # another Pango font map

    render(*certificate("CEU-EEEE-FFFF-GGGG-HHHH"))

    assert "Certificate of Completion" in weasyprint_lines["laid out"]
    assert "Certificate of Completion" in weasyprint_lines["drawn"]


def calls_to(monkeypatch, name: str, noted=lambda *args: args) -> list:
    """What each call to pdf_engine's `name` (one of WeasyPrint's own ways the engine falls back
    on) was given, as `noted` puts it; the calls themselves go through."""
    calls = []
    function = getattr(pdf_engine, name)

    def noting(*args, **kwargs):
        calls.append(noted(*args))
        return function(*args, **kwargs)

    monkeypatch.setattr(pdf_engine, name, noting)
    return calls


@pytest.fixture
def struts_measured(monkeypatch):
    """The styles WeasyPrint itself measures a line height for (the others come from what was
    kept)."""
    return calls_to(monkeypatch, "_weasyprint_strut")


def test_the_next_certificate_measures_no_line_height(struts_measured):
    a_worker_after_another_certificate()
    struts_measured.clear()
    assert render(*NEXT_ONE) == rendered_by_a_fresh_worker(NEXT_ONE)
    assert struts_measured  # a fresh worker measures them
    struts_measured.clear()

    a_worker_after_another_certificate()
    struts_measured.clear()
    render(*NEXT_ONE)
    assert not struts_measured


def test_line_heights_are_kept_for_certificates_and_their_font_configuration(struts_measured):
    from weasyprint.text.fonts import FontConfiguration

    a_worker_after_another_certificate()
    certificate_pdf._thread.font_config = FontConfiguration()  # another Pango font map
    struts_measured.clear()
    render(*NEXT_ONE)
    assert struts_measured

    # Another document (the transcript is one) measures them all each time, and keeps none.
    fresh_worker()
    struts_measured.clear()
    _text_pdf(TEXTS)
    measured = len(struts_measured)
    _text_pdf(TEXTS)
    assert len(struts_measured) == 2 * measured
    assert not pdf_engine._kept("struts")


@pytest.fixture
def blocks_laid_out(monkeypatch):
    """The classes of the blocks WeasyPrint itself lays out (the others come from what was
    kept), with the kind of box: a table's wrapper and the table itself share their element."""

    def block(context, box, *args):
        element = box.element
        name = "" if element is None else element.get("class") or box.element_tag
        return name, type(box).__name__

    return calls_to(monkeypatch, "_weasyprint_block_level_layout", block)


def test_the_next_certificate_lays_out_only_the_blocks_that_changed(blocks_laid_out):
    a_worker_after_another_certificate()
    blocks_laid_out.clear()
    pdf = render(*NEXT_ONE)
    laid_out = set(blocks_laid_out)

    assert {("name ", "BlockBox"), ("code", "BlockBox")} <= laid_out  # the name, the code
    # The heading, the course's title, its facts and approvals, the signature and the contact
    # line are as they were, where they were.
    names = {name for name, _kind in laid_out}
    assert not names & {"heading", "course", "org sans", "contact sans"}
    # A table is kept with its wrapper (WeasyPrint's anonymous box around it).
    assert not {name for name in names if name.startswith(("approvals", "facts"))}
    assert pdf == rendered_by_a_fresh_worker(NEXT_ONE)


def test_blocks_that_move_are_laid_out_where_they_now_fall(blocks_laid_out):
    """A licence line that wraps pushes every block below it down: each is laid out again."""
    data, url = certificate("CEU-AAAA-BBBB-CCCC-DDDD")
    fresh_worker()
    render(data, url)
    render(data, url)  # kept the second time
    wrapping = copy.deepcopy(data)
    licence, *others = wrapping["licences"]
    wrapping["licences"] = [{**licence, "number": "LCSW-R " + "0123456789 " * 6}, *others]
    blocks_laid_out.clear()
    pdf = render(wrapping, url)
    names = {name for name, _kind in blocks_laid_out}

    assert any(name.split()[0] == "course" for name in names)
    assert "heading" not in names  # above the licences: where it was
    assert pdf == rendered_by_a_fresh_worker((wrapping, url))


def test_blocks_are_kept_only_while_a_certificate_renders(blocks_laid_out):
    fresh_worker()
    _text_pdf(TEXTS)
    laid_out = len(blocks_laid_out)
    _text_pdf(TEXTS)
    assert len(blocks_laid_out) == 2 * laid_out
    assert not pdf_engine._kept("blocks_laid_out")


def test_the_next_certificate_compiles_no_css_selector(monkeypatch):
    compiled = calls_to(monkeypatch, "_cssselect2_compile")
    pdf_engine._compiled_selectors.cache_clear()  # as in a process just started
    a_worker_after_another_certificate()
    assert compiled
    compiled.clear()
    assert render(*NEXT_ONE) == rendered_by_a_fresh_worker(NEXT_ONE)
    assert not compiled
    # Another document (the transcript is one) compiles its selectors each time.
    _text_pdf(TEXTS)
    assert compiled


def test_a_certificates_boxes_and_file_objects_are_freed_as_soon_as_it_is_written():
    """Nothing of a rendered certificate (its boxes, its layout context, the file's objects) is
    left for Python's cyclic collector to find: the collector's work after each certificate."""
    from weasyprint.formatting_structure.boxes import Box
    from weasyprint.layout import LayoutContext

    a_worker_after_another_certificate()
    gc.collect()
    with collector_paused():
        gc.disable()
        try:
            render(*NEXT_ONE)
            gc.set_debug(gc.DEBUG_SAVEALL)
            gc.collect()
            boxes = [item for item in gc.garbage if isinstance(item, Box)]
            file_objects = [
                item
                for item in gc.garbage
                if isinstance(item, (pydyf.Dictionary, pydyf.Array, pydyf.Stream))
            ]
            contexts = [vars(item) for item in gc.garbage if isinstance(item, LayoutContext)]
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
            gc.enable()
    assert not boxes
    assert not file_objects
    assert not any(contexts)  # an image may still name the context, which holds nothing


# --- Font programs cut, and streams compressed, once ---------------------------------------------


@pytest.fixture
def fonts_cut(monkeypatch):
    """The glyphs of each font WeasyPrint's subsetter cuts (the others come from what was kept),
    and how many streams zlib compresses."""
    made = {"cut": [], "compressed": 0}
    compressobj = zlib.compressobj

    def counted(cut):
        def counted_cut(font, to_unicode, hinting):
            made["cut"].append("".join(to_unicode.values()))
            return cut(font, to_unicode, hinting)

        return counted_cut

    def counted_compressor(*args, **kwargs):
        made["compressed"] += 1
        return compressobj(*args, **kwargs)

    # Certificates' fonts are cut by `_cut`, other documents' by WeasyPrint's subsetter.
    monkeypatch.setattr(pdf_engine, "_cut", counted(pdf_engine._cut))
    monkeypatch.setattr(pdf_engine, "_weasyprint_subset", counted(pdf_engine._weasyprint_subset))
    monkeypatch.setattr(pdf_engine.zlib, "compressobj", counted_compressor)
    return made


def test_fonts_are_cut_to_the_program_weasyprints_subsetter_makes(monkeypatch):
    fonts = []
    weasyprints = pdf_engine._weasyprint_subset

    def both(font, to_unicode, hinting):
        fonts.append((copy.copy(font), dict(to_unicode)))
        return weasyprints(font, to_unicode, hinting)

    monkeypatch.setattr(pdf_engine, "_weasyprint_subset", both)
    _text_pdf(TEXTS)  # every script, bold, a second face, a character no font has
    assert len(fonts) >= 6
    assert any(font.missing for font, _glyphs in fonts)
    for font, glyphs in fonts:
        for hinting in (False, True):
            ours, theirs = copy.copy(font), copy.copy(font)
            pdf_engine._cut(ours, glyphs, hinting)
            weasyprints(theirs, glyphs, hinting)
            assert ours.file_content == theirs.file_content != font.file_content


def test_the_next_certificate_cuts_only_the_fonts_whose_glyphs_changed(fonts_cut):
    data, url = certificate("CEU-AAAA-BBBB-CCCC-DDDD", learner_name="Amara Okafor")
    fresh_worker()
    afresh = render(data, url)
    faces = len(fonts_cut["cut"])
    assert faces >= 3  # serif and sans, regular and bold

    fonts_cut["cut"].clear()
    again = render(data, url)
    assert fonts_cut["cut"] == []  # every face prints the glyphs it printed before
    assert again == afresh

    # A name with letters no heading has (the "J", the "q"): its face is cut again, the others
    # are not; the new letters are in the file's fonts and its text.
    other = render(*certificate("CEU-AAAA-BBBB-CCCC-DDDD", learner_name="Jonas Lindqvist"))
    assert 1 <= len(fonts_cut["cut"]) < faces
    assert any("J" in glyphs and "q" in glyphs for glyphs in fonts_cut["cut"])
    assert "Jonas Lindqvist" in _page_text(other)


def test_the_next_certificate_compresses_only_its_own_streams(fonts_cut):
    afresh = rendered_by_a_fresh_worker(NEXT_ONE)
    fonts_cut["compressed"] = 0
    a_worker_after_another_certificate()
    first = fonts_cut["compressed"]
    fonts_cut["compressed"] = 0

    after = render(*NEXT_ONE)

    # The page, the record and the file's metadata are its own; the colour profile, the
    # watermark and the fonts whose glyphs are the same were compressed for the first.
    assert 0 < fonts_cut["compressed"] <= first - 4
    assert after == afresh


def test_programs_and_streams_are_kept_only_for_certificates(fonts_cut):
    # Another document (the transcript is one) has its fonts cut and its streams compressed
    # by WeasyPrint and pydyf every time.
    fresh_worker()
    first = _text_pdf(TEXTS)
    cuts, compressed = len(fonts_cut["cut"]), fonts_cut["compressed"]
    assert _text_pdf(TEXTS) == first
    assert len(fonts_cut["cut"]) == 2 * cuts
    assert fonts_cut["compressed"] == 2 * compressed
    assert not pdf_engine._kept("font_programs")
    assert not pdf_engine._kept("streams_compressed")


def test_fonts_are_kept_for_the_faces_they_were_cut_from(fonts_cut):
    from weasyprint.text.fonts import FontConfiguration

    fresh_worker()
    render(*certificate("CEU-AAAA-BBBB-CCCC-DDDD"))
    fonts_cut["cut"].clear()
    certificate_pdf._thread.font_config = FontConfiguration()  # another Pango font map, new faces

    render(*certificate("CEU-AAAA-BBBB-CCCC-DDDD"))

    assert len(fonts_cut["cut"]) >= 3


# --- Fonts made once -----------------------------------------------------------------------------


@pytest.fixture
def fonts_made(monkeypatch):
    """How many fonts WeasyPrint makes for the renderer (the others are copied from what was
    kept), and each font the renderer gives beside the one WeasyPrint makes for the same Pango
    font (made aside, and not counted)."""
    made = {"made": 0, "copies": []}
    make, keep = pdf_engine._weasyprint_font, pdf_engine._font

    def counted(pango_font, description, font_size):
        made["made"] += 1
        return make(pango_font, description, font_size)

    def compared(pango_font, description, font_size):
        font = keep(pango_font, description, font_size)
        _key, fresh_description, fresh_size = get_pango_font_key(pango_font)
        weasyprints = make(pango_font, fresh_description, fresh_size)
        made["copies"].append((font, weasyprints, _attributes(font), _attributes(weasyprints)))
        return font

    monkeypatch.setattr(pdf_engine, "_weasyprint_font", counted)
    monkeypatch.setattr(weasyprint_pdf_stream, "Font", compared)
    return made


def _attributes(font) -> dict:
    """A font's attributes as they are now (its HarfBuzz objects by address)."""
    return {
        name: int(ffi.cast("uintptr_t", value))
        if name in ("hb_font", "hb_face")
        else copy.deepcopy(value)
        for name, value in font.__dict__.items()
    }


def test_the_next_certificate_copies_the_fonts_it_uses(fonts_made):
    afresh = rendered_by_a_fresh_worker(NEXT_ONE)
    a_worker_after_another_certificate()
    fonts_made["copies"].clear()
    fonts_made["made"] = 0

    after = render(*NEXT_ONE)

    copies = fonts_made["copies"]
    assert len(copies) >= 3
    assert fonts_made["made"] == 0  # each a copy of the one kept
    for copy_, weasyprints, copied, made in copies:  # as each was made, before its file used it
        assert copied == made
        assert copy_.widths is not weasyprints.widths
    assert after == afresh


def test_fonts_are_kept_only_while_a_certificate_renders(fonts_made):
    fresh_worker()
    _text_pdf(TEXTS)
    made = fonts_made["made"]
    _text_pdf(TEXTS)
    assert fonts_made["made"] == 2 * made > 0
    assert not pdf_engine._kept("fonts")


# --- SVG images loaded and drawn once ------------------------------------------------------------


@pytest.fixture
def svg_work(monkeypatch):
    """The addresses of the SVG images WeasyPrint loads, and how many it draws itself."""
    made = {"loaded": [], "drawn": 0}
    load, draw = pdf_engine._weasyprint_image, SVGImage.draw

    def counted_load(cache, url_fetcher, options, url, **kwargs):
        image = load(cache, url_fetcher, options, url, **kwargs)
        if isinstance(image, SVGImage):
            made["loaded"].append(url)
        return image

    def counted_draw(*args, **kwargs):
        made["drawn"] += 1
        return draw(*args, **kwargs)

    monkeypatch.setattr(pdf_engine, "_weasyprint_image", counted_load)
    monkeypatch.setattr(SVGImage, "draw", counted_draw)
    return made


def test_the_next_certificate_loads_and_draws_no_svg_image(svg_work):
    afresh = rendered_by_a_fresh_worker(NEXT_ONE)
    assert sorted(url.rsplit("/", 1)[1] for url in svg_work["loaded"]) == [
        "ornament.svg",
        "sample-watermark.svg",
    ]
    assert svg_work["drawn"] == 2
    a_worker_after_another_certificate()

    svg_work["loaded"].clear()
    svg_work["drawn"] = 0
    after = render(*NEXT_ONE)

    assert svg_work == {"loaded": [], "drawn": 0}
    assert after == afresh


def test_a_changed_svg_file_is_loaded_and_drawn_again(tmp_path, settings, svg_work):
    folder = tmp_path / "static" / "courses" / "pdf"
    folder.mkdir(parents=True)
    for name in ("certificate.css", "ornament.svg", "sample-watermark.svg"):
        shutil.copy(STATIC / name, folder / name)
    settings.STATICFILES_DIRS = [tmp_path / "static"]
    ornament = folder / "ornament.svg"
    gold, blue = ornament.read_text(), ornament.read_text().replace("#a8864f", "#1f3a5f")
    writes = iter(range(1, 10))

    def write(text: str) -> None:  # a time of its own: a file system may count in ticks
        ornament.write_text(text)
        os.utime(ornament, ns=(next(writes) * 10**9,) * 2)

    data, url = certificate("CEU-7K3M-Q9XZ-4T2P-HW8C")
    fresh_worker()
    before = render(data, url)
    write(blue)
    fresh_worker()
    afresh = render(data, url)
    fresh_worker()
    write(gold)
    render(data, url)
    write(blue)
    svg_work["loaded"].clear()

    changed = render(data, url)

    assert [loaded.rsplit("/", 1)[1] for loaded in svg_work["loaded"]] == ["ornament.svg"]
    assert changed == afresh != before


# Drawings that add to the file more than opacity states: a shading, a font.
SVG_WITH_A_GRADIENT = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="10"><defs><linearGradient '
    'id="g"><stop offset="0" stop-color="#1f3a5f"/><stop offset="1" stop-color="#a8864f"/>'
    '</linearGradient></defs><rect width="40" height="10" fill="url(#g)"/></svg>'
)
SVG_WITH_TEXT = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="10"><text x="0" y="8" '
    'font-family="DejaVu Sans" font-size="8">CE</text></svg>'
)
SVG_BACKGROUND = (
    "<!doctype html><html><head><style>@page {{ size: A6 }} div {{ width: 2in; height: 0.5in; "
    'background: url("data:image/svg+xml,{svg}") no-repeat }}</style></head><body><div></div>'
    "</body></html>"
)


@pytest.mark.parametrize("svg", [SVG_WITH_A_GRADIENT, SVG_WITH_TEXT], ids=["gradient", "text"])
def test_an_svg_drawing_with_more_than_opacity_states_is_drawn_by_weasyprint_each_time(
    svg, svg_work
):
    html = SVG_BACKGROUND.format(svg=quote(svg))
    fresh_worker()
    with pdf_engine.styles_reused():  # as in a certificate's render
        first = _text_pdf(html)
        assert svg_work["drawn"] == 1
        assert _text_pdf(html) == first

    assert svg_work["drawn"] == 2
    assert len(svg_work["loaded"]) == 2  # loaded again to be drawn again
    (kept,) = pdf_engine._kept("svg_images").values()
    assert kept.drawings == {}


def test_svg_images_are_kept_only_while_a_certificate_renders(svg_work):
    fresh_worker()
    html = SVG_BACKGROUND.format(svg=quote((STATIC / "ornament.svg").read_text()))
    assert _text_pdf(html) == _text_pdf(html)
    assert svg_work["drawn"] == 2
    assert not pdf_engine._kept("svg_images")


def test_a_copied_style_has_no_key():
    fresh_worker()
    seen = []
    key_of = pdf_engine._text_style_key

    def record(style):
        key = key_of(style)
        if key is not None:
            seen.append((style, key))
        return key

    with contextlib.ExitStack() as stack:
        patch = stack.enter_context(pytest.MonkeyPatch.context())
        patch.setattr(pdf_engine, "_text_style_key", record)
        stack.enter_context(pdf_engine.styles_reused())
        document = pdf_engine.parsed_document(
            "<html><body><p>Some text</p></body></html>", None, "https://static.invalid/"
        ).render()
        assert document.pages
        style = seen[0][0]
        assert key_of(style) == seen[0][1]
        assert key_of(style.copy()) is None


# --- The collector --------------------------------------------------------------------------------


def test_the_collector_runs_again_after_a_render_even_one_that_failed():
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError, match="drawing failed"), collector_paused():
        raise ValueError("drawing failed")
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # off before, off after
    finally:
        gc.enable()


# --- One task renders and e-mails -----------------------------------------------------------------


class RefusesOnce(EmailBackend):
    """The locmem backend, with a mail server that refuses the first message it is given."""

    refused = 0

    def send_messages(self, messages):
        if RefusesOnce.refused == 0:
            RefusesOnce.refused += 1
            raise ConnectionRefusedError("the mail server is restarting")
        return super().send_messages(messages)


def completed_enrollment(learner):
    LicenceFactory(user=learner, profession="psychologist", jurisdiction="CA", number="PSY 12345")
    course = CourseFactory(slug="ghosting", title="Ruptures and ghosting")
    ApprovalFactory(course=course, accreditor=AccreditorFactory(short_name="APA"))
    return EnrollmentFactory(user=learner, course=course, completed_at=timezone.now())


def test_a_message_refused_by_the_render_task_is_sent_by_the_email_task_once(
    learner, settings, mailoutbox, django_capture_on_commit_callbacks, caplog
):
    from courses.services import credentials

    settings.EMAIL_BACKEND = f"{__name__}.RefusesOnce"
    RefusesOnce.refused = 0
    with django_capture_on_commit_callbacks(execute=True):
        certificate = credentials.issue_certificate(enrollment=completed_enrollment(learner))

    certificate.refresh_from_db()
    assert RefusesOnce.refused == 1
    assert "was not e-mailed at once; queued" in caplog.text
    (message,) = mail.outbox
    assert message.to == [learner.email]
    assert message.attachments[0][0] == f"{certificate.code}.pdf"
    assert list(certificate.events.values_list("kind", flat=True)) == [
        "issued",
        "rendered",
        "emailed",
    ]
