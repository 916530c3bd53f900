"""What a PNG says about itself before anyone decodes it: its size, from the IHDR chunk.

A PNG of 10000 x 10000 pixels can be a few kilobytes on the wire and a gigabyte once decoded, so
content that others control (a token's image, fetched by CID) is checked against the size its
manifest renders at, and against the most bytes such a PNG can take, before Pillow sees it.
"""

from __future__ import annotations

import struct

SIGNATURE = b"\x89PNG\r\n\x1a\n"


class PngRefused(ValueError):
    """Bytes that are not a PNG of the expected size; nothing was decoded."""


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the IHDR chunk, the first chunk of every PNG."""
    if len(data) < 24 or not data.startswith(SIGNATURE) or data[12:16] != b"IHDR":
        raise PngRefused("not a PNG (no PNG signature and IHDR chunk)")
    return struct.unpack(">II", data[16:24])


def max_png_bytes(width: int, height: int) -> int:
    """The most bytes an honest PNG of this size can take: 8-bit RGBA stored uncompressed (a
    filter byte per row, zlib's 5-byte header per 64 KiB block), plus room for chunk headers."""
    raw = height * (1 + 4 * width)
    return raw + 5 * (raw // 65_535 + 1) + 64 * 1024


def check_png(data: bytes, width: int, height: int) -> None:
    """Refuse, before decoding, a PNG whose size is not `width` x `height` or whose bytes exceed
    what such a PNG can take."""
    got = png_size(data)
    if got != (width, height):
        raise PngRefused(f"the PNG is {got[0]}x{got[1]} pixels, the manifest renders {width}x{height}")
    if len(data) > max_png_bytes(width, height):
        raise PngRefused(f"the PNG is {len(data)} bytes, more than any {width}x{height} PNG takes "
                         f"({max_png_bytes(width, height)})")
