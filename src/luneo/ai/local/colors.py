"""Dominant-colour extraction: weighted k-means in CIELAB, merged by ΔE2000, matched to a palette.

The image is reduced (INTER_AREA, long side ≤ 256 px, alpha-premultiplied), pixels with alpha < 50 %
are ignored, and the rest are binned on a 32-level-per-channel RGB grid (each bin keeps the exact mean
colour of its pixels and its pixel count). K-means then runs on the bins, weighted by count, in CIELAB
(so distances are ΔE76) with a seeded k-means++ initialisation: the result is deterministic. Clusters
closer than ΔE2000 = 3 are merged, and colours are matched to the brand palette by **CIEDE2000**.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from luneo.ai.local._color import delta_e2000, lab_to_srgb, parse_hex, srgb_to_lab, to_hex
from luneo.ai.local._imageio import decode, fit_long_side

SAMPLE_MAX_SIDE = 256
MERGE_DELTA_E = 3.0
F64 = NDArray[Any]


@dataclass(frozen=True, slots=True)
class ColorShare:
    """A dominant colour, its share of the opaque pixels, and its nearest palette colour (ΔE2000)."""

    hex: str
    share: float
    palette_match: str | None = None
    delta_e: float | None = None


def extract_colors(
    image_bytes: bytes,
    *,
    count: int = 5,
    palette: Sequence[str] = (),
    min_share: float = 0.005,
) -> list[ColorShare]:
    """The `count` most common distinct colours, largest share first.

    Shares are fractions of the image's opaque pixels (they sum to ≤ 1 when colours are left out).
    Colours under `min_share` are dropped. `palette` holds '#rrggbb' strings.
    """
    if not 1 <= count <= 32:
        raise ValueError("count must be within 1..32")
    pal_hex = [to_hex(parse_hex(p)) for p in palette]
    pal_lab = srgb_to_lab(np.array([parse_hex(p) for p in pal_hex], dtype=np.float64).reshape(-1, 3))
    img = decode(image_bytes, min_side_hint=SAMPLE_MAX_SIDE)
    colours, weights = _sample(img.rgb, img.alpha)
    if weights.size == 0:
        return []
    lab = srgb_to_lab(colours)
    k = min(count + 2, len(lab))
    centres, labels = weighted_kmeans(lab, weights, k)
    shares = np.bincount(labels, weights=weights, minlength=k)
    centres, shares = _merge(centres, shares, MERGE_DELTA_E)
    shares = shares / weights.sum()
    out: list[ColorShare] = []
    for centre, share in zip(centres, shares, strict=True):
        if share < min_share:
            continue
        hx = to_hex(lab_to_srgb(centre))
        match: str | None = None
        de: float | None = None
        if len(pal_hex):
            d = delta_e2000(centre[None, :], pal_lab)
            j = int(np.argmin(d))
            match, de = pal_hex[j], round(float(d[j]), 2)
        out.append(ColorShare(hx, round(float(share), 4), match, de))
    out.sort(key=lambda c: (-c.share, c.hex))
    return out[:count]


def _sample(rgb: NDArray[np.uint8], alpha: NDArray[np.uint8] | None) -> tuple[F64, F64]:
    """Mean colour and pixel count of each occupied 5-bit RGB bin of the reduced opaque pixels."""
    h, w = rgb.shape[:2]
    sh, sw, _ = fit_long_side(h, w, SAMPLE_MAX_SIDE)
    if alpha is not None:
        a: NDArray[Any] = alpha.astype(np.float32) / 255.0
        premul: NDArray[Any] = rgb.astype(np.float32) * a[:, :, None]
        if (sh, sw) != (h, w):
            premul = cv2.resize(premul, (sw, sh), interpolation=cv2.INTER_AREA)
            a = cv2.resize(a, (sw, sh), interpolation=cv2.INTER_AREA)
        keep = a >= 0.5
        pixels = premul[keep] / a[keep][:, None]
    else:
        small = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA) if (sh, sw) != (h, w) else rgb
        pixels = small.reshape(-1, 3).astype(np.float32)
    if pixels.size == 0:
        return np.zeros((0, 3)), np.zeros(0)
    q = np.clip(pixels, 0, 255).astype(np.int64) >> 3
    key = (q[:, 0] << 10) | (q[:, 1] << 5) | q[:, 2]
    counts = np.bincount(key, minlength=32768).astype(np.float64)
    occupied = np.nonzero(counts)[0]
    sums = np.stack(
        [np.bincount(key, weights=pixels[:, c].astype(np.float64), minlength=32768) for c in range(3)], axis=1
    )
    return sums[occupied] / counts[occupied, None], counts[occupied]


def weighted_kmeans(
    points: F64, weights: F64, k: int, *, attempts: int = 3, iterations: int = 40, seed: int = 0
) -> tuple[F64, NDArray[np.intp]]:
    """Deterministic weighted k-means (k-means++ seeding from a fixed seed, best of `attempts`)."""
    rng = np.random.default_rng(seed)
    best: tuple[float, F64, NDArray[np.intp]] | None = None
    total = weights.sum()
    for _ in range(attempts):
        centres = np.empty((k, points.shape[1]))
        centres[0] = points[rng.choice(len(points), p=weights / total)]
        d2 = ((points - centres[0]) ** 2).sum(axis=1)
        for i in range(1, k):
            p = weights * d2
            ps = p.sum()
            idx = int(rng.choice(len(points), p=p / ps)) if ps > 0 else int(np.argmax(weights))
            centres[i] = points[idx]
            d2 = np.minimum(d2, ((points - centres[i]) ** 2).sum(axis=1))
        labels = np.zeros(len(points), np.intp)
        for it in range(iterations):
            dist = _sq_dist(points, centres)
            new_labels = np.argmin(dist, axis=1)
            if it and np.array_equal(new_labels, labels):
                break
            labels = new_labels
            mass = np.bincount(labels, weights=weights, minlength=k)
            for d in range(points.shape[1]):
                sums = np.bincount(labels, weights=weights * points[:, d], minlength=k)
                centres[:, d] = np.where(mass > 0, sums / np.maximum(mass, 1e-12), centres[:, d])
        dist = _sq_dist(points, centres)
        labels = np.argmin(dist, axis=1)
        inertia = float((weights * dist[np.arange(len(points)), labels]).sum())
        if best is None or inertia < best[0]:
            best = (inertia, centres.copy(), labels)
    assert best is not None
    return best[1], best[2]


def _sq_dist(points: F64, centres: F64) -> F64:
    """Squared Euclidean distances, shape (N, K), without an (N, K, D) temporary."""
    d = (
        (points * points).sum(axis=1)[:, None]
        - 2.0 * points @ centres.T
        + (centres * centres).sum(axis=1)[None, :]
    )
    return np.asarray(np.maximum(d, 0.0))


def _merge(centres: F64, shares: F64, threshold: float) -> tuple[F64, F64]:
    """Greedily merge the closest pair of clusters while their ΔE2000 is below `threshold`."""
    cs = [c for c, s in zip(centres, shares, strict=True) if s > 0]
    ws = [float(s) for s in shares if s > 0]
    while len(cs) > 1:
        arr = np.array(cs)
        d = delta_e2000(arr[:, None, :], arr[None, :, :])
        np.fill_diagonal(d, np.inf)
        i, j = np.unravel_index(int(np.argmin(d)), d.shape)
        if d[i, j] >= threshold:
            break
        i, j = min(i, j), max(i, j)
        merged = (cs[i] * ws[i] + cs[j] * ws[j]) / (ws[i] + ws[j])
        cs[i], ws[i] = merged, ws[i] + ws[j]
        del cs[j], ws[j]
    return np.array(cs), np.array(ws)
