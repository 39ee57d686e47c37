"""Pre-flight checks on a Scene before production files are made.

Codes:
- `stroke_too_thin`: more than `THIN_SHARE_LIMIT` (2 %) of a text item's stroke length is under
  the method's minimum (product.min_stroke_mm, else engrave 0.2 mm, laser_cut 0.5 mm, embroider
  1.0 mm; print has no default). The zone rule `thin_stroke` says what happens: "refuse" (error:
  the work order stops at the print check) or "warn"; unset, engrave/laser_cut/embroider refuse
  and print warns. Below the limit (tapering line ends, corners) nothing is reported.
- `image_low_dpi`: an image prints below product.min_image_dpi (error).
- `outside_safe_area`: visible artwork leaves its zone's safe area (warning); `outside_product`:
  an item without a safe area leaves the product plus bleed (error).
- `missing_glyphs`: the font cannot draw some characters (error).

Stroke width (`luneo.design.stroke_width`): each text item's glyphs are flattened, rasterised
(non-zero winding) at `stroke_width.PX_PER_MIN` px per minimum stroke (capped at
`stroke_width.MAX_PIXELS`, reported as `capped`), thinned to a skeleton, and the local width at
each skeleton pixel is read from an exact distance transform. When no ink lies outside the
opening by a disc of the minimum (a bold name), nothing can be thin and the skeleton is skipped;
repeated geometry (same name, font and size) is measured once per process. The finding reports
the share of skeleton length under the minimum, the thinnest width found and carries a marked-up
PNG (ink grey, thin parts red) that the production pack stores as `print-check-thin.png`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal

import numpy as np
from PIL import Image

from luneo.design import stroke_width
from luneo.design.flatten import contours_bbox, flatten, flatten_contours
from luneo.design.geometry import BBox, Path
from luneo.design.model import ProductDef
from luneo.design.pack import PackFile
from luneo.design.scene import ImageItem, Scene, SceneItem, TextItem

DEFAULT_MIN_STROKE_MM: dict[str, float] = {"engrave": 0.2, "laser_cut": 0.5, "embroider": 1.0}
SAFE_TOLERANCE_MM = 0.01
THIN_SHARE_LIMIT: Final = 0.02  # share of stroke length under the minimum that is tolerated
THIN_MARKUP_NAME: Final = "print-check-thin.png"
_REFUSING_METHODS: Final = frozenset({"engrave", "laser_cut", "embroider"})
_INK_NOUN: Final = {
    "engrave": "engraving",
    "laser_cut": "engraving",
    "embroider": "embroidery",
    "print": "print",
}

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class PrintIssue:
    """One pre-flight finding; `params` carries the figures for messages and UIs.

    `markup_png` is an image of what was found (the thin-stroke check's marked-up ink), stored
    in the production pack under `params["markup"]`.
    """

    code: str
    zone: str
    severity: Severity
    message: str
    params: dict[str, Any] = field(default_factory=dict)
    markup_png: bytes | None = field(default=None, repr=False, compare=False)


def min_stroke_for(product: ProductDef) -> float:
    """The minimum stroke in mm for a product (0 = not checked)."""
    if product.min_stroke_mm > 0:
        return product.min_stroke_mm
    return DEFAULT_MIN_STROKE_MM.get(product.production_method, 0.0)


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


def default_thin_stroke(method: str) -> Literal["refuse", "warn"]:
    """What a zone without a `thin_stroke` rule does: refuse for engrave/laser_cut/embroider, else warn."""
    return "refuse" if method in _REFUSING_METHODS else "warn"


def thin_stroke_policy(product: ProductDef, zone_key: str) -> Literal["refuse", "warn"]:
    """The zone's `thin_stroke` rule, else the production method's default (`default_thin_stroke`)."""
    for zone in product.zones:
        if zone.key == zone_key and zone.rules.thin_stroke is not None:
            return zone.rules.thin_stroke
    return default_thin_stroke(product.production_method)


def _percent(share: float) -> str:
    return f"{share * 100:.0f}" if share >= 0.1 else f"{share * 100:.1f}"


def _check_stroke(item: TextItem, product: ProductDef) -> PrintIssue | None:
    minimum = min_stroke_for(product)
    if minimum <= 0 or not item.glyphs:
        return None
    tolerance = 0.25 / (stroke_width.PX_PER_MIN / minimum)  # a quarter pixel at the nominal resolution
    contours = [c for g in item.glyphs for c in flatten_contours(g, tolerance)]
    found = stroke_width.measure(contours, minimum, only_thin=True)  # None: no ink outside the opening
    if found is None or found.share_under <= THIN_SHARE_LIMIT:
        return None
    method = product.production_method
    policy = thin_stroke_policy(product, item.zone_key)
    noun = "engraving" if item.role == "engrave" else _INK_NOUN.get(method, "print")
    return PrintIssue(
        code="stroke_too_thin",
        zone=item.zone_key,
        severity="error" if policy == "refuse" else "warning",
        message=(
            f"{_percent(found.share_under)} % of the {noun} is thinner than {minimum:g} mm: "
            "use a bolder font or a larger size."
        ),
        params={
            "share_under": round(found.share_under, 4),
            "limit": THIN_SHARE_LIMIT,
            "thinnest_mm": round(found.thinnest_mm if found.thinnest_mm is not None else 0.0, 3),
            "median_width_mm": round(found.median_width_mm, 3),
            "thin_length_mm": round(found.thin_length_mm, 2),
            "total_length_mm": round(found.total_length_mm, 2),
            "min_mm": minimum,
            "method": method,
            "policy": policy,
            "px_per_mm": round(found.px_per_mm, 2),
            "px_per_min": round(found.px_per_min, 2),
            # True: the text was too large for the full resolution (see stroke_width.MAX_PIXELS)
            "capped": found.capped,
        },
        markup_png=found.markup_png(),
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
    return _name_markups(issues)


def _name_markups(issues: list[PrintIssue]) -> list[PrintIssue]:
    """Name each finding's marked-up image: `print-check-thin.png`, or one per zone when several."""
    marked = [i for i in issues if i.markup_png is not None]
    if not marked:
        return issues
    out: list[PrintIssue] = []
    for issue in issues:
        if issue.markup_png is not None:
            name = THIN_MARKUP_NAME if len(marked) == 1 else f"print-check-thin-{issue.zone}.png"
            issue = replace(issue, params={**issue.params, "markup": name})
        out.append(issue)
    return out


def markup_pack_files(issues: list[PrintIssue]) -> list[PackFile]:
    """The findings' marked-up images as production-pack files (named by `params["markup"]`)."""
    files: list[PackFile] = []
    for issue in issues:
        if issue.markup_png is None or "markup" not in issue.params:
            continue
        ppm = float(issue.params["px_per_mm"])
        with Image.open(io.BytesIO(issue.markup_png)) as img:
            w, h = img.size
        files.append(
            PackFile(
                issue.params["markup"], issue.markup_png, "image/png", w / ppm, h / ppm, round(ppm * 25.4)
            )
        )
    return files
