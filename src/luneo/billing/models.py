"""Billing tables: the brand's subscription and monthly usage counters."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from luneo.platform.database import Base, TenantMixin, TimestampMixin
from luneo.platform.ids import new_id


class Subscription(TimestampMixin, TenantMixin, Base):
    """A brand's current subscription as the payment provider reports it (one row per brand)."""

    __tablename__ = "subscriptions"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("sub"))
    provider: Mapped[str] = mapped_column(sa.String(20))
    provider_subscription_id: Mapped[str] = mapped_column(sa.String(255), index=True)
    provider_customer_id: Mapped[str | None] = mapped_column(sa.String(255))
    plan: Mapped[str] = mapped_column(sa.String(32))
    status: Mapped[str] = mapped_column(sa.String(32))
    current_period_start: Mapped[datetime | None] = mapped_column()
    current_period_end: Mapped[datetime | None] = mapped_column()
    cancel_at_period_end: Mapped[bool] = mapped_column(default=False)
    last_invoice_id: Mapped[str | None] = mapped_column(sa.String(255))
    last_event_id: Mapped[str | None] = mapped_column(sa.String(255))

    __table_args__ = (sa.UniqueConstraint("brand_id"),)


class UsageCounter(TenantMixin, Base):
    """How much of a metered resource a brand used in one calendar month (UTC)."""

    __tablename__ = "usage_counters"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("use"))
    metric: Mapped[str] = mapped_column(sa.String(40))
    period: Mapped[str] = mapped_column(sa.String(7))  # YYYY-MM
    count: Mapped[int] = mapped_column(sa.Integer, default=0)

    __table_args__ = (sa.UniqueConstraint("brand_id", "metric", "period"),)
