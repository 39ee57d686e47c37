"""Payments tables: payments (one per checkout / intent), dev checkout sessions, inbound webhook events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from luneo.platform.database import Base, TenantMixin, TimestampMixin
from luneo.platform.ids import new_id

PAYMENT_STATUSES = ("pending", "succeeded", "failed", "partially_refunded", "refunded", "canceled")
EVENT_STATUSES = ("received", "processed", "failed", "ignored")
# amount_mismatch: the event's amount or currency is missing or differs from what we asked;
# order_not_payable: money captured for an order that was cancelled, refunded or already paid.
PAYMENT_FLAGS = ("amount_mismatch", "order_not_payable")


class Payment(TimestampMixin, TenantMixin, Base):
    """A payment we asked a provider for: written at checkout / intent creation, updated by webhooks."""

    __tablename__ = "payments"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("pay"))
    provider: Mapped[str] = mapped_column(sa.String(16))
    reference: Mapped[str] = mapped_column(sa.String(200), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))  # order | credits | subscription
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    amount_refunded: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    # Provider refs: the checkout session / PayPal order, and the payment itself (PaymentIntent / capture).
    checkout_id: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    payment_ref: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    checkout_url: Mapped[str | None] = mapped_column(sa.Text)
    customer_email: Mapped[str | None] = mapped_column(sa.String(320))
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    paid_at: Mapped[datetime | None] = mapped_column()
    last_event_id: Mapped[str | None] = mapped_column(sa.String(255))
    # Set when a captured payment could not be applied as asked (see PAYMENT_FLAGS); the brand
    # and the operator were alerted. NULL for a payment that went as expected.
    flag: Mapped[str | None] = mapped_column(sa.String(40))

    __table_args__ = (
        sa.CheckConstraint(
            "status in ('pending','succeeded','failed','partially_refunded','refunded','canceled')",
            name="status",
        ),
        sa.CheckConstraint("kind in ('order','credits','subscription')", name="kind"),
        sa.CheckConstraint("amount >= 0 and amount_refunded >= 0", name="amounts"),
    )


class PaymentSession(TimestampMixin, TenantMixin, Base):
    """A hosted checkout of the embedded dev provider (`/checkout/dev/{id}`)."""

    __tablename__ = "payment_sessions"

    id: Mapped[str] = mapped_column(sa.String(60), primary_key=True, default=lambda: new_id("cs_dev"))
    payment_id: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    reference: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(16))
    line_items: Mapped[list[Any]] = mapped_column(default=list)
    amount_total: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    customer_email: Mapped[str | None] = mapped_column(sa.String(320))
    success_url: Mapped[str] = mapped_column(sa.Text)
    cancel_url: Mapped[str] = mapped_column(sa.Text)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    status: Mapped[str] = mapped_column(sa.String(16), default="open")  # open | complete | failed
    payment_intent: Mapped[str] = mapped_column(sa.String(60), default=lambda: new_id("pi_dev"))
    completed_at: Mapped[datetime | None] = mapped_column()


class InboundEvent(TimestampMixin, Base):
    """A provider webhook event, stored once (provider + event id unique) and applied once."""

    __tablename__ = "inbound_events"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("iev"))
    provider: Mapped[str] = mapped_column(sa.String(16))
    event_id: Mapped[str] = mapped_column(sa.String(255))
    type: Mapped[str] = mapped_column(sa.String(120))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    brand_id: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="received")
    processed_at: Mapped[datetime | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(sa.Text)
    attempts: Mapped[int] = mapped_column(default=0)

    __table_args__ = (
        sa.UniqueConstraint("provider", "event_id"),
        sa.CheckConstraint("status in ('received','processed','failed','ignored')", name="status"),
    )
