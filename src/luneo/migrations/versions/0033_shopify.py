"""integrations.shopify: shopify_integrations, shopify_product_mappings, shopify_webhook_deliveries

Revision ID: 0033
Revises: 0001 (a new domain: its own branch); depends on 0003 (products)

RLS: `enable_rls` walls the three brand tables (see 0021 for why the grant depends on the role).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import luneo.platform.database
from luneo.platform import rls

revision: str = "0033"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "0003"  # products (mapping foreign key)

TS = luneo.platform.database.UTCDateTime(timezone=True)
JSON = luneo.platform.database.JSONType
TABLES = ("shopify_integrations", "shopify_product_mappings", "shopify_webhook_deliveries")


def _app_role_exists() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    found = bind.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": rls.DEFAULT_ROLE})
    return found.first() is not None


def upgrade() -> None:
    op.create_table(
        "shopify_integrations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("shop_domain", sa.String(length=255), nullable=False),
        sa.Column("access_token_enc", sa.Text(), nullable=True),
        sa.Column("access_token_expires_at", TS, nullable=True),
        sa.Column("refresh_token_enc", sa.Text(), nullable=True),
        sa.Column("refresh_token_expires_at", TS, nullable=True),
        sa.Column("token_version", sa.Integer(), nullable=False),
        sa.Column("scopes", sa.String(length=1000), nullable=False),
        sa.Column("api_version", sa.String(length=16), nullable=False),
        sa.Column("property_secret_enc", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("installed_at", TS, nullable=False),
        sa.Column("uninstalled_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_shopify_integrations_brand_id_brands")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shopify_integrations")),
        sa.UniqueConstraint("shop_domain", name=op.f("uq_shopify_integrations_shop_domain")),
    )
    op.create_index(
        op.f("ix_shopify_integrations_brand_id"), "shopify_integrations", ["brand_id"], unique=False
    )
    op.create_table(
        "shopify_product_mappings",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("integration_id", sa.String(length=40), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("shopify_product_id", sa.String(length=40), nullable=False),
        sa.Column("shopify_variant_id", sa.String(length=40), nullable=True),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_shopify_product_mappings_brand_id_brands")
        ),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["shopify_integrations.id"],
            name=op.f("fk_shopify_product_mappings_integration_id_shopify_integrations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_shopify_product_mappings_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shopify_product_mappings")),
        sa.UniqueConstraint(
            "integration_id",
            "external_id",
            name=op.f("uq_shopify_product_mappings_integration_id_external_id"),
        ),
    )
    op.create_index(
        op.f("ix_shopify_product_mappings_brand_id"), "shopify_product_mappings", ["brand_id"], unique=False
    )
    op.create_index(
        op.f("ix_shopify_product_mappings_integration_id"),
        "shopify_product_mappings",
        ["integration_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_shopify_product_mappings_product_id"),
        "shopify_product_mappings",
        ["product_id"],
        unique=False,
    )
    op.create_table(
        "shopify_webhook_deliveries",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("integration_id", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("api_version", sa.String(length=16), nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("processed_at", TS, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("payload", JSON, nullable=True),
        sa.Column("result", JSON, nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_shopify_webhook_deliveries_brand_id_brands")
        ),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["shopify_integrations.id"],
            name=op.f("fk_shopify_webhook_deliveries_integration_id_shopify_integrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shopify_webhook_deliveries")),
        sa.UniqueConstraint(
            "integration_id", "event_id", name=op.f("uq_shopify_webhook_deliveries_integration_id_event_id")
        ),
    )
    op.create_index(
        op.f("ix_shopify_webhook_deliveries_brand_id"),
        "shopify_webhook_deliveries",
        ["brand_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_shopify_webhook_deliveries_integration_id"),
        "shopify_webhook_deliveries",
        ["integration_id"],
        unique=False,
    )
    role = rls.DEFAULT_ROLE if _app_role_exists() else None
    for table in TABLES:
        rls.enable_rls(table, role=role)


def downgrade() -> None:
    for table in reversed(TABLES):
        rls.disable_rls(table)
    op.drop_table("shopify_webhook_deliveries")
    op.drop_table("shopify_product_mappings")
    op.drop_table("shopify_integrations")
