"""Speed-ups of WeasyPrint 70 and pydyf for the certificate renderer (certificate_pdf.py).

Each certificate is rendered by a worker, and rendering is the worker's main cost; WeasyPrint's
slowest general steps are taken here more directly where the result is the same file:

- SVG paths: WeasyPrint's path drawer is replaced by `_draw_path`, which replays the operators
  of a path drawn before (the ornament, the sample watermark) and reads a path of straight lines
  (the QR code) in one pass, writing the very operators WeasyPrint's own drawer writes; any other
  path goes to WeasyPrint's. It is installed for every document of the process.
- Text (`_draw_first_line`): WeasyPrint's glyph loop, with each run's glyphs read from Pango at
  once instead of field by field. It is installed for every document of the process.
- pydyf's file write (`serialise_once_when_written`): each stream and dictionary is serialised
  once, instead of once for the file and again for the hash of its identifier, and a stream's
  content compressed for an earlier certificate of this thread (a font, the colour profile, the
  watermark) is not compressed again.
- Computed styles (`styles_reused`): each element's style, the page's and a table's copy of its
  element's, starts with the values computed for one of the same cascade in an earlier
  certificate of this thread; and the cascade of a tree met before (the same elements and
  attributes, other text) is taken from what was kept instead of matched again.
- Lines of text (`_split_first_line`, `_draw_text`): a line laid out or shaped in an earlier
  certificate of this thread, with the same text, style and width, is taken from what was kept;
  so is a style's line height (`_strut`).
- Blocks (`_block_level_layout`): a block of a tree met before, with the same text, laid out in
  the same place of the same page, is copied from what was kept instead of laid out again.
- Font programs (`_subset`, `_cut`): a face cut to the same glyphs in an earlier certificate of
  this thread is taken from what was kept.
- Fonts (`_font`): each font a certificate's file uses is made once per thread (WeasyPrint copies
  the whole font file to make one) and copied for the next files.
- SVG images (`_image`): a static SVG image (the ornament, the watermark) is parsed once per
  thread, and drawn again from its operators where nothing else changes.
- The document (`parsed_document`): the template, well-formed XML, is read by Python's XML
  parser instead of WeasyPrint's HTML parser, and the user-agent stylesheet leaves out six
  pseudo-element rules a certificate never uses; the selectors WeasyPrint finds its stylesheets
  and metadata by are compiled once (`_compile_selectors`).
- `collector_paused`: Python's cyclic garbage collector waits while a PDF is drawn.

The write, the styles, the lines, blocks, fonts, font programs and SVG images kept and the
document act only inside a certificate's render (`render_certificate_pdf`): other documents, the
transcript among them, get WeasyPrint's and pydyf's own ways. The collector waits only within
`collector_paused` (the transcript's render uses it too). Each certificate is still byte for byte
what a fresh worker makes with WeasyPrint's and pydyf's own ways
(courses/tests/test_certificate_render_cache.py).

These are patches on WeasyPrint 70's internals (`weasyprint.svg.TAGS`, `weasyprint.css.StyleFor`,
`HTML.__init__` and `_ua_stylesheets`, `weasyprint.html.UA`, `draw.text.draw_first_line`,
`draw.draw_text`, `layout.inline.split_first_line` and `strut`, `layout.block.block_level_layout`,
`pdf.fonts.Font._harfbuzz_subset`, `pdf.stream.Font`, `document.original_get_image_from_uri`,
`formatting_structure.build.wrap_table`, `Document._build_layout_context`), cssselect2's
(`ElementWrapper._compile`) and pydyf's (`Dictionary.data`, `Stream.data`, `PDF.write`), which
is why pyproject.toml pins WeasyPrint `>=70,<71`: a new version is taken only with those tests
passing. What is kept between renders is kept per thread (this module's own `_thread`; the
certificate's font configuration and stylesheets are kept in certificate_pdf's), but for the
compiled selectors, the same for every thread."""

from __future__ import annotations

import gc
import re
import struct
import threading
import zlib
from collections import OrderedDict
from contextlib import contextmanager
from functools import lru_cache, partial
from math import atan2, pi
from typing import NamedTuple
from xml.etree import ElementTree

import cssselect2
import pydyf
import weasyprint
from weasyprint import CSS, HTML
from weasyprint import css as weasyprint_css
from weasyprint import document as weasyprint_document
from weasyprint import draw as weasyprint_draw
from weasyprint import html as weasyprint_html
from weasyprint import images as weasyprint_images
from weasyprint import svg as weasyprint_svg
from weasyprint import urls as weasyprint_urls
from weasyprint.css import properties as weasyprint_properties
from weasyprint.css.counters import CounterStyle
from weasyprint.draw import text as weasyprint_draw_text
from weasyprint.formatting_structure import boxes as weasyprint_boxes
from weasyprint.formatting_structure import build as weasyprint_build
from weasyprint.layout import block as weasyprint_block
from weasyprint.layout import inline as weasyprint_inline
from weasyprint.logger import LOGGER as weasyprint_logger
from weasyprint.matrix import Matrix
from weasyprint.pdf import fonts as weasyprint_pdf_fonts
from weasyprint.pdf import stream as weasyprint_pdf_stream
from weasyprint.text.ffi import FROM_UNITS, ffi, harfbuzz, harfbuzz_subset, pango
from weasyprint.text.fonts import get_hb_object_data, get_pango_font_hb_face
from weasyprint.urls import URLFetcher

# What this module keeps between renders, per thread: paths drawn, styles' values, and while a
# certificate's file is written, the objects serialised.
_thread = threading.local()


def _kept(name: str) -> OrderedDict:
    """This thread's table `name` of what is kept between renders, oldest used first."""
    kept = getattr(_thread, name, None)
    if kept is None:
        kept = OrderedDict()
        setattr(_thread, name, kept)
    return kept


def _bound(kept: OrderedDict, limit: int) -> None:
    """Drop the least recently used entries past `limit`."""
    while len(kept) > limit:
        kept.popitem(last=False)


def _recalled(kept: OrderedDict, key):
    """What `kept` holds for `key`, now its most recently used entry; None where it holds
    nothing."""
    value = kept.get(key)
    if value is not None:
        kept.move_to_end(key)
    return value


def _keep(kept: OrderedDict, key, value, limit: int):
    """Keep `value` for `key`, the least recently used entries past `limit` dropped; `value`."""
    kept[key] = value
    _bound(kept, limit)
    return value


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
    return _kept("paths_drawn"), _kept("paths_seen")


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
    replayed = _recalled(drawn, d) if plain else None
    if replayed is not None:
        operators, points = replayed
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
        _keep(drawn, d, (svg.stream.stream[operators_from:], points), _PATHS_KEPT)
    else:
        _keep(seen, d, None, _PATHS_KEPT)


def install_path_drawing() -> None:
    """Draw SVG paths with `_draw_path`. Idempotent."""
    weasyprint_svg.TAGS["path"] = _draw_path


install_path_drawing()


# --- Drawing text --------------------------------------------------------------------------------
# WeasyPrint draws each line of text glyph by glyph, reading every field of every glyph through
# cffi (each read a new Python object): about a fifth of a certificate's drawing. `_draw_first_line`
# is its drawer (weasyprint/draw/text.py) step for step, with the glyphs of a run read at once
# from Pango's array (`_GLYPH`, PangoGlyphInfo: the glyph, its width and offsets, its attributes);
# `_show_runs` is its glyph loop. Lines with an ellipsis, and lines set in a colour font (emoji,
# drawn as images), go to WeasyPrint's own drawer. courses/tests/test_certificate_render_cache.py
# checks that both write the same file, in every script the certificate may print.

_weasyprint_first_line = weasyprint_draw_text.draw_first_line
_GLYPH = struct.Struct("=IiiiI")
_OLD_PANGO = pango.pango_version() < 14802  # WeasyPrint's own test, for its Pango workaround


def _glyphs(glyph_string) -> list[tuple[int, int, int, int]]:
    """A run's glyphs: each one's glyph, width and horizontal and vertical offsets."""
    count = glyph_string.num_glyphs
    return [
        glyph[:4]
        for glyph in _GLYPH.iter_unpack(ffi.buffer(glyph_string.glyphs, count * _GLYPH.size))
    ]


class _LiveRun:
    """A run of a line Pango has just shaped: what each glyph stands for, and its width in its
    font, read from Pango when the file needs them (once per glyph and file)."""

    __slots__ = ("clusters", "glyph_item", "glyphs", "layout", "pango_font", "utf8_text")

    def __init__(self, glyph_item, layout) -> None:
        self.glyph_item = glyph_item
        self.layout = layout
        self.pango_font = glyph_item.item.analysis.font
        self.glyphs = _glyphs(glyph_item.glyphs)
        self.clusters = self.utf8_text = None

    def text_of(self, index: int) -> str:
        glyph_string, item = self.glyph_item.glyphs, self.glyph_item.item
        if self.clusters is None:
            self.clusters = ffi.unpack(glyph_string.log_clusters, glyph_string.num_glyphs)
            self.utf8_text = self.layout.text.encode()
        clusters, count = self.clusters, len(self.glyphs)
        start = clusters[index]
        if item.analysis.level % 2:  # right to left
            end = item.length if index == 0 else clusters[index - 1]
        else:
            end = item.length if index == count - 1 else clusters[index + 1]
        return self.utf8_text[item.offset + start : item.offset + end].decode()

    def extents_of(self, glyph_id: int, stream) -> int:
        pango.pango_font_get_glyph_extents(
            self.pango_font, glyph_id, stream.ink_rect, stream.logical_rect
        )
        return stream.logical_rect.width


def _show_runs(stream, runs, style_font_size) -> None:
    """WeasyPrint's glyph loop (draw_first_line's), for lines without colour fonts."""
    previous_pango_font = None
    string = ""
    for run in runs:
        pango_font = run.pango_font
        if pango_font != previous_pango_font:
            previous_pango_font = pango_font
            font, font_size = stream.add_font(pango_font)
            if _OLD_PANGO:
                font_size = style_font_size
            if string:
                stream.show_text(string)
            string = ""
            stream.set_font_size(font.hash, 1 if font.bitmap else font_size)
        to_unicode, widths = font.to_unicode, font.widths
        hex_format = "02x" if font.bitmap else "04x"
        string += "<"
        for index, (glyph_id, width, x_offset, y_offset) in enumerate(run.glyphs):
            if glyph_id == pango.PANGO_GLYPH_EMPTY:  # a zero-width empty glyph
                string += f">{-width / font_size}<"
                continue
            if glyph_id & pango.PANGO_GLYPH_UNKNOWN_FLAG:  # a missing glyph: .notdef, logged
                codepoint = glyph_id - pango.PANGO_GLYPH_UNKNOWN_FLAG
                weasyprint_logger.warning(
                    '.notdef glyph rendered for Unicode string unsupported by fonts: "%s" (U+%04X)',
                    chr(codepoint),
                    codepoint,
                )
                glyph_id = font.get_unused_glyph_id(codepoint)
                widths[glyph_id] = round(width * 1000 * FROM_UNITS / font_size)
                if 0 not in widths:
                    widths[0] = widths[glyph_id]
            if glyph_id not in to_unicode:  # the text the glyph stands for
                to_unicode[glyph_id] = run.text_of(index)
            offset = x_offset / font_size
            rise = y_offset / 1000
            if rise:
                if string[-1] == "<":
                    string = string[:-1]
                else:
                    string += ">"
                if string:
                    stream.show_text(string)
                stream.set_text_rise(-rise)
                string = f"{-offset}" if offset else ""
                string += f"<{glyph_id:{hex_format}}>"
                stream.show_text(string)
                stream.set_text_rise(0)
                string = "<"
            else:
                if offset:
                    string += f">{-offset}<"
                string += f"{glyph_id:{hex_format}}"
            if glyph_id in widths:
                logical_width = widths[glyph_id]
            else:
                logical_width = widths[glyph_id] = round(
                    run.extents_of(glyph_id, stream) * 1000 * FROM_UNITS / font_size
                )
            kerning = logical_width + offset - width * 1000 * FROM_UNITS / font_size
            if kerning:
                string += f">{int(kerning)}<"
        if string[-1] == "<":
            string = string[:-1]
        else:
            string += ">"
    stream.show_text(string)


def _draw_first_line(stream, textbox, text_overflow, block_ellipsis, matrix):
    if text_overflow == "ellipsis" or block_ellipsis != "none":
        return _weasyprint_first_line(stream, textbox, text_overflow, block_ellipsis, matrix)
    if not textbox.text.strip() or textbox.style["font_size"] < 1e-6:
        return []
    layout = textbox.pango_layout
    pango.pango_layout_set_single_paragraph_mode(layout.layout, True)
    first_line, _index = layout.get_first_line()
    glyph_items = []
    run = first_line.runs[0]
    while run != ffi.NULL:
        # The fonts are added in the order WeasyPrint's drawer adds them (the file lists them so).
        font, _size = stream.add_font(run.data.item.analysis.font)
        if font.svg or font.png or font.colr:
            return _weasyprint_first_line(stream, textbox, text_overflow, block_ellipsis, matrix)
        glyph_items.append(run.data)
        run = run.next
    runs = [_LiveRun(glyph_item, layout) for glyph_item in glyph_items]
    stream.set_text_matrix(*matrix.values)
    _show_runs(stream, runs, textbox.style["font_size"])
    recording = getattr(_thread, "recording", None)
    if recording is not None:
        _record_line(recording, layout, runs, stream)
    return []


def install_text_drawing() -> None:
    """Draw lines of text with `_draw_first_line`. Idempotent."""
    weasyprint_draw_text.draw_first_line = _draw_first_line


install_text_drawing()


# --- Text laid out and drawn before ---------------------------------------------------------------
# Most of a certificate's text is the same from one certificate to the next: the headings, the
# labels, the course's title, facts and approval statements, the provider's contact line. Within
# a certificate's render (`styles_reused`), each of its lines is laid out and drawn once per
# thread, and again from what was kept:
# - a line's layout (`_split_first_line`): WeasyPrint's `split_first_line`, kept by the line's
#   text, its style, the width it has and the other arguments. Its result is a deactivated
#   Pango layout (text and metrics, no Pango object), which nothing changes once made; a line of
#   spaces only, which WeasyPrint may rewrite when it draws it, is laid out afresh;
# - a line's glyphs (`_draw_text`): the runs of glyphs Pango shaped for it, with what each glyph
#   stands for and its width in its font, kept by the text, its style and the spacing added to
#   justify it. They are drawn again through the same glyph loop (`_show_runs`) into the file
#   at hand: its fonts, the glyphs they list and their widths are that file's, as WeasyPrint's
#   drawer makes them. A line with a glyph no font has, a decoration or an ellipsis is drawn
#   afresh each time.
# A line is kept with the font configuration it was shaped with (its Pango font map) in its key.
# A line's style is known by its key (`_StyleKey`, above: equal keys, equal computed values),
# found through the element whose text it is, and only for styles WeasyPrint made as it always
# does (an anonymous style that is its parent's own, not a copy); any other line is laid out and
# drawn afresh. Everything the line depends on is in its key, so nothing kept can stand for
# another line: courses/tests/test_certificate_render_cache.py renders certificates after others
# and compares them byte for byte with those of a fresh worker.

_weasyprint_split_first_line = weasyprint_inline.split_first_line
_weasyprint_draw_text = weasyprint_draw_text.draw_text
_weasyprint_strut = weasyprint_inline.strut
_LINES_KEPT = 256  # laid-out lines and drawn lines, each, per thread: a certificate has some forty
_STRUTS_KEPT = 128  # line heights, per thread: a certificate has some fifteen styles of text


def _recorded_key(style):
    """The key this thread's certificate render recorded for `style` (`_start_keyed`, or a kept
    block's), or None: the style of no element, or no certificate rendering."""
    keys = getattr(_thread, "style_keys", None)
    entry = keys.get(id(style)) if keys else None
    return entry[1] if entry is not None and entry[0] is style else None


def _text_style_key(style) -> tuple | None:
    """The key of a text's style while a certificate is rendered: its element's, and how many
    anonymous styles down; None for any other style."""
    depth = 0
    while isinstance(style, weasyprint_css.AnonymousStyle):
        parent = style.parent_style
        if parent.__dict__.get("anonymous_style") is not style:  # a copy, maybe changed since
            return None
        style, depth = parent, depth + 1
    key = _recorded_key(style)
    return None if key is None else (key, depth)


def _split_first_line(
    text, style, context, max_width, justification_spacing, is_line_start=True, minimum=False
):
    style_key = _text_style_key(style) if text.strip() else None
    if style_key is None:
        return _weasyprint_split_first_line(
            text, style, context, max_width, justification_spacing, is_line_start, minimum
        )
    kept = _kept("lines_laid_out")
    key = (
        style.font_config,
        style_key,
        text,
        max_width,
        justification_spacing,
        is_line_start,
        minimum,
    )
    line = _recalled(kept, key)
    if line is None:
        line = _weasyprint_split_first_line(
            text, style, context, max_width, justification_spacing, is_line_start, minimum
        )
        _keep(kept, key, line, _LINES_KEPT)
    return line


def _strut(style) -> tuple[float, float]:
    """WeasyPrint's `strut` (a style's line height and baseline), kept by the style's key while a
    certificate is laid out. WeasyPrint keeps it too, but under a key it builds each time as the
    text of fourteen values, which cost a certificate about a millisecond for some seventy
    lines and boxes."""
    style_key = _text_style_key(style)
    if style_key is None:
        return _weasyprint_strut(style)
    kept = _kept("struts")
    key = (style.font_config, style_key)
    strut = _recalled(kept, key)
    if strut is None:
        strut = _weasyprint_strut(style)
        _keep(kept, key, strut, _STRUTS_KEPT)
    return strut


class _KeptRun:
    """A run of glyphs as drawn before: its font, its glyphs, what each stands for and each
    one's width in its font."""

    __slots__ = ("extents", "glyphs", "pango_font", "texts")

    def __init__(self, live: _LiveRun, stream) -> None:
        self.pango_font = live.pango_font  # alive with the Pango layout kept beside the runs
        self.glyphs = live.glyphs
        self.texts = [live.text_of(index) for index in range(len(live.glyphs))]
        self.extents = {
            glyph_id: live.extents_of(glyph_id, stream)
            for glyph_id, *_rest in live.glyphs
            if glyph_id != pango.PANGO_GLYPH_EMPTY  # drawn as a shift, never measured
        }

    def text_of(self, index: int) -> str:
        return self.texts[index]

    def extents_of(self, glyph_id: int, _stream) -> int:
        return self.extents[glyph_id]


def _record_line(key, layout, runs: list[_LiveRun], stream) -> None:
    if any(glyph[0] & pango.PANGO_GLYPH_UNKNOWN_FLAG for run in runs for glyph in run.glyphs):
        return  # a .notdef glyph takes a number the file's font has free: drawn afresh each time
    # The Pango layout is kept with the runs: it holds their fonts.
    runs = tuple(_KeptRun(run, stream) for run in runs)
    _keep(_kept("lines_drawn"), key, (layout.layout, runs), _LINES_KEPT)


def _drawn_line_key(textbox, text_overflow, block_ellipsis) -> tuple | None:
    style = textbox.style
    if (
        text_overflow == "ellipsis"
        or block_ellipsis != "none"
        or not textbox.text.strip()
        or style["visibility"] != "visible"
        or style["text_decoration_line"] != "none"
        or style["font_size"] < 1e-6
    ):
        return None
    style_key = _text_style_key(style)
    if style_key is None:
        return None
    layout = textbox.pango_layout
    return (style.font_config, style_key, layout.text, layout.justification_spacing)


def _draw_text(stream, textbox, offset_x, text_overflow, block_ellipsis="none"):
    key = _drawn_line_key(textbox, text_overflow, block_ellipsis)
    line = _recalled(_kept("lines_drawn"), key) if key is not None else None
    if line is None:
        _thread.recording = key
        try:
            return _weasyprint_draw_text(stream, textbox, offset_x, text_overflow, block_ellipsis)
        finally:
            _thread.recording = None
    # WeasyPrint's draw_text for such a line (no decoration, no emoji), its glyphs kept.
    x, y = textbox.position_x, textbox.position_y + textbox.baseline
    stream.set_color(textbox.style["color"])
    stream.begin_text()
    stream.set_text_matrix(*Matrix(d=-1, e=x, f=y).values)
    _show_runs(stream, line[1], textbox.style["font_size"])
    stream.end_text()
    return None


def install_kept_lines() -> None:
    """Lay out and draw lines of text with `_split_first_line`, `_strut` and `_draw_text`.
    Idempotent."""
    weasyprint_inline.split_first_line = _split_first_line
    weasyprint_inline.strut = _strut
    weasyprint_draw.draw_text = _draw_text


install_kept_lines()


# --- Font programs -------------------------------------------------------------------------------
# To embed a font, WeasyPrint cuts it down with HarfBuzz to the glyphs the file uses (two passes:
# one keeps those glyphs, one drops the empty ones after the last), and pydyf compresses the
# program at zlib's level 9: together about a tenth of a certificate's time. The same face cut to
# the same glyphs with the same options gives the same program, and most of a certificate's faces
# print the same glyphs in every certificate (the headings, the labels, the facts); the learner's
# name and the code change a face or two. So each program cut is kept per thread (`_subset`),
# keyed by the HarfBuzz face it was cut from, the glyphs kept and what else the subsetter reads
# (hinting, and whether a glyph was missing); being the same, it is compressed once
# (`_stream_data`, below). Other documents (the transcript, the benchmarks' baseline) are cut by
# WeasyPrint as always. A program not kept is cut by `_cut`, WeasyPrint's subsetter with arrays
# whose C type cffi need not parse again for each new count of glyphs. A HarfBuzz face never
# changes once made; the key names it by its address, and the entry holds a reference to it, so
# that no other face can take that address while the entry is kept. The file is byte for byte the
# one WeasyPrint makes (courses/tests/test_certificate_render_cache.py).

_weasyprint_subset = weasyprint_pdf_fonts.Font._harfbuzz_subset
# Tables dropped from every font program, as WeasyPrint drops them.
_DROPPED_TABLES = (
    b"BASE", b"DSIG", b"EBDT", b"EBLC", b"EBSC", b"GPOS",
    b"GSUB", b"JSTF", b"LTSH", b"PCLT", b"SVG ",
)  # fmt: skip
_PROGRAMS_KEPT = 32  # font programs cut, per thread: a certificate embeds four to eight


class _KeptProgram(NamedTuple):
    face: object  # the HarfBuzz face the program was cut from, held so that it stays alive
    program: bytes


def _rendering_a_certificate() -> bool:
    return getattr(_thread, "style_keys", None) is not None  # set by `styles_reused`


def _codepoints(values) -> object:
    # An array of a size given at run time: WeasyPrint names the size in the C type
    # (`hb_codepoint_t[40]`), which cffi parses anew, once for every size it meets, in about 2 ms.
    return ffi.new("hb_codepoint_t[]", values)


def _cut(font, to_unicode, hinting) -> None:
    """WeasyPrint's `_harfbuzz_subset`, step for step, its arrays made by `_codepoints`."""
    flags = harfbuzz_subset.HB_SUBSET_FLAGS_NOTDEF_OUTLINE if font.missing else 0
    keep = harfbuzz_subset.HB_SUBSET_FLAGS_PASSTHROUGH_UNRECOGNIZED | (
        harfbuzz_subset.HB_SUBSET_FLAGS_DESUBROUTINIZE
    )
    subset = ffi.gc(
        harfbuzz_subset.hb_subset_input_create_or_fail(), harfbuzz_subset.hb_subset_input_destroy
    )
    # The glyphs used, and the tables dropped.
    glyphs = sorted(to_unicode)
    glyph_set = harfbuzz_subset.hb_subset_input_glyph_set(subset)
    harfbuzz.hb_set_add_sorted_array(glyph_set, _codepoints(glyphs), len(glyphs))
    harfbuzz_subset.hb_subset_input_set_flags(
        subset, flags | keep | harfbuzz_subset.HB_SUBSET_FLAGS_RETAIN_GIDS
    )
    dropped = tuple(harfbuzz.hb_tag_from_string(tag, -1) for tag in _DROPPED_TABLES)
    drop_set = harfbuzz_subset.hb_subset_input_set(
        subset, harfbuzz_subset.HB_SUBSET_SETS_DROP_TABLE_TAG
    )
    harfbuzz.hb_set_add_sorted_array(drop_set, _codepoints(dropped), len(dropped))
    face = ffi.gc(harfbuzz_subset.hb_subset_or_fail(font.hb_face, subset), harfbuzz.hb_face_destroy)
    # Then the empty glyphs after the last one used dropped.
    every_glyph = tuple(range(glyphs[-1] + 1))
    glyph_set = harfbuzz_subset.hb_subset_input_glyph_set(subset)
    harfbuzz.hb_set_add_sorted_array(glyph_set, _codepoints(every_glyph), len(every_glyph))
    if not hinting:
        flags |= harfbuzz_subset.HB_SUBSET_FLAGS_NO_HINTING
    harfbuzz_subset.hb_subset_input_set_flags(subset, flags | keep)
    face = ffi.gc(harfbuzz_subset.hb_subset_or_fail(face, subset), harfbuzz.hb_face_destroy)
    if face:
        program = get_hb_object_data(face)
        if program:
            font.file_content = program
            return
    weasyprint_logger.warning('Unable to subset "%s" with HarfBuzz', font.family)


def _subset(font, to_unicode, hinting) -> None:
    if not _rendering_a_certificate():
        return _weasyprint_subset(font, to_unicode, hinting)
    kept = _kept("font_programs")
    key = (
        int(ffi.cast("uintptr_t", font.hb_face)),
        tuple(sorted(to_unicode)),
        bool(hinting),
        bool(font.missing),
    )
    entry = _recalled(kept, key)
    if entry is not None:
        font.file_content = entry.program
        return
    whole = font.file_content
    _cut(font, to_unicode, hinting)
    if font.file_content is not whole:  # cut (HarfBuzz may fail, and WeasyPrint logs it)
        _keep(kept, key, _KeptProgram(font.hb_face, font.file_content), _PROGRAMS_KEPT)


def install_program_keeping() -> None:
    """Cut fonts with `_subset`. Idempotent."""
    weasyprint_pdf_fonts.Font._harfbuzz_subset = _subset


install_program_keeping()

# --- Fonts of a file ----------------------------------------------------------------------------
# WeasyPrint makes a `Font` for each font a file uses, the first time a line is drawn in it: it
# copies the whole font file out of HarfBuzz (most of a megabyte), lists its tables, measures it
# and names it; a fifth of a millisecond a font, four fonts a certificate. All of that follows
# from the HarfBuzz face, the font's description and its size. While a certificate renders, each
# font is made once per thread and copied for the next files (`_font`), with what a file fills in
# (the widths, the glyphs' text, the glyphs missing) its own, and its HarfBuzz objects the ones
# of the Pango font at hand (the one the kept font came from may be gone). The key names the face
# by its address, and the entry holds the face, as for font programs above.

_weasyprint_font = weasyprint_pdf_stream.Font
_FONTS_KEPT = 32  # per thread: a certificate uses four to eight


class _KeptFont(NamedTuple):
    face: object  # the HarfBuzz face, held so that it stays alive
    values: dict  # the Font's attributes as WeasyPrint made them


def _font(pango_font, description, font_size):
    if not _rendering_a_certificate():
        return _weasyprint_font(pango_font, description, font_size)
    face = get_pango_font_hb_face(pango_font)
    key = (
        int(ffi.cast("uintptr_t", face)),
        pango.pango_font_description_hash(description),
        font_size,
    )
    kept = _kept("fonts")
    entry = _recalled(kept, key)
    if entry is None:
        font = _weasyprint_font(pango_font, description, font_size)
        _keep(kept, key, _KeptFont(face, dict(font.__dict__)), _FONTS_KEPT)
        return font
    font = weasyprint_pdf_fonts.Font.__new__(weasyprint_pdf_fonts.Font)
    font.__dict__.update(entry.values)
    font.hb_font = pango.pango_font_get_hb_font(pango_font)
    font.hb_face = face
    font.variations, font.tables = dict(font.variations), list(font.tables)
    font.widths, font.to_unicode, font.missing = {}, {}, {}
    font.used_in_forms = False
    return font


def install_font_keeping() -> None:
    """Make the fonts of a file with `_font`. Idempotent."""
    weasyprint_pdf_stream.Font = _font


install_font_keeping()

# --- SVG images -------------------------------------------------------------------------------
# WeasyPrint parses an image each time a document loads it, and draws an SVG image by walking its
# tree node by node. The ornament and the sample watermark are the same files in every
# certificate, drawn at the same sizes, each into a group of its own (a background that does not
# repeat): about a twentieth of a certificate's time. While a certificate renders, an SVG image is
# kept per thread by its address and its very content (`_image`): its intrinsic sizes, and each
# drawing of it made into a stream in its initial state (no colour, opacity or font set yet),
# which is what WeasyPrint writes into a new group, by its size and the transformation in place. A
# drawing is kept only when it changed nothing of the stream but its operators and the opacity
# states it names (`/a1`, `/A0.5`: each one's name is its value); one that adds a pattern, a
# shading, an image, a font or any other state is drawn by WeasyPrint every time. Whatever was not
# kept is asked of WeasyPrint's image, made for the document at hand when first needed. The file
# is byte for byte the one WeasyPrint makes (courses/tests/test_certificate_render_cache.py).

_weasyprint_image = weasyprint_document.original_get_image_from_uri
_IMAGES_KEPT = 8  # SVG images, per thread: a certificate draws two


class _KeptSvg:
    """What an SVG image gave before: its intrinsic sizes (by resolution and font size), and its
    drawings (by size: the operators, and the opacity states they name)."""

    __slots__ = ("drawings", "sizes")

    def __init__(self) -> None:
        self.sizes, self.drawings = {}, {}


def _opacity_states(stream) -> dict | None:
    """The opacity states a stream's resources name, each as its values; None where they hold
    anything else (a state with other entries, or any other resource)."""
    states = {}
    for name, state in stream._resources["ExtGState"].items():
        if not isinstance(state, pydyf.Dictionary) or not state.keys() <= {"ca", "CA"}:
            return None
        states[name] = dict(state)
    return states


def _resources_in_use(stream) -> tuple:
    """How many resources of each kind but opacity states, fonts and images the file has."""
    return (
        tuple(
            (name, len(resource or ()))
            for name, resource in stream._resources.items()
            if name != "ExtGState"
        ),
        len(stream._fonts),
        len(stream._images),
    )


def _in_initial_state(stream) -> bool:
    return (
        stream._current_color is None
        and stream._current_color_stroke is None
        and stream._current_alpha is None
        and stream._current_alpha_stroke is None
        and stream._current_font is None
    )


class _ThreadSvg:
    """An SVG image in one document, drawn and sized from what this thread kept of it; the rest
    is asked of WeasyPrint's image, loaded for this document (`load`) when first needed."""

    def __init__(self, kept: _KeptSvg, load, image=None) -> None:
        self._kept, self._load, self._image = kept, load, image

    def _weasyprint_image(self):
        if self._image is None:
            self._image = self._load()
        return self._image

    def get_intrinsic_size(self, image_resolution, font_size):
        key = (image_resolution, font_size)
        size = self._kept.sizes.get(key)
        if size is None:
            size = self._kept.sizes[key] = self._weasyprint_image().get_intrinsic_size(
                image_resolution, font_size
            )
        return size

    def draw(self, stream, concrete_width, concrete_height, style) -> None:
        # The transformation in place too: a clipping path is drawn relative to it.
        key = (concrete_width, concrete_height, stream.ctm.values)
        initial = _in_initial_state(stream)
        drawing = self._kept.drawings.get(key) if initial else None
        if drawing is not None:
            operators, states = drawing
            stream.stream.extend(operators)
            named = stream._resources["ExtGState"]
            for name, values in states.items():
                if name not in named:  # as WeasyPrint's `set_alpha` adds it
                    named[name] = pydyf.Dictionary(values)
            return
        start, before = len(stream.stream), _resources_in_use(stream)
        states_before = _opacity_states(stream)
        self._weasyprint_image().draw(stream, concrete_width, concrete_height, style)
        if not initial or states_before is None:
            return
        states = _opacity_states(stream)
        if states is not None and _resources_in_use(stream) == before:
            added = {name: values for name, values in states.items() if name not in states_before}
            self._kept.drawings[key] = (stream.stream[start:], added)


def _image(
    cache, url_fetcher, options, url, forced_mime_type=None, context=None, orientation="from-image"
):
    """WeasyPrint's `get_image_from_uri`; while a certificate renders, an SVG image is given
    from what this thread kept of it (`_ThreadSvg`)."""
    arguments = {
        "forced_mime_type": forced_mime_type,
        "context": context,
        "orientation": orientation,
    }
    if url in cache or not _rendering_a_certificate():
        return _weasyprint_image(cache, url_fetcher, options, url, **arguments)
    try:
        with weasyprint_urls.fetch(url_fetcher, url) as response:
            content = response.read()
            mime_type = forced_mime_type or response.content_type
    except Exception:  # WeasyPrint's loader fetches it again, and says what went wrong
        return _weasyprint_image(cache, url_fetcher, options, url, **arguments)
    if mime_type != "image/svg+xml":
        return _weasyprint_image(cache, url_fetcher, options, url, **arguments)
    # WeasyPrint's image is loaded outside the document's cache, which holds the stand-in.
    load = partial(_weasyprint_image, {}, url_fetcher, options, url, **arguments)
    kept = _kept("svg_images")
    key = (url, content)
    entry = _recalled(kept, key)
    image = None
    if entry is None:
        image = load()
        if not isinstance(image, weasyprint_images.SVGImage):
            cache[url] = image
            return image
        entry = _keep(kept, key, _KeptSvg(), _IMAGES_KEPT)
    cache[url] = stand_in = _ThreadSvg(entry, load, image)
    return stand_in


def install_svg_keeping() -> None:
    """Load images with `_image`. Idempotent."""
    weasyprint_document.original_get_image_from_uri = _image


install_svg_keeping()

# --- Writing the file ----------------------------------------------------------------------------
# pydyf writes each object of a PDF, then, for the file identifier PDF/A requires, serialises
# every object a second time to hash it: each stream compressed twice, each dictionary spelt out
# twice (about a twentieth of a certificate's time). While a certificate's file is written, the
# first serialisation of each stream and dictionary is kept and given again for the hash. Nothing
# of those is kept past the write, and nothing changes an object between its two serialisations
# (pydyf only sets offsets). Most of the content compressed is the same from one certificate to
# the next besides: the fonts (cut to the same glyphs, above), the colour profile PDF/A asks for,
# the watermark. Each stream's compressed content is kept per thread, by the content itself, and
# given again for the same content; zlib is deterministic, so it is what zlib would give again.
# Outside a certificate's write (the transcript, the benchmark's baseline) pydyf works as it
# always has. The file is byte for byte the one pydyf writes
# (courses/tests/test_certificate_render_cache.py).

_SERIALISED = {cls: cls.data for cls in (pydyf.Dictionary, pydyf.Stream)}
_STREAMS_KEPT = 32  # streams' compressed content, per thread


def _stream_data(stream) -> bytes:
    """pydyf's Stream.data, step for step; while a certificate's file is written, content
    compressed for an earlier certificate of this thread is not compressed again."""
    if not stream.compress or getattr(_thread, "serialised", None) is None:
        return _SERIALISED[pydyf.Stream].fget(stream)
    content = b"\n".join(pydyf._to_bytes(item) for item in stream.stream)  # pydyf's own
    kept = _kept("streams_compressed")
    compressed = _recalled(kept, content)
    if compressed is None:
        compressor = zlib.compressobj(level=9)
        compressed = compressor.compress(content) + compressor.flush()
        _keep(kept, content, compressed, _STREAMS_KEPT)
    extra = pydyf.Dictionary(stream.extra.copy())
    extra["Filter"] = "/FlateDecode"
    extra["Length"] = len(compressed)
    return b"\n".join((extra.data, b"stream", compressed, b"endstream"))


def _serialised_once(cls):
    serialise = _stream_data if cls is pydyf.Stream else _SERIALISED[cls].fget

    def data(self):
        kept = getattr(_thread, "serialised", None)
        if kept is None:
            return serialise(self)
        entry = kept.get(id(self))
        if entry is None or entry[0] is not self:
            entry = kept[id(self)] = (self, serialise(self))
        return entry[1]

    return property(
        data, doc=f"{cls.__name__}.data, serialised once while a certificate is written"
    )


def install_serialising_once() -> None:
    """Let pydyf serialise each object once while a certificate's file is written. Idempotent."""
    for cls in _SERIALISED:
        if cls.__dict__["data"] is _SERIALISED[cls]:
            cls.data = _serialised_once(cls)


install_serialising_once()


def _write_serialising_once(pdf: pydyf.PDF, *args, **kwargs) -> None:
    _thread.serialised = {}
    try:
        pydyf.PDF.write(pdf, *args, **kwargs)
    finally:
        _thread.serialised = None
        # The file is written once. Bound to it, this writer would make a reference cycle that
        # keeps the file's objects alive until Python's cyclic collector finds them.
        pdf.__dict__.pop("write", None)


def serialise_once_when_written(pdf: pydyf.PDF) -> None:
    """Have `pdf` (this PDF object only) serialise each object once when it is written: for a
    `write_pdf` finisher, after which pydyf calls the file's `write`."""
    pdf.write = partial(_write_serialising_once, pdf)


# --- Computed styles ---------------------------------------------------------------------------
# WeasyPrint computes an element's style lazily, a property at a time, as layout and drawing ask
# for them: some five thousand computations for a certificate, a fifth of its time, and the very
# same ones for every certificate, whose elements have the same rules and the same parents. While
# a certificate is rendered, each element's style starts with the values computed for an element
# of the same cascade in an earlier certificate of this thread; values not computed yet are
# computed as before.
#
# An element's computed values depend on nothing but its cascaded values (the declarations that
# won, and their weights), its parent's computed values and the thread's font configuration. The
# key of a style is therefore its cascaded values and the key of its parent's: equal keys, equal
# values. Declarations from the thread's stylesheets are the same objects from one certificate to
# the next; the key holds them, so no other object can take their place in memory while it is
# kept. Nothing of a document's own is kept: the values are copied into its styles, which are
# new for each document. A certificate is byte for byte what a fresh worker renders
# (courses/tests/test_certificate_render_cache.py).

_STYLES_KEPT = 512  # styles' values, per thread: a certificate has some sixty


class _KeptStyle(NamedTuple):
    """What is kept of a style: its computed, specified and anonymous values, and its key (the
    one object every later equal key is replaced by)."""

    own: dict
    specified: dict
    anonymous: dict
    key: _StyleKey


_StyleFor = weasyprint_css.StyleFor


def _frozen(value):
    """`value` as a key: lists (WeasyPrint keeps background layers in lists) and dictionaries
    as tuples, marked so that no tuple can be taken for one."""
    if isinstance(value, list):
        return (list, tuple(_frozen(item) for item in value))
    if isinstance(value, dict):
        return (dict, tuple(sorted((key, _frozen(item)) for key, item in value.items())))
    if type(value) is tuple:
        return tuple(_frozen(item) for item in value)
    return value


class _StyleKey:
    """A style's key (its parent's key and its cascaded values) hashed once: Python hashes a
    tuple anew each time, and these nest the declarations of every ancestor."""

    __slots__ = ("hash", "value")

    def __init__(self, value: tuple, hashed: int) -> None:
        self.value = value
        self.hash = hashed

    def __hash__(self) -> int:
        return self.hash

    def __eq__(self, other) -> bool:
        return isinstance(other, _StyleKey) and self.value == other.value


def _style_key(parent_key, style) -> _StyleKey | None:
    cascade = tuple(
        sorted((name, values, weight) for name, (values, weight) in style.cascaded.items())
    )
    try:
        hashed = hash(cascade)
    except TypeError:
        cascade = _frozen(cascade)
        try:
            hashed = hash(cascade)
        except TypeError:  # a value of a kind not met before: not compared, not kept
            return None
    return _StyleKey((parent_key, cascade), hash((parent_key, hashed)))


# The cascade itself (which rules match each element, and which declarations win) depends on
# the stylesheets and the tree: each element's name, attributes, parent, place among its siblings
# and whether it is empty (`:empty`), never on its text. Certificates of a course have the same
# tree but for their text (the learner's name, the code, the dates are text), so the cascade
# WeasyPrint gave a certificate is kept per thread by all of that (`_cascade_key`), and the next
# certificate's styles are made from it without matching a selector (`_cascaded`).
_CASCADES_KEPT = 16  # per thread: a cascade for each course's tree, and each size of name


class _Cascade(NamedTuple):
    """The cascade of a document, element by element in tree order: each element's cascaded
    values (None for none), or the position of the element before it whose style it shares;
    the pseudo-elements' cascaded values (with their element's position), in WeasyPrint's order;
    and each element's style key."""

    own: tuple
    pseudo: tuple
    keys: tuple
    # Names this cascade in the keys of blocks laid out (`_block_level_layout`): an object of
    # its own, compared by identity, where comparing the cascade would compare every element's.
    token: object


def _cascade_key(html, elements, positions, sheets, presentational_hints) -> tuple:
    """`positions`: each element's place in `elements`, by its etree element."""
    tree = []
    for element in elements:
        etree_element = element.etree_element
        tree.append(
            (
                positions[element.parent.etree_element] if element.parent else -1,
                etree_element.tag,
                tuple(etree_element.attrib.items()),
                not (element.etree_children or etree_element.text),  # cssselect2's `:empty`
            )
        )
    # The stylesheets themselves, held so that no other can take their place in memory.
    return (tuple(sheets), presentational_hints, html.base_url, tuple(tree))


class _ReusingStyleFor(_StyleFor):
    """WeasyPrint's `StyleFor`, which, while a certificate is rendered (`styles_reused`), starts
    each element's style with the values kept for its key. Elsewhere it is WeasyPrint's."""

    def __init__(self, html, sheets, presentational_hints, font_config, target_collector):
        if getattr(_thread, "style_records", None) is None:
            super().__init__(html, sheets, presentational_hints, font_config, target_collector)
            return
        _thread.laid_out_tree = None
        elements = list(html.wrapper_element.iter_subtree())
        positions = {element.etree_element: place for place, element in enumerate(elements)}
        kept = _kept("cascades")
        key = _cascade_key(html, elements, positions, sheets, presentational_hints)
        cascade = _recalled(kept, key)
        if cascade is not None:
            _thread.laid_out_tree = (cascade.token, positions)
            self._cascaded(html, elements, cascade, sheets, font_config, target_collector)
            self._keys = keys = {None: "root"}
            for element, own, style_key in zip(elements, cascade.own, cascade.keys, strict=True):
                style = self.get_computed_styles()[element.etree_element, None]
                if not isinstance(own, int) and style_key is not None:
                    style_key = _start_keyed(style, style_key)
                keys[element.etree_element] = style_key
            return
        super().__init__(html, sheets, presentational_hints, font_config, target_collector)
        computed = self.get_computed_styles()
        self._keys = keys = {None: "root"}
        first = {}  # each style's first element
        own = []
        for position, element in enumerate(elements):
            style = computed.get((element.etree_element, None))
            parent = element.parent.etree_element if element.parent else None
            if id(style) in first:  # a style met before: keyed, not started again
                own.append(first[id(style)])
                parent_key = keys.get(parent)
                keys[element.etree_element] = (
                    None if parent_key is None else _style_key(parent_key, style)
                )
                continue
            first[id(style)] = position
            own.append(style.cascaded or None)
            keys[element.etree_element] = self._start(style, keys.get(parent))
        cascade = _Cascade(
            tuple(own),
            tuple(
                (positions[element], pseudo_type, style.cascaded)
                for (element, pseudo_type), style in computed.items()
                if pseudo_type is not None
            ),
            tuple(keys[element.etree_element] for element in elements),
            object(),
        )
        _keep(kept, key, cascade, _CASCADES_KEPT)
        _thread.laid_out_tree = (cascade.token, positions)

    def _cascaded(self, html, elements, cascade, sheets, font_config, target_collector):
        """What WeasyPrint's `StyleFor.__init__` does, with the cascade it gave before: each
        element's style made from the cascaded values it had (or shared as it was), then each
        pseudo-element's, in the same order."""
        self._cascaded_styles = cascaded = {}
        self._computed_styles = computed = {}
        self.initial_page_sizes = {"box": None, "area": None}
        self._sheets = sheets
        self.font_config = font_config
        root, base_url = html.etree_element, html.base_url
        for element, own in zip(elements, cascade.own, strict=True):
            etree_element = element.etree_element
            if isinstance(own, int):
                computed[etree_element, None] = computed[elements[own].etree_element, None]
                continue
            if own is not None:
                cascaded[etree_element, None] = own
            self.set_computed_styles(
                etree_element,
                root=root,
                parent=element.parent.etree_element if element.parent else None,
                base_url=base_url,
                target_collector=target_collector,
            )
        for position, pseudo_type, own in cascade.pseudo:
            element = elements[position].etree_element
            cascaded[element, pseudo_type] = own
            self.set_computed_styles(
                element,
                root=root,
                parent=element,
                pseudo_type=pseudo_type,
                base_url=base_url,
                target_collector=target_collector,
            )
        cascaded.clear()

    def set_computed_styles(self, element, parent, root=None, pseudo_type=None, **kwargs):
        super().set_computed_styles(element, parent, root, pseudo_type, **kwargs)
        keys = getattr(self, "_keys", None)
        if keys is None or isinstance(element, ElementTree.Element):
            return  # not a certificate's, or an element's (started above, all at once)
        # A page or one of its margin boxes, as it is laid out (their styles are computed then):
        # keyed by its parent's key (the root element's, or the page's) and its pseudo-type.
        parent_key = keys.get(parent)
        keys[element, pseudo_type] = key = self._start(
            self.get_computed_styles()[element, pseudo_type],
            None if parent_key is None else ("page", pseudo_type, parent_key),
        )
        if pseudo_type is None:
            keys[element] = key

    def _start(self, style, parent_key):
        """Start `style` with the values kept for its key, record it, and return its key (the
        kept one where there is one); None for a style with no key."""
        key = None if parent_key is None or style is None else _style_key(parent_key, style)
        return None if key is None else _start_keyed(style, key)


def _start_keyed(style, key):
    """Start `style` with the values kept for `key`, record it, and return its key (the kept
    one where there is one)."""
    values = _recalled(_kept_styles(), key)
    if values is not None:
        # The kept key itself from here on: its children's keys hold it, and tables keyed by it
        # find it by identity rather than by comparing every ancestor.
        key = values.key
    _thread.style_records.append((key, style, values))
    _thread.style_keys[id(style)] = (style, key)
    if values is not None:
        style.update(values.own)
        style.specified.update(values.specified)
        if values.anonymous:
            style.anonymous_style.update(values.anonymous)
    return key


weasyprint_css.StyleFor = _ReusingStyleFor

# A table's box gets a copy of its element's style, in which the properties that apply to the
# table's wrapper instead are set to their initial values (`wrap_table`): WeasyPrint does the same
# to the same style every time, so the copy's values follow from the element's style key too, and
# are kept under that key marked as the table's.
_weasyprint_wrap_table = weasyprint_build.wrap_table
_READ_BY_WRAP_TABLE = (
    "border_collapse",
    "direction",
    "color",
    *sorted(weasyprint_properties.TABLE_WRAPPER_BOX_PROPERTIES),
    *(
        f"border_{side}_{part}"
        for side in ("top", "right", "bottom", "left")
        for part in ("style", "width", "color")
    ),
)


def _wrap_table(box, children):
    key = _recorded_key(box.style)
    if key is None:
        return _weasyprint_wrap_table(box, children)
    # The values `wrap_table` reads from the copy (the properties it moves to the wrapper, and the
    # borders it collapses), read from the element's style first: the same values, none of them
    # depending on what it moves. Kept with the element's style, they come with the copy from
    # then on instead of being computed on it. (One missed is computed on the copy, as before.)
    for name in _READ_BY_WRAP_TABLE:
        box.style[name]
    wrapper = _weasyprint_wrap_table(box, children)
    for table in wrapper.children:
        if isinstance(table, weasyprint_boxes.TableBox):
            _start_keyed(table.style, ("table", key))
    return wrapper


weasyprint_build.wrap_table = _wrap_table


def _kept_styles() -> OrderedDict:
    """Per thread: each style key's `_KeptStyle`."""
    return _kept("styles")


# --- Blocks laid out before -----------------------------------------------------------------------
# Most of a certificate's blocks are the same from one certificate to the next and land in the
# same place: the provider, the heading, the course's title, its facts and approvals, the
# signature, the contact line. While a certificate is laid out, a block met before is taken from
# what this thread kept (`_block_level_layout`). A block is kept the second time it is laid out
# (the learner's name and the code are met once, and would only push out blocks worth keeping),
# under a key of everything its layout reads: the tree's cascade and the element's place in it
# (so its styles, its descendants and their attributes), the text inside, the width and height of
# its containing block, where it starts, the room left below it, and the state of the page. Only
# a block whose layout added nothing to the page but itself is kept (no float, footnote,
# absolutely placed box, break or image). A block taken from what was kept is a copy of the boxes
# laid out before: their styles are the earlier document's, equal value for value (the same
# key), and are made known to the text drawer (`_text_style_key`).

_weasyprint_block_level_layout = weasyprint_block.block_level_layout
_BLOCKS_KEPT = 256  # per thread: some sixteen for each course (its title, facts, approvals)
_BLOCKS_MET = 1024  # keys of blocks laid out once, per thread


class _KeptBlock(NamedTuple):
    box: object  # the block laid out, never handed out itself: copied each time
    result: tuple  # what else `block_level_layout` returned
    style_keys: tuple  # (style, key) of each style of the block's boxes that has a key


def _copied(box):
    """`box` and its descendants copied, each list of boxes a new list."""
    copy = box.copy()
    if isinstance(box, weasyprint_boxes.ParentBox):
        copy.children = [_copied(child) for child in box.children]
    if isinstance(box, weasyprint_boxes.TableBox):
        copy.column_groups = [_copied(group) for group in box.column_groups]
    return copy


def _styles_of(box, found: dict) -> bool:
    """Record in `found` the key of each style of `box` and its descendants that has one (the
    text drawer draws the others' text afresh); False where a box is one no kept block may
    hold (an image, a placeholder)."""
    if isinstance(box, weasyprint_boxes.ReplacedBox) or not isinstance(
        box, (weasyprint_boxes.ParentBox, weasyprint_boxes.TextBox)
    ):
        return False
    style = box.style
    while id(style) not in found:
        key = _recorded_key(style)
        if key is not None:
            found[id(style)] = (style, key)
            break
        if not isinstance(style, weasyprint_css.AnonymousStyle):
            break
        parent = style.parent_style
        if parent.__dict__.get("anonymous_style") is not style:
            break  # a copy, such as a table wrapper's
        style = parent
    children = [*getattr(box, "children", ()), *getattr(box, "column_groups", ())]
    return all(_styles_of(child, found) for child in children)


def _page_state(context, absolute_boxes, fixed_boxes) -> tuple:
    """What a block's layout may add to the page besides the block."""
    return (
        len(absolute_boxes or ()),
        len(fixed_boxes or ()),
        len(context.excluded_shapes),
        len(context.current_page_footnotes),
        len(context.broken_out_of_flow),
    )


def _block_level_layout(
    context,
    box,
    bottom_space,
    skip_stack,
    containing_block,
    page_is_empty=True,
    absolute_boxes=None,
    fixed_boxes=None,
    adjoining_margins=None,
    first_letter_style=None,
    first_line_style=None,
    discard=False,
    max_lines=None,
):
    """WeasyPrint's `block_level_layout`, a block laid out before taken from what was kept."""
    arguments = (
        context, box, bottom_space, skip_stack, containing_block, page_is_empty, absolute_boxes,
        fixed_boxes, adjoining_margins, first_letter_style, first_line_style, discard, max_lines,
    )  # fmt: skip
    tree = getattr(_thread, "laid_out_tree", None)
    targets = context.target_collector
    if (
        tree is None
        or box.element is None
        or (skip_stack, first_letter_style, first_line_style, max_lines) != (None,) * 4
        or context.excluded_shapes
        # Text that depends on other pages or elements (page counters, target-text) is
        # written into the boxes after layout.
        or targets.counter_lookup_items
        or targets.target_lookup_items
    ):
        return _weasyprint_block_level_layout(*arguments)
    position = tree[1].get(box.element)
    if position is None or not (box.is_table_wrapper or _recorded_key(box.style) is not None):
        return _weasyprint_block_level_layout(*arguments)  # an anonymous box
    key = (
        tree[0],  # the cascade: the tree, its attributes and styles
        position,
        type(box),  # a table or its wrapper, of the same element
        box.is_table_wrapper,
        tuple(box.element.itertext()),
        context.font_config,
        containing_block.width,
        containing_block.height,
        box.position_x,
        box.position_y,
        bottom_space,
        page_is_empty,
        tuple(adjoining_margins or ()),
        discard,
        context.page_bottom,
        context.current_page,
        context.forced_break,
        context.in_column,
    )
    kept = _kept("blocks_laid_out")
    block = _recalled(kept, key)
    if block is not None:
        style_keys = _thread.style_keys
        for style, style_key in block.style_keys:
            style_keys[id(style)] = (style, style_key)
        next_page, adjoining, collapsing_through, lines_left = block.result
        copy = _copied(block.box)
        return copy, None, dict(next_page), list(adjoining), collapsing_through, lines_left
    # A block is kept the second time it is laid out: the learner's name, the code and the like
    # are laid out once and would only push out the blocks worth keeping.
    met = _kept("blocks_met")
    if _recalled(met, key) is None:
        _keep(met, key, True, _BLOCKS_MET)
        return _weasyprint_block_level_layout(*arguments)
    before = _page_state(context, absolute_boxes, fixed_boxes)
    result = _weasyprint_block_level_layout(*arguments)
    new_box, resume_at, next_page, adjoining, collapsing_through, lines_left = result
    found = {}
    if (
        new_box is not None
        and resume_at is None
        and _page_state(context, absolute_boxes, fixed_boxes) == before
        and _styles_of(new_box, found)
    ):
        block = _KeptBlock(
            _copied(new_box),
            (dict(next_page), tuple(adjoining), collapsing_through, lines_left),
            tuple(found.values()),
        )
        _keep(kept, key, block, _BLOCKS_KEPT)
    return result


weasyprint_block.block_level_layout = _block_level_layout


# WeasyPrint's layout context refers to itself (its image loader is bound to it), and through it
# to both box trees of the document, and is dropped with them only when Python's cyclic collector
# finds them: some thousands of objects a certificate, the collector's work after each render.
# Once a certificate is written, what the contexts of its documents hold is let go at once.
_weasyprint_build_layout_context = weasyprint_document.Document._build_layout_context.__func__


def _build_layout_context(cls, *args, **kwargs):
    context = _weasyprint_build_layout_context(cls, *args, **kwargs)
    contexts = getattr(_thread, "layout_contexts", None)
    if contexts is not None:
        contexts.append(context)
    return context


weasyprint_document.Document._build_layout_context = classmethod(_build_layout_context)


@contextmanager
def styles_reused():
    """Within: documents start their styles with the values kept in this thread; then the
    values their styles hold at the end are kept for the next ones. What the documents' layout
    contexts hold is let go at the end."""
    _thread.style_records = records = []
    # Each style's key, by the style's id (the records hold the styles, so no id is reused
    # within): how the lines of text find theirs (`_text_style_key`).
    _thread.style_keys = {}
    _thread.layout_contexts = contexts = []
    try:
        yield
    finally:
        _thread.style_records = _thread.style_keys = _thread.laid_out_tree = None
        _thread.layout_contexts = None
        for context in contexts:
            context.__dict__.clear()
    kept = _kept_styles()
    for key, style, started_with in records:
        anonymous = style.__dict__.get("anonymous_style") or {}
        values = started_with or kept.get(key)  # kept by an element before, in this document
        if values is None:
            kept[key] = _KeptStyle(dict(style), dict(style.specified), dict(anonymous), key)
        else:  # the same values, and any computed this time only
            # A style starts with all the kept values, so one no longer than them has computed
            # nothing new: most certificates add nothing, and copying every value back cost a
            # millisecond.
            if len(style) > len(values.own):
                values.own.update(style)
            if len(style.specified) > len(values.specified):
                values.specified.update(style.specified)
            if len(anonymous) > len(values.anonymous):
                values.anonymous.update(anonymous)
    _bound(kept, _STYLES_KEPT)


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


# --- Reading the document -----------------------------------------------------------------------
# WeasyPrint's user-agent stylesheet gives every element six pseudo-elements (a list marker,
# footnote and note calls and markers), each a style computed for each element of every
# certificate, for boxes made only for list items, footnotes and notes. A certificate has none of
# those, so its documents use the stylesheet without these six rules; every other rule is
# WeasyPrint's own. Were WeasyPrint's stylesheet to change, the certificate would use it whole.
_UNIVERSAL_PSEUDO_RULE = re.compile(
    r"^::(?:marker|footnote-call|footnote-marker|note-call|note-marker|note-callback) \{[^}\n]*\}$",
    re.MULTILINE,
)


@lru_cache(maxsize=1)
def _certificate_ua_stylesheet() -> CSS:
    source, count = _UNIVERSAL_PSEUDO_RULE.subn("", weasyprint_html.UA)
    if count != 6:
        return weasyprint_html.UA_STYLESHEET
    return CSS(string=source, counter_style=CounterStyle())


# WeasyPrint looks for a document's stylesheets and metadata by CSS selectors ("style", "link",
# "title", "meta"), which cssselect2 compiles anew for every query, twice a certificate. While a
# certificate renders, each list of selectors is compiled once: a compiled selector is a test of
# an element, the same for every document.
_cssselect2_compile = cssselect2.ElementWrapper._compile


@lru_cache(maxsize=32)
def _compiled_selectors(selectors: tuple[str, ...]) -> tuple:
    return tuple(_cssselect2_compile(selectors))


def _compile_selectors(selectors):
    if _rendering_a_certificate() and all(isinstance(selector, str) for selector in selectors):
        return list(_compiled_selectors(tuple(selectors)))
    return _cssselect2_compile(selectors)


cssselect2.ElementWrapper._compile = staticmethod(_compile_selectors)


class _ParsedHTML(HTML):
    """WeasyPrint's HTML document for a tree parsed before: what `HTML.__init__` does after
    parsing, without parsing. Its user-agent stylesheet is `_certificate_ua_stylesheet`."""

    def _ua_stylesheets(self, forms=False):
        if forms:
            return super()._ua_stylesheets(forms)
        return [_certificate_ua_stylesheet()]

    def __init__(self, root, base_url: str, url_fetcher: URLFetcher, media_type: str = "print"):
        self.base_url = weasyprint._find_base_url(root, base_url)
        self.url_fetcher = url_fetcher
        self.media_type = media_type
        self.wrapper_element = cssselect2.ElementWrapper.from_html_root(root, content_language=None)
        self.etree_element = self.wrapper_element.etree_element


# What an XML parser reads otherwise than an HTML parser: white space other than a plain space in
# an attribute value (XML makes it a space, HTML keeps it). The template escapes every quote in
# a value, so a quote after an equals sign always opens an attribute's value.
_NOT_AS_HTML = re.compile(r'="[^"]*[\t\n\r]')


def parsed_document(markup: str, fetcher: URLFetcher, base_url: str) -> HTML:
    """The certificate's markup as WeasyPrint's document. The template is well-formed XML as
    well as HTML, so Python's XML parser (expat, in C) reads it into the very tree WeasyPrint's
    HTML parser (pure Python, about a twentieth of a certificate's time) builds; a value it would
    read otherwise (a control character, a line break in an attribute) goes to the HTML
    parser, as does anything it cannot read."""
    # No entity is declared but by the template (which declares none): every value is escaped,
    # so a value cannot open a declaration, and expat fetches no external entity.
    if not _NOT_AS_HTML.search(markup) and "<!ENTITY" not in markup:
        try:
            root = ElementTree.fromstring(markup)  # noqa: S314 our template, values escaped
        except ElementTree.ParseError:
            pass
        else:
            return _ParsedHTML(root, base_url, fetcher)
    return HTML(string=markup, base_url=base_url, url_fetcher=fetcher)
