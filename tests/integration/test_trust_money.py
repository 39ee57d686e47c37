"""Issue 11, items 1–4: money and credits that cannot be forged, lost or paid in the wrong currency.

1. credits and plans come only from server rows (packs, plans), never from caller metadata;
2. webhook amounts and currencies are checked from the event itself (Stripe, PayPal, dev);
   late captures for cancelled / refunded / already-paid orders are refunded and alerted;
3. `/webhooks/stripe` trusts only the Stripe secret in production; the dev checkout is 404 there;
4. a manual "mark paid" is an explicit, audited offline payment (owner / admin only).
"""

from __future__ import annotations

import copy
import json
import secrets
from urllib.parse import urlparse

import pytest
from sqlalchemy import select

import luneo.billing.models  # (registers billing subscribers)
import luneo.credits.models  # noqa: F401  (registers credits subscribers)
from luneo.commerce.models import Order
from luneo.credits import service as credits
from luneo.notifications.models import EmailMessage
from luneo.payments.models import Payment, PaymentSession
from luneo.payments.providers.dev import checkout_session_object, payment_intent_object, stripe_event
from luneo.payments.signatures import sign_header
from luneo.platform import config
from luneo.platform.models import AuditEvent
from luneo.platform.tenancy import bind_system, bind_tenant
from tests.integration.commerce_helpers import priced_product, snapshot
from tests.integration.test_payments_providers import STRIPE_WHSEC, paypal_on, stripe_on  # noqa: F401
from tests.unit.payments.fakes import FIXTURES, paypal_headers, stripe_server

DEV_SECRET = "whsec_dev_local_only"
CUSTOMER = {"email": "ada@example.com", "name": "Ada"}
RESERVED = (
    "credits",
    "price_cents",
    "pack_id",
    "order_id",
    "plan",
    "kind",
    "brand_id",
    "payment_id",
    "reference",
)


# --- helpers -------------------------------------------------------------------------------------


def signed(event: dict, secret: str = DEV_SECRET) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event, separators=(",", ":")).encode()
    return body, {"Stripe-Signature": sign_header(secret, body), "Content-Type": "application/json"}


def deliver(client, event: dict, secret: str = DEV_SECRET):
    body, headers = signed(event, secret)
    return client.post("/api/v1/webhooks/stripe", content=body, headers=headers)


def balance(db, brand_id: str) -> int:
    with db.transaction(write=False) as s:
        bind_tenant(s, brand_id)
        return credits.get_balance(s, brand_id)


def dev_session(db, session_id: str) -> PaymentSession:
    with db.transaction(write=False) as s:
        bind_system(s)
        return s.execute(select(PaymentSession).where(PaymentSession.id == session_id)).scalar_one()


def payment_row(db, payment_id: str) -> Payment:
    with db.transaction(write=False) as s:
        bind_system(s)
        return s.execute(select(Payment).where(Payment.id == payment_id)).scalar_one()


def payments_of(db, brand_id: str, reference: str) -> list[Payment]:
    with db.transaction(write=False) as s:
        bind_tenant(s, brand_id)
        return list(
            s.execute(
                select(Payment).where(Payment.reference == reference).order_by(Payment.created_at)
            ).scalars()
        )


def order_row(db, brand_id: str, order_id: str) -> Order:
    with db.transaction(write=False) as s:
        bind_tenant(s, brand_id)
        return s.execute(select(Order).where(Order.id == order_id)).scalar_one()


def emails(db, brand_id: str, template: str) -> list[EmailMessage]:
    with db.transaction(write=False) as s:
        bind_tenant(s, brand_id)
        return list(s.execute(select(EmailMessage).where(EmailMessage.template == template)).scalars())


def audits(db, brand_id: str, action: str) -> list[AuditEvent]:
    with db.transaction(write=False) as s:
        bind_tenant(s, brand_id)
        return list(s.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars())


def make_order(client, brand) -> dict:
    pid = priced_product(client, brand)
    snap = snapshot(client, brand, pid, {"name": {"text": "Zoé"}})
    r = client.post(
        "/api/v1/orders",
        headers=brand.h("sk"),
        json={"items": [{"product_id": pid, "quantity": 2, "snapshot_id": snap}], "customer": CUSTOMER},
    )
    assert r.status_code == 201, r.text
    return r.json()


def checkout(client, brand, order_id: str) -> dict:
    r = client.post(f"/api/v1/orders/{order_id}/checkout", headers=brand.h("sk"), json={})
    assert r.status_code == 201, r.text
    return r.json()


def completed_event(db, session_id: str, **changes) -> dict:
    obj = checkout_session_object(dev_session(db, session_id), "paid")
    for key, value in changes.items():
        if value is None:
            obj.pop(key, None)
        else:
            obj[key] = value
    return stripe_event("checkout.session.completed", obj)


# --- 1. credits and plans only from server rows ----------------------------------------------------


@pytest.mark.parametrize("key", [*RESERVED, "Credits", " pack_id"])
def test_payment_intent_metadata_cannot_set_reserved_keys(client, db, brand_a, key):
    r = client.post(
        "/api/v1/billing/payment-intents",
        headers=brand_a.h("sk"),
        json={"amount": 50, "currency": "EUR", "kind": "credits", "metadata": {key: "1000000"}},
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "reserved_metadata_key" and key.strip().lower() in r.json()["keys"]
    with db.transaction(write=False) as s:
        bind_tenant(s, brand_a.id)
        assert s.execute(select(Payment)).first() is None


def test_forged_credit_metadata_on_a_signed_event_never_credits(client, db, brand_a):
    """Even if caller-written keys reach a genuine event, credits come from the pack row and its price."""
    r = client.post(
        "/api/v1/billing/payment-intents",
        headers=brand_a.h("sk"),
        json={"amount": 50, "currency": "EUR", "kind": "credits", "metadata": {"cart": "c1"}},
    )
    assert r.status_code == 201, r.text
    out = r.json()
    pi = {
        "id": out["id"],
        "object": "payment_intent",
        "amount": 50,
        "amount_received": 50,
        "currency": "eur",
        "status": "succeeded",
        "metadata": {
            "payment_id": out["payment_id"],
            "brand_id": brand_a.id,
            "kind": "credits",
            "credits": "1000000",
            "price_cents": "50",
            "pack_id": "pack_1000",
        },
    }
    assert deliver(client, stripe_event("payment_intent.succeeded", pi)).status_code == 200
    assert balance(db, brand_a.id) == 50  # the signup grant only


def test_credit_pack_paid_with_one_cent_credits_nothing(db, brand_a):
    from luneo.platform.events import publish

    payload = {
        "provider": "dev",
        "event_id": "evt_x",
        "reference": "cbuy_cheap",
        "kind": "credits",
        "brand_id": brand_a.id,
        "metadata": {"kind": "credits", "pack_id": "pack_1000", "credits": "1000", "price_cents": "1"},
        "amount": 1,
        "currency": "EUR",
        "payment_ref": "pi_x",
        "payment_status": "paid",
    }
    with db.transaction() as s:
        bind_tenant(s, brand_a.id)
        publish(s, "payment.checkout_completed", payload)
        publish(s, "payment.succeeded", {**payload, "payment_status": "succeeded"})
    assert balance(db, brand_a.id) == 50


def _buy_pack(client, brand, pack_id: str = "pack_100") -> dict:
    r = client.post("/api/v1/credits/buy", headers=brand.h(), json={"pack_id": pack_id})
    assert r.status_code == 201, r.text
    return r.json()


@pytest.mark.parametrize(
    "changes",
    [
        {"amount_total": None},  # no amount in the event
        {"currency": None},  # no currency in the event
        {"currency": "jpy"},  # same number, other currency
        {"amount_total": 1},  # underpaid
        {"amount_total": 1_000_000},  # overpaid: the price is exact, not a floor
    ],
)
def test_pack_purchase_event_must_carry_the_pack_price(client, db, brand_a, changes):
    buy = _buy_pack(client, brand_a)
    r = deliver(client, completed_event(db, buy["session_id"], **changes))
    assert r.status_code == 200, r.text
    assert balance(db, brand_a.id) == 50


def test_pack_purchase_with_the_exact_price_credits_the_pack_once(client, db, brand_a):
    buy = _buy_pack(client, brand_a, "pack_500")
    r = client.post(f"/checkout/dev/{buy['session_id']}/pay", follow_redirects=False)
    assert r.status_code == 303
    assert balance(db, brand_a.id) == 550


def _subscription_checkout(client, brand, plan: str = "pro") -> dict:
    r = client.post("/api/v1/billing/create-checkout-session", headers=brand.h(), json={"plan": plan})
    assert r.status_code == 201, r.text
    return r.json()


def _plan(client, brand) -> str:
    return client.get("/api/v1/billing/subscription", headers=brand.h()).json()["plan"]


@pytest.mark.parametrize(
    "changes",
    [
        {"payment_status": "unpaid"},
        {"payment_status": "no_payment_required"},
        {"amount_total": 1},
        {"currency": "jpy"},
        {"amount_total": None},
    ],
)
def test_subscription_activates_only_when_paid_at_the_plan_price(client, db, brand_a, changes):
    co = _subscription_checkout(client, brand_a, "business")
    assert deliver(client, completed_event(db, co["session_id"], **changes)).status_code == 200
    assert _plan(client, brand_a) == "free"


def test_subscription_paid_at_the_plan_price_activates(client, db, brand_a):
    co = _subscription_checkout(client, brand_a, "pro")
    assert client.post(f"/checkout/dev/{co['session_id']}/pay", follow_redirects=False).status_code == 303
    assert _plan(client, brand_a) == "pro"


# --- 2. webhook amounts and currencies come from the event ----------------------------------------


def _assert_mismatch(db, brand, order_id: str, payment_id: str) -> None:
    row = order_row(db, brand.id, order_id)
    assert (row.status, row.payment_status) == ("pending", "mismatch")
    assert any(h.get("event") == "payment_mismatch" for h in row.history)
    assert payment_row(db, payment_id).flag == "amount_mismatch"
    assert [m.to for m in emails(db, brand.id, "payment_alert")] == [brand.owner_email]
    assert audits(db, brand.id, "payment.alert")


@pytest.mark.parametrize(
    "changes", [{"currency": "jpy"}, {"amount_total": None}, {"currency": None}, {"amount_total": 1}]
)
def test_dev_checkout_event_in_another_currency_or_without_amount_does_not_pay(client, db, brand_a, changes):
    o = make_order(client, brand_a)
    co = checkout(client, brand_a, o["id"])
    r = deliver(client, completed_event(db, co["session_id"], **changes))
    assert (r.status_code, r.json()["status"]) == (200, "processed")
    _assert_mismatch(db, brand_a, o["id"], co["payment_id"])
    # the capture announced again (payment_intent.succeeded, in the right currency) changes nothing
    pi = payment_intent_object(dev_session(db, co["session_id"]), "succeeded")
    assert deliver(client, stripe_event("payment_intent.succeeded", pi)).status_code == 200
    assert order_row(db, brand_a.id, o["id"]).status == "pending"


def test_payment_intent_event_without_amount_does_not_pay(client, db, brand_a):
    o = make_order(client, brand_a)
    co = checkout(client, brand_a, o["id"])
    pi = payment_intent_object(dev_session(db, co["session_id"]), "succeeded")
    pi.pop("amount")
    pi.pop("amount_received")
    assert deliver(client, stripe_event("payment_intent.succeeded", pi)).status_code == 200
    _assert_mismatch(db, brand_a, o["id"], co["payment_id"])


def test_stripe_checkout_in_jpy_does_not_pay_a_eur_order(client, db, brand_a, stripe_on):  # noqa: F811
    o = make_order(client, brand_a)
    co = checkout(client, brand_a, o["id"])
    assert co["provider"] == "stripe"
    metadata = {k: v for k, v in stripe_on.requests[-1].form.items() if k.startswith("metadata[")}
    obj = copy.deepcopy(FIXTURES["checkout.session"])
    obj.update(
        id=co["session_id"],
        client_reference_id=o["id"],
        amount_total=o["total_cents"],
        currency="jpy",
        payment_status="paid",
        status="complete",
        payment_intent="pi_3Jpy",
        metadata={k[len("metadata[") : -1]: v for k, v in metadata.items()},
    )
    event = {
        **copy.deepcopy(FIXTURES["event"]),
        "id": "evt_jpy",
        "type": "checkout.session.completed",
        "data": {"object": obj},
    }
    assert deliver(client, event, STRIPE_WHSEC).status_code == 200
    _assert_mismatch(db, brand_a, o["id"], co["payment_id"])


def test_paypal_capture_in_another_currency_does_not_pay(client, db, brand_a, paypal_on):  # noqa: F811
    _, state = paypal_on
    o = make_order(client, brand_a)
    co = checkout(client, brand_a, o["id"])
    assert co["provider"] == "paypal"
    # PayPal captures in JPY (the amount number unchanged)
    value = state.orders[co["session_id"]]["request"]["purchase_units"][0]["amount"]["value"]
    state.orders[co["session_id"]]["request"]["purchase_units"][0]["amount"] = {
        "currency_code": "JPY",
        "value": value.split(".")[0],
    }
    approved = json.dumps(
        {
            "id": "WH-A",
            "event_version": "1.0",
            "create_time": "2026-01-01T10:00:00Z",
            "resource_type": "checkout-order",
            "event_type": "CHECKOUT.ORDER.APPROVED",
            "resource": {
                "id": co["session_id"],
                "status": "APPROVED",
                "purchase_units": [
                    {"custom_id": o["id"], "amount": {"currency_code": "EUR", "value": value}}
                ],
            },
        }
    ).encode()
    r = client.post("/api/v1/webhooks/paypal", content=approved, headers=paypal_headers())
    assert r.status_code == 200, r.text
    _assert_mismatch(db, brand_a, o["id"], co["payment_id"])


def test_paypal_capture_event_without_amount_does_not_pay(client, db, brand_a, paypal_on):  # noqa: F811
    o = make_order(client, brand_a)
    co = checkout(client, brand_a, o["id"])
    completed = json.dumps(
        {
            "id": "WH-C",
            "event_version": "1.0",
            "create_time": "2026-01-01T10:00:00Z",
            "resource_type": "capture",
            "event_type": "PAYMENT.CAPTURE.COMPLETED",
            "resource": {
                "id": "CAP1",
                "status": "COMPLETED",
                "custom_id": o["id"],
                "supplementary_data": {"related_ids": {"order_id": co["session_id"]}},
            },
        }
    )
    r = client.post("/api/v1/webhooks/paypal", content=completed.encode(), headers=paypal_headers())
    assert r.status_code == 200, r.text
    _assert_mismatch(db, brand_a, o["id"], co["payment_id"])


def _pay_on_page(client, co: dict) -> None:
    r = client.post(f"{urlparse(co['checkout_url']).path}/pay", follow_redirects=False)
    assert r.status_code == 303, r.text


@pytest.mark.parametrize("first", ["cancelled", "refunded", "paid"])
def test_a_late_capture_is_recorded_flagged_refunded_and_alerted(client, db, brand_a, first):
    o = make_order(client, brand_a)
    late = checkout(client, brand_a, o["id"])  # a checkout the shopper leaves open in a tab
    if first == "cancelled":
        r = client.post(f"/api/v1/orders/{o['id']}/transition", headers=brand_a.h(), json={"to": "cancelled"})
        assert r.status_code == 200
    else:
        _pay_on_page(client, checkout(client, brand_a, o["id"]))
        if first == "refunded":
            r = client.post(
                f"/api/v1/orders/{o['id']}/transition", headers=brand_a.h(), json={"to": "refunded"}
            )
            assert r.status_code == 200, r.text
    _pay_on_page(client, late)  # the money is captured now
    p = payment_row(db, late["payment_id"])
    assert p.flag == "order_not_payable"
    assert (p.status, p.amount_refunded) == ("refunded", o["total_cents"])  # given back through the provider
    row = order_row(db, brand_a.id, o["id"])
    assert row.status == first
    notes = [h for h in row.history if h.get("event") == "payment_after_close"]
    assert len(notes) == 1 and notes[0]["payment_id"] == late["payment_id"]
    assert [m.to for m in emails(db, brand_a.id, "payment_alert")] == [brand_a.owner_email]
    assert audits(db, brand_a.id, "payment.alert")


# --- 3. no dev secret, no dev checkout in production ----------------------------------------------


def _production(monkeypatch, **env: str):
    from luneo.app import create_app

    monkeypatch.setenv("LUNEO_ENV", "production")
    monkeypatch.setenv("LUNEO_SECRET_KEY", secrets.token_hex(32))
    monkeypatch.setenv("LUNEO_DEV_WEBHOOK_SECRET", "whsec_" + secrets.token_hex(32))
    monkeypatch.setenv("LUNEO_PUBLIC_BASE_URL", "https://luneo.example")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    config.get_settings.cache_clear()
    return create_app(config.get_settings(), start_workers=False)


def test_production_stripe_webhook_never_trusts_the_dev_secret(client, db, brand_a, paypal_on, monkeypatch):  # noqa: F811
    from fastapi.testclient import TestClient

    o = make_order(client, brand_a)
    app = _production(monkeypatch)  # a PayPal-only deployment: Stripe is not configured
    dev_secret = config.get_settings().dev_webhook_secret.get_secret_value()
    obj = {
        "id": "cs_forged",
        "object": "checkout.session",
        "amount_total": o["total_cents"],
        "currency": "eur",
        "payment_status": "paid",
        "client_reference_id": o["id"],
        "payment_intent": "pi_forged",
        "metadata": {"order_id": o["id"], "brand_id": brand_a.id, "kind": "order"},
    }
    with TestClient(app, raise_server_exceptions=False) as prod:
        for secret in (dev_secret, DEV_SECRET):
            r = deliver(prod, stripe_event("checkout.session.completed", obj), secret)
            assert r.status_code in (400, 503), r.text
            assert r.headers["content-type"].startswith("application/problem+json")
    assert order_row(db, brand_a.id, o["id"]).status == "pending"
    with db.transaction(write=False) as s:
        bind_system(s)
        from luneo.payments.models import InboundEvent

        assert s.execute(select(InboundEvent)).first() is None


def test_production_has_no_dev_checkout(client, db, brand_a, monkeypatch):
    from fastapi.testclient import TestClient

    o = make_order(client, brand_a)
    co = checkout(client, brand_a, o["id"])  # a dev session made while in development
    path = urlparse(co["checkout_url"]).path
    with stripe_server() as server:
        app = _production(
            monkeypatch,
            LUNEO_STRIPE_SECRET_KEY="sk_live_" + "x" * 24,
            LUNEO_STRIPE_WEBHOOK_SECRET="whsec_" + secrets.token_hex(24),
            LUNEO_STRIPE_API_BASE=server.url,
        )
        with TestClient(app, raise_server_exceptions=False) as prod:
            assert prod.get(path).status_code == 404
            assert prod.post(f"{path}/pay", follow_redirects=False).status_code == 404
            assert prod.post(f"{path}/fail", follow_redirects=False).status_code == 404
    assert order_row(db, brand_a.id, o["id"]).status == "pending"
    from luneo.payments.providers import ProviderError, get_provider

    with pytest.raises(ProviderError):
        get_provider("dev")


# --- 4. manual "mark paid" is an audited offline payment ------------------------------------------


def _transition(client, brand, order_id: str, headers=None, **body):
    return client.post(f"/api/v1/orders/{order_id}/transition", headers=headers or brand.h(), json=body)


@pytest.mark.parametrize(
    "keys", [(), ("note",), ("amount", "currency"), ("currency", "note"), ("amount", "note")]
)
def test_mark_paid_needs_amount_currency_and_note(client, db, brand_a, keys):
    o = make_order(client, brand_a)
    full = {"amount": o["total_cents"], "currency": "EUR", "note": "bank transfer"}
    r = _transition(client, brand_a, o["id"], to="paid", **{k: full[k] for k in keys})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert order_row(db, brand_a.id, o["id"]).status == "pending"


@pytest.mark.parametrize("amount_delta,currency", [(-1, "EUR"), (1, "EUR"), (0, "USD")])
def test_mark_paid_amount_must_match_the_order(client, db, brand_a, amount_delta, currency):
    o = make_order(client, brand_a)
    r = _transition(
        client,
        brand_a,
        o["id"],
        to="paid",
        amount=o["total_cents"] + amount_delta,
        currency=currency,
        note="bank transfer",
    )
    assert r.status_code == 422 and r.json()["code"] == "offline_payment_mismatch", r.text
    assert order_row(db, brand_a.id, o["id"]).status == "pending"
    assert payments_of(db, brand_a.id, o["id"]) == []


def test_mark_paid_is_owner_or_admin_only(client, db, brand_a):
    o = make_order(client, brand_a)
    body = {"to": "paid", "amount": o["total_cents"], "currency": "EUR", "note": "cash"}
    r = client.post(f"/api/v1/orders/{o['id']}/transition", headers=brand_a.h("sk"), json=body)
    assert r.status_code == 403, r.text
    assert order_row(db, brand_a.id, o["id"]).status == "pending"

    from luneo.tenancy import service as tenancy

    with db.transaction() as s:
        bind_system(s)
        user = tenancy.create_user(s, email="admin@alpha.example", password="correct horse battery")
        bind_tenant(s, brand_a.id)
        tenancy.add_member(s, brand_id=brand_a.id, user_id=user.id, role="admin")
    login = client.post(
        "/api/v1/auth/login", json={"email": "admin@alpha.example", "password": "correct horse battery"}
    )
    assert login.status_code == 200, login.text
    admin = {"Authorization": f"Bearer {login.json()['access_token']}"}
    r = client.post(f"/api/v1/orders/{o['id']}/transition", headers=admin, json=body)
    assert r.status_code == 200 and r.json()["status"] == "paid", r.text


def test_mark_paid_records_an_offline_payment_and_an_audit_event(client, db, brand_a):
    o = make_order(client, brand_a)
    r = _transition(
        client,
        brand_a,
        o["id"],
        to="paid",
        amount=o["total_cents"],
        currency="eur",
        note="Bank transfer ref 2026-114",
    )
    assert r.status_code == 200 and r.json()["status"] == "paid", r.text
    [p] = payments_of(db, brand_a.id, o["id"])
    assert (p.provider, p.kind, p.amount, p.currency, p.status) == (
        "offline",
        "order",
        o["total_cents"],
        "EUR",
        "succeeded",
    )
    assert p.paid_at is not None and p.metadata_["note"] == "Bank transfer ref 2026-114"
    assert p.metadata_["recorded_by"] == brand_a.owner_id
    row = order_row(db, brand_a.id, o["id"])
    assert (row.payment_status, row.payment_id) == ("paid", p.id)
    paid = [h for h in row.history if h.get("status") == "paid"]
    assert paid[0]["by"] == brand_a.owner_id and paid[0]["note"] == "Bank transfer ref 2026-114"
    [audit] = audits(db, brand_a.id, "payment.offline_recorded")
    assert (audit.actor, audit.resource_type, audit.resource_id) == (brand_a.owner_id, "payment", p.id)
    assert audit.data == {
        "order_id": o["id"],
        "amount": o["total_cents"],
        "currency": "EUR",
        "note": "Bank transfer ref 2026-114",
    }
    got = client.get(f"/api/v1/payments/{p.id}", headers=brand_a.h()).json()
    assert (got["provider"], got["status"]) == ("offline", "succeeded")
    # an offline payment is refunded offline: the order and the payment row follow
    r = _transition(client, brand_a, o["id"], to="refunded")
    assert r.status_code == 200 and r.json()["status"] == "refunded", r.text
    p = payment_row(db, p.id)
    assert (p.status, p.amount_refunded) == ("refunded", o["total_cents"])


def test_offline_payment_can_only_pay_a_pending_order(client, db, brand_a):
    o = make_order(client, brand_a)
    assert _transition(client, brand_a, o["id"], to="cancelled").status_code == 200
    r = _transition(client, brand_a, o["id"], to="paid", amount=o["total_cents"], currency="EUR", note="cash")
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"
    assert payments_of(db, brand_a.id, o["id"]) == []


def test_production_has_no_dev_billing_portal(client, db, brand_a, paypal_on, monkeypatch):  # noqa: F811
    """The development billing page (and its link) exists only outside production."""
    from fastapi.testclient import TestClient

    from luneo.billing.service import portal_token

    token = portal_token(brand_a.id)
    app = _production(monkeypatch)  # PayPal-only: no Stripe billing portal to send the brand to
    with TestClient(app, raise_server_exceptions=False) as prod:
        assert prod.get(f"/billing/portal/dev?token={token}").status_code == 404
        r = prod.post("/api/v1/billing/portal", headers=brand_a.h("sk"))
        assert r.status_code == 503, r.text
        assert r.json()["code"] == "billing_portal_not_configured"
