"""Laser files (issue 16, items 5 and 6): unioned engraving, laser layers and colours, true curves.

The pendant (engraved, pre-cut gold disc) and the sign (laser-cut wood board) are built from
specs with the bundled script font, whose letters overlap where they join, and packed with the
production pack builder (`pack_files`), so these tests check the files an operator receives.
"""

from __future__ import annotations

import io
import math
import re
import zlib

import ezdxf
import numpy as np
import pytest
import skia
from ezdxf.document import Drawing
from ezdxf.entities import LWPolyline

from luneo.design.model import DesignSpec, ProductDef, TextInput, ZoneDef, ZoneGeometry, ZoneRules
from luneo.design.pack import PackFile
from luneo.design.scene import Scene
from luneo.design.scene_builder import build_scene
from luneo.design.writers.dxf import write_dxf
from luneo.design.writers.laser import CUT, ENGRAVE, HAIRLINE_MM, OUTLINE
from luneo.manufacturing.export import pack_files
from tests.unit.design.scene_fixtures import MemoryResources

GOLD, WOOD = "#c9a227", "#d7b98e"
PX_PER_MM = 20


def _product(kind: str) -> ProductDef:
    rules = ZoneRules(allowed_fonts=["fnt_script"], min_font_pt=6, max_font_pt=200, auto_fit=False)
    if kind == "pendant":
        return ProductDef(
            id="prd_pendant",
            sku="PEND-30",
            width_mm=30,
            height_mm=30,
            shape="ellipse",
            production_method="engrave",
            background_color=GOLD,
            zones=[
                ZoneDef(
                    key="name",
                    kind="text",
                    role="engrave",
                    geometry=ZoneGeometry(x_mm=2, y_mm=9, width_mm=26, height_mm=12),
                    rules=rules,
                    default_font="fnt_script",
                )
            ],
        )
    return ProductDef(
        id="prd_sign",
        sku="SIGN-300",
        width_mm=300,
        height_mm=150,
        shape="rounded_rect",
        corner_radius_mm=12,
        production_method="laser_cut",
        background_color=WOOD,
        zones=[
            ZoneDef(
                key="name",
                kind="text",
                role="engrave",
                geometry=ZoneGeometry(x_mm=20, y_mm=20, width_mm=260, height_mm=110),
                rules=rules,
                default_font="fnt_script",
            )
        ],
    )


def _files(kind: str, size_pt: float) -> tuple[Scene, dict[str, PackFile]]:
    spec = DesignSpec(
        product=_product(kind),
        inputs={"name": TextInput(text="Juliette", font="fnt_script", size_pt=size_pt)},
    )
    scene = build_scene(spec, "sha256:" + "cd" * 32, MemoryResources())
    return scene, {f.name: f for f in pack_files(scene, spec)}


@pytest.fixture(scope="module")
def pendant() -> tuple[Scene, dict[str, PackFile]]:
    return _files("pendant", 24)


@pytest.fixture(scope="module")
def sign() -> tuple[Scene, dict[str, PackFile]]:
    return _files("sign", 150)


# ---------------------------------------------------------------- helpers


def _svg_rings(d: str) -> list[list[tuple[float, float]]]:
    """Rings of an M/L/Z path (what the laser SVG writes for engraved fills)."""
    assert not re.search(r"[CQAHVSTcqahvst]", d), "engraved fills are polygons"
    rings: list[list[tuple[float, float]]] = []
    for m in re.finditer(r"([MLZ])([^MLZ]*)", d):
        op, args = m.group(1), m.group(2).split()
        if op == "M":
            rings.append([])
        if op in "ML":
            rings[-1].append((float(args[0]), float(args[1])))
    return rings


def _ink_difference(rings: list[list[tuple[float, float]]]) -> tuple[int, int]:
    """(pixels that differ between even-odd and non-zero fills, non-zero ink pixels) at 20 px/mm."""
    pts = [p for r in rings for p in r]
    x0, y0 = min(p[0] for p in pts) - 1, min(p[1] for p in pts) - 1
    w = math.ceil((max(p[0] for p in pts) - x0 + 1) * PX_PER_MM)
    h = math.ceil((max(p[1] for p in pts) - y0 + 1) * PX_PER_MM)

    def ink(rule: skia.PathFillType) -> np.ndarray:
        surface = skia.Surface(w, h)
        canvas = surface.getCanvas()
        canvas.clear(skia.ColorWHITE)
        path = skia.Path()
        path.setFillType(rule)
        for r in rings:
            path.moveTo((r[0][0] - x0) * PX_PER_MM, (r[0][1] - y0) * PX_PER_MM)
            for x, y in r[1:]:
                path.lineTo((x - x0) * PX_PER_MM, (y - y0) * PX_PER_MM)
            path.close()
        canvas.drawPath(path, skia.Paint(Color=skia.ColorBLACK, AntiAlias=False))
        return np.asarray(surface.makeImageSnapshot().toarray())[:, :, 0] < 128

    even_odd, non_zero = ink(skia.PathFillType.kEvenOdd), ink(skia.PathFillType.kWinding)
    return int((even_odd != non_zero).sum()), int(non_zero.sum())


def _dxf(data: bytes) -> Drawing:
    doc = ezdxf.read(io.StringIO(data.decode("utf-8")))
    auditor = doc.audit()
    assert not auditor.has_errors, [e.message for e in auditor.errors]
    return doc


def _pdf_content(data: bytes) -> str:
    """The page's decompressed content stream(s)."""
    out = []
    for m in re.finditer(rb"stream\r?\n(.*?)endstream", data, re.S):
        try:
            out.append(zlib.decompressobj().decompress(m.group(1)).decode("latin-1"))
        except zlib.error:
            continue
    return "\n".join(out)


def _colours(content: str, op: str) -> set[tuple[float, float, float]]:
    """RGB colours set with `op` (rg = fill, RG = stroke), rounded to 1/255."""
    num = r"(-?[\d.]+)"
    found = re.findall(rf"{num} {num} {num} {op}\b", content)
    return {tuple(round(float(v) * 255) / 255 for v in c) for c in found}  # type: ignore[misc]


def _rgb(color: str) -> tuple[float, float, float]:
    v = int(color[1:], 16)
    return ((v >> 16) / 255, (v >> 8 & 255) / 255, (v & 255) / 255)


# ---------------------------------------------------------------- item 5: unions


def test_raw_script_glyphs_overlap(pendant: tuple[Scene, dict[str, PackFile]]) -> None:
    """The premise: the font's own contours leave even-odd slivers where letters join."""
    scene, _ = pendant
    from luneo.design.flatten import flatten

    item = scene.items[0]
    rings = [c for g in item.glyphs for c in flatten(g, 0.005)]  # type: ignore[union-attr]
    diff, ink = _ink_difference(rings)
    assert diff > 0.001 * ink


@pytest.mark.parametrize("kind", ["pendant", "sign"])
def test_laser_svg_engraving_is_the_same_under_even_odd_and_non_zero(kind: str) -> None:
    _, files = _files(kind, 24 if kind == "pendant" else 150)
    svg = files["design.svg"].data.decode()
    ds = re.findall(r'<path id="zone-name" d="([^"]+)"', svg)
    assert len(ds) == 1
    rings = _svg_rings(ds[0])
    diff, ink = _ink_difference(rings)
    assert ink > 1000
    assert diff == 0


def test_dxf_engraving_is_the_same_under_even_odd_and_non_zero(
    pendant: tuple[Scene, dict[str, PackFile]],
) -> None:
    doc = _dxf(pendant[1]["design.dxf"].data)
    polys = [
        p for p in doc.modelspace().query(f'LWPOLYLINE[layer=="{ENGRAVE.name}"]') if isinstance(p, LWPolyline)
    ]
    assert polys and all(p.closed for p in polys)
    rings = [[(x, 30 - y) for x, y, *_ in p.get_points()] for p in polys]
    diff, ink = _ink_difference(rings)
    assert ink > 1000
    assert diff == 0


def test_laser_files_are_byte_deterministic(pendant: tuple[Scene, dict[str, PackFile]]) -> None:
    _, again = _files("pendant", 24)
    for name in ("design.svg", "design.pdf", "design.dxf"):
        assert again[name].data == pendant[1][name].data, name


# ---------------------------------------------------------------- item 6: laser conventions


@pytest.mark.parametrize(("kind", "material"), [("pendant", GOLD), ("sign", WOOD)])
def test_laser_svg_has_no_material_fill(kind: str, material: str) -> None:
    _scene, files = _files(kind, 24 if kind == "pendant" else 150)
    svg = files["design.svg"].data.decode()
    assert material not in svg
    fills = set(re.findall(r'fill="([^"]+)"', svg))
    assert fills <= {"none", ENGRAVE.color}
    # every stroke is a hairline in a layer colour; the outline is cut (sign) or alignment only (pendant)
    strokes = re.findall(r'stroke="(#[0-9a-f]{6})" stroke-width="([0-9.]+)"', svg)
    assert strokes and all(float(w) == HAIRLINE_MM for _, w in strokes)
    layer = CUT if kind == "sign" else OUTLINE
    assert re.search(
        rf'<g id="layer-{layer.name}"[^>]*><path id="outline" d="[^"]+" fill="none" stroke="{layer.color}"',
        svg,
    )
    assert re.search(
        rf'<g id="layer-{ENGRAVE.name}"[^>]*><path id="zone-name" [^>]*fill="{ENGRAVE.color}"', svg
    )


@pytest.mark.parametrize(("kind", "material"), [("pendant", GOLD), ("sign", WOOD)])
def test_laser_pdf_has_no_material_fill(kind: str, material: str) -> None:
    _, files = _files(kind, 24 if kind == "pendant" else 150)
    content = _pdf_content(files["design.pdf"].data)
    assert content
    fills = _colours(content, "rg")
    assert _rgb(material) not in fills  # no material fill
    assert fills == {_rgb(ENGRAVE.color)}  # engraving: black fills only
    layer = CUT if kind == "sign" else OUTLINE
    assert _colours(content, "RG") == {_rgb(layer.color)}
    widths = [float(w) for w in re.findall(r"([\d.]+) w\b", content)]
    assert widths and all(w == pytest.approx(HAIRLINE_MM * 72 / 25.4, abs=1e-4) for w in widths)


def test_proof_png_still_shows_the_material(pendant: tuple[Scene, dict[str, PackFile]]) -> None:
    from PIL import Image

    png = Image.open(io.BytesIO(pendant[1]["design.png"].data)).convert("RGBA")
    r, g, b, a = png.getpixel((png.width // 2, png.height // 10))
    assert a == 255 and (r, g, b) == (0xC9, 0xA2, 0x27)


def test_pendant_dxf_outline_is_one_circle_on_its_own_layer(
    pendant: tuple[Scene, dict[str, PackFile]],
) -> None:
    doc = _dxf(pendant[1]["design.dxf"].data)
    msp = doc.modelspace()
    outline = list(msp.query(f'*[layer=="{OUTLINE.name}"]'))
    assert [e.dxftype() for e in outline] == ["CIRCLE"]
    circle = outline[0]
    assert circle.dxf.radius == pytest.approx(15.0, abs=1e-3)
    assert (circle.dxf.center.x, circle.dxf.center.y) == (pytest.approx(15.0), pytest.approx(15.0))
    assert not list(msp.query(f'*[layer=="{CUT.name}"]'))  # a pre-cut blank is not cut again


def _segments(doc: Drawing) -> list[float]:
    out: list[float] = []
    for p in doc.modelspace().query("LWPOLYLINE"):
        assert isinstance(p, LWPolyline)
        pts = [(x, y) for x, y, *_ in p.get_points()]
        pairs = list(zip(pts, pts[1:] + (pts[:1] if p.closed else []), strict=False))
        out += [math.hypot(b[0] - a[0], b[1] - a[1]) for a, b in pairs]
    return out


@pytest.mark.parametrize("kind", ["pendant", "sign"])
def test_dxf_has_no_micro_segments(kind: str) -> None:
    _, files = _files(kind, 24 if kind == "pendant" else 150)
    seg = _segments(_dxf(files["design.dxf"].data))
    assert seg and min(seg) >= 0.01 - 1e-9


def test_sign_cut_outline_keeps_its_rounded_corners_as_arcs(sign: tuple[Scene, dict[str, PackFile]]) -> None:
    doc = _dxf(sign[1]["design.dxf"].data)
    cut = list(doc.modelspace().query(f'*[layer=="{CUT.name}"]'))
    assert [e.dxftype() for e in cut] == ["LWPOLYLINE"]
    poly = cut[0]
    assert isinstance(poly, LWPolyline) and poly.closed
    bulges = [b for *_, b in poly.get_points("xyb") if b]
    assert len(bulges) == 4 and all(
        b == pytest.approx(math.tan(math.pi / 8), abs=1e-3) for b in map(abs, bulges)
    )
    assert len(poly) == 8  # four lines, four arcs


def test_kerf_grows_the_circle_of_a_cut_disc() -> None:
    scene, _ = _files("pendant", 24)
    from dataclasses import replace

    disc = replace(scene, production_method="laser_cut")
    doc = _dxf(write_dxf(disc, kerf_mm=0.2))
    (circle,) = doc.modelspace().query(f'CIRCLE[layer=="{CUT.name}"]')
    assert circle.dxf.radius == pytest.approx(15.1, abs=1e-3)


def test_micron_long_segments_are_merged_and_shapes_stay_closed() -> None:
    """A cut line with a 4 µm step (as imported artwork and scaled fonts have) and a tiny curve."""
    from dataclasses import replace

    from luneo.design.geometry import Path
    from luneo.design.scene import ShapeItem

    scene, _ = _files("sign", 150)
    path = Path(
        (
            ("M", (50.0, 50.0)),
            ("L", (60.0, 50.0)),
            ("L", (60.004, 50.0)),
            ("C", (60.006, 50.0, 60.008, 50.002, 60.008, 50.004)),
            ("L", (60.0, 60.0)),
            ("L", (50.0, 60.0)),
            ("L", (50.0, 50.003)),
            ("Z", ()),
        )
    )
    cut = replace(scene, items=(*scene.items, ShapeItem("hole", path, stroke="#ff0000", role="cut")))
    doc = _dxf(write_dxf(cut))
    seg = _segments(doc)
    assert min(seg) >= 0.01 - 1e-9
    assert all(p.closed for p in doc.modelspace().query(f'LWPOLYLINE[layer=="{CUT.name}"]'))
