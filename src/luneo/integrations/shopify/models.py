"""Shopify tables: one integration per shop (tokens encrypted at rest), product mappings, and
the webhook deliveries received (deduplicated on Shopify's event id)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from luneo.platform.database import Base, TenantMixin, TimestampMixin
from luneo.platform.ids import new_id

ACTIVE, UNINSTALLED = "active", "uninstalled"


class ShopifyIntegration(TimestampMixin, TenantMixin, Base):
    """A shop linked to a brand. Secrets (`*_enc`) are Fernet tokens (see `crypto`); the offline
    access token expires and is refreshed under a row lock (`token_version` counts refreshes)."""

    __tablename__ = "shopify_integrations"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("int"))
    shop_domain: Mapped[str] = mapped_column(sa.String(255), unique=True)
    access_token_enc: Mapped[str | None] = mapped_column(sa.Text)
    access_token_expires_at: Mapped[datetime | None] = mapped_column()
    refresh_token_enc: Mapped[str | None] = mapped_column(sa.Text)
    refresh_token_expires_at: Mapped[datetime | None] = mapped_column()
    token_version: Mapped[int] = mapped_column(sa.Integer, default=0)
    scopes: Mapped[str] = mapped_column(sa.String(1000), default="")
    api_version: Mapped[str] = mapped_column(sa.String(16))
    property_secret_enc: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(16), default=ACTIVE)
    installed_at: Mapped[datetime] = mapped_column()
    uninstalled_at: Mapped[datetime | None] = mapped_column()


class ShopifyProductMapping(TimestampMixin, TenantMixin, Base):
    """A Shopify product (or one of its variants) sold as a Luneo product. `external_id` is
    `<product id>` or `<product id>/<variant id>`: unique per integration."""

    __tablename__ = "shopify_product_mappings"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("spm"))
    integration_id: Mapped[str] = mapped_column(
        sa.String(40), sa.ForeignKey("shopify_integrations.id", ondelete="CASCADE"), index=True
    )
    external_id: Mapped[str] = mapped_column(sa.String(100))
    shopify_product_id: Mapped[str] = mapped_column(sa.String(40))
    shopify_variant_id: Mapped[str | None] = mapped_column(sa.String(40))
    product_id: Mapped[str] = mapped_column(sa.String(40), sa.ForeignKey("products.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(255), default="", server_default="")

    __table_args__ = (sa.UniqueConstraint("integration_id", "external_id"),)


class ShopifyWebhookDelivery(TenantMixin, Base):
    """One webhook event received for a shop: its work is a job (`shopify.webhook`). The payload
    is kept until the job has done the work, then cleared for the compliance topics."""

    __tablename__ = "shopify_webhook_deliveries"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("swh"))
    integration_id: Mapped[str] = mapped_column(
        sa.String(40), sa.ForeignKey("shopify_integrations.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[str] = mapped_column(sa.String(100))
    topic: Mapped[str] = mapped_column(sa.String(64))
    api_version: Mapped[str] = mapped_column(sa.String(16), default="")
    received_at: Mapped[datetime] = mapped_column()
    processed_at: Mapped[datetime | None] = mapped_column()
    status: Mapped[str] = mapped_column(sa.String(16), default="received")  # received|processed|failed
    payload: Mapped[dict[str, Any] | None] = mapped_column()
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)

    __table_args__ = (sa.UniqueConstraint("integration_id", "event_id"),)


# Shopify orders (issue 15 item 7): what Luneo did with each Shopify order it was told about.
ORDER_CREATED, ORDER_ACCEPTED, ORDER_REVIEW, ORDER_REFUSED, ORDER_CANCELLED = (
    "created",
    "accepted",
    "review",
    "refused",
    "cancelled",
)


class ShopifyOrder(TimestampMixin, TenantMixin, Base):
    """One Shopify order seen by Luneo (unique per brand on Shopify's order id): the Luneo order
    made from its personalized lines (`order_id`), why it is held for review, the lines' mapping
    (`lines`: `{line_id, order_item_id, snapshot_id, spec_hash}`) and the last write-back."""

    __tablename__ = "shopify_orders"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("sho"))
    integration_id: Mapped[str] = mapped_column(
        sa.String(40), sa.ForeignKey("shopify_integrations.id", ondelete="CASCADE"), index=True
    )
    shopify_order_id: Mapped[str] = mapped_column(sa.String(40))
    admin_graphql_api_id: Mapped[str] = mapped_column(sa.String(100), default="")
    name: Mapped[str] = mapped_column(sa.String(64), default="")
    status: Mapped[str] = mapped_column(sa.String(16), default=ORDER_CREATED)
    order_id: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    review_reasons: Mapped[list[Any]] = mapped_column(default=list)
    lines: Mapped[list[Any]] = mapped_column(default=list)
    paid_at: Mapped[datetime | None] = mapped_column()
    cancelled_at: Mapped[datetime | None] = mapped_column()
    writeback: Mapped[dict[str, Any]] = mapped_column(default=dict)
    written_back_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (sa.UniqueConstraint("brand_id", "shopify_order_id"),)
