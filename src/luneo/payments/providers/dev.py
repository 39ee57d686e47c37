"""The embedded dev provider: a local hosted checkout page whose Pay / Fail buttons emit
Stripe-shaped events signed exactly as Stripe signs them (`LUNEO_DEV_WEBHOOK_SECRET`)."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy.orm import Session

from luneo.payments.providers.base import (
    CheckoutRequest,
    CheckoutSession,
    ProviderEvent,
    SignatureError,
    header,
    parse_stripe_event,
)
from luneo.payments.signatures import DEFAULT_TOLERANCE_S, sign_header, verify_header
from luneo.platform.ids import new_id


class DevProvider:
    """Stores checkouts in `payment_sessions`; needs the caller's session to create one."""

    name = "dev"

    def __init__(
        self,
        webhook_secret: str,
        public_base_url: str,
        *,
        session: Session | None = None,
        tolerance_s: int = DEFAULT_TOLERANCE_S,
    ) -> None:
        self.webhook_secret = webhook_secret
        self.public_base_url = public_base_url.rstrip("/")
        self.session = session
        self.tolerance_s = tolerance_s

    def page_url(self, session_id: str) -> str:
        return f"{self.public_base_url}/checkout/dev/{session_id}"

    def create_checkout(
        self, request: CheckoutRequest, *, idempotency_key: str | None = None
    ) -> CheckoutSession:
        from luneo.payments.models import PaymentSession
        from luneo.payments.providers.stripe import checkout_metadata

        if self.session is None:
            raise RuntimeError(
                "DevProvider.create_checkout needs a database session (use service.start_checkout)"
            )
        row = PaymentSession(
            brand_id=request.brand_id,
            payment_id=request.metadata.get("payment_id"),
            reference=request.reference,
            kind=request.kind,
            line_items=[i.model_dump() for i in request.line_items],
            amount_total=request.amount_total,
            currency=request.currency,
            customer_email=request.customer_email,
            success_url=request.success_url,
            cancel_url=request.cancel_url,
            metadata_=checkout_metadata(request),
        )
        self.session.add(row)
        self.session.flush()
        url = self.page_url(row.id)
        return CheckoutSession(
            id=row.id,
            url=url,
            provider=self.name,
            amount_total=row.amount_total,
            currency=row.currency,
            raw={"id": row.id, "object": "checkout.session", "url": url},
        )

    def create_payment_intent(
        self, amount: int, currency: str, metadata: dict[str, str], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        pi = new_id("pi_dev")
        return {
            "id": pi,
            "client_secret": f"{pi}_secret_{new_id('s')[2:]}",
            "status": "requires_payment_method",
            "raw": {
                "id": pi,
                "object": "payment_intent",
                "amount": amount,
                "currency": currency.lower(),
                "metadata": metadata,
            },
        }

    def refund(
        self,
        payment_ref: str,
        amount: int | None = None,
        *,
        currency: str | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Refunds succeed at once; `service.refund_payment` then emits the signed `charge.refunded`."""
        return {"id": new_id("re_dev"), "status": "succeeded", "amount": amount, "raw": {}}

    def verify_webhook(self, headers: Any, raw_body: bytes) -> ProviderEvent:
        verify_header(
            raw_body, header(headers, "stripe-signature"), self.webhook_secret, tolerance_s=self.tolerance_s
        )
        return parse_stripe_event(self.name, raw_body)

    # --- events the hosted page emits -----------------------------------------------------

    def signed(self, event: dict[str, Any]) -> tuple[dict[str, str], bytes]:
        """(headers, raw body) for an event, signed the way Stripe signs."""
        body = json.dumps(event, separators=(",", ":")).encode()
        return {
            "Stripe-Signature": sign_header(self.webhook_secret, body),
            "Content-Type": "application/json",
        }, body


def stripe_event(event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
    """A Stripe-shaped event envelope around `obj`."""
    return {
        "id": new_id("evt_dev"),
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
        "data": {"object": obj},
    }


def checkout_session_object(row: Any, payment_status: str) -> dict[str, Any]:
    """A `checkout.session` object (Stripe's shape) for a dev session row."""
    return {
        "id": row.id,
        "object": "checkout.session",
        "mode": "subscription" if row.kind == "subscription" else "payment",
        "client_reference_id": row.reference,
        "metadata": dict(row.metadata_),
        "amount_total": row.amount_total,
        "amount_subtotal": row.amount_total,
        "currency": row.currency.lower(),
        "customer_email": row.customer_email,
        "payment_status": payment_status,
        "status": "complete" if payment_status == "paid" else "open",
        "payment_intent": row.payment_intent,
        "success_url": row.success_url,
        "cancel_url": row.cancel_url,
        "livemode": False,
    }


def payment_intent_object(row: Any, status: str, error: str | None = None) -> dict[str, Any]:
    """A `payment_intent` object (Stripe's shape) for a dev session row."""
    return {
        "id": row.payment_intent,
        "object": "payment_intent",
        "amount": row.amount_total,
        "amount_received": row.amount_total if status == "succeeded" else 0,
        "currency": row.currency.lower(),
        "metadata": dict(row.metadata_),
        "status": status,
        "livemode": False,
        "last_payment_error": {"type": "card_error", "code": "card_declined", "message": error}
        if error
        else None,
    }


def charge_refunded_object(
    payment: Any, refunded_total: int, refund_id: str, refund_amount: int
) -> dict[str, Any]:
    """A `charge` object after a refund (Stripe's shape) for a payment row."""
    return {
        "id": "ch_dev_" + payment.id.split("_", 1)[-1],
        "object": "charge",
        "amount": payment.amount,
        "amount_refunded": refunded_total,
        "currency": payment.currency.lower(),
        "paid": True,
        "refunded": refunded_total >= payment.amount,
        "payment_intent": payment.payment_ref,
        "metadata": dict(payment.metadata_),
        "status": "succeeded",
        "livemode": False,
        "refunds": {
            "object": "list",
            "data": [
                {
                    "id": refund_id,
                    "object": "refund",
                    "amount": refund_amount,
                    "status": "succeeded",
                    "payment_intent": payment.payment_ref,
                }
            ],
        },
    }


__all__ = [
    "DevProvider",
    "SignatureError",
    "charge_refunded_object",
    "checkout_session_object",
    "payment_intent_object",
    "stripe_event",
]
