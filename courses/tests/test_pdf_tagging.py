"""The certificate and the CE transcript are tagged PDFs that stay PDF/A-3b: a structure tree a
screen reader follows (headings, paragraphs, a QR code with its alternative text, decoration
left out as artifacts), the document's language, and for the certificate the embedded
certificate.json. No PDF/A validator installs from the package registries this project uses
(veraPDF needs its own download), so these tests read the parts of the file PDF/A-3b and
tagging require with pypdf."""

from __future__ import annotations

import io
import json
import re

import pytest
from django.urls import reverse
from pypdf import PdfReader
from pypdf.generic import BooleanObject, ContentStream, DictionaryObject

from accounts.tests.factories import UserFactory
from courses.services.certificate_pdf import QR_TITLE, minimal_pdf, render_certificate_pdf
from courses.tests.test_certificate_pdf import SNAPSHOT, VERIFY_URL, snapshot


@pytest.fixture(scope="module")
def certificate() -> PdfReader:
    return PdfReader(io.BytesIO(render_certificate_pdf(snapshot(), verify_url=VERIFY_URL)))


@pytest.fixture
def transcript(learner_client, learner, licence) -> PdfReader:
    learner.full_name = "שרה כהן"
    learner.save()
    response = learner_client.get(reverse("courses:transcript_pdf"))
    assert response.status_code == 200
    return PdfReader(io.BytesIO(response.content))


def xmp(reader: PdfReader) -> str:
    return reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()


def structure(reader: PdfReader) -> list[DictionaryObject]:
    """Every structure element, depth first in reading order."""
    found = []

    def visit(node):
        node = node.get_object()
        if not isinstance(node, DictionaryObject):
            return  # a marked-content id
        if node.get("/Type") == "/StructElem":
            found.append(node)
        kids = node.get("/K", [])
        for kid in kids if isinstance(kids, list) else [kids]:
            visit(kid)

    visit(reader.trailer["/Root"]["/StructTreeRoot"])
    return found


def element_text(reader: PdfReader, element: DictionaryObject) -> str:
    """The text an element's marked content shows, through pypdf: enough to tell elements
    apart."""
    ids = set()

    def collect(node):
        node = node.get_object()
        if isinstance(node, int):
            ids.add(node)
            return
        kids = node.get("/K", [])
        for kid in kids if isinstance(kids, list) else [kids]:
            collect(kid)

    collect(element)
    page = reader.pages[0]
    parts, current = [], [None]

    def visit(operator, operands, _cm, _tm):
        if operator == b"BDC" and isinstance(operands[1], DictionaryObject):
            current[0] = operands[1].get("/MCID")
        elif operator == b"EMC":
            current[0] = None

    def text(chunk, *_args):
        if current[0] in ids:
            parts.append(chunk)

    page.extract_text(visitor_operand_before=visit, visitor_text=text)
    return " ".join("".join(parts).split())


# --- Both PDFs ---------------------------------------------------------------------------------


def assert_tagged_pdf_a_3b(reader: PdfReader) -> None:
    root = reader.trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"] == BooleanObject(True)
    assert "/StructTreeRoot" in root
    assert root["/Lang"] == "en"
    assert root["/ViewerPreferences"]["/DisplayDocTitle"]
    metadata = xmp(reader)
    assert re.search(r'pdfaid:part(="|>)3', metadata)
    assert re.search(r'pdfaid:conformance(="|>)B', metadata)
    (intent,) = root["/OutputIntents"]
    assert intent.get_object()["/S"] == "/GTS_PDFA1"
    # PDF/A: every font embedded; no encryption; the file identifier present.
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendant = font["/DescendantFonts"][0].get_object()
            assert (
                "/FontFile2" in descendant["/FontDescriptor"]
                or "/FontFile3" in (descendant["/FontDescriptor"])
            ), font["/BaseFont"]
    assert not reader.is_encrypted
    assert "/ID" in reader.trailer
    # Each page is tagged: its marked content maps into the structure tree.
    for page in reader.pages:
        assert "/StructParents" in page


def test_the_certificate_is_tagged_pdf_a_3b(certificate):
    assert_tagged_pdf_a_3b(certificate)


def test_the_transcript_is_tagged_pdf_a_3b(transcript):
    assert_tagged_pdf_a_3b(transcript)


def test_the_minimal_benchmark_pdf_is_rendered_the_same_way():
    assert_tagged_pdf_a_3b(PdfReader(io.BytesIO(minimal_pdf())))


# --- The certificate ------------------------------------------------------------------------


def test_the_certificate_json_is_still_embedded_as_pdf_a_3_data(certificate):
    (content,) = dict(certificate.attachments)["certificate.json"]
    assert json.loads(content) == SNAPSHOT
    filespecs = [ref.get_object() for ref in certificate.trailer["/Root"]["/AF"]]
    assert {str(spec["/AFRelationship"]) for spec in filespecs} == {"/Data"}
    assert {str(spec["/F"]) for spec in filespecs} == {"certificate.json"}


def test_the_structure_reads_like_the_certificate(certificate):
    elements = structure(certificate)
    kinds = [str(element["/S"]) for element in elements]
    (heading,) = [element for element in elements if element["/S"] == "/H1"]
    assert element_text(certificate, heading) == "Certificate of Completion"
    assert "/P" in kinds
    texts = [element_text(certificate, element) for element in elements]
    # The learner's name, then what they completed, in reading order.
    name = texts.index(SNAPSHOT["learner_name"])
    assert texts.index(SNAPSHOT["course_title"]) > name


def test_the_layout_is_not_tagged_as_a_data_table(certificate):
    """The page is laid out in CSS tables on divs: a screen reader announces no rows and
    columns that are not there."""
    kinds = {str(element["/S"]) for element in structure(certificate)}
    assert not kinds & {"/Table", "/TR", "/TD", "/TH"}, kinds


def test_the_qr_code_is_the_only_figure_and_has_alternative_text(certificate):
    """The ornament and the sample watermark are decoration: artifacts, not figures a screen
    reader announces without a description."""
    figures = [element for element in structure(certificate) if element["/S"] == "/Figure"]
    assert [str(figure.get("/Alt")) for figure in figures] == [QR_TITLE]


def test_decoration_is_marked_as_artifact(certificate):
    page = certificate.pages[0]
    tags = [
        str(operands[0])
        for operands, operator in ContentStream(page.get_contents(), certificate).operations
        if operator in (b"BDC", b"BMC")
    ]
    assert "/Artifact" in tags
    # The sample watermark and the ornament are images drawn as backgrounds: inside artifacts.
    assert tags.count("/Figure") == 1  # the QR code


# --- The transcript -------------------------------------------------------------------------


def test_the_transcripts_licence_table_has_row_headers(transcript):
    """Each licence's table is label, value per row: its labels head their rows, so a screen
    reader says which value is which."""
    elements = structure(transcript)
    headers = [element for element in elements if element["/S"] == "/TH"]
    assert headers
    cells = [element for element in elements if element["/S"] == "/TD"]
    labelled = [cell for cell in cells if cell.get("/A", {}).get("/Headers")]
    assert labelled


def test_the_transcripts_learner_name_carries_its_actual_text(transcript):
    """The name is right-to-left here: its text is on its structure element (not on its
    marked content, which poppler would read backwards)."""
    texts = [str(element.get("/ActualText")) for element in structure(transcript)]
    assert "שרה כהן" in texts


def test_a_second_learner_gets_their_own_transcript(client, db):
    """The transcript shares the thread's font configuration with the certificate: nothing of
    one render leaks into the next."""
    for name in ("Zoë Ramírez-Núñez", "王小明"):
        user = UserFactory(full_name=name)
        client.force_login(user)
        response = client.get(reverse("courses:transcript_pdf"))
        reader = PdfReader(io.BytesIO(response.content))
        texts = [str(element.get("/ActualText")) for element in structure(reader)]
        assert texts.count(name) == 1
