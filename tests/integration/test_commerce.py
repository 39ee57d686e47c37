"""Commerce: server-side cart pricing, bad input, coupons, shipping, tax, order numbers, status machine."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select

from luneo.commerce.models import Coupon, Order
from luneo.platform.clock import utcnow
from luneo.platform.tenancy import bind_tenant
from tests.integration.commerce_helpers import SHOPPER, priced_product, record, snapshot
from tests.integration.demo import seed_catalog

CUSTOMER = {"email": "Ada@Example.com", "name": "Ada"}
INITIAL_ONLY = {"initial": {"text": "A"}}  # the pendant's required zone, nothing priced


def shopper(brand, token: str = SHOPPER) -> dict[str, str]:
    return brand.h("pk", **{"X-Shopper-Token": token})


def order_body(product_id: str, quantity: int = 1, **extra):
    return {"items": [{"product_id": product_id, "quantity": quantity, **extra}], "customer": CUSTOMER}


# --- cart: server-side pricing ------------------------------------------------------------------


def test_cart_prices_snapshot_add_ons_per_grapheme(client, brand_a):
    pid = priced_product(client, brand_a)
    # "Zoé" typed with a combining accent: 4 code points, 3 graphemes; back zone left empty
    snap = snapshot(client, brand_a, pid, {"name": {"text": "Zoe\u0301 Li"}}, shopper(brand_a))
    r = client.post(
        "/api/v1/cart/add",
        headers=shopper(brand_a),
        json={"product_id": pid, "quantity": 2, "snapshot_id": snap},
    )
    assert r.status_code == 201, r.text
    cart = r.json()
    [item] = cart["items"]
    assert item["unit_price_cents"] == 1000 + 250 + 6 * 15  # "Zoé Li" = 6 graphemes, back zone empty: no fee
    assert (item["total_cents"], cart["subtotal_cents"], cart["currency"], cart["item_count"]) == (
        2 * 1340,
        2680,
        "EUR",
        2,
    )
    # both zones filled: both flat fees
    snap2 = snapshot(client, brand_a, pid, {"name": {"text": "Al"}, "back": {"text": "x"}}, shopper(brand_a))
    r = client.post(
        "/api/v1/cart/add",
        headers=shopper(brand_a),
        json={"product_id": pid, "quantity": 1, "snapshot_id": snap2},
    )
    assert [i["unit_price_cents"] for i in r.json()["items"]] == [1340, 1000 + 250 + 30 + 100]
    # the same line again merges
    r = client.post(
        "/api/v1/cart/add",
        headers=shopper(brand_a),
        json={"product_id": pid, "quantity": 3, "snapshot_id": snap},
    )
    assert [i["quantity"] for i in r.json()["items"]] == [5, 1]
    count = client.get("/api/v1/cart/count", headers=shopper(brand_a)).json()
    assert count == {"count": 6, "lines": 2}
    # another shopper token has another (empty) cart
    other = client.get("/api/v1/cart", headers=shopper(brand_a, "another-shopper-token-xyz")).json()
    assert other["items"] == [] and other["subtotal_cents"] == 0


@pytest.mark.parametrize("field", ["price_cents", "unit_price_cents", "price", "total_cents"])
def test_client_price_fields_are_rejected(client, brand_a, field):
    pid = seed_catalog(brand_a)["DEMO-PENDANT"]
    r = client.post(
        "/api/v1/cart/add", headers=brand_a.h(), json={"product_id": pid, "quantity": 1, field: 1}
    )
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    r = client.post(
        "/api/v1/orders",
        headers=brand_a.h("sk"),
        json={"items": [{"product_id": pid, "quantity": 1, field: 1}], "customer": CUSTOMER},
    )
    assert r.status_code == 422
    r = client.post("/api/v1/orders", headers=brand_a.h("sk"), json={**order_body(pid), field: 1})
    assert r.status_code == 422
    assert client.get("/api/v1/cart", headers=brand_a.h()).json()["items"] == []


@pytest.mark.parametrize("quantity", [0, -1, 1001, 10**9, 1.5, "2"])
def test_quantity_bounds(client, brand_a, quantity):
    pid = seed_catalog(brand_a)["DEMO-PENDANT"]
    r = client.post("/api/v1/cart/add", headers=brand_a.h(), json={"product_id": pid, "quantity": quantity})
    assert r.status_code == 422, r.text
    r = client.post("/api/v1/orders", headers=brand_a.h("sk"), json=order_body(pid, quantity))
    assert r.status_code == 422


def test_merging_past_1000_and_put_bounds(client, brand_a):
    pid = priced_product(client, brand_a)  # no required zone: sold without a snapshot
    r = client.post("/api/v1/cart/add", headers=brand_a.h(), json={"product_id": pid, "quantity": 600})
    item_id = r.json()["items"][0]["id"]
    r = client.post("/api/v1/cart/add", headers=brand_a.h(), json={"product_id": pid, "quantity": 401})
    assert r.status_code == 422 and r.json()["code"] == "quantity_out_of_range"
    assert client.put(f"/api/v1/cart/{item_id}", headers=brand_a.h(), json={"quantity": 0}).status_code == 422
    r = client.put(f"/api/v1/cart/{item_id}", headers=brand_a.h(), json={"quantity": 1000})
    assert r.status_code == 200 and r.json()["items"][0]["quantity"] == 1000


def test_currency_mixing_is_422(client, brand_a):
    eur = priced_product(client, brand_a, "EUR-1", currency="EUR")
    usd = priced_product(client, brand_a, "USD-1", currency="USD")
    assert (
        client.post(
            "/api/v1/cart/add", headers=brand_a.h(), json={"product_id": eur, "quantity": 1}
        ).status_code
        == 201
    )
    r = client.post("/api/v1/cart/add", headers=brand_a.h(), json={"product_id": usd, "quantity": 1})
    assert r.status_code == 422 and r.json()["code"] == "currency_mismatch"
    r = client.post(
        "/api/v1/orders",
        headers=brand_a.h("sk"),
        json={
            "items": [{"product_id": eur, "quantity": 1}, {"product_id": usd, "quantity": 1}],
            "customer": CUSTOMER,
        },
    )
    assert r.status_code == 422 and r.json()["code"] == "currency_mismatch"


def test_other_brands_product_or_snapshot_is_404(client, brand_a, brand_b):
    pid_b = seed_catalog(brand_b)["DEMO-PENDANT"]
    snap_b = snapshot(client, brand_b, pid_b, {"arc_text": {"text": "Bo"}, "initial": {"text": "B"}})
    pid_a = seed_catalog(brand_a)["DEMO-PENDANT"]
    for body in (
        {"product_id": pid_b, "quantity": 1},
        {"product_id": pid_a, "quantity": 1, "snapshot_id": snap_b},
        {"product_id": "prd_nope", "quantity": 1},
    ):
        r = client.post("/api/v1/cart/add", headers=shopper(brand_a), json=body)
        assert r.status_code == 404 and r.json()["code"] == "not_found", r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        r = client.post(
            "/api/v1/orders", headers=brand_a.h("sk"), json={"items": [body], "customer": CUSTOMER}
        )
        assert r.status_code == 404
    # a snapshot of another product of the same brand
    mug = seed_catalog(brand_a)["DEMO-SIGN"]
    snap_a = snapshot(
        client, brand_a, pid_a, {"arc_text": {"text": "Al"}, "initial": {"text": "A"}}, shopper(brand_a)
    )
    r = client.post(
        "/api/v1/cart/add",
        headers=shopper(brand_a),
        json={"product_id": mug, "quantity": 1, "snapshot_id": snap_a},
    )
    assert r.status_code == 422 and r.json()["code"] == "snapshot_product_mismatch"


def test_shopper_token_rules_and_item_ownership(client, brand_a):
    pid = priced_product(client, brand_a)  # no required zone: sold without a snapshot
    r = client.post("/api/v1/cart/add", headers=brand_a.h("pk"), json={"product_id": pid, "quantity": 1})
    assert r.status_code == 422 and r.json()["code"] == "shopper_token_required"
    r = client.post(
        "/api/v1/cart/add", headers=shopper(brand_a, "short"), json={"product_id": pid, "quantity": 1}
    )
    assert r.status_code == 422
    r = client.post("/api/v1/cart/add", headers=shopper(brand_a), json={"product_id": pid, "quantity": 1})
    item_id = r.json()["items"][0]["id"]
    # another shopper (or the operator's own cart) cannot touch this item
    thief = shopper(brand_a, "thief-shopper-token-000")
    assert client.put(f"/api/v1/cart/{item_id}", headers=thief, json={"quantity": 5}).status_code == 404
    assert client.delete(f"/api/v1/cart/{item_id}", headers=brand_a.h()).status_code == 404
    assert client.delete(f"/api/v1/cart/{item_id}", headers=shopper(brand_a)).status_code == 204
    assert client.get("/api/v1/cart/count", headers=shopper(brand_a)).json()["count"] == 0
    client.post("/api/v1/cart/add", headers=shopper(brand_a), json={"product_id": pid, "quantity": 4})
    assert client.delete("/api/v1/cart", headers=shopper(brand_a)).status_code == 204
    assert client.get("/api/v1/cart", headers=shopper(brand_a)).json()["items"] == []
    # a publishable key cannot create orders directly
    r = client.post("/api/v1/orders", headers=shopper(brand_a), json=order_body(pid))
    assert r.status_code == 403


# --- orders: coupons, shipping, tax ----------------------------------------------------------------


def _coupon(client, brand, **body):
    r = client.post("/api/v1/coupons", headers=brand.h(), json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_coupons_percent_fixed_expired_used_up(client, db, brand_a):
    pid = priced_product(client, brand_a, price=1004)  # no snapshot: 1004 per unit
    _coupon(client, brand_a, code="tenoff", kind="percent", percent_off_bps=1250)
    r = client.post(
        "/api/v1/orders", headers=brand_a.h("sk"), json={**order_body(pid), "coupon_code": "TenOff"}
    )
    assert r.status_code == 201, r.text
    o = r.json()
    assert (o["subtotal_cents"], o["discount_cents"], o["total_cents"], o["coupon_code"]) == (
        1004,
        126,
        878,
        "TENOFF",
    )

    _coupon(client, brand_a, code="FIVE", kind="fixed", amount_off_cents=500, currency="EUR", usage_limit=1)
    r = client.post(
        "/api/v1/orders", headers=brand_a.h("sk"), json={**order_body(pid, 2), "coupon_code": "five"}
    )
    assert (r.json()["discount_cents"], r.json()["total_cents"]) == (500, 2008 - 500)
    r = client.post(
        "/api/v1/orders", headers=brand_a.h("sk"), json={**order_body(pid), "coupon_code": "FIVE"}
    )
    assert r.status_code == 422 and r.json()["code"] == "coupon_used_up" and r.json()["reason"] == "used_up"

    past = (utcnow() - timedelta(days=1)).isoformat()
    _coupon(
        client,
        brand_a,
        code="OLD",
        kind="percent",
        percent_off_bps=5000,
        valid_from=(utcnow() - timedelta(days=30)).isoformat(),
        valid_until=past,
    )
    r = client.post("/api/v1/orders", headers=brand_a.h("sk"), json={**order_body(pid), "coupon_code": "OLD"})
    assert r.status_code == 422
    assert (r.json()["code"], r.json()["reason"]) == (
        "coupon_expired",
        "expired",
    ) and "expired on" in r.json()["detail"]
    _coupon(
        client,
        brand_a,
        code="SOON",
        kind="percent",
        percent_off_bps=5000,
        valid_from=(utcnow() + timedelta(days=1)).isoformat(),
    )
    r = client.post(
        "/api/v1/orders", headers=brand_a.h("sk"), json={**order_body(pid), "coupon_code": "SOON"}
    )
    assert r.json()["code"] == "coupon_not_yet_valid"
    _coupon(client, brand_a, code="DOLLAR", kind="fixed", amount_off_cents=100, currency="USD")
    r = client.post(
        "/api/v1/orders", headers=brand_a.h("sk"), json={**order_body(pid), "coupon_code": "DOLLAR"}
    )
    assert r.json()["code"] == "coupon_currency_mismatch"
    r = client.post(
        "/api/v1/orders", headers=brand_a.h("sk"), json={**order_body(pid), "coupon_code": "NOPE"}
    )
    assert r.status_code == 422 and r.json()["code"] == "coupon_invalid"
    with db.transaction(write=False) as s:
        bind_tenant(s, brand_a.id)
        used = {c.code: c.times_used for c in s.execute(select(Coupon)).scalars()}
    assert used == {"TENOFF": 1, "FIVE": 1, "OLD": 0, "SOON": 0, "DOLLAR": 0}


def test_coupon_usage_limit_holds_under_concurrency(client, db, brand_a):
    pid = priced_product(client, brand_a)
    _coupon(client, brand_a, code="RACE", kind="percent", percent_off_bps=1000, usage_limit=3)
    barrier = threading.Barrier(10)

    def go(_):
        barrier.wait()
        return client.post(
            "/api/v1/orders", headers=brand_a.h("sk"), json={**order_body(pid), "coupon_code": "RACE"}
        ).status_code

    with ThreadPoolExecutor(10) as pool:
        codes = list(pool.map(go, range(10)))
    assert codes.count(201) == 3 and codes.count(422) == 7, codes


def test_shipping_threshold_and_tax_settings(client, brand_a):
    pid = priced_product(client, brand_a, price=1000)
    r = client.put(
        "/api/v1/shop/settings",
        headers=brand_a.h(),
        json={
            "shipping_flat_cents": 490,
            "free_shipping_threshold_cents": 3000,
            "tax_rate_bps": 2000,
            "tax_inclusive": False,
        },
    )
    assert (
        r.status_code == 200
        and client.get("/api/v1/shop/settings", headers=brand_a.h()).json()["tax_rate_bps"] == 2000
    )
    o = client.post("/api/v1/orders", headers=brand_a.h("sk"), json=order_body(pid, 2)).json()
    # 2000 + 490 shipping; 20 % exclusive of 2490 = 498
    assert (o["subtotal_cents"], o["shipping_cents"], o["tax_cents"], o["total_cents"]) == (
        2000,
        490,
        498,
        2988,
    )
    assert sum(i["tax_cents"] for i in o["items"]) == 400
    o = client.post("/api/v1/orders", headers=brand_a.h("sk"), json=order_body(pid, 3)).json()
    assert (o["shipping_cents"], o["tax_cents"], o["total_cents"]) == (0, 600, 3600)
    # inclusive: 3 × 1000 incl. 5.5 % → 3000 × 550 / 10550 = 156.39… → 156, not added
    client.put(
        "/api/v1/shop/settings",
        headers=brand_a.h(),
        json={
            "shipping_flat_cents": 490,
            "free_shipping_threshold_cents": 3000,
            "tax_rate_bps": 550,
            "tax_inclusive": True,
        },
    )
    o = client.post("/api/v1/orders", headers=brand_a.h("sk"), json=order_body(pid, 3)).json()
    assert (o["tax_cents"], o["tax_inclusive"], o["total_cents"]) == (156, True, 3000)
    # 1 × 1000 + 490 shipping incl. 5.5 % → 1490 × 550 / 10550 = 77.67… → 78
    o = client.post("/api/v1/orders", headers=brand_a.h("sk"), json=order_body(pid, 1)).json()
    assert (o["tax_cents"], o["total_cents"]) == (78, 1490)
    bad = client.put("/api/v1/shop/settings", headers=brand_a.h(), json={"tax_rate_bps": 10001})
    assert bad.status_code == 422


# --- orders: numbers, reads, lists, transitions ------------------------------------------------------


def test_order_numbers_unique_under_20_concurrent_creations(client, db, brand_a, brand_b):
    pid = priced_product(client, brand_a)
    barrier = threading.Barrier(20)

    def go(_):
        barrier.wait()
        r = client.post("/api/v1/orders", headers=brand_a.h("sk"), json=order_body(pid))
        assert r.status_code == 201, r.text
        return r.json()["number"]

    with ThreadPoolExecutor(20) as pool:
        numbers = list(pool.map(go, range(20)))
    assert sorted(numbers) == list(range(1001, 1021))
    # numbers are per brand
    pid_b = priced_product(client, brand_b)
    assert (
        client.post("/api/v1/orders", headers=brand_b.h("sk"), json=order_body(pid_b)).json()["number"]
        == 1001
    )


def test_get_and_list_orders(client, brand_a, brand_b):
    pid = seed_catalog(brand_a)["DEMO-PENDANT"]
    snap = snapshot(client, brand_a, pid, {"arc_text": {"text": "Ada"}, "initial": {"text": "A"}})
    r = client.post(
        "/api/v1/orders",
        headers=brand_a.h("sk"),
        json={
            "items": [{"product_id": pid, "quantity": 2, "snapshot_id": snap, "metadata": {"gift": "yes"}}],
            "customer": CUSTOMER,
            "shipping_address": {
                "line1": "1 rue X",
                "city": "Paris",
                "postal_code": "75001",
                "country": "fr",
            },
        },
    )
    assert r.status_code == 201, r.text
    o = r.json()
    got = client.get(f"/api/v1/orders/{o['id']}", headers=brand_a.h()).json()
    [item] = got["items"]
    assert item["product"] == {"id": pid, "sku": "DEMO-PENDANT", "name": "Engraved round pendant"}
    assert item["snapshot"]["id"] == snap and len(item["snapshot"]["spec_hash"]) == 64
    assert (item["quantity"], item["price_cents"], item["total_cents"], item["metadata"]) == (
        2,
        3900 + 3 * 20,
        2 * 3960,
        {"gift": "yes"},
    )
    assert (
        got["customer"] == {"email": "ada@example.com", "name": "Ada"}
        and got["shipping_address"]["country"] == "FR"
    )
    other = client.post(
        "/api/v1/orders",
        headers=brand_a.h("sk"),
        json={**order_body(pid, snapshot_id=snap), "customer": {"email": "bob@example.com", "name": "Bob"}},
    ).json()
    client.post(f"/api/v1/orders/{other['id']}/transition", headers=brand_a.h(), json={"to": "cancelled"})
    lst = client.get("/api/v1/orders", headers=brand_a.h(), params={"limit": 1}).json()
    assert [x["id"] for x in lst["data"]] == [other["id"]] and lst["next_cursor"]
    nxt = client.get(
        "/api/v1/orders", headers=brand_a.h(), params={"limit": 1, "cursor": lst["next_cursor"]}
    ).json()
    assert [x["id"] for x in nxt["data"]] == [o["id"]]
    by_status = client.get("/api/v1/orders", headers=brand_a.h(), params={"status": "cancelled"}).json()[
        "data"
    ]
    assert [x["id"] for x in by_status] == [other["id"]]
    by_email = client.get(
        "/api/v1/orders", headers=brand_a.h(), params={"customer_email": "ADA@example.com"}
    ).json()
    assert [x["id"] for x in by_email["data"]] == [o["id"]]
    future = (utcnow() + timedelta(hours=1)).isoformat()
    assert (
        client.get("/api/v1/orders", headers=brand_a.h(), params={"created_from": future}).json()["data"]
        == []
    )
    assert client.get("/api/v1/orders", headers=brand_b.h()).json()["data"] == []
    assert client.get(f"/api/v1/orders/{o['id']}", headers=brand_b.h()).status_code == 404
    assert client.get("/api/v1/orders", headers=brand_a.h(), params={"status": "bogus"}).status_code == 422


def test_order_from_cart_empties_the_cart(client, db, brand_a):
    pid = priced_product(client, brand_a)
    snap = snapshot(client, brand_a, pid, {"name": {"text": "Ana"}})
    client.post(
        "/api/v1/cart/add", headers=brand_a.h(), json={"product_id": pid, "quantity": 2, "snapshot_id": snap}
    )
    client.post("/api/v1/cart/add", headers=brand_a.h(), json={"product_id": pid, "quantity": 1})
    r = client.post("/api/v1/orders/from-cart", headers=brand_a.h(), json={"customer": CUSTOMER})
    assert r.status_code == 201, r.text
    o = r.json()
    assert [(i["quantity"], i["price_cents"]) for i in o["items"]] == [(2, 1000 + 250 + 45), (1, 1000)]
    assert (o["source"], o["subtotal_cents"], o["status"]) == ("cart", 2 * 1295 + 1000, "pending")
    assert client.get("/api/v1/cart/count", headers=brand_a.h()).json() == {"count": 0, "lines": 0}
    r = client.post("/api/v1/orders/from-cart", headers=brand_a.h(), json={"customer": CUSTOMER})
    assert r.status_code == 422 and r.json()["code"] == "cart_empty"


PATH = ["paid", "in_production", "shipped", "delivered", "refunded"]


def test_status_machine_over_http(client, db, brand_a, monkeypatch):
    rec = record(monkeypatch, "order.paid", "order.refunded")
    pid = seed_catalog(brand_a)["DEMO-PENDANT"]
    snap = snapshot(client, brand_a, pid, INITIAL_ONLY)
    o = client.post("/api/v1/orders", headers=brand_a.h("sk"), json=order_body(pid, snapshot_id=snap)).json()
    url = f"/api/v1/orders/{o['id']}/transition"
    r = client.post(url, headers=brand_a.h(), json={"to": "shipped"})
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"
    assert r.json()["allowed"] == ["cancelled", "paid"]
    for to in PATH:
        body = {"to": to, "tracking_number": "TRK1", "carrier": "La Poste"} if to == "shipped" else {"to": to}
        if to == "paid":  # a manual "paid" is an offline payment of the order total (issue 11 #4)
            body.update(amount=o["total_cents"], currency=o["currency"], note="bank transfer")
        r = client.post(url, headers=brand_a.h(), json=body)
        assert r.status_code == 200 and r.json()["status"] == to, r.text
        assert client.post(url, headers=brand_a.h(), json={"to": "pending"}).status_code == 409
    assert len(rec.of("order.paid")) == 1 and rec.of("order.refunded") == [
        {"order_id": o["id"], "brand_id": brand_a.id}
    ]
    from luneo.notifications.models import EmailMessage

    with db.transaction(write=False) as s:
        bind_tenant(s, brand_a.id)
        mails = sorted((m.template, m.to) for m in s.execute(select(EmailMessage)).scalars())
    assert mails == [("order_confirmation", "ada@example.com"), ("order_shipped", "ada@example.com")]
    # cancelled is terminal; pending → cancelled releases nothing else
    o2 = client.post("/api/v1/orders", headers=brand_a.h("sk"), json=order_body(pid, snapshot_id=snap)).json()
    u2 = f"/api/v1/orders/{o2['id']}/transition"
    assert client.post(u2, headers=brand_a.h(), json={"to": "cancelled"}).json()["status"] == "cancelled"
    for to in ("paid", "refunded", "pending"):
        assert client.post(u2, headers=brand_a.h(), json={"to": to}).status_code == 409
    assert client.post(u2, headers=brand_a.h(), json={"to": "lost"}).status_code == 422
    # viewers cannot transition
    assert client.post(u2, headers=brand_a.h("pk"), json={"to": "paid"}).status_code == 403


def test_cancel_gives_the_coupon_use_back(client, db, brand_a):
    pid = priced_product(client, brand_a)
    _coupon(client, brand_a, code="ONCE", kind="percent", percent_off_bps=1000, usage_limit=1)
    o = client.post(
        "/api/v1/orders", headers=brand_a.h("sk"), json={**order_body(pid), "coupon_code": "ONCE"}
    ).json()
    client.post(f"/api/v1/orders/{o['id']}/transition", headers=brand_a.h(), json={"to": "cancelled"})
    r = client.post(
        "/api/v1/orders", headers=brand_a.h("sk"), json={**order_body(pid), "coupon_code": "ONCE"}
    )
    assert r.status_code == 201


def test_order_rows_are_written(db, client, brand_a):
    pid = seed_catalog(brand_a)["DEMO-PENDANT"]
    snap = snapshot(client, brand_a, pid, INITIAL_ONLY)  # the initial costs nothing extra
    o = client.post(
        "/api/v1/orders", headers=brand_a.h("sk"), json=order_body(pid, 3, snapshot_id=snap)
    ).json()
    with db.transaction(write=False) as s:
        bind_tenant(s, brand_a.id)
        row = s.execute(select(Order).where(Order.id == o["id"])).scalar_one()
        assert (row.number, row.total_cents, len(row.items), row.items[0].quantity) == (
            o["number"],
            3 * 3900,
            1,
            3,
        )
