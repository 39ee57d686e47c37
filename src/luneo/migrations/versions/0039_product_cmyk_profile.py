"""catalog: `products.cmyk_profile`, the CMYK output profile of a product's print files

Revision ID: 0039
Revises: 0032

`coated` (FOGRA39) or `uncoated` (FOGRA29): the ICC output profile the CMYK PDF (PDF/X-4) and
TIFF are separated through (`luneo.design.colour`). Existing products get `coated`.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0039"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "products",
        sa.Column("cmyk_profile", sa.String(length=12), nullable=False, server_default="coated"),
    )


def downgrade() -> None:
    op.drop_column("products", "cmyk_profile")
