"""QR codes for certificates: segno's symbols, chosen faster, drawn as a pixel-exact image.

segno picks a symbol's data mask as ISO/IEC 18004 says: it applies each of the eight masks and
keeps the one with the lowest penalty. It does so one module at a time in Python, which was most
of the time it took to build a certificate's page. `find_and_apply_best_mask` below scores the
same masks on the whole symbol at once (the modules as the bytes of one big integer, every rule
a few operations on such integers) and returns exactly what segno's returns: the same mask, the same
modules (courses/tests/test_qr.py compares both on hundreds of addresses). `install()` makes
segno use it; Micro QR codes, a mask asked for by the caller, and any matrix that is not all
light and dark modules still go to segno's own.

The certificate shows the symbol as a PNG, one pixel per module with its quiet zone, drawn
without interpolation: every module stays a sharp square at any zoom, and the page carries one
image instead of hundreds of path operators."""

from __future__ import annotations

import struct
import zlib
from functools import lru_cache
from typing import NamedTuple

import segno
from segno import encoder

QUIET_ZONE = 4  # modules of light border around the symbol, as the standard asks
_PIXELS = b"\xff" + b"\x00" * 255  # a module's pixel: light white, anything else black

_segno_best_mask = encoder.find_and_apply_best_mask


@lru_cache(maxsize=64)
def _masks(width: int) -> tuple[tuple[int, ...], int, int]:
    """For a QR code `width` modules wide: each of the eight data masks as one integer, a byte
    per module (1 where the mask flips a module of the encoding region), and two lane masks, a
    1 in every byte and a 1 in every byte with a module to its left and one above it."""
    function_matrix = encoder.make_matrix(width, width)
    encoder.add_finder_patterns(function_matrix, width, width)
    encoder.add_alignment_patterns(function_matrix, width, width)
    function_matrix[-8][8] = 0x1
    masks = []
    for pattern in encoder.get_data_mask_functions(False):
        flips = bytes(
            pattern(i, j) if function_matrix[i][j] > 0x1 else 0
            for i in range(width)
            for j in range(width)
        )
        masks.append(int.from_bytes(flips, "big"))
    ones = int.from_bytes(b"\x01" * (width * width), "big")
    inner = int.from_bytes(
        bytes(1 if i and j else 0 for i in range(width) for j in range(width)), "big"
    )
    return tuple(masks), ones, inner


class _Lanes(NamedTuple):
    """Masks of a `size` x `size` symbol, a byte per module (1 in the modules named), for scoring
    whole symbols at once: along rows, a step is one byte; along columns, one row of bytes."""

    ones: int  # every module
    inner: int  # a module to its left and one above it
    rows: _Direction
    columns: _Direction


class _Direction(NamedTuple):
    step: int  # bits from a module to the next one in this direction
    first: int  # the first module of each line
    starts: int  # where a finder-like pattern fits in its line (seven modules from here on)
    before: tuple[int, ...]  # for k = 1..4: modules with no k-th module before them in the line
    after: tuple[int, ...]  # for k = 7..10: modules with no k-th module after them in the line


@lru_cache(maxsize=64)
def _lanes(size: int) -> _Lanes:
    def where(test) -> int:
        return int.from_bytes(
            bytes(1 if test(i, j) else 0 for i in range(size) for j in range(size)), "big"
        )

    def direction(step: int, place) -> _Direction:
        return _Direction(
            step,
            where(lambda i, j: place(i, j) == 0),
            where(lambda i, j: place(i, j) <= size - 7),
            tuple(where(lambda i, j, k=k: place(i, j) < k) for k in range(1, 5)),
            tuple(where(lambda i, j, k=k: place(i, j) >= size - k) for k in range(7, 11)),
        )

    return _Lanes(
        int.from_bytes(b"\x01" * (size * size), "big"),
        where(lambda i, j: i and j),
        direction(8, lambda i, j: j),
        direction(8 * size, lambda i, j: i),
    )


def _line_scores(modules: int, lanes: _Lanes, way: _Direction) -> int:
    """N1 and N3 along the rows or the columns (`way`), as segno scores them line by line."""
    ones, step = lanes.ones, way.step

    def back(lane: int, k: int) -> int:  # each module gets the lane of the k-th one before it
        return lane >> (step * k)

    def ahead(lane: int, k: int) -> int:  # ... of the k-th one after it
        return (lane << (step * k)) & ones

    # N1: a run of 5 + i modules of one colour scores 3 + i, that is one for each module from
    # its fifth on (`fifths`), and two for each run (`firsts`).
    same = (modules ^ back(modules, 1) ^ ones) & ~way.first
    fifths = same & back(same, 1) & back(same, 2) & back(same, 3)
    firsts = fifths & ~back(fifths, 1)
    n1 = fifths.bit_count() + 2 * firsts.bit_count()
    # N3: dark, light, dark x3, light, dark, with four light modules (or the symbol's edge)
    # before or after it, scores 40.
    dark, light = modules, modules ^ ones
    patterns = (
        dark
        & ahead(light, 1)
        & ahead(dark, 2)
        & ahead(dark, 3)
        & ahead(dark, 4)
        & ahead(light, 5)
        & ahead(dark, 6)
        & way.starts
    )
    if not patterns:
        return n1
    before, after = ones, ones
    for k, edge in enumerate(way.before, start=1):
        before &= back(light, k) | edge
    for k, edge in enumerate(way.after, start=7):
        after &= ahead(light, k) | edge
    scoring = patterns & (before | after)
    # segno looks for the next pattern seven modules past one that scored, four past one that
    # did not: a pattern four or six modules past one that scored (the only overlaps the pattern
    # has with itself) is not looked at. Each round settles one more pattern of such chains.
    looked_at = patterns
    while True:
        scored = looked_at & scoring
        next_round = patterns & ~(back(scored, 4) | back(scored, 6))
        if next_round == looked_at:
            return n1 + 40 * scored.bit_count()
        looked_at = next_round


def _penalty(modules: int, size: int, ones: int, inner: int) -> int:
    """The penalty of a masked symbol (ISO/IEC 18004:2015, 7.8.3.1), as segno's `mask_scores`
    adds it up, scored on the whole symbol at once. `modules`: a byte per module, row after
    row, 0 light and 1 dark."""
    lanes = _lanes(size)
    # N1 and N3, along the rows and the columns.
    n1_n3 = _line_scores(modules, lanes, lanes.rows) + _line_scores(modules, lanes, lanes.columns)
    # N2: each 2 x 2 block of one colour scores 3. A 1 in a byte of `left` says the module is the
    # colour of the one to its left, of `up` the colour of the one above it.
    left = (modules ^ (modules >> 8)) ^ ones
    up = (modules ^ (modules >> (8 * size))) ^ ones
    n2 = 3 * (left & (left >> (8 * size)) & up & inner).bit_count()
    # N4: 10 for each 5 % the share of dark modules is away from half.
    percent = float(modules.bit_count()) / (size**2)
    n4 = 10 * int(abs(percent * 100 - 50) / 5)
    return n1_n3 + n2 + n4


def find_and_apply_best_mask(matrix, width, height, proposed_mask=None):
    """segno's `encoder.find_and_apply_best_mask`, the same result faster: (the best mask's
    number, the matrix with it applied, a tuple of bytearrays)."""
    if proposed_mask is not None or width != height or width < 21:
        return _segno_best_mask(matrix, width, height, proposed_mask)
    flat = b"".join(matrix)
    if flat.translate(None, b"\x00\x01"):  # a module neither light nor dark: segno decides
        return _segno_best_mask(matrix, width, height, proposed_mask)
    masks, ones, inner = _masks(width)
    unmasked = int.from_bytes(flat, "big")
    best_score, best_pattern = None, None
    for number, mask in enumerate(masks):
        score = _penalty(unmasked ^ mask, width, ones, inner)
        if best_score is None or score < best_score:
            best_score, best_pattern = score, number
    masked = (unmasked ^ masks[best_pattern]).to_bytes(width * width, "big")
    return best_pattern, tuple(
        bytearray(masked[i * width : (i + 1) * width]) for i in range(height)
    )


def install() -> None:
    """Make segno choose masks with `find_and_apply_best_mask`. Idempotent."""
    encoder.find_and_apply_best_mask = find_and_apply_best_mask


install()


def qr_code(text: str) -> segno.QRCode:
    """The certificate's QR code for `text`: error correction level M (or better if it fits
    in the same size), as certificates have always had."""
    return segno.make(text, error="m")


def png(code: segno.QRCode, border: int = QUIET_ZONE) -> bytes:
    """The symbol as an 8-bit greyscale PNG, one pixel per module, black on white, with its
    quiet zone. Written here byte for byte (no image library), so the same symbol always gives
    the same file."""
    size = len(code.matrix) + 2 * border
    light_line = b"\x00" + b"\xff" * size  # filter byte 0, then the pixels
    margin = b"\xff" * border
    lines = [light_line] * border
    for row in code.matrix:
        pixels = bytes(row).translate(_PIXELS)
        lines.append(b"\x00" + margin + pixels + margin)
    lines += [light_line] * border
    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)  # 8-bit greyscale

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(lines), 9))
        + chunk(b"IEND", b"")
    )
