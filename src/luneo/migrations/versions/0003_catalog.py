"""catalog: products, product_zones, product_mappings, fonts, assets

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-21 20:46:00.166257
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import luneo.platform.database
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql


revision: str = "0003"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assets",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=512), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("bytes", sa.Integer(), nullable=False),
        sa.Column("width_px", sa.Integer(), nullable=True),
        sa.Column("height_px", sa.Integer(), nullable=True),
        sa.Column("original_filename", sa.String(length=255), nullable=True),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=True),
        sa.Column("created_at", luneo.platform.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", luneo.platform.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.CheckConstraint(
            "kind in ('upload','mockup','model','font','derived')", name=op.f("ck_assets_kind")
        ),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"], name=op.f("fk_assets_brand_id_brands")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assets")),
        sa.UniqueConstraint("brand_id", "sha256", name=op.f("uq_assets_brand_id_sha256")),
    )
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assets_brand_id"), ["brand_id"], unique=False)

    op.create_table(
        "fonts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("family", sa.String(length=200), nullable=False),
        sa.Column("style", sa.String(length=100), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=512), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("source_format", sa.String(length=8), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("licence_note", sa.Text(), nullable=False),
        sa.Column("glyph_coverage", sa.Integer(), nullable=False),
        sa.Column("original_filename", sa.String(length=255), nullable=True),
        sa.Column("created_at", luneo.platform.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", luneo.platform.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"], name=op.f("fk_fonts_brand_id_brands")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fonts")),
        sa.UniqueConstraint("brand_id", "sha256", name=op.f("uq_fonts_brand_id_sha256")),
    )
    with op.batch_alter_table("fonts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fonts_brand_id"), ["brand_id"], unique=False)

    op.create_table(
        "products",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("width_mm", sa.Float(), nullable=False),
        sa.Column("height_mm", sa.Float(), nullable=False),
        sa.Column("shape", sa.String(length=16), nullable=False),
        sa.Column("corner_radius_mm", sa.Float(), nullable=False),
        sa.Column("production_method", sa.String(length=16), nullable=False),
        sa.Column("bleed_mm", sa.Float(), nullable=False),
        sa.Column("crop_marks", sa.Boolean(), nullable=False),
        sa.Column("color_mode", sa.String(length=8), nullable=False),
        sa.Column("output_dpi", sa.Integer(), nullable=False),
        sa.Column("min_image_dpi", sa.Integer(), nullable=False),
        sa.Column("min_stroke_mm", sa.Float(), nullable=False),
        sa.Column("background_color", sa.String(length=7), nullable=True),
        sa.Column(
            "palette",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "mockup",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("mockup_asset_id", sa.String(length=40), nullable=True),
        sa.Column(
            "model3d",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("model3d_asset_id", sa.String(length=40), nullable=True),
        sa.Column(
            "external_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", luneo.platform.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", luneo.platform.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.CheckConstraint("status in ('draft','active','archived')", name=op.f("ck_products_status")),
        sa.CheckConstraint("price_cents >= 0", name=op.f("ck_products_price_cents")),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"], name=op.f("fk_products_brand_id_brands")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("brand_id", "sku", name=op.f("uq_products_brand_id_sku")),
    )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_products_brand_id"), ["brand_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_products_mockup_asset_id"), ["mockup_asset_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_products_model3d_asset_id"), ["model3d_asset_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_products_production_method"), ["production_method"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_products_status"), ["status"], unique=False)

    op.create_table(
        "product_mappings",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("integration", sa.String(length=40), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", luneo.platform.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", luneo.platform.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_product_mappings_brand_id_brands")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_mappings_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_mappings")),
        sa.UniqueConstraint(
            "brand_id",
            "integration",
            "external_id",
            name=op.f("uq_product_mappings_brand_id_integration_external_id"),
        ),
    )
    with op.batch_alter_table("product_mappings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_product_mappings_brand_id"), ["brand_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_product_mappings_product_id"), ["product_id"], unique=False)

    op.create_table(
        "product_zones",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column(
            "geometry",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "rules",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("default_font", sa.String(length=40), nullable=True),
        sa.Column("default_color", sa.String(length=7), nullable=True),
        sa.Column("role", sa.String(length=12), nullable=False),
        sa.Column("created_at", luneo.platform.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", luneo.platform.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"], name=op.f("fk_product_zones_brand_id_brands")),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_zones_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_zones")),
        sa.UniqueConstraint("product_id", "key", name=op.f("uq_product_zones_product_id_key")),
    )
    with op.batch_alter_table("product_zones", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_product_zones_brand_id"), ["brand_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_product_zones_product_id"), ["product_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("product_zones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_zones_product_id"))
        batch_op.drop_index(batch_op.f("ix_product_zones_brand_id"))

    op.drop_table("product_zones")
    with op.batch_alter_table("product_mappings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_mappings_product_id"))
        batch_op.drop_index(batch_op.f("ix_product_mappings_brand_id"))

    op.drop_table("product_mappings")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_products_status"))
        batch_op.drop_index(batch_op.f("ix_products_production_method"))
        batch_op.drop_index(batch_op.f("ix_products_model3d_asset_id"))
        batch_op.drop_index(batch_op.f("ix_products_mockup_asset_id"))
        batch_op.drop_index(batch_op.f("ix_products_brand_id"))

    op.drop_table("products")
    with op.batch_alter_table("fonts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fonts_brand_id"))

    op.drop_table("fonts")
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assets_brand_id"))

    op.drop_table("assets")
