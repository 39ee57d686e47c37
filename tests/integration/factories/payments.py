"""Isolation factories for payments routes."""

from __future__ import annotations

from tests.integration.factories import body, factory


@factory("payment_id")
def make_payment(client, brand) -> str:
    r = client.post(
        "/api/v1/billing/payment-intents",
        headers=brand.h("sk"),
        json={"amount": 1250, "currency": "EUR", "metadata": {"note": "iso"}},
    )
    assert r.status_code == 201, r.text
    return r.json()["payment_id"]


@body("POST", "/api/v1/payments/{payment_id}/refund")
def refund_body(client, brand, ids):
    return {"amount": 100}
