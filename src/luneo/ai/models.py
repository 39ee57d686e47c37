"""The AI generation history: one row per metered AI call (`gen_…`), its inputs, outputs and outcome."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from luneo.platform.database import Base, TenantMixin, TimestampMixin
from luneo.platform.ids import new_id

OPERATIONS = (
    "generate",
    "upscale",
    "background_removal",
    "extract_colors",
    "smart_crop",
    "text_to_design",
    "chat",
)
STATUSES = ("pending", "processing", "succeeded", "failed")


class AIGeneration(TimestampMixin, TenantMixin, Base):
    """A metered AI call: who asked what of which provider, what it cost and what came out."""

    __tablename__ = "ai_generations"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("gen"))
    operation: Mapped[str] = mapped_column(sa.String(32))
    provider: Mapped[str] = mapped_column(sa.String(32))
    model: Mapped[str] = mapped_column(sa.String(100))
    prompt: Mapped[str | None] = mapped_column(sa.Text)
    product_id: Mapped[str | None] = mapped_column(sa.String(40))
    input_asset_ids: Mapped[list[Any]] = mapped_column(default=list)
    output_asset_ids: Mapped[list[Any]] = mapped_column(default=list)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    credits: Mapped[int] = mapped_column(sa.Integer, default=0)
    usage_reference: Mapped[str | None] = mapped_column(sa.String(200))
    latency_ms: Mapped[int | None] = mapped_column(sa.Integer)
    status: Mapped[str] = mapped_column(sa.String(12), default="pending")
    error_code: Mapped[str | None] = mapped_column(sa.String(64))
    error: Mapped[str | None] = mapped_column(sa.Text)
    actor: Mapped[str | None] = mapped_column(sa.String(80))
    # the widget shopper a shopper photo tool ran for (`shp_…` public id, never the token)
    shopper: Mapped[str | None] = mapped_column(sa.String(40))
    finished_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (
        sa.CheckConstraint("status in ('pending','processing','succeeded','failed')", name="status"),
        sa.Index("ix_ai_generations_brand_operation", "brand_id", "operation"),
        sa.Index("ix_ai_generations_brand_status", "brand_id", "status"),
        sa.Index("ix_ai_generations_brand_shopper_created", "brand_id", "shopper", "created_at"),
    )
