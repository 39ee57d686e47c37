"""Mockups: the design of a Scene shown on a product photo.

`render_mockup` rasterises the SAME Scene the production files are written from (with the raster
writer), masks it to the product's outline and maps it onto the photo: a perspective warp of the
print area's four corners (OpenCV `getPerspectiveTransform` / `warpPerspective`) or a cylindrical
wrap (an inverse map for `cv2.remap`: columns narrow toward the silhouette as cos φ, horizontal lines
follow the rim's ellipse). Then the optional displacement map moves the design, and the production
method's effect lays it on the material:

- print: the design, multiplied by the shading map, over the photo;
- engrave: no ink — the photo darkened (or lightened) where the design is (a luminance shift);
- embroidery: the design's colours with a satin-stitch thread texture and a slight raised shadow.

Pure and deterministic: numpy + OpenCV + Pillow, no I/O.

Between two keystrokes only the design changes, so everything made from the product alone — the
photo as output pixels, the outline mask, the cylinder's and the displacement's sampling maps, the
thread texture — is kept in `_static`, keyed by the content digest of the images it is made from and
every number it depends on (placement, output size): a new photo, map, placement or width misses.
Only the print area's pixels are composited per request; the rest of the output is the photo's own
pixels, the same bytes as computing them again (`tests/unit/design/test_mockup_cache.py`).
"""

from __future__ import annotations

import hashlib
import io
import math
import threading
from collections.abc import Callable
from dataclasses import replace

import cv2
import numpy as np
from PIL import Image

from luneo.design.bytecache import MIB, ByteLRU
from luneo.design.model import MockupWrap
from luneo.design.scene import Mockup, Scene, ShapeItem
from luneo.design.writers.raster import rasterise
from luneo.design.writers.svg import canvas_box, num, write_svg

ENGRAVE_STRENGTH = 0.62  # luminance kept (darken) or added (lighten) where the design is opaque
EMBROIDERY_SHADOW = 0.35
MAX_DESIGN_PX = 4096

# Decoded, resized photos and maps by (content digest, output size): float32 arrays.
_decoded: ByteLRU[tuple[str, int, int], np.ndarray] = ByteLRU(96 * MIB, lambda a: int(a.nbytes))

# Static layers (see the module docstring): read-only arrays by (kind, inputs' digests, parameters).
StaticKey = tuple[object, ...]
_static: ByteLRU[StaticKey, tuple[np.ndarray, ...]] = ByteLRU(
    64 * MIB, lambda v: sum(int(a.nbytes) for a in v) + 256
)
_counts_lock = threading.Lock()
_counts = {"hits": 0, "misses": 0}


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _frozen(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    for a in arrays:
        a.setflags(write=False)
    return arrays


def _cached(key: StaticKey | None, make: Callable[[], tuple[np.ndarray, ...]]) -> tuple[np.ndarray, ...]:
    """`make()`'s read-only arrays, kept in `_static` under `key` (None: not cacheable, made now)."""
    if key is None:
        return _frozen(*make())
    hit = _static.get(key)
    with _counts_lock:
        _counts["hits" if hit is not None else "misses"] += 1
    if hit is not None:
        return hit
    value = _frozen(*make())
    _static.put(key, value)
    return value


def cache_info() -> dict[str, int]:
    """Hits and misses of the static-layer cache since the last `clear_caches`, and its weight."""
    with _counts_lock:
        return {**_counts, "bytes": _static.currsize}


def clear_caches(*, decoded: bool = False) -> None:
    """Forget the static layers (and, with `decoded`, the decoded photos and maps too)."""
    _static.clear()
    if decoded:
        _decoded.clear()
    with _counts_lock:
        _counts.update(hits=0, misses=0)


def _source_key(
    img: Image.Image | bytes | None, size: tuple[int, int], mode: str
) -> tuple[str, int, int] | None:
    """The cache key of an encoded image at `size` in `mode`; None for a PIL image (not cacheable)."""
    return (_digest(img) + mode, *size) if isinstance(img, bytes) else None


def _to_u8(a: np.ndarray) -> np.ndarray:
    """Float [0, 1] pixels → output bytes (the one rounding every output pixel goes through)."""
    scaled = a * 255.0
    return np.round(scaled, out=scaled).astype(np.uint8)


def _as_array(
    img: Image.Image | bytes, size: tuple[int, int], mode: str, key: tuple[str, int, int] | None = None
) -> np.ndarray:
    """`img` (PIL image or encoded bytes) at `size`, as float32 in [0, 1] (H, W, C) or (H, W)."""
    if isinstance(img, bytes):
        key = key or (_digest(img) + mode, *size)
        cached = _decoded.get(key)
        if cached is not None:
            return cached
        with Image.open(io.BytesIO(img)) as raw:
            raw.load()
            pil = raw.convert(mode)
    else:
        key, pil = None, img.convert(mode)
    if pil.size != size:
        pil = pil.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    arr = np.asarray(pil, dtype=np.float32) / 255.0
    arr.setflags(write=False)
    if key is not None:
        _decoded.put(key, arr)
    return arr


# ---------------------------------------------------------------- design raster


def _design_raster(scene: Scene, width_px: int) -> tuple[np.ndarray, float, float, float]:
    """The design (no product background, no cut lines), masked to the product outline, as
    premultiplied float32 RGBA; plus (x_mm, y_mm, px_per_mm) of its canvas origin and scale."""
    items = tuple(i for i in scene.items if not (isinstance(i, ShapeItem) and i.role == "cut"))
    design = replace(scene, background=None, items=items, mockup=None)
    x, y, w, h = canvas_box(design)
    width_px = max(16, min(MAX_DESIGN_PX, width_px))
    height_px = max(1, round(width_px * h / w))
    rgba = np.asarray(rasterise(write_svg(design), width_px, height_px), dtype=np.float32) / 255.0
    outline = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{num(x)} {num(y)} {num(w)} {num(h)}" '
        f'width="{num(w)}mm" height="{num(h)}mm"><path d="{scene.outline.to_svg_d(3)}" fill="#fff"/></svg>'
    ).encode()
    (mask,) = _cached(
        ("outline", hashlib.blake2b(outline, digest_size=16).digest(), width_px, height_px),
        lambda: (np.asarray(rasterise(outline, width_px, height_px), dtype=np.float32)[..., 3] / 255.0,),
    )
    alpha = rgba[..., 3] * mask
    out = np.empty_like(rgba)
    out[..., :3] = rgba[..., :3] * alpha[..., None]
    out[..., 3] = alpha
    return out, x, y, width_px / w


# ---------------------------------------------------------------- placement


def quad_homography(
    scene: Scene, quad: tuple[tuple[float, float], ...], origin_mm: tuple[float, float], px_per_mm: float
) -> np.ndarray:
    """3×3 matrix from design-raster pixels to photo pixels for the product's corners `quad`."""
    w, h = scene.width_mm, scene.height_mm
    ox, oy = origin_mm
    src = np.array(
        [
            [(0 - ox) * px_per_mm, (0 - oy) * px_per_mm],
            [(w - ox) * px_per_mm, (0 - oy) * px_per_mm],
            [(w - ox) * px_per_mm, (h - oy) * px_per_mm],
            [(0 - ox) * px_per_mm, (h - oy) * px_per_mm],
        ],
        dtype=np.float32,
    )
    return np.asarray(cv2.getPerspectiveTransform(src, np.array(quad, dtype=np.float32)), dtype=np.float64)


def _roi(
    xs: list[float], ys: list[float], size: tuple[int, int], pad: int = 0
) -> tuple[int, int, int, int] | None:
    x0, y0 = max(0, math.floor(min(xs)) - 1 - pad), max(0, math.floor(min(ys)) - 1 - pad)
    x1, y1 = min(size[0], math.ceil(max(xs)) + 2 + pad), min(size[1], math.ceil(max(ys)) + 2 + pad)
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def _warp_quad(
    design: np.ndarray, homography: np.ndarray, size: tuple[int, int], pad: int = 0
) -> tuple[np.ndarray, tuple[int, int, int, int]] | None:
    """The design warped by `homography` (design px → output px), cropped to where it lands."""
    h, w = design.shape[:2]
    corners = cv2.perspectiveTransform(np.array([[[0, 0], [w, 0], [w, h], [0, h]]], np.float64), homography)[
        0
    ]
    roi = _roi(list(corners[:, 0]), list(corners[:, 1]), size, pad)
    if roi is None:
        return None
    x0, y0, x1, y1 = roi
    shifted = np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1]], dtype=np.float64) @ homography
    warped = cv2.warpPerspective(
        design,
        shifted,
        (x1 - x0, y1 - y0),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    return warped, roi


def wrap_maps(
    scene: Scene, wrap: MockupWrap, scale: float, roi: tuple[int, int, int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """For each output pixel of `roi`, the product mm (x, y) it shows on the cylinder (NaN where none).

    `scale` = output px per photo px. A photo column at horizontal offset s·r from the axis sees the
    cylinder at angle φ = asin(s) from the camera; the print area covers `arc_deg` around it, centred
    on `facing_deg`. The print area's top and bottom edges rise by `*_curve_px`·(1 − cos φ).
    """
    x0, y0, x1, y1 = roi
    u = (np.arange(x0, x1, dtype=np.float64) + 0.5) / scale
    v = (np.arange(y0, y1, dtype=np.float64) + 0.5) / scale
    cx, r = (wrap.left_px + wrap.right_px) / 2, (wrap.right_px - wrap.left_px) / 2
    s = (u - cx) / r
    inside = np.abs(s) < 1.0
    phi = np.arcsin(np.clip(s, -1.0, 1.0))
    psi = phi + math.radians(wrap.facing_deg)
    x_mm = scene.width_mm / 2 + psi / math.radians(wrap.arc_deg) * scene.width_mm
    x_mm = np.where(inside & (x_mm >= 0) & (x_mm <= scene.width_mm), x_mm, np.nan)
    rise = 1.0 - np.cos(phi)
    top = wrap.top_px - wrap.top_curve_px * rise  # per column
    bottom = wrap.bottom_px - wrap.bottom_curve_px * rise
    t = (v[:, None] - top[None, :]) / (bottom - top)[None, :]
    y_mm = np.where((t >= 0) & (t <= 1), t * scene.height_mm, np.nan)
    return np.broadcast_to(x_mm[None, :], y_mm.shape), y_mm


def _warp_wrap(
    scene: Scene,
    design: np.ndarray,
    origin: tuple[float, float],
    k: float,
    wrap: MockupWrap,
    scale: float,
    size: tuple[int, int],
    pad: int = 0,
) -> tuple[np.ndarray, tuple[int, int, int, int]] | None:
    ys = [wrap.top_px - max(0.0, wrap.top_curve_px), wrap.bottom_px + max(0.0, -wrap.bottom_curve_px)]
    ys += [wrap.bottom_px, wrap.top_px]
    roi = _roi([wrap.left_px * scale, wrap.right_px * scale], [y * scale for y in ys], size, pad)
    if roi is None:
        return None

    def maps() -> tuple[np.ndarray, np.ndarray]:
        x_mm, y_mm = wrap_maps(scene, wrap, scale, roi)
        map_x = ((x_mm - origin[0]) * k - 0.5).astype(np.float32)
        map_y = ((y_mm - origin[1]) * k - 0.5).astype(np.float32)
        map_x[~np.isfinite(map_x)] = -1e4
        map_y[~np.isfinite(map_y)] = -1e4
        return map_x, map_y

    wrap_key = tuple(sorted(wrap.model_dump().items()))
    geometry = (scene.width_mm, scene.height_mm, origin, k, scale, roi)
    map_x, map_y = _cached(("wrap", wrap_key, *geometry), maps)
    warped = cv2.remap(design, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return warped, roi


def _displace(
    layer: np.ndarray, disp: np.ndarray, amount_px: float, key: StaticKey | None = None
) -> np.ndarray:
    """Move the layer by (grey − ½)·2·amount px along both axes (mid-grey: no shift).

    `key`: what identifies `disp` and `amount_px` (its maps are then kept in `_static`)."""

    def maps() -> tuple[np.ndarray, np.ndarray]:
        h, w = disp.shape
        shift = (disp - 0.5) * 2.0 * amount_px
        gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        return gx + shift, gy + shift

    map_x, map_y = _cached(None if key is None else ("displace", *key), maps)
    return cv2.remap(layer, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


# ---------------------------------------------------------------- effects


def thread_texture(h: int, w: int, period_px: float) -> np.ndarray:
    """Satin-stitch shading: diagonal threads, brighter on their crowns (0.72 … 1.08)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    phase = (xx + 0.6 * yy) * (2 * math.pi / period_px)
    crest = 0.5 + 0.5 * np.sin(phase)
    grain = 0.5 + 0.5 * np.sin((xx * 0.37 - yy * 1.3) * (2 * math.pi / (period_px * 7)))
    return (0.72 + 0.3 * crest + 0.06 * grain).astype(np.float32)


def _composite(
    photo: np.ndarray, layer: np.ndarray, shading: np.ndarray | None, effect: str, tone: str, period_px: float
) -> np.ndarray:
    """The photo region with the warped premultiplied `layer` applied as `effect`."""
    a = layer[..., 3:4]
    rgb = photo[..., :3]
    shade = shading[..., None] if shading is not None else 1.0
    if effect == "engrave":
        if tone == "lighten":
            out = rgb + (1.0 - rgb) * a * ENGRAVE_STRENGTH
        else:
            out = rgb * (1.0 - a * ENGRAVE_STRENGTH)
    elif effect == "embroidery":
        h, w = a.shape[:2]
        (tex2d,) = _cached(("thread", h, w, period_px), lambda: (thread_texture(h, w, period_px),))
        tex = tex2d[..., None]
        shadow = np.zeros_like(a)
        d = max(1, round(period_px / 2))
        shadow[d:, d:] = a[:-d, :-d]
        base = rgb * (1.0 - EMBROIDERY_SHADOW * shadow * (1.0 - a))
        out = base * (1.0 - a) + layer[..., :3] * tex * shade
    else:  # in place: the same float32 operations, one array fewer
        out = rgb * (1.0 - a)
        out += layer[..., :3] * shade
    np.clip(out, 0.0, 1.0, out=out)
    if photo.shape[2] == 3:
        return out
    result = photo.copy()
    result[..., :3] = out
    return result


def _opaque_part(
    layer: np.ndarray, roi: tuple[int, int, int, int]
) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The layer cropped to the rows and columns where it is not fully transparent, and that box.

    Print and engrave leave a pixel of zero alpha exactly as the photo (the layer is premultiplied:
    zero alpha is zero colour), so only this box is composited; it may be empty."""
    x0, y0, _x1, _y1 = roi
    alpha = layer[..., 3]
    rows = np.flatnonzero(alpha.any(axis=1))
    cols = np.flatnonzero(alpha.any(axis=0))
    if rows.size == 0:
        return layer[:0, :0], (x0, y0, x0, y0)
    r0, r1, c0, c1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    return layer[r0:r1, c0:c1], (x0 + c0, y0 + r0, x0 + c1, y0 + r1)


# ---------------------------------------------------------------- public


def render_mockup(
    scene: Scene,
    product_image: Image.Image | None = None,
    shading: Image.Image | None = None,
    displacement: Image.Image | None = None,
    width_px: int = 1024,
) -> Image.Image:
    """The Scene's design on its product photo, `width_px` wide (height from the photo).

    Images default to the scene's mockup (photo, shading, displacement); given ones are resized to
    the photo's pixel grid the placement refers to. Raises ValueError without a mockup.
    """
    m: Mockup | None = scene.mockup
    if m is None:
        raise ValueError("the product has no mockup")
    if width_px <= 0:
        raise ValueError("width_px must be positive")
    scale = width_px / m.width_px
    size = (width_px, max(1, round(m.height_px * scale)))
    src = product_image if product_image is not None else m.png
    has_alpha = (src.mode in ("RGBA", "LA")) if isinstance(src, Image.Image) else _png_has_alpha(src)
    photo_mode = "RGBA" if has_alpha else "RGB"
    photo_key = _source_key(src, size, photo_mode)
    photo = _as_array(src, size, photo_mode, photo_key)
    shade_src = shading if shading is not None else m.shading
    disp_src = displacement if displacement is not None else m.displacement

    # Design raster at about the density it shows at on the output (≥ 1 design px per output px).
    w_mm, h_mm = scene.width_mm, scene.height_mm
    if m.wrap is not None:
        r_out = (m.wrap.right_px - m.wrap.left_px) / 2 * scale
        k_needed = max(
            r_out * math.radians(m.wrap.arc_deg) / w_mm, (m.wrap.bottom_px - m.wrap.top_px) * scale / h_mm
        )
    elif m.quad is not None:
        q = m.quad
        k_needed = scale * max(
            math.dist(q[0], q[1]) / w_mm,
            math.dist(q[3], q[2]) / w_mm,
            math.dist(q[0], q[3]) / h_mm,
            math.dist(q[1], q[2]) / h_mm,
        )
    else:
        raise ValueError("the mockup has neither corners nor a wrap")
    _x, _y, canvas_w, _h = canvas_box(scene)
    design, ox, oy, k = _design_raster(scene, math.ceil(k_needed * canvas_w))
    pad = math.ceil(m.displacement_px * scale) if disp_src is not None else 0
    if m.wrap is not None:
        placed = _warp_wrap(scene, design, (ox, oy), k, m.wrap, scale, size, pad)
    else:
        assert m.quad is not None
        quad_out = tuple((px * scale, py * scale) for px, py in m.quad)
        placed = _warp_quad(design, quad_homography(scene, quad_out, (ox, oy), k), size, pad)
    # Outside the print area the output is the photo's own pixels: rounded once, kept, copied.
    (photo_u8,) = _cached(None if photo_key is None else ("photo_u8", *photo_key), lambda: (_to_u8(photo),))
    out = photo_u8.copy()
    if placed is not None:
        layer, roi = placed
        x0, y0, x1, y1 = roi
        if disp_src is not None and m.displacement_px > 0:
            disp_key = _source_key(disp_src, size, "L")
            disp = _as_array(disp_src, size, "L", disp_key)[y0:y1, x0:x1]
            amount = m.displacement_px * scale
            layer = _displace(layer, disp, amount, None if disp_key is None else (*disp_key, roi, amount))
        if m.effect != "embroidery":  # elsewhere a transparent layer leaves the photo's pixels as they are
            layer, (x0, y0, x1, y1) = _opaque_part(layer, roi)
        shade = _as_array(shade_src, size, "L")[y0:y1, x0:x1] if shade_src is not None else None
        period = max(2.5, width_px / 300)
        if layer.size:
            region = _composite(photo[y0:y1, x0:x1], layer, shade, m.effect, m.engrave_tone, period)
            out[y0:y1, x0:x1] = _to_u8(region)
    mode = "RGBA" if out.shape[2] == 4 else "RGB"
    return Image.fromarray(out, mode)


def _png_has_alpha(data: bytes) -> bool:
    with Image.open(io.BytesIO(data)) as im:
        return im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info
