"""Pre-flight checks: thin strokes, low DPI, safe area, missing glyphs."""

from __future__ import annotations

import pytest

from luneo.design.flatten import flatten_contours
from luneo.design.geometry import rect_path
from luneo.design.model import ProductDef
from luneo.design.print_checks import PrintIssue, min_stroke_for, run_print_checks
from luneo.design.scene import ShapeItem
from luneo.design.stroke_width import measure
from tests.unit.design.production_scenes import demo_scene, glyph_run, image_item, text_item


def _product(method: str = "engrave", **kw: object) -> ProductDef:
    return ProductDef(
        id="p1", sku="SKU-1", width_mm=90, height_mm=50, production_method=method, zones=[], **kw
    )  # type: ignore[arg-type]


def _codes(issues: list[PrintIssue]) -> list[tuple[str, str, str]]:
    return [(i.code, i.zone, i.severity) for i in issues]


@pytest.mark.parametrize("stroke", [0.1, 0.25, 0.5, 1.2])
def test_stroke_estimate_is_close(stroke: float) -> None:
    contours = [c for g in glyph_run(5, 5, 8, stroke, 6) for c in flatten_contours(g, 0.005)]
    found = measure(contours, 0.2)
    assert found is not None
    assert found.median_width_mm == pytest.approx(stroke, abs=0.02)
    assert found.share_under == (1.0 if stroke < 0.2 else 0.0)


def test_hairline_text_flagged_on_engrave_product() -> None:
    scene = demo_scene(method="engrave", items=(text_item(stroke=0.1),))
    issues = run_print_checks(scene, _product())
    assert _codes(issues) == [("stroke_too_thin", "name", "error")]
    assert issues[0].params["min_mm"] == 0.2
    assert issues[0].params["median_width_mm"] == pytest.approx(0.1, abs=0.02)
    assert issues[0].params["thinnest_mm"] < 0.2
    assert issues[0].params["share_under"] == 1.0


def test_thick_text_not_flagged() -> None:
    scene = demo_scene(method="engrave", items=(text_item(stroke=1.0),))
    assert run_print_checks(scene, _product()) == []


def test_method_defaults_and_product_override() -> None:
    assert min_stroke_for(_product("engrave")) == 0.2
    assert min_stroke_for(_product("laser_cut")) == 0.5
    assert min_stroke_for(_product("embroider")) == 1.0
    assert min_stroke_for(_product("print")) == 0.0
    assert min_stroke_for(_product("engrave", min_stroke_mm=0.8)) == 0.8
    scene = demo_scene(items=(text_item(stroke=0.6),))
    assert _codes(run_print_checks(scene, _product("laser_cut"))) == []
    assert _codes(run_print_checks(scene, _product("embroider"))) == [("stroke_too_thin", "name", "error")]
    # print has no default minimum; a product minimum makes it a warning
    assert run_print_checks(scene, _product("print")) == []
    assert _codes(run_print_checks(scene, _product("print", min_stroke_mm=0.8))) == [
        ("stroke_too_thin", "name", "warning")
    ]


def test_low_dpi_image_flagged() -> None:
    low = image_item(dpi=96.0)
    ok = image_item(zone_key="photo", dpi=300.0)
    product = _product("print", min_image_dpi=150)
    assert _codes(run_print_checks(demo_scene(items=(low,)), product)) == [
        ("image_low_dpi", "photo", "error")
    ]
    assert run_print_checks(demo_scene(items=(ok,)), product) == []


def test_item_outside_safe_area_flagged() -> None:
    # safe area is (4, 4)–(86, 46); this text starts at x = 1 mm
    outside = text_item(x=1.0, stroke=1.0)
    issues = run_print_checks(demo_scene(items=(outside,)), _product("print"))
    assert _codes(issues) == [("outside_safe_area", "name", "warning")]
    assert issues[0].params["overflow_mm"] == pytest.approx(3.0, abs=0.01)
    inside = text_item(x=6.0, stroke=1.0)
    assert run_print_checks(demo_scene(items=(inside,)), _product("print")) == []


def test_image_checked_by_visible_clip_not_full_rect() -> None:
    # the image rectangle overflows the safe area, its elliptical clip does not
    img = image_item(x=3.0, y=3.0, w=40.0, h=20.0, dpi=300.0)
    assert run_print_checks(demo_scene(items=(img,)), _product("print")) == []


def test_item_without_safe_area_outside_product_is_error() -> None:
    stray = ShapeItem("deco", rect_path(80, 10, 20, 5), fill="#ff0000")
    issues = run_print_checks(demo_scene(items=(stray,), bleed=3.0), _product("print"))
    assert _codes(issues) == [("outside_product", "deco", "error")]
    assert issues[0].params["overflow_mm"] == pytest.approx(7.0)
    cut = ShapeItem("deco", rect_path(80, 10, 20, 5), stroke="#ff0000", stroke_width_mm=0.1, role="cut")
    assert run_print_checks(demo_scene(items=(cut,)), _product("print")) == []


def test_missing_chars_flagged() -> None:
    item = text_item(stroke=1.0, missing=("✓", "✓", "☃"))
    issues = run_print_checks(demo_scene(items=(item,)), _product("print"))
    assert _codes(issues) == [("missing_glyphs", "name", "error")]
    assert issues[0].params["chars"] == ["✓", "☃"]


def test_issue_is_frozen() -> None:
    issue = PrintIssue("c", "z", "error", "m")
    with pytest.raises(AttributeError):
        issue.code = "x"  # type: ignore[misc]
