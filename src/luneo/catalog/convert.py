"""Catalog rows → the pure `ProductDef` the design core consumes (and specs embed)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from luneo.catalog.models import Product, ProductZone
from luneo.design.model import MockupDef, Model3DDef, ProductDef, ZoneDef, ZoneGeometry, ZoneRules


def zone_def(zone: ProductZone) -> ZoneDef:
    """One zone row as a pure `ZoneDef`."""
    return ZoneDef(
        key=zone.key,
        label=zone.label or "",
        kind=zone.kind,  # type: ignore[arg-type]
        geometry=ZoneGeometry.model_validate(zone.geometry),
        rules=ZoneRules.model_validate(zone.rules or {}),
        default_font=zone.default_font,
        default_color=zone.default_color,
        role=zone.role,  # type: ignore[arg-type]
    )


def product_def(product: Product, zones: list[ProductZone], asset_sha256: Mapping[str, str]) -> ProductDef:
    """A product row, its zones (any order) and `{asset_id: sha256}` of the assets it names.

    Raises `pydantic.ValidationError` when the rows do not make a valid definition.
    """
    mockup: MockupDef | None = None
    if product.mockup:
        m: dict[str, Any] = product.mockup
        maps = {
            f"{k}_sha256": asset_sha256[m[f"{k}_asset_id"]]
            for k in ("shading", "displacement")
            if m.get(f"{k}_asset_id")
        }
        extra = {
            k: m[k]
            for k in ("corners", "wrap", "displacement_px", "effect", "engrave_tone")
            if m.get(k) is not None
        }
        mockup = MockupDef(
            asset_sha256=asset_sha256[m["asset_id"]],
            width_px=m["width_px"],
            height_px=m["height_px"],
            offset_x_px=m.get("offset_x_px", 0.0),
            offset_y_px=m.get("offset_y_px", 0.0),
            px_per_mm=m.get("px_per_mm"),
            **maps,
            **extra,
        )
    model3d: Model3DDef | None = None
    if product.model3d:
        d: dict[str, Any] = product.model3d
        model3d = Model3DDef(
            kind=d["kind"],
            shape=d.get("shape"),
            asset_sha256=asset_sha256[d["asset_id"]] if d.get("asset_id") else None,
            print_material=d.get("print_material", "print"),
        )
    ordered = sorted(zones, key=lambda z: (z.sort_order or 0, z.id or ""))
    return ProductDef(
        id=product.id,
        sku=product.sku,
        name=product.name,
        width_mm=product.width_mm,
        height_mm=product.height_mm,
        shape=product.shape,  # type: ignore[arg-type]
        corner_radius_mm=product.corner_radius_mm,
        production_method=product.production_method,  # type: ignore[arg-type]
        background_color=product.background_color,
        bleed_mm=product.bleed_mm,
        crop_marks=product.crop_marks,
        color_mode=product.color_mode,  # type: ignore[arg-type]
        cmyk_profile=product.cmyk_profile or "coated",  # type: ignore[arg-type]
        output_dpi=product.output_dpi,
        min_image_dpi=product.min_image_dpi,
        min_stroke_mm=product.min_stroke_mm,
        palette=list(product.palette or []),
        zones=[zone_def(z) for z in ordered],
        mockup=mockup,
        model3d=model3d,
    )
