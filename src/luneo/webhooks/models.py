"""Webhooks tables: the brand's endpoints, the event outbox and one delivery per (event, endpoint)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from luneo.platform.database import Base, TenantMixin, TimestampMixin
from luneo.platform.ids import new_id

#: Delivery statuses: `blocked` waits for an earlier delivery of the same order to the same
#: endpoint; `pending` is due (or scheduled for a retry); `succeeded` and `failed` are final.
DELIVERY_STATUSES = ("blocked", "pending", "succeeded", "failed")


class WebhookEndpoint(TenantMixin, TimestampMixin, Base):
    """A URL the brand receives events at, with its signing secret (encrypted at rest).

    During a rotation overlap the previous secret also signs, until `previous_secret_expires_at`."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("whe"))
    url: Mapped[str] = mapped_column(sa.String(2048), nullable=False)
    description: Mapped[str] = mapped_column(sa.String(500), nullable=False, default="")
    event_types: Mapped[list[Any]] = mapped_column(nullable=False, default=list)
    enabled: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    secret_enc: Mapped[str] = mapped_column(sa.Text, nullable=False)
    previous_secret_enc: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(nullable=True)
    disabled_reason: Mapped[str | None] = mapped_column(sa.String(500), nullable=True)
    disabled_at: Mapped[datetime | None] = mapped_column(nullable=True)
    failure_streak: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)


class WebhookEvent(TenantMixin, Base):
    """One event of the outbox, written in the transaction of the change it describes.

    `payload` is the body sent as is: `{"type", "id", "timestamp", "data", "version"}`;
    `ordering_key` (e.g. the order id) keeps one order's events in sequence per endpoint."""

    __tablename__ = "webhook_events"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("evt"))
    type: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    version: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)
    payload: Mapped[dict[str, Any]] = mapped_column(nullable=False)
    ordering_key: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    request_id: Mapped[str | None] = mapped_column(sa.String(128), nullable=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False)

    __table_args__ = (sa.Index("ix_webhook_events_brand_created", "brand_id", "created_at"),)


class WebhookDelivery(TenantMixin, TimestampMixin, Base):
    """The delivery of one event to one endpoint: its attempts so far and the last answer."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("whd"))
    event_id: Mapped[str] = mapped_column(
        sa.String(40), sa.ForeignKey("webhook_events.id", ondelete="CASCADE"), index=True, nullable=False
    )
    endpoint_id: Mapped[str] = mapped_column(
        sa.String(40), sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True, nullable=False
    )
    event_type: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    ordering_key: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    status: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    attempt: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    response_status: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    response_body: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    error: Mapped[str | None] = mapped_column(sa.String(1000), nullable=True)
    duration_ms: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_attempt_at: Mapped[datetime | None] = mapped_column(nullable=True)
    request_id: Mapped[str | None] = mapped_column(sa.String(128), nullable=True)
    replay_of: Mapped[str | None] = mapped_column(sa.String(40), nullable=True)

    __table_args__ = (
        sa.Index("ix_webhook_deliveries_chain", "endpoint_id", "ordering_key", "status"),
        sa.Index("ix_webhook_deliveries_endpoint_created", "endpoint_id", "created_at"),
        sa.CheckConstraint("status in ('blocked','pending','succeeded','failed')", name="status"),
    )
