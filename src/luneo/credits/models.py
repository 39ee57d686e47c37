"""Credit tables: accounts (one per brand), the append-only ledger, packs and cost overrides."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from luneo.platform.clock import utcnow
from luneo.platform.database import Base, TenantMixin, TimestampMixin
from luneo.platform.ids import new_id

TRANSACTION_TYPES = ("purchase", "usage", "refund", "grant", "adjustment")


class CreditAccount(TimestampMixin, TenantMixin, Base):
    """A brand's balance. Only changed by conditional UPDATEs in `credits.service`."""

    __tablename__ = "credit_accounts"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("cac"))
    balance: Mapped[int] = mapped_column(sa.Integer, default=0)
    low_balance_flag: Mapped[bool] = mapped_column(default=False)
    last_topup_amount: Mapped[int] = mapped_column(sa.Integer, default=0)
    version: Mapped[int] = mapped_column(sa.Integer, default=0)

    __table_args__ = (
        sa.UniqueConstraint("brand_id"),
        sa.CheckConstraint("balance >= 0", name="balance_non_negative"),
    )


class CreditTransaction(TenantMixin, Base):
    """One ledger line (never updated or deleted): signed amount and the balance after it."""

    __tablename__ = "credit_transactions"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("ctx"))
    type: Mapped[str] = mapped_column(sa.String(16))
    amount: Mapped[int] = mapped_column(sa.Integer)
    balance_after: Mapped[int] = mapped_column(sa.Integer)
    operation: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    actor: Mapped[str | None] = mapped_column(sa.String(80))
    reference: Mapped[str] = mapped_column(sa.String(200))
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)

    __table_args__ = (
        sa.UniqueConstraint("brand_id", "reference"),
        sa.CheckConstraint("type in ('purchase','usage','refund','grant','adjustment')", name="type"),
        sa.CheckConstraint("balance_after >= 0", name="balance_after_non_negative"),
    )


class CreditPack(TimestampMixin, Base):
    """A pack of credits on sale (global, edited by the platform operator)."""

    __tablename__ = "credit_packs"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    credits: Mapped[int] = mapped_column(sa.Integer)
    price_cents: Mapped[int] = mapped_column(sa.Integer)
    currency: Mapped[str] = mapped_column(sa.String(3), default="EUR")
    active: Mapped[bool] = mapped_column(default=True)

    __table_args__ = (
        sa.CheckConstraint("credits > 0", name="credits_positive"),
        sa.CheckConstraint("price_cents >= 0", name="price_non_negative"),
    )


class CreditCost(TimestampMixin, Base):
    """The platform operator's override of an operation's default cost (see `costs.py`)."""

    __tablename__ = "credit_costs"

    operation: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    credits: Mapped[int] = mapped_column(sa.Integer)
    updated_by: Mapped[str | None] = mapped_column(sa.String(80))

    __table_args__ = (sa.CheckConstraint("credits >= 0", name="credits_non_negative"),)
