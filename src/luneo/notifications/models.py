"""The email outbox table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from luneo.platform.database import Base, TenantMixin, TimestampMixin
from luneo.platform.ids import new_id

EMAIL_STATUSES = ("queued", "sent", "failed")


class EmailMessage(TimestampMixin, TenantMixin, Base):
    """One email to one recipient: queued, then sent (or failed after retries)."""

    __tablename__ = "email_messages"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("eml"))
    to: Mapped[str] = mapped_column(sa.String(320))
    template: Mapped[str] = mapped_column(sa.String(64))
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)
    subject: Mapped[str] = mapped_column(sa.String(998), default="")
    status: Mapped[str] = mapped_column(sa.String(16), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    provider: Mapped[str | None] = mapped_column(sa.String(32))
    provider_id: Mapped[str | None] = mapped_column(sa.String(255))
    error: Mapped[str | None] = mapped_column(sa.Text)
    sent_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (sa.CheckConstraint("status in ('queued','sent','failed')", name="status"),)


#: Non-essential emails a recipient may opt out of (RFC 8058 one-click), by template.
OPT_OUT_CATEGORIES: dict[str, str] = {"low_credits": "low_credits", "render_ready": "render_ready"}


class EmailOptOut(TimestampMixin, TenantMixin, Base):
    """A recipient who unsubscribed from one category of a brand's non-essential emails."""

    __tablename__ = "email_opt_outs"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("eoo"))
    email: Mapped[str] = mapped_column(sa.String(320))
    category: Mapped[str] = mapped_column(sa.String(32))
    source: Mapped[str] = mapped_column(sa.String(16), default="one_click")  # one_click | page

    __table_args__ = (sa.UniqueConstraint("brand_id", "email", "category"),)
