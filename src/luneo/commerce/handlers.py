"""Event subscribers: payments → order status.

- `payment.checkout_completed` (paid) / `payment.succeeded` for an order → pending → paid,
  once (the order row is locked; an order that is no longer pending is left alone), the
  payment ref recorded, `order_confirmation` queued and `order.paid` published;
- `payment.failed` → the order stays pending with `payment_status = failed`;
- `payment.refunded` → a full refund moves the order to refunded and publishes
  `order.refunded`; a partial one only records `payment_status = partially_refunded`.

Imported from `luneo.commerce.models`, so the subscribers exist whenever the models do.
"""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from luneo.platform.clock import utcnow
from luneo.platform.events import subscribe

log = structlog.get_logger("luneo.commerce")


def _order_for(session: Session, payload: dict[str, Any]) -> Any:
    """The order a payment event is about (locked), or None when it is not about an order of ours."""
    from luneo.commerce.models import Order

    metadata = payload.get("metadata") or {}
    order_id = metadata.get("order_id") or (
        payload.get("reference") if payload.get("kind") == "order" else None
    )
    if not order_id or not payload.get("brand_id") or session.info.get("brand_id") != payload.get("brand_id"):
        return None
    return session.execute(
        select(Order).where(Order.id == str(order_id)).with_for_update()
    ).scalar_one_or_none()


def _note(order: Any, event: str, payload: dict[str, Any], **extra: Any) -> None:
    entry = {
        "event": event,
        "at": utcnow().isoformat(),
        "provider": payload.get("provider"),
        "event_id": payload.get("event_id"),
        **extra,
    }
    order.history = [*(order.history or []), entry]


@subscribe("payment.checkout_completed")
@subscribe("payment.succeeded")
def on_payment_captured(session: Session, payload: dict[str, Any]) -> None:
    from luneo.commerce import service

    if payload.get("payment_status") not in ("paid", "no_payment_required", "succeeded"):
        return  # checkout finished but the money is not captured yet (async methods)
    order = _order_for(session, payload)
    if order is None:
        return
    if order.status != "pending":
        _capture_for_closed_order(session, order, payload)
        return
    # The event's own amount and currency (never the payment row's) must be the order's total.
    amount, currency = payload.get("amount"), payload.get("currency")
    if (
        not isinstance(amount, int)
        or amount != order.total_cents
        or not isinstance(currency, str)
        or currency.upper() != order.currency
    ):
        order.payment_status = "mismatch"
        _note(order, "payment_mismatch", payload, amount=amount, currency=currency)
        log.error(
            "order_payment_mismatch",
            order_id=order.id,
            amount=amount,
            currency=currency,
            expected=order.total_cents,
            expected_currency=order.currency,
        )
        if not payload.get("flag"):  # payments has not alerted about this capture yet
            from luneo.payments import public as payments

            payments.alert(
                session,
                order.brand_id,
                "amount_mismatch",
                f"A payment for order {order.number} does not match its total; the order was not paid.",
                payment_id=payload.get("payment_id"),
                provider=payload.get("provider"),
                event_id=payload.get("event_id"),
                reference=order.id,
                expected=(order.total_cents, order.currency),
                received=(amount, currency),
            )
        return
    service.mark_paid(
        session,
        order,
        payment_id=payload.get("payment_id"),
        payment_ref=payload.get("payment_ref"),
        actor=f"{payload.get('provider')}:{payload.get('event_id')}",
    )


def _capture_for_closed_order(session: Session, order: Any, payload: dict[str, Any]) -> None:
    """Money captured for an order that can no longer take it (cancelled, refunded, or already paid
    by another payment): recorded on the order, the payment flagged and refunded, the brand alerted.
    A re-announcement of the payment that paid the order is not one of these."""
    if payload.get("payment_status") != "succeeded":
        return  # act once, on `payment.succeeded` (the checkout completion precedes it)
    if order.status not in ("cancelled", "refunded") and payload.get("payment_id") == order.payment_id:
        return
    from luneo.payments import public as payments

    _note(
        order,
        "payment_after_close",
        payload,
        payment_id=payload.get("payment_id"),
        amount=payload.get("amount"),
        currency=payload.get("currency"),
        order_status=order.status,
    )
    why = "was already paid" if order.status not in ("cancelled", "refunded") else f"is {order.status}"
    payments.refund_unpayable_capture(session, {**payload, "reference": f"order {order.number}"}, why)


@subscribe("payment.failed")
def on_payment_failed(session: Session, payload: dict[str, Any]) -> None:
    order = _order_for(session, payload)
    if order is None or order.status != "pending":
        return
    order.payment_status = "failed"
    _note(order, "payment_failed", payload, error=payload.get("error"))


@subscribe("payment.refunded")
def on_payment_refunded(session: Session, payload: dict[str, Any]) -> None:
    from luneo.commerce import service

    order = _order_for(session, payload)
    if order is None:
        return
    if payload.get("payment_id") and order.payment_id and payload["payment_id"] != order.payment_id:
        # the refund of another payment (e.g. a late or duplicate capture): the order is unchanged
        _note(
            order,
            "other_payment_refunded",
            payload,
            payment_id=payload["payment_id"],
            amount=payload.get("amount"),
        )
        return
    full = payload.get("payment_status") == "refunded"
    if not full:
        if order.status not in ("cancelled", "refunded"):
            order.payment_status = "partially_refunded"
        _note(order, "payment_partially_refunded", payload, amount=payload.get("amount"))
        return
    if not service.mark_refunded(
        session, order, actor=f"{payload.get('provider')}:{payload.get('event_id')}"
    ):
        if order.status == "cancelled":
            order.payment_status = "refunded"
        _note(order, "payment_refunded", payload)
