"""payments: payments, dev checkout sessions, inbound webhook events

Revision ID: 0006
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import luneo.platform.database
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql


revision: str = "0006"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbound_events",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=120), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("brand_id", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("processed_at", luneo.platform.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", luneo.platform.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", luneo.platform.database.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status in ('received','processed','failed','ignored')", name=op.f("ck_inbound_events_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_events")),
        sa.UniqueConstraint("provider", "event_id", name=op.f("uq_inbound_events_provider_event_id")),
    )
    with op.batch_alter_table("inbound_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inbound_events_brand_id"), ["brand_id"], unique=False)

    op.create_table(
        "payment_sessions",
        sa.Column("id", sa.String(length=60), nullable=False),
        sa.Column("payment_id", sa.String(length=40), nullable=True),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column(
            "line_items",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("amount_total", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("customer_email", sa.String(length=320), nullable=True),
        sa.Column("success_url", sa.Text(), nullable=False),
        sa.Column("cancel_url", sa.Text(), nullable=False),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("payment_intent", sa.String(length=60), nullable=False),
        sa.Column("completed_at", luneo.platform.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", luneo.platform.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", luneo.platform.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_payment_sessions_brand_id_brands")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_sessions")),
    )
    with op.batch_alter_table("payment_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_sessions_brand_id"), ["brand_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payment_sessions_payment_id"), ["payment_id"], unique=False)

    op.create_table(
        "payments",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("amount_refunded", sa.BigInteger(), nullable=False),
        sa.Column("checkout_id", sa.String(length=255), nullable=True),
        sa.Column("payment_ref", sa.String(length=255), nullable=True),
        sa.Column("checkout_url", sa.Text(), nullable=True),
        sa.Column("customer_email", sa.String(length=320), nullable=True),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("paid_at", luneo.platform.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_event_id", sa.String(length=255), nullable=True),
        sa.Column("created_at", luneo.platform.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", luneo.platform.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.CheckConstraint("kind in ('order','credits','subscription')", name=op.f("ck_payments_kind")),
        sa.CheckConstraint(
            "status in ('pending','succeeded','failed','partially_refunded','refunded','canceled')",
            name=op.f("ck_payments_status"),
        ),
        sa.CheckConstraint("amount >= 0 and amount_refunded >= 0", name=op.f("ck_payments_amounts")),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"], name=op.f("fk_payments_brand_id_brands")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payments_brand_id"), ["brand_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_checkout_id"), ["checkout_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_payment_ref"), ["payment_ref"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_reference"), ["reference"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_reference"))
        batch_op.drop_index(batch_op.f("ix_payments_payment_ref"))
        batch_op.drop_index(batch_op.f("ix_payments_checkout_id"))
        batch_op.drop_index(batch_op.f("ix_payments_brand_id"))

    op.drop_table("payments")
    with op.batch_alter_table("payment_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_sessions_payment_id"))
        batch_op.drop_index(batch_op.f("ix_payment_sessions_brand_id"))

    op.drop_table("payment_sessions")
    with op.batch_alter_table("inbound_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbound_events_brand_id"))

    op.drop_table("inbound_events")
