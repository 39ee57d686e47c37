"""Widget use cases: a product's public configuration, shopper photo uploads."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from luneo.catalog import service as catalog
from luneo.catalog.models import Asset, BrandFont
from luneo.design.fonts import BUNDLED_FONTS
from luneo.platform.errors import NotFound
from luneo.widget.schemas import WidgetConfig, WidgetFont, WidgetProduct, WidgetZone


def widget_config(session: Session, product_id: str) -> WidgetConfig:
    """The product, its zones and rules and the fonts they allow; only active products."""
    product = catalog.get_product(session, product_id)
    if product.status != "active":
        raise NotFound("product", product_id)
    zones = [
        WidgetZone(
            key=z.key,
            label=z.label or z.key,
            kind=z.kind,
            role=z.role,
            geometry=z.geometry,
            rules=z.rules or {},
            default_font=z.default_font,
            default_color=z.default_color,
        )
        for z in product.zones
    ]
    wanted = {f for z in zones for f in (z.rules.get("allowed_fonts") or [])} | {
        z.default_font for z in zones if z.default_font
    }
    fonts = [
        WidgetFont(id=f.id, family=f.family, style=f.style)
        for f in BUNDLED_FONTS.values()
        if f.id in wanted or not wanted
    ]
    brand_ids = [w for w in wanted if w not in BUNDLED_FONTS]
    if brand_ids:
        for bf in session.execute(select(BrandFont).where(BrandFont.id.in_(brand_ids))).scalars():
            fonts.append(WidgetFont(id=bf.id, family=bf.family, style=bf.style))
    body = WidgetProduct(
        id=product.id,
        sku=product.sku,
        name=product.name,
        description=product.description or "",
        price_cents=product.price_cents,
        currency=product.currency,
        width_mm=product.width_mm,
        height_mm=product.height_mm,
        production_method=product.production_method,
        palette=list(product.palette or []),
        has_3d=product.model3d is not None,
    )
    draft = WidgetConfig(product=body, zones=zones, fonts=sorted(fonts, key=lambda f: f.id), version="")
    digest = hashlib.sha256(json.dumps(draft.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()
    return draft.model_copy(update={"version": digest[:32]})


def upload_photo(session: Session, data: bytes, filename: str | None, actor: str, shopper: str) -> Asset:
    """A shopper's photo, through the catalog's upload checks (images only, shopper pixel cap),
    bound to the shopper's token: only they (and the brand) can read it by id."""
    return catalog.create_shopper_upload(session, data, shopper=shopper, filename=filename, created_by=actor)
