"""The local text-to-design planner on the demo catalogue (pure: no database)."""

from __future__ import annotations

import pytest

from luneo.ai.planner import PlanError, extract_text, named_colour, plan_design, plan_from_structured
from luneo.catalog.seed import DEMO_PRODUCTS, GOLD, NAVY
from luneo.design.model import ProductDef
from luneo.design.spec import build_spec

ZONE_FIELDS = ("key", "label", "kind", "geometry", "rules", "default_font", "default_color", "role")


def _products() -> list[ProductDef]:
    out = []
    for i, p in enumerate(DEMO_PRODUCTS):
        d = {k: v for k, v in p.items() if k in ProductDef.model_fields and k not in ("zones", "mockup")}
        d["zones"] = [{k: v for k, v in z.items() if k in ZONE_FIELDS} for z in p["zones"]]
        out.append(ProductDef.model_validate({**d, "id": f"prd_{p['sku'].lower()}_{i}"}))
    return out


PRODUCTS = _products()
BY_SKU = {p.sku: p for p in PRODUCTS}


def test_gold_script_name_on_pendant_builds_a_valid_spec() -> None:
    plan = plan_design("gold script name Emma on the round pendant", PRODUCTS)
    pendant = BY_SKU["DEMO-PENDANT"]
    assert plan.product_id == pendant.id
    assert plan.zone == "arc_text" and plan.text == "Emma"
    assert plan.font == "fnt_script" and plan.color == GOLD
    assert plan.inputs["initial"]["text"] == "E"  # the required one-letter zone gets the initial
    res = build_spec(pendant, plan.inputs)
    assert res.ok, [v.as_dict() for v in res.violations]
    assert res.spec is not None and res.spec.inputs["arc_text"].text == "Emma"  # type: ignore[union-attr]


def test_french_prompt_on_mug() -> None:
    plan = plan_design("prénom Léa en doré sur le mug", PRODUCTS)
    assert plan.product_id == BY_SKU["DEMO-MUG"].id
    assert (plan.zone, plan.text, plan.color) == ("name", "Léa", GOLD)


def test_colour_snaps_to_zone_palette_and_font_falls_back() -> None:
    # The business card name zone allows navy and black only, and sans/serif/mono fonts.
    plan = plan_design('"Jean Dupont" in blue script on the business card', PRODUCTS)
    assert plan.zone == "name" and plan.text == "Jean Dupont"
    assert plan.color == NAVY
    assert plan.font == "fnt_serif"  # script is not allowed: the zone default
    assert any("not allowed" in n for n in plan.notes)


def test_text_extraction_order() -> None:
    assert extract_text('Gold "Best Mum" on the mug')[0] == "Best Mum"
    assert extract_text("bold navy text Paul & Marie on the sign")[0] == "Paul & Marie"
    assert extract_text("write emma please")[0] == "emma"
    assert extract_text("Bold Navy Emma")[0] == "Emma"
    assert extract_text("on the pendant in gold") == (None, None)


def test_colour_names_en_fr() -> None:
    assert named_colour("en doré")[0] == GOLD  # type: ignore[index]
    assert named_colour("rose gold please")[1] == "rose gold"  # type: ignore[index]
    assert named_colour("bleu marine")[0] == NAVY  # type: ignore[index]
    assert named_colour("no colour here") is None


def test_errors_without_text_or_product() -> None:
    with pytest.raises(PlanError) as exc:
        plan_design("on the pendant", PRODUCTS)
    assert exc.value.code == "no_text_found"
    with pytest.raises(PlanError) as exc:
        plan_design("name Emma on a spaceship", PRODUCTS)
    assert exc.value.code == "product_not_found"


def test_structured_plan_is_checked() -> None:
    plan = plan_from_structured(
        {
            "product_sku": "DEMO-PENDANT",
            "zone": "arc_text",
            "text": "Noa",
            "font": "fnt_script",
            "color": "#d4af37",
        },
        PRODUCTS,
    )
    assert plan.planner == "llm" and plan.color == GOLD  # snapped to the product palette
    with pytest.raises(PlanError):
        plan_from_structured({"product_sku": "NOPE", "zone": "x", "text": "y"}, PRODUCTS)
