"""Routes: payment intents, payments, refunds, and inbound provider webhooks."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from luneo.payments import service
from luneo.payments.models import Payment
from luneo.payments.schemas import (
    PaymentIntentIn,
    PaymentIntentOut,
    PaymentOut,
    RefundIn,
    RefundOut,
    WebhookAck,
)
from luneo.payments.signatures import SignatureError
from luneo.platform.deps import OrdersReadDep, PaymentsWriteDep
from luneo.platform.errors import Problem

router = APIRouter(tags=["payments"])


@router.post("/billing/payment-intents", response_model=PaymentIntentOut, status_code=201)
def create_payment_intent(body: PaymentIntentIn, t: PaymentsWriteDep) -> PaymentIntentOut:
    """Create a payment to confirm client-side (Stripe PaymentIntent, PayPal order, dev intent).

    Metadata may not set a reserved key (422 `reserved_metadata_key`): credits and plans are
    bought through `POST /credits/buy` and `POST /billing/create-checkout-session`, priced by the
    server."""
    payment, intent = service.create_payment_intent(
        t.session,
        t.brand_id,
        body.amount,
        body.currency,
        body.metadata,
        reference=body.reference,
        kind=body.kind,
    )
    return PaymentIntentOut(
        payment_id=payment.id,
        provider=payment.provider,
        id=str(intent["id"]),
        client_secret=intent.get("client_secret"),
        status=intent.get("status"),
        amount=payment.amount,
        currency=payment.currency,
    )


@router.get("/payments/{payment_id}", response_model=PaymentOut)
def get_payment(payment_id: str, t: OrdersReadDep) -> Payment:
    """One payment of the brand, as the providers' webhooks last left it."""
    return service.get_payment(t.session, payment_id)


@router.post("/payments/{payment_id}/refund", response_model=RefundOut, status_code=202)
def refund_payment(payment_id: str, body: RefundIn, t: PaymentsWriteDep) -> RefundOut:
    """Refund a captured payment (all of what remains when `amount` is omitted); the payment
    row and `payment.refunded` follow from the provider's webhook."""
    result = service.refund_payment(t.session, payment_id, body.amount)
    return RefundOut(
        payment_id=payment_id, id=str(result["id"]), status=result.get("status"), amount=result.get("amount")
    )


def _ack(result: service.WebhookResult) -> JSONResponse:
    if result.status == "failed":
        raise Problem(
            500,
            "webhook_processing_failed",
            "The event was stored but could not be applied; redeliver it to retry.",
            event_id=result.event_id,
        )
    return JSONResponse(
        WebhookAck(status=result.status, event_id=result.event_id).model_dump(exclude_none=True)
    )


@router.post("/webhooks/stripe", response_model=WebhookAck)
async def stripe_webhook(request: Request) -> JSONResponse:
    """Stripe events verified on the raw body with the Stripe webhook secret; outside production
    and only when Stripe is not configured, the dev provider's (`LUNEO_DEV_WEBHOOK_SECRET`). In
    production without Stripe: 503 `stripe_not_configured`."""
    raw = await request.body()
    try:
        result = await run_in_threadpool(service.handle_stripe_webhook, request.headers, raw)
    except SignatureError as exc:
        raise Problem(400, "invalid_signature", str(exc)) from None
    return _ack(result)


@router.post("/webhooks/paypal", response_model=WebhookAck)
async def paypal_webhook(request: Request) -> JSONResponse:
    """PayPal events, verified with PayPal's verify-webhook-signature API."""
    raw = await request.body()
    try:
        result = await run_in_threadpool(service.handle_paypal_webhook, request.headers, raw)
    except SignatureError as exc:
        raise Problem(400, "invalid_signature", str(exc)) from None
    return _ack(result)
