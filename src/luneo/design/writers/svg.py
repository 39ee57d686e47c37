"""Scene → self-contained SVG (the master every raster preview is made from).

Units are mm (width/height in mm, viewBox in mm; bleed lies at negative coordinates). Text is
drawn as outlines, images are embedded PNG data URIs, ids come from zone keys and numbers are
printed with fixed precision, so the same Scene always gives the same bytes.

`write_svg(scene, laser=True)` writes the laser file of an engrave / laser-cut product instead
(see `luneo.design.writers.laser`): no material fill, one group per laser layer (ENGRAVE fills
as non-zero unions, SCORE, CUT and the pre-cut OUTLINE as hairline strokes), each named by its
LightBurn colour.
"""

from __future__ import annotations

import base64
from xml.sax.saxutils import quoteattr

from luneo.design.geometry import Path
from luneo.design.scene import ImageItem, Scene, ShapeItem, TextItem
from luneo.design.writers import laser as lz

PRECISION = 3  # 1 µm
GUIDE_COLOR = "#00a3ff"
GUIDE_WIDTH_MM = 0.2


def num(v: float) -> str:
    """Fixed-precision number without trailing zeros ('-0' printed as '0')."""
    s = f"{v:.{PRECISION}f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _d(path: Path) -> str:
    return path.to_svg_d(PRECISION)


def canvas_box(scene: Scene, include_mockup: bool = False) -> tuple[float, float, float, float]:
    """(x, y, width, height) in mm of what the SVG shows: product plus bleed, or the mockup photo."""
    m = scene.mockup
    if include_mockup and m is not None:
        k = m.px_per_mm
        return (-m.offset_x_px / k, -m.offset_y_px / k, m.width_px / k, m.height_px / k)
    b = scene.bleed_mm
    return (-b, -b, scene.width_mm + 2 * b, scene.height_mm + 2 * b)


def _png_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _item_svg(item: ShapeItem | TextItem | ImageItem, defs: list[str]) -> str:
    zid = item.zone_key
    if isinstance(item, ShapeItem):
        attrs = [f'id="zone-{zid}"', f'd="{_d(item.path)}"', f'fill="{item.fill or "none"}"']
        if item.stroke and item.stroke_width_mm > 0:
            attrs += [f'stroke="{item.stroke}"', f'stroke-width="{num(item.stroke_width_mm)}"']
        return f'<path {" ".join(attrs)} data-role="{item.role}"/>'
    if isinstance(item, TextItem):
        d = "".join(_d(g) for g in item.glyphs)
        if not d:
            return f'<g id="zone-{zid}" data-role="{item.role}"/>'
        return (
            f'<path id="zone-{zid}" d="{d}" fill="{item.fill}" fill-rule="nonzero" '
            f'data-role="{item.role}" aria-label={quoteattr(item.text)}/>'
        )
    defs.append(f'<clipPath id="clip-{zid}"><path d="{_d(item.clip)}"/></clipPath>')
    return (
        f'<image id="zone-{zid}" x="{num(item.x_mm)}" y="{num(item.y_mm)}" width="{num(item.width_mm)}" '
        f'height="{num(item.height_mm)}" preserveAspectRatio="none" clip-path="url(#clip-{zid})" '
        f'data-role="{item.role}" xlink:href="{_png_uri(item.png)}"/>'
    )


def _laser_body(scene: Scene, defs: list[str]) -> list[str]:
    """One group per laser layer, in the order a laser runs them (engrave, score, cut, outline)."""
    layers: dict[str, list[str]] = {layer.name: [] for layer in lz.LASER_LAYERS}

    def stroke(layer: lz.LaserLayer, zid: str, path: Path) -> None:
        if not path.is_empty():
            layers[layer.name].append(
                f'<path id="{zid}" d="{_d(path)}" fill="none" stroke="{layer.color}" '
                f'stroke-width="{num(lz.HAIRLINE_MM)}"/>'
            )

    outline = lz.outline_layer(scene)
    stroke(outline, "outline", scene.outline)
    for item in scene.items:
        layer = lz.item_layer(item)
        zid = f"zone-{item.zone_key}"
        if layer is None:
            continue
        if isinstance(item, ImageItem):
            layers[layer.name].append(_item_svg(item, defs))
        elif isinstance(item, TextItem) or layer is lz.ENGRAVE:
            rings = lz.union_rings(lz.item_path(item))
            if rings:
                label = f" aria-label={quoteattr(item.text)}" if isinstance(item, TextItem) else ""
                layers[layer.name].append(
                    f'<path id="{zid}" d="{_d(lz.rings_path(rings))}" fill="{lz.ENGRAVE.color}" '
                    f'fill-rule="nonzero" stroke="none"{label}/>'
                )
            if isinstance(item, ShapeItem) and item.stroke and item.stroke_width_mm > 0:
                stroke(lz.SCORE, f"{zid}-score", item.path)
        else:
            assert isinstance(item, ShapeItem)
            stroke(layer, zid, item.path)
    order = (lz.ENGRAVE, lz.SCORE, lz.CUT, lz.OUTLINE)
    return [
        f'<g id="layer-{layer.name}" inkscape:groupmode="layer" inkscape:label="{layer.name}" '
        f'data-operation="{layer.operation}">{"".join(layers[layer.name])}</g>'
        for layer in order
        if layers[layer.name]
    ]


def write_svg(
    scene: Scene,
    *,
    include_mockup: bool = False,
    include_guides: bool = False,
    transparent: bool = True,
    laser: bool = False,
) -> bytes:
    """Render the Scene as SVG bytes (UTF-8).

    include_mockup: draw the product photo behind the design (canvas = the photo).
    include_guides: draw the product outline, zone safe areas and the trim line.
    transparent: False paints a white canvas background.
    laser: the laser file (see the module docstring); the other options are ignored.
    """
    if laser:
        include_mockup = include_guides = False
        transparent = True
    x, y, w, h = canvas_box(scene, include_mockup)
    defs: list[str] = []
    body: list[str] = []
    if not transparent:
        body.append(
            f'<rect id="canvas" x="{num(x)}" y="{num(y)}" width="{num(w)}" height="{num(h)}" fill="#ffffff"/>'
        )
    m = scene.mockup
    if include_mockup and m is not None:
        body.append(
            f'<image id="mockup" x="{num(x)}" y="{num(y)}" width="{num(w)}" height="{num(h)}" '
            f'preserveAspectRatio="none" xlink:href="{_png_uri(m.png)}"/>'
        )
    if laser:
        body.extend(_laser_body(scene, defs))
    elif scene.background:
        body.append(f'<path id="product" d="{_d(scene.outline)}" fill="{scene.background}"/>')
    if not laser:
        body.extend(_item_svg(item, defs) for item in scene.items)
    if include_guides:
        sw = num(GUIDE_WIDTH_MM)
        guides = [f'<path id="guide-outline" d="{_d(scene.outline)}"/>']
        guides += [
            f'<path id="guide-safe-{key}" d="{_d(path)}" stroke-dasharray="1 1"/>'
            for key, path in scene.safe_areas
        ]
        if scene.bleed_mm > 0:
            guides.append(
                f'<rect id="guide-trim" x="0" y="0" width="{num(scene.width_mm)}" '
                f'height="{num(scene.height_mm)}" stroke-dasharray="2 1"/>'
            )
        body.append(
            f'<g id="guides" fill="none" stroke="{GUIDE_COLOR}" stroke-width="{sw}">{"".join(guides)}</g>'
        )
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" version="1.1" '
        + ('xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" ' if laser else "")
        + f'width="{num(w)}mm" height="{num(h)}mm" viewBox="{num(x)} {num(y)} {num(w)} {num(h)}" '
        f"data-spec-hash={quoteattr(scene.spec_hash)}>\n"
    )
    parts = [head]
    if defs:
        parts.append("<defs>" + "".join(defs) + "</defs>\n")
    parts.extend(line + "\n" for line in body)
    parts.append("</svg>\n")
    return "".join(parts).encode("utf-8")
