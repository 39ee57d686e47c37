"""The Stripe provider against a local server speaking Stripe's shapes (form-encoded requests)."""

from __future__ import annotations

import json

import pytest

from luneo.payments.providers.base import CheckoutRequest, LineItem, ProviderError, SignatureError
from luneo.payments.providers.stripe import StripeProvider
from luneo.payments.signatures import sign_header
from tests.unit.payments.fakes import VECTORS, stripe_server


def _request(kind: str = "order") -> CheckoutRequest:
    return CheckoutRequest(
        brand_id="brd_1",
        reference="ord_123",
        kind=kind,
        currency="eur",
        customer_email="ann@example.com",
        success_url="https://shop.example/ok?s={CHECKOUT_SESSION_ID}",
        cancel_url="https://shop.example/cancel",
        metadata={"pack_id": "pk_10"} if kind == "credits" else {},
        line_items=[
            LineItem(
                name="Engraved mug", image_url="https://cdn.example/mug.png", unit_amount=1500, quantity=2
            ),
            LineItem(name="Gift box", unit_amount=450, quantity=1),
        ],
    )


@pytest.fixture
def server():
    with stripe_server() as s:
        yield s


@pytest.fixture
def provider(server):
    return StripeProvider("sk_test_local", "whsec_test_secret", api_base=server.url, max_network_retries=0)


def test_checkout_session_request_and_answer(server, provider):
    cs = provider.create_checkout(_request(), idempotency_key="checkout-pay_1")
    [rec] = server.requests
    assert (rec.method, rec.path) == ("POST", "/v1/checkout/sessions")
    assert rec.headers["idempotency-key"] == "checkout-pay_1"
    f = rec.form
    assert f["mode"] == "payment"
    assert f["client_reference_id"] == "ord_123"
    assert f["metadata[order_id]"] == "ord_123"
    assert f["metadata[brand_id]"] == "brd_1"
    assert f["payment_intent_data[metadata][order_id]"] == "ord_123"
    assert f["line_items[0][price_data][unit_amount]"] == "1500"
    assert f["line_items[0][price_data][currency]"] == "eur"
    assert f["line_items[0][price_data][product_data][name]"] == "Engraved mug"
    assert f["line_items[0][price_data][product_data][images][0]"] == "https://cdn.example/mug.png"
    assert f["line_items[0][quantity]"] == "2"
    assert f["line_items[1][price_data][unit_amount]"] == "450"
    assert "line_items[1][price_data][product_data][images][0]" not in f
    assert f["customer_email"] == "ann@example.com"
    assert f["success_url"] == "https://shop.example/ok?s={CHECKOUT_SESSION_ID}"
    assert cs.provider == "stripe" and cs.id.startswith("cs_test_")
    assert cs.url == f"https://checkout.stripe.com/c/pay/{cs.id}"
    assert (cs.amount_total, cs.currency) == (3450, "EUR")
    assert cs.raw["object"] == "checkout.session"


def test_credits_checkout_passes_metadata_through(server, provider):
    provider.create_checkout(_request("credits"))
    f = server.requests[0].form
    assert (f["metadata[kind]"], f["metadata[pack_id]"], f["metadata[brand_id]"]) == (
        "credits",
        "pk_10",
        "brd_1",
    )
    assert "metadata[order_id]" not in f
    assert server.requests[0].headers["idempotency-key"]  # generated when not given


def test_subscription_checkout_uses_recurring_prices(server, provider):
    provider.create_checkout(_request("subscription"))
    f = server.requests[0].form
    assert f["mode"] == "subscription"
    assert f["line_items[0][price_data][recurring][interval]"] == "month"
    assert f["subscription_data[metadata][brand_id]"] == "brd_1"


def test_payment_intent(server, provider):
    pi = provider.create_payment_intent(2599, "EUR", {"order_id": "ord_9"}, idempotency_key="intent-pay_2")
    rec = server.requests[0]
    assert (rec.path, rec.form["amount"], rec.form["currency"], rec.form["metadata[order_id]"]) == (
        "/v1/payment_intents",
        "2599",
        "eur",
        "ord_9",
    )
    assert rec.form["automatic_payment_methods[enabled]"] == "true"
    assert rec.headers["idempotency-key"] == "intent-pay_2"
    assert pi["client_secret"] == f"{pi['id']}_secret_abc" and pi["status"] == "requires_payment_method"


def test_refunds_by_payment_intent_or_charge(server, provider):
    r = provider.refund("pi_123", 500, idempotency_key="refund-1")
    assert server.requests[0].form == {"payment_intent": "pi_123", "amount": "500"}
    assert server.requests[0].headers["idempotency-key"] == "refund-1"
    assert (r["status"], r["amount"]) == ("succeeded", 500)
    provider.refund("ch_123")
    assert server.requests[1].form == {"charge": "ch_123"}


def test_api_errors_become_provider_errors(server):
    bad = StripeProvider("sk_test_wrong", None, api_base=server.url, max_network_retries=0)
    with pytest.raises(ProviderError) as err:
        bad.create_payment_intent(100, "eur", {})
    assert err.value.status == 401


def test_verify_webhook_parses_the_event(provider):
    body = (VECTORS / "derived_event_payload.json").read_bytes()
    ev = provider.verify_webhook({"Stripe-Signature": sign_header("whsec_test_secret", body)}, body)
    assert (ev.id, ev.type, ev.provider) == (
        "evt_1Pgc76B7WZ01zgkWwyRHS12y",
        "payment_intent.succeeded",
        "stripe",
    )
    assert ev.data["object"] == "payment_intent" and ev.raw == json.loads(body)
    with pytest.raises(SignatureError):
        provider.verify_webhook({"stripe-signature": sign_header("whsec_other", body)}, body)
    with pytest.raises(SignatureError):
        provider.verify_webhook({}, body)
    no_secret = StripeProvider("sk_test_local", None, api_base="http://127.0.0.1:9")
    with pytest.raises(SignatureError):
        no_secret.verify_webhook({"stripe-signature": sign_header("whsec_test_secret", body)}, body)
