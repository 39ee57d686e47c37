"""integrations.shopify: shopify_product_mappings.title (the Shopify product's title)

Revision ID: 0038
Revises: 0035 (the Shopify branch)

Filled when a product is mapped and on `products/update`; existing rows keep an empty title
until then (the dashboard shows the Shopify id meanwhile).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0038"
down_revision: str | None = "0035"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("shopify_product_mappings") as batch:
        batch.add_column(sa.Column("title", sa.String(length=255), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("shopify_product_mappings") as batch:
        batch.drop_column("title")
