"""integrations.shopify: shopify_orders (the Luneo side of each Shopify order)

Revision ID: 0035
Revises: 0033 (the Shopify branch)

RLS: `enable_rls` walls the brand table (see 0021 for why the grant depends on the role).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import luneo.platform.database
from luneo.platform import rls

revision: str = "0035"
down_revision: str | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = luneo.platform.database.UTCDateTime(timezone=True)
JSON = luneo.platform.database.JSONType
TABLE = "shopify_orders"


def _app_role_exists() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    found = bind.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": rls.DEFAULT_ROLE})
    return found.first() is not None


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("integration_id", sa.String(length=40), nullable=False),
        sa.Column("shopify_order_id", sa.String(length=40), nullable=False),
        sa.Column("admin_graphql_api_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=True),
        sa.Column("review_reasons", JSON, nullable=False),
        sa.Column("lines", JSON, nullable=False),
        sa.Column("paid_at", TS, nullable=True),
        sa.Column("cancelled_at", TS, nullable=True),
        sa.Column("writeback", JSON, nullable=False),
        sa.Column("written_back_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"], name=op.f("fk_shopify_orders_brand_id_brands")),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["shopify_integrations.id"],
            name=op.f("fk_shopify_orders_integration_id_shopify_integrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shopify_orders")),
        sa.UniqueConstraint(
            "brand_id", "shopify_order_id", name=op.f("uq_shopify_orders_brand_id_shopify_order_id")
        ),
    )
    op.create_index(op.f("ix_shopify_orders_brand_id"), TABLE, ["brand_id"], unique=False)
    op.create_index(op.f("ix_shopify_orders_integration_id"), TABLE, ["integration_id"], unique=False)
    op.create_index(op.f("ix_shopify_orders_order_id"), TABLE, ["order_id"], unique=False)
    rls.enable_rls(TABLE, role=rls.DEFAULT_ROLE if _app_role_exists() else None)


def downgrade() -> None:
    rls.disable_rls(TABLE)
    op.drop_table(TABLE)
