"""Issue 11, items 10 and 11: an order carries exactly what the shopper approved.

- a product with required zones is never added to a cart, ordered or checked out without a snapshot
  that fills those zones (422 `personalization_required`, naming the zones);
- a paid item without a producible snapshot becomes a visible `needs_attention` work order, with an
  email to the brand, never a silent skip; an operator can attach a snapshot to resume it;
- a cart line records the spec_hash the shopper saw, and the server refuses one that is not the
  snapshot's (409 `spec_mismatch`).
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from luneo.platform.tenancy import bind_tenant
from tests.integration.commerce_helpers import SHOPPER, priced_product, snapshot
from tests.integration.demo import seed_catalog
from tests.integration.factories.manufacturing import emails, set_production_email

CUSTOMER = {"email": "ada@example.com", "name": "Ada"}
PENDANT = {"arc_text": {"text": "Emma"}, "initial": {"text": "E"}}


def shopper(brand, token: str = SHOPPER) -> dict[str, str]:
    return brand.h("pk", **{"X-Shopper-Token": token})


def _zone_id(client, brand, product_id: str, key: str) -> str:
    r = client.get(f"/api/v1/products/{product_id}/zones", headers=brand.h())
    assert r.status_code == 200, r.text
    return next(z["id"] for z in r.json()["data"] if z["key"] == key)


def _require(client, brand, product_id: str, key: str) -> None:
    """The brand makes a zone required after carts, snapshots and orders were made."""
    zid = _zone_id(client, brand, product_id, key)
    zone = client.get(f"/api/v1/products/{product_id}/zones/{zid}", headers=brand.h()).json()
    r = client.patch(
        f"/api/v1/products/{product_id}/zones/{zid}",
        headers=brand.h(),
        json={"rules": {**zone["rules"], "required": True}},
    )
    assert r.status_code == 200, r.text


def _assert_required(r, *zones: str) -> None:
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "personalization_required", body
    assert r.headers["content-type"].startswith("application/problem+json")
    assert sorted(body["zones"]) == sorted(zones)
    for zone in zones:
        assert zone in body["detail"]


def _mark_paid(db, brand, order_id: str) -> None:
    """Pay the order as a payment webhook would (the service's mark_paid, not an HTTP route)."""
    from luneo.commerce import service

    with db.transaction() as s:
        bind_tenant(s, brand.id)
        assert service.mark_paid(s, service.get_order(s, order_id, lock=True), actor="test:webhook")


def _work_orders(client, brand, **params: Any) -> list[dict[str, Any]]:
    r = client.get("/api/v1/manufacturing/work-orders", headers=brand.h(), params=params)
    assert r.status_code == 200, r.text
    return r.json()["data"]


# --- item 10: required zones are never bought blank ----------------------------------------------


@pytest.mark.parametrize(("sku", "zones"), [("DEMO-MUG", ["photo"]), ("DEMO-PENDANT", ["initial"])])
def test_blank_demo_products_are_refused_at_cart_add_and_order(client, brand_a, sku, zones):
    pid = seed_catalog(brand_a)[sku]
    for headers in (shopper(brand_a), brand_a.h(), brand_a.h("sk")):
        r = client.post("/api/v1/cart/add", headers=headers, json={"product_id": pid, "quantity": 1})
        _assert_required(r, *zones)
        assert r.json()["product_id"] == pid
    assert client.get("/api/v1/cart", headers=shopper(brand_a)).json()["items"] == []
    r = client.post(
        "/api/v1/orders",
        headers=brand_a.h("sk"),
        json={"items": [{"product_id": pid, "quantity": 1}], "customer": CUSTOMER},
    )
    _assert_required(r, *zones)
    assert client.get("/api/v1/orders", headers=brand_a.h()).json()["data"] == []


def _shopper_snapshot(client, brand, product_id: str, inputs: dict[str, Any]) -> str:
    r = client.post(
        "/api/v1/snapshots", headers=shopper(brand), json={"product_id": product_id, "inputs": inputs}
    )
    assert r.status_code in (200, 201), r.text
    return str(r.json()["id"])


def test_personalized_demo_products_are_accepted(client, brand_a):
    cat = seed_catalog(brand_a)
    png = io.BytesIO()
    Image.new("RGB", (1200, 900), "#3366cc").save(png, "PNG")
    up = client.post(
        "/api/v1/widget/uploads",
        headers=shopper(brand_a),
        files={"file": ("me.png", png.getvalue(), "image/png")},
    )
    assert up.status_code == 201, up.text
    mug = _shopper_snapshot(client, brand_a, cat["DEMO-MUG"], {"photo": {"asset_id": up.json()["asset_id"]}})
    pendant = _shopper_snapshot(client, brand_a, cat["DEMO-PENDANT"], PENDANT)
    for pid, snap in ((cat["DEMO-MUG"], mug), (cat["DEMO-PENDANT"], pendant)):
        r = client.post(
            "/api/v1/cart/add",
            headers=shopper(brand_a),
            json={"product_id": pid, "quantity": 1, "snapshot_id": snap},
        )
        assert r.status_code == 201, r.text
    r = client.post("/api/v1/cart/checkout", headers=shopper(brand_a), json={"customer": CUSTOMER})
    assert r.status_code == 201, r.text


def test_a_zone_made_required_later_blocks_snapshot_cart_order_and_checkout(client, brand_a):
    pid = priced_product(client, brand_a)  # zones "name" and "back", both optional
    only_name = snapshot(client, brand_a, pid, {"name": {"text": "Ana"}})
    both = snapshot(client, brand_a, pid, {"name": {"text": "Ana"}, "back": {"text": "xo"}})
    # a line and a pending order made while "back" was optional
    assert (
        client.post(
            "/api/v1/cart/add",
            headers=brand_a.h(),
            json={"product_id": pid, "quantity": 1, "snapshot_id": only_name},
        ).status_code
        == 201
    )
    order = client.post(
        "/api/v1/orders",
        headers=brand_a.h("sk"),
        json={"items": [{"product_id": pid, "quantity": 1}], "customer": CUSTOMER},
    )
    assert order.status_code == 201, order.text
    _require(client, brand_a, pid, "back")

    for snap, missing in ((None, ["back"]), (only_name, ["back"])):
        item = {"product_id": pid, "quantity": 1, **({"snapshot_id": snap} if snap else {})}
        _assert_required(client.post("/api/v1/cart/add", headers=brand_a.h(), json=item), *missing)
        _assert_required(
            client.post(
                "/api/v1/orders", headers=brand_a.h("sk"), json={"items": [item], "customer": CUSTOMER}
            ),
            *missing,
        )
    # the old cart line cannot become an order nor be checked out; the cart is kept
    _assert_required(
        client.post("/api/v1/orders/from-cart", headers=brand_a.h(), json={"customer": CUSTOMER}), "back"
    )
    _assert_required(
        client.post("/api/v1/cart/checkout", headers=brand_a.h(), json={"customer": CUSTOMER}), "back"
    )
    assert client.get("/api/v1/cart/count", headers=brand_a.h()).json()["count"] == 1
    # the old pending order cannot be paid through checkout
    r = client.post(f"/api/v1/orders/{order.json()['id']}/checkout", headers=brand_a.h("sk"), json={})
    _assert_required(r, "back")
    assert (
        client.get(f"/api/v1/orders/{order.json()['id']}", headers=brand_a.h()).json()["payment_status"]
        == "unpaid"
    )
    # a snapshot filling both zones goes through
    r = client.post(
        "/api/v1/cart/add",
        headers=brand_a.h("sk"),
        json={"product_id": pid, "quantity": 1, "snapshot_id": both},
    )
    assert r.status_code == 201, r.text


def test_a_paid_item_without_producible_snapshot_is_a_visible_needs_attention_work_order(client, db, brand_a):
    pid = priced_product(client, brand_a)
    good = snapshot(client, brand_a, pid, {"name": {"text": "Ana"}, "back": {"text": "xo"}})
    only_name = snapshot(client, brand_a, pid, {"name": {"text": "Bo"}})
    r = client.post(
        "/api/v1/orders",
        headers=brand_a.h("sk"),
        json={
            "items": [
                {"product_id": pid, "quantity": 1},
                {"product_id": pid, "quantity": 2, "snapshot_id": only_name},
                {"product_id": pid, "quantity": 1, "snapshot_id": good},
            ],
            "customer": CUSTOMER,
        },
    )
    assert r.status_code == 201, r.text
    order = r.json()
    _require(client, brand_a, pid, "back")  # now neither of the first two items can be made
    _mark_paid(db, brand_a, order["id"])

    rows = {w["order_item_id"]: w for w in _work_orders(client, brand_a, order_id=order["id"])}
    blank, partial, fine = (rows[i["id"]] for i in order["items"])
    assert blank["status"] == "needs_attention" and blank["snapshot_id"] is None
    assert "no personalization" in blank["error"] and "back" in blank["error"]
    assert (blank["product_id"], blank["quantity"], blank["order_number"]) == (pid, 1, str(order["number"]))
    assert partial["status"] == "needs_attention" and partial["snapshot_id"] == only_name
    assert "back" in partial["error"]
    assert fine["status"] in ("exporting", "ready") and fine["snapshot_id"] == good
    # listing by status shows them
    listed = _work_orders(client, brand_a, status="needs_attention")
    assert {w["id"] for w in listed} == {blank["id"], partial["id"]}
    detail = client.get(f"/api/v1/manufacturing/work-orders/{blank['id']}", headers=brand_a.h()).json()
    assert [(h["from_status"], h["to_status"]) for h in detail["history"]] == [(None, "needs_attention")]
    # the brand is told (its owner, since it has no production email): one email per item
    mails = [m for m in emails() if m.brand_id == brand_a.id]
    assert sorted(m.context["work_order_id"] for m in mails) == sorted([blank["id"], partial["id"]])
    assert {m.to for m in mails} == {brand_a.owner_email}
    assert all(m.context["reason"] == "needs_attention" for m in mails)
    assert "needs attention" in mails[0].subject.lower()
    # paying twice does not duplicate anything
    from luneo.commerce import service
    from luneo.platform.events import publish

    with db.transaction() as s:
        bind_tenant(s, brand_a.id)
        publish(s, "order.paid", service.paid_payload(service.get_order(s, order["id"])))
    assert len(_work_orders(client, brand_a, order_id=order["id"])) == 3
    assert len([m for m in emails() if m.brand_id == brand_a.id]) == 2


def test_needs_attention_goes_to_the_production_email_and_resumes_with_a_snapshot(
    client, db, brand_a, brand_b
):
    set_production_email(brand_a, "atelier@example.com")
    pid = priced_product(client, brand_a)
    order = client.post(
        "/api/v1/orders",
        headers=brand_a.h("sk"),
        json={"items": [{"product_id": pid, "quantity": 3}], "customer": CUSTOMER},
    ).json()
    lacking = snapshot(client, brand_a, pid, {"back": {"text": "x"}})  # made while "name" was optional
    _require(client, brand_a, pid, "name")
    _mark_paid(db, brand_a, order["id"])
    [wo] = _work_orders(client, brand_a, order_id=order["id"])
    assert wo["status"] == "needs_attention"
    assert [m.to for m in emails() if m.brand_id == brand_a.id] == ["atelier@example.com"]

    url = f"/api/v1/manufacturing/work-orders/{wo['id']}/snapshot"
    # a snapshot that still misses the required zone, of another product, or of another brand: refused
    r = client.post(url, headers=brand_a.h(), json={"snapshot_id": lacking})
    _assert_required(r, "name")
    other_pid = priced_product(client, brand_a, sku="OTHER-1")
    other = snapshot(client, brand_a, other_pid, {"name": {"text": "Zed"}})
    r = client.post(url, headers=brand_a.h(), json={"snapshot_id": other})
    assert r.status_code == 422 and r.json()["code"] == "snapshot_product_mismatch"
    pid_b = priced_product(client, brand_b)
    foreign = snapshot(client, brand_b, pid_b, {"name": {"text": "Bob"}})
    assert client.post(url, headers=brand_a.h(), json={"snapshot_id": foreign}).status_code == 404
    assert client.post(url, headers=brand_b.h(), json={"snapshot_id": foreign}).status_code == 404
    # a good one resumes production
    good = snapshot(client, brand_a, pid, {"name": {"text": "Ana"}})
    r = client.post(url, headers=brand_a.h(), json={"snapshot_id": good})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["status"] in ("exporting", "ready") and out["snapshot_id"] == good and out["error"] is None
    assert len(out["spec_hash"]) == 64 and out["quantity"] == 3
    assert [h["to_status"] for h in out["history"]][:3] == ["needs_attention", "queued", "exporting"]
    # only a needs_attention work order takes a snapshot this way
    r = client.post(url, headers=brand_a.h(), json={"snapshot_id": good})
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"


def test_needs_attention_can_be_cancelled_and_api_from_order_flags_blank_items(client, brand_a):
    pid = seed_catalog(brand_a)["DEMO-PENDANT"]
    r = client.post(
        "/api/v1/manufacturing/work-orders/from-order",
        headers=brand_a.h(),
        json={
            "order_id": "ext-1",
            "number": "EXT-1",
            "items": [{"order_item_id": "ext-1-a", "product_id": pid, "quantity": 1}],
        },
    )
    assert r.status_code == 201, r.text
    [wo] = r.json()
    assert wo["status"] == "needs_attention" and "initial" in wo["error"]
    r = client.post(
        f"/api/v1/manufacturing/work-orders/{wo['id']}/transition", headers=brand_a.h(), json={"to": "ready"}
    )
    assert r.status_code == 409 and r.json()["allowed"] == ["cancelled"]
    r = client.post(
        f"/api/v1/manufacturing/work-orders/{wo['id']}/transition",
        headers=brand_a.h(),
        json={"to": "cancelled", "note": "customer will re-order"},
    )
    assert r.status_code == 200 and r.json()["status"] == "cancelled"


# --- item 11: the cart line records the spec the shopper saw --------------------------------------


def test_cart_line_records_and_checks_the_spec_hash(client, db, brand_a):
    pid = seed_catalog(brand_a)["DEMO-PENDANT"]
    emma = client.post(
        "/api/v1/snapshots", headers=shopper(brand_a), json={"product_id": pid, "inputs": PENDANT}
    ).json()
    zoe = client.post(
        "/api/v1/snapshots",
        headers=shopper(brand_a),
        json={"product_id": pid, "inputs": {**PENDANT, "arc_text": {"text": "Zoe"}}},
    ).json()
    # the hash on screen is Zoé's, the snapshot is Emma's: refused, nothing added
    r = client.post(
        "/api/v1/cart/add",
        headers=shopper(brand_a),
        json={"product_id": pid, "quantity": 1, "snapshot_id": emma["id"], "spec_hash": zoe["spec_hash"]},
    )
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["code"] == "spec_mismatch" and body["snapshot_spec_hash"] == emma["spec_hash"]
    assert body["spec_hash"] == zoe["spec_hash"]
    assert client.get("/api/v1/cart", headers=shopper(brand_a)).json()["items"] == []
    # a spec_hash needs the snapshot it names
    r = client.post(
        "/api/v1/cart/add",
        headers=shopper(brand_a),
        json={"product_id": pid, "quantity": 1, "spec_hash": emma["spec_hash"]},
    )
    assert r.status_code == 422 and r.json()["code"] in ("spec_mismatch", "personalization_required")
    r = client.post(
        "/api/v1/cart/add",
        headers=shopper(brand_a),
        json={"product_id": pid, "quantity": 1, "snapshot_id": emma["id"], "spec_hash": "nothex"},
    )
    assert r.status_code == 422
    # matching: the line records it, and so does the order item
    r = client.post(
        "/api/v1/cart/add",
        headers=shopper(brand_a),
        json={"product_id": pid, "quantity": 1, "snapshot_id": emma["id"], "spec_hash": emma["spec_hash"]},
    )
    assert r.status_code == 201, r.text
    [line] = r.json()["items"]
    assert line["spec_hash"] == emma["spec_hash"] and line["snapshot_id"] == emma["id"]
    from luneo.commerce.models import CartItem

    with db.transaction(write=False) as s:
        bind_tenant(s, brand_a.id)
        assert s.execute(select(CartItem.spec_hash)).scalar_one() == emma["spec_hash"]
    r = client.post(
        "/api/v1/orders/from-cart",
        headers=brand_a.h("sk", **{"X-Shopper-Token": SHOPPER}),
        json={"customer": CUSTOMER},
    )
    assert r.status_code == 201, r.text
    assert r.json()["items"][0]["snapshot"]["spec_hash"] == emma["spec_hash"]
