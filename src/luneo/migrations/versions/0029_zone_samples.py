"""catalog: `product_zones.sample`, the brand's sample personalization shown before the shopper types

Revision ID: 0029
Revises: 0015

`{"text": "Emma"}` for a text zone, `{"photo_url": "https://…"}` for an image zone; never part of
a spec (the sample is what the widget pre-fills, the shopper's own input is what gets made).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0029"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    # a nullable column: a plain ALTER TABLE … ADD COLUMN on both databases
    op.add_column("product_zones", sa.Column("sample", JSON, nullable=True))


def downgrade() -> None:
    op.drop_column("product_zones", "sample")
