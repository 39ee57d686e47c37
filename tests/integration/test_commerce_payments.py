"""Commerce × payments: checkout, exactly-once paid transition from signed webhooks, failures, refunds."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

from sqlalchemy import func, select

from luneo.commerce.models import Order
from luneo.notifications.models import EmailMessage
from luneo.payments.models import PaymentSession
from luneo.payments.providers.dev import checkout_session_object, payment_intent_object, stripe_event
from luneo.payments.signatures import sign_header
from luneo.platform.tenancy import bind_system, bind_tenant
from tests.integration.commerce_helpers import SHOPPER, priced_product, record, snapshot
from tests.integration.demo import seed_catalog

DEV_SECRET = "whsec_dev_local_only"
CUSTOMER = {"email": "ada@example.com", "name": "Ada"}


def signed(event) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event, separators=(",", ":")).encode()
    return body, {"Stripe-Signature": sign_header(DEV_SECRET, body), "Content-Type": "application/json"}


def order_row(db, brand_id: str, order_id: str) -> Order:
    with db.transaction(write=False) as s:
        bind_tenant(s, brand_id)
        return s.execute(select(Order).where(Order.id == order_id)).scalar_one()


def emails(db, brand_id: str) -> list[tuple[str, str]]:
    with db.transaction(write=False) as s:
        bind_tenant(s, brand_id)
        return sorted((m.template, m.to) for m in s.execute(select(EmailMessage)).scalars())


def dev_session(db, session_id: str) -> PaymentSession:
    with db.transaction(write=False) as s:
        bind_system(s)
        return s.execute(select(PaymentSession).where(PaymentSession.id == session_id)).scalar_one()


def _order_with_checkout(client, brand, coupon: bool = False) -> tuple[dict, dict]:
    pid = priced_product(client, brand)
    snap = snapshot(client, brand, pid, {"name": {"text": "Zoé"}})
    client.put(
        "/api/v1/shop/settings", headers=brand.h(), json={"shipping_flat_cents": 490, "tax_rate_bps": 2000}
    )
    o = client.post(
        "/api/v1/orders",
        headers=brand.h("sk"),
        json={
            "items": [
                {"product_id": pid, "quantity": 3, "snapshot_id": snap},
                {"product_id": pid, "quantity": 1},
            ],
            "customer": CUSTOMER,
        },
    ).json()
    r = client.post(
        f"/api/v1/orders/{o['id']}/checkout",
        headers=brand.h("sk"),
        json={"success_url": "https://alpha.example/thanks", "cancel_url": "https://alpha.example/cart"},
    )
    assert r.status_code == 201, r.text
    return o, r.json()


def test_checkout_with_the_dev_provider_returns_a_url(client, db, brand_a):
    o, co = _order_with_checkout(client, brand_a)
    assert (
        co["provider"] == "dev" and urlparse(co["checkout_url"]).path == f"/checkout/dev/{co['session_id']}"
    )
    assert (co["order_id"], co["amount_cents"], co["currency"]) == (o["id"], o["total_cents"], "EUR")
    row = dev_session(db, co["session_id"])
    # one line per order item (net of discount, tax included when exclusive) + shipping; sums to the total
    assert len(row.line_items) == 3 and row.line_items[-1]["name"] == "Shipping"
    assert sum(li["unit_amount"] * li["quantity"] for li in row.line_items) == o["total_cents"]
    assert row.metadata_["order_id"] == o["id"] and row.metadata_["brand_id"] == brand_a.id
    assert row.reference == o["id"]
    assert order_row(db, brand_a.id, o["id"]).payment_status == "pending"
    bad = client.post(
        f"/api/v1/orders/{o['id']}/checkout", headers=brand_a.h("sk"), json={"provider": "stripe"}
    )
    assert bad.status_code == 422 and bad.json()["code"] == "provider_unavailable"
    bad = client.post(f"/api/v1/orders/{o['id']}/checkout", headers=brand_a.h("sk"), json={"amount": 1})
    assert bad.status_code == 422


def test_same_signed_event_50_times_concurrently_pays_once(client, db, brand_a, monkeypatch):
    rec = record(monkeypatch, "order.paid")
    o, co = _order_with_checkout(client, brand_a)
    event = stripe_event(
        "checkout.session.completed", checkout_session_object(dev_session(db, co["session_id"]), "paid")
    )
    body, headers = signed(event)
    barrier = threading.Barrier(50)

    def deliver(_):
        barrier.wait()
        r = client.post("/api/v1/webhooks/stripe", content=body, headers=headers)
        return r.status_code, r.json().get("status")

    with ThreadPoolExecutor(50) as pool:
        results = list(pool.map(deliver, range(50)))
    assert all(code == 200 for code, _ in results), results
    assert sorted(s for _, s in results).count("processed") == 1
    paid = rec.of("order.paid")
    assert len(paid) == 1
    row = order_row(db, brand_a.id, o["id"])
    assert (row.status, row.payment_status, row.payment_id) == ("paid", "paid", co["payment_id"])
    assert row.payment_ref and row.payment_ref.startswith("pi_dev_")
    assert [h["status"] for h in row.history if "status" in h] == ["pending", "paid"]
    assert emails(db, brand_a.id) == [("order_confirmation", "ada@example.com")]
    assert paid[0] == {
        "order_id": o["id"],
        "brand_id": brand_a.id,
        "number": o["number"],
        "items": [
            {
                "order_item_id": i["id"],
                "product_id": i["product"]["id"],
                "snapshot_id": i["snapshot"]["id"] if i["snapshot"] else None,
                "quantity": i["quantity"],
            }
            for i in o["items"]
        ],
        "customer": {"email": "ada@example.com", "name": "Ada"},
    }
    # a later payment_intent.succeeded for the same payment changes nothing
    pi = payment_intent_object(dev_session(db, co["session_id"]), "succeeded")
    b2, h2 = signed(stripe_event("payment_intent.succeeded", pi))
    assert client.post("/api/v1/webhooks/stripe", content=b2, headers=h2).status_code == 200
    assert len(rec.of("order.paid")) == 1 and len(emails(db, brand_a.id)) == 1


def test_tampered_signature_writes_nothing(client, db, brand_a, monkeypatch):
    rec = record(monkeypatch, "order.paid")
    o, co = _order_with_checkout(client, brand_a)
    event = stripe_event(
        "checkout.session.completed", checkout_session_object(dev_session(db, co["session_id"]), "paid")
    )
    body, headers = signed(event)
    r = client.post("/api/v1/webhooks/stripe", content=body.replace(b'"paid"', b'"PAID"', 1), headers=headers)
    assert r.status_code == 400 and r.json()["code"] == "invalid_signature"
    assert order_row(db, brand_a.id, o["id"]).status == "pending" and rec.items == []


def test_dev_page_pay_then_refund(client, db, brand_a, monkeypatch):
    rec = record(monkeypatch, "order.paid", "order.refunded")
    o, co = _order_with_checkout(client, brand_a)
    r = client.post(f"{urlparse(co['checkout_url']).path}/pay", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "https://alpha.example/thanks"
    assert order_row(db, brand_a.id, o["id"]).status == "paid" and len(rec.of("order.paid")) == 1
    # partial refund: recorded, order stays paid
    r = client.post(f"/api/v1/payments/{co['payment_id']}/refund", headers=brand_a.h(), json={"amount": 100})
    assert r.status_code == 202, r.text
    row = order_row(db, brand_a.id, o["id"])
    assert (row.status, row.payment_status) == ("paid", "partially_refunded") and rec.of(
        "order.refunded"
    ) == []
    # the rest: refunded + order.refunded
    assert (
        client.post(f"/api/v1/payments/{co['payment_id']}/refund", headers=brand_a.h(), json={}).status_code
        == 202
    )
    row = order_row(db, brand_a.id, o["id"])
    assert (row.status, row.payment_status) == ("refunded", "refunded")
    assert rec.of("order.refunded") == [{"order_id": o["id"], "brand_id": brand_a.id}]


def test_operator_refund_refunds_the_payment_once(client, db, brand_a, monkeypatch):
    rec = record(monkeypatch, "order.refunded")
    o, co = _order_with_checkout(client, brand_a)
    client.post(f"{urlparse(co['checkout_url']).path}/pay", follow_redirects=False)
    r = client.post(f"/api/v1/orders/{o['id']}/transition", headers=brand_a.h(), json={"to": "refunded"})
    assert r.status_code == 200 and r.json()["status"] == "refunded"
    got = client.get(f"/api/v1/payments/{co['payment_id']}", headers=brand_a.h()).json()
    assert (got["status"], got["amount_refunded"]) == ("refunded", o["total_cents"])
    assert len(rec.of("order.refunded")) == 1


def test_payment_failure_leaves_the_order_pending(client, db, brand_a, monkeypatch):
    rec = record(monkeypatch, "order.paid")
    o, co = _order_with_checkout(client, brand_a)
    r = client.post(f"{urlparse(co['checkout_url']).path}/fail", follow_redirects=False)
    assert r.status_code == 303
    row = order_row(db, brand_a.id, o["id"])
    assert (row.status, row.payment_status) == ("pending", "failed") and rec.items == []
    # a new checkout can be opened
    assert (
        client.post(f"/api/v1/orders/{o['id']}/checkout", headers=brand_a.h("sk"), json={}).status_code == 201
    )


def test_amount_mismatch_does_not_pay(client, db, brand_a, monkeypatch):
    rec = record(monkeypatch, "order.paid")
    o, co = _order_with_checkout(client, brand_a)
    obj = checkout_session_object(dev_session(db, co["session_id"]), "paid")
    obj["amount_total"] = 1
    body, headers = signed(stripe_event("checkout.session.completed", obj))
    assert client.post("/api/v1/webhooks/stripe", content=body, headers=headers).status_code == 200
    row = order_row(db, brand_a.id, o["id"])
    assert (row.status, row.payment_status) == ("pending", "mismatch") and rec.items == []


def test_widget_cart_checkout_in_one_call(client, db, brand_a):
    pid = seed_catalog(brand_a)["DEMO-PENDANT"]
    h = brand_a.h("pk", **{"X-Shopper-Token": SHOPPER})
    snap = client.post(
        "/api/v1/snapshots", headers=h, json={"product_id": pid, "inputs": {"initial": {"text": "A"}}}
    )
    assert snap.status_code in (200, 201), snap.text
    for _ in range(2):
        assert (
            client.post(
                "/api/v1/cart/add",
                headers=h,
                json={"product_id": pid, "quantity": 1, "snapshot_id": snap.json()["id"]},
            ).status_code
            == 201
        )
    evil = client.post(
        "/api/v1/cart/checkout",
        headers=h,
        json={"customer": CUSTOMER, "success_url": "https://evil.example/x"},
    )
    assert evil.status_code == 422 and evil.json()["code"] == "redirect_not_allowed"
    assert client.get("/api/v1/cart/count", headers=h).json()["count"] == 2  # rolled back
    r = client.post(
        "/api/v1/cart/checkout",
        headers=h,
        json={"customer": CUSTOMER, "success_url": "https://alpha.example/ok"},
    )
    assert r.status_code == 201, r.text
    co = r.json()
    assert co["checkout_url"].endswith(f"/checkout/dev/{co['session_id']}") and co["amount_cents"] == 2 * 3900
    assert client.get("/api/v1/cart/count", headers=h).json()["count"] == 0
    assert client.get(f"/api/v1/orders/{co['order_id']}", headers=brand_a.h()).json()["source"] == "cart"
    with db.transaction(write=False) as s:
        bind_tenant(s, brand_a.id)
        assert s.execute(select(func.count()).select_from(Order)).scalar_one() == 1
