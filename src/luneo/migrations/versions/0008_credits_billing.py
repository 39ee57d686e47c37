"""credits and billing

Revision ID: 0008
Revises: 0001
Create Date: 2026-11-22 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import luneo.platform.database
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql


revision: str = "0008"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")
UTC = luneo.platform.database.UTCDateTime(timezone=True)
DEFAULT_PACKS = [("pack_100", 100, 1900), ("pack_500", 500, 7900), ("pack_1000", 1000, 13900)]


def upgrade() -> None:
    op.create_table(
        "credit_accounts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("balance", sa.Integer(), nullable=False),
        sa.Column("low_balance_flag", sa.Boolean(), nullable=False),
        sa.Column("last_topup_amount", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.CheckConstraint("balance >= 0", name=op.f("ck_credit_accounts_balance_non_negative")),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"], name=op.f("fk_credit_accounts_brand_id_brands")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_accounts")),
        sa.UniqueConstraint("brand_id", name=op.f("uq_credit_accounts_brand_id")),
    )
    with op.batch_alter_table("credit_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credit_accounts_brand_id"), ["brand_id"], unique=False)

    op.create_table(
        "credit_transactions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("balance_after", sa.Integer(), nullable=False),
        sa.Column("operation", sa.String(length=64), nullable=True),
        sa.Column("actor", sa.String(length=80), nullable=True),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("metadata", JSON, nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.CheckConstraint(
            "type in ('purchase','usage','refund','grant','adjustment')",
            name=op.f("ck_credit_transactions_type"),
        ),
        sa.CheckConstraint(
            "balance_after >= 0", name=op.f("ck_credit_transactions_balance_after_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_credit_transactions_brand_id_brands")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_transactions")),
        sa.UniqueConstraint("brand_id", "reference", name=op.f("uq_credit_transactions_brand_id_reference")),
    )
    with op.batch_alter_table("credit_transactions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credit_transactions_brand_id"), ["brand_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_credit_transactions_operation"), ["operation"], unique=False)

    op.create_table(
        "credit_packs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.CheckConstraint("credits > 0", name=op.f("ck_credit_packs_credits_positive")),
        sa.CheckConstraint("price_cents >= 0", name=op.f("ck_credit_packs_price_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_packs")),
    )
    op.create_table(
        "credit_costs",
        sa.Column("operation", sa.String(length=64), nullable=False),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.CheckConstraint("credits >= 0", name=op.f("ck_credit_costs_credits_non_negative")),
        sa.PrimaryKeyConstraint("operation", name=op.f("pk_credit_costs")),
    )
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("provider_subscription_id", sa.String(length=255), nullable=False),
        sa.Column("provider_customer_id", sa.String(length=255), nullable=True),
        sa.Column("plan", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("current_period_start", UTC, nullable=True),
        sa.Column("current_period_end", UTC, nullable=True),
        sa.Column("cancel_at_period_end", sa.Boolean(), nullable=False),
        sa.Column("last_invoice_id", sa.String(length=255), nullable=True),
        sa.Column("last_event_id", sa.String(length=255), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"], name=op.f("fk_subscriptions_brand_id_brands")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
        sa.UniqueConstraint("brand_id", name=op.f("uq_subscriptions_brand_id")),
    )
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subscriptions_brand_id"), ["brand_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_subscriptions_provider_subscription_id"),
            ["provider_subscription_id"],
            unique=False,
        )

    op.create_table(
        "usage_counters",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("metric", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"], name=op.f("fk_usage_counters_brand_id_brands")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_counters")),
        sa.UniqueConstraint(
            "brand_id", "metric", "period", name=op.f("uq_usage_counters_brand_id_metric_period")
        ),
    )
    with op.batch_alter_table("usage_counters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_usage_counters_brand_id"), ["brand_id"], unique=False)

    # Default credit packs (credits.service also inserts them when the table is found empty).
    packs = sa.table(
        "credit_packs",
        sa.column("id", sa.String),
        sa.column("credits", sa.Integer),
        sa.column("price_cents", sa.Integer),
        sa.column("currency", sa.String),
        sa.column("active", sa.Boolean),
        sa.column("created_at", UTC),
        sa.column("updated_at", UTC),
    )
    from luneo.platform.clock import utcnow

    now = utcnow()
    op.bulk_insert(
        packs,
        [
            {
                "id": i,
                "credits": c,
                "price_cents": p,
                "currency": "EUR",
                "active": True,
                "created_at": now,
                "updated_at": now,
            }
            for i, c, p in DEFAULT_PACKS
        ],
    )

    # The ledger is append-only: refuse UPDATE and DELETE of its lines (TRUNCATE stays possible).
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION credit_transactions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'credit_transactions is append-only'; END $$;
        """)
        op.execute("""
            CREATE TRIGGER credit_transactions_append_only BEFORE UPDATE OR DELETE ON credit_transactions
            FOR EACH ROW EXECUTE FUNCTION credit_transactions_append_only();
        """)
    else:
        op.execute("""
            CREATE TRIGGER credit_transactions_no_update BEFORE UPDATE ON credit_transactions
            BEGIN SELECT RAISE(ABORT, 'credit_transactions is append-only'); END;
        """)
        op.execute("""
            CREATE TRIGGER credit_transactions_no_delete BEFORE DELETE ON credit_transactions
            BEGIN SELECT RAISE(ABORT, 'credit_transactions is append-only'); END;
        """)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS credit_transactions_append_only ON credit_transactions")
        op.execute("DROP FUNCTION IF EXISTS credit_transactions_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS credit_transactions_no_update")
        op.execute("DROP TRIGGER IF EXISTS credit_transactions_no_delete")
    with op.batch_alter_table("usage_counters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_usage_counters_brand_id"))
    op.drop_table("usage_counters")
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscriptions_provider_subscription_id"))
        batch_op.drop_index(batch_op.f("ix_subscriptions_brand_id"))
    op.drop_table("subscriptions")
    op.drop_table("credit_costs")
    op.drop_table("credit_packs")
    with op.batch_alter_table("credit_transactions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_transactions_operation"))
        batch_op.drop_index(batch_op.f("ix_credit_transactions_brand_id"))
    op.drop_table("credit_transactions")
    with op.batch_alter_table("credit_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_accounts_brand_id"))
    op.drop_table("credit_accounts")
