"""Isolation factories for commerce routes: cart items, orders, coupons."""

from __future__ import annotations

from tests.integration.demo import seed_catalog
from tests.integration.factories import body, factory


def _product(brand) -> str:
    return seed_catalog(brand)["DEMO-PENDANT"]


def _line(client, brand) -> dict:
    """A pendant with its required initial (a product with required zones is never sold blank)."""
    pid = _product(brand)
    r = client.post(
        "/api/v1/snapshots", json={"product_id": pid, "inputs": {"initial": {"text": "I"}}}, headers=brand.h()
    )
    assert r.status_code in (200, 201), r.text
    return {"product_id": pid, "snapshot_id": r.json()["id"]}


@factory("item_id")
def make_cart_item(client, brand) -> str:
    r = client.post("/api/v1/cart/add", json={**_line(client, brand), "quantity": 2}, headers=brand.h())
    assert r.status_code == 201, r.text
    return r.json()["items"][0]["id"]


@factory("order_id")
def make_order(client, brand) -> str:
    r = client.post(
        "/api/v1/orders",
        headers=brand.h("sk"),
        json={
            "items": [{**_line(client, brand), "quantity": 1}],
            "customer": {"email": "iso@example.com", "name": "Iso"},
        },
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


@factory("coupon_id")
def make_coupon(client, brand) -> str:
    r = client.post(
        "/api/v1/coupons",
        headers=brand.h(),
        json={"code": f"ISO{brand.slug.upper()}", "kind": "percent", "percent_off_bps": 1000},
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


@body("PUT", "/api/v1/cart/{item_id}")
def cart_quantity(client, brand, ids):
    return {"quantity": 3}


@body("POST", "/api/v1/orders/{order_id}/transition")
def order_transition(client, brand, ids):
    return {"to": "cancelled"}


@body("POST", "/api/v1/orders/{order_id}/checkout")
def order_checkout(client, brand, ids):
    return {}
