"""A minimal PNG reader for screenshot checks (8-bit RGB/RGBA, non-interlaced: what Chromium writes)."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass
class Image:
    width: int
    height: int
    channels: int
    rows: list[bytes]

    def luminance_variance(self) -> float:
        """Variance of the pixels' mean channel value (0 for a blank, single-colour image)."""
        total = squares = count = 0
        step = self.channels
        for row in self.rows:
            for index in range(0, len(row), step * 4):  # every 4th pixel is plenty
                value = sum(row[index : index + 3]) / 3
                total += value
                squares += value * value
                count += 1
        mean = total / count
        return squares / count - mean * mean

    def distinct_colours(self) -> int:
        step = self.channels
        return len({bytes(row[i : i + 3]) for row in self.rows for i in range(0, len(row), step * 8)})


def read_png(data: bytes) -> Image:
    """Decode; raises ValueError for anything that is not a PNG this reader handles."""
    if not data.startswith(SIGNATURE):
        raise ValueError("not a PNG (bad signature)")
    offset, header, idat = len(SIGNATURE), None, b""
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        chunk = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        if zlib.crc32(kind + chunk) != crc:
            raise ValueError(f"bad CRC in {kind!r}")
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        offset += 12 + length
    if header is None:
        raise ValueError("no IHDR chunk")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG (depth {depth}, colour type {colour}, interlace {interlace})")
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                predictor = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
                line[i] = (line[i] + predictor) & 0xFF
        rows.append(bytes(line))
        previous = line
    return Image(width, height, channels, rows)
