"""SVG → PNG / WebP previews, thumbnails and true-size print PNGs.

Two self-contained rasterisers can draw our SVGs: skia-python (default: ~10× faster here, see
bench/bench_rasterisers.py) and resvg-py. Skia's SVG module cannot load `<image>` data URIs
without a resource provider (not exposed in Python), so the skia path draws `<image>` elements
itself, in document order, clipped by their `clip-path`; everything else goes through
`skia.SVGDOM`. Pillow encodes with fixed options and no metadata, so the same SVG gives the
same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import io
import math
import re
import xml.etree.ElementTree as ET
import zlib
from typing import Any, Literal

import numpy as np
from PIL import Image

from luneo.design.bleed import bleed_scene
from luneo.design.bytecache import MIB, ByteLRU
from luneo.design.scene import Scene
from luneo.design.writers import pngenc
from luneo.design.writers.svg import canvas_box, write_svg

Backend = Literal["skia", "resvg"]


def _default_backend() -> Backend:
    try:
        import skia  # noqa: F401
    except ImportError:  # pragma: no cover - skia-python is a runtime dependency
        return "resvg"
    return "skia"


DEFAULT_BACKEND: Backend = _default_backend()
MM_PER_INCH = 25.4
PREVIEW_PNG_LEVEL = 3  # zlib level for previews: fast, still compact
# The widget's live previews (`encode_preview_png`): zlib's run-length strategy encodes a 720 px
# mockup ~30 % faster than the default strategy and ~15 % smaller (bench/bench_mockup.py); same pixels.
PREVIEW_PNG_STRATEGY = zlib.Z_RLE
PRINT_PNG_LEVEL = pngenc.LEVEL  # print files are large: zlib 1 is ~4x faster than 6 for ~15 % more bytes
WEBP_QUALITY = 88
THUMBNAIL_PX = 200

_SVG_NS = "http://www.w3.org/2000/svg"
_XLINK_NS = "http://www.w3.org/1999/xlink"
_PATH_TOKEN = re.compile(r"[MLQCZmlqcz]|-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
ET.register_namespace("", _SVG_NS)
ET.register_namespace("xlink", _XLINK_NS)


# ---------------------------------------------------------------- sizing


def _viewbox(root: ET.Element) -> tuple[float, float, float, float]:
    vb = root.get("viewBox")
    if vb is None:
        raise ValueError("SVG needs a viewBox")
    x, y, w, h = (float(v) for v in vb.replace(",", " ").split())
    return x, y, w, h


# ---------------------------------------------------------------- resvg


_ROOT_TAG = re.compile(rb"<svg\b[^>]*>")
_SIZE_ATTR = re.compile(rb'\s(width|height|preserveAspectRatio)="[^"]*"')


def _with_pixel_size(svg: bytes, width_px: int, height_px: int) -> bytes:
    """Replace the root's width/height (mm) by the exact pixel size; the viewBox maps onto it."""
    m = _ROOT_TAG.search(svg)
    if m is None:
        raise ValueError("no <svg> root element")
    tag = _SIZE_ATTR.sub(b"", m.group(0))
    tag = tag[:4] + f' width="{width_px}" height="{height_px}" preserveAspectRatio="none"'.encode() + tag[4:]
    return svg[: m.start()] + tag + svg[m.end() :]


def _render_resvg(svg: bytes, width_px: int, height_px: int) -> Image.Image:
    import resvg_py

    # resvg rounds mm sizes up (100 × 60 mm at 600 px wide gives 361 rows): size in pixels instead.
    sized = _with_pixel_size(svg, width_px, height_px)
    png = resvg_py.svg_to_bytes(svg_string=sized.decode("utf-8"), skip_system_fonts=True)
    with Image.open(io.BytesIO(png)) as im:
        return im.convert("RGBA")


# ---------------------------------------------------------------- skia


def _skia_path(d: str) -> Any:
    """Parse the absolute M/L/Q/C/Z path data our SVG writer emits into a skia.Path."""
    import skia

    path = skia.Path()
    tokens = _PATH_TOKEN.findall(d)
    i, op = 0, ""
    while i < len(tokens):
        if tokens[i].isalpha():
            op = tokens[i]
            i += 1
            if op in "Zz":
                path.close()
                continue
        n = {"M": 2, "L": 2, "Q": 4, "C": 6}.get(op.upper())
        if n is None or op.islower():
            raise ValueError(f"unsupported path command {op!r}")
        v = [float(t) for t in tokens[i : i + n]]
        i += n
        if op == "M":
            path.moveTo(*v)
            op = "L"
        elif op == "L":
            path.lineTo(*v)
        elif op == "Q":
            path.quadTo(*v)
        else:
            path.cubicTo(*v)
    return path


_DATA_URI = re.compile(rb'(\s(?:xlink:)?href=)"(data:[^"]*)"')
_URI_REF = re.compile(r'"#uri(\d+)"')


def _restore_uris(xml: str, uris: list[bytes]) -> str:
    return _URI_REF.sub(lambda m: '"' + uris[int(m.group(1))].decode("ascii") + '"', xml)


# Decoded `<image>` data (a product photo, a shopper's photo) by the digest of its data URI:
# between two keystrokes only the text changes, so the photo is not decoded again. A raster
# `skia.Image` is immutable; every render still draws it the same way (same bytes out).
_decoded: ByteLRU[bytes, Any] = ByteLRU(96 * MIB, lambda img: int(img.width() * img.height() * 4) + 256)


def _decoded_image(uri: bytes) -> Any:
    """The raster image of a `data:image/…;base64,` URI (None when skia cannot decode it)."""
    import skia

    key = hashlib.blake2b(uri, digest_size=20).digest()
    img = _decoded.get(key)
    if img is None:
        # Copy the bytes into skia and decode now: a lazy image would read freed Python memory.
        img = skia.Image.MakeFromEncoded(skia.Data.MakeWithCopy(base64.b64decode(uri.split(b",", 1)[1])))
        if img is None:
            return None
        img = img.makeRasterImage()
        _decoded.put(key, img)
    return img


def _render_skia(svg: bytes, width_px: int, height_px: int) -> Image.Image:
    return Image.fromarray(_render_skia_array(svg, width_px, height_px), "RGBA")


def _render_skia_array(svg: bytes, width_px: int, height_px: int) -> np.ndarray:
    """The skia rendering as an (h, w, 4) unpremultiplied RGBA uint8 array."""
    import skia

    # Lift data URIs out before parsing: the XML parser is slow on megabytes of base64.
    uris: list[bytes] = []

    def lift(m: re.Match[bytes]) -> bytes:
        uris.append(m.group(2))
        return m.group(1) + b'"#uri' + str(len(uris) - 1).encode() + b'"'

    root = ET.fromstring(_DATA_URI.sub(lift, svg))
    vx, vy, vw, vh = _viewbox(root)
    clips: dict[str, Any] = {}
    for cp in root.iter(f"{{{_SVG_NS}}}clipPath"):
        path = skia.Path()
        for p in cp.iter(f"{{{_SVG_NS}}}path"):
            path.addPath(_skia_path(p.get("d", "")))
        clips[cp.get("id", "")] = path

    surface = skia.Surface(width_px, height_px)  # N32, premultiplied, transparent
    canvas = surface.getCanvas()
    head = (
        f'<svg xmlns="{_SVG_NS}" xmlns:xlink="{_XLINK_NS}" width="{width_px}" height="{height_px}" '
        f'viewBox="{root.get("viewBox")}" preserveAspectRatio="none">'
    )
    batch: list[str] = []

    def flush() -> None:
        if batch:
            doc = (head + "".join(batch) + "</svg>").encode("utf-8")
            dom = skia.SVGDOM.MakeFromStream(skia.MemoryStream(doc, True))  # copyData: no dangling buffer
            if dom is None:
                raise ValueError("skia could not parse the SVG")
            dom.setContainerSize(skia.Size(width_px, height_px))
            dom.render(canvas)
            batch.clear()

    sampling = skia.SamplingOptions(skia.CubicResampler.Mitchell())
    for el in root:
        tag = el.tag.rsplit("}", 1)[-1]
        if tag == "defs":
            continue
        if tag != "image":
            batch.append(_restore_uris(ET.tostring(el, encoding="unicode"), uris))
            continue
        flush()
        href = el.get(f"{{{_XLINK_NS}}}href") or el.get("href") or ""
        if not href.startswith("#uri"):
            continue
        uri = uris[int(href[4:])]
        if not uri.startswith(b"data:image/") or b";base64," not in uri:
            continue
        img = _decoded_image(uri)
        if img is None:
            continue
        canvas.save()
        canvas.scale(width_px / vw, height_px / vh)
        canvas.translate(-vx, -vy)
        clip_ref = re.fullmatch(r"url\(#([^)]+)\)", el.get("clip-path", ""))
        if clip_ref and clip_ref.group(1) in clips:
            canvas.clipPath(clips[clip_ref.group(1)], skia.ClipOp.kIntersect, True)
        rect = skia.Rect.MakeXYWH(
            float(el.get("x", 0)),
            float(el.get("y", 0)),
            float(el.get("width", 0)),
            float(el.get("height", 0)),
        )
        src = skia.Rect.MakeWH(img.width(), img.height())
        canvas.drawImageRect(img, src, rect, sampling, None, skia.Canvas.kFast_SrcRectConstraint)
        canvas.restore()
    flush()
    arr = surface.makeImageSnapshot().toarray(
        colorType=skia.kRGBA_8888_ColorType, alphaType=skia.kUnpremul_AlphaType
    )
    return np.ascontiguousarray(arr)


# ---------------------------------------------------------------- public API


def rasterise(
    svg_bytes: bytes, width_px: int, height_px: int | None = None, *, backend: Backend = DEFAULT_BACKEND
) -> Image.Image:
    """Rasterise an SVG to an RGBA image `width_px` wide (height from the viewBox unless given)."""
    if width_px <= 0:
        raise ValueError("width_px must be positive")
    if height_px is None:
        m = _ROOT_TAG.search(svg_bytes)
        vb = re.search(rb'viewBox="([^"]*)"', m.group(0)) if m else None
        if vb is None:
            raise ValueError("SVG needs a viewBox")
        _x, _y, vw, vh = (float(v) for v in vb.group(1).replace(b",", b" ").split())
        height_px = max(1, round(width_px * vh / vw))
    w, h = width_px, height_px
    if backend == "skia":
        return _render_skia(svg_bytes, w, h)
    return _render_resvg(svg_bytes, w, h)


def encode_png(
    img: Image.Image, *, level: int = PREVIEW_PNG_LEVEL, pnginfo: Any = None, **opts: Any
) -> bytes:
    """PNG with fixed zlib settings and no text/time chunks."""
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=level, optimize=False, pnginfo=pnginfo, **opts)
    return buf.getvalue()


def encode_preview_png(img: Image.Image) -> bytes:
    """A preview PNG (the pipeline's `png` format): fixed settings tuned for speed, no metadata."""
    return encode_png(img, level=PREVIEW_PNG_LEVEL, compress_type=PREVIEW_PNG_STRATEGY)


def encode_webp(img: Image.Image, *, quality: int = WEBP_QUALITY) -> bytes:
    """Lossy WebP (alpha kept) with fixed options and no EXIF/XMP/ICC."""
    buf = io.BytesIO()
    img.save(buf, format="WEBP", quality=quality, method=2, exact=False, exif=b"", xmp=b"", icc_profile=b"")
    return buf.getvalue()


def render_png(svg_bytes: bytes, width_px: int, *, backend: Backend = DEFAULT_BACKEND) -> bytes:
    """Rasterise an SVG to a PNG `width_px` wide."""
    return encode_png(rasterise(svg_bytes, width_px, backend=backend))


def write_png(
    scene: Scene, width_px: int, *, mockup: bool = False, backend: Backend = DEFAULT_BACKEND
) -> bytes:
    """Preview PNG (transparent outside the design, or on the mockup photo)."""
    return render_png(write_svg(scene, include_mockup=mockup), width_px, backend=backend)


def write_webp(
    scene: Scene, width_px: int, *, mockup: bool = False, backend: Backend = DEFAULT_BACKEND
) -> bytes:
    """Preview WebP (alpha kept)."""
    return encode_webp(rasterise(write_svg(scene, include_mockup=mockup), width_px, backend=backend))


def write_thumbnail(scene: Scene, *, backend: Backend = DEFAULT_BACKEND) -> bytes:
    """200×200 transparent PNG, the design letterboxed and centred."""
    _, _, w_mm, h_mm = canvas_box(scene)
    k = THUMBNAIL_PX / max(w_mm, h_mm)
    w, h = max(1, round(w_mm * k)), max(1, round(h_mm * k))
    img = rasterise(write_svg(scene), w, h, backend=backend)
    thumb = Image.new("RGBA", (THUMBNAIL_PX, THUMBNAIL_PX), (0, 0, 0, 0))
    thumb.paste(img, ((THUMBNAIL_PX - w) // 2, (THUMBNAIL_PX - h) // 2))
    return encode_png(thumb)


def print_size_px(scene: Scene, dpi: int) -> tuple[int, int]:
    """Pixel size of the true-size print file (bleed included)."""
    _, _, w_mm, h_mm = canvas_box(scene)
    return max(1, round(w_mm / MM_PER_INCH * dpi)), max(1, round(h_mm / MM_PER_INCH * dpi))


# sRGB (perceptual) with the gAMA/cHRM fallback values the PNG spec recommends.
_CHRM = (31270, 32900, 64000, 33000, 30000, 60000, 15000, 6000)
_SRGB_CHUNKS = (
    (b"sRGB", b"\x00"),
    (b"gAMA", (45455).to_bytes(4, "big")),
    (b"cHRM", b"".join(v.to_bytes(4, "big") for v in _CHRM)),
)


def write_print_png(scene: Scene, dpi: int | None = None, *, backend: Backend = DEFAULT_BACKEND) -> bytes:
    """True-size PNG at `dpi` (default: the product's output DPI), alpha kept, sRGB tagged, pHYs set.

    The bleed is filled (`luneo.design.bleed`): background and flush artwork run on to its edge.
    """
    dpi = dpi or scene.output_dpi
    if dpi <= 0 or not math.isfinite(dpi):
        raise ValueError("dpi must be positive")
    w, h = print_size_px(scene, dpi)
    svg = write_svg(bleed_scene(scene))
    # The fast encoder (`pngenc`: Up filter, parallel deflate); skia's array goes to it uncopied.
    pixels = _render_skia_array(svg, w, h) if backend == "skia" else rasterise(svg, w, h, backend=backend)
    return pngenc.encode_png(pixels, dpi=dpi, chunks=_SRGB_CHUNKS)
