"""catalog: product_templates (a brand's preset designs a shopper can start from)

Revision ID: 0032
Revises: 0029

RLS: `enable_rls` walls the table like 0021 (the app role is granted only when it exists: on a
fresh database 0019 may run after this revision and then walls every brand table itself).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import luneo.platform.database
from luneo.platform import rls

revision: str = "0032"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = luneo.platform.database.UTCDateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _app_role_exists() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    found = bind.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": rls.DEFAULT_ROLE})
    return found.first() is not None


def upgrade() -> None:
    op.create_table(
        "product_templates",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("inputs", JSON, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_product_templates_brand_id_brands")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_templates_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_templates")),
    )
    op.create_index(op.f("ix_product_templates_brand_id"), "product_templates", ["brand_id"], unique=False)
    op.create_index(
        op.f("ix_product_templates_product_id"), "product_templates", ["product_id"], unique=False
    )
    rls.enable_rls("product_templates", role=rls.DEFAULT_ROLE if _app_role_exists() else None)


def downgrade() -> None:
    rls.disable_rls("product_templates")
    op.drop_index(op.f("ix_product_templates_product_id"), table_name="product_templates")
    op.drop_index(op.f("ix_product_templates_brand_id"), table_name="product_templates")
    op.drop_table("product_templates")
