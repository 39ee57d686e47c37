"""catalog: shopper_grants (widget objects bound to the shopper token that made them)

Revision ID: 0015
Revises: 0003
Create Date: 2026-11-29 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import luneo.platform.database

revision: str = "0015"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shopper_grants",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("shopper", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=12), nullable=False),
        sa.Column("object_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", luneo.platform.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.CheckConstraint(
            "object_type in ('asset','spec','snapshot','render')", name=op.f("ck_shopper_grants_object_type")
        ),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"], name=op.f("fk_shopper_grants_brand_id_brands")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shopper_grants")),
        sa.UniqueConstraint(
            "brand_id",
            "shopper",
            "object_type",
            "object_id",
            name=op.f("uq_shopper_grants_brand_id_shopper_object_type_object_id"),
        ),
    )
    with op.batch_alter_table("shopper_grants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shopper_grants_brand_id"), ["brand_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("shopper_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shopper_grants_brand_id"))
    op.drop_table("shopper_grants")
