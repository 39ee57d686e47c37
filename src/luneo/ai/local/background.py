"""Offline background removal: uniform-border fast path, else seeded GrabCut, guided-filter alpha.

* Backdrop (a studio shot on a plain or gradient backdrop): a smooth quadratic Lab colour field is
  fitted (robustly) to the border ring; when it explains the border, every pixel's ΔE to the
  predicted backdrop decides: background = backdrop-coloured regions connected to the border
  (plus large interior holes of the backdrop colour), and the alpha edge follows the colour
  distance, so it is anti-aliased. Fast (no graph cut).
* Otherwise GrabCut on a copy whose long side is ≤ 224 px: the outer border ring is definite
  background, the next ring probable background, the centre probable foreground except pixels of
  the border's dominant colours (probable background). The mask is
  cleaned (small islands and holes removed), upsampled, and refined at full resolution by a
  guided filter (He et al.) on the luminance so the alpha edge snaps to the image's edges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from luneo.ai.local._imageio import F32, U8, decode, encode_png, fit_long_side

ANALYSIS_MAX_SIDE = 512
GRABCUT_MAX_SIDE = 224
GRABCUT_ITERATIONS = 5


@dataclass(frozen=True, slots=True)
class BackgroundResult:
    """RGBA PNG with a transparent background, and the fraction of the image kept (0..1)."""

    png_rgba: bytes
    mask_coverage: float
    method: str  # "uniform-border" or "grabcut"


def remove_background(image_bytes: bytes) -> BackgroundResult:
    """Cut the main subject out of a photo or product shot; output an RGBA PNG."""
    img = decode(image_bytes)
    alpha, method = foreground_alpha(img.rgb)
    if img.alpha is not None:
        alpha = np.minimum(alpha, img.alpha)
    rgb = img.rgb.copy()
    rgb[alpha == 0] = 0  # transparent pixels carry no colour: smaller, deterministic PNG
    png = encode_png(np.dstack([rgb, alpha]))
    return BackgroundResult(png, round(float(alpha.mean()) / 255.0, 6), method)


def foreground_alpha(rgb: U8) -> tuple[U8, str]:
    """Alpha matte (H×W uint8, 255 = subject) for an RGB image, and the method used."""
    h, w = rgb.shape[:2]
    if min(h, w) < 8:
        return np.full((h, w), 255, np.uint8), "none"
    sh, sw, _ = fit_long_side(h, w, ANALYSIS_MAX_SIDE)
    small = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA) if (sh, sw) != (h, w) else rgb
    ring = max(2, round(0.02 * min(sh, sw)))
    model = _fit_backdrop(small, ring)
    if model is not None:
        coeffs, noise = model
        return _backdrop_alpha(rgb, coeffs, noise), "backdrop"
    return _grabcut_alpha(rgb), "grabcut"


def _ring_mask(h: int, w: int, ring: int) -> NDArray[Any]:
    m = np.zeros((h, w), bool)
    m[:ring] = m[-ring:] = True
    m[:, :ring] = m[:, -ring:] = True
    return m


def _design(xs: F32, ys: F32) -> NDArray[Any]:
    """Quadratic polynomial basis in normalised coordinates (x, y in 0..1)."""
    x = xs.astype(np.float64)
    y = ys.astype(np.float64)
    return np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=-1)


def _fit_backdrop(small: U8, ring: int) -> tuple[NDArray[Any], float] | None:
    """Fit a smooth (quadratic) Lab colour field to the border ring: plain or gradient backdrops.

    Returns the coefficients (6×3) and the border's residual noise (ΔE, 95th percentile), or None
    when the border is not explained by a smooth field (a busy photo background).
    """
    sh, sw = small.shape[:2]
    sel = _ring_mask(sh, sw, ring)
    ys, xs = np.nonzero(sel)
    lab = _lab(small)[sel].astype(np.float64)
    basis = _design((xs / max(sw - 1, 1)).astype(np.float32), (ys / max(sh - 1, 1)).astype(np.float32))
    keep = np.ones(len(lab), bool)
    coeffs = np.zeros((6, 3))
    resid = np.zeros(len(lab))
    for _ in range(3):  # robust refit: drop outliers (an object touching the border)
        coeffs, *_ = np.linalg.lstsq(basis[keep], lab[keep], rcond=None)
        resid = np.sqrt(((basis @ coeffs - lab) ** 2).sum(axis=1))
        cut = max(6.0, 3.0 * float(np.median(resid[keep])) * 1.4826)
        keep = resid < cut
    noise = float(np.percentile(resid[keep], 95)) if keep.any() else 1e9
    if keep.mean() < 0.95 or noise > 10.0:
        return None
    return coeffs, noise


def _lab(rgb: U8) -> F32:
    """CIELAB from OpenCV's fast 8-bit conversion, rescaled to L 0..100, a/b ±127."""
    lab8 = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    lab8[..., 0] *= 100.0 / 255.0
    lab8[..., 1:] -= 128.0
    return lab8


def _backdrop_alpha(rgb: U8, coeffs: NDArray[Any], noise: float) -> U8:
    h, w = rgb.shape[:2]
    # Predicted backdrop colour: evaluate the field on a coarse grid, upsample (it is smooth).
    gh, gw = min(h, 64), min(w, 64)
    gy, gx = np.mgrid[0:gh, 0:gw]
    field = (
        _design((gx / max(gw - 1, 1)).astype(np.float32), (gy / max(gh - 1, 1)).astype(np.float32)) @ coeffs
    )
    field_full = cv2.resize(field.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    diff = _lab(rgb) - field_full
    dist = np.sqrt((diff * diff).sum(axis=2))
    if noise > 3.0:
        dist = cv2.GaussianBlur(dist, (0, 0), 1.0)
        noise *= 0.6
    lo = max(4.0, 1.5 * noise)
    hi = lo + 12.0
    bg_like = (dist < (lo + hi) / 2).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(bg_like, connectivity=4)
    edge_labels = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    edge_labels = edge_labels[edge_labels > 0]
    background = np.zeros(n, bool)
    background[edge_labels] = True
    # Interior regions of the backdrop colour (the inside of a ring, the gap in a handle).
    very_close = (dist < lo).astype(np.float64)
    closeness = np.bincount(labels.ravel(), weights=very_close.ravel(), minlength=n) / np.maximum(
        stats[:, cv2.CC_STAT_AREA], 1
    )
    holes = (stats[:, cv2.CC_STAT_AREA] >= 0.002 * h * w) & (closeness > 0.9)
    holes[0] = False
    background |= holes
    hard = (~background[labels]).astype(np.uint8)
    hard = _clean_mask(hard, 0.0005 * h * w)
    # Edge alpha ≈ mixing fraction: distance to the backdrop over the distance of the nearby solid
    # subject (a pixel blended 50/50 with the backdrop sits about half-way).
    inner = cv2.erode(hard, np.ones((5, 5), np.uint8))
    subject = cv2.dilate(dist * inner, np.ones((9, 9), np.uint8))
    soft = np.clip((dist - lo) / np.maximum(subject - lo, hi - lo), 0.0, 1.0)
    band = cv2.morphologyEx(hard, cv2.MORPH_GRADIENT, np.ones((5, 5), np.uint8)) > 0
    alpha = np.where(band, soft, hard.astype(np.float32))
    return np.asarray(np.clip(np.rint(alpha * 255.0), 0, 255), dtype=np.uint8)


def _grabcut_alpha(rgb: U8) -> U8:
    h, w = rgb.shape[:2]
    sh, sw, _ = fit_long_side(h, w, GRABCUT_MAX_SIDE)
    small = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA) if (sh, sw) != (h, w) else rgb
    ring = max(2, round(0.02 * min(sh, sw)))
    mask = np.full((sh, sw), cv2.GC_PR_FGD, np.uint8)
    inner = max(ring + 1, round(0.08 * min(sh, sw)))
    mask[:inner] = mask[-inner:] = cv2.GC_PR_BGD
    mask[:, :inner] = mask[:, -inner:] = cv2.GC_PR_BGD
    _seed_border_colours(small, mask, ring)
    mask[:ring] = mask[-ring:] = cv2.GC_BGD
    mask[:, :ring] = mask[:, -ring:] = cv2.GC_BGD
    bgd = np.zeros((1, 65), np.float64)
    fgd = np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(0)
    bgr = np.ascontiguousarray(small[:, :, ::-1])
    cv2.grabCut(bgr, mask, (0, 0, 0, 0), bgd, fgd, GRABCUT_ITERATIONS, cv2.GC_INIT_WITH_MASK)
    fg = ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.uint8)
    fg = _clean_mask(fg, 0.002 * sh * sw)
    fg = _main_components(fg, 0.1)
    coarse = cv2.resize(fg.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    if (sh, sw) != (h, w):
        coarse = cv2.GaussianBlur(coarse, (0, 0), 0.5 * w / sw)
    guide = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    refined = fast_guided_filter(guide, coarse, radius=max(2, round(1.5 * w / sw)), eps=1e-3)
    # Contrast stretch: a matte is mostly 0 or 1; keep only the transition soft.
    alpha = np.clip((refined - 0.2) / 0.6, 0.0, 1.0)
    return np.asarray(np.rint(alpha * 255.0), dtype=np.uint8)


def _seed_border_colours(small: U8, mask: U8, ring: int) -> None:
    """Mark interior pixels of a dominant border colour as probable background (in place).

    Border pixels are clustered (k-means, k = 5, in Lab); clusters holding ≥ 15 % of the border are
    the backdrop's colours (a subject touching the border holds less), and interior pixels within
    ΔE 12 of one of them start as probable background instead of probable foreground.
    """
    from luneo.ai.local.colors import weighted_kmeans

    sh, sw = small.shape[:2]
    lab = _lab(small).reshape(-1, 3).astype(np.float64)
    border = _ring_mask(sh, sw, ring).ravel()
    pts = lab[border]
    k = min(5, len(pts))
    centres, labels = weighted_kmeans(pts, np.ones(len(pts)), k, attempts=1, iterations=15)
    shares = np.bincount(labels, minlength=k) / len(pts)
    dominant = centres[shares >= 0.15]
    if len(dominant) == 0:
        return
    d = np.sqrt(((lab[:, None, :] - dominant[None, :, :]) ** 2).sum(axis=2)).min(axis=1)
    flat = mask.reshape(-1)
    flat[(d < 12.0) & (flat == cv2.GC_PR_FGD)] = cv2.GC_PR_BGD


def _main_components(mask: U8, fraction: float) -> U8:
    """Keep the largest foreground component and those at least `fraction` of its area."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 2:
        return mask
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.zeros(n, bool)
    keep[1:] = areas >= fraction * areas.max()
    return keep[labels].astype(np.uint8)


def _clean_mask(mask: U8, min_area: float) -> U8:
    """Drop foreground islands and fill background holes smaller than `min_area` px."""
    out = mask.copy()
    for value in (1, 0):
        target = (out == value).astype(np.uint8)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(target, connectivity=8)
        if n <= 1:
            continue
        areas = stats[1:, cv2.CC_STAT_AREA]
        keep_largest = int(np.argmax(areas)) + 1
        small_ids = [i + 1 for i, a in enumerate(areas) if a < min_area and i + 1 != keep_largest]
        if small_ids:
            out[np.isin(labels, small_ids)] = 1 - value
    return out


def fast_guided_filter(guide: F32, src: F32, radius: int, eps: float, max_side: int = 640) -> F32:
    """Fast guided filter (He & Sun 2015): coefficients on a subsampled copy, applied at full size."""
    h, w = guide.shape
    sh, sw, s = fit_long_side(h, w, max_side)
    if s >= 0.999:
        return guided_filter(guide, src, radius, eps)
    g_small = cv2.resize(guide, (sw, sh), interpolation=cv2.INTER_AREA)
    p_small = cv2.resize(src, (sw, sh), interpolation=cv2.INTER_AREA)
    r = max(1, round(radius * s))
    ksize = (2 * r + 1, 2 * r + 1)

    def box(x: F32) -> F32:
        return np.asarray(cv2.boxFilter(x, cv2.CV_32F, ksize, borderType=cv2.BORDER_REFLECT))

    mean_i = box(g_small)
    mean_p = box(p_small)
    a = (box(g_small * p_small) - mean_i * mean_p) / (box(g_small * g_small) - mean_i * mean_i + eps)
    b = mean_p - a * mean_i
    a_full = cv2.resize(box(a), (w, h), interpolation=cv2.INTER_LINEAR)
    b_full = cv2.resize(box(b), (w, h), interpolation=cv2.INTER_LINEAR)
    return np.asarray(a_full * guide + b_full, dtype=np.float32)


def guided_filter(guide: F32, src: F32, radius: int, eps: float) -> F32:
    """Grey-guide guided filter (He, Sun & Tang 2010) with box filters: O(1) per pixel."""
    ksize = (2 * radius + 1, 2 * radius + 1)

    def box(x: F32) -> F32:
        return np.asarray(cv2.boxFilter(x, cv2.CV_32F, ksize, borderType=cv2.BORDER_REFLECT))

    mean_i = box(guide)
    mean_p = box(src)
    cov_ip = box(guide * src) - mean_i * mean_p
    var_i = box(guide * guide) - mean_i * mean_i
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    return np.asarray(box(a) * guide + box(b), dtype=np.float32)
