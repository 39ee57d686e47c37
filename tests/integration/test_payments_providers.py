"""Payments with Stripe / PayPal configured, each against a local server speaking its API."""

from __future__ import annotations

import copy
import json

import pytest

from luneo.payments.providers.dev import stripe_event
from luneo.platform import config
from tests.integration.test_payments import Published, inbound, payment, record_published, signed, start
from tests.unit.payments.fakes import (
    FIXTURES,
    PAYPAL_ID,
    PAYPAL_SECRET,
    paypal_headers,
    paypal_server,
    stripe_server,
)

STRIPE_WHSEC = "whsec_live_like_secret"


@pytest.fixture
def published(monkeypatch) -> Published:
    return record_published(monkeypatch)


@pytest.fixture
def stripe_on(settings, monkeypatch):
    with stripe_server() as server:
        monkeypatch.setenv("LUNEO_STRIPE_SECRET_KEY", "sk_test_local")
        monkeypatch.setenv("LUNEO_STRIPE_WEBHOOK_SECRET", STRIPE_WHSEC)
        monkeypatch.setenv("LUNEO_STRIPE_API_BASE", server.url)
        config.get_settings.cache_clear()
        yield server
        config.get_settings.cache_clear()


@pytest.fixture
def paypal_on(settings, monkeypatch):
    with paypal_server() as (server, state):
        monkeypatch.setenv("LUNEO_PAYPAL_CLIENT_ID", PAYPAL_ID)
        monkeypatch.setenv("LUNEO_PAYPAL_CLIENT_SECRET", PAYPAL_SECRET)
        monkeypatch.setenv("LUNEO_PAYPAL_WEBHOOK_ID", "WH-TEST-1")
        monkeypatch.setenv("LUNEO_PAYPAL_API_BASE", server.url)
        config.get_settings.cache_clear()
        yield server, state
        config.get_settings.cache_clear()


def test_stripe_checkout_and_webhook(client, db, brand_a, stripe_on, published):
    cs, payment_id = start(db, brand_a.id, reference="ord_s1")
    assert cs.provider == "stripe" and cs.url.startswith("https://checkout.stripe.com/")
    [rec] = stripe_on.requests
    assert rec.headers["idempotency-key"] == f"checkout-{payment_id}"
    assert rec.form["metadata[payment_id]"] == payment_id and rec.form["metadata[order_id]"] == "ord_s1"
    p = payment(db, payment_id)
    assert (p.provider, p.checkout_id, p.status) == ("stripe", cs.id, "pending")

    # Stripe delivers checkout.session.completed (fixture object completed with our data).
    obj = copy.deepcopy(FIXTURES["checkout.session"])
    obj.update(
        id=cs.id,
        client_reference_id="ord_s1",
        metadata=cs.raw["metadata"],
        amount_total=5300,
        currency="eur",
        payment_status="paid",
        status="complete",
        payment_intent="pi_3Live",
    )
    event = {
        **copy.deepcopy(FIXTURES["event"]),
        "id": "evt_live_1",
        "type": "checkout.session.completed",
        "data": {"object": obj},
    }
    body, headers = signed(event, secret=STRIPE_WHSEC)
    r = client.post("/api/v1/webhooks/stripe", content=body, headers=headers)
    assert (r.status_code, r.json()["status"]) == (200, "processed")
    assert published.names() == ["payment.checkout_completed", "payment.succeeded"]
    p = payment(db, payment_id)
    assert (p.status, p.payment_ref) == ("succeeded", "pi_3Live")
    assert inbound(db)[0].provider == "stripe"

    # charge.refunded (Stripe's charge fixture) → payment.refunded
    charge = {
        **copy.deepcopy(FIXTURES["charge"]),
        "payment_intent": "pi_3Live",
        "amount": 5300,
        "amount_refunded": 5300,
        "refunded": True,
        "currency": "eur",
    }
    body, headers = signed(
        {**event, "id": "evt_live_2", "type": "charge.refunded", "data": {"object": charge}},
        secret=STRIPE_WHSEC,
    )
    assert (
        client.post("/api/v1/webhooks/stripe", content=body, headers=headers).json()["status"] == "processed"
    )
    [refund] = published.of("payment.refunded")
    assert (refund["amount"], refund["brand_id"], refund["reference"]) == (5300, brand_a.id, "ord_s1")
    assert payment(db, payment_id).status == "refunded"


def test_with_stripe_configured_dev_signed_events_are_rejected(client, db, brand_a, stripe_on, published):
    obj = {"id": "cs_x", "object": "checkout.session", "metadata": {}, "payment_status": "paid"}
    body, headers = signed(stripe_event("checkout.session.completed", obj))  # dev secret
    r = client.post("/api/v1/webhooks/stripe", content=body, headers=headers)
    assert r.status_code == 400 and r.json()["code"] == "invalid_signature"
    assert inbound(db) == []


def test_stripe_payment_intent_and_refund_routes(client, db, brand_a, stripe_on, published):
    r = client.post(
        "/api/v1/billing/payment-intents",
        headers=brand_a.h("sk"),
        json={"amount": 2599, "currency": "EUR", "reference": "ord_pi"},
    )
    assert r.status_code == 201, r.text
    out = r.json()
    rec = stripe_on.requests[-1]
    assert rec.path == "/v1/payment_intents" and rec.form["metadata[payment_id]"] == out["payment_id"]
    assert rec.headers["idempotency-key"] == f"intent-{out['payment_id']}"
    assert out["client_secret"] == f"{out['id']}_secret_abc"
    pi = {
        **copy.deepcopy(FIXTURES["payment_intent"]),
        "id": out["id"],
        "amount": 2599,
        "amount_received": 2599,
        "status": "succeeded",
        "metadata": {"payment_id": out["payment_id"], "brand_id": brand_a.id},
    }
    body, headers = signed(stripe_event("payment_intent.succeeded", pi), secret=STRIPE_WHSEC)
    assert (
        client.post("/api/v1/webhooks/stripe", content=body, headers=headers).json()["status"] == "processed"
    )
    [ok] = published.of("payment.succeeded")
    assert (ok["payment_id"], ok["amount"], ok["reference"]) == (out["payment_id"], 2599, "ord_pi")
    r = client.post(f"/api/v1/payments/{out['payment_id']}/refund", headers=brand_a.h(), json={"amount": 599})
    assert r.status_code == 202, r.text
    rec = stripe_on.requests[-1]
    assert (rec.path, rec.form) == ("/v1/refunds", {"payment_intent": out["id"], "amount": "599"})


def test_stripe_api_failure_is_a_502_problem(client, brand_a, stripe_on, monkeypatch):
    monkeypatch.setenv("LUNEO_STRIPE_SECRET_KEY", "sk_test_wrong")
    config.get_settings.cache_clear()
    r = client.post(
        "/api/v1/billing/payment-intents", headers=brand_a.h(), json={"amount": 100, "currency": "EUR"}
    )
    assert r.status_code == 502 and r.json()["code"] == "payment_provider_error"


def _paypal_event(event_id: str, event_type: str, resource: dict) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "event_version": "1.0",
            "create_time": "2026-01-01T10:00:00Z",
            "resource_type": "checkout-order",
            "event_type": event_type,
            "summary": "test",
            "resource": resource,
        }
    ).encode()


def test_paypal_checkout_approve_capture_refund(client, db, brand_a, paypal_on, published):
    server, _ = paypal_on
    cs, payment_id = start(db, brand_a.id, reference="ord_p1")
    assert cs.provider == "paypal" and "checkoutnow?token=" in cs.url
    assert payment(db, payment_id).checkout_id == cs.id

    approved = _paypal_event(
        "WH-1",
        "CHECKOUT.ORDER.APPROVED",
        {
            "id": cs.id,
            "intent": "CAPTURE",
            "status": "APPROVED",
            "purchase_units": [
                {
                    "reference_id": "ord_p1",
                    "custom_id": "ord_p1",
                    "amount": {"currency_code": "EUR", "value": "53.00"},
                }
            ],
        },
    )
    r = client.post("/api/v1/webhooks/paypal", content=approved, headers=paypal_headers())
    assert (r.status_code, r.json()["status"]) == (200, "processed"), r.text
    assert f"POST /v2/checkout/orders/{cs.id}/capture" in server.paths()
    assert published.names() == ["payment.checkout_completed", "payment.succeeded"]
    ok = published.of("payment.succeeded")[0]
    assert (ok["provider"], ok["amount"], ok["currency"], ok["brand_id"]) == (
        "paypal",
        5300,
        "EUR",
        brand_a.id,
    )
    p = payment(db, payment_id)
    assert p.status == "succeeded" and p.payment_ref == ok["payment_ref"]

    # PayPal then sends PAYMENT.CAPTURE.COMPLETED: no second success.
    completed = _paypal_event(
        "WH-2",
        "PAYMENT.CAPTURE.COMPLETED",
        {
            "id": p.payment_ref,
            "status": "COMPLETED",
            "amount": {"currency_code": "EUR", "value": "53.00"},
            "custom_id": "ord_p1",
            "supplementary_data": {"related_ids": {"order_id": cs.id}},
        },
    )
    assert (
        client.post("/api/v1/webhooks/paypal", content=completed, headers=paypal_headers()).status_code == 200
    )
    assert published.names().count("payment.succeeded") == 1

    # refund through our route; PayPal's PAYMENT.CAPTURE.REFUNDED applies it
    r = client.post(f"/api/v1/payments/{payment_id}/refund", headers=brand_a.h(), json={"amount": 300})
    assert r.status_code == 202, r.text
    assert server.requests[-1].json == {"amount": {"currency_code": "EUR", "value": "3.00"}}
    refunded = _paypal_event(
        "WH-3",
        "PAYMENT.CAPTURE.REFUNDED",
        {
            "id": "1JU08902781691411",
            "status": "COMPLETED",
            "amount": {"currency_code": "EUR", "value": "3.00"},
            "links": [
                {
                    "href": f"https://api-m.sandbox.paypal.com/v2/payments/captures/{p.payment_ref}",
                    "rel": "up",
                    "method": "GET",
                }
            ],
        },
    )
    assert (
        client.post("/api/v1/webhooks/paypal", content=refunded, headers=paypal_headers()).status_code == 200
    )
    [ref] = published.of("payment.refunded")
    assert (ref["amount"], ref["amount_refunded"], ref["payment_status"]) == (300, 300, "partially_refunded")
    assert [e.status for e in inbound(db)] == ["processed"] * 3


def test_paypal_denied_capture_fails_the_payment(client, db, brand_a, paypal_on, published):
    cs, payment_id = start(db, brand_a.id, reference="ord_p2")
    denied = _paypal_event(
        "WH-9",
        "PAYMENT.CAPTURE.DENIED",
        {
            "id": "7NW873794T343360M",
            "status": "DECLINED",
            "amount": {"currency_code": "EUR", "value": "53.00"},
            "supplementary_data": {"related_ids": {"order_id": cs.id}},
        },
    )
    assert client.post("/api/v1/webhooks/paypal", content=denied, headers=paypal_headers()).status_code == 200
    assert published.names() == ["payment.failed"]
    assert payment(db, payment_id).status == "failed"


def test_paypal_bad_signature_is_400_and_writes_nothing(client, db, brand_a, paypal_on, published):
    body = _paypal_event("WH-X", "PAYMENT.CAPTURE.COMPLETED", {"id": "C1"})
    r = client.post("/api/v1/webhooks/paypal", content=body, headers=paypal_headers("forged"))
    assert r.status_code == 400 and r.json()["code"] == "invalid_signature"
    headers = paypal_headers()
    del headers["PAYPAL-CERT-URL"]
    assert client.post("/api/v1/webhooks/paypal", content=body, headers=headers).status_code == 400
    assert inbound(db) == [] and published.items == []


def test_paypal_route_without_paypal_configured(client, settings):
    r = client.post("/api/v1/webhooks/paypal", content=b"{}", headers=paypal_headers())
    assert r.status_code == 503 and r.json()["code"] == "paypal_not_configured"


def test_dev_page_refuses_when_stripe_is_configured(client, db, brand_a, published, monkeypatch):
    cs, _ = start(db, brand_a.id)  # dev session created while dev is active
    with stripe_server() as server:
        monkeypatch.setenv("LUNEO_STRIPE_SECRET_KEY", "sk_test_local")
        monkeypatch.setenv("LUNEO_STRIPE_WEBHOOK_SECRET", STRIPE_WHSEC)
        monkeypatch.setenv("LUNEO_STRIPE_API_BASE", server.url)
        config.get_settings.cache_clear()
        r = client.post(f"/checkout/dev/{cs.id}/pay", follow_redirects=False)
    config.get_settings.cache_clear()
    assert r.status_code == 409 and published.items == [] and inbound(db) == []
