"""The thin-stroke check made fast (issue 16, item 10) gives the same findings as before.

Old and new are compared on a set of designs (script pendant, bold names, a large bold sign
title, a hairline neck): the border-only thinning against scikit-image's `thin` (the algorithm
it reproduces), the print check's `only_thin` shortcut against the full measurement, and the
per-geometry cache against a fresh measurement.
"""

from __future__ import annotations

import numpy as np
import pytest
from skimage.morphology import thin as skimage_thin

from luneo.design import print_checks, stroke_width
from luneo.design.flatten import flatten_contours
from luneo.design.geometry import Path, rect_path
from luneo.design.model import DesignSpec, ProductDef, TextInput, ZoneDef, ZoneGeometry, ZoneRules
from luneo.design.print_checks import PrintIssue, run_print_checks
from luneo.design.scene import Scene, TextItem
from luneo.design.scene_builder import build_scene
from tests.unit.design.production_scenes import demo_scene
from tests.unit.design.scene_fixtures import MemoryResources

SPEC_HASH = "sha256:" + "cd" * 32


def _spec(font: str, text: str, *, sign: bool = False, thin_stroke: str | None = None) -> DesignSpec:
    """The demo pendant (30 mm disc, arc text, 0.1 mm) or a 200 × 60 mm engraved sign (0.2 mm)."""
    rules = ZoneRules(
        allowed_fonts=[font],
        min_font_pt=5,
        max_font_pt=120 if sign else 11,
        max_chars=18,
        auto_fit=True,
        thin_stroke=thin_stroke,  # type: ignore[arg-type]
    )
    geometry = (
        ZoneGeometry(shape="rect", x_mm=10, y_mm=10, width_mm=180, height_mm=40)
        if sign
        else ZoneGeometry(
            shape="arc", x_mm=0, y_mm=0, width_mm=30, height_mm=30, radius_mm=11.0, arc_sweep_deg=150
        )
    )
    product = ProductDef(
        id="prd_sign" if sign else "prd_pendant",
        sku="SIGN" if sign else "PENDANT",
        width_mm=200 if sign else 30,
        height_mm=60 if sign else 30,
        shape="rect" if sign else "ellipse",
        production_method="engrave",
        min_stroke_mm=0.2 if sign else 0.1,
        output_dpi=300,
        zones=[
            ZoneDef(
                key="name", kind="text", role="engrave", geometry=geometry, rules=rules, default_font=font
            )
        ],
    )
    return DesignSpec(product=product, inputs={"name": TextInput(text=text, font=font)})


def _scene(spec: DesignSpec) -> Scene:
    return build_scene(spec, SPEC_HASH, MemoryResources())


def _neck() -> tuple[Scene, ProductDef]:
    outline = rect_path(10, 20, 5, 0.3).commands + rect_path(15, 20.125, 2, 0.05).commands
    outline += rect_path(17, 20, 5, 0.3).commands
    item = TextItem(
        zone_key="name",
        text="I-I",
        glyphs=(Path(outline),),
        fill="#000",
        font_id="f",
        size_pt=12,
        role="engrave",
    )
    product = ProductDef(
        id="p1", sku="S", width_mm=90, height_mm=50, production_method="engrave", min_stroke_mm=0.1, zones=[]
    )
    return demo_scene(items=(item,)), product


DESIGNS = {
    "script pendant": ("fnt_script", "Juliette", False),
    "script pendant, warn": ("fnt_script", "Marie", False),
    "bold display name": ("fnt_display", "Zoé", False),
    "bold sans name": ("fnt_sans", "Lucas", False),
    "bold sign title": ("fnt_serif", "Merci", True),
    "serif sign title": ("fnt_serif", "Bonjour", True),
}


def _designs() -> list[tuple[str, Scene, ProductDef]]:
    out = []
    for label, (font, text, sign) in DESIGNS.items():
        spec = _spec(font, text, sign=sign, thin_stroke="warn" if "warn" in label else None)
        out.append((label, _scene(spec), spec.product))
    scene, product = _neck()
    out.append(("hairline neck", scene, product))
    return out


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    stroke_width.clear_cache()


def _as_tuple(issues: list[PrintIssue]) -> list[tuple[object, ...]]:
    return [(i.code, i.zone, i.severity, i.message, i.params, i.markup_png) for i in issues]


@pytest.mark.parametrize("label", ["script pendant", "bold display name", "bold sans name"])
def test_fast_thinning_matches_scikit_image_on_names(label: str) -> None:
    font, text, sign = DESIGNS[label]
    spec = _spec(font, text, sign=sign)
    (item,) = [i for i in _scene(spec).items if isinstance(i, TextItem)]
    contours = [c for g in item.glyphs for c in flatten_contours(g, 0.0025)]
    box = stroke_width.contours_bbox([c.points for c in contours])
    assert box is not None
    mask = stroke_width.rasterise(contours, box, stroke_width.PX_PER_MIN / 0.1)
    assert mask.sum() > 10_000
    np.testing.assert_array_equal(stroke_width.thin(mask), skimage_thin(mask).astype(np.uint8))


def test_print_check_shortcut_gives_the_same_findings_as_the_full_measurement(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    designs = _designs()
    fast = {label: run_print_checks(scene, product) for label, scene, product in designs}
    stroke_width.clear_cache()
    full_measure = stroke_width.measure

    def full(contours: list, min_mm: float, **kw: object) -> stroke_width.StrokeWidths | None:
        kw.pop("only_thin", None)
        return full_measure(contours, min_mm, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(print_checks.stroke_width, "measure", full)
    slow = {label: run_print_checks(scene, product) for label, scene, product in designs}
    for label, _, _ in designs:
        assert _as_tuple(fast[label]) == _as_tuple(slow[label]), label
    thin_codes = {label: [i.severity for i in fast[label] if i.code == "stroke_too_thin"] for label in fast}
    # the set covers both outcomes: hairlines found (refused, warned) and bold names passing
    assert thin_codes["script pendant"] == ["error"]
    assert thin_codes["script pendant, warn"] == ["warning"]
    assert thin_codes["hairline neck"] == ["error"]
    assert thin_codes["bold sign title"] == thin_codes["serif sign title"] == []
    assert thin_codes["bold display name"] == thin_codes["bold sans name"] == []


def test_bold_sign_title_skips_the_skeleton(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, int]] = []
    real_thin = stroke_width.thin

    def counting(mask: np.ndarray) -> np.ndarray:
        calls.append(mask.shape)
        return real_thin(mask)

    monkeypatch.setattr(stroke_width, "thin", counting)
    spec = _spec("fnt_serif", "Merci", sign=True)
    (item,) = [i for i in _scene(spec).items if isinstance(i, TextItem)]
    contours = [c for g in item.glyphs for c in flatten_contours(g, 0.005)]
    assert stroke_width.measure(contours, 0.2, only_thin=True) is None
    assert calls == []
    full = stroke_width.measure(contours, 0.2)
    assert full is not None and full.share_under == 0.0 and full.thin_length_mm == 0.0
    assert len(calls) == 1


def test_repeated_geometry_is_measured_once(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _spec("fnt_script", "Juliette")
    (item,) = [i for i in _scene(spec).items if isinstance(i, TextItem)]
    contours = [c for g in item.glyphs for c in flatten_contours(g, 0.0025)]
    first = stroke_width.measure(contours, 0.1)
    assert first is not None and not first.ink.flags.writeable and not first.thin.flags.writeable
    calls: list[int] = []
    real_thin = stroke_width.thin

    def counting(mask: np.ndarray) -> np.ndarray:
        calls.append(1)
        return real_thin(mask)

    monkeypatch.setattr(stroke_width, "thin", counting)
    again = stroke_width.measure([type(c)(list(c.points), c.closed) for c in contours], 0.1)
    assert again is first and calls == []
    other = stroke_width.measure(contours, 0.12)  # another minimum is another measurement
    assert other is not None and other is not first and calls == [1]
    stroke_width.clear_cache()
    fresh = stroke_width.measure(contours, 0.1)
    assert fresh is not None and fresh is not first and calls == [1, 1]
    for f in (
        "share_under",
        "thin_length_mm",
        "total_length_mm",
        "thinnest_mm",
        "median_width_mm",
        "px_per_mm",
    ):
        assert getattr(fresh, f) == getattr(first, f)
    assert fresh.markup_png() == first.markup_png()


def test_union_rings_are_kept_per_path_and_match_the_per_vertex_conversion() -> None:
    """The writers' text unions: same rings as converting shapely's vertices one by one, and a
    repeat (SVG, PDF, DXF of one pack) is served from the cache without sharing lists."""
    import shapely
    from shapely.geometry.polygon import orient

    from luneo.design.writers import laser

    spec = _spec("fnt_script", "Juliette")
    (item,) = [i for i in _scene(spec).items if isinstance(i, TextItem)]
    path = laser.item_path(item)
    first = laser.union_rings(path)
    geom = shapely.set_precision(
        shapely.simplify(
            laser.nonzero_union(flatten_contours(path, laser.UNION_TOLERANCE_MM)),
            laser.SIMPLIFY_MM,
            preserve_topology=True,
        ),
        laser.GRID_MM,
    )
    outers = [
        laser.drop_short_segments(
            laser._canonical_ring(
                [
                    (round(float(x), 3) + 0.0, round(float(y), 3) + 0.0)
                    for x, y in orient(p, 1.0).exterior.coords
                ]
            ),
            closed=True,
        )
        for p in laser._polygons(geom)
    ]
    assert len(outers) > 3 and all(o in first for o in outers if len(o) >= 3)
    first[0].append((0.0, 0.0))
    again = laser.union_rings(path)
    assert again == laser._union_rings(path, laser.UNION_TOLERANCE_MM)
    assert again[0] != first[0] and again is not first
