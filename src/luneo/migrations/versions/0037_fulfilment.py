"""fulfilment: printful_configs, printful_mappings, fulfilment_targets, fulfilment_handoffs

Revision ID: 0037
Revises: 0001 (a new domain: its own branch)

RLS: `enable_rls` walls each brand table (see 0021 for why the grant depends on the role).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import luneo.platform.database
from luneo.platform import rls

revision: str = "0037"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "0003"  # printful_mappings.product_id → products

TS = luneo.platform.database.UTCDateTime(timezone=True)
JSON = luneo.platform.database.JSONType
TABLES = ("printful_configs", "printful_mappings", "fulfilment_targets", "fulfilment_handoffs")


def _app_role_exists() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    found = bind.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": rls.DEFAULT_ROLE})
    return found.first() is not None


def _common(table: str) -> list[Any]:
    return [
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"], name=op.f(f"fk_{table}_brand_id_brands")),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def upgrade() -> None:
    op.create_table(
        "printful_configs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("api_token_enc", sa.Text(), nullable=True),
        sa.Column("store_id", sa.String(length=40), nullable=True),
        sa.Column("webhook_secret_enc", sa.Text(), nullable=True),
        sa.Column("shipping", sa.String(length=32), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        *_common("printful_configs"),
        sa.UniqueConstraint("brand_id", name=op.f("uq_printful_configs_brand_id")),
    )
    op.create_table(
        "printful_mappings",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("catalog_variant_id", sa.Integer(), nullable=False),
        sa.Column("placement", sa.String(length=64), nullable=False),
        sa.Column("technique", sa.String(length=32), nullable=False),
        *_common("printful_mappings"),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_printful_mappings_product_id_products")
        ),
        sa.UniqueConstraint("brand_id", "product_id", name=op.f("uq_printful_mappings_brand_id_product_id")),
    )
    op.create_index(
        op.f("ix_printful_mappings_product_id"), "printful_mappings", ["product_id"], unique=False
    )
    op.create_table(
        "fulfilment_targets",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("secret_enc", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        *_common("fulfilment_targets"),
        sa.UniqueConstraint("brand_id", name=op.f("uq_fulfilment_targets_brand_id")),
    )
    op.create_table(
        "fulfilment_handoffs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("work_order_id", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=True),
        sa.Column("external_status", sa.String(length=32), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("tracking_number", sa.String(length=128), nullable=True),
        sa.Column("carrier", sa.String(length=128), nullable=True),
        sa.Column("tracking_url", sa.String(length=1000), nullable=True),
        sa.Column("details", JSON, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        sa.Column("shipped_at", TS, nullable=True),
        *_common("fulfilment_handoffs"),
        sa.UniqueConstraint("brand_id", "key", name=op.f("uq_fulfilment_handoffs_brand_id_key")),
    )
    op.create_index(
        op.f("ix_fulfilment_handoffs_order_id"), "fulfilment_handoffs", ["order_id"], unique=False
    )
    op.create_index(
        op.f("ix_fulfilment_handoffs_external_id"), "fulfilment_handoffs", ["external_id"], unique=False
    )
    role = rls.DEFAULT_ROLE if _app_role_exists() else None
    for table in TABLES:
        op.create_index(op.f(f"ix_{table}_brand_id"), table, ["brand_id"], unique=False)
        rls.enable_rls(table, role=role)


def downgrade() -> None:
    for table in reversed(TABLES):
        rls.disable_rls(table)
        op.drop_table(table)
