"""tenancy: invitations, brand suspension

Revision ID: 0011
Revises: 0001

The platform-admin flag (`users.is_platform_admin`) already exists since 0001; this revision
adds the `invitations` table (members join by an emailed, hashed, expiring token) and the
columns a platform admin sets to suspend a brand.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import luneo.platform.database

revision: str = "0011"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = luneo.platform.database.UTCDateTime(timezone=True)


def upgrade() -> None:
    # Plain ALTER TABLE (SQLite ≥ 3.35 adds and drops columns natively): `brands` is referenced
    # by every tenant table, so it must never be recreated by batch mode.
    op.add_column("brands", sa.Column("suspended_at", TS, nullable=True))
    op.add_column("brands", sa.Column("suspended_reason", sa.String(length=500), nullable=True))
    op.add_column("brands", sa.Column("suspended_by", sa.String(length=40), nullable=True))

    op.create_table(
        "invitations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_by", sa.String(length=40), nullable=True),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("accepted_at", TS, nullable=True),
        sa.Column("accepted_by", sa.String(length=40), nullable=True),
        sa.Column("revoked_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.CheckConstraint(
            "role in ('owner','admin','editor','production','viewer')", name=op.f("ck_invitations_role")
        ),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"], name=op.f("fk_invitations_brand_id_brands")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invitations_token_hash")),
    )
    op.create_index(op.f("ix_invitations_brand_id"), "invitations", ["brand_id"])
    op.create_index(op.f("ix_invitations_email"), "invitations", ["email"])


def downgrade() -> None:
    op.drop_index(op.f("ix_invitations_email"), table_name="invitations")
    op.drop_index(op.f("ix_invitations_brand_id"), table_name="invitations")
    op.drop_table("invitations")
    op.drop_column("brands", "suspended_by")
    op.drop_column("brands", "suspended_reason")
    op.drop_column("brands", "suspended_at")
