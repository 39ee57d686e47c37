"""platform: `jobs.lease_expires_at`, the lease a worker renews while it runs a job

Revision ID: 0020
Revises: 0011

A `processing` row whose lease has expired is given back by the sweeper (or by the next
claim): liveness lives in the database, next to the row it protects, not in Redis.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import luneo.platform.database

revision: str = "0020"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = luneo.platform.database.UTCDateTime(timezone=True)


def upgrade() -> None:
    # `jobs` has no foreign key pointing at it: a plain ALTER TABLE on both databases.
    op.add_column("jobs", sa.Column("lease_expires_at", TS, nullable=True))


def downgrade() -> None:
    op.drop_column("jobs", "lease_expires_at")
