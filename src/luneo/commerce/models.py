"""Commerce tables: carts and their items, orders and order items, coupons, shop settings,
and the per-brand order-number counter."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from luneo.platform.database import Base, TenantMixin, TimestampMixin
from luneo.platform.ids import new_id

ORDER_STATUSES = ("pending", "paid", "in_production", "shipped", "delivered", "cancelled", "refunded")
PAYMENT_STATUSES = ("unpaid", "pending", "paid", "failed", "partially_refunded", "refunded", "mismatch")
CART_OWNER_KINDS = ("user", "shopper", "key")


class Cart(TimestampMixin, TenantMixin, Base):
    """One cart per owner per brand: a signed-in user, an anonymous shopper token or a secret key."""

    __tablename__ = "carts"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("cart"))
    owner_kind: Mapped[str] = mapped_column(sa.String(8))
    owner_id: Mapped[str] = mapped_column(sa.String(80))
    currency: Mapped[str | None] = mapped_column(sa.String(3))

    items: Mapped[list[CartItem]] = relationship(
        back_populates="cart",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by=lambda: CartItem.id,
        lazy="selectin",
    )

    __table_args__ = (
        sa.UniqueConstraint("brand_id", "owner_kind", "owner_id"),
        sa.CheckConstraint("owner_kind in ('user','shopper','key')", name="owner_kind"),
    )


class CartItem(TimestampMixin, TenantMixin, Base):
    """A product (optionally personalized by a snapshot) and a quantity; priced by the server."""

    __tablename__ = "cart_items"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("citm"))
    cart_id: Mapped[str] = mapped_column(
        sa.String(40), sa.ForeignKey("carts.id", ondelete="CASCADE"), index=True
    )
    product_id: Mapped[str] = mapped_column(sa.String(40), sa.ForeignKey("products.id"), index=True)
    snapshot_id: Mapped[str | None] = mapped_column(sa.String(40), sa.ForeignKey("snapshots.id"), index=True)
    spec_hash: Mapped[str | None] = mapped_column(sa.String(64))  # the design the shopper approved
    quantity: Mapped[int] = mapped_column(sa.Integer)
    unit_price_cents: Mapped[int] = mapped_column(sa.Integer)
    currency: Mapped[str] = mapped_column(sa.String(3))
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)

    cart: Mapped[Cart] = relationship(back_populates="items")

    __table_args__ = (
        sa.CheckConstraint("quantity > 0 and quantity <= 1000", name="quantity"),
        sa.CheckConstraint("unit_price_cents >= 0", name="unit_price_cents"),
    )


class ShopSettings(TimestampMixin, TenantMixin, Base):
    """A brand's shipping and tax rates (defaults: free shipping, no tax)."""

    __tablename__ = "shop_settings"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("shop"))
    shipping_flat_cents: Mapped[int] = mapped_column(sa.Integer, default=0)
    free_shipping_threshold_cents: Mapped[int | None] = mapped_column(sa.Integer)
    tax_rate_bps: Mapped[int] = mapped_column(sa.Integer, default=0)
    tax_inclusive: Mapped[bool] = mapped_column(default=False)
    tax_shipping: Mapped[bool] = mapped_column(default=True)

    __table_args__ = (
        sa.UniqueConstraint("brand_id"),
        sa.CheckConstraint("shipping_flat_cents >= 0", name="shipping_flat_cents"),
        sa.CheckConstraint("tax_rate_bps >= 0 and tax_rate_bps <= 10000", name="tax_rate_bps"),
    )


class Coupon(TimestampMixin, TenantMixin, Base):
    """A discount code: a percentage (basis points) or a fixed amount, with dates and a usage limit."""

    __tablename__ = "coupons"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("cpn"))
    code: Mapped[str] = mapped_column(sa.String(64))
    kind: Mapped[str] = mapped_column(sa.String(8))  # percent | fixed
    percent_off_bps: Mapped[int | None] = mapped_column(sa.Integer)
    amount_off_cents: Mapped[int | None] = mapped_column(sa.Integer)
    currency: Mapped[str | None] = mapped_column(sa.String(3))
    valid_from: Mapped[datetime | None] = mapped_column()
    valid_until: Mapped[datetime | None] = mapped_column()
    usage_limit: Mapped[int | None] = mapped_column(sa.Integer)
    times_used: Mapped[int] = mapped_column(sa.Integer, default=0)
    active: Mapped[bool] = mapped_column(default=True)

    __table_args__ = (
        sa.UniqueConstraint("brand_id", "code"),
        sa.CheckConstraint("kind in ('percent','fixed')", name="kind"),
        sa.CheckConstraint("times_used >= 0", name="times_used"),
    )


class OrderCounter(Base):
    """The last order number issued per brand; bumped with one atomic UPDATE … RETURNING."""

    __tablename__ = "order_counters"

    brand_id: Mapped[str] = mapped_column(sa.String(40), sa.ForeignKey("brands.id"), primary_key=True)
    last_number: Mapped[int] = mapped_column(sa.Integer)


class Order(TimestampMixin, TenantMixin, Base):
    """An order: per-brand number, status machine, server-computed money in integer cents."""

    __tablename__ = "orders"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("ord"))
    number: Mapped[int] = mapped_column(sa.Integer)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending", index=True)
    payment_status: Mapped[str] = mapped_column(sa.String(20), default="unpaid")
    source: Mapped[str] = mapped_column(sa.String(12), default="api")  # api | cart
    currency: Mapped[str] = mapped_column(sa.String(3))
    subtotal_cents: Mapped[int] = mapped_column(sa.Integer)
    discount_cents: Mapped[int] = mapped_column(sa.Integer, default=0)
    shipping_cents: Mapped[int] = mapped_column(sa.Integer, default=0)
    tax_cents: Mapped[int] = mapped_column(sa.Integer, default=0)
    tax_rate_bps: Mapped[int] = mapped_column(sa.Integer, default=0)
    tax_inclusive: Mapped[bool] = mapped_column(default=False)
    total_cents: Mapped[int] = mapped_column(sa.Integer)
    coupon_id: Mapped[str | None] = mapped_column(sa.String(40), sa.ForeignKey("coupons.id"), index=True)
    coupon_code: Mapped[str | None] = mapped_column(sa.String(64))
    customer_email: Mapped[str] = mapped_column(sa.String(320), index=True)
    customer_name: Mapped[str] = mapped_column(sa.String(200), default="")
    shipping_address: Mapped[dict[str, Any] | None] = mapped_column()
    payment_id: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    payment_ref: Mapped[str | None] = mapped_column(sa.String(255))
    created_by: Mapped[str | None] = mapped_column(sa.String(40))
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    history: Mapped[list[Any]] = mapped_column(default=list)
    paid_at: Mapped[datetime | None] = mapped_column()
    in_production_at: Mapped[datetime | None] = mapped_column()
    shipped_at: Mapped[datetime | None] = mapped_column()
    delivered_at: Mapped[datetime | None] = mapped_column()
    cancelled_at: Mapped[datetime | None] = mapped_column()
    refunded_at: Mapped[datetime | None] = mapped_column()

    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by=lambda: OrderItem.position,
        lazy="selectin",
    )

    __table_args__ = (
        sa.UniqueConstraint("brand_id", "number"),
        sa.CheckConstraint(
            "status in ('pending','paid','in_production','shipped','delivered','cancelled','refunded')",
            name="status",
        ),
        sa.CheckConstraint("total_cents >= 0", name="total_cents"),
        sa.Index("ix_orders_brand_id_created_at", "brand_id", "created_at"),
    )


class OrderItem(TimestampMixin, TenantMixin, Base):
    """One line of an order: product, snapshot, quantity, unit price and totals (frozen at creation)."""

    __tablename__ = "order_items"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("oitm"))
    order_id: Mapped[str] = mapped_column(
        sa.String(40), sa.ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(sa.Integer, default=0)
    product_id: Mapped[str] = mapped_column(sa.String(40), sa.ForeignKey("products.id"), index=True)
    product_sku: Mapped[str] = mapped_column(sa.String(100))
    product_name: Mapped[str] = mapped_column(sa.String(200))
    snapshot_id: Mapped[str | None] = mapped_column(sa.String(40), sa.ForeignKey("snapshots.id"), index=True)
    spec_hash: Mapped[str | None] = mapped_column(sa.String(64))
    quantity: Mapped[int] = mapped_column(sa.Integer)
    price_cents: Mapped[int] = mapped_column(sa.Integer)
    total_cents: Mapped[int] = mapped_column(sa.Integer)
    discount_cents: Mapped[int] = mapped_column(sa.Integer, default=0)
    tax_cents: Mapped[int] = mapped_column(sa.Integer, default=0)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)

    order: Mapped[Order] = relationship(back_populates="items")

    __table_args__ = (
        sa.CheckConstraint("quantity > 0 and quantity <= 1000", name="quantity"),
        sa.CheckConstraint("price_cents >= 0", name="price_cents"),
    )
