"""Commerce aggregates for the dashboard's analytics: paid orders and revenue per UTC day, and
paid orders per product (each one aggregated query, never a loop over orders)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from luneo.commerce.models import Order, OrderItem

#: Orders paid and then cancelled or refunded are not revenue.
NOT_REVENUE = ("cancelled", "refunded")


@dataclass(frozen=True)
class DayRevenue:
    """Paid orders of one UTC day in one currency and their total (minor units)."""

    day: date
    currency: str
    orders: int
    revenue_cents: int


def _bounds(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    start = datetime.combine(date_from, time.min, tzinfo=UTC)
    return start, datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=UTC)


def _utc_day(session: Session, column: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _paid_in(brand_id: str, date_from: date, date_to: date) -> list[Any]:
    start, end = _bounds(date_from, date_to)
    return [
        Order.brand_id == brand_id,
        Order.paid_at.is_not(None),
        Order.paid_at >= start,
        Order.paid_at < end,
        Order.status.not_in(NOT_REVENUE),
    ]


def revenue_per_day(session: Session, brand_id: str, date_from: date, date_to: date) -> list[DayRevenue]:
    """Orders paid on each UTC day of `date_from`..`date_to` (by `paid_at`, cancelled and refunded
    left out) and their totals, per currency; days without orders are absent. One query."""
    day = _utc_day(session, Order.paid_at)
    stmt = (
        select(day, Order.currency, func.count(Order.id), func.coalesce(func.sum(Order.total_cents), 0))
        .where(*_paid_in(brand_id, date_from, date_to))
        .group_by(day, Order.currency)
        .order_by(day, Order.currency)
    )
    return [
        DayRevenue(_as_date(d), str(cur), int(n), int(total)) for d, cur, n, total in session.execute(stmt)
    ]


def paid_orders_by_product(session: Session, brand_id: str, date_from: date, date_to: date) -> dict[str, int]:
    """product id → how many paid orders (same rule as `revenue_per_day`) contain it. One query."""
    stmt = (
        select(OrderItem.product_id, func.count(distinct(Order.id)))
        .join(Order, Order.id == OrderItem.order_id)
        .where(OrderItem.brand_id == brand_id, *_paid_in(brand_id, date_from, date_to))
        .group_by(OrderItem.product_id)
    )
    return {str(pid): int(n) for pid, n in session.execute(stmt)}


def paid_orders_count(
    session: Session, brand_id: str, date_from: date, date_to: date, product_id: str | None = None
) -> int:
    """How many distinct paid orders (optionally containing `product_id`). One query."""
    stmt = select(func.count(distinct(Order.id))).where(*_paid_in(brand_id, date_from, date_to))
    if product_id is not None:
        stmt = stmt.join(OrderItem, OrderItem.order_id == Order.id).where(OrderItem.product_id == product_id)
    return int(session.execute(stmt).scalar() or 0)
