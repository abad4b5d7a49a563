#!/usr/bin/env python3
"""Draws assets/icon.png (64x64 RGBA): two bars, a small "before" and a tall red "after",
on a rounded dark tile. Standard library only: `python3 assets/make_icon.py`."""
import struct
import zlib
from pathlib import Path

SIZE = 64


def pixel(x, y):
    # Rounded tile.
    r = 12
    cx = min(max(x, r), SIZE - 1 - r)
    cy = min(max(y, r), SIZE - 1 - r)
    if (x - cx) ** 2 + (y - cy) ** 2 > r * r:
        return (0, 0, 0, 0)
    # Bars: before (grey-blue), after (red), on a baseline.
    if 50 <= y <= 52 and 10 <= x <= 53:
        return (220, 220, 230, 255)
    if 14 <= x <= 27 and 34 <= y < 50:
        return (110, 160, 230, 255)
    if 36 <= x <= 49 and 12 <= y < 50:
        return (235, 80, 70, 255)
    return (32, 36, 48, 255)


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


raw = b"".join(b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(SIZE)) for y in range(SIZE))
png = (
    b"\x89PNG\r\n\x1a\n"
    + chunk(b"IHDR", struct.pack(">IIBBBBB", SIZE, SIZE, 8, 6, 0, 0, 0))
    + chunk(b"IDAT", zlib.compress(raw, 9))
    + chunk(b"IEND", b"")
)
Path(__file__).with_name("icon.png").write_bytes(png)
