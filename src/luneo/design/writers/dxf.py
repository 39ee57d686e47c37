"""Scene → DXF (R2010, mm) for lasers, engravers and cutters (ezdxf).

Layers: CUT (product outline and cut-role items, red), ENGRAVE (text and engrave fills, blue),
PRINT (print-role artwork of a print product, green), GUIDES (where raster images go, grey).
Curves are flattened (`luneo.design.flatten`) into closed LWPOLYLINEs; DXF's y axis points up,
so y = product height − scene y (origin at the product's bottom-left corner). With `kerf_mm`,
closed cut contours are offset by kerf/2 away from the part (outer contours grow, holes shrink)
with round joins, as the beam's centre must travel. Same Scene ⇒ same bytes: handles are
sequential and ezdxf's fixed-metadata option pins the timestamps and GUIDs.
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

DEFAULT_TOLERANCE_MM = 0.005
LAYERS: dict[str, int] = {"CUT": 1, "ENGRAVE": 5, "PRINT": 3, "GUIDES": 8}  # AutoCAD colour index
_LOCK = threading.Lock()  # ezdxf's fixed-metadata switch is a process-wide option


def _layer_for(role: str, scene: Scene) -> str:
    if role == "cut":
        return "CUT"
    if role == "engrave" or scene.production_method in ("engrave", "laser_cut"):
        return "ENGRAVE"
    return "PRINT"


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

    def contours(self, path: Path, layer: str) -> None:
        cs = flatten_contours(path, self.tol)
        if layer == "CUT" and self.kerf > 0:
            cs = kerf_offset(cs, self.kerf, self.tol)
        h = self.scene.height_mm
        for c in cs:
            self.msp.add_lwpolyline(
                _flip(c.points, h), format="xy", close=c.closed, dxfattribs={"layer": layer}
            )

    def hatch(self, path: Path, layer: str) -> None:
        closed = [c for c in flatten_contours(path, self.tol) if c.closed]
        if not closed:
            return
        hatch = self.msp.add_hatch(color=256, dxfattribs={"layer": layer, "hatch_style": 0})
        for c in closed:
            hatch.paths.add_polyline_path(_flip(c.points, self.scene.height_mm), is_closed=True)

    def build(self) -> Drawing:
        s = self.scene
        self.contours(s.outline, "CUT")
        for item in s.items:
            if isinstance(item, ImageItem):
                self.contours(item.clip, "GUIDES")
                continue
            layer = _layer_for(item.role, s)
            path = (
                Path(tuple(cmd for g in item.glyphs for cmd in g.commands))
                if isinstance(item, TextItem)
                else item.path
            )
            if isinstance(item, ShapeItem) and layer != "CUT" and not (item.fill or item.stroke):
                continue
            self.contours(path, layer)
            filled = isinstance(item, TextItem) or (isinstance(item, ShapeItem) and item.fill is not None)
            if self.hatch_engrave and layer == "ENGRAVE" and filled:
                self.hatch(path, layer)
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
