"""What a PNG's own structure says about its pixels, before Pillow decodes them.

A PNG whose compressed stream ends cleanly but holds fewer rows than its
header declares decodes without error: the missing rows come out black. Here
the IDAT stream is inflated once, in 1 MiB steps that are counted and
discarded, and compared with the size the header implies (PNG spec §7-8:
each row is one filter byte plus ceil(width x bits per pixel / 8), per
Adam7 pass when interlaced).

The header also tells the sample depth: Pillow reduces 16-bit RGB, RGBA and
gray+alpha PNGs to 8 bits per channel without saying so.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
COLOUR_NAMES = {0: "gray", 2: "RGB", 3: "palette", 4: "gray+alpha", 6: "RGBA"}
# Adam7 passes: (x start, y start, x step, y step)
ADAM7 = (
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
)
STEP = 1 << 20


@dataclass(frozen=True)
class PngFacts:
    width: int
    height: int
    bit_depth: int
    colour_type: int
    expected_bytes: int  # inflated size the header implies
    found_bytes: int  # inflated size of the IDAT stream (up to expected + 1)

    @property
    def complete(self) -> bool:
        return self.found_bytes >= self.expected_bytes

    def reduction_note(self) -> str | None:
        """The bit-depth reduction Pillow applies silently, in words, or None."""
        if self.bit_depth == 16 and self.colour_type in (2, 4, 6):
            name = COLOUR_NAMES[self.colour_type]
            return f"16-bit {name} PNG reduced to 8 bits per channel (high byte kept)"
        return None


def _row_bytes(width: int, bits_per_pixel: int) -> int:
    return 1 + (width * bits_per_pixel + 7) // 8 if width else 0


def _expected_size(width: int, height: int, bits_per_pixel: int, interlaced: bool) -> int:
    if not interlaced:
        return height * _row_bytes(width, bits_per_pixel)
    total = 0
    for x0, y0, dx, dy in ADAM7:
        w = max(0, (width - x0 + dx - 1) // dx)
        h = max(0, (height - y0 + dy - 1) // dy)
        if w and h:
            total += h * _row_bytes(w, bits_per_pixel)
    return total


def _idat_chunks(data: bytes):
    offset = len(SIGNATURE)
    while offset + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        body = data[offset + 8 : offset + 8 + length]
        if kind == b"IDAT":
            yield body
        if kind == b"IEND" or len(body) < length:
            return
        offset += 12 + length


def png_facts(data: bytes) -> PngFacts | None:
    """The header's facts and how much pixel data the stream really holds (None: not a PNG)."""
    if not data.startswith(SIGNATURE) or len(data) < 33 or data[12:16] != b"IHDR":
        return None
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", data[16:29])
    if colour not in CHANNELS:
        return None
    expected = _expected_size(width, height, CHANNELS[colour] * depth, interlace == 1)
    inflater = zlib.decompressobj()
    found = 0
    try:
        for chunk in _idat_chunks(data):
            pending = chunk
            while pending and found <= expected:
                found += len(inflater.decompress(pending, STEP))
                pending = inflater.unconsumed_tail
            if found > expected:
                break
    except zlib.error:
        pass  # a damaged stream: Pillow's decoder reports it
    return PngFacts(width, height, depth, colour, expected, found)
