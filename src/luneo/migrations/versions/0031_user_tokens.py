"""tenancy: `user_tokens` (email verification, password reset) and `users.email_verified_at`

Revision ID: 0031
Revises: 0020

A global table (people are not brand-scoped): single-use, expiring emailed tokens, stored as
their SHA-256 only. `users.email_verified_at` records when the sign-up address was proven.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import luneo.platform.database

revision: str = "0031"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = luneo.platform.database.UTCDateTime(timezone=True)


def upgrade() -> None:
    # a nullable column: plain ALTER TABLE (never batch mode: `users` is referenced by other tables)
    op.add_column("users", sa.Column("email_verified_at", TS, nullable=True))
    op.create_table(
        "user_tokens",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("purpose", sa.String(length=24), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.CheckConstraint(
            "purpose in ('email_verification','password_reset')", name=op.f("ck_user_tokens_purpose")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_tokens_token_hash")),
    )
    op.create_index(op.f("ix_user_tokens_user_id"), "user_tokens", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_user_tokens_user_id"), table_name="user_tokens")
    op.drop_table("user_tokens")
    op.drop_column("users", "email_verified_at")
