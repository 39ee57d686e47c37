"""Catalog rows → pure ProductDef."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from luneo.catalog.convert import product_def
from luneo.catalog.models import Product, ProductZone
from luneo.design.model import ProductDef


def _product(**kw) -> Product:
    base = dict(
        id="prd_x",
        sku="SKU-1",
        name="Mug",
        width_mm=200.0,
        height_mm=90.0,
        shape="rect",
        corner_radius_mm=0.0,
        production_method="print",
        bleed_mm=0.0,
        crop_marks=False,
        color_mode="rgb",
        output_dpi=300,
        min_image_dpi=150,
        min_stroke_mm=0.0,
        background_color="#ffffff",
        palette=["#000000"],
        mockup=None,
        model3d=None,
    )
    base.update(kw)
    return Product(**base)


def _zone(key: str, order: int, zid: str) -> ProductZone:
    return ProductZone(
        id=zid,
        key=key,
        label=key.title(),
        kind="text",
        sort_order=order,
        role="print",
        geometry={"x_mm": 1, "y_mm": 2, "width_mm": 30, "height_mm": 10},
        rules={"max_chars": 12, "allowed_fonts": ["fnt_sans"]},
        default_font="fnt_sans",
        default_color="#112233",
    )


def test_rows_become_product_def_in_zone_order():
    p = _product(
        mockup={
            "asset_id": "ast_1",
            "width_px": 1000,
            "height_px": 500,
            "offset_x_px": 5,
            "offset_y_px": 6,
            "px_per_mm": 4.5,
        },
        model3d={"kind": "procedural", "shape": "mug", "asset_id": None, "print_material": "print"},
    )
    d = product_def(p, [_zone("b", 2, "zon_2"), _zone("a", 1, "zon_1")], {"ast_1": "ab" * 32})
    assert isinstance(d, ProductDef)
    assert [z.key for z in d.zones] == ["a", "b"]
    assert d.id == "prd_x" and d.zones[0].rules.max_chars == 12
    assert d.mockup is not None and d.mockup.asset_sha256 == "ab" * 32 and d.mockup.px_per_mm == 4.5
    assert d.model3d is not None and d.model3d.shape == "mug"
    assert ProductDef.model_validate_json(d.model_dump_json()) == d


def test_invalid_rows_raise_validation_error():
    with pytest.raises(ValidationError):
        product_def(_product(output_dpi=10), [], {})
