"""Event subscribers of the Shopify integration (registered by `luneo.domains`).

- `work_order.status_changed` (manufacturing) to `done` → a `shopify.writeback` job when the work
  order's order came from a Shopify order (see `writeback`).
- `order.paid` (commerce) of a Luneo order held for review → its Shopify order is no longer held.
- `catalog.product_changed` of a product mapped in an active shop → the shop's pricing published
  again (debounced, see `pricing.enqueue_debounced`), so a zone price change reaches the checkout
  without waiting for the periodic sweep.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from luneo.catalog.public import PRODUCT_CHANGED
from luneo.manufacturing.public import WORK_ORDER_STATUS_CHANGED
from luneo.platform.events import subscribe


@subscribe(WORK_ORDER_STATUS_CHANGED)
def on_work_order_done(session: Session, payload: dict[str, Any]) -> None:
    from luneo.integrations.shopify import writeback
    from luneo.platform.tenancy import session_brand

    if payload.get("to") != "done" or session_brand(session) not in (None, payload.get("brand_id")):
        return
    writeback.enqueue_for_work_order(session, payload)


@subscribe(PRODUCT_CHANGED)
def on_product_changed(session: Session, payload: dict[str, Any]) -> None:
    """Republish the pricing of the brand's active shop when the product is mapped there."""
    from sqlalchemy import select

    from luneo.integrations.shopify import pricing
    from luneo.integrations.shopify.models import ACTIVE, ShopifyIntegration, ShopifyProductMapping
    from luneo.platform.tenancy import session_brand

    brand_id = payload.get("brand_id")
    if session_brand(session) not in (None, brand_id):
        return
    rows = session.execute(
        select(ShopifyIntegration)
        .where(
            ShopifyIntegration.brand_id == brand_id,
            ShopifyIntegration.status == ACTIVE,
            ShopifyIntegration.id.in_(
                select(ShopifyProductMapping.integration_id).where(
                    ShopifyProductMapping.product_id == payload.get("product_id")
                )
            ),
        )
        .order_by(ShopifyIntegration.id)
    ).scalars()
    for row in rows:
        pricing.enqueue_debounced(session, row, cause="product_changed")


@subscribe("order.paid")
def on_order_paid(session: Session, payload: dict[str, Any]) -> None:
    """A held order marked paid (the dashboard's approval or the API's transition) leaves review."""
    from luneo.integrations.shopify import orders
    from luneo.platform.tenancy import session_brand

    if session_brand(session) not in (None, payload.get("brand_id")):
        return
    orders.on_order_paid_elsewhere(session, str(payload.get("order_id") or ""))
