"""manufacturing: production packs, work orders and their history

Revision ID: 0009
Revises: 0001
Depends on: 0004 (snapshots)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import luneo.platform.database

revision: str = "0009"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = ("0004",)

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TS = luneo.platform.database.UTCDateTime(timezone=True)
WO_STATUSES = (
    "status in ('queued','exporting','needs_review','ready','in_production','done','failed','cancelled')"
)


def _brand(table: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "brand_id",
        sa.String(40),
        sa.ForeignKey("brands.id", name=f"fk_{table}_brand_id_brands"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "production_packs",
        sa.Column("id", sa.String(40), primary_key=True),
        _brand("production_packs"),
        sa.Column(
            "snapshot_id",
            sa.String(40),
            sa.ForeignKey("snapshots.id", name="fk_production_packs_snapshot_id_snapshots"),
            nullable=False,
        ),
        sa.Column("spec_hash", sa.String(64), nullable=False),
        sa.Column("options_hash", sa.String(32), nullable=False),
        sa.Column("options", JSON, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("job_id", sa.String(40)),
        sa.Column("storage_key", sa.String(512)),
        sa.Column("sha256", sa.String(64)),
        sa.Column("bytes", sa.Integer()),
        sa.Column("manifest", JSON),
        sa.Column("print_checks", JSON, nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("finished_at", TS),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint(
            "brand_id",
            "snapshot_id",
            "options_hash",
            name="uq_production_packs_brand_id_snapshot_id_options_hash",
        ),
        sa.CheckConstraint("status in ('pending','success','failed')", name="ck_production_packs_status"),
    )
    for col in ("brand_id", "snapshot_id", "job_id"):
        op.create_index(f"ix_production_packs_{col}", "production_packs", [col])
    op.create_table(
        "work_orders",
        sa.Column("id", sa.String(40), primary_key=True),
        _brand("work_orders"),
        sa.Column("order_id", sa.String(64)),
        sa.Column("order_item_id", sa.String(64), nullable=False),
        sa.Column("order_number", sa.String(64)),
        sa.Column(
            "snapshot_id",
            sa.String(40),
            sa.ForeignKey("snapshots.id", name="fk_work_orders_snapshot_id_snapshots"),
            nullable=False,
        ),
        sa.Column("spec_hash", sa.String(64), nullable=False),
        sa.Column("product_id", sa.String(40), nullable=False),
        sa.Column("product_sku", sa.String(100), nullable=False),
        sa.Column("production_method", sa.String(16), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("kerf_mm", sa.Float(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("assignee", sa.String(200)),
        sa.Column("production_partner", sa.String(200)),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("print_checks", JSON, nullable=False),
        sa.Column("checks_blocked", sa.Boolean(), nullable=False),
        sa.Column("checks_overridden_by", sa.String(64)),
        sa.Column("checks_overridden_at", TS),
        sa.Column(
            "pack_id",
            sa.String(40),
            sa.ForeignKey("production_packs.id", name="fk_work_orders_pack_id_production_packs"),
        ),
        sa.Column("pack_key", sa.String(512)),
        sa.Column("pack_sha256", sa.String(64)),
        sa.Column("pack_bytes", sa.Integer()),
        sa.Column("error", sa.Text()),
        sa.Column("source", sa.String(12), nullable=False),
        sa.Column("history_seq", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(64)),
        sa.Column("ready_at", TS),
        sa.Column("done_at", TS),
        sa.Column("cancelled_at", TS),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("brand_id", "order_item_id", name="uq_work_orders_brand_id_order_item_id"),
        sa.CheckConstraint(WO_STATUSES, name="ck_work_orders_status"),
        sa.CheckConstraint("quantity >= 1", name="ck_work_orders_quantity"),
    )
    for col in (
        "brand_id",
        "order_id",
        "snapshot_id",
        "product_id",
        "production_method",
        "status",
        "pack_id",
    ):
        op.create_index(f"ix_work_orders_{col}", "work_orders", [col])
    op.create_table(
        "work_order_events",
        sa.Column("id", sa.String(40), primary_key=True),
        _brand("work_order_events"),
        sa.Column(
            "work_order_id",
            sa.String(40),
            sa.ForeignKey(
                "work_orders.id", name="fk_work_order_events_work_order_id_work_orders", ondelete="CASCADE"
            ),
            nullable=False,
        ),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(16)),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_work_order_events_brand_id", "work_order_events", ["brand_id"])
    op.create_index("ix_work_order_events_work_order_id", "work_order_events", ["work_order_id"])


def downgrade() -> None:
    op.drop_table("work_order_events")
    op.drop_table("work_orders")
    op.drop_table("production_packs")
