"""The PayPal provider against a local server speaking Orders v2 / Payments v2 / Notifications v1."""

from __future__ import annotations

import json

import pytest

from luneo.payments.providers.base import CheckoutRequest, LineItem, ProviderError, SignatureError
from luneo.payments.providers.paypal import PayPalProvider
from tests.unit.payments.fakes import PAYPAL_ID, PAYPAL_SECRET, PAYPAL_TOKEN, paypal_headers, paypal_server


@pytest.fixture
def pp():
    with paypal_server() as (server, state):
        provider = PayPalProvider(PAYPAL_ID, PAYPAL_SECRET, api_base=server.url, webhook_id="WH-TEST-1")
        yield provider, server, state


def _request(currency: str = "EUR", unit: int = 1999) -> CheckoutRequest:
    return CheckoutRequest(
        brand_id="brd_1",
        reference="ord_55",
        currency=currency,
        success_url="https://shop.example/ok",
        cancel_url="https://shop.example/no",
        line_items=[
            LineItem(
                name="Monogram tote", image_url="https://cdn.example/tote.png", unit_amount=unit, quantity=3
            )
        ],
    )


def test_create_order_sends_the_documented_body(pp):
    provider, server, _ = pp
    cs = provider.create_checkout(_request(), idempotency_key="checkout-pay_1")
    token, create = server.requests
    assert (token.method, token.path, token.body) == (
        "POST",
        "/v1/oauth2/token",
        b"grant_type=client_credentials",
    )
    assert create.path == "/v2/checkout/orders"
    assert create.headers["authorization"] == f"Bearer {PAYPAL_TOKEN}"
    assert create.headers["paypal-request-id"] == "checkout-pay_1"
    body = create.json
    assert body["intent"] == "CAPTURE"
    unit = body["purchase_units"][0]
    assert unit["custom_id"] == "ord_55"
    assert unit["amount"] == {
        "currency_code": "EUR",
        "value": "59.97",
        "breakdown": {"item_total": {"currency_code": "EUR", "value": "59.97"}},
    }
    assert unit["items"] == [
        {
            "name": "Monogram tote",
            "quantity": "3",
            "image_url": "https://cdn.example/tote.png",
            "unit_amount": {"currency_code": "EUR", "value": "19.99"},
        }
    ]
    ctx = body["payment_source"]["paypal"]["experience_context"]
    assert (ctx["return_url"], ctx["cancel_url"]) == ("https://shop.example/ok", "https://shop.example/no")
    assert cs.url == f"https://www.sandbox.paypal.com/checkoutnow?token={cs.id}"
    assert (cs.provider, cs.amount_total, cs.currency) == ("paypal", 5997, "EUR")


def test_zero_decimal_currency(pp):
    provider, server, _ = pp
    provider.create_checkout(_request("JPY", 1500))
    unit = server.requests[-1].json["purchase_units"][0]
    assert unit["amount"]["value"] == "4500" and unit["items"][0]["unit_amount"]["value"] == "1500"


def test_token_is_cached(pp):
    provider, server, _ = pp
    provider.create_checkout(_request())
    provider.create_checkout(_request())
    assert [p for p in server.paths() if p.endswith("/oauth2/token")] == ["POST /v1/oauth2/token"]


def test_capture_and_refund(pp):
    provider, server, _ = pp
    cs = provider.create_checkout(_request())
    cap = provider.capture(cs.id)
    assert server.requests[-1].path == f"/v2/checkout/orders/{cs.id}/capture"
    assert server.requests[-1].headers["paypal-request-id"] == f"capture-{cs.id}"
    assert (cap["status"], cap["amount"], cap["currency"]) == ("COMPLETED", 5997, "EUR")
    full = provider.refund(cap["id"], idempotency_key="refund-a")
    rec = server.requests[-1]
    assert (rec.path, rec.json, rec.headers["paypal-request-id"]) == (
        f"/v2/payments/captures/{cap['id']}/refund",
        {},
        "refund-a",
    )
    assert (full["status"], full["amount"]) == ("COMPLETED", 5997)
    part = provider.refund(cap["id"], 1000, currency="EUR")
    assert server.requests[-1].json == {"amount": {"currency_code": "EUR", "value": "10.00"}}
    assert part["amount"] == 1000
    provider.refund(cap["id"], 250)  # currency looked up from the capture
    assert server.requests[-2].method == "GET" and server.requests[-1].json["amount"]["value"] == "2.50"


def test_errors_become_provider_errors(pp):
    provider, _, _ = pp
    with pytest.raises(ProviderError) as err:
        provider.capture("UNKNOWN")
    assert (err.value.status, err.value.code) == (404, "RESOURCE_NOT_FOUND")
    bad = PayPalProvider("x", "y", api_base=provider.http.base_url.__str__(), webhook_id="WH")
    with pytest.raises(ProviderError):
        bad.access_token()


def _event() -> bytes:
    return json.dumps(
        {
            "id": "WH-58D329510W468432D-8HN650336L201105X",
            "event_version": "1.0",
            "create_time": "2019-02-14T21:50:07.940Z",
            "resource_type": "capture",
            "event_type": "PAYMENT.CAPTURE.COMPLETED",
            "resource": {
                "id": "42311647XV020574X",
                "status": "COMPLETED",
                "amount": {"currency_code": "USD", "value": "1.00"},
            },
        }
    ).encode()


def test_webhook_verification_posts_the_documented_request(pp):
    provider, server, _ = pp
    raw = _event()
    ev = provider.verify_webhook(paypal_headers(), raw)
    rec = server.requests[-1]
    assert rec.path == "/v1/notifications/verify-webhook-signature"
    assert rec.json == {
        "auth_algo": "SHA256withRSA",
        "cert_url": paypal_headers()["PAYPAL-CERT-URL"],
        "transmission_id": "69cd13f0-d67a-11e5-baa3-778b53f4ae55",
        "transmission_sig": "good-signature",
        "transmission_time": "2016-02-18T20:01:35Z",
        "webhook_id": "WH-TEST-1",
        "webhook_event": json.loads(raw),
    }
    assert rec.body.endswith(raw + b"}")  # the event is sent back byte for byte
    assert (ev.id, ev.type, ev.data["id"], ev.created) == (
        "WH-58D329510W468432D-8HN650336L201105X",
        "PAYMENT.CAPTURE.COMPLETED",
        "42311647XV020574X",
        1550181007,
    )


def test_webhook_verification_failures(pp):
    provider, server, _ = pp
    with pytest.raises(SignatureError, match="rejected"):
        provider.verify_webhook(paypal_headers("forged"), _event())
    headers = paypal_headers()
    del headers["PAYPAL-TRANSMISSION-SIG"]
    n = len(server.requests)
    with pytest.raises(SignatureError, match="transmission"):
        provider.verify_webhook(headers, _event())
    with pytest.raises(SignatureError):
        provider.verify_webhook(paypal_headers(), b"not json")
    assert len(server.requests) == n  # nothing asked of PayPal for malformed deliveries
    no_id = PayPalProvider(PAYPAL_ID, PAYPAL_SECRET, api_base=server.url, webhook_id=None)
    with pytest.raises(SignatureError):
        no_id.verify_webhook(paypal_headers(), _event())
