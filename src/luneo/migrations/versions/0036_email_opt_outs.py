"""notifications: email_opt_outs (one-click unsubscribes from non-essential emails)

Revision ID: 0036
Revises: 0002 (the notifications branch)

RLS: `enable_rls` walls the table (see 0021 for why the grant depends on the role).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import luneo.platform.database
from luneo.platform import rls

revision: str = "0036"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = luneo.platform.database.UTCDateTime(timezone=True)


def _app_role_exists() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    found = bind.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": rls.DEFAULT_ROLE})
    return found.first() is not None


def upgrade() -> None:
    op.create_table(
        "email_opt_outs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"], name=op.f("fk_email_opt_outs_brand_id_brands")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_opt_outs")),
        sa.UniqueConstraint(
            "brand_id", "email", "category", name=op.f("uq_email_opt_outs_brand_id_email_category")
        ),
    )
    op.create_index(op.f("ix_email_opt_outs_brand_id"), "email_opt_outs", ["brand_id"], unique=False)
    rls.enable_rls("email_opt_outs", role=rls.DEFAULT_ROLE if _app_role_exists() else None)


def downgrade() -> None:
    rls.disable_rls("email_opt_outs")
    op.drop_index(op.f("ix_email_opt_outs_brand_id"), table_name="email_opt_outs")
    op.drop_table("email_opt_outs")
