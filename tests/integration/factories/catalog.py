"""Isolation factories for catalog routes: products, zones, fonts, assets."""

from __future__ import annotations

import io

from PIL import Image

from tests.integration.factories import body, factory


def product_body(sku: str = "ISO-1") -> dict:
    return {
        "sku": sku,
        "name": "Isolation mug",
        "width_mm": 200,
        "height_mm": 90,
        "price_cents": 1500,
        "zones": [
            {
                "key": "name",
                "kind": "text",
                "geometry": {"x_mm": 10, "y_mm": 10, "width_mm": 100, "height_mm": 30},
            }
        ],
    }


def png_bytes(w: int = 8, h: int = 6, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), color).save(buf, "PNG")
    return buf.getvalue()


@factory("product_id")
def make_product(client, brand) -> str:
    r = client.post("/api/v1/products", json=product_body(f"ISO-{brand.slug}"), headers=brand.h())
    assert r.status_code == 201, r.text
    return r.json()["id"]


@factory("zone_id")
def make_zone(client, brand) -> str:
    r = client.post("/api/v1/products", json=product_body(f"ISO-Z-{brand.slug}"), headers=brand.h())
    assert r.status_code == 201, r.text
    return r.json()["zones"][0]["id"]


@factory("font_id")
def make_font(client, brand) -> str:
    from luneo.design.fonts import font_bytes

    r = client.post(
        "/api/v1/fonts", headers=brand.h(), files={"file": ("mono.ttf", font_bytes("fnt_mono"), "font/ttf")}
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


@factory("asset_id")
def make_asset(client, brand) -> str:
    r = client.post("/api/v1/assets", headers=brand.h(), files={"file": ("a.png", png_bytes(), "image/png")})
    assert r.status_code == 201, r.text
    return r.json()["id"]


@body("PATCH", "/api/v1/products/{product_id}")
def product_patch(client, brand, ids):
    return {"name": "Renamed", "price_cents": 999}


@body("POST", "/api/v1/products/{product_id}/zones")
def zone_create(client, brand, ids):
    return {
        "key": "extra",
        "kind": "text",
        "geometry": {"x_mm": 1, "y_mm": 1, "width_mm": 10, "height_mm": 10},
    }


@body("PATCH", "/api/v1/products/{product_id}/zones/{zone_id}")
def zone_patch(client, brand, ids):
    return {"label": "Renamed"}


TEMPLATE_BODY = {"name": "Isolation", "inputs": {"name": {"kind": "text", "text": "Iso"}}}


@factory("template_id")
def make_template(client, brand) -> str:
    r = client.post("/api/v1/products", json=product_body(f"ISO-T-{brand.slug}"), headers=brand.h())
    assert r.status_code == 201, r.text
    t = client.post(f"/api/v1/products/{r.json()['id']}/templates", json=TEMPLATE_BODY, headers=brand.h())
    assert t.status_code == 201, t.text
    return t.json()["id"]


@body("POST", "/api/v1/products/{product_id}/templates")
def template_create(client, brand, ids):
    return TEMPLATE_BODY


@body("PATCH", "/api/v1/products/{product_id}/templates/{template_id}")
def template_patch(client, brand, ids):
    return {"name": "Renamed"}
