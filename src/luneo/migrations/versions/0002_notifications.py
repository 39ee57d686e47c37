"""notifications: the email outbox

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import luneo.platform.database

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TS = luneo.platform.database.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "email_messages",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("to", sa.String(length=320), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("context", JSON, nullable=False),
        sa.Column("subject", sa.String(length=998), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=True),
        sa.Column("provider_id", sa.String(length=255), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("sent_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.CheckConstraint("status in ('queued','sent','failed')", name=op.f("ck_email_messages_status")),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"], name=op.f("fk_email_messages_brand_id_brands")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_messages")),
    )
    op.create_index(op.f("ix_email_messages_brand_id"), "email_messages", ["brand_id"])
    op.create_index(op.f("ix_email_messages_status"), "email_messages", ["status"])


def downgrade() -> None:
    op.drop_index(op.f("ix_email_messages_status"), table_name="email_messages")
    op.drop_index(op.f("ix_email_messages_brand_id"), table_name="email_messages")
    op.drop_table("email_messages")
