"""analytics: analytics_events (the widget's funnel events, per brand)

Revision ID: 0021
Revises: 0001 (a new domain: its own branch)

RLS: `enable_rls` walls the table. The app role it grants is created by 0019; on a fresh database
this revision may run before 0019 (independent branches), and then 0019 itself walls every brand
table and grants the role on every table, so the grant here is made only when the role exists.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import luneo.platform.database
from luneo.platform import rls

revision: str = "0021"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = luneo.platform.database.UTCDateTime(timezone=True)


def _app_role_exists() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    found = bind.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": rls.DEFAULT_ROLE})
    return found.first() is not None


def upgrade() -> None:
    op.create_table(
        "analytics_events",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("shopper_id", sa.String(length=40), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_analytics_events_brand_id_brands")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_events")),
    )
    op.create_index(op.f("ix_analytics_events_brand_id"), "analytics_events", ["brand_id"], unique=False)
    op.create_index(
        "ix_analytics_events_brand_day_product",
        "analytics_events",
        ["brand_id", "day", "product_id"],
        unique=False,
    )
    rls.enable_rls("analytics_events", role=rls.DEFAULT_ROLE if _app_role_exists() else None)


def downgrade() -> None:
    rls.disable_rls("analytics_events")
    op.drop_index("ix_analytics_events_brand_day_product", table_name="analytics_events")
    op.drop_index(op.f("ix_analytics_events_brand_id"), table_name="analytics_events")
    op.drop_table("analytics_events")
