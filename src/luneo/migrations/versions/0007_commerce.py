"""commerce: carts, cart items, shop settings, coupons, order counters, orders, order items

Revision ID: 0007
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import luneo.platform.database

revision: str = "0007"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = ("0003", "0004")


def upgrade() -> None:
    op.create_table(
        "carts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("owner_kind", sa.String(length=8), nullable=False),
        sa.Column("owner_id", sa.String(length=80), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("created_at", luneo.platform.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", luneo.platform.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.CheckConstraint("owner_kind in ('user','shopper','key')", name=op.f("ck_carts_owner_kind")),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"], name=op.f("fk_carts_brand_id_brands")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carts")),
        sa.UniqueConstraint(
            "brand_id", "owner_kind", "owner_id", name=op.f("uq_carts_brand_id_owner_kind_owner_id")
        ),
    )
    with op.batch_alter_table("carts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_carts_brand_id"), ["brand_id"], unique=False)

    op.create_table(
        "coupons",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("percent_off_bps", sa.Integer(), nullable=True),
        sa.Column("amount_off_cents", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("valid_from", luneo.platform.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("valid_until", luneo.platform.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("usage_limit", sa.Integer(), nullable=True),
        sa.Column("times_used", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", luneo.platform.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", luneo.platform.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.CheckConstraint("kind in ('percent','fixed')", name=op.f("ck_coupons_kind")),
        sa.CheckConstraint("times_used >= 0", name=op.f("ck_coupons_times_used")),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"], name=op.f("fk_coupons_brand_id_brands")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupons")),
        sa.UniqueConstraint("brand_id", "code", name=op.f("uq_coupons_brand_id_code")),
    )
    with op.batch_alter_table("coupons", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coupons_brand_id"), ["brand_id"], unique=False)

    op.create_table(
        "order_counters",
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"], name=op.f("fk_order_counters_brand_id_brands")),
        sa.PrimaryKeyConstraint("brand_id", name=op.f("pk_order_counters")),
    )
    op.create_table(
        "shop_settings",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("shipping_flat_cents", sa.Integer(), nullable=False),
        sa.Column("free_shipping_threshold_cents", sa.Integer(), nullable=True),
        sa.Column("tax_rate_bps", sa.Integer(), nullable=False),
        sa.Column("tax_inclusive", sa.Boolean(), nullable=False),
        sa.Column("tax_shipping", sa.Boolean(), nullable=False),
        sa.Column("created_at", luneo.platform.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", luneo.platform.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.CheckConstraint("shipping_flat_cents >= 0", name=op.f("ck_shop_settings_shipping_flat_cents")),
        sa.CheckConstraint(
            "tax_rate_bps >= 0 and tax_rate_bps <= 10000", name=op.f("ck_shop_settings_tax_rate_bps")
        ),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"], name=op.f("fk_shop_settings_brand_id_brands")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_settings")),
        sa.UniqueConstraint("brand_id", name=op.f("uq_shop_settings_brand_id")),
    )
    with op.batch_alter_table("shop_settings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shop_settings_brand_id"), ["brand_id"], unique=False)

    op.create_table(
        "orders",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("payment_status", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=12), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("subtotal_cents", sa.Integer(), nullable=False),
        sa.Column("discount_cents", sa.Integer(), nullable=False),
        sa.Column("shipping_cents", sa.Integer(), nullable=False),
        sa.Column("tax_cents", sa.Integer(), nullable=False),
        sa.Column("tax_rate_bps", sa.Integer(), nullable=False),
        sa.Column("tax_inclusive", sa.Boolean(), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.Column("coupon_id", sa.String(length=40), nullable=True),
        sa.Column("coupon_code", sa.String(length=64), nullable=True),
        sa.Column("customer_email", sa.String(length=320), nullable=False),
        sa.Column("customer_name", sa.String(length=200), nullable=False),
        sa.Column(
            "shipping_address",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("payment_id", sa.String(length=40), nullable=True),
        sa.Column("payment_ref", sa.String(length=255), nullable=True),
        sa.Column("created_by", sa.String(length=40), nullable=True),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "history",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("paid_at", luneo.platform.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("in_production_at", luneo.platform.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("shipped_at", luneo.platform.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", luneo.platform.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", luneo.platform.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("refunded_at", luneo.platform.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", luneo.platform.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", luneo.platform.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.CheckConstraint(
            "status in ('pending','paid','in_production','shipped','delivered','cancelled','refunded')",
            name=op.f("ck_orders_status"),
        ),
        sa.CheckConstraint("total_cents >= 0", name=op.f("ck_orders_total_cents")),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"], name=op.f("fk_orders_brand_id_brands")),
        sa.ForeignKeyConstraint(["coupon_id"], ["coupons.id"], name=op.f("fk_orders_coupon_id_coupons")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("brand_id", "number", name=op.f("uq_orders_brand_id_number")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orders_brand_id"), ["brand_id"], unique=False)
        batch_op.create_index("ix_orders_brand_id_created_at", ["brand_id", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_coupon_id"), ["coupon_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_customer_email"), ["customer_email"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_payment_id"), ["payment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_status"), ["status"], unique=False)

    op.create_table(
        "cart_items",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("cart_id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("snapshot_id", sa.String(length=40), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", luneo.platform.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", luneo.platform.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.CheckConstraint("quantity > 0 and quantity <= 1000", name=op.f("ck_cart_items_quantity")),
        sa.CheckConstraint("unit_price_cents >= 0", name=op.f("ck_cart_items_unit_price_cents")),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"], name=op.f("fk_cart_items_brand_id_brands")),
        sa.ForeignKeyConstraint(
            ["cart_id"], ["carts.id"], name=op.f("fk_cart_items_cart_id_carts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_cart_items_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"], ["snapshots.id"], name=op.f("fk_cart_items_snapshot_id_snapshots")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cart_items")),
    )
    with op.batch_alter_table("cart_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cart_items_brand_id"), ["brand_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cart_items_cart_id"), ["cart_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cart_items_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cart_items_snapshot_id"), ["snapshot_id"], unique=False)

    op.create_table(
        "order_items",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("product_sku", sa.String(length=100), nullable=False),
        sa.Column("product_name", sa.String(length=200), nullable=False),
        sa.Column("snapshot_id", sa.String(length=40), nullable=True),
        sa.Column("spec_hash", sa.String(length=64), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.Column("discount_cents", sa.Integer(), nullable=False),
        sa.Column("tax_cents", sa.Integer(), nullable=False),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", luneo.platform.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", luneo.platform.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.CheckConstraint("price_cents >= 0", name=op.f("ck_order_items_price_cents")),
        sa.CheckConstraint("quantity > 0 and quantity <= 1000", name=op.f("ck_order_items_quantity")),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"], name=op.f("fk_order_items_brand_id_brands")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_items_order_id_orders"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_order_items_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"], ["snapshots.id"], name=op.f("fk_order_items_snapshot_id_snapshots")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_items")),
    )
    with op.batch_alter_table("order_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_items_brand_id"), ["brand_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_items_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_items_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_items_snapshot_id"), ["snapshot_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("order_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_items_snapshot_id"))
        batch_op.drop_index(batch_op.f("ix_order_items_product_id"))
        batch_op.drop_index(batch_op.f("ix_order_items_order_id"))
        batch_op.drop_index(batch_op.f("ix_order_items_brand_id"))

    op.drop_table("order_items")
    with op.batch_alter_table("cart_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cart_items_snapshot_id"))
        batch_op.drop_index(batch_op.f("ix_cart_items_product_id"))
        batch_op.drop_index(batch_op.f("ix_cart_items_cart_id"))
        batch_op.drop_index(batch_op.f("ix_cart_items_brand_id"))

    op.drop_table("cart_items")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_status"))
        batch_op.drop_index(batch_op.f("ix_orders_payment_id"))
        batch_op.drop_index(batch_op.f("ix_orders_customer_email"))
        batch_op.drop_index(batch_op.f("ix_orders_coupon_id"))
        batch_op.drop_index("ix_orders_brand_id_created_at")
        batch_op.drop_index(batch_op.f("ix_orders_brand_id"))

    op.drop_table("orders")
    with op.batch_alter_table("shop_settings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shop_settings_brand_id"))

    op.drop_table("shop_settings")
    op.drop_table("order_counters")
    with op.batch_alter_table("coupons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coupons_brand_id"))

    op.drop_table("coupons")
    with op.batch_alter_table("carts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_carts_brand_id"))

    op.drop_table("carts")
