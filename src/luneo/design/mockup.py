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
"""

from __future__ import annotations

import hashlib
import io
import math
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


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _as_array(img: Image.Image | bytes, size: tuple[int, int], mode: str) -> np.ndarray:
    """`img` (PIL image or encoded bytes) at `size`, as float32 in [0, 1] (H, W, C) or (H, W)."""
    key: tuple[str, int, int] | None = None
    if isinstance(img, bytes):
        key = (_digest(img) + mode, *size)
        cached = _decoded.get(key)
        if cached is not None:
            return cached
        with Image.open(io.BytesIO(img)) as raw:
            raw.load()
            pil = raw.convert(mode)
    else:
        pil = img.convert(mode)
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
    mask = np.asarray(rasterise(outline, width_px, height_px), dtype=np.float32)[..., 3] / 255.0
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
    x_mm, y_mm = wrap_maps(scene, wrap, scale, roi)
    map_x = ((x_mm - origin[0]) * k - 0.5).astype(np.float32)
    map_y = ((y_mm - origin[1]) * k - 0.5).astype(np.float32)
    map_x[~np.isfinite(map_x)] = -1e4
    map_y[~np.isfinite(map_y)] = -1e4
    warped = cv2.remap(design, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return warped, roi


def _displace(layer: np.ndarray, disp: np.ndarray, amount_px: float) -> np.ndarray:
    """Move the layer by (grey − ½)·2·amount px along both axes (mid-grey: no shift)."""
    h, w = disp.shape
    shift = (disp - 0.5) * 2.0 * amount_px
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(
        layer, gx + shift, gy + shift, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )


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
        tex = thread_texture(a.shape[0], a.shape[1], period_px)[..., None]
        shadow = np.zeros_like(a)
        d = max(1, round(period_px / 2))
        shadow[d:, d:] = a[:-d, :-d]
        base = rgb * (1.0 - EMBROIDERY_SHADOW * shadow * (1.0 - a))
        out = base * (1.0 - a) + layer[..., :3] * tex * shade
    else:
        out = rgb * (1.0 - a) + layer[..., :3] * shade
    result = photo.copy()
    result[..., :3] = np.clip(out, 0.0, 1.0)
    return result


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
    photo = _as_array(src, size, "RGBA" if has_alpha else "RGB")
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
    out = photo.copy()
    if placed is not None:
        layer, (x0, y0, x1, y1) = placed
        if disp_src is not None and m.displacement_px > 0:
            disp = _as_array(disp_src, size, "L")[y0:y1, x0:x1]
            layer = _displace(layer, disp, m.displacement_px * scale)
        shade = _as_array(shade_src, size, "L")[y0:y1, x0:x1] if shade_src is not None else None
        period = max(2.5, width_px / 300)
        out[y0:y1, x0:x1] = _composite(photo[y0:y1, x0:x1], layer, shade, m.effect, m.engrave_tone, period)
    mode = "RGBA" if out.shape[2] == 4 else "RGB"
    return Image.fromarray(np.round(out * 255.0).astype(np.uint8), mode)


def _png_has_alpha(data: bytes) -> bool:
    with Image.open(io.BytesIO(data)) as im:
        return im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info
