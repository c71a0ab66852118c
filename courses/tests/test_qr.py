"""The certificate's QR code: the mask the faster chooser picks is the one segno's own picks, for
hundreds of addresses, so every symbol is module for module what segno makes; the PNG has one
pixel per module with its quiet zone; and the certificate draws it as that very image, unsmoothed
(/Interpolate false), so each module prints as a sharp square."""

from __future__ import annotations

import io
import random
import string

import pytest
import segno
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import BooleanObject
from segno import encoder

from courses.services import qr
from courses.services.certificate_pdf import render_certificate_pdf
from courses.tests.test_certificate_pdf import VERIFY_URL, snapshot

_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"


def verify_addresses(count: int) -> list[str]:
    rng = random.Random(13)
    return [
        "https://ce.example.org/verify/CEU-"
        + "-".join("".join(rng.choice(_ALPHABET) for _ in range(4)) for _ in range(4))
        + "/"
        for _ in range(count)
    ]


def other_texts(count: int) -> list[tuple[str, str]]:
    """Texts of every length up to a few hundred characters (so symbols of many versions, and
    the alignment patterns of the larger ones), at every error correction level."""
    rng = random.Random(31)
    characters = string.ascii_letters + string.digits + "/-._~?=&"
    return [
        (
            "https://x.example/" + "".join(rng.choice(characters) for _ in range(length)),
            rng.choice("lmqh"),
        )
        for length in (rng.randrange(0, 400) for _ in range(count))
    ]


def segno_symbol(text: str, error: str, monkeypatch) -> segno.QRCode:
    with monkeypatch.context() as patch:
        patch.setattr(encoder, "find_and_apply_best_mask", qr._segno_best_mask)
        return segno.make(text, error=error)


@pytest.mark.parametrize(
    "texts",
    [
        [(address, "m") for address in verify_addresses(250)],
        other_texts(80),
    ],
    ids=["verify-addresses", "other-texts"],
)
def test_the_mask_is_the_one_segno_chooses(texts, monkeypatch):
    assert encoder.find_and_apply_best_mask is qr.find_and_apply_best_mask
    masks = set()
    for text, error in texts:
        ours, segnos = segno.make(text, error=error), segno_symbol(text, error, monkeypatch)
        assert (ours.mask, ours.version, ours.error) == (segnos.mask, segnos.version, segnos.error)
        assert ours.matrix == segnos.matrix, text
        masks.add(ours.mask)
    assert len(masks) > 4  # the comparison went through most masks, not one over and over


def test_each_masks_penalty_is_segnos():
    """Not only the winner: every mask's score, on a symbol with alignment patterns."""
    symbol = segno.make("https://x.example/" + "q" * 150, error="m", mask=0)
    width = len(symbol.matrix)
    masks, ones, inner = qr._masks(width)
    # Unmasked data, with the format information in its place: any light and dark modules do.
    unmasked = int.from_bytes(b"".join(symbol.matrix), "big") ^ masks[0]
    for mask in masks:
        masked = (unmasked ^ mask).to_bytes(width * width, "big")
        matrix = [masked[i * width : (i + 1) * width] for i in range(width)]
        assert qr._penalty(unmasked ^ mask, width, ones, inner) == encoder.evaluate_mask(
            matrix, width, width
        )


_FINDER_LIKE = bytes((1, 0, 1, 1, 1, 0, 1))
# Finder-like patterns alone, and chained four and six modules apart (the ways the pattern
# overlaps itself), whose scores depend on the order segno finds them in.
_PLANTED = [
    _FINDER_LIKE,
    _FINDER_LIKE + bytes((1, 1, 0, 1)),
    _FINDER_LIKE + bytes((0, 1, 1, 1, 0, 1)),
    _FINDER_LIKE + bytes((0, 1, 1, 1, 0, 1)) * 2,
    _FINDER_LIKE + bytes((1, 1, 0, 1, 1, 1, 0, 1)),
]


def test_the_penalty_of_any_symbol_is_segnos():
    """Random symbols of several sizes and densities, with finder-like patterns planted along
    rows and columns, at the edges, after four light modules or not, and chained."""
    rng = random.Random(7)
    for _ in range(600):
        size = rng.choice([21, 25, 33, 41, 57])
        share = rng.random()
        rows = [bytearray(rng.random() < share for _ in range(size)) for _ in range(size)]
        for _planted in range(rng.randrange(8)):
            line, start = rng.randrange(size), rng.randrange(size - 6)
            modules = rng.choice(_PLANTED)[: size - start]
            if rng.random() < 0.5:
                modules = bytes(4) + modules
                start = max(start - 4, 0)
                modules = modules[: size - start]
            along_a_row = rng.random() < 0.5
            for offset, module in enumerate(modules):
                if along_a_row:
                    rows[line][start + offset] = module
                else:
                    rows[start + offset][line] = module
        _masks, ones, inner = qr._masks(size)
        modules = int.from_bytes(b"".join(rows), "big")
        assert qr._penalty(modules, size, ones, inner) == encoder.evaluate_mask(
            [bytes(row) for row in rows], size, size
        )


def test_what_is_not_a_plain_qr_matrix_goes_to_segno(monkeypatch):
    """A module that is neither light nor dark (segno's unset 0x2), a mask asked for, a Micro
    QR code: segno's own chooser answers."""
    calls = []
    original = qr._segno_best_mask

    def segnos(matrix, width, height, proposed_mask=None):
        calls.append(proposed_mask)
        return original(matrix, width, height, proposed_mask)

    monkeypatch.setattr(qr, "_segno_best_mask", segnos)
    width = 21
    matrix = tuple(bytearray(width) for _ in range(width))
    matrix[10][10] = 0x2
    qr.find_and_apply_best_mask(matrix, width, width)
    segno.make("https://x.example/", error="m", mask=3)
    segno.make("12345", micro=True)
    assert calls == [None, 3, None]


def test_the_png_has_one_pixel_per_module_and_the_quiet_zone():
    symbol = qr.qr_code(VERIFY_URL)
    modules = len(symbol.matrix)
    size = modules + 2 * qr.QUIET_ZONE
    with Image.open(io.BytesIO(qr.png(symbol))) as image:
        assert (image.mode, image.size) == ("L", (size, size))
        pixels = image.load()
        for y in range(size):
            for x in range(size):
                row, column = y - qr.QUIET_ZONE, x - qr.QUIET_ZONE
                dark = 0 <= row < modules and 0 <= column < modules and symbol.matrix[row][column]
                assert pixels[x, y] == (0 if dark else 255), (x, y)
    assert qr.png(symbol) == qr.png(qr.qr_code(VERIFY_URL))  # the same symbol, the same file


def test_the_certificate_draws_its_qr_code_unsmoothed_pixel_for_module():
    reader = PdfReader(io.BytesIO(render_certificate_pdf(snapshot(), verify_url=VERIFY_URL)))
    expected = Image.open(io.BytesIO(qr.png(qr.qr_code(VERIFY_URL))))
    found = []
    for name, reference in reader.pages[0]["/Resources"]["/XObject"].items():
        xobject = reference.get_object()
        if xobject.get("/Subtype") != "/Image" or xobject["/Width"] != expected.width:
            continue
        assert xobject["/Height"] == expected.height
        assert xobject["/Interpolate"] == BooleanObject(False)
        assert xobject["/ColorSpace"] == "/DeviceGray"
        image = next(image for image in reader.pages[0].images if image.name.startswith(name[1:]))
        assert image.image.convert("L").tobytes() == expected.tobytes()
        found.append(name)
    assert len(found) == 1
