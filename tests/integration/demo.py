"""Helpers: the demo catalog in a test brand."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select


def pk(brand: Any, token: str) -> dict[str, str]:
    """Widget headers: the publishable key and one shopper's token (widget objects are bound to it)."""
    return brand.h("pk", **{"X-Shopper-Token": token})


def seed_catalog(brand: Any) -> dict[str, str]:
    """Seed the demo catalog into `brand`; returns {sku: product_id}."""
    from luneo.catalog.models import Product
    from luneo.catalog.seed import seed_demo
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_tenant
    from luneo.tenancy.models import Brand

    with get_db().transaction() as s:
        bind_tenant(s, brand.id)
        seed_demo(s, s.get(Brand, brand.id))
        return {sku: pid for sku, pid in s.execute(select(Product.sku, Product.id))}


def upload_png(
    client: Any, brand: Any, size: tuple[int, int] = (1200, 900), color: str = "#3366cc"
) -> dict[str, Any]:
    import io

    from PIL import Image, ImageDraw

    img = Image.new("RGB", size, color)
    d = ImageDraw.Draw(img)
    d.ellipse([size[0] // 4, size[1] // 4, size[0] * 3 // 4, size[1] * 3 // 4], fill="#ffcc00")
    buf = io.BytesIO()
    img.save(buf, "PNG")
    r = client.post(
        "/api/v1/assets", files={"file": ("photo.png", buf.getvalue(), "image/png")}, headers=brand.h()
    )
    assert r.status_code in (200, 201), r.text
    return r.json()
