"""orders carry the approved design: cart lines record the spec_hash, work orders can need attention

- `cart_items.spec_hash`: the spec_hash of the preview the shopper approved (checked against the
  snapshot when the line is added);
- `work_orders`: status `needs_attention` (a paid item without a producible snapshot), so
  `snapshot_id` and `spec_hash` may be empty until an operator attaches a snapshot.

The downgrade deletes the `needs_attention` work orders (and their history) it cannot keep.

Revision ID: 0014
Revises: 0009 (manufacturing)
Depends on: 0007 (commerce: cart_items)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = ("0007",)

OLD_STATUSES = (
    "status in ('queued','exporting','needs_review','ready','in_production','done','failed','cancelled')"
)
NEW_STATUSES = (
    "status in ('queued','exporting','needs_review','needs_attention','ready','in_production','done',"
    "'failed','cancelled')"
)


def upgrade() -> None:
    with op.batch_alter_table("cart_items") as batch:
        batch.add_column(sa.Column("spec_hash", sa.String(64), nullable=True))
    op.execute(
        "UPDATE cart_items SET spec_hash = (SELECT snapshots.spec_hash FROM snapshots"
        " WHERE snapshots.id = cart_items.snapshot_id) WHERE snapshot_id IS NOT NULL"
    )
    with op.batch_alter_table("work_orders") as batch:
        batch.alter_column("snapshot_id", existing_type=sa.String(40), nullable=True)
        batch.alter_column("spec_hash", existing_type=sa.String(64), nullable=True)
        batch.drop_constraint("ck_work_orders_status", type_="check")
        batch.create_check_constraint("ck_work_orders_status", NEW_STATUSES)


def downgrade() -> None:
    op.execute(
        "DELETE FROM work_order_events WHERE work_order_id IN"
        " (SELECT id FROM work_orders WHERE status = 'needs_attention' OR snapshot_id IS NULL)"
    )
    op.execute("DELETE FROM work_orders WHERE status = 'needs_attention' OR snapshot_id IS NULL")
    with op.batch_alter_table("work_orders") as batch:
        batch.drop_constraint("ck_work_orders_status", type_="check")
        batch.create_check_constraint("ck_work_orders_status", OLD_STATUSES)
        batch.alter_column("snapshot_id", existing_type=sa.String(40), nullable=False)
        batch.alter_column("spec_hash", existing_type=sa.String(64), nullable=False)
    with op.batch_alter_table("cart_items") as batch:
        batch.drop_column("spec_hash")
