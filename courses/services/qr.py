"""QR codes for certificates: segno's symbols, chosen faster, drawn as a pixel-exact image.

segno picks a symbol's data mask as ISO/IEC 18004 says: it applies each of the eight masks and
keeps the one with the lowest penalty. It does so one module at a time in Python, which was most
of the time it took to build a certificate's page. `find_and_apply_best_mask` below scores the
same masks on the whole symbol at once (the modules as the bytes of one big integer, runs found
by a regular expression) and returns exactly what segno's returns: the same mask, the same
modules (courses/tests/test_qr.py compares both on hundreds of addresses). `install()` makes
segno use it; Micro QR codes, a mask asked for by the caller, and any matrix that is not all
light and dark modules still go to segno's own.

The certificate shows the symbol as a PNG, one pixel per module with its quiet zone, drawn
without interpolation: every module stays a sharp square at any zoom, and the page carries one
image instead of hundreds of path operators."""

from __future__ import annotations

import re
import struct
import zlib
from functools import lru_cache

import segno
from segno import encoder

QUIET_ZONE = 4  # modules of light border around the symbol, as the standard asks

_segno_best_mask = encoder.find_and_apply_best_mask

# A run of five or more modules of one colour (penalty N1), in rows and columns joined by a byte
# no module has, so no run crosses from one line into the next.
_RUN = re.compile(rb"\x00{5,}|\x01{5,}")
_LINE_BREAK = b"\xff"
_FINDER_LIKE = bytes((1, 0, 1, 1, 1, 0, 1))  # penalty N3: dark, light, dark x3, light, dark


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


def _finder_like_score(line: bytes, size: int) -> int:
    """segno's N3 for one row or column, step for step (its treatment of the symbol's edges
    included)."""
    count = 0
    index = line.find(_FINDER_LIKE)
    while index != -1:
        offset = index + 7
        if (
            index in (0, size - 7)
            or not any(line[max(index - 4, 0) : min(index, size)])
            or not any(line[max(offset, 0) : min(offset + 4, size)])
        ):
            count += 40
        else:
            offset = index + 4
        index = line.find(_FINDER_LIKE, offset)
    return count


def _penalty(modules: int, size: int, ones: int, inner: int) -> int:
    """The penalty of a masked symbol (ISO/IEC 18004:2015, 7.8.3.1), as segno's `mask_scores`
    adds it up. `modules`: a byte per module, row after row, 0 light and 1 dark."""
    flat = modules.to_bytes(size * size, "big")
    rows = [flat[i * size : (i + 1) * size] for i in range(size)]
    columns = [flat[j::size] for j in range(size)]
    # N1: each run of 5 + i modules of one colour scores 3 + i.
    runs = _RUN.findall(_LINE_BREAK.join(rows)) + _RUN.findall(_LINE_BREAK.join(columns))
    n1 = sum(map(len, runs)) - 2 * len(runs)
    # N2: each 2 x 2 block of one colour scores 3. A 1 in a byte of `left` says the module is the
    # colour of the one to its left, of `up` the colour of the one above it.
    left = (modules ^ (modules >> 8)) ^ ones
    up = (modules ^ (modules >> (8 * size))) ^ ones
    n2 = 3 * (left & (left >> (8 * size)) & up & inner).bit_count()
    # N3: each finder-like pattern beside four light modules scores 40.
    n3 = sum(
        _finder_like_score(line, size)
        for lines in (rows, columns)
        for line in lines
        if _FINDER_LIKE in line
    )
    # N4: 10 for each 5 % the share of dark modules is away from half.
    percent = float(modules.bit_count()) / (size**2)
    n4 = 10 * int(abs(percent * 100 - 50) / 5)
    return n1 + n2 + n3 + n4


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
        pixels = bytes(0x00 if module else 0xFF for module in row)
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
