"""ai: `ai_generations.shopper`, the widget shopper a shopper photo tool ran for

Revision ID: 0030
Revises: 0010

The shopper's public id (`shp_…`, a hash of the `X-Shopper-Token`, never the token itself) of a
background removal / smart crop a widget shopper asked for (brand setting `shopper_ai_tools`);
the index counts a shopper's generations of the day (`shopper_ai_daily_limit`), durably.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # a nullable column: a plain ALTER TABLE … ADD COLUMN on both databases
    op.add_column("ai_generations", sa.Column("shopper", sa.String(length=40), nullable=True))
    op.create_index(
        "ix_ai_generations_brand_shopper_created",
        "ai_generations",
        ["brand_id", "shopper", "created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_ai_generations_brand_shopper_created", table_name="ai_generations")
    with op.batch_alter_table("ai_generations") as batch_op:
        batch_op.drop_column("shopper")
