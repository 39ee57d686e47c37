"""Pre-flight checks on a Scene before production files are made.

Codes:
- `stroke_too_thin`: a text item's thinnest glyph stroke is under the method's minimum
  (product.min_stroke_mm, else engrave 0.2 mm, laser_cut 0.5 mm, embroider 1.0 mm; print has no
  default). Error for engrave/laser_cut/embroider, warning for print.
- `image_low_dpi`: an image prints below product.min_image_dpi (error).
- `outside_safe_area`: visible artwork leaves its zone's safe area (warning); `outside_product`:
  an item without a safe area leaves the product plus bleed (error).
- `missing_glyphs`: the font cannot draw some characters (error).

Stroke width: each text item's glyphs are flattened and rasterised with the non-zero winding
rule at ≥ 20 px per minimum stroke; a Euclidean distance transform gives, per connected
component (a glyph or a glyph part), the radius of the largest inscribed disc, and the
component's stroke width is estimated as 2·radius − 1 px. The thinnest component is reported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import cv2
import numpy as np

from luneo.design.flatten import Contour, contours_bbox, flatten, flatten_contours, signed_area
from luneo.design.geometry import BBox, Path
from luneo.design.model import ProductDef
from luneo.design.scene import ImageItem, Scene, SceneItem, TextItem

DEFAULT_MIN_STROKE_MM: dict[str, float] = {"engrave": 0.2, "laser_cut": 0.5, "embroider": 1.0}
SAFE_TOLERANCE_MM = 0.01
_MAX_PIXELS = 12_000_000
_PAD_PX = 4

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class PrintIssue:
    """One pre-flight finding; `params` carries the figures for messages and UIs."""

    code: str
    zone: str
    severity: Severity
    message: str
    params: dict[str, Any] = field(default_factory=dict)


def min_stroke_for(product: ProductDef) -> float:
    """The minimum stroke in mm for a product (0 = not checked)."""
    if product.min_stroke_mm > 0:
        return product.min_stroke_mm
    return DEFAULT_MIN_STROKE_MM.get(product.production_method, 0.0)


def _rasterise(contours: list[Contour], box: BBox, px_per_mm: float) -> np.ndarray:
    """Non-zero-winding fill of closed contours as a uint8 mask (1 = ink)."""
    w = math.ceil(box.width * px_per_mm) + 2 * _PAD_PX
    h = math.ceil(box.height * px_per_mm) + 2 * _PAD_PX
    winding = np.zeros((h, w), dtype=np.int16)
    shift = 4
    scale = px_per_mm * (1 << shift)
    for c in contours:
        if not c.closed:
            continue
        area = signed_area(c.points)
        if area == 0:
            continue
        pts = np.array(
            [
                ((x - box.x0) * scale + _PAD_PX * (1 << shift), (y - box.y0) * scale + _PAD_PX * (1 << shift))
                for x, y in c.points
            ]
        )
        pts = np.rint(pts).astype(np.int32)
        x0, y0 = (pts.min(axis=0) >> shift) - 1
        x1, y1 = (pts.max(axis=0) >> shift) + 2
        x0, y0 = max(int(x0), 0), max(int(y0), 0)
        x1, y1 = min(int(x1), w), min(int(y1), h)
        local = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
        offset = np.array([x0 << shift, y0 << shift], dtype=np.int32)
        cv2.fillPoly(local, [pts - offset], 1, lineType=cv2.LINE_8, shift=shift)
        winding[y0:y1, x0:x1] += np.int16(1 if area > 0 else -1) * local.astype(np.int16)
    return (winding != 0).astype(np.uint8)


def thinnest_stroke_mm(glyphs: tuple[Path, ...], min_stroke_mm: float) -> float | None:
    """Estimated width in mm of the thinnest glyph component, None when there is no ink."""
    contours = [c for g in glyphs for c in flatten_contours(g, 0.25 / _resolution(min_stroke_mm))]
    box = contours_bbox([c.points for c in contours if c.closed])
    if box is None:
        return None
    ppm = _resolution(min_stroke_mm)
    area_px = (box.width * ppm + 2 * _PAD_PX) * (box.height * ppm + 2 * _PAD_PX)
    if area_px > _MAX_PIXELS:
        ppm *= math.sqrt(_MAX_PIXELS / area_px)
    mask = _rasterise(contours, box, ppm)
    n, labels = cv2.connectedComponents(mask, connectivity=8)
    if n <= 1:
        return None
    dist = cv2.distanceTransform(mask, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    ink = mask.ravel() != 0
    comp = labels.ravel()[ink]
    order = np.argsort(comp, kind="stable")
    comp_sorted = comp[order]
    starts = np.flatnonzero(np.r_[True, comp_sorted[1:] != comp_sorted[:-1]])
    maxima = np.maximum.reduceat(dist.ravel()[ink][order].astype(np.float64), starts)
    widths_px = np.maximum(2.0 * maxima - 1.0, 0.0)
    return float(widths_px.min() / ppm)


def _resolution(min_stroke_mm: float) -> float:
    """Pixels per mm: at least 20 px across the minimum stroke, never below 20 px/mm."""
    return max(20.0, 20.0 / max(min_stroke_mm, 1e-3))


def _item_points(item: SceneItem) -> list[tuple[float, float]]:
    """Points whose hull covers the item's visible ink (flattened)."""
    if isinstance(item, TextItem):
        return [p for g in item.glyphs for c in flatten(g, 0.01) for p in c]
    if isinstance(item, ImageItem):
        x0, y0 = item.x_mm, item.y_mm
        x1, y1 = x0 + item.width_mm, y0 + item.height_mm
        pts = [p for c in flatten(item.clip, 0.01) for p in c] or [(x0, y0), (x1, y1)]
        return [(min(max(x, x0), x1), min(max(y, y0), y1)) for x, y in pts]
    pts = [p for c in flatten(item.path, 0.01) for p in c]
    r = item.stroke_width_mm / 2 if item.stroke and item.stroke_width_mm > 0 else 0.0
    if r > 0:
        pts = [(x + dx, y + dy) for x, y in pts for dx, dy in ((-r, -r), (r, -r), (r, r), (-r, r))]
    return pts


def _outside_distance(points: list[tuple[float, float]], area: Path) -> float:
    """Largest distance (mm) by which a point lies outside the area's contours (0 = all inside)."""
    polys = [np.asarray(c, dtype=np.float64) for c in flatten(area, 0.01) if len(c) >= 3]
    if not points or not polys:
        return 0.0
    p = np.asarray(points, dtype=np.float64)
    px, py = p[:, 0:1], p[:, 1:2]
    inside = np.zeros(len(p), dtype=bool)
    best = np.full(len(p), np.inf)
    for poly in polys:
        a = poly
        b = np.roll(poly, -1, axis=0)
        ax, ay, bx, by = a[:, 0][None], a[:, 1][None], b[:, 0][None], b[:, 1][None]
        crosses = ((ay > py) != (by > py)) & (
            px < (bx - ax) * (py - ay) / np.where(by == ay, 1e-300, by - ay) + ax
        )
        inside ^= (crosses.sum(axis=1) % 2).astype(bool)
        dx, dy = bx - ax, by - ay
        seg2 = np.where(dx * dx + dy * dy == 0, 1.0, dx * dx + dy * dy)
        t = np.clip(((px - ax) * dx + (py - ay) * dy) / seg2, 0.0, 1.0)
        d = np.hypot(px - (ax + t * dx), py - (ay + t * dy)).min(axis=1)
        best = np.minimum(best, d)
    out = np.where(inside, 0.0, best)
    return float(out.max())


def _check_stroke(item: TextItem, product: ProductDef) -> PrintIssue | None:
    minimum = min_stroke_for(product)
    if minimum <= 0 or not item.glyphs:
        return None
    thinnest = thinnest_stroke_mm(item.glyphs, minimum)
    if thinnest is None or thinnest >= minimum:
        return None
    method = product.production_method
    return PrintIssue(
        code="stroke_too_thin",
        zone=item.zone_key,
        severity="warning" if method == "print" else "error",
        message=f"Text strokes are about {thinnest:.2f} mm thick; {method} needs at least {minimum:.2f} mm.",
        params={"thinnest_mm": round(thinnest, 3), "min_mm": minimum, "method": method},
    )


def _check_dpi(item: ImageItem, product: ProductDef) -> PrintIssue | None:
    if item.effective_dpi >= product.min_image_dpi:
        return None
    return PrintIssue(
        code="image_low_dpi",
        zone=item.zone_key,
        severity="error",
        message=(
            f"Image prints at {item.effective_dpi:.0f} DPI; at least {product.min_image_dpi} DPI is needed."
        ),
        params={"effective_dpi": round(item.effective_dpi, 1), "min_dpi": product.min_image_dpi},
    )


def _check_area(item: SceneItem, scene: Scene, safe: dict[str, Path]) -> PrintIssue | None:
    if item.role == "cut":
        return None
    pts = _item_points(item)
    if not pts:
        return None
    area = safe.get(item.zone_key)
    if area is not None:
        over = _outside_distance(pts, area)
        if over <= SAFE_TOLERANCE_MM:
            return None
        return PrintIssue(
            code="outside_safe_area",
            zone=item.zone_key,
            severity="warning",
            message=f"Artwork reaches {over:.2f} mm outside the safe area and may be cut off.",
            params={"overflow_mm": round(over, 3)},
        )
    b = scene.bleed_mm
    limit = BBox(-b, -b, scene.width_mm + b, scene.height_mm + b)
    box = contours_bbox([pts])
    if box is None or limit.contains(box, SAFE_TOLERANCE_MM):
        return None
    over = max(limit.x0 - box.x0, limit.y0 - box.y0, box.x1 - limit.x1, box.y1 - limit.y1)
    return PrintIssue(
        code="outside_product",
        zone=item.zone_key,
        severity="error",
        message=f"Artwork reaches {over:.2f} mm outside the product.",
        params={"overflow_mm": round(over, 3)},
    )


def run_print_checks(scene: Scene, product: ProductDef) -> list[PrintIssue]:
    """All pre-flight issues of a Scene, in item order (stroke, DPI, area, glyph checks per item)."""
    safe = dict(scene.safe_areas)
    issues: list[PrintIssue] = []
    for item in scene.items:
        found: list[PrintIssue | None] = []
        if isinstance(item, TextItem):
            found.append(_check_stroke(item, product))
        if isinstance(item, ImageItem):
            found.append(_check_dpi(item, product))
        found.append(_check_area(item, scene, safe))
        if isinstance(item, TextItem) and item.missing_chars:
            chars = list(dict.fromkeys(item.missing_chars))
            found.append(
                PrintIssue(
                    code="missing_glyphs",
                    zone=item.zone_key,
                    severity="error",
                    message="The font cannot draw: " + " ".join(chars),
                    params={"chars": chars},
                )
            )
        issues.extend(i for i in found if i is not None)
    return issues
