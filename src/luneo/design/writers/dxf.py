"""Scene → DXF (R2010, mm) for lasers, engravers and cutters (ezdxf).

Layers (see `luneo.design.writers.laser` and docs/PRODUCTION_FILES.md): CUT (cut lines, red),
ENGRAVE (engraved fills, black/white ACI 7), SCORE (stroked engrave lines, blue), OUTLINE (the
outline of a pre-cut blank, e.g. an engraved pendant: alignment only, cyan), PRINT (print-role
artwork of a print product, green), GUIDES (where raster images go, grey). A laser-cut product's
outline is on CUT; print-role colour zones of a laser product (the material) are left out.

Curves stay curves: a cubic that is a circular arc becomes a bulge of an LWPOLYLINE, a full circle
a CIRCLE; other curves are flattened (`luneo.design.flatten`). No segment is shorter than
`MIN_SEGMENT_MM`. Engraved text and fills are the union of their contours under the non-zero rule
(no overlapping contours). DXF's y axis points up, so y = product height − scene y (origin at the
product's bottom-left corner). With `kerf_mm`, closed cut contours are offset by kerf/2 away from
the part (outer contours grow, holes shrink) with round joins, as the beam's centre must travel.
Same Scene ⇒ same bytes: handles are sequential and ezdxf's fixed-metadata option pins the
timestamps and GUIDs.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Iterable

import ezdxf
import shapely
from ezdxf import bbox as ezbbox
from ezdxf import units
from ezdxf.document import Drawing
from ezdxf.layouts import Modelspace
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from luneo.design.flatten import Contour, Point, flatten_contours
from luneo.design.geometry import Path
from luneo.design.scene import ImageItem, Scene, ShapeItem, TextItem
from luneo.design.writers.laser import (
    CUT,
    ENGRAVE,
    MIN_SEGMENT_MM,
    OUTLINE,
    SCORE,
    drop_short_segments,
    is_laser,
    item_layer,
    item_path,
    outline_layer,
    union_rings,
)

DEFAULT_TOLERANCE_MM = 0.005
ARC_RELATIVE_TOLERANCE = 3e-4  # a 4-cubic circle deviates 0.027 % of its radius from the true circle
# AutoCAD colour index per layer
LAYERS: dict[str, int] = {
    CUT.name: CUT.aci,
    ENGRAVE.name: ENGRAVE.aci,
    SCORE.name: SCORE.aci,
    OUTLINE.name: OUTLINE.aci,
    "PRINT": 3,
    "GUIDES": 8,
}
_LOCK = threading.Lock()  # ezdxf's fixed-metadata switch is a process-wide option


def _flip(points: Iterable[Point], height: float) -> list[tuple[float, float]]:
    return [(x, height - y) for x, y in points]


def _even_odd_geometry(contours: list[Contour]) -> BaseGeometry:
    """Area enclosed by closed contours under the even-odd rule (holes come from nesting)."""
    geom: BaseGeometry = Polygon()
    for c in contours:
        if not c.closed:
            continue
        poly = shapely.make_valid(Polygon(c.points))
        geom = geom.symmetric_difference(poly)
    return geom


def _polygon_rings(geom: BaseGeometry) -> list[list[Point]]:
    polys: list[Polygon]
    if isinstance(geom, Polygon):
        polys = [geom]
    elif isinstance(geom, MultiPolygon):
        polys = list(geom.geoms)
    else:
        polys = [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon)]
    rings: list[list[Point]] = []
    for p in polys:
        if p.is_empty:
            continue
        for ring in (p.exterior, *p.interiors):
            pts = [(float(x), float(y)) for x, y in ring.coords]
            if len(pts) > 1 and pts[0] == pts[-1]:
                pts = pts[:-1]
            if len(pts) >= 3:
                rings.append(pts)
    return rings


def kerf_offset(contours: list[Contour], kerf_mm: float, tolerance_mm: float) -> list[Contour]:
    """Offset closed contours by kerf/2 away from the enclosed material; open ones are kept."""
    d = kerf_mm / 2.0
    closed = [c for c in contours if c.closed]
    open_ = [c for c in contours if not c.closed]
    if d <= 0 or not closed:
        return contours
    # segments per quarter circle so the round join's sagitta stays under the tolerance
    quad_segs = max(2, math.ceil(math.pi / (4 * math.acos(max(-1.0, 1 - tolerance_mm / d)))))
    grown = _even_odd_geometry(closed).buffer(d, quad_segs=quad_segs, join_style="round")
    return [Contour(r, True) for r in _polygon_rings(grown)] + open_


Vertex = tuple[float, float, float]  # x, y, bulge of the segment to the next vertex (scene axes)
_Arc = tuple[float, float, float, float]  # centre x, y, radius, sweep (radians, signed)


def _bezier(p: tuple[Point, Point, Point, Point], t: float) -> Point:
    u = 1.0 - t
    a, b, c, d = u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t
    return (
        a * p[0][0] + b * p[1][0] + c * p[2][0] + d * p[3][0],
        a * p[0][1] + b * p[1][1] + c * p[2][1] + d * p[3][1],
    )


def _wrap(a: float) -> float:
    while a <= -math.pi:
        a += 2 * math.pi
    while a > math.pi:
        a -= 2 * math.pi
    return a


def fit_arc(p: tuple[Point, Point, Point, Point], tolerance_mm: float) -> _Arc | None:
    """The circular arc a cubic Bézier draws (centre, radius, signed sweep), None when it is not one."""
    (x0, y0), (x3, y3) = p[0], p[3]
    xm, ym = _bezier(p, 0.5)
    d = 2 * (x0 * (ym - y3) + xm * (y3 - y0) + x3 * (y0 - ym))
    if abs(d) < 1e-12:
        return None
    s0, sm, s3 = x0 * x0 + y0 * y0, xm * xm + ym * ym, x3 * x3 + y3 * y3
    cx = (s0 * (ym - y3) + sm * (y3 - y0) + s3 * (y0 - ym)) / d
    cy = (s0 * (x3 - xm) + sm * (x0 - x3) + s3 * (xm - x0)) / d
    r = math.hypot(x0 - cx, y0 - cy)
    tol = max(tolerance_mm, ARC_RELATIVE_TOLERANCE * r)
    for t in (0.125, 0.25, 0.375, 0.625, 0.75, 0.875):
        bx, by = _bezier(p, t)
        if abs(math.hypot(bx - cx, by - cy) - r) > tol:
            return None
    a0 = math.atan2(y0 - cy, x0 - cx)
    am = math.atan2(ym - cy, xm - cx)
    a3 = math.atan2(y3 - cy, x3 - cx)
    sweep = _wrap(am - a0) + _wrap(a3 - am)
    return (cx, cy, r, sweep)


def curve_contours(path: Path, tolerance_mm: float) -> list[tuple[list[Vertex], bool, list[_Arc | None]]]:
    """Sub-paths as vertices with bulges (arcs kept, other curves flattened), short segments dropped.

    Returns (vertices, closed, arcs) per sub-path; `arcs[i]` is the arc from vertex i to i+1
    (None for a straight segment), used to spot full circles.
    """
    out: list[tuple[list[Vertex], bool, list[_Arc | None]]] = []
    verts: list[list[float]] = []
    arcs: list[_Arc | None] = []
    start: Point = (0.0, 0.0)

    def finish(closed: bool) -> None:
        nonlocal verts, arcs
        if closed and len(verts) > 1 and math.hypot(verts[-1][0] - start[0], verts[-1][1] - start[1]) < 1e-9:
            verts.pop()
            arcs = arcs[: len(verts)]
        else:
            arcs = arcs[: max(0, len(verts) - 1)]
        kept, kept_arcs = _drop_short(verts, arcs, closed)
        if len(kept) >= 2:
            out.append(([(v[0], v[1], v[2]) for v in kept], closed and len(kept) >= 2, kept_arcs))
        verts, arcs = [], []

    for op, a in path.commands:
        if op == "M":
            if verts:
                finish(False)
            start = (a[0], a[1])
            verts, arcs = [[a[0], a[1], 0.0]], []
            continue
        if op == "Z":
            if verts:
                finish(True)
            continue
        if not verts:
            verts, arcs = [[start[0], start[1], 0.0]], []
        last = (verts[-1][0], verts[-1][1])
        if op == "L":
            if (a[0], a[1]) != last:
                arcs.append(None)
                verts.append([a[0], a[1], 0.0])
            continue
        if op == "Q":
            q = (a[0], a[1])
            ctrl = (
                last,
                (last[0] + 2 / 3 * (q[0] - last[0]), last[1] + 2 / 3 * (q[1] - last[1])),
                (a[2] + 2 / 3 * (q[0] - a[2]), a[3] + 2 / 3 * (q[1] - a[3])),
                (a[2], a[3]),
            )
        elif op == "C":
            ctrl = (last, (a[0], a[1]), (a[2], a[3]), (a[4], a[5]))
        else:
            raise ValueError(f"unknown path command {op!r}")
        arc = fit_arc(ctrl, tolerance_mm)
        if arc is not None:
            verts[-1][2] = math.tan(arc[3] / 4)
            arcs.append(arc)
            verts.append([ctrl[3][0], ctrl[3][1], 0.0])
            continue
        seg = Path((("M", ctrl[0]), ("C", (*ctrl[1], *ctrl[2], *ctrl[3]))))
        for pts in flatten_contours(seg, tolerance_mm):
            for x, y in pts.points[1:]:
                arcs.append(None)
                verts.append([x, y, 0.0])
    if verts:
        finish(False)
    return out


def _drop_short(
    verts: list[list[float]], arcs: list[_Arc | None], closed: bool
) -> tuple[list[list[float]], list[_Arc | None]]:
    """Merge segments shorter than MIN_SEGMENT_MM into the next one (the ends stay put)."""
    if len(verts) < 2:
        return verts, arcs
    arcs = arcs + [None] * (len(verts) - len(arcs))
    kept = [list(verts[0])]
    kept_arcs: list[_Arc | None] = [arcs[0]]
    for i in range(1, len(verts)):
        v, q = verts[i], kept[-1]
        last_open = not closed and i == len(verts) - 1
        if math.hypot(v[0] - q[0], v[1] - q[1]) >= MIN_SEGMENT_MM:
            kept.append(list(v))
            kept_arcs.append(arcs[i])
        elif last_open and len(kept) > 1:
            kept[-1] = list(v)
        elif not last_open and q[2] == 0.0:  # the kept vertex's segment now ends where v's does
            q[2] = v[2]
            kept_arcs[-1] = arcs[i]
    if closed:
        while (
            len(kept) > 2 and math.hypot(kept[-1][0] - kept[0][0], kept[-1][1] - kept[0][1]) < MIN_SEGMENT_MM
        ):
            kept.pop()
            kept_arcs.pop()
    return kept, kept_arcs


def _circle(contour: tuple[list[Vertex], bool, list[_Arc | None]], tolerance_mm: float) -> _Arc | None:
    """(cx, cy, r, 2π) when the closed contour is one full circle made of arcs."""
    verts, closed, arcs = contour
    if not closed or not arcs or any(a is None for a in arcs) or len(arcs) != len(verts):
        return None
    first = arcs[0]
    assert first is not None
    cx, cy, r, _ = first
    tol = max(tolerance_mm, ARC_RELATIVE_TOLERANCE * r)
    total = 0.0
    for a in arcs:
        assert a is not None
        if math.hypot(a[0] - cx, a[1] - cy) > tol or abs(a[2] - r) > tol:
            return None
        total += a[3]
    if abs(abs(total) - 2 * math.pi) > 1e-3:
        return None
    return (cx, cy, r, total)


class _DxfBuilder:
    def __init__(self, scene: Scene, kerf_mm: float, tolerance_mm: float, hatch_engrave: bool) -> None:
        self.scene = scene
        self.kerf = kerf_mm
        self.tol = tolerance_mm
        self.hatch_engrave = hatch_engrave
        self.doc: Drawing = ezdxf.new("R2010", setup=False, units=units.MM)
        self.doc.header["$INSUNITS"] = units.MM
        self.doc.header["$MEASUREMENT"] = 1
        self.doc.header["$LUNITS"] = 2
        for name, color in LAYERS.items():
            self.doc.layers.add(name, color=color)
        self.msp: Modelspace = self.doc.modelspace()

    def polyline(self, points: list[Point], closed: bool, layer: str) -> None:
        pts = drop_short_segments(points, closed)
        if len(pts) < 2:
            return
        self.msp.add_lwpolyline(
            _flip(pts, self.scene.height_mm), format="xy", close=closed, dxfattribs={"layer": layer}
        )

    def curves(self, path: Path, layer: str) -> None:
        """A vector path with its arcs kept (bulges, CIRCLE); kerf-offset on CUT."""
        h = self.scene.height_mm
        contours = curve_contours(path, self.tol)
        kerf = layer == CUT.name and self.kerf > 0
        if kerf:
            rings = [c for c in contours if c[1]]
            if len(rings) > 1 or any(_circle(c, self.tol) is None for c in rings):
                # offset as areas (holes shrink), round joins: a polyline within the tolerance
                for c in kerf_offset(flatten_contours(path, self.tol), self.kerf, self.tol):
                    self.polyline(c.points, c.closed, layer)
                return
        for contour in contours:
            verts, closed, _arcs = contour
            circle = _circle(contour, self.tol)
            if circle is not None:
                r = circle[2] + (self.kerf / 2 if kerf else 0.0)
                self.msp.add_circle((circle[0], h - circle[1]), r, dxfattribs={"layer": layer})
                continue
            flipped = [(x, h - y, -b) for x, y, b in verts]  # mirroring y reverses every arc
            self.msp.add_lwpolyline(flipped, format="xyb", close=closed, dxfattribs={"layer": layer})

    def filled(self, path: Path, layer: str) -> None:
        """An engraved fill: the non-zero union of its contours (plus a HATCH when asked)."""
        rings = union_rings(path, self.tol)
        for r in rings:
            self.polyline(r, True, layer)
        if self.hatch_engrave and rings:
            hatch = self.msp.add_hatch(color=256, dxfattribs={"layer": layer, "hatch_style": 0})
            for r in rings:
                hatch.paths.add_polyline_path(_flip(r, self.scene.height_mm), is_closed=True)

    def laser_items(self) -> None:
        for item in self.scene.items:
            layer = item_layer(item)
            if isinstance(item, ImageItem):
                self.curves(item.clip, "GUIDES")
            elif layer is None:
                continue
            elif isinstance(item, TextItem) or layer is ENGRAVE:
                self.filled(item_path(item), layer.name)
                if isinstance(item, ShapeItem) and item.stroke and item.stroke_width_mm > 0:
                    self.curves(item.path, SCORE.name)
            else:
                self.curves(item.path, layer.name)

    def print_items(self) -> None:
        for item in self.scene.items:
            if isinstance(item, ImageItem):
                self.curves(item.clip, "GUIDES")
                continue
            layer = "CUT" if item.role == "cut" else "ENGRAVE" if item.role == "engrave" else "PRINT"
            if isinstance(item, TextItem):
                self.filled(item_path(item), layer)
            elif layer == "CUT" or item.stroke or item.fill:
                self.curves(item.path, layer)
                if self.hatch_engrave and layer == "ENGRAVE" and item.fill is not None:
                    self.filled(item.path, layer)

    def build(self) -> Drawing:
        s = self.scene
        if is_laser(s):
            self.curves(s.outline, outline_layer(s).name)
            self.laser_items()
        else:
            self.curves(s.outline, CUT.name)
            self.print_items()
        # ezdxf fills the CLASSES section from a set of entity types (order varies with the hash
        # seed); add them now in a fixed order so the write below finds nothing new to add.
        self.doc.classes.add_required_classes(self.doc.dxfversion)
        classes = self.doc.classes.classes
        for key in sorted(classes):
            classes[key] = classes.pop(key)
        ext = ezbbox.extents(self.msp, fast=True)
        if ext.has_data:
            self.doc.header["$EXTMIN"] = (ext.extmin.x, ext.extmin.y, 0.0)
            self.doc.header["$EXTMAX"] = (ext.extmax.x, ext.extmax.y, 0.0)
        return self.doc


def build_dxf_document(
    scene: Scene,
    *,
    kerf_mm: float = 0.0,
    tolerance_mm: float = DEFAULT_TOLERANCE_MM,
    hatch_engrave: bool = False,
) -> Drawing:
    """The ezdxf document for a Scene (see `write_dxf`)."""
    if kerf_mm < 0:
        raise ValueError("kerf_mm must be ≥ 0")
    return _DxfBuilder(scene, kerf_mm, tolerance_mm, hatch_engrave).build()


def write_dxf(
    scene: Scene,
    *,
    kerf_mm: float = 0.0,
    tolerance_mm: float = DEFAULT_TOLERANCE_MM,
    hatch_engrave: bool = False,
) -> bytes:
    """Render the Scene as DXF R2010 bytes (UTF-8, mm); `hatch_engrave` adds solid HATCH fills."""
    out = io.StringIO()
    with _LOCK:
        saved = ezdxf.options.write_fixed_meta_data_for_testing
        ezdxf.options.write_fixed_meta_data_for_testing = True  # also read by ezdxf.new()
        try:
            doc = build_dxf_document(
                scene, kerf_mm=kerf_mm, tolerance_mm=tolerance_mm, hatch_engrave=hatch_engrave
            )
            doc.write(out)
        finally:
            ezdxf.options.write_fixed_meta_data_for_testing = saved
    return out.getvalue().encode("utf-8")
