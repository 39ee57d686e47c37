"""Local stroke width of ink along its skeleton (medial axis), for the thin-stroke print check.

The ink (closed contours, non-zero winding) is rasterised by Skia without anti-aliasing at
`PX_PER_MIN` pixels across the minimum stroke, capped at `MAX_PIXELS` pixels in all (the
resolution is then lowered and the result says so: `capped`). Then:

1. an exact Euclidean distance transform (OpenCV `DIST_MASK_PRECISE`: OpenCV is a runtime
   dependency, scipy and scikit-image are test-only) gives each ink pixel's distance `d` to the
   paper; the local width at a skeleton pixel is `2·d − ½` px (n + ½ across an odd number n of
   pixels, n − ½ across an even one: ± ½ px, unbiased over pixel alignments);
2. the ink is thinned to a one-pixel skeleton with Guo and Hall's two-subiteration parallel
   thinning (the algorithm of `skimage.morphology.thin`, which keeps 2 × 2 blocks so a
   two-pixel hairline is not erased), run on the changing border only, so the work is
   proportional to the ink area and not to area × stroke width;
3. a skeleton pixel is *thin* when it lies outside the morphological opening of the ink by a
   disc of the minimum width (no such disc fitting inside the ink covers it; a disc "fits"
   within half a pixel). The opening, rather than the skeleton width alone, keeps the spurs
   the skeleton sends into the corners of thick strokes from counting as hairlines; a thin run
   that ends a line, hangs off a part that is not thin and is no longer than the minimum (the
   skeleton running into an acute corner, the foot of an A) is not counted either;
4. each skeleton pixel carries the length of the skeleton it stands for (half of each link to
   a neighbour, weighted as Kulpa's direction-unbiased chain-length estimator: 0.948
   orthogonal, 1.343 diagonal unless the diagonal is bridged by an orthogonal pair), so
   `share_under` = thin skeleton length / total skeleton length.

The marked-up image paints red the ink outside the opening within the minimum's radius of a
thin skeleton pixel. Deterministic (no randomness, no threads) and bounded: at most
`MAX_PIXELS` pixels, each deleted at most once by the thinning.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import struct
import threading
from dataclasses import dataclass
from typing import Final

import cv2
import numpy as np
from cachetools import LRUCache
from PIL import Image

from luneo.design.flatten import Contour, contours_bbox
from luneo.design.geometry import BBox

PX_PER_MIN: Final = 10.0  # pixels across the minimum stroke: one pixel of quantisation is 10 % of it
MIN_PX_PER_MM: Final = 20.0
THINNEST_QUANTILE: Final = 0.05  # a tapering line end, a few pixels long, does not set `thinnest_mm`
MAX_PIXELS: Final = 6_000_000  # raster cap: beyond it the resolution drops and `capped` is set
_PAD_PX: Final = 2
# Kulpa's (1977) weights for 8-connected chains: unbiased over directions, where 1 and √2
# overstate a curve's length by about 5 % (a straight axis-aligned run reads 5 % short instead)
_ORTH_STEP: Final = 0.948
_DIAG_STEP: Final = 1.343
_WIDTH_BIAS_PX: Final = 0.5  # 2·d reads n + 1 px (n odd) or n px (n even) across n px: −½ is unbiased
# per process: the masks of the measurements kept for repeats (LUNEO_GEOMETRY_CACHE=0: none, for benches)
CACHE_BYTES: Final = 0 if os.environ.get("LUNEO_GEOMETRY_CACHE") == "0" else 64 * 1024 * 1024
_INK_RGB: Final = (150, 150, 150)
_THIN_RGB: Final = (220, 30, 30)
_PAPER_RGB: Final = (255, 255, 255)


@dataclass(frozen=True)
class StrokeWidths:
    """Stroke widths of some ink measured along its skeleton."""

    min_mm: float
    share_under: float  # skeleton length thinner than min_mm / total skeleton length, 0..1
    thin_length_mm: float
    total_length_mm: float
    thinnest_mm: float | None  # width of the thin parts' thinnest 5 % of length (None: nothing thin)
    median_width_mm: float  # median local width along the skeleton
    px_per_mm: float
    capped: bool  # the resolution was lowered to stay within MAX_PIXELS
    ink: np.ndarray  # uint8 mask (1 = ink), for the marked-up image
    thin: np.ndarray  # uint8 mask (1 = the thin parts: ink around thin skeleton, outside the opening)

    @property
    def px_per_min(self) -> float:
        return self.min_mm * self.px_per_mm

    def markup_png(self) -> bytes:
        """The ink in grey with its thin parts in red on white (top row = smallest y)."""
        rgb = np.empty((*self.ink.shape, 3), dtype=np.uint8)
        rgb[:] = _PAPER_RGB
        rgb[self.ink != 0] = _INK_RGB
        rgb[self.thin != 0] = _THIN_RGB
        out = io.BytesIO()
        dpi = round(self.px_per_mm * 25.4)
        Image.fromarray(rgb, "RGB").save(out, format="PNG", compress_level=6, dpi=(dpi, dpi))
        return out.getvalue()


def rasterise(contours: list[Contour], box: BBox, px_per_mm: float, pad_px: int = _PAD_PX) -> np.ndarray:
    """Non-zero-winding fill of closed contours as a uint8 mask (1 = ink), `pad_px` of paper around.

    Skia without anti-aliasing sets exactly the pixels whose centre is inside, so a span of L px
    fills L pixels on average whatever its alignment. (OpenCV's `fillPoly` fills the pixels the
    outline touches as well: one pixel more across every stroke, which is 10 % of a minimum.)
    """
    import skia

    w = math.ceil(box.width * px_per_mm) + 2 * pad_px
    h = math.ceil(box.height * px_per_mm) + 2 * pad_px
    out = np.zeros((h, w), dtype=np.uint8)
    info = skia.ImageInfo.Make(w, h, skia.ColorType.kAlpha_8_ColorType, skia.AlphaType.kPremul_AlphaType)
    surface = skia.Surface.MakeRasterDirect(info, out, w)
    path = skia.Path()
    path.setFillType(skia.PathFillType.kWinding)
    for c in contours:
        if not c.closed or len(c.points) < 3:
            continue
        pts = (np.asarray(c.points, dtype=np.float64) - (box.x0, box.y0)) * px_per_mm + pad_px
        path.addPoly([skia.Point(float(x), float(y)) for x, y in pts], True)
    surface.getCanvas().drawPath(path, skia.Paint(AntiAlias=False))
    del surface
    return (out != 0).astype(np.uint8)


# ------------------------------------------------------------------------------ thinning

# Neighbour bits: 0 E, 1 NE, 2 N, 3 NW, 4 W, 5 SW, 6 S, 7 SE (counter-clockwise from east).
_DY: Final = (0, -1, -1, -1, 0, 1, 1, 1)
_DX: Final = (1, 1, 0, -1, -1, -1, 0, 1)


def _guo_hall_luts() -> tuple[np.ndarray, np.ndarray]:
    """Deletion tables of Guo & Hall (1989), algorithm A1, indexed by the 8-neighbour code."""
    first = np.zeros(256, dtype=bool)
    second = np.zeros(256, dtype=bool)
    for code in range(256):
        x = [bool(code >> i & 1) for i in range(8)]
        # C(p) = 1: exactly one 4-connected transition, so deleting p keeps 8-connectivity
        crossings = sum(1 for i in (0, 2, 4, 6) if not x[i] and (x[i + 1] or x[(i + 2) % 8]))
        n1 = sum(1 for k in (1, 3, 5, 7) if x[k] or x[k - 1])
        n2 = sum(1 for k in (1, 3, 5, 7) if x[k] or x[(k + 1) % 8])
        base = crossings == 1 and min(n1, n2) in (2, 3)
        first[code] = base and not ((x[1] or x[2] or not x[7]) and x[0])
        second[code] = base and not ((x[5] or x[6] or not x[3]) and x[4])
    return first, second


_LUT_FIRST, _LUT_SECOND = _guo_hall_luts()


def thin(mask: np.ndarray) -> np.ndarray:
    """One-pixel-wide skeleton of a binary mask (same result as `skimage.morphology.thin`).

    Only pixels whose neighbourhood changed since a subiteration last looked at them are
    looked at again, so each pass touches the current border, not the whole image. The
    neighbour code of each candidate is gathered one direction at a time into a uint8 (no
    N × 8 temporaries).
    """
    h, w = mask.shape
    img = np.zeros((h + 2, w + 2), dtype=np.uint8)
    img[1:-1, 1:-1] = mask != 0
    width = w + 2
    flat = img.ravel()
    offs = [dy * width + dx for dy, dx in zip(_DY, _DX, strict=True)]
    ink = np.flatnonzero(flat)
    if ink.size == 0:
        return np.zeros_like(mask, dtype=np.uint8)
    all_ink = flat[ink + offs[0]].copy()
    for off in offs[1:]:
        all_ink &= flat[ink + off]
    border = ink[all_ink == 0]  # ink with a paper 8-neighbour
    stamp = np.zeros(flat.size, dtype=np.int64)

    def distinct(idx: np.ndarray) -> np.ndarray:
        """The distinct values of an index array in O(len) (a stamp per image pixel)."""
        pos = np.arange(idx.size, dtype=np.int64)
        stamp[idx] = pos
        return idx[stamp[idx] == pos]

    pending = [border, border.copy()]
    luts = (_LUT_FIRST, _LUT_SECOND)
    while pending[0].size or pending[1].size:
        for k in (0, 1):
            cand = pending[k]
            cand = cand[flat[cand] != 0]
            if cand.size == 0:
                pending[k] = cand
                continue
            codes = flat[cand + offs[0]].copy()
            for bit in range(1, 8):
                codes |= flat[cand + offs[bit]] << bit
            gone = cand[luts[k][codes]]
            flat[gone] = 0  # parallel: every decision above used the state before this line
            touched = np.concatenate([gone + off for off in offs])
            touched = distinct(touched[flat[touched] != 0])
            pending[k] = touched
            pending[1 - k] = distinct(np.concatenate((pending[1 - k], touched)))
    return img[1:-1, 1:-1].copy()


def _skeleton_lengths(skel: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Skeleton pixels (flat indices into `skel`), the skeleton length (px) each stands for and
    its number of skeleton neighbours (1 = the end of a line)."""
    h, w = skel.shape
    s = np.zeros((h + 2, w + 2), dtype=bool)
    s[1:-1, 1:-1] = skel != 0
    width = w + 2
    idx = np.flatnonzero(s)
    flat = s.ravel()

    def on(dy: int, dx: int) -> np.ndarray:
        return flat[idx + dy * width + dx]

    orth = on(0, 1).astype(np.float64) + on(0, -1) + on(1, 0) + on(-1, 0)
    diag = np.zeros(idx.size, dtype=np.float64)
    for dy, dx in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
        diag += on(dy, dx) & ~(
            on(dy, 0) | on(0, dx)
        )  # a diagonal bridged by an orthogonal pair is not a link
    length = 0.5 * (_ORTH_STEP * orth + _DIAG_STEP * diag)
    length[length == 0] = 1.0  # an isolated dot
    neighbours = sum(on(dy, dx).astype(np.int32) for dy, dx in zip(_DY, _DX, strict=True))
    rows, cols = np.divmod(idx, width)
    return (rows - 1) * w + (cols - 1), length, np.asarray(neighbours)


def _without_corner_spurs(
    shape: tuple[int, int],
    sk_idx: np.ndarray,
    sk_len: np.ndarray,
    neighbours: np.ndarray,
    sk_thin: np.ndarray,
    max_len_px: float,
) -> np.ndarray:
    """`sk_thin` less the thin runs that end a line, hang off a part that is not thin and are no
    longer than the minimum: the skeleton running into a sharp corner (the foot of an A), where
    no round disc reaches, not a hairline. A tapering hairline is longer; a neck is not an end."""
    h, w = shape
    img = np.zeros((h, w), dtype=np.uint8)
    img.ravel()[sk_idx[sk_thin]] = 1
    n, labels = cv2.connectedComponents(img, connectivity=8)
    if n <= 1:
        return sk_thin
    lab = labels.ravel()[sk_idx]  # run label of each skeleton pixel, 0 = not thin
    run_len = np.bincount(lab, weights=sk_len, minlength=n)
    has_end = np.bincount(lab, weights=((neighbours <= 1) & sk_thin).astype(np.float64), minlength=n) > 0
    padded = np.pad(labels, 1).ravel()
    rows, cols = np.divmod(sk_idx[~sk_thin], w)
    around = (rows + 1) * (w + 2) + cols + 1
    attached = np.zeros(n, dtype=bool)
    for dy, dx in zip(_DY, _DX, strict=True):
        attached[padded[around + dy * (w + 2) + dx]] = True
    spur = has_end & attached & (run_len <= max_len_px)
    spur[0] = False
    return sk_thin & ~spur[lab]


# ------------------------------------------------------------------------------ measurement


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The value below which a share q of the total weight lies (values sorted stably)."""
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    if cum.size == 0 or cum[-1] <= 0:
        return 0.0
    return float(values[order][min(int(np.searchsorted(cum, q * cum[-1])), cum.size - 1)])


def _raster_pixels(box: BBox, px_per_mm: float) -> int:
    w = math.ceil(box.width * px_per_mm) + 2 * _PAD_PX
    return w * (math.ceil(box.height * px_per_mm) + 2 * _PAD_PX)


def _result_bytes(found: StrokeWidths | None) -> int:
    return 64 if found is None else found.ink.nbytes + found.thin.nbytes + 64


_cache: LRUCache[bytes, StrokeWidths | None] = LRUCache(maxsize=max(CACHE_BYTES, 1), getsizeof=_result_bytes)
_cache_lock = threading.Lock()


def _geometry_key(closed: list[Contour], min_mm: float, max_pixels: int, only_thin: bool) -> bytes:
    """A digest of exactly what `measure` reads: the closed contours' points, the minimum, the
    cap and the `only_thin` shortcut."""
    head = struct.pack("<dqq?", min_mm, max_pixels, len(closed), only_thin)
    h = hashlib.blake2b(head, digest_size=32)
    for c in closed:
        pts = np.ascontiguousarray(c.points, dtype=np.float64)
        h.update(struct.pack("<q", pts.shape[0]))
        h.update(pts.tobytes())
    return h.digest()


def clear_cache() -> None:
    """Forget the measurements kept for repeated geometry (tests, benchmarks)."""
    with _cache_lock:
        _cache.clear()


def measure(
    contours: list[Contour], min_mm: float, *, max_pixels: int = MAX_PIXELS, only_thin: bool = False
) -> StrokeWidths | None:
    """Stroke widths of the ink of closed contours against a minimum width; None without ink.

    `only_thin`: None as well when no ink lies outside the opening by a disc of the minimum
    (step 3): then no skeleton pixel can be thin and `share_under` would be 0, so the thinning
    and the skeleton (the costly part) are skipped. The print check asks this way: a bold name
    costs a raster, a distance transform and a dilation.

    Results are kept per process (LRU, `CACHE_BYTES` of masks) by a digest of the contours'
    points, the minimum and the cap: a repeated name in the same font and size (pendants of an
    order, a bulk run) is measured once. The returned masks are read-only.
    """
    closed = [c for c in contours if c.closed and len(c.points) >= 3]
    key = _geometry_key(closed, min_mm, max_pixels, only_thin)
    with _cache_lock:
        if key in _cache:
            return _cache[key]
    found = _measure(closed, min_mm, max_pixels, only_thin)
    if found is not None:
        found.ink.setflags(write=False)
        found.thin.setflags(write=False)
    if _result_bytes(found) <= CACHE_BYTES // 4:
        with _cache_lock:
            _cache[key] = found
    return found


def _measure(closed: list[Contour], min_mm: float, max_pixels: int, only_thin: bool) -> StrokeWidths | None:
    box = contours_bbox([c.points for c in closed])
    if box is None or min_mm <= 0:
        return None
    ppm = max(MIN_PX_PER_MM, PX_PER_MIN / min_mm)
    area_px = (box.width * ppm + 2 * _PAD_PX) * (box.height * ppm + 2 * _PAD_PX)
    capped = area_px > max_pixels
    if capped:
        ppm *= math.sqrt(max_pixels / area_px)
        while (math.ceil(box.width * ppm) + 2 * _PAD_PX) * (
            math.ceil(box.height * ppm) + 2 * _PAD_PX
        ) > max_pixels:
            ppm *= 0.99
    mask = rasterise(closed, box, ppm)
    if not mask.any():
        return None
    dist = cv2.distanceTransform(mask, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    m = min_mm * ppm  # the minimum in pixels
    # centres of the discs of diameter m that fit in the ink, grown by the disc: the opening
    fits = (dist >= m / 2.0).astype(np.uint8)
    reach = m / 2.0 + 0.5
    r = math.ceil(reach)
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    disc = (yy * yy + xx * xx <= reach * reach).astype(np.uint8)
    opened = cv2.dilate(fits, disc) != 0
    thin_ink = (mask != 0) & ~opened
    if only_thin and not thin_ink.any():
        return None
    sk_idx, sk_len, neighbours = _skeleton_lengths(thin(mask))
    sk_w = np.maximum(2.0 * dist.ravel()[sk_idx] - _WIDTH_BIAS_PX, 1.0)
    sk_thin = _without_corner_spurs(mask.shape, sk_idx, sk_len, neighbours, thin_ink.ravel()[sk_idx], m)
    total = float(sk_len.sum())
    thin_len = float(sk_len[sk_thin].sum())
    thin_skel = np.zeros(mask.shape, dtype=np.uint8)
    thin_skel.ravel()[sk_idx[sk_thin]] = 1
    marked = thin_ink & (cv2.dilate(thin_skel, disc) != 0)
    thinnest = (
        _weighted_quantile(sk_w[sk_thin], sk_len[sk_thin], THINNEST_QUANTILE) / ppm if thin_len else None
    )
    median = _weighted_quantile(sk_w, sk_len, 0.5) / ppm
    return StrokeWidths(
        min_mm=min_mm,
        share_under=thin_len / total if total > 0 else 0.0,
        thin_length_mm=thin_len / ppm,
        total_length_mm=total / ppm,
        thinnest_mm=thinnest,
        median_width_mm=median,
        px_per_mm=ppm,
        capped=capped,
        ink=mask,
        thin=marked.astype(np.uint8),
    )
