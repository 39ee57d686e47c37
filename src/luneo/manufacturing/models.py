"""Manufacturing tables: work orders (one per order item), their history, production packs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from luneo.platform.database import Base, TenantMixin, TimestampMixin
from luneo.platform.ids import new_id

WorkOrderStatus = Literal[
    "queued",
    "exporting",
    "needs_review",
    "needs_attention",
    "ready",
    "in_production",
    "done",
    "failed",
    "cancelled",
]
WORK_ORDER_STATUSES: tuple[str, ...] = get_args(WorkOrderStatus)
PACK_STATUSES = ("pending", "success", "failed")


class ProductionPack(TimestampMixin, TenantMixin, Base):
    """One export of a snapshot with given pack options (unique per brand + snapshot + options hash)."""

    __tablename__ = "production_packs"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("pack"))
    snapshot_id: Mapped[str] = mapped_column(sa.String(40), sa.ForeignKey("snapshots.id"), index=True)
    spec_hash: Mapped[str] = mapped_column(sa.String(64))
    options_hash: Mapped[str] = mapped_column(sa.String(32))
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(sa.String(12), default="pending")
    job_id: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    storage_key: Mapped[str | None] = mapped_column(sa.String(512))
    sha256: Mapped[str | None] = mapped_column(sa.String(64))
    size_bytes: Mapped[int | None] = mapped_column("bytes", sa.Integer)
    manifest: Mapped[dict[str, Any] | None] = mapped_column()
    print_checks: Mapped[list[Any]] = mapped_column(default=list)
    error: Mapped[str | None] = mapped_column(sa.Text)
    finished_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (
        sa.UniqueConstraint("brand_id", "snapshot_id", "options_hash"),
        sa.CheckConstraint("status in ('pending','success','failed')", name="status"),
    )


class WorkOrder(TimestampMixin, TenantMixin, Base):
    """What the workshop makes for one order item: status machine, assignee, checks and pack."""

    __tablename__ = "work_orders"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("wo"))
    order_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)  # commerce id, no FK
    order_item_id: Mapped[str] = mapped_column(sa.String(64))
    order_number: Mapped[str | None] = mapped_column(sa.String(64))
    # empty only while `needs_attention` (a paid item without a producible snapshot)
    snapshot_id: Mapped[str | None] = mapped_column(sa.String(40), sa.ForeignKey("snapshots.id"), index=True)
    spec_hash: Mapped[str | None] = mapped_column(sa.String(64))
    product_id: Mapped[str] = mapped_column(sa.String(40), index=True)
    product_sku: Mapped[str] = mapped_column(sa.String(100), default="")
    production_method: Mapped[str] = mapped_column(sa.String(16), index=True)
    quantity: Mapped[int] = mapped_column(sa.Integer, default=1)
    kerf_mm: Mapped[float] = mapped_column(sa.Float, default=0.0)
    status: Mapped[str] = mapped_column(sa.String(16), default="queued", index=True)
    assignee: Mapped[str | None] = mapped_column(sa.String(200))
    production_partner: Mapped[str | None] = mapped_column(sa.String(200))
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    print_checks: Mapped[list[Any]] = mapped_column(default=list)
    checks_blocked: Mapped[bool] = mapped_column(default=False)
    checks_overridden_by: Mapped[str | None] = mapped_column(sa.String(64))
    checks_overridden_at: Mapped[datetime | None] = mapped_column()
    pack_id: Mapped[str | None] = mapped_column(
        sa.String(40), sa.ForeignKey("production_packs.id"), index=True
    )
    pack_key: Mapped[str | None] = mapped_column(sa.String(512))
    pack_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    pack_bytes: Mapped[int | None] = mapped_column(sa.Integer)
    error: Mapped[str | None] = mapped_column(sa.Text)
    source: Mapped[str] = mapped_column(sa.String(12), default="event")  # event | api
    history_seq: Mapped[int] = mapped_column(sa.Integer, default=0)  # last history event's seq
    created_by: Mapped[str | None] = mapped_column(sa.String(64))
    ready_at: Mapped[datetime | None] = mapped_column()
    done_at: Mapped[datetime | None] = mapped_column()
    cancelled_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (
        sa.UniqueConstraint("brand_id", "order_item_id"),
        sa.CheckConstraint(
            "status in ('queued','exporting','needs_review','needs_attention','ready','in_production','done',"
            "'failed','cancelled')",
            name="status",
        ),
        sa.CheckConstraint("quantity >= 1", name="quantity"),
    )


class WorkOrderEvent(TenantMixin, Base):
    """History: who moved a work order from what to what, when, and why."""

    __tablename__ = "work_order_events"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("woe"))
    work_order_id: Mapped[str] = mapped_column(
        sa.String(40), sa.ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int] = mapped_column(sa.Integer)  # 1, 2, … per work order (history order)
    from_status: Mapped[str | None] = mapped_column(sa.String(16))
    to_status: Mapped[str] = mapped_column(sa.String(16))
    actor: Mapped[str] = mapped_column(sa.String(64))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column()
