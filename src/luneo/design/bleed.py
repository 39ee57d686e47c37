"""Fill the bleed: the print Scene with everything that touches the trim extended past it.

A print shop cuts within ±1-2 mm of the trim line, so whatever is flush with the trim must run on
into the bleed or a white hairline shows at the edge. `bleed_scene` returns a Scene for the print
writers (PDF, print PNG) where:

- the background covers the product outline grown by the bleed (a rectangle grows to the bleed box);
- a filled zone that touches a trim edge gets, behind its fill, the strip between that edge and the
  bleed edge (and the corner square where it covers a corner);
- an image whose zone touches a trim edge has its clip extended the same way and its pixels
  continued into the bleed by mirroring the pixels next to the edge;
- text never enters the bleed: glyphs crossing the trim are clipped to it (text belongs in the
  safe area; the print checks warn about it).

Crop marks, TrimBox and BleedBox are the writers' business and do not change. Laser scenes and
scenes without bleed come back unchanged.
"""

from __future__ import annotations

import io
import math
from dataclasses import replace

import numpy as np
import shapely
from PIL import Image
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from luneo.design.flatten import flatten_contours
from luneo.design.geometry import Path
from luneo.design.scene import ImageItem, Scene, SceneItem, ShapeItem, TextItem
from luneo.design.writers import laser as lz

TOUCH_MM = 0.05  # a shape within this distance of a trim edge counts as flush with it
_FLATTEN_MM = 0.005


def _area(path: Path) -> BaseGeometry:
    return lz.nonzero_union(flatten_contours(path, _FLATTEN_MM))


def _polygons(geom: BaseGeometry) -> list[Polygon]:
    if geom.is_empty:
        return []
    if isinstance(geom, Polygon):
        return [geom]
    return [g for g in getattr(geom, "geoms", ()) if isinstance(g, Polygon) and not g.is_empty]


def _geom_path(geom: BaseGeometry) -> Path:
    """Polygons as M/L/Z sub-paths, outer rings and holes wound opposite ways (non-zero safe)."""
    cmds: list[tuple[str, tuple[float, ...]]] = []
    for poly in _polygons(geom):
        p = orient(poly, sign=1.0)
        for ring in (p.exterior, *p.interiors):
            pts = [(float(x), float(y)) for x, y in ring.coords[:-1]]
            if len(pts) < 3:
                continue
            cmds.append(("M", pts[0]))
            cmds.extend(("L", q) for q in pts[1:])
            cmds.append(("Z", ()))
    return Path(tuple(cmds))


def bleed_extension(area: BaseGeometry, w: float, h: float, b: float) -> BaseGeometry:
    """The part of the bleed band that continues `area` across the trim edges it touches."""
    if area.is_empty or b <= 0:
        return Polygon()
    t = TOUCH_MM
    pieces: list[BaseGeometry] = []
    edges = (  # (slab just inside the edge, builder of the strip for an interval along it)
        (box(-t, -t, t, h + t), lambda lo, hi: box(-b, lo, 0, hi), 1),  # left: interval in y
        (box(w - t, -t, w + t, h + t), lambda lo, hi: box(w, lo, w + b, hi), 1),  # right
        (box(-t, -t, w + t, t), lambda lo, hi: box(lo, -b, hi, 0), 0),  # top: interval in x
        (box(-t, h - t, w + t, h + t), lambda lo, hi: box(lo, h, hi, h + b), 0),  # bottom
    )
    for slab, strip, axis in edges:
        for part in _polygons(area.intersection(slab)):
            x0, y0, x1, y1 = part.bounds
            lo, hi = (y0, y1) if axis == 1 else (x0, x1)
            lo, hi = max(lo, 0.0), min(hi, h if axis == 1 else w)
            if hi - lo > 1e-6:
                pieces.append(strip(lo, hi))
    for cx, cy, corner in (
        (0.0, 0.0, box(-b, -b, 0, 0)),
        (w, 0.0, box(w, -b, w + b, 0)),
        (0.0, h, box(-b, h, 0, h + b)),
        (w, h, box(w, h, w + b, h + b)),
    ):
        if area.buffer(t).contains(shapely.Point(cx, cy)):
            pieces.append(corner)
    if not pieces:
        return Polygon()
    return shapely.unary_union(pieces).difference(area)


def _mirror_pad(png: bytes, left: int, top: int, right: int, bottom: int) -> bytes:
    """The image with its edge pixels mirrored outwards (edge-extended where the image is too small)."""
    with Image.open(io.BytesIO(png)) as im:
        im.load()
        mode = im.mode if im.mode in ("RGB", "RGBA") else "RGBA"
        a = np.asarray(im.convert(mode))
    pads = ((top, bottom), (left, right), (0, 0))
    fits = top <= a.shape[0] and bottom <= a.shape[0] and left <= a.shape[1] and right <= a.shape[1]
    out = np.pad(a, pads, mode="symmetric" if fits else "edge")
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(out), mode).save(buf, format="PNG", compress_level=1, optimize=False)
    return buf.getvalue()


def _extend_image(item: ImageItem, ext: BaseGeometry, w: float, h: float, b: float) -> ImageItem:
    """Clip grown by `ext`; pixels mirrored past each trim edge the image itself reaches."""
    minx, miny, maxx, maxy = ext.bounds
    kx = item.width_px / item.width_mm
    ky = item.height_px / item.height_mm
    t = TOUCH_MM

    def pad(need_mm: float, k: float, reaches: bool) -> int:
        return max(0, math.ceil(need_mm * k - 1e-6)) if reaches else 0

    left = pad(item.x_mm - max(minx, -b), kx, minx < 0 and item.x_mm <= t)
    top = pad(item.y_mm - max(miny, -b), ky, miny < 0 and item.y_mm <= t)
    right = pad(
        min(maxx, w + b) - (item.x_mm + item.width_mm), kx, maxx > w and item.x_mm + item.width_mm >= w - t
    )
    bottom = pad(
        min(maxy, h + b) - (item.y_mm + item.height_mm), ky, maxy > h and item.y_mm + item.height_mm >= h - t
    )
    clip = Path(item.clip.commands + _geom_path(ext).commands)
    if not (left or top or right or bottom):
        return replace(item, clip=clip)
    return replace(
        item,
        png=_mirror_pad(item.png, left, top, right, bottom),
        width_px=item.width_px + left + right,
        height_px=item.height_px + top + bottom,
        x_mm=item.x_mm - left / kx,
        y_mm=item.y_mm - top / ky,
        width_mm=item.width_mm + (left + right) / kx,
        height_mm=item.height_mm + (top + bottom) / ky,
        clip=clip,
    )


def _clip_text(item: TextItem, w: float, h: float) -> TextItem:
    cmds = tuple(c for g in item.glyphs for c in g.commands)
    pts = [p for g in item.glyphs for p in g.points()]
    if not pts:
        return item
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    if min(xs) >= 0 and min(ys) >= 0 and max(xs) <= w and max(ys) <= h:
        return item
    inside = _area(Path(cmds)).intersection(box(0, 0, w, h))
    return replace(item, glyphs=(_geom_path(inside),))


def bleed_scene(scene: Scene) -> Scene:
    """The print Scene with its bleed filled (see the module docstring)."""
    b = scene.bleed_mm
    if b <= 0 or lz.is_laser(scene):
        return scene
    w, h = scene.width_mm, scene.height_mm
    items: list[SceneItem] = []
    if scene.background:
        grown = _area(scene.outline).buffer(b, join_style="mitre", mitre_limit=4.0)
        items.append(ShapeItem(zone_key="bleed-background", path=_geom_path(grown), fill=scene.background))
    for item in scene.items:
        if isinstance(item, TextItem):
            items.append(_clip_text(item, w, h))
        elif isinstance(item, ShapeItem):
            if item.fill and item.role == "print" and not item.path.is_empty():
                ext = bleed_extension(_area(item.path), w, h, b)
                if not ext.is_empty:
                    items.append(ShapeItem(zone_key=item.zone_key, path=_geom_path(ext), fill=item.fill))
            items.append(item)
        elif item.role == "print" and not item.clip.is_empty():
            clip_area = _area(item.clip)
            ext = bleed_extension(clip_area, w, h, b)
            items.append(item if ext.is_empty else _extend_image(item, ext, w, h, b))
        else:
            items.append(item)
    return replace(scene, items=tuple(items))
