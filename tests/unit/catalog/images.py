"""Crafted test files: honest images, lying PNG headers, decompression bombs, GLB containers."""

from __future__ import annotations

import io
import json
import struct
import zlib

from PIL import Image


def chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def raw_png(
    width: int, height: int, idat: bytes, *, color_type: int = 0, bit_depth: int = 8, interlace: int = 0
) -> bytes:
    """A PNG with the given IHDR and IDAT payload (valid CRCs whatever the payload says)."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, interlace)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def lying_png() -> bytes:
    """IHDR says 400×400 grey, the pixel data holds 10 rows of 400: a header that lies."""
    rows = b"".join(b"\x00" + b"\x80" * 400 for _ in range(10))
    return raw_png(400, 400, zlib.compress(rows))


def giant_header_png(side: int = 50_000) -> bytes:
    """Declares side×side pixels with a tiny zlib stream: a few dozen bytes on disk."""
    return raw_png(side, side, zlib.compress(b"\x00" * 64), color_type=0, bit_depth=1)


def zip_bomb_png(side: int = 8_000) -> bytes:
    """A real, fully valid side×side black PNG: ~64 MP that compresses to tens of KB."""
    comp = zlib.compressobj(9)
    row = b"\x00" * (side + 1)
    parts = [comp.compress(row) for _ in range(side)]
    parts.append(comp.flush())
    return raw_png(side, side, b"".join(parts))


def png(w: int = 8, h: int = 6, color: tuple[int, int, int] = (200, 30, 30), mode: str = "RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, (w, h), color).save(buf, "PNG")
    return buf.getvalue()


def jpeg_with_orientation(w: int = 40, h: int = 20, orientation: int = 6) -> bytes:
    """A w×h JPEG whose EXIF says 'rotate' (6 = 90° clockwise): upright it is h×w."""
    img = Image.new("RGB", (w, h), (10, 120, 200))
    img.paste((250, 250, 0), (0, 0, w // 4, h // 4))
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "SecretCam"  # Make: must not survive re-encoding
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif.tobytes(), quality=90)
    return buf.getvalue()


def webp(w: int = 10, h: int = 10, lossless: bool = True) -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", (w, h), (1, 2, 3, 128)).save(buf, "WEBP", lossless=lossless)
    return buf.getvalue()


def glb(json_doc: dict | None = None, *, bad_length: bool = False) -> bytes:
    doc = json.dumps(json_doc if json_doc is not None else {"asset": {"version": "2.0"}}).encode()
    doc += b" " * (-len(doc) % 4)
    body = struct.pack("<II", len(doc), 0x4E4F534A) + doc
    total = 12 + len(body)
    return struct.pack("<4sII", b"glTF", 2, total + (4 if bad_length else 0)) + body
