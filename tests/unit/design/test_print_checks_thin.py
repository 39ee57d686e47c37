"""The thin-stroke print check measures stroke width along the skeleton (issue 16, item 7).

A script name on the demo pendant (engraved, 0.1 mm minimum) has about a quarter of its stroke
length in hairlines; the old check looked at each glyph's thickest point and let it through.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from luneo.design.canonical import canonicalize
from luneo.design.geometry import Path, rect_path
from luneo.design.model import DesignSpec, ProductDef, TextInput, ZoneDef, ZoneGeometry, ZoneRules
from luneo.design.print_checks import (
    THIN_MARKUP_NAME,
    THIN_SHARE_LIMIT,
    PrintIssue,
    markup_pack_files,
    run_print_checks,
)
from luneo.design.scene import Scene, TextItem
from luneo.design.scene_builder import build_scene
from luneo.manufacturing.export import PackOptions, export_spec
from tests.unit.design.production_scenes import demo_scene
from tests.unit.design.scene_fixtures import MemoryResources

SPEC_HASH = "sha256:" + "ab" * 32


def _pendant(font: str, thin_stroke: str | None = None, method: str = "engrave") -> ProductDef:
    """The demo pendant: a 30 mm disc, a name along an arc, 0.1 mm minimum stroke."""
    rules = ZoneRules(
        allowed_fonts=[font],
        min_font_pt=5,
        max_font_pt=11,
        max_chars=18,
        auto_fit=True,
        thin_stroke=thin_stroke,
    )
    return ProductDef(
        id="prd_pendant",
        sku="DEMO-PENDANT",
        width_mm=30,
        height_mm=30,
        shape="ellipse",
        production_method=method,  # type: ignore[arg-type]
        min_stroke_mm=0.1,
        output_dpi=1000,
        background_color="#c9a227",
        zones=[
            ZoneDef(
                key="arc_text",
                kind="text",
                role="engrave" if method != "print" else "print",
                geometry=ZoneGeometry(
                    shape="arc", x_mm=0, y_mm=0, width_mm=30, height_mm=30, radius_mm=11.0, arc_sweep_deg=150
                ),
                rules=rules,
                default_font=font,
            )
        ],
    )


def _spec(font: str, text: str = "Juliette", **kw: str | None) -> DesignSpec:
    return DesignSpec(product=_pendant(font, **kw), inputs={"arc_text": TextInput(text=text, font=font)})  # type: ignore[arg-type]


def _scene(spec: DesignSpec) -> Scene:
    return build_scene(spec, SPEC_HASH, MemoryResources())


def _thin(issues: list[PrintIssue]) -> list[PrintIssue]:
    return [i for i in issues if i.code == "stroke_too_thin"]


@pytest.fixture(scope="module")
def script_pendant() -> tuple[DesignSpec, list[PrintIssue]]:
    spec = _spec("fnt_script")
    return spec, run_print_checks(_scene(spec), spec.product)


def test_script_pendant_is_refused_with_the_share_under_the_minimum(
    script_pendant: tuple[DesignSpec, list[PrintIssue]],
) -> None:
    _, issues = script_pendant
    thin = _thin(issues)
    assert [(i.zone, i.severity) for i in thin] == [("arc_text", "error")]
    p = thin[0].params
    # measured 0.16 with this font, size and arc (the issue's report said 27 %)
    assert 0.10 <= p["share_under"] <= 0.35
    assert p["min_mm"] == 0.1 and p["policy"] == "refuse" and p["limit"] == THIN_SHARE_LIMIT
    assert 0 < p["thinnest_mm"] < 0.1
    assert p["thin_length_mm"] == pytest.approx(p["share_under"] * p["total_length_mm"], rel=0.01)
    assert p["px_per_min"] >= 4 and p["capped"] is False
    pct = round(p["share_under"] * 100)
    assert thin[0].message == (
        f"{pct} % of the engraving is thinner than 0.1 mm: use a bolder font or a larger size."
    )


def test_script_pendant_markup_marks_thin_parts_red(
    script_pendant: tuple[DesignSpec, list[PrintIssue]],
) -> None:
    _, issues = script_pendant
    issue = _thin(issues)[0]
    assert issue.params["markup"] == THIN_MARKUP_NAME == "print-check-thin.png"
    assert issue.markup_png is not None
    img = np.asarray(Image.open(io.BytesIO(issue.markup_png)).convert("RGB")).reshape(-1, 3)
    colours = {tuple(int(v) for v in c) for c in np.unique(img, axis=0)}
    assert colours == {(255, 255, 255), (150, 150, 150), (220, 30, 30)}
    red = np.all(img == (220, 30, 30), axis=1).sum()
    ink = red + np.all(img == (150, 150, 150), axis=1).sum()
    assert 0.03 < red / ink < 0.5  # the hairlines, a minority of the ink area
    (f,) = markup_pack_files(issues)
    assert (f.name, f.media_type, f.data) == ("print-check-thin.png", "image/png", issue.markup_png)
    assert f.dpi is not None and f.dpi >= 25.4 * 40


@pytest.mark.parametrize("font", ["fnt_display", "fnt_sans"])
def test_bold_sans_name_passes(font: str) -> None:
    spec = _spec(font)
    assert _thin(run_print_checks(_scene(spec), spec.product)) == []


def test_zone_policy_warn_turns_the_refusal_into_a_warning() -> None:
    spec = _spec("fnt_script", thin_stroke="warn")
    (issue,) = _thin(run_print_checks(_scene(spec), spec.product))
    assert (issue.severity, issue.params["policy"]) == ("warning", "warn")


def test_print_products_warn_by_default_and_refuse_when_asked() -> None:
    spec = _spec("fnt_script", method="print")
    (issue,) = _thin(run_print_checks(_scene(spec), spec.product))
    assert issue.severity == "warning"
    assert issue.message.endswith("of the print is thinner than 0.1 mm: use a bolder font or a larger size.")
    spec = _spec("fnt_script", method="print", thin_stroke="refuse")
    (issue,) = _thin(run_print_checks(_scene(spec), spec.product))
    assert issue.severity == "error"


def _bar_with_neck() -> TextItem:
    """Two 5 mm bars 0.3 mm thick joined by a 2 mm neck 0.05 mm thick (one connected shape)."""
    outline = rect_path(10, 20, 5, 0.3).commands + rect_path(15, 20.125, 2, 0.05).commands
    outline += rect_path(17, 20, 5, 0.3).commands
    return TextItem(
        zone_key="name",
        text="I-I",
        glyphs=(Path(outline),),
        fill="#1a1a1a",
        font_id="test-font",
        size_pt=12,
        role="engrave",
    )


def test_thickest_point_no_longer_hides_a_hairline_neck() -> None:
    product = ProductDef(
        id="p1", sku="S", width_mm=90, height_mm=50, production_method="engrave", min_stroke_mm=0.1, zones=[]
    )
    (issue,) = _thin(run_print_checks(demo_scene(items=(_bar_with_neck(),)), product))
    assert issue.severity == "error"
    # the skeleton runs 11.7 mm (each bar's skeleton stops half a width short of its outer end)
    assert issue.params["share_under"] == pytest.approx(2.0 / 11.7, abs=0.01)
    assert issue.params["thin_length_mm"] == pytest.approx(
        2.0, rel=0.08
    )  # chain weights: −5 % on straight runs
    assert issue.params["thinnest_mm"] == pytest.approx(0.05, abs=0.0125)  # within a pixel at 80 px/mm


def test_policy_is_left_out_of_the_spec_when_unset() -> None:
    """Adding the rule must not change the canonical bytes (and so the hash) of existing specs."""
    assert "thin_stroke" not in json.loads(canonicalize(ZoneRules()))
    assert json.loads(canonicalize(ZoneRules(thin_stroke="warn")))["thin_stroke"] == "warn"
    with pytest.raises(ValueError):
        ZoneRules(thin_stroke="sometimes")  # type: ignore[arg-type]


def test_export_pack_carries_the_markup_and_the_finding() -> None:
    spec = _spec("fnt_script")
    result = export_spec(spec.model_dump(mode="json"), SPEC_HASH, MemoryResources(), PackOptions())
    names = [f.name for f in result.files]
    assert "print-check-thin.png" in names
    (finding,) = [i for i in result.manifest["meta"]["print_checks"] if i["code"] == "stroke_too_thin"]
    assert finding["severity"] == "error" and finding["params"]["markup"] == "print-check-thin.png"
    bold = _spec("fnt_display")
    result = export_spec(bold.model_dump(mode="json"), SPEC_HASH, MemoryResources(), PackOptions())
    assert "print-check-thin.png" not in [f.name for f in result.files]
