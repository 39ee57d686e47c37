"""Rendering tables: one row per render (`render_id` derived from spec_hash + kind + options)
and the web-friendly variants made from uploaded images."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from luneo.platform.database import Base, TenantMixin, TimestampMixin
from luneo.platform.ids import new_id


class RenderResult(TimestampMixin, TenantMixin, Base):
    """A preview or final render: the source of truth its job updates."""

    __tablename__ = "render_results"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("rnr"))
    render_id: Mapped[str] = mapped_column(sa.String(40))
    kind: Mapped[str] = mapped_column(sa.String(12))  # preview | final
    spec_hash: Mapped[str] = mapped_column(sa.String(64), index=True)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(sa.String(12), default="pending")  # pending|processing|success|failed
    progress: Mapped[float] = mapped_column(default=0.0)
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(sa.Text)
    timings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    outputs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    snapshot_id: Mapped[str | None] = mapped_column(
        sa.String(40), sa.ForeignKey("snapshots.id", ondelete="SET NULL"), index=True
    )
    design_id: Mapped[str | None] = mapped_column(
        sa.String(40), sa.ForeignKey("designs.id", ondelete="SET NULL"), index=True
    )
    job_id: Mapped[str | None] = mapped_column(sa.String(40))
    generation: Mapped[int] = mapped_column(default=1)  # bumped when a failed render is asked again
    charge_ref: Mapped[str | None] = mapped_column(sa.String(200))  # credits ledger reference (final)
    requested_by: Mapped[str | None] = mapped_column(sa.String(80))
    finished_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (
        sa.UniqueConstraint("brand_id", "render_id"),
        sa.CheckConstraint("kind in ('preview','final')", name="kind"),
        sa.CheckConstraint("status in ('pending','processing','success','failed')", name="status"),
    )


class AssetVariant(TimestampMixin, TenantMixin, Base):
    """A web-friendly copy of an uploaded image (a `derived` asset), made by `asset_convert`."""

    __tablename__ = "asset_variants"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("avr"))
    asset_id: Mapped[str] = mapped_column(
        sa.String(40), sa.ForeignKey("assets.id", ondelete="CASCADE"), index=True
    )
    variant: Mapped[str] = mapped_column(sa.String(20))  # web_jpeg | web_webp | thumb_webp
    derived_asset_id: Mapped[str] = mapped_column(
        sa.String(40), sa.ForeignKey("assets.id", ondelete="CASCADE"), index=True
    )
    width_px: Mapped[int] = mapped_column(sa.Integer)
    height_px: Mapped[int] = mapped_column(sa.Integer)

    __table_args__ = (sa.UniqueConstraint("brand_id", "asset_id", "variant"),)
