"""Upload safety: sniff the real type, bound bytes and pixels, decode fully, normalise.

Accepted: PNG, JPEG and WebP images (for `upload` and `mockup` assets) and binary glTF
(`model` assets). Everything else — SVG (script risk), GIF, text renamed `.png` — is a 415.
Images are opened header-only first so the declared size is checked *before* any pixel is
allocated (a 50 000 × 50 000 PNG of a few hundred bytes is refused at once), then verified
(CRCs), reopened and fully decoded (a PNG whose header lies about its size fails here),
rotated upright from EXIF, and re-encoded without metadata (ICC profile kept): PNG stays
PNG, JPEG becomes a quality-95 JPEG, WebP stays WebP (lossless when the source was). The
SHA-256 is that of the stored bytes. Every failure is a problem with a stable `code`.

Shopper photos (widget uploads through a publishable key) have a lower pixel cap
(`SHOPPER_MAX_PIXELS`), and every image decode takes one of a bounded number of slots
(`LUNEO_UPLOAD_DECODE_SLOTS`): past `DECODE_WAIT_S` of waiting the upload answers 503
`uploads_busy` with `Retry-After`, so a burst of uploads cannot exhaust memory or CPU.
"""

from __future__ import annotations

import io
import os
import struct
import threading
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from PIL import Image, ImageFile, ImageOps

from luneo.catalog.error_codes import CatalogErrorCode
from luneo.design.models3d import load_gltf_json
from luneo.platform.domain_errors import DomainError

MAX_PIXELS = 60_000_000  # 60 MP: above this an upload is refused
BOMB_PIXELS = 2 * MAX_PIXELS  # declared sizes above this are decompression bombs
MAX_SIDE_PX = 30_000
SHOPPER_MAX_PIXELS = 25_000_000  # 25 MP for shopper photos (publishable keys)
DECODE_WAIT_S = 2.0  # how long an upload waits for a decoding slot before a 503


def _decode_slots() -> int:
    try:
        return max(1, int(os.environ.get("LUNEO_UPLOAD_DECODE_SLOTS", "") or (os.cpu_count() or 2)))
    except ValueError:
        return max(1, os.cpu_count() or 2)


_DECODE_SLOTS = threading.BoundedSemaphore(_decode_slots())


@contextmanager
def decoding_slot() -> Iterator[None]:
    """Hold one of the bounded image-decoding slots (503 `uploads_busy` when none frees up)."""
    slots = _DECODE_SLOTS
    if not slots.acquire(timeout=DECODE_WAIT_S):
        raise DomainError(
            CatalogErrorCode.UPLOADS_BUSY,
            "Too many images are being processed; retry shortly.",
            retry_after_s=2,
        )
    try:
        yield
    finally:
        slots.release()


PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
GLB_MAGIC = b"glTF"

IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp")
MODEL_TYPES = ("model/gltf-binary",)


@dataclass(frozen=True)
class CheckedFile:
    """Bytes ready to store, with their real type and (for images) upright pixel size."""

    data: bytes
    content_type: str
    width_px: int | None = None
    height_px: int | None = None


def sniff(data: bytes) -> str | None:
    """The content type told by the magic bytes, or None when not one we accept."""
    if data.startswith(PNG_MAGIC):
        return "image/png"
    if data.startswith(JPEG_MAGIC):
        return "image/jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(GLB_MAGIC):
        return "model/gltf-binary"
    return None


def _too_large(limit: int) -> DomainError:
    return DomainError(CatalogErrorCode.FILE_TOO_LARGE, f"The file exceeds {limit} bytes.", limit_bytes=limit)


def check_upload(data: bytes, *, kind: str, max_bytes: int, max_pixels: int = MAX_PIXELS) -> CheckedFile:
    """Validate and normalise an upload for an asset of `kind` (upload | mockup | model).

    `max_pixels` lowers the pixel cap (shopper photos); it never raises it above `MAX_PIXELS`."""
    if len(data) > max_bytes:
        raise _too_large(max_bytes)
    if not data:
        raise DomainError(CatalogErrorCode.EMPTY_FILE, "The file is empty.")
    ctype = sniff(data)
    wanted = MODEL_TYPES if kind == "model" else IMAGE_TYPES
    if ctype is None or ctype not in wanted:
        accepted = "binary glTF (.glb)" if kind == "model" else "PNG, JPEG or WebP"
        raise DomainError(
            CatalogErrorCode.UNSUPPORTED_MEDIA_TYPE,
            f"Unsupported file type: send {accepted}.",
            accepted=list(wanted),
        )
    if ctype == "model/gltf-binary":
        check_glb(data)
        return CheckedFile(data=data, content_type=ctype)
    with decoding_slot():
        return normalise_image(data, ctype, max_pixels=min(max_pixels, MAX_PIXELS))


# --------------------------------------------------------------------------- images


def _bomb(w: int, h: int) -> DomainError:
    return DomainError(
        CatalogErrorCode.DECOMPRESSION_BOMB,
        f"The image declares {w}×{h} pixels: refused as a decompression bomb.",
        width_px=w,
        height_px=h,
        max_pixels=MAX_PIXELS,
    )


def _corrupt(reason: str) -> DomainError:
    return DomainError(CatalogErrorCode.IMAGE_CORRUPT, f"The image cannot be decoded: {reason}.")


def check_dimensions(w: int, h: int, max_pixels: int = MAX_PIXELS) -> None:
    """Refuse sizes before decoding: bombs (> 2× the limit) and merely too large images."""
    if w <= 0 or h <= 0:
        raise _corrupt("empty dimensions")
    if w * h > BOMB_PIXELS:
        raise _bomb(w, h)
    if w * h > max_pixels or max(w, h) > MAX_SIDE_PX:
        raise DomainError(
            CatalogErrorCode.IMAGE_TOO_LARGE,
            f"The image is {w}×{h} pixels; at most {max_pixels // 1_000_000} MP and {MAX_SIDE_PX} px a side.",
            width_px=w,
            height_px=h,
            max_pixels=max_pixels,
        )


def _open(data: bytes) -> Image.Image:
    """Open header-only, turning Pillow's own bomb guards into problems."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            return Image.open(io.BytesIO(data))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise DomainError(
                CatalogErrorCode.DECOMPRESSION_BOMB, "The image is a decompression bomb."
            ) from exc
        except Exception as exc:
            raise _corrupt(type(exc).__name__) from exc


def _decode(data: bytes, fmt: str, max_pixels: int = MAX_PIXELS) -> Image.Image:
    img = _open(data)
    if (img.format or "").upper() != fmt:
        raise _corrupt(f"not a {fmt} file")
    check_dimensions(*img.size, max_pixels=max_pixels)
    if fmt == "PNG":
        check_png_data(data)
    if getattr(img, "n_frames", 1) > 1:
        raise DomainError(CatalogErrorCode.IMAGE_ANIMATED, "Animated images are not accepted.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img.verify()  # structure and CRCs (PNG); the object is unusable afterwards
            img = Image.open(io.BytesIO(data))
            check_dimensions(*img.size, max_pixels=max_pixels)
            if ImageFile.LOAD_TRUNCATED_IMAGES:  # never accept a partial decode
                raise _corrupt("truncated images are not accepted")
            img.load()  # every pixel: a header that lies about the size fails here
    except DomainError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DomainError(CatalogErrorCode.DECOMPRESSION_BOMB, "The image is a decompression bomb.") from exc
    except Exception as exc:
        raise _corrupt(str(exc) or type(exc).__name__) from exc
    return img


_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def _png_expected_bytes(w: int, h: int, bit_depth: int, color_type: int, interlace: int) -> int:
    bpp = _PNG_CHANNELS[color_type] * bit_depth
    if not interlace:
        return h * (1 + (w * bpp + 7) // 8)
    total = 0
    for x0, y0, dx, dy in _ADAM7:
        pw, ph = -(-(w - x0) // dx), -(-(h - y0) // dy)
        if pw > 0 and ph > 0:
            total += ph * (1 + (pw * bpp + 7) // 8)
    return total


def check_png_data(data: bytes) -> None:
    """The IDAT stream must inflate to at least what IHDR declares.

    Pillow silently leaves missing rows blank when the zlib stream ends early, so a header
    that lies about the size would pass `load()`. Inflation is streamed in 1 MiB steps and
    counted, never held, so this costs no memory whatever the image declares.
    """
    pos, ihdr, idat = 8, None, []
    while pos + 8 <= len(data):
        length, tag = struct.unpack_from(">I4s", data, pos)
        body = data[pos + 8 : pos + 8 + length]
        if tag == b"IHDR":
            ihdr = body
        elif tag == b"IDAT":
            idat.append(body)
        elif tag == b"IEND":
            break
        pos += 12 + length
    if ihdr is None or len(ihdr) != 13 or not idat:
        raise _corrupt("missing PNG header or pixel data")
    w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", ihdr)
    if ctype not in _PNG_CHANNELS:
        raise _corrupt("unknown PNG colour type")
    expected = _png_expected_bytes(w, h, depth, ctype, interlace)
    inflater = zlib.decompressobj()
    got, pending = 0, b"".join(idat)
    try:
        while pending and got <= expected:
            got += len(inflater.decompress(pending, 1 << 20))
            pending = inflater.unconsumed_tail
        if got <= expected:
            got += len(inflater.flush())
    except zlib.error as exc:
        raise _corrupt("invalid PNG pixel data") from exc
    if got < expected:
        raise _corrupt(f"the pixel data holds {got} of the {expected} bytes the header declares")


def _webp_lossless(data: bytes) -> bool:
    """Whether a WebP file carries a lossless (VP8L) bitstream."""
    pos = 12
    while pos + 8 <= len(data):
        tag = data[pos : pos + 4]
        size = struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if tag == b"VP8L":
            return True
        if tag == b"VP8 ":
            return False
        pos += 8 + size + (size & 1)
    return False


def normalise_image(data: bytes, ctype: str, max_pixels: int = MAX_PIXELS) -> CheckedFile:
    """Decode fully, apply EXIF orientation, re-encode without metadata (keeping ICC)."""
    fmt = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}[ctype]
    img = _decode(data, fmt, max_pixels)
    icc = img.info.get("icc_profile")
    try:
        upright = ImageOps.exif_transpose(img)
    except Exception as exc:
        raise _corrupt("invalid EXIF data") from exc
    out = io.BytesIO()
    extra = {"icc_profile": icc} if icc else {}
    try:
        if fmt == "PNG":
            if upright.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"):
                upright = upright.convert("RGBA")
            if "transparency" in img.info and upright.mode == img.mode:
                extra["transparency"] = img.info["transparency"]
            upright.save(out, "PNG", **extra)
        elif fmt == "JPEG":
            if upright.mode not in ("L", "RGB", "CMYK"):
                upright = upright.convert("RGB")
            upright.save(out, "JPEG", quality=95, subsampling=0, **extra)
        else:
            if upright.mode not in ("RGB", "RGBA"):
                upright = upright.convert("RGBA")
            if _webp_lossless(data):
                upright.save(out, "WEBP", lossless=True, exact=True, **extra)
            else:
                upright.save(out, "WEBP", quality=95, method=4, **extra)
    except Exception as exc:
        raise _corrupt(f"cannot re-encode ({exc})") from exc
    return CheckedFile(
        data=out.getvalue(), content_type=ctype, width_px=upright.width, height_px=upright.height
    )


# --------------------------------------------------------------------------- GLB


def check_glb(data: bytes) -> None:
    """A well-formed binary glTF 2.0 container: header, lengths in bounds, a JSON first chunk."""

    def bad(reason: str) -> DomainError:
        return DomainError(CatalogErrorCode.MODEL_CORRUPT, f"The GLB file is malformed: {reason}.")

    if len(data) < 20:
        raise bad("too short")
    magic, version, length = struct.unpack_from("<4sII", data, 0)
    if magic != GLB_MAGIC or version != 2:
        raise bad("not glTF 2.0")
    if length != len(data):
        raise bad("length field does not match the file size")
    pos, first = 12, True
    while pos < length:
        if pos + 8 > length:
            raise bad("truncated chunk header")
        chunk_len, chunk_type = struct.unpack_from("<II", data, pos)
        end = pos + 8 + chunk_len
        if end > length:
            raise bad("chunk runs past the end of the file")
        if first:
            if chunk_type != 0x4E4F534A:  # JSON
                raise bad("first chunk is not JSON")
            try:
                doc = load_gltf_json(data[pos + 8 : end])  # bounded: deep nesting is refused
            except ValueError as exc:
                raise bad(str(exc)) from exc
            if not isinstance(doc.get("asset"), dict):
                raise bad("missing asset block")
            first = False
        pos = end
