"""Stripe through the official SDK: Checkout Sessions, PaymentIntents, refunds, webhooks."""

from __future__ import annotations

import uuid
from typing import Any

import stripe

from luneo.payments.providers.base import (
    CheckoutRequest,
    CheckoutSession,
    ProviderError,
    ProviderEvent,
    SignatureError,
    header,
    parse_stripe_event,
)
from luneo.payments.signatures import DEFAULT_TOLERANCE_S, verify_header
from luneo.platform.http import outgoing_headers


def checkout_metadata(request: CheckoutRequest) -> dict[str, str]:
    """Metadata carried on the session and its PaymentIntent: the caller's plus our routing keys."""
    md = dict(request.metadata)
    md["brand_id"] = request.brand_id
    md["reference"] = request.reference
    md["kind"] = request.kind
    if request.kind == "order":
        md.setdefault("order_id", request.reference)
    return md


class StripeProvider:
    """Stripe with one `StripeClient` (API base overridable for tests via `LUNEO_STRIPE_API_BASE`)."""

    name = "stripe"

    def __init__(
        self,
        secret_key: str,
        webhook_secret: str | None,
        *,
        api_base: str | None = None,
        max_network_retries: int = 2,
        tolerance_s: int = DEFAULT_TOLERANCE_S,
    ) -> None:
        base: Any = {"api": api_base.rstrip("/")} if api_base else None
        self.client = stripe.StripeClient(
            secret_key, base_addresses=base, max_network_retries=max_network_retries
        )
        self.webhook_secret = webhook_secret
        self.tolerance_s = tolerance_s

    def _call(self, fn: Any, params: dict[str, Any], idempotency_key: str | None) -> dict[str, Any]:
        try:
            options = {"idempotency_key": idempotency_key or str(uuid.uuid4()), "headers": outgoing_headers()}
            obj = fn(params=params, options=options)
        except stripe.StripeError as exc:
            raise ProviderError(
                f"Stripe: {exc.user_message or exc}", status=exc.http_status, code=getattr(exc, "code", None)
            ) from exc
        return obj.to_dict()

    def create_checkout(
        self, request: CheckoutRequest, *, idempotency_key: str | None = None
    ) -> CheckoutSession:
        currency = request.currency.lower()
        md = checkout_metadata(request)
        subscription = request.kind == "subscription"
        items: list[dict[str, Any]] = []
        for item in request.line_items:
            product: dict[str, Any] = {"name": item.name}
            if item.image_url:
                product["images"] = [item.image_url]
            price: dict[str, Any] = {
                "currency": currency,
                "unit_amount": item.unit_amount,
                "product_data": product,
            }
            if subscription:
                price["recurring"] = {"interval": request.metadata.get("interval", "month")}
            items.append({"price_data": price, "quantity": item.quantity})
        params: dict[str, Any] = {
            "mode": "subscription" if subscription else "payment",
            "line_items": items,
            "client_reference_id": request.reference,
            "metadata": md,
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
        }
        if subscription:
            params["subscription_data"] = {"metadata": md}
        else:
            params["payment_intent_data"] = {"metadata": md}
        if request.customer_email:
            params["customer_email"] = request.customer_email
        raw = self._call(self.client.v1.checkout.sessions.create, params, idempotency_key)
        total = raw.get("amount_total")
        return CheckoutSession(
            id=raw["id"],
            url=raw.get("url") or "",
            provider=self.name,
            amount_total=int(total) if total is not None else request.amount_total,
            currency=str(raw.get("currency") or currency).upper(),
            raw=raw,
        )

    def create_payment_intent(
        self, amount: int, currency: str, metadata: dict[str, str], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        params = {
            "amount": amount,
            "currency": currency.lower(),
            "metadata": metadata,
            "automatic_payment_methods": {"enabled": True},
        }
        raw = self._call(self.client.v1.payment_intents.create, params, idempotency_key)
        return {
            "id": raw["id"],
            "client_secret": raw.get("client_secret"),
            "status": raw.get("status"),
            "raw": raw,
        }

    def refund(
        self,
        payment_ref: str,
        amount: int | None = None,
        *,
        currency: str | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {
            "charge" if payment_ref.startswith(("ch_", "py_")) else "payment_intent": payment_ref
        }
        if amount is not None:
            params["amount"] = amount
        raw = self._call(self.client.v1.refunds.create, params, idempotency_key)
        return {"id": raw["id"], "status": raw.get("status"), "amount": raw.get("amount"), "raw": raw}

    def verify_webhook(self, headers: Any, raw_body: bytes) -> ProviderEvent:
        if not self.webhook_secret:
            raise SignatureError("LUNEO_STRIPE_WEBHOOK_SECRET is not set")
        verify_header(
            raw_body, header(headers, "stripe-signature"), self.webhook_secret, tolerance_s=self.tolerance_s
        )
        return parse_stripe_event(self.name, raw_body)
