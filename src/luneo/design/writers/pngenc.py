"""Fast, deterministic PNG encoding for large print rasters, and PNG → PDF image streams.

Print PNGs are 10-17 MP; Pillow's encoder (adaptive filters, one zlib stream on one core) was
the largest cost of a production pack. Here every row uses the PNG "Up" filter (one vectorised
numpy subtraction; as small or smaller than Pillow's choice on our renders) and the filtered
rows are deflated in fixed 4 MiB pieces on a small thread pool (zlib releases the GIL), each
piece primed with the previous 32 KiB as its dictionary and ended with a sync flush, then joined
into one zlib stream (as pigz does). Piece boundaries depend only on the image, never on the
number of threads, so the same pixels always give the same bytes. The pixels are exactly the
input's (lossless; a decoder returns the same array).

`pdf_image_streams` turns a PNG into PDF image data without decoding it when it can: an 8-bit,
non-interlaced grey or RGB PNG's IDAT bytes are a valid PDF FlateDecode stream with the PNG
predictor (/DecodeParms /Predictor 15), so they are embedded as they are; with alpha, colour and
alpha are split and encoded as above (an /SMask).
"""

from __future__ import annotations

import os
import struct
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from PIL import Image

PIECE_BYTES = 4 * 1024 * 1024  # filtered bytes per independently deflated piece
LEVEL = 1  # zlib level: print rasters barely shrink at higher levels and encode far slower
_WINDOW = 32 * 1024
_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOUR_TYPES = {"L": 0, "RGB": 2, "LA": 4, "RGBA": 6}
_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}

_pool_lock = threading.Lock()
_pool: tuple[int, ThreadPoolExecutor] | None = None


def _executor() -> ThreadPoolExecutor:
    """The process's deflate pool (re-created after a fork: a parent's threads are not inherited)."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid():
            workers = max(1, min(4, os.cpu_count() or 1))
            _pool = (os.getpid(), ThreadPoolExecutor(workers, thread_name_prefix="luneo-deflate"))
        return _pool[1]


def up_filtered(pixels: np.ndarray) -> np.ndarray:
    """(h, w[, c]) uint8 pixels → (h, 1 + w·c) rows, each prefixed by filter type 2 (Up)."""
    h = pixels.shape[0]
    rows = np.ascontiguousarray(pixels, dtype=np.uint8).reshape(h, -1)
    out = np.empty((h, rows.shape[1] + 1), np.uint8)
    out[:, 0] = 2
    out[:1, 1:] = rows[:1]
    np.subtract(rows[1:], rows[:-1], out=out[1:, 1:])  # modulo 256, as the PNG spec wants
    return out


def _deflate_piece(data: memoryview, start: int, end: int, last: bool, level: int) -> bytes:
    zdict = bytes(data[max(0, start - _WINDOW) : start]) if start else None
    co = (
        zlib.compressobj(level, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, zdict)
        if zdict
        else zlib.compressobj(level, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY)
    )
    return co.compress(data[start:end]) + co.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


def deflate(data: bytes | memoryview, level: int = LEVEL, piece: int | None = None) -> bytes:
    """A zlib stream of `data`, deflated in `piece`-sized parts (default `PIECE_BYTES`) in
    parallel; the parts depend only on the data, so the bytes do too."""
    piece = piece or PIECE_BYTES
    view = memoryview(data).cast("B")
    n = len(view)
    bounds = [(s, min(n, s + piece)) for s in range(0, max(n, 1), piece)]
    if len(bounds) == 1:
        parts = [_deflate_piece(view, 0, n, True, level)]
        adler = zlib.adler32(view)
    else:
        pool = _executor()
        checksum = pool.submit(zlib.adler32, view)
        futures = [
            pool.submit(_deflate_piece, view, s, e, i == len(bounds) - 1, level)
            for i, (s, e) in enumerate(bounds)
        ]
        parts = [f.result() for f in futures]
        adler = checksum.result()
    flevel = 0 if level < 2 else 1 if level < 6 else 2 if level == 6 else 3
    cmf, flg = 0x78, flevel << 6
    flg |= 31 - ((cmf << 8) | flg) % 31
    return bytes((cmf, flg)) + b"".join(parts) + struct.pack(">I", adler)


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(tag)))


def encode_png(
    img: Image.Image | np.ndarray, *, dpi: float | None = None, chunks: tuple[tuple[bytes, bytes], ...] = ()
) -> bytes:
    """PNG of an 8-bit L / LA / RGB / RGBA image (or an (h, w[, 1-4]) uint8 array, read as such):
    Up filter, parallel deflate, `chunks` (tag, data) written before the pixels (e.g. sRGB), pHYs
    when `dpi` is given. No text or time chunks."""
    if isinstance(img, np.ndarray):
        pixels = img if img.ndim == 3 else img[..., None]
        mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}.get(pixels.shape[2], "")
        if pixels.dtype != np.uint8:
            raise ValueError("the print PNG encoder takes uint8 pixels")
    else:
        mode, pixels = img.mode, np.asarray(img)
    colour_type = _COLOUR_TYPES.get(mode)
    if colour_type is None:
        raise ValueError(f"unsupported mode for the print PNG encoder: {mode or pixels.shape}")
    h, w = pixels.shape[:2]
    out = [_SIGNATURE, _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, colour_type, 0, 0, 0))]
    out += [_chunk(tag, data) for tag, data in chunks]
    if dpi:
        ppm = int(dpi / 0.0254 + 0.5)  # pixels per metre, rounded as Pillow does
        out.append(_chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1)))
    out.append(_chunk(b"IDAT", deflate(up_filtered(pixels).data)))
    out.append(_chunk(b"IEND", b""))
    return b"".join(out)


# ---------------------------------------------------------------- PNG → PDF image data


@dataclass(frozen=True, slots=True)
class PdfImageData:
    """One PDF image stream: FlateDecode data with the PNG predictor for `columns` × `colors`."""

    width: int
    height: int
    colors: int  # 1 (DeviceGray) or 3 (DeviceRGB)
    data: bytes


def _png_header(png: bytes) -> tuple[int, int, int, int, int, bytes, bool] | None:
    """(width, height, bit depth, colour type, interlace, IDAT data, has tRNS/PLTE) or None."""
    if not png.startswith(_SIGNATURE):
        return None
    pos, idat, ihdr, extra = 8, [], None, False
    while pos + 8 <= len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        tag = png[pos + 4 : pos + 8]
        body = png[pos + 8 : pos + 8 + length]
        if len(body) != length:
            return None
        if tag == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif tag == b"IDAT":
            idat.append(body)
        elif tag in (b"tRNS", b"PLTE"):
            extra = True
        elif tag == b"IEND":
            break
        pos += 12 + length
    if ihdr is None or not idat:
        return None
    w, h, depth, ctype, _comp, _filt, interlace = ihdr
    return w, h, depth, ctype, interlace, b"".join(idat), extra


def pdf_image_streams(png: bytes) -> tuple[PdfImageData, PdfImageData | None] | None:
    """(colour, alpha or None) PDF image data for a PNG, or None when the PNG needs the general path
    (palette, 16-bit, interlaced, colour-key transparency)."""
    head = _png_header(png)
    if head is None:
        return None
    w, h, depth, ctype, interlace, idat, extra = head
    if depth != 8 or interlace or extra or ctype not in _CHANNELS:
        return None
    if ctype in (0, 2):  # no alpha: the IDAT stream is the PDF stream
        return PdfImageData(w, h, _CHANNELS[ctype], idat), None
    import io

    with Image.open(io.BytesIO(png)) as im:
        im.load()
        arr = np.asarray(im)
    colour = arr[..., :-1] if arr.shape[2] > 2 else arr[..., :1]
    alpha = arr[..., -1]
    colors = colour.shape[2]
    colour_data = PdfImageData(w, h, colors, deflate(up_filtered(colour).data))
    if int(alpha.min()) == 255:
        return colour_data, None
    return colour_data, PdfImageData(w, h, 1, deflate(up_filtered(alpha).data))
