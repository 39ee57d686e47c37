"""DXF writer: audit, units, layers, geometry read back, closed contours, kerf, determinism."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path as FsPath

import ezdxf
import pytest
from ezdxf import bbox, recover
from ezdxf.document import Drawing
from ezdxf.entities import LWPolyline

from luneo.design.flatten import curve_bbox
from luneo.design.geometry import BBox, Path
from luneo.design.scene import Scene, ShapeItem
from luneo.design.writers.dxf import LAYERS, write_dxf
from tests.unit.design.production_scenes import demo_scene, glyph_o, text_item

TOL = 0.01


def _read(data: bytes) -> Drawing:
    return ezdxf.read(io.StringIO(data.decode("utf-8")))


def _extents(doc: Drawing, layer: str, dxftype: str = "LWPOLYLINE") -> BBox:
    ents = doc.modelspace().query(f'{dxftype}[layer=="{layer}"]')
    assert len(ents) > 0, f"no {dxftype} on {layer}"
    e = bbox.extents(ents)
    return BBox(e.extmin.x, e.extmin.y, e.extmax.x, e.extmax.y)


def _flip(b: BBox, height: float) -> BBox:
    return BBox(b.x0, height - b.y1, b.x1, height - b.y0)


def _assert_close(a: BBox, b: BBox, tol: float = TOL) -> None:
    for u, v in zip((a.x0, a.y0, a.x1, a.y1), (b.x0, b.y0, b.x1, b.y1), strict=True):
        assert abs(u - v) <= tol, (a, b)


def _engrave_scene(**kw: object) -> Scene:
    return demo_scene(method="engrave", items=(text_item(count=6),), **kw)  # type: ignore[arg-type]


def _cut_scene() -> Scene:
    return demo_scene(method="laser_cut", items=(text_item(count=6),))


def test_audit_has_no_errors_and_recover_reads_it() -> None:
    data = write_dxf(demo_scene(method="engrave"), hatch_engrave=True, kerf_mm=0.2)
    doc = _read(data)
    auditor = doc.audit()
    assert not auditor.has_errors, [e.message for e in auditor.errors]
    doc2, auditor2 = recover.read(io.BytesIO(data))
    assert not auditor2.has_errors
    assert doc2.dxfversion == "AC1024"  # R2010
    # the text only: the print-role band of a laser product is its material colour, not lasered
    assert len(doc2.modelspace().query("HATCH")) == 1


def test_units_and_layers() -> None:
    doc = _read(write_dxf(demo_scene(method="engrave")))
    assert doc.header["$INSUNITS"] == 4
    assert doc.header["$MEASUREMENT"] == 1
    for name, color in LAYERS.items():
        assert doc.layers.get(name).color == color
    layers = {e.dxf.layer for e in doc.modelspace()}
    assert {"OUTLINE", "ENGRAVE", "GUIDES"} <= layers  # a pre-cut blank: outline on its own layer
    assert "CUT" not in layers
    cut = {e.dxf.layer for e in _read(write_dxf(demo_scene(method="laser_cut"))).modelspace()}
    assert {"CUT", "ENGRAVE", "GUIDES"} <= cut and "OUTLINE" not in cut


def test_print_product_keeps_print_layer() -> None:
    doc = _read(write_dxf(demo_scene(method="print")))
    layers = {e.dxf.layer for e in doc.modelspace()}
    assert "PRINT" in layers and "ENGRAVE" not in layers


def test_readback_bboxes_match_scene_curves() -> None:
    scene = _engrave_scene()
    doc = _read(write_dxf(scene))
    outline = curve_bbox(scene.outline)
    assert outline is not None
    _assert_close(_extents(doc, "OUTLINE"), _flip(outline, scene.height_mm))
    item = scene.items[0]
    assert hasattr(item, "glyphs")
    exact: BBox | None = None
    for g in item.glyphs:  # type: ignore[union-attr]
        gb = curve_bbox(g)
        assert gb is not None
        exact = gb.union(exact)
    assert exact is not None
    _assert_close(_extents(doc, "ENGRAVE"), _flip(exact, scene.height_mm))
    # y is flipped: the text near the top of the scene is near the top of the DXF
    assert _extents(doc, "ENGRAVE").y1 > scene.height_mm / 2


def test_glyph_contours_are_closed_polylines() -> None:
    scene = _engrave_scene()
    doc = _read(write_dxf(scene))
    polys = [p for p in doc.modelspace().query('LWPOLYLINE[layer=="ENGRAVE"]') if isinstance(p, LWPolyline)]
    # O, D (outer + counter each) and I: 2 + 2 + 1 per three glyphs
    assert len(polys) == 10
    assert all(p.closed for p in polys)
    assert all(len(p) >= 4 for p in polys)


def test_kerf_grows_outline_by_half_kerf() -> None:
    scene = _cut_scene()
    base = _extents(_read(write_dxf(scene)), "CUT")
    kerf = 0.3
    grown = _extents(_read(write_dxf(scene, kerf_mm=kerf)), "CUT")
    _assert_close(
        grown, BBox(base.x0 - kerf / 2, base.y0 - kerf / 2, base.x1 + kerf / 2, base.y1 + kerf / 2), 1e-6
    )
    # engrave geometry is not offset
    _assert_close(
        _extents(_read(write_dxf(scene, kerf_mm=kerf)), "ENGRAVE"),
        _extents(_read(write_dxf(scene)), "ENGRAVE"),
        1e-9,
    )


def test_kerf_shrinks_holes_of_cut_parts() -> None:
    ring = ShapeItem("ring", glyph_o(20, 10, 30, 4), stroke="#ff0000", stroke_width_mm=0.1, role="cut")
    scene = demo_scene(method="laser_cut", items=(ring,))
    kerf = 0.4
    doc = _read(write_dxf(scene, kerf_mm=kerf))
    polys = [p for p in doc.modelspace().query('LWPOLYLINE[layer=="CUT"]')]
    boxes = sorted((bbox.extents([p]) for p in polys), key=lambda e: e.size.x)
    inner, outer = boxes[0], boxes[1]
    # O: outer rx 12, ry 15 around (32, 25); counter rx 8, ry 11
    assert outer.size.x == pytest.approx(24 + kerf, abs=TOL)
    assert outer.size.y == pytest.approx(30 + kerf, abs=TOL)
    assert inner.size.x == pytest.approx(16 - kerf, abs=TOL)
    assert inner.size.y == pytest.approx(22 - kerf, abs=TOL)


def test_negative_kerf_rejected() -> None:
    with pytest.raises(ValueError):
        write_dxf(demo_scene(), kerf_mm=-0.1)


def test_deterministic_bytes_and_fixed_header() -> None:
    scene = demo_scene(method="laser_cut")
    a = write_dxf(scene, kerf_mm=0.2)
    assert a == write_dxf(scene, kerf_mm=0.2)
    assert a != write_dxf(scene, kerf_mm=0.3)
    for var in (b"$TDCREATE", b"$TDUPDATE"):  # pinned to 2000-01-01 (ezdxf re-stamps on read)
        i = a.index(var + b"\n")
        assert a[i : i + 30].split(b"\n")[2] == b"2451545.0"
    assert ezdxf.options.write_fixed_meta_data_for_testing is False  # option restored


@pytest.mark.parametrize("seed", ["0", "4"])
def test_deterministic_across_processes(seed: str) -> None:
    """Same bytes in a fresh interpreter with another hash seed (set order must not leak)."""
    root = FsPath(__file__).resolve().parents[3]
    code = (
        "import hashlib, sys; sys.path[:0] = [sys.argv[1], sys.argv[1] + '/src'];"
        "from tests.unit.design.production_scenes import demo_scene;"
        "from luneo.design.writers.dxf import write_dxf;"
        "print(hashlib.sha256(write_dxf(demo_scene(method='engrave'), kerf_mm=0.2, hatch_engrave=True)).hexdigest())"
    )
    env = {**os.environ, "PYTHONHASHSEED": seed}
    out = subprocess.run(
        [sys.executable, "-c", code, str(root)], capture_output=True, text=True, check=True, env=env
    )
    local = write_dxf(demo_scene(method="engrave"), kerf_mm=0.2, hatch_engrave=True)
    assert out.stdout.strip() == hashlib.sha256(local).hexdigest()


def test_open_cut_line_stays_open() -> None:
    score = ShapeItem("score", Path((("M", (0.0, 25.0)), ("L", (90.0, 25.0)))), stroke="#000000", role="cut")
    doc = _read(write_dxf(demo_scene(items=(score,)), kerf_mm=0.2))
    polys = [p for p in doc.modelspace().query('LWPOLYLINE[layer=="CUT"]') if isinstance(p, LWPolyline)]
    opened = [p for p in polys if not p.closed]
    assert len(opened) == 1
    assert [tuple(round(v, 6) for v in pt[:2]) for pt in opened[0].get_points()] == [
        (0.0, 25.0),
        (90.0, 25.0),
    ]
