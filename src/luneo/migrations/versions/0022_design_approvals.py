"""designs: snapshot_approvals (a shopper approved a snapshot's proof: who, when, which spec_hash)

Revision ID: 0022
Revises: 0004 (designs)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import luneo.platform.database
from luneo.platform.rls import disable_rls, enable_rls

revision: str = "0022"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "snapshot_approvals",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("snapshot_id", sa.String(length=40), nullable=False),
        sa.Column("spec_hash", sa.String(length=64), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=False),
        sa.Column("approved_at", luneo.platform.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("findings", JSON, nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_snapshot_approvals_brand_id_brands")
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"], ["snapshots.id"], name=op.f("fk_snapshot_approvals_snapshot_id_snapshots")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_snapshot_approvals")),
        sa.UniqueConstraint(
            "brand_id",
            "snapshot_id",
            "approved_by",
            name=op.f("uq_snapshot_approvals_brand_id_snapshot_id_approved_by"),
        ),
    )
    op.create_index(op.f("ix_snapshot_approvals_brand_id"), "snapshot_approvals", ["brand_id"])
    op.create_index(op.f("ix_snapshot_approvals_snapshot_id"), "snapshot_approvals", ["snapshot_id"])
    enable_rls("snapshot_approvals")


def downgrade() -> None:
    disable_rls("snapshot_approvals")
    op.drop_index(op.f("ix_snapshot_approvals_snapshot_id"), table_name="snapshot_approvals")
    op.drop_index(op.f("ix_snapshot_approvals_brand_id"), table_name="snapshot_approvals")
    op.drop_table("snapshot_approvals")
