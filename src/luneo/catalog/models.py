"""Catalog tables: products, their zones and external mappings, brand fonts, assets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from luneo.platform.clock import utcnow
from luneo.platform.database import Base, TenantMixin, TimestampMixin
from luneo.platform.ids import new_id

PRODUCT_STATUSES = ("draft", "active", "archived")
ASSET_KINDS = ("upload", "mockup", "model", "font", "derived")


class Product(TimestampMixin, TenantMixin, Base):
    """A personalizable product: physical size, production method, output settings, zones."""

    __tablename__ = "products"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("prd"))
    sku: Mapped[str] = mapped_column(sa.String(100))
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[str] = mapped_column(sa.String(12), default="draft", index=True)
    price_cents: Mapped[int] = mapped_column(sa.Integer, default=0)
    currency: Mapped[str] = mapped_column(sa.String(3), default="EUR")
    width_mm: Mapped[float] = mapped_column(sa.Float)
    height_mm: Mapped[float] = mapped_column(sa.Float)
    shape: Mapped[str] = mapped_column(sa.String(16), default="rect")
    corner_radius_mm: Mapped[float] = mapped_column(sa.Float, default=0.0)
    production_method: Mapped[str] = mapped_column(sa.String(16), default="print", index=True)
    bleed_mm: Mapped[float] = mapped_column(sa.Float, default=0.0)
    crop_marks: Mapped[bool] = mapped_column(default=False)
    color_mode: Mapped[str] = mapped_column(sa.String(8), default="rgb")
    cmyk_profile: Mapped[str] = mapped_column(sa.String(12), default="coated")  # coated | uncoated
    output_dpi: Mapped[int] = mapped_column(sa.Integer, default=300)
    min_image_dpi: Mapped[int] = mapped_column(sa.Integer, default=150)
    min_stroke_mm: Mapped[float] = mapped_column(sa.Float, default=0.0)
    background_color: Mapped[str | None] = mapped_column(sa.String(7))
    palette: Mapped[list[Any]] = mapped_column(default=list)
    # {asset_id, width_px, height_px, offset_x_px, offset_y_px, px_per_mm}
    mockup: Mapped[dict[str, Any] | None] = mapped_column()
    mockup_asset_id: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    # {kind: procedural|glb, shape, asset_id, print_material}
    model3d: Mapped[dict[str, Any] | None] = mapped_column()
    model3d_asset_id: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    external_ids: Mapped[dict[str, Any]] = mapped_column(default=dict)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)

    zones: Mapped[list[ProductZone]] = relationship(
        back_populates="product",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by=lambda: [ProductZone.sort_order, ProductZone.id],
        lazy="selectin",
    )

    __table_args__ = (
        sa.UniqueConstraint("brand_id", "sku"),
        sa.CheckConstraint("status in ('draft','active','archived')", name="status"),
        sa.CheckConstraint("price_cents >= 0", name="price_cents"),
    )


class ProductZone(TimestampMixin, TenantMixin, Base):
    """A personalizable area of a product: geometry in mm, kind and rules."""

    __tablename__ = "product_zones"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("zon"))
    product_id: Mapped[str] = mapped_column(
        sa.String(40), sa.ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(sa.String(64))
    label: Mapped[str] = mapped_column(sa.String(200), default="")
    kind: Mapped[str] = mapped_column(sa.String(12))
    sort_order: Mapped[int] = mapped_column(sa.Integer, default=0)
    geometry: Mapped[dict[str, Any]] = mapped_column()
    rules: Mapped[dict[str, Any]] = mapped_column(default=dict)
    default_font: Mapped[str | None] = mapped_column(sa.String(40))
    default_color: Mapped[str | None] = mapped_column(sa.String(7))
    role: Mapped[str] = mapped_column(sa.String(12), default="print")
    # the brand's sample shown by the widget before the shopper types: {text} or {photo_url}
    sample: Mapped[dict[str, Any] | None] = mapped_column()

    product: Mapped[Product] = relationship(back_populates="zones")

    __table_args__ = (sa.UniqueConstraint("product_id", "key"),)


class ProductMapping(TimestampMixin, TenantMixin, Base):
    """An external store's id for a product (e.g. a Shopify product id), kept from `external_ids`."""

    __tablename__ = "product_mappings"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("pmap"))
    integration: Mapped[str] = mapped_column(sa.String(40))
    external_id: Mapped[str] = mapped_column(sa.String(200))
    product_id: Mapped[str] = mapped_column(
        sa.String(40), sa.ForeignKey("products.id", ondelete="CASCADE"), index=True
    )

    __table_args__ = (sa.UniqueConstraint("brand_id", "integration", "external_id"),)


class BrandFont(TimestampMixin, TenantMixin, Base):
    """A font a brand uploaded (stored as TTF/OTF, content-addressed)."""

    __tablename__ = "fonts"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("fnt"))
    family: Mapped[str] = mapped_column(sa.String(200))
    style: Mapped[str] = mapped_column(sa.String(100), default="Regular")
    sha256: Mapped[str] = mapped_column(sa.String(64))
    storage_key: Mapped[str] = mapped_column(sa.String(512))
    format: Mapped[str] = mapped_column(sa.String(8))  # ttf | otf (what is stored)
    source_format: Mapped[str] = mapped_column(sa.String(8))  # ttf | otf | woff | woff2 (what was uploaded)
    size_bytes: Mapped[int] = mapped_column(sa.Integer)
    licence_note: Mapped[str] = mapped_column(sa.Text, default="")
    glyph_coverage: Mapped[int] = mapped_column(sa.Integer, default=0)
    original_filename: Mapped[str | None] = mapped_column(sa.String(255))

    __table_args__ = (sa.UniqueConstraint("brand_id", "sha256"),)


class Asset(TimestampMixin, TenantMixin, Base):
    """A stored file (image, mockup, GLB model, derived output), content-addressed by SHA-256."""

    __tablename__ = "assets"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("ast"))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    storage_key: Mapped[str] = mapped_column(sa.String(512))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size_bytes: Mapped[int] = mapped_column("bytes", sa.Integer)
    width_px: Mapped[int | None] = mapped_column(sa.Integer)
    height_px: Mapped[int | None] = mapped_column(sa.Integer)
    original_filename: Mapped[str | None] = mapped_column(sa.String(255))
    kind: Mapped[str] = mapped_column(sa.String(12), default="upload")
    created_by: Mapped[str | None] = mapped_column(sa.String(40))

    __table_args__ = (
        sa.UniqueConstraint("brand_id", "sha256"),
        sa.CheckConstraint("kind in ('upload','mockup','model','font','derived')", name="kind"),
    )


SHOPPER_OBJECT_TYPES = ("asset", "spec", "snapshot", "render")


class ShopperGrant(TenantMixin, Base):
    """That an anonymous shopper (the SHA-256 of their `X-Shopper-Token`) made or uploaded an object.

    Content-addressed objects (assets, specs, snapshots, renders) are shared by every caller
    who produces the same bytes, so ownership is a set of grants, not a column: a widget
    (`pk_`) caller reads an object by id only when its shopper holds a grant for it.
    """

    __tablename__ = "shopper_grants"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("sgr"))
    shopper: Mapped[str] = mapped_column(sa.String(64))
    object_type: Mapped[str] = mapped_column(sa.String(12))
    object_id: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("brand_id", "shopper", "object_type", "object_id"),
        sa.CheckConstraint("object_type in ('asset','spec','snapshot','render')", name="object_type"),
    )


class ProductTemplate(TimestampMixin, TenantMixin, Base):
    """A brand's preset design of a product: the per-zone `inputs` a shopper can start from.

    `inputs` has exactly the shape the widget sends for a design (`{zone_key: {"kind": "text",
    "text": …, "font": …}}`); it is checked against the product's zone rules when saved.
    """

    __tablename__ = "product_templates"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("tpl"))
    product_id: Mapped[str] = mapped_column(
        sa.String(40), sa.ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(80))
    inputs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    position: Mapped[int] = mapped_column(sa.Integer, default=0)
    active: Mapped[bool] = mapped_column(default=True)
