"""ai generations

Revision ID: 0010
Revises: 0001
Create Date: 2026-11-24 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import luneo.platform.database

revision: str = "0010"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")
UTC = luneo.platform.database.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ai_generations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("operation", sa.String(length=32), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=True),
        sa.Column("product_id", sa.String(length=40), nullable=True),
        sa.Column("input_asset_ids", JSON, nullable=False),
        sa.Column("output_asset_ids", JSON, nullable=False),
        sa.Column("options", JSON, nullable=False),
        sa.Column("result", JSON, nullable=False),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.Column("usage_reference", sa.String(length=200), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=80), nullable=True),
        sa.Column("finished_at", UTC, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.CheckConstraint(
            "status in ('pending','processing','succeeded','failed')", name=op.f("ck_ai_generations_status")
        ),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"], name=op.f("fk_ai_generations_brand_id_brands")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_generations")),
    )
    with op.batch_alter_table("ai_generations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ai_generations_brand_id"), ["brand_id"], unique=False)
        batch_op.create_index("ix_ai_generations_brand_operation", ["brand_id", "operation"], unique=False)
        batch_op.create_index("ix_ai_generations_brand_status", ["brand_id", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ai_generations", schema=None) as batch_op:
        batch_op.drop_index("ix_ai_generations_brand_status")
        batch_op.drop_index("ix_ai_generations_brand_operation")
        batch_op.drop_index(batch_op.f("ix_ai_generations_brand_id"))
    op.drop_table("ai_generations")
