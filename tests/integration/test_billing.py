"""Billing: plans and limits, usage counters, subscription events, monthly grants, checkout and portal."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

import luneo.billing.models
import luneo.credits.models  # noqa: F401
from luneo.billing import service
from luneo.credits import service as credits
from luneo.platform.domain_errors import DomainError
from luneo.platform.errors import problem_from
from luneo.platform.events import publish
from luneo.platform.tenancy import bind_system, bind_tenant
from luneo.tenancy.models import Brand
from tests.integration.factories.credits import assert_ledger_consistent


def _sub_event(brand_id: str, **extra) -> dict:
    return {
        "provider": "stripe",
        "event_id": "evt_s1",
        "brand_id": brand_id,
        "subscription_id": "sub_123",
        "plan": "pro",
        "status": "active",
        "period_start": 1767225600,
        "period_end": 1769904000,
        "invoice_id": None,
        **extra,
    }


def _publish(db, event: str, payload: dict) -> None:
    with db.transaction() as s:
        bind_system(s)
        publish(s, event, payload)


def _plan(db, brand_id: str) -> str:
    with db.transaction(write=False) as s:
        bind_system(s)
        return s.get(Brand, brand_id).plan


def test_record_usage_and_check_limit(db, brand_a):
    with db.transaction() as s:
        bind_tenant(s, brand_a.id)
        assert service.record_usage(s, brand_a.id, "renders") == 1
        assert service.record_usage(s, brand_a.id, "renders", 498) == 499
        service.check_limit(s, brand_a.id, "renders")  # 499 + 1 ≤ 500
        service.record_usage(s, brand_a.id, "renders")
        with pytest.raises(DomainError) as exc:
            service.check_limit(s, brand_a.id, "renders")
        with pytest.raises(ValueError):
            service.record_usage(s, brand_a.id, "nonsense")
    body = problem_from(exc.value).body()
    assert (body["status"], body["code"]) == (403, "plan_limit_reached")
    assert (body["limit"], body["usage"], body["plan"], body["metric"]) == (500, 500, "free", "renders")


def test_usage_counter_is_atomic_under_concurrency(db, brand_a):
    barrier = threading.Barrier(16)

    def one(_: int) -> None:
        barrier.wait()
        with db.transaction() as s:
            bind_tenant(s, brand_a.id)
            service.record_usage(s, brand_a.id, "renders", 2)

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(one, range(16)))
    with db.transaction(write=False) as s:
        bind_tenant(s, brand_a.id)
        assert service.usage(s, brand_a.id, "renders") == 32


def test_product_limit_by_plan(db, brand_a):
    with db.transaction() as s:
        bind_tenant(s, brand_a.id)
        service.check_product_limit(s, brand_a.id, 9)
        with pytest.raises(DomainError) as exc:
            service.check_product_limit(s, brand_a.id, 10)
        assert exc.value.extra["limit"] == 10 and exc.value.extra["metric"] == "products"
    _publish(db, "billing.subscription_updated", _sub_event(brand_a.id, plan="business"))
    with db.transaction() as s:
        bind_tenant(s, brand_a.id)
        service.check_product_limit(s, brand_a.id, 100_000)  # unlimited
        service.record_usage(s, brand_a.id, "renders", 10**6)
        service.check_limit(s, brand_a.id, "renders")


def test_subscription_lifecycle_and_monthly_grant_once(client, db, brand_a):
    _publish(db, "billing.subscription_updated", _sub_event(brand_a.id, customer_id="cus_1"))
    assert _plan(db, brand_a.id) == "pro"
    for _ in range(3):  # invoice.paid delivered three times: one grant
        _publish(db, "billing.invoice_paid", _sub_event(brand_a.id, invoice_id="in_1"))
    r = client.get("/api/v1/billing/subscription", headers=brand_a.h())
    assert r.status_code == 200, r.text
    sub = r.json()
    assert (sub["plan"], sub["status"], sub["monthly_credits"], sub["provider"]) == (
        "pro",
        "active",
        500,
        "stripe",
    )
    assert sub["current_period_start"].startswith("2026-01-01") and sub["current_period_end"].startswith(
        "2026-02-01"
    )
    assert sub["limits"] == {"max_products": 200, "renders": 20000}
    assert sub["usage"]["renders"] == 0
    with db.transaction(write=False) as s:
        bind_tenant(s, brand_a.id)
        assert credits.get_balance(s, brand_a.id) == 550
        assert credits.find_transaction(s, brand_a.id, "grant:invoice:in_1").amount == 500
    _publish(db, "billing.invoice_paid", _sub_event(brand_a.id, invoice_id="in_2"))  # next month
    _publish(db, "billing.subscription_updated", _sub_event(brand_a.id, cancel_at_period_end=True))
    assert (
        client.get("/api/v1/billing/subscription", headers=brand_a.h()).json()["cancel_at_period_end"] is True
    )
    _publish(db, "billing.subscription_deleted", _sub_event(brand_a.id, status="canceled"))
    assert _plan(db, brand_a.id) == "free"
    _publish(db, "billing.subscription_updated", _sub_event(brand_a.id))  # late event: stays canceled
    assert _plan(db, brand_a.id) == "free"
    assert client.get("/api/v1/billing/subscription", headers=brand_a.h()).json()["status"] == "canceled"
    with db.transaction(write=False) as s:
        bind_tenant(s, brand_a.id)
        assert credits.get_balance(s, brand_a.id) == 1050
    assert_ledger_consistent(db)


def test_invoice_grants_concurrently_once(db, brand_a):
    _publish(db, "billing.subscription_updated", _sub_event(brand_a.id, plan="business"))
    barrier = threading.Barrier(10)

    def one(_: int) -> None:
        barrier.wait()
        _publish(db, "billing.invoice_paid", _sub_event(brand_a.id, plan="business", invoice_id="in_c"))

    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(one, range(10)))
    with db.transaction(write=False) as s:
        bind_tenant(s, brand_a.id)
        assert credits.get_balance(s, brand_a.id) == 2550
    assert_ledger_consistent(db)


def test_subscription_checkout_completed_activates_plan(db, brand_a):
    _publish(
        db,
        "payment.checkout_completed",
        {
            "provider": "dev",
            "event_id": "evt_c",
            "reference": "bsub_1",
            "kind": "subscription",
            "brand_id": brand_a.id,
            "metadata": {"kind": "subscription", "plan": "business", "brand_id": brand_a.id},
            "amount": 19900,
            "currency": "EUR",
            "payment_ref": None,
            "raw_type": "checkout.session.completed",
            "payment_status": "paid",
        },
    )
    assert _plan(db, brand_a.id) == "business"
    with db.transaction(write=False) as s:
        bind_tenant(s, brand_a.id)
        assert credits.get_balance(s, brand_a.id) == 50  # credits come with the invoice, not the checkout
    assert_ledger_consistent(db)


def test_plans_and_checkout_route(client, db, brand_a, monkeypatch):
    from luneo.payments import public as payments

    r = client.get("/api/v1/billing/plans", headers=brand_a.h())
    assert [(p["id"], p["monthly_credits"], p["max_products"]) for p in r.json()["data"]] == [
        ("free", 50, 10),
        ("pro", 500, 200),
        ("business", 2500, None),
    ]
    captured = {}

    class FakeCheckout:
        id, url = "cs_sub", "https://pay.example/cs_sub"

    monkeypatch.setattr(
        payments, "start_checkout", lambda s, b, req: captured.update(req=req) or FakeCheckout()
    )
    r = client.post("/api/v1/billing/create-checkout-session", json={"plan": "pro"}, headers=brand_a.h())
    assert r.status_code == 201, r.text
    assert r.json()["checkout_url"] == "https://pay.example/cs_sub"
    req = captured["req"]
    assert (req.kind, req.amount_total, req.metadata["plan"], req.metadata["kind"]) == (
        "subscription",
        4900,
        "pro",
        "subscription",
    )
    for bad in ({"plan": "free"}, {"plan": "gold"}, {"plan": "pro", "x": 1}):
        assert (
            client.post("/api/v1/billing/create-checkout-session", json=bad, headers=brand_a.h()).status_code
            == 422
        )
    viewer = client.post(
        "/api/v1/billing/create-checkout-session", json={"plan": "pro"}, headers=brand_a.h("pk")
    )
    assert viewer.status_code == 403


def test_checkout_route_through_payments(client, brand_a):
    r = client.post("/api/v1/billing/create-checkout-session", json={"plan": "business"}, headers=brand_a.h())
    assert r.status_code == 201, r.text


def test_portal_dev_link(client, brand_a, brand_b):
    r = client.post("/api/v1/billing/portal", headers=brand_a.h())
    assert r.status_code == 200, r.text
    url = r.json()["url"]
    assert "/billing/portal/dev?token=" in url
    token = url.split("token=", 1)[1]
    assert service.verify_portal_token(token) == brand_a.id
    assert service.verify_portal_token(token[:-1] + ("0" if token[-1] != "0" else "1")) is None
    forged = brand_b.id + token[len(brand_a.id) :]
    assert service.verify_portal_token(forged) is None
    expired = service.portal_token(brand_a.id, now=1.0)
    assert service.verify_portal_token(expired) is None
    from luneo.billing.api import dev_portal

    page = dev_portal(token)
    assert page.status_code == 200 and b"Free" in page.body
    assert dev_portal("nope").status_code == 403


def test_signup_grant_on_brand_created(db, brand_a, brand_b):
    with db.transaction(write=False) as s:
        bind_system(s)
        for b in (brand_a.id, brand_b.id):
            t = credits.find_transaction(s, b, f"grant:signup:{b}")
            assert t is not None and (t.type, t.amount, t.actor) == ("grant", 50, "billing")
    assert_ledger_consistent(db)


def test_stripe_subscription_and_invoice_events_reach_billing(client, brand_a, settings):
    """Stripe-signed `customer.subscription.created` and `invoice.paid` → plan active, monthly grant once."""
    import json
    import time

    from luneo.payments.signatures import sign_header

    secret = settings.dev_webhook_secret.get_secret_value()

    def deliver(event):
        body = json.dumps(event).encode()
        header = sign_header(secret, body, int(time.time()))
        return client.post(
            "/api/v1/webhooks/stripe",
            content=body,
            headers={"Stripe-Signature": header, "Content-Type": "application/json"},
        )

    md = {"brand_id": brand_a.id, "plan": "pro"}
    sub = {
        "id": "evt_sub_1",
        "type": "customer.subscription.created",
        "created": int(time.time()),
        "data": {
            "object": {
                "id": "sub_123",
                "object": "subscription",
                "status": "active",
                "metadata": md,
                "customer": "cus_1",
                "current_period_start": int(time.time()),
                "current_period_end": int(time.time()) + 30 * 86400,
            }
        },
    }
    assert deliver(sub).status_code == 200
    inv = {
        "id": "evt_inv_1",
        "type": "invoice.paid",
        "created": int(time.time()),
        "data": {
            "object": {
                "id": "in_1",
                "object": "invoice",
                "subscription": "sub_123",
                "customer": "cus_1",
                "lines": {
                    "data": [
                        {
                            "metadata": md,
                            "period": {"start": int(time.time()), "end": int(time.time()) + 86400},
                        }
                    ]
                },
            }
        },
    }
    before = client.get("/api/v1/credits/balance", headers=brand_a.h()).json()["balance"]
    for _ in range(3):
        assert deliver(inv).status_code == 200
    after = client.get("/api/v1/credits/balance", headers=brand_a.h()).json()["balance"]
    assert after - before == 500
    subscription = client.get("/api/v1/billing/subscription", headers=brand_a.h()).json()
    assert subscription["plan"] == "pro"


def test_free_plan_gets_its_monthly_credits_once_per_month(client, brand_a, brand_b, db):
    """Signup covers the first month; from the next month the periodic job grants 50 once."""
    from datetime import timedelta

    from luneo.billing.service import grant_free_monthly
    from luneo.platform.clock import utcnow

    def balance(brand):
        return client.get("/api/v1/credits/balance", headers=brand.h()).json()["balance"]

    start_a, start_b = balance(brand_a), balance(brand_b)
    assert grant_free_monthly(db) == 0  # same month as signup: nothing more
    next_month = utcnow() + timedelta(days=32)
    assert grant_free_monthly(db, next_month) == 2
    assert grant_free_monthly(db, next_month) == 0  # once per month, however often it runs
    assert balance(brand_a) == start_a + 50 and balance(brand_b) == start_b + 50
    client.get("/api/v1/credits/transactions", headers=brand_a.h())
    from luneo.platform import jobs

    assert "billing_free_grants" in jobs.registered_actors()
