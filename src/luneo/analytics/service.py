"""Analytics use cases: store a batch of widget events, count the funnel per product and day."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
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
