"""What other domains may use of commerce: the server's price of a personalized product, and the
orders the brand dashboard lists, shows and moves (the same service calls as the JSON API).

Other domains import `luneo.commerce.public` (or `from luneo.commerce import public as commerce`),
never `luneo.commerce.pricing`, `.service` or other internals (import-linter contract
`domains-through-public`). The widget's quote prices with exactly these functions, so a quote
equals the cart line for the same design.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from luneo.commerce.models import Order
from luneo.commerce.pricing import AddOn, unit_price, zone_add_ons
from luneo.commerce.reports import (  # noqa: F401 (the dashboard's analytics)
    DayRevenue,
    paid_orders_by_product,
    paid_orders_count,
    revenue_per_day,
)
from luneo.commerce.schemas import MAX_QUANTITY
from luneo.commerce.service import (
    Customer,
    LineRequest,
    create_order,
    get_order,
    item_approvals,
    list_orders,
    mark_paid,
    transition,
)
from luneo.commerce.status import STATUSES, can_transition

__all__ = [
    "MAX_QUANTITY",
    "STATUSES",
    "AddOn",
    "Customer",
    "LineRequest",
    "Order",
    "can_transition",
    "create_order",
    "get_order",
    "item_approvals",
    "list_orders",
    "mark_paid",
    "transition",
    "unit_price",
    "zone_add_ons",
]


def order_figures(session: Session, brand_id: str, today: datetime, week_start: datetime) -> dict[str, int]:
    """The home page's figures in one query: orders created since `today` / `week_start` (UTC
    midnights) and `paid` (orders ever paid, test orders included)."""
    from sqlalchemy import case, func, select

    from luneo.commerce.models import Order

    row = session.execute(
        select(
            func.count(case((Order.created_at >= today, 1))),
            func.count(case((Order.created_at >= week_start, 1))),
            func.count(case((Order.paid_at.is_not(None), 1))),
        ).where(Order.brand_id == brand_id)
    ).one()
    return {"today": int(row[0]), "week": int(row[1]), "paid": int(row[2])}
