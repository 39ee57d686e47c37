"""Analytics tables: one row per widget event (no personal data: a shopper's public id at most)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from luneo.platform.database import Base, TenantMixin
from luneo.platform.ids import new_id


class AnalyticsEvent(TenantMixin, Base):
    """A widget event. `day` is the UTC day the server received it (the funnel's bucket: a
    shopper's clock cannot move it); `occurred_at` is the client's own timestamp."""

    __tablename__ = "analytics_events"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("aev"))
    name: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    product_id: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    session_id: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    shopper_id: Mapped[str | None] = mapped_column(sa.String(40), nullable=True)
    duration_ms: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    occurred_at: Mapped[datetime] = mapped_column(nullable=False)
    received_at: Mapped[datetime] = mapped_column(nullable=False)
    day: Mapped[date] = mapped_column(sa.Date, nullable=False)

    __table_args__ = (sa.Index("ix_analytics_events_brand_day_product", "brand_id", "day", "product_id"),)
