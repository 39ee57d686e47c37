"""Payments: dev hosted checkout, webhook verification, exactly-once application, intents, refunds."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlparse

import pytest
from sqlalchemy import func, select

from luneo.payments import service
from luneo.payments.models import InboundEvent, Payment, PaymentSession
from luneo.payments.providers.base import CheckoutRequest, LineItem
from luneo.payments.providers.dev import checkout_session_object, stripe_event
from luneo.payments.signatures import sign_header
from luneo.platform import events
from luneo.platform.tenancy import bind_system, bind_tenant

DEV_SECRET = "whsec_dev_local_only"
EVENT_NAMES = ("payment.checkout_completed", "payment.succeeded", "payment.failed", "payment.refunded")


class Published:
    """Records published payment events (thread-safe)."""

    def __init__(self) -> None:
        self.items: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()
        self.fail_next = 0

    def names(self) -> list[str]:
        return [n for n, _ in self.items]

    def of(self, name: str) -> list[dict[str, Any]]:
        return [p for n, p in self.items if n == name]


def record_published(monkeypatch) -> Published:
    """Subscribe a recorder to the four payment events for one test."""
    rec = Published()

    def make(name: str):
        def handler(session, payload):
            with rec.lock:
                if rec.fail_next:
                    rec.fail_next -= 1
                    raise RuntimeError("handler exploded")
                # the handler runs bound to the payment's brand
                payload = {**payload, "_bound_brand": session.info.get("brand_id")}
                rec.items.append((name, payload))

        return handler

    for name in EVENT_NAMES:
        # only the recorder: other domains' subscribers (orders, credits) are tested in their domains
        monkeypatch.setitem(events._handlers, name, [make(name)])
    return rec


@pytest.fixture
def published(monkeypatch) -> Published:
    return record_published(monkeypatch)


def checkout_request(
    brand_id: str, reference: str = "ord_1", kind: str = "order", **md: str
) -> CheckoutRequest:
    return CheckoutRequest(
        brand_id=brand_id,
        reference=reference,
        kind=kind,
        currency="EUR",
        customer_email="shopper@example.com",
        success_url="https://alpha.example/thanks?cs={CHECKOUT_SESSION_ID}",
        cancel_url="https://alpha.example/cart",
        metadata=dict(md),
        line_items=[
            LineItem(name="Engraved <b>pen</b>", unit_amount=2500, quantity=2),
            LineItem(name="Gift wrap", unit_amount=300, quantity=1),
        ],
    )


def start(db, brand_id: str, **kw) -> tuple[Any, str]:
    with db.transaction() as s:
        bind_tenant(s, brand_id)
        cs = service.start_checkout(s, brand_id, checkout_request(brand_id, **kw))
    return cs, cs.raw["payment_id"]


def payment(db, payment_id: str) -> Payment:
    with db.transaction(write=False) as s:
        bind_system(s)
        return s.execute(select(Payment).where(Payment.id == payment_id)).scalar_one()


def inbound(db) -> list[InboundEvent]:
    with db.transaction(write=False) as s:
        bind_system(s)
        return list(s.execute(select(InboundEvent).order_by(InboundEvent.created_at)).scalars())


def dev_session(db, session_id: str) -> PaymentSession:
    with db.transaction(write=False) as s:
        bind_system(s)
        return s.execute(select(PaymentSession).where(PaymentSession.id == session_id)).scalar_one()


def signed(
    event: dict[str, Any], secret: str = DEV_SECRET, t: int | None = None
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event, separators=(",", ":")).encode()
    return body, {"Stripe-Signature": sign_header(secret, body, t), "Content-Type": "application/json"}


# --- dev hosted checkout -----------------------------------------------------------------


def test_dev_checkout_page_pay_goes_through_the_webhook_path(client, db, brand_a, published):
    cs, payment_id = start(db, brand_a.id, reference="ord_pay")
    assert cs.provider == "dev" and cs.amount_total == 5300 and cs.currency == "EUR"
    path = urlparse(cs.url).path
    assert path == f"/checkout/dev/{cs.id}"
    pending = payment(db, payment_id)
    assert (pending.status, pending.provider, pending.checkout_id, pending.amount) == (
        "pending",
        "dev",
        cs.id,
        5300,
    )

    page = client.get(path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Engraved &lt;b&gt;pen&lt;/b&gt;" in page.text and "<b>pen</b>" not in page.text
    assert "53.00 EUR" in page.text and f'action="/checkout/dev/{cs.id}/pay"' in page.text

    r = client.post(f"{path}/pay", follow_redirects=False)
    assert r.status_code == 303, r.text
    assert r.headers["location"] == f"https://alpha.example/thanks?cs={cs.id}"

    assert published.names() == ["payment.checkout_completed", "payment.succeeded"]
    done = published.of("payment.checkout_completed")[0]
    assert {
        k: done[k]
        for k in (
            "provider",
            "reference",
            "kind",
            "brand_id",
            "amount",
            "currency",
            "raw_type",
            "payment_id",
            "payment_status",
        )
    } == {
        "provider": "dev",
        "reference": "ord_pay",
        "kind": "order",
        "brand_id": brand_a.id,
        "amount": 5300,
        "currency": "EUR",
        "raw_type": "checkout.session.completed",
        "payment_id": payment_id,
        "payment_status": "paid",
    }
    assert done["metadata"]["order_id"] == "ord_pay" and done["payment_ref"].startswith("pi_dev_")
    assert done["_bound_brand"] == brand_a.id
    ok = payment(db, payment_id)
    assert (ok.status, ok.payment_ref, ok.paid_at is not None) == ("succeeded", done["payment_ref"], True)
    [row] = inbound(db)
    assert (row.provider, row.type, row.status, row.brand_id, row.attempts) == (
        "dev",
        "checkout.session.completed",
        "processed",
        brand_a.id,
        1,
    )
    assert dev_session(db, cs.id).status == "complete"

    # the page is closed now; paying again does nothing
    assert client.get(path).status_code == 409
    assert client.post(f"{path}/pay", follow_redirects=False).status_code == 409
    assert len(published.items) == 2 and len(inbound(db)) == 1


def test_dev_checkout_fail(client, db, brand_a, published):
    cs, payment_id = start(db, brand_a.id, reference="ord_fail")
    r = client.post(f"/checkout/dev/{cs.id}/fail", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "https://alpha.example/cart"
    assert published.names() == ["payment.failed"]
    assert published.of("payment.failed")[0]["reference"] == "ord_fail"
    assert payment(db, payment_id).status == "failed"
    assert dev_session(db, cs.id).status == "failed"


def test_unknown_dev_session_is_404(client, settings):
    assert client.get("/checkout/dev/cs_dev_nope").status_code == 404
    assert client.post("/checkout/dev/cs_dev_nope/pay").status_code == 404


# --- signature checks -------------------------------------------------------------------


def _completed_event(db, brand_id: str, reference: str = "ord_sig") -> tuple[dict[str, Any], str]:
    cs, payment_id = start(db, brand_id, reference=reference)
    return stripe_event(
        "checkout.session.completed", checkout_session_object(dev_session(db, cs.id), "paid")
    ), payment_id


@pytest.mark.parametrize("mutation", ["tampered", "wrong_secret", "stale", "missing", "garbage", "no_v1"])
def test_bad_signatures_are_400_and_write_nothing(client, db, brand_a, published, mutation):
    event, payment_id = _completed_event(db, brand_a.id)
    body, headers = signed(event, t=int(time.time()) - 301 if mutation == "stale" else None)
    if mutation == "tampered":
        body = body.replace(b'"amount_total":5300', b'"amount_total":1')
    elif mutation == "wrong_secret":
        body, headers = signed(event, secret="whsec_attacker")
    elif mutation == "missing":
        headers.pop("Stripe-Signature")
    elif mutation == "garbage":
        headers["Stripe-Signature"] = "garbage"
    elif mutation == "no_v1":
        headers["Stripe-Signature"] = headers["Stripe-Signature"].replace("v1=", "v0=")
    r = client.post("/api/v1/webhooks/stripe", content=body, headers=headers)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "invalid_signature"
    assert inbound(db) == [] and published.items == []
    assert payment(db, payment_id).status == "pending"


def test_multiple_v1_signatures_one_valid_is_accepted(client, db, brand_a, published):
    event, _ = _completed_event(db, brand_a.id)
    body, headers = signed(event)
    t, v1 = headers["Stripe-Signature"].split(",")
    headers["Stripe-Signature"] = f"{t},v1={'f' * 64},{v1},v0=deadbeef"
    r = client.post("/api/v1/webhooks/stripe", content=body, headers=headers)
    assert r.status_code == 200 and r.json()["status"] == "processed"


# --- exactly once --------------------------------------------------------------------------


def test_same_event_50_times_concurrently_is_applied_once(client, db, brand_a, published):
    event, payment_id = _completed_event(db, brand_a.id, reference="ord_race")
    body, headers = signed(event)
    barrier = threading.Barrier(50)

    def deliver(_: int) -> tuple[int, str]:
        barrier.wait()
        r = client.post("/api/v1/webhooks/stripe", content=body, headers=headers)
        return r.status_code, r.json().get("status", r.text)

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(deliver, range(50)))
    assert all(code == 200 for code, _ in results), results
    statuses = sorted(s for _, s in results)
    assert statuses.count("processed") == 1 and statuses.count("duplicate") == 49
    rows = inbound(db)
    assert len(rows) == 1 and rows[0].status == "processed" and rows[0].attempts == 1
    assert published.names() == ["payment.checkout_completed", "payment.succeeded"]
    assert payment(db, payment_id).status == "succeeded"


def test_duplicate_answers_200(client, db, brand_a, published):
    event, _ = _completed_event(db, brand_a.id)
    body, headers = signed(event)
    first = client.post("/api/v1/webhooks/stripe", content=body, headers=headers)
    again = client.post("/api/v1/webhooks/stripe", content=body, headers=headers)
    assert (first.status_code, first.json()["status"]) == (200, "processed")
    assert (again.status_code, again.json()) == (
        200,
        {"received": True, "status": "duplicate", "event_id": event["id"]},
    )
    assert len(published.of("payment.succeeded")) == 1


def test_a_failing_handler_rolls_back_and_a_redelivery_retries(client, db, brand_a, published):
    event, payment_id = _completed_event(db, brand_a.id)
    body, headers = signed(event)
    published.fail_next = 1
    r = client.post("/api/v1/webhooks/stripe", content=body, headers=headers)
    assert r.status_code == 500 and r.json()["code"] == "webhook_processing_failed"
    [row] = inbound(db)
    assert (row.status, row.attempts) == ("failed", 1) and "handler exploded" in row.error
    assert payment(db, payment_id).status == "pending"  # nothing half-applied
    assert published.items == []
    r = client.post("/api/v1/webhooks/stripe", content=body, headers=headers)
    assert (r.status_code, r.json()["status"]) == (200, "processed")
    [row] = inbound(db)
    assert (row.status, row.attempts, row.error) == ("processed", 2, None)
    assert payment(db, payment_id).status == "succeeded"


def test_succeeded_is_published_once_per_payment_across_event_types(client, db, brand_a, published):
    event, payment_id = _completed_event(db, brand_a.id)
    body, headers = signed(event)
    assert client.post("/api/v1/webhooks/stripe", content=body, headers=headers).status_code == 200
    pi = {
        "id": event["data"]["object"]["payment_intent"],
        "object": "payment_intent",
        "amount": 5300,
        "amount_received": 5300,
        "currency": "eur",
        "status": "succeeded",
        "metadata": event["data"]["object"]["metadata"],
    }
    body, headers = signed(stripe_event("payment_intent.succeeded", pi))
    r = client.post("/api/v1/webhooks/stripe", content=body, headers=headers)
    assert r.json()["status"] == "processed"
    assert published.names() == ["payment.checkout_completed", "payment.succeeded"]
    assert payment(db, payment_id).last_event_id == json.loads(body)["id"]


def test_unhandled_types_are_stored_as_ignored(client, db, brand_a, published):
    body, headers = signed(
        stripe_event("customer.created", {"id": "cus_1", "object": "customer", "metadata": {}})
    )
    r = client.post("/api/v1/webhooks/stripe", content=body, headers=headers)
    assert (r.status_code, r.json()["status"]) == (200, "ignored")
    assert [e.status for e in inbound(db)] == ["ignored"] and published.items == []


def test_event_for_an_unknown_payment_runs_system_bound(client, db, settings, published):
    pi = {
        "id": "pi_elsewhere",
        "object": "payment_intent",
        "amount": 100,
        "amount_received": 100,
        "currency": "usd",
        "status": "succeeded",
        "metadata": {"brand_id": "brd_does_not_exist"},
    }
    body, headers = signed(stripe_event("payment_intent.succeeded", pi))
    assert (
        client.post("/api/v1/webhooks/stripe", content=body, headers=headers).json()["status"] == "processed"
    )
    [p] = published.of("payment.succeeded")
    assert (p["brand_id"], p["_bound_brand"], p["payment_id"], p["amount"]) == (None, None, None, 100)


# --- routes: payment intents, payments, refunds ---------------------------------------------


def test_payment_intent_route_and_get_payment(client, db, brand_a, brand_b):
    r = client.post(
        "/api/v1/billing/payment-intents",
        headers=brand_a.h("sk"),
        json={"amount": 1999, "currency": "eur", "metadata": {"cart": "c1"}, "reference": "ord_pi"},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["provider"] == "dev" and body["client_secret"].startswith(body["id"] + "_secret_")
    assert (body["amount"], body["currency"], body["status"]) == (1999, "EUR", "requires_payment_method")
    got = client.get(f"/api/v1/payments/{body['payment_id']}", headers=brand_a.h())
    assert got.status_code == 200
    assert {k: got.json()[k] for k in ("reference", "kind", "amount", "status", "payment_ref")} == {
        "reference": "ord_pi",
        "kind": "order",
        "amount": 1999,
        "status": "pending",
        "payment_ref": body["id"],
    }
    assert client.get(f"/api/v1/payments/{body['payment_id']}", headers=brand_b.h()).status_code == 404


@pytest.mark.parametrize(
    "payload",
    [
        {"amount": 0, "currency": "EUR"},
        {"amount": 10, "currency": "E1R"},
        {"amount": 10, "currency": "EUR", "extra": 1},
        {"amount": 1.5, "currency": "EUR"},
    ],
)
def test_payment_intent_rejects_bad_bodies(client, brand_a, payload):
    r = client.post("/api/v1/billing/payment-intents", headers=brand_a.h(), json=payload)
    assert r.status_code == 422 and r.json()["code"] == "validation_error"


def test_payment_intent_needs_payments_write(client, brand_a):
    r = client.post(
        "/api/v1/billing/payment-intents", headers=brand_a.h("pk"), json={"amount": 10, "currency": "EUR"}
    )
    assert r.status_code == 403
    assert (
        client.post("/api/v1/billing/payment-intents", json={"amount": 10, "currency": "EUR"}).status_code
        == 401
    )


def test_dev_refund_flows_back_through_the_webhook(client, db, brand_a, published):
    cs, payment_id = start(db, brand_a.id, reference="ord_refund")
    assert client.post(f"/checkout/dev/{cs.id}/pay", follow_redirects=False).status_code == 303
    early = client.post(f"/api/v1/payments/{payment_id}/refund", headers=brand_a.h(), json={"amount": 999999})
    assert early.status_code == 422 and early.json()["code"] == "invalid_refund_amount"
    r = client.post(f"/api/v1/payments/{payment_id}/refund", headers=brand_a.h(), json={"amount": 1000})
    assert r.status_code == 202, r.text
    assert (r.json()["status"], r.json()["amount"]) == ("succeeded", 1000)
    p = payment(db, payment_id)
    assert (p.status, p.amount_refunded) == ("partially_refunded", 1000)
    r = client.post(f"/api/v1/payments/{payment_id}/refund", headers=brand_a.h("sk"), json={})
    assert r.status_code == 202 and r.json()["amount"] == 4300
    p = payment(db, payment_id)
    assert (p.status, p.amount_refunded) == ("refunded", 5300)
    refunds = published.of("payment.refunded")
    assert [(x["amount"], x["amount_refunded"], x["payment_status"]) for x in refunds] == [
        (1000, 1000, "partially_refunded"),
        (4300, 5300, "refunded"),
    ]
    assert all(x["_bound_brand"] == brand_a.id and x["reference"] == "ord_refund" for x in refunds)
    again = client.post(f"/api/v1/payments/{payment_id}/refund", headers=brand_a.h(), json={})
    assert again.status_code == 409 and again.json()["code"] == "payment_not_refundable"


def test_start_checkout_refuses_another_brands_request(db, brand_a, brand_b):
    from luneo.platform.domain_errors import DomainError

    with db.transaction() as s:
        bind_tenant(s, brand_a.id)
        with pytest.raises(DomainError) as err:
            service.start_checkout(s, brand_a.id, checkout_request(brand_b.id))
    assert err.value.code == "brand_mismatch"


def test_credits_checkout_metadata(db, brand_a, client, published):
    cs, _ = start(db, brand_a.id, reference="cpur_1", kind="credits", pack_id="pack_100")
    client.post(f"/checkout/dev/{cs.id}/pay", follow_redirects=False)
    [p] = published.of("payment.succeeded")
    assert (p["kind"], p["reference"], p["metadata"]["pack_id"], p["metadata"]["kind"]) == (
        "credits",
        "cpur_1",
        "pack_100",
        "credits",
    )
    assert "order_id" not in p["metadata"]


def test_migration_matches_the_models(db):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from luneo.models import metadata

    with db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    mine = [
        d
        for d in diffs
        if any(t in repr(d) for t in ("'payments'", "'payment_sessions'", "'inbound_events'"))
    ]
    assert mine == []
    with db.engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(InboundEvent.__table__)).scalar()
    assert n == 0
