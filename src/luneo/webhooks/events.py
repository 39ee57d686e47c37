"""The webhook event catalogue: which domain event becomes which webhook event, and its data.

Every webhook body is `{"type", "id", "timestamp", "data", "version"}` (see docs/WEBHOOKS.md).
`translate(session, bus_event, payload)` turns one event of the platform bus (published inside the
transaction of the change) into zero or more webhook events `(type, data, ordering_key)`; the
ordering key (the order id) keeps one order's events in sequence per endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from luneo.commerce import public as commerce
from luneo.manufacturing import public as manufacturing

PAYLOAD_VERSION = 1
#: How long the signed URLs inside a webhook stay valid: past the ~3-day retry schedule.
SIGNED_URL_TTL_S = 7 * 24 * 3600

ORDER_CREATED = "order.created"
ORDER_PAID = "order.paid"
ORDER_REFUNDED = "order.refunded"
ORDER_CANCELLED = "order.cancelled"
ORDER_SHIPPED = "order.shipped"
SNAPSHOT_CREATED = "snapshot.created"
SNAPSHOT_APPROVED = "snapshot.approved"
RENDER_READY = "render.ready"
WORK_ORDER_STATUS_CHANGED = "work_order.status_changed"
WORK_ORDER_FAILED = "work_order.failed"
PACK_READY = "pack.ready"
CREDITS_LOW_BALANCE = "credits.low_balance"
DESIGN_SAVED = "design.saved"

EVENT_TYPES: tuple[str, ...] = (
    ORDER_CREATED,
    ORDER_PAID,
    ORDER_REFUNDED,
    ORDER_CANCELLED,
    ORDER_SHIPPED,
    SNAPSHOT_CREATED,
    SNAPSHOT_APPROVED,
    RENDER_READY,
    WORK_ORDER_STATUS_CHANGED,
    WORK_ORDER_FAILED,
    PACK_READY,
    CREDITS_LOW_BALANCE,
    DESIGN_SAVED,
)

#: Domain events on the platform bus this domain listens to (`luneo.webhooks.handlers`).
BUS_EVENTS: tuple[str, ...] = (
    "order.created",
    "order.paid",
    "order.refunded",
    "order.cancelled",
    "order.shipped",
    "snapshot.created",
    "snapshot.approved",
    "render.ready",
    "work_order.status_changed",
    "credits.low_balance",
    "design.saved",
)


@dataclass(frozen=True)
class Outgoing:
    """One webhook event to write: its type, its `data`, and its ordering key (or None)."""

    type: str
    data: dict[str, Any]
    ordering_key: str | None = None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def order_data(order: Any) -> dict[str, Any]:
    """The `data` of every `order.*` event: the order as it is after the change."""
    return {
        "order_id": order.id,
        "number": order.number,
        "status": order.status,
        "payment_status": order.payment_status,
        "source": order.source,
        "currency": order.currency,
        "subtotal_cents": order.subtotal_cents,
        "discount_cents": order.discount_cents,
        "shipping_cents": order.shipping_cents,
        "tax_cents": order.tax_cents,
        "total_cents": order.total_cents,
        "customer": {"email": order.customer_email, "name": order.customer_name},
        "items": [
            {
                "order_item_id": i.id,
                "product_id": i.product_id,
                "sku": i.product_sku,
                "name": i.product_name,
                "snapshot_id": i.snapshot_id,
                "spec_hash": i.spec_hash,
                "quantity": i.quantity,
                "price_cents": i.price_cents,
                "total_cents": i.total_cents,
            }
            for i in sorted(order.items, key=lambda i: i.position)
        ],
        "metadata": dict(order.metadata_ or {}),
        "created_at": _iso(getattr(order, "created_at", None)),
    }


def _order(session: Session, bus_event: str, payload: dict[str, Any]) -> list[Outgoing]:
    order = commerce.get_order(session, str(payload["order_id"]))
    data = order_data(order)
    if bus_event == "order.shipped":
        data["tracking_number"] = payload.get("tracking_number")
        data["carrier"] = payload.get("carrier")
    return [Outgoing(bus_event, data, order.id)]


def _work_order(payload: dict[str, Any]) -> list[Outgoing]:
    key = payload.get("order_id") or None
    base = {
        "work_order_id": payload["work_order_id"],
        "order_id": payload.get("order_id"),
        "order_item_id": payload.get("order_item_id"),
    }
    out = [
        Outgoing(
            WORK_ORDER_STATUS_CHANGED,
            {**base, "from": payload.get("from"), "to": payload["to"], "note": payload.get("note") or ""},
            key,
        )
    ]
    if payload["to"] == "failed":
        out.append(
            Outgoing(WORK_ORDER_FAILED, {**base, "error": payload.get("error") or payload.get("note")}, key)
        )
    if payload["to"] == "ready" and payload.get("pack_key"):
        url, expires_at = manufacturing.signed_url(
            str(payload["pack_key"]), f"{payload['work_order_id']}.zip", SIGNED_URL_TTL_S
        )
        pack = {
            "url": url,
            "expires_at": _iso(expires_at),
            "sha256": payload.get("pack_sha256"),
            "size_bytes": payload.get("pack_bytes"),
            "content_type": "application/zip",
        }
        out.append(Outgoing(PACK_READY, {**base, "pack": pack}, key))
    return out


def translate(session: Session, bus_event: str, payload: dict[str, Any]) -> list[Outgoing]:
    """The webhook events one bus event produces (empty when it concerns no webhook)."""
    if bus_event.startswith("order."):
        return _order(session, bus_event, payload)
    if bus_event == "work_order.status_changed":
        return _work_order(payload)
    if bus_event == "credits.low_balance":
        keys = ("balance", "last_topup", "threshold", "buy_url")
        return [Outgoing(CREDITS_LOW_BALANCE, {k: payload.get(k) for k in keys})]
    if bus_event in (SNAPSHOT_CREATED, SNAPSHOT_APPROVED, RENDER_READY, DESIGN_SAVED):
        return [Outgoing(bus_event, {k: v for k, v in payload.items() if k != "brand_id"})]
    return []
