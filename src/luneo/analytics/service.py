"""Analytics use cases: store a batch of widget events, count the funnel per product and day."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from luneo.analytics.error_codes import AnalyticsErrorCode
from luneo.analytics.models import AnalyticsEvent
from luneo.analytics.schemas import (
    EVENT_NAMES,
    EventIn,
    FunnelOut,
    FunnelRow,
    FunnelTotals,
    IngestOut,
    RejectedEvent,
)
from luneo.catalog.public import Product
from luneo.platform.clock import utcnow
from luneo.platform.domain_errors import DomainError

MAX_PAST = timedelta(days=2)  # a batch the widget kept while offline
MAX_FUTURE = timedelta(minutes=10)  # a shopper's clock running fast
MAX_FUNNEL_DAYS = 366
DEFAULT_FUNNEL_DAYS = 30


def ingest(session: Session, events: Sequence[EventIn], shopper_id: str | None) -> IngestOut:
    """Store the events of one batch in the session's brand.

    An event naming a product that is not the brand's (another brand's, or none) is dropped, as
    is one whose client timestamp is more than `MAX_PAST` old or `MAX_FUTURE` ahead; the rest are
    stored. `shopper_id` is the shopper token's public id (never the token)."""
    now = utcnow()
    wanted = {e.product_id for e in events}
    known = set(session.execute(select(Product.id).where(Product.id.in_(wanted))).scalars())
    rejected: list[RejectedEvent] = []
    rows: list[AnalyticsEvent] = []
    for index, event in enumerate(events):
        if event.product_id not in known:
            rejected.append(RejectedEvent(index=index, code="unknown_product"))
            continue
        if not now - MAX_PAST <= event.at <= now + MAX_FUTURE:
            rejected.append(RejectedEvent(index=index, code="timestamp_out_of_range"))
            continue
        rows.append(
            AnalyticsEvent(
                name=event.name,
                product_id=event.product_id,
                session_id=event.session_id,
                shopper_id=shopper_id,
                duration_ms=event.duration_ms,
                occurred_at=event.at,
                received_at=now,
                day=now.date(),
            )
        )
    session.add_all(rows)
    return IngestOut(accepted=len(rows), rejected=rejected)


def _conversion(counts: dict[str, int]) -> float | None:
    loaded = counts["widget_loaded"]
    return round(counts["add_to_cart_clicked"] / loaded, 4) if loaded else None


def funnel(
    session: Session,
    brand_id: str,
    date_from: date | None = None,
    date_to: date | None = None,
    product_id: str | None = None,
) -> FunnelOut:
    """Event counts and conversion (add_to_cart_clicked / widget_loaded) per product and UTC day,
    `date_from`..`date_to` inclusive (default: the last 30 days), optionally for one product.
    A product id the brand does not have simply has no rows."""
    date_to = date_to or utcnow().date()
    date_from = date_from or date_to - timedelta(days=DEFAULT_FUNNEL_DAYS - 1)
    if date_from > date_to:
        raise DomainError(AnalyticsErrorCode.FUNNEL_RANGE_INVALID, "`from` is after `to`.")
    if (date_to - date_from).days + 1 > MAX_FUNNEL_DAYS:
        raise DomainError(
            AnalyticsErrorCode.FUNNEL_RANGE_INVALID,
            f"The range spans more than {MAX_FUNNEL_DAYS} days.",
            max_days=MAX_FUNNEL_DAYS,
        )
    ae = AnalyticsEvent
    query = (
        select(ae.product_id, ae.day, ae.name, func.count())
        .where(ae.brand_id == brand_id, ae.day >= date_from, ae.day <= date_to)
        .group_by(ae.product_id, ae.day, ae.name)
    )
    if product_id is not None:
        query = query.where(ae.product_id == product_id)
    cells: dict[tuple[str, date], dict[str, int]] = defaultdict(lambda: dict.fromkeys(EVENT_NAMES, 0))
    totals = dict.fromkeys(EVENT_NAMES, 0)
    for pid, day, name, count in session.execute(query):
        if name in totals:
            cells[(pid, day)][name] += int(count)
            totals[name] += int(count)
    rows = [
        FunnelRow(product_id=pid, day=day, counts=counts, conversion=_conversion(counts))
        for (pid, day), counts in sorted(cells.items())
    ]
    return FunnelOut(
        date_from=date_from,
        date_to=date_to,
        product_id=product_id,
        events=list(EVENT_NAMES),
        rows=rows,
        totals=FunnelTotals(counts=totals, conversion=_conversion(totals)),
    )


# --- the dashboard's funnel: widget sessions per step, then paid orders -------------------

#: (step, event name) of the widget funnel, in order; "order" comes from commerce.
FUNNEL_STEPS: tuple[tuple[str, str], ...] = (
    ("loaded", "widget_loaded"),
    ("validated", "preview_requested"),
    ("preview", "preview_ready"),
    ("snapshot", "snapshot_created"),
    ("add_to_cart", "add_to_cart_clicked"),
)
STEP_NAMES: tuple[str, ...] = (*(s for s, _ in FUNNEL_STEPS), "order")
MAX_PRODUCT_OPTIONS = 500


@dataclass(frozen=True)
class FunnelStep:
    """One step: how many reached it and the share of the first step (None without loads)."""

    step: str
    count: int
    conversion: float | None


@dataclass
class WidgetFunnel:
    """The funnel of a date range (all products or one), and one funnel per product."""

    date_from: date
    date_to: date
    product_id: str | None
    steps: list[FunnelStep]
    validation_failed: int
    per_product: dict[str, list[FunnelStep]] = field(default_factory=dict)


def check_range(date_from: date | None, date_to: date | None) -> tuple[date, date]:
    """The range with its defaults (the last 30 days); 422 `funnel_range_invalid` when reversed or
    longer than `MAX_FUNNEL_DAYS`."""
    date_to = date_to or utcnow().date()
    date_from = date_from or date_to - timedelta(days=DEFAULT_FUNNEL_DAYS - 1)
    if date_from > date_to:
        raise DomainError(AnalyticsErrorCode.FUNNEL_RANGE_INVALID, "`from` is after `to`.")
    if (date_to - date_from).days + 1 > MAX_FUNNEL_DAYS:
        raise DomainError(
            AnalyticsErrorCode.FUNNEL_RANGE_INVALID,
            f"The range spans more than {MAX_FUNNEL_DAYS} days.",
            max_days=MAX_FUNNEL_DAYS,
        )
    return date_from, date_to


def _steps(counts: dict[str, int]) -> list[FunnelStep]:
    first = counts.get("loaded", 0)
    return [
        FunnelStep(step, counts.get(step, 0), round(counts.get(step, 0) / first, 4) if first else None)
        for step in STEP_NAMES
    ]


def product_options(session: Session, brand_id: str) -> list[tuple[str, str]]:
    """(id, name) of the brand's products for a filter, by name (at most `MAX_PRODUCT_OPTIONS`)."""
    stmt = (
        select(Product.id, Product.name)
        .where(Product.brand_id == brand_id)
        .order_by(Product.name, Product.id)
        .limit(MAX_PRODUCT_OPTIONS)
    )
    return [(str(i), str(n)) for i, n in session.execute(stmt)]


def widget_funnel(
    session: Session,
    brand_id: str,
    date_from: date | None = None,
    date_to: date | None = None,
    product_id: str | None = None,
) -> WidgetFunnel:
    """Widget sessions (page views) that reached each step, per product and in all, by UTC day of
    receipt, then paid orders (commerce). Two aggregated queries for the widget steps and orders
    per product, one for the orders in all; never a loop over events."""
    from luneo.commerce import public as commerce

    date_from, date_to = check_range(date_from, date_to)
    ae = AnalyticsEvent
    names = {name: step for step, name in FUNNEL_STEPS} | {"validation_failed": "validation_failed"}
    query = (
        select(ae.product_id, ae.name, func.count(func.distinct(ae.session_id)))
        .where(ae.brand_id == brand_id, ae.day >= date_from, ae.day <= date_to, ae.name.in_(names))
        .group_by(ae.product_id, ae.name)
    )
    if product_id is not None:
        query = query.where(ae.product_id == product_id)
    per: dict[str, dict[str, int]] = defaultdict(dict)
    for pid, name, count in session.execute(query):
        per[str(pid)][names[str(name)]] = int(count)
    orders = commerce.paid_orders_by_product(session, brand_id, date_from, date_to)
    for pid, n in orders.items():
        if product_id is None or pid == product_id:
            per[pid]["order"] = n
    totals: dict[str, int] = defaultdict(int)
    for counts in per.values():
        for step, n in counts.items():
            if step != "order":
                totals[step] += n
    totals["order"] = commerce.paid_orders_count(session, brand_id, date_from, date_to, product_id)
    return WidgetFunnel(
        date_from=date_from,
        date_to=date_to,
        product_id=product_id,
        steps=_steps(totals),
        validation_failed=totals.get("validation_failed", 0),
        per_product={pid: _steps(c) for pid, c in sorted(per.items())},
    )
