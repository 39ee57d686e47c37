"""Widget quote (issue 13 item 7): the server's price of the shopper's design, equal to the cart's,
formatted for the shopper's locale."""

from __future__ import annotations

from typing import Any

from tests.integration.commerce_helpers import priced_product
from tests.integration.demo import seed_catalog
from tests.integration.factories.catalog import png_bytes

SHOPPER = "quote-shopper-token-0123456789"


def pk(brand: Any, **extra: str) -> dict[str, str]:
    return brand.h("pk", **{"X-Shopper-Token": SHOPPER, **extra})


def _quote(client: Any, brand: Any, product_id: str, inputs: dict[str, Any], **body: Any) -> Any:
    return client.post(
        "/api/v1/widget/quote", json={"product_id": product_id, "inputs": inputs, **body}, headers=pk(brand)
    )


def _cart_line_total(client: Any, brand: Any, product_id: str, inputs: dict[str, Any], quantity: int) -> int:
    """Snapshot the inputs, add them to a fresh cart, and read the line total the cart charges."""
    client.delete("/api/v1/cart", headers=pk(brand))
    snap = client.post(
        "/api/v1/snapshots", json={"product_id": product_id, "inputs": inputs}, headers=pk(brand)
    )
    assert snap.status_code in (200, 201), snap.text
    added = client.post(
        "/api/v1/cart/add",
        json={"product_id": product_id, "quantity": quantity, "snapshot_id": snap.json()["id"]},
        headers=pk(brand),
    )
    assert added.status_code == 201, added.text
    (item,) = added.json()["items"]
    return int(item["total_cents"])


def _photo(client: Any, brand: Any) -> str:
    r = client.post(
        "/api/v1/widget/uploads",
        files={"file": ("me.png", png_bytes(2400, 2400, (40, 90, 160)), "image/png")},
        headers=pk(brand),
    )
    assert r.status_code == 201, r.text
    return str(r.json()["asset_id"])


def test_quote_equals_the_cart_line_on_demo_products(client, brand_a):
    cat = seed_catalog(brand_a)
    photo = _photo(client, brand_a)
    cases = [
        ("DEMO-PENDANT", {"arc_text": {"text": "Emma", "font": "fnt_serif"}, "initial": {"text": "E"}}, 3),
        ("DEMO-MUG", {"photo": {"kind": "image", "asset_id": photo}, "name": {"text": "Léa"}}, 2),
        ("DEMO-TSHIRT", {"slogan": {"text": "Hello"}}, 1),
        ("DEMO-TSHIRT", {"photo": {"kind": "image", "asset_id": photo}, "slogan": {"text": "Hi"}}, 4),
        ("DEMO-SIGN", {"title": {"text": "Chez nous"}}, 1),
    ]
    for sku, inputs, quantity in cases:
        r = _quote(client, brand_a, cat[sku], inputs, quantity=quantity)
        assert r.status_code == 200, (sku, r.text)
        q = r.json()
        assert q["valid"] is True and q["violations"] == [], (sku, q)
        assert q["unit_price"]["minor"] == q["base"]["minor"] + sum(
            ln["amount"]["minor"] for ln in q["lines"]
        )
        assert q["total"]["minor"] == q["unit_price"]["minor"] * quantity
        assert q["total"]["minor"] == _cart_line_total(client, brand_a, cat[sku], inputs, quantity), sku

    pendant = _quote(client, brand_a, cat["DEMO-PENDANT"], cases[0][1]).json()
    assert pendant["base"] == {"minor": 3900, "formatted": "€39.00"}
    assert [(ln["zone"], ln["kind"], ln["count"], ln["amount"]["minor"]) for ln in pendant["lines"]] == [
        ("arc_text", "per_char", 4, 80)
    ]
    mug = _quote(client, brand_a, cat["DEMO-MUG"], cases[1][1]).json()
    assert [(ln["zone"], ln["kind"], ln["amount"]["minor"]) for ln in mug["lines"]] == [
        ("photo", "photo", 300)
    ]


def test_jpy_product_has_no_minor_digits_and_matches_the_cart(client, brand_a):
    pid = priced_product(client, brand_a, sku="JPY-TAG", price=4500, currency="JPY")
    inputs = {"name": {"text": "さくら"}, "back": {"text": "2026"}}
    r = _quote(client, brand_a, pid, inputs, quantity=2, locale="ja-JP")
    assert r.status_code == 200, r.text
    q = r.json()
    # 4500 + (250 + 3 × 15) + 100 = 4895 yen a unit
    assert q["currency"] == "JPY" and q["locale"] == "ja-JP"
    assert q["unit_price"] == {"minor": 4895, "formatted": "￥4,895"}
    assert q["total"]["minor"] == 9790 and q["total"]["formatted"] == "￥9,790"
    assert [(ln["zone"], ln["kind"], ln["amount"]["minor"]) for ln in q["lines"]] == [
        ("name", "zone", 250),
        ("name", "per_char", 45),
        ("back", "zone", 100),
    ]
    assert q["total"]["minor"] == _cart_line_total(client, brand_a, pid, inputs, 2)
    en = _quote(client, brand_a, pid, inputs, locale="en").json()
    assert en["unit_price"]["formatted"] == "¥4,895"


def test_locale_from_body_then_accept_language_then_english(client, brand_a):
    cat = seed_catalog(brand_a)
    inputs = {"arc_text": {"text": "Jo"}, "initial": {"text": "J"}}
    fr = _quote(client, brand_a, cat["DEMO-PENDANT"], inputs, locale="fr-FR").json()
    assert fr["locale"] == "fr-FR" and fr["unit_price"]["formatted"].replace("\xa0", " ") == "39,40 €"
    header = client.post(
        "/api/v1/widget/quote",
        json={"product_id": cat["DEMO-PENDANT"], "inputs": inputs},
        headers=pk(brand_a, **{"Accept-Language": "xx-YY, de-DE;q=0.9, en;q=0.5"}),
    ).json()
    assert header["locale"] == "de-DE" and header["unit_price"]["formatted"].replace("\xa0", " ") == "39,40 €"
    plain = client.post(
        "/api/v1/widget/quote",
        json={"product_id": cat["DEMO-PENDANT"], "inputs": inputs},
        headers=pk(brand_a, **{"Accept-Language": "*"}),
    ).json()
    assert plain["locale"] == "en" and plain["unit_price"]["formatted"] == "€39.40"
    bad = _quote(client, brand_a, cat["DEMO-PENDANT"], inputs, locale="klingon")
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["code"] == "unknown_locale"


def test_invalid_design_is_quoted_for_its_valid_zones_with_violations(client, brand_a):
    pid = priced_product(client, brand_a, sku="HALF-VALID", price=1000)
    too_long = "x" * 31  # `back` allows 30 characters
    r = _quote(client, brand_a, pid, {"name": {"text": "Ann"}, "back": {"text": too_long}})
    assert r.status_code == 200, r.text
    q = r.json()
    assert q["valid"] is False
    assert {v["zone"] for v in q["violations"]} == {"back"}
    assert q["unit_price"]["minor"] == 1000 + 250 + 3 * 15  # the refused zone adds nothing
    # The cart refuses the same design: it never charges an unvalidated price.
    snap = client.post(
        "/api/v1/snapshots",
        json={"product_id": pid, "inputs": {"name": {"text": "Ann"}, "back": {"text": too_long}}},
        headers=pk(brand_a),
    )
    assert snap.status_code == 422


def test_unknown_or_foreign_product_is_404_and_bad_bodies_422(client, brand_a, brand_b):
    cat = seed_catalog(brand_a)
    inputs = {"arc_text": {"text": "Jo"}}
    assert _quote(client, brand_b, cat["DEMO-PENDANT"], inputs).status_code == 404
    assert _quote(client, brand_a, "prd_doesnotexist0000000000", inputs).status_code == 404
    client.patch(f"/api/v1/products/{cat['DEMO-MUG']}", json={"status": "draft"}, headers=brand_a.h())
    assert _quote(client, brand_a, cat["DEMO-MUG"], {}).status_code == 404
    for body in ({"quantity": 0}, {"quantity": 1001}, {"price_cents": 1}, {"quantity": "2"}):
        r = _quote(client, brand_a, cat["DEMO-PENDANT"], inputs, **body)
        assert r.status_code == 422, (body, r.text)
    # A brand's own servers may quote too (secret key), no shopper token needed.
    sk = client.post(
        "/api/v1/widget/quote",
        json={"product_id": cat["DEMO-PENDANT"], "inputs": inputs},
        headers=brand_a.h("sk"),
    )
    assert sk.status_code == 200 and sk.json()["valid"] is False  # the initial is required


def test_oversize_quote_body_is_413(client, brand_a):
    cat = seed_catalog(brand_a)
    huge = {f"z{i}": {"text": "x" * 2000} for i in range(40)}
    r = _quote(client, brand_a, cat["DEMO-PENDANT"], huge)
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"


def test_quote_is_rate_limited_like_other_widget_routes(settings, monkeypatch, brand_a):
    from fastapi.testclient import TestClient

    from luneo.app import create_app
    from luneo.platform import config

    n = 3
    cat = seed_catalog(brand_a)
    monkeypatch.setenv("LUNEO_RATE_LIMIT_KEY", f"{n}/minute")
    config.get_settings.cache_clear()
    with TestClient(create_app(config.get_settings(), start_workers=False)) as c:
        codes = [
            c.post(
                "/api/v1/widget/quote",
                json={"product_id": cat["DEMO-PENDANT"], "inputs": {}},
                headers=pk(brand_a),
            ).status_code
            for _ in range(n + 1)
        ]
    assert codes == [200] * n + [429]
