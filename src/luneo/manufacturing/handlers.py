"""Event subscribers of the manufacturing domain (registered when `luneo.manufacturing.models` is imported).

- `order.paid` `{order_id, brand_id, number, items: [{order_item_id, product_id, snapshot_id, quantity}],
  customer}` → one work order per item (idempotent on order_item_id), each export enqueued.
- `order.refunded` `{order_id, brand_id}` → the order's work orders are cancelled (unless done).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from luneo.platform.events import subscribe

EVENT_ACTOR = "event:order"


@subscribe("order.paid")
def on_order_paid(session: Session, payload: dict[str, Any]) -> None:
    from luneo.manufacturing import service

    with service.as_brand(session, str(payload["brand_id"])) as ok:
        if ok:
            service.create_from_order(session, payload, EVENT_ACTOR, source="event")


@subscribe("order.refunded")
def on_order_refunded(session: Session, payload: dict[str, Any]) -> None:
    from luneo.manufacturing import service

    with service.as_brand(session, str(payload["brand_id"])) as ok:
        if ok:
            service.cancel_order(session, str(payload["order_id"]), EVENT_ACTOR)
