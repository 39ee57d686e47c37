"""Laser conventions shared by the laser SVG, PDF and DXF writers.

A laser file carries operations, not the look of the product: no material fill (the gold of a
pendant, the wood of a sign: that is the proof PNG's job), cut lines as hairline strokes, engraving
as fills, score/mark lines as hairline strokes, each in its own colour and layer. Colours are the
first LightBurn palette entries (00 black, 01 blue, 02 red, 06 cyan), which Glowforge and xTool
Creative Space also group by (see docs/PRODUCTION_FILES.md, "Laser files").

Engraved fills are written as the union of their contours under the non-zero rule, so a laser
that fills with even-odd (LightBurn) engraves the same ink as the SVG master shows: no slivers
where script letters join. Output is deterministic: fixed precision, outer rings and holes wound
opposite ways, polygons and rings in a fixed order.
"""

from __future__ import annotations

import math
import os
import threading
from dataclasses import dataclass

import numpy as np
import shapely
from cachetools import LRUCache
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from luneo.design.flatten import Contour, Point, flatten_contours
from luneo.design.geometry import Path
from luneo.design.scene import ImageItem, Scene, SceneItem, ShapeItem, TextItem

LASER_METHODS = frozenset({"engrave", "laser_cut"})
HAIRLINE_MM = 0.025  # 0.001 in: LightBurn/Glowforge/xTool read it as "vector line, no width"
MIN_SEGMENT_MM = 0.01  # shorter segments are merged into their neighbours (closed shapes stay closed)
UNION_TOLERANCE_MM = 0.005  # curve flattening before the union
SIMPLIFY_MM = 0.002  # Douglas-Peucker after the union (total deviation ≤ 0.007 mm)
GRID_MM = 0.001  # output precision (1 µm)


@dataclass(frozen=True, slots=True)
class LaserLayer:
    """One laser operation: layer name, SVG/PDF colour, DXF colour index."""

    name: str
    color: str
    aci: int
    operation: str  # cut | engrave | score | none


CUT = LaserLayer("CUT", "#ff0000", 1, "cut")
ENGRAVE = LaserLayer("ENGRAVE", "#000000", 7, "engrave")
SCORE = LaserLayer("SCORE", "#0000ff", 5, "score")
OUTLINE = LaserLayer("OUTLINE", "#00e0e0", 4, "none")  # pre-cut blank: alignment only, not output
LASER_LAYERS = (CUT, ENGRAVE, SCORE, OUTLINE)


def is_laser(scene: Scene) -> bool:
    """True for products a laser makes (their vector files follow the laser conventions)."""
    return scene.production_method in LASER_METHODS


def outline_layer(scene: Scene) -> LaserLayer:
    """The product outline is cut on a laser-cut product; a pre-cut blank only shows where it lies."""
    return CUT if scene.production_method == "laser_cut" else OUTLINE


def item_layer(item: SceneItem) -> LaserLayer | None:
    """Where an item goes in a laser file; None = not a laser operation (a material/finish colour).

    Text and images are engraved; shapes by role: cut → CUT, engrave → ENGRAVE when filled,
    SCORE when only stroked. Print-role shapes on a laser product are colour zones (the material
    or finish shown on the proof) and are not lasered.
    """
    if isinstance(item, TextItem | ImageItem):
        return ENGRAVE
    if item.role == "cut":
        return CUT
    if item.role == "engrave":
        if item.fill is not None:
            return ENGRAVE
        if item.stroke is not None:
            return SCORE
    return None


# ---------------------------------------------------------------- non-zero union


def _winding_numbers(points: np.ndarray, rings: list[np.ndarray]) -> np.ndarray:
    """Winding number of every point (N×2) around the closed rings (crossing rule)."""
    wn = np.zeros(len(points), dtype=np.int64)
    px = points[:, 0][:, None]
    py = points[:, 1][:, None]
    for ring in rings:
        a = ring
        b = np.roll(ring, -1, axis=0)
        ax, ay, bx, by = a[:, 0][None, :], a[:, 1][None, :], b[:, 0][None, :], b[:, 1][None, :]
        cross = (bx - ax) * (py - ay) - (px - ax) * (by - ay)
        up = (ay <= py) & (by > py) & (cross > 0)
        down = (ay > py) & (by <= py) & (cross < 0)
        wn += up.sum(axis=1) - down.sum(axis=1)
    return wn


def nonzero_union(contours: list[Contour]) -> BaseGeometry:
    """The area the closed contours fill under the non-zero winding rule, as shapely polygons.

    The contours are noded and split into faces; a face is kept when its interior point has a
    non-zero winding number, and the kept faces are merged.
    """
    rings = [np.asarray(c.points, dtype=np.float64) for c in contours if c.closed and len(c.points) >= 3]
    if not rings:
        return Polygon()
    lines = shapely.MultiLineString([np.vstack([r, r[:1]]) for r in rings])
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(shapely.node(lines))))
    faces = faces[~shapely.is_empty(faces)]
    if len(faces) == 0:
        return Polygon()
    inside = shapely.get_coordinates(shapely.point_on_surface(faces))
    keep = faces[_winding_numbers(inside, rings) != 0]
    if len(keep) == 0:
        return Polygon()
    return shapely.make_valid(shapely.union_all(keep))


def _polygons(geom: BaseGeometry) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [] if geom.is_empty else [geom]
    if isinstance(geom, MultiPolygon):
        return [p for p in geom.geoms if not p.is_empty]
    return [p for g in getattr(geom, "geoms", []) for p in _polygons(g)]


def drop_short_segments(points: list[Point], closed: bool, min_len: float = MIN_SEGMENT_MM) -> list[Point]:
    """Drop vertices closer than `min_len` to the previous kept one (ends are kept; a closed
    ring's closing segment is checked too)."""
    if len(points) < 2:
        return points
    out = [points[0]]
    for p in points[1:]:
        q = out[-1]
        if math.hypot(p[0] - q[0], p[1] - q[1]) >= min_len:
            out.append(p)
    if not closed:
        last = points[-1]
        if out[-1] != last:
            if len(out) > 1 and math.hypot(last[0] - out[-1][0], last[1] - out[-1][1]) < min_len:
                out[-1] = last
            else:
                out.append(last)
        return out
    while len(out) > 3 and math.hypot(out[-1][0] - out[0][0], out[-1][1] - out[0][1]) < min_len:
        out.pop()
    return out


def _canonical_ring(coords: list[Point]) -> list[Point]:
    """Ring without its repeated end point, starting at its smallest vertex (same direction)."""
    pts = coords[:-1] if len(coords) > 1 and coords[0] == coords[-1] else coords
    if not pts:
        return pts
    i = min(range(len(pts)), key=lambda k: pts[k])
    return pts[i:] + pts[:i]


_UNIONS_KEPT = 0 if os.environ.get("LUNEO_GEOMETRY_CACHE") == "0" else 256  # 0: none (benches)
_UNIONS: LRUCache[tuple[Path, float], tuple[tuple[Point, ...], ...]] = LRUCache(maxsize=max(_UNIONS_KEPT, 1))
_UNIONS_LOCK = threading.Lock()


def union_rings(path: Path, tolerance_mm: float = UNION_TOLERANCE_MM) -> list[list[Point]]:
    """`path`'s filled area (non-zero rule) as non-overlapping closed rings, in mm (y down).

    Outer rings and holes wind opposite ways, so even-odd and non-zero fills agree. Vertices are
    on a 1 µm grid, no segment is shorter than `MIN_SEGMENT_MM`, polygons are sorted by their
    outer ring and each ring starts at its smallest vertex: same path ⇒ same rings. The SVG, PDF
    and DXF writers of a pack union the same text, so results are kept per (path, tolerance)
    in a small LRU (each call gets its own lists).
    """
    key = (path, tolerance_mm)
    with _UNIONS_LOCK:
        hit = _UNIONS.get(key)
    if hit is None:
        hit = tuple(tuple(r) for r in _union_rings(path, tolerance_mm))
        if _UNIONS_KEPT:
            with _UNIONS_LOCK:
                _UNIONS[key] = hit
    return [list(r) for r in hit]


def _union_rings(path: Path, tolerance_mm: float) -> list[list[Point]]:
    geom = nonzero_union(flatten_contours(path, tolerance_mm))
    if geom.is_empty:
        return []
    geom = shapely.simplify(geom, SIMPLIFY_MM, preserve_topology=True)
    geom = shapely.set_precision(geom, GRID_MM)
    polys: list[list[list[Point]]] = []
    for poly in _polygons(geom):
        p = orient(poly, sign=1.0)
        rings: list[list[Point]] = []
        for ring in (p.exterior, *p.interiors):
            xy = shapely.get_coordinates(ring).tolist()  # one conversion, not one per vertex
            coords = [(round(x, 3) + 0.0, round(y, 3) + 0.0) for x, y in xy]
            pts = drop_short_segments(_canonical_ring(coords), closed=True)
            if len(pts) >= 3:
                rings.append(pts)
        if rings:
            polys.append([rings[0], *sorted(rings[1:])])
    polys.sort()
    return [r for rings in polys for r in rings]


def rings_path(rings: list[list[Point]]) -> Path:
    """Closed rings as a Path of M/L/Z commands."""
    cmds: list[tuple[str, tuple[float, ...]]] = []
    for r in rings:
        cmds.append(("M", r[0]))
        cmds.extend(("L", p) for p in r[1:])
        cmds.append(("Z", ()))
    return Path(tuple(cmds))


def item_path(item: TextItem | ShapeItem) -> Path:
    """All of an item's contours as one path (a text item's glyphs joined)."""
    if isinstance(item, TextItem):
        return Path(tuple(cmd for g in item.glyphs for cmd in g.commands))
    return item.path
