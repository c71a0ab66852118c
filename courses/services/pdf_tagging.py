"""Tagged PDFs whose learner names read back exactly as typed.

WeasyPrint tags a PDF (`pdf_tags=True`): a structure tree, with each run of text in its own
marked content and its own structure element. A reader that copies or speaks the text still
rebuilds it from glyphs: a right-to-left name from glyphs laid out left to right, a Devanagari
conjunct or an emoji sequence from one glyph that stands for several characters. PDF lets a
document say what a run reads instead, in logical order: its ActualText (ISO 32000-1, 14.9.4).

WeasyPrint has no way to set ActualText. This module adds it to every run of text inside an
element with the `data-pdf-actual-text` attribute, with that run's own characters:
- on the run's structure element, always: screen readers and accessibility checkers read it;
- on the run's marked content too, when the run has no right-to-left letter: text extraction
  (poppler's pdftotext, Acrobat's copy) then returns the very characters typed, where it would
  otherwise split a conjunct or drop the joiners of an emoji sequence. poppler spreads an
  ActualText over the run from left to right and then reorders right-to-left letters as it does
  glyphs, so a right-to-left ActualText would come out reversed: for such a run it reads the
  glyphs, which it puts in logical order itself.

Elements without the attribute are drawn exactly as WeasyPrint draws them. `install()` makes
WeasyPrint draw its pages with `ActualTextStream`; `finish` is the `write_pdf` finisher that
copies the recorded text onto the structure elements."""

from __future__ import annotations

import unicodedata
from contextlib import contextmanager

import pydyf
from weasyprint import pdf as weasyprint_pdf
from weasyprint.formatting_structure import boxes
from weasyprint.pdf.stream import Stream

ACTUAL_TEXT_ATTRIBUTE = "data-pdf-actual-text"
_RIGHT_TO_LEFT = {"R", "AL"}


def _actual_text(box) -> str | None:
    if not isinstance(box, boxes.TextBox) or box.element is None:
        return None
    if "::" in (box.element_tag or ""):
        return None  # generated content (::before, ::after) is not what the learner typed
    if box.element.get(ACTUAL_TEXT_ATTRIBUTE) is None:
        return None
    # The box's own text, in logical order: one line of the element when it wraps.
    return box.text or None


def is_right_to_left(text: str) -> bool:
    return any(unicodedata.bidirectional(char) in _RIGHT_TO_LEFT for char in text)


class ActualTextStream(Stream):
    """WeasyPrint's page stream, recording the ActualText of the text runs that ask for it
    (`actual_texts`, by marked-content id) and writing it into their marked content when the
    run reads left to right."""

    @property
    def actual_texts(self) -> dict[int, str]:
        if not hasattr(self, "_actual_texts"):
            self._actual_texts = {}
        return self._actual_texts

    @contextmanager
    def marked(self, box, tag):
        with super().marked(box, tag):
            text = _actual_text(box) if self._tags is not None else None
            # WeasyPrint has just written `/Span <</MCID n>> BDC`: the property list is the
            # stream's last but one item.
            properties = self.stream[-2] if text is not None and len(self.stream) >= 2 else None
            if isinstance(properties, pydyf.Dictionary) and "MCID" in properties:
                self.actual_texts[properties["MCID"]] = text
                if not is_right_to_left(text):
                    properties["ActualText"] = pydyf.String(text)
            yield


def install() -> None:
    """Draw WeasyPrint's pages with `ActualTextStream`. Idempotent. A WeasyPrint that no longer
    builds its pages from `weasyprint.pdf.Stream` draws without ActualText, and the tests that
    look for it fail."""
    if getattr(weasyprint_pdf, "Stream", None) is Stream:
        weasyprint_pdf.Stream = ActualTextStream


def _object(pdf: pydyf.PDF, reference) -> pydyf.Object:
    if isinstance(reference, bytes):
        reference = reference.decode()
    return pdf.objects[int(str(reference).split()[0])]


def finish(_document, pdf: pydyf.PDF) -> None:
    """A `write_pdf` finisher: each recorded ActualText onto the structure element of its run.
    WeasyPrint's parent tree maps, per page, each marked-content id to its structure element."""
    if "StructTreeRoot" not in pdf.catalog:
        return
    parent_tree = _object(pdf, _object(pdf, pdf.catalog["StructTreeRoot"])["ParentTree"])
    nums = parent_tree["Nums"]
    elements_by_page = dict(zip(nums[::2], nums[1::2], strict=True))
    for page_number in pdf.pages["Kids"][::3]:  # pydyf keeps them as number, 0, "R"
        page = pdf.objects[page_number]
        stream = _object(pdf, page["Contents"])
        texts = getattr(stream, "actual_texts", None)
        if not texts or page.get("StructParents") not in elements_by_page:
            continue
        elements = elements_by_page[page["StructParents"]]
        for mcid, text in texts.items():
            if mcid < len(elements):
                _object(pdf, elements[mcid])["ActualText"] = pydyf.String(text)
