"""Fulfilment tables: per-brand Printful configuration (secrets encrypted at rest) and product
mappings, per-brand generic hand-off target, and one hand-off row per thing sent (its status)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from luneo.platform.database import Base, TenantMixin, TimestampMixin
from luneo.platform.ids import new_id

PRINTFUL, HTTPS, SFTP = "printful", "https", "sftp"
# Hand-off statuses. Printful: pending → created (draft) → confirmed → shipped, or failed /
# cancelled / unmapped; generic (HTTPS or SFTP): pending → sent, or failed.
PENDING, CREATED, CONFIRMED, SHIPPED, SENT = "pending", "created", "confirmed", "shipped", "sent"
FAILED, CANCELLED, UNMAPPED = "failed", "cancelled", "unmapped"


class PrintfulConfig(TimestampMixin, TenantMixin, Base):
    """A brand's Printful account: API token and webhook secret are Fernet tokens (`crypto`)."""

    __tablename__ = "printful_configs"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("pfc"))
    api_token_enc: Mapped[str | None] = mapped_column(sa.Text)
    store_id: Mapped[str | None] = mapped_column(sa.String(40))
    webhook_secret_enc: Mapped[str | None] = mapped_column(sa.Text)
    shipping: Mapped[str] = mapped_column(sa.String(32), default="STANDARD")
    enabled: Mapped[bool] = mapped_column(default=True)

    __table_args__ = (sa.UniqueConstraint("brand_id"),)


class PrintfulMapping(TimestampMixin, TenantMixin, Base):
    """A Luneo product made by Printful: catalog variant, placement and technique."""

    __tablename__ = "printful_mappings"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("pfm"))
    product_id: Mapped[str] = mapped_column(sa.String(40), sa.ForeignKey("products.id"), index=True)
    catalog_variant_id: Mapped[int] = mapped_column(sa.Integer)
    placement: Mapped[str] = mapped_column(sa.String(64), default="front")
    technique: Mapped[str] = mapped_column(sa.String(32), default="dtg")

    __table_args__ = (sa.UniqueConstraint("brand_id", "product_id"),)


class HandoffTarget(TimestampMixin, TenantMixin, Base):
    """A brand's in-house print shop: an HTTPS endpoint (`url`, `method`, signing secret) or an
    SFTP server (`sftp_*`: `url` is then `sftp://user@host:port/dir`, for display). Secrets
    (signing secret, SFTP password, SFTP private key) are Fernet tokens (`crypto`)."""

    __tablename__ = "fulfilment_targets"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("fht"))
    kind: Mapped[str] = mapped_column(sa.String(8), default=HTTPS)
    url: Mapped[str] = mapped_column(sa.String(2000))
    method: Mapped[str] = mapped_column(sa.String(8), default="POST")  # POST multipart | PUT zip
    secret_enc: Mapped[str] = mapped_column(sa.Text)
    enabled: Mapped[bool] = mapped_column(default=True)
    sftp_host: Mapped[str | None] = mapped_column(sa.String(255))
    sftp_port: Mapped[int | None] = mapped_column(sa.Integer)
    sftp_username: Mapped[str | None] = mapped_column(sa.String(128))
    sftp_password_enc: Mapped[str | None] = mapped_column(sa.Text)
    sftp_key_enc: Mapped[str | None] = mapped_column(sa.Text)
    sftp_dir: Mapped[str | None] = mapped_column(sa.String(1000))
    #: The server's host key fingerprint, `SHA256:<base64>` (as `ssh-keygen -l` prints it).
    sftp_host_key: Mapped[str | None] = mapped_column(sa.String(100))

    __table_args__ = (sa.UniqueConstraint("brand_id"),)


class Handoff(TimestampMixin, TenantMixin, Base):
    """One thing handed to a partner: a Luneo order to Printful (`key` = `printful:<order id>`)
    or one pack to the brand's endpoint (`https:` / `sftp:<work order id>:<pack sha256>`)."""

    __tablename__ = "fulfilment_handoffs"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("ffh"))
    key: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(16))
    order_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    work_order_id: Mapped[str | None] = mapped_column(sa.String(40))
    status: Mapped[str] = mapped_column(sa.String(16), default=PENDING)
    external_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    external_status: Mapped[str | None] = mapped_column(sa.String(32))
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    error: Mapped[str | None] = mapped_column(sa.Text)
    tracking_number: Mapped[str | None] = mapped_column(sa.String(128))
    carrier: Mapped[str | None] = mapped_column(sa.String(128))
    tracking_url: Mapped[str | None] = mapped_column(sa.String(1000))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    sent_at: Mapped[datetime | None] = mapped_column()
    shipped_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (sa.UniqueConstraint("brand_id", "key"),)
