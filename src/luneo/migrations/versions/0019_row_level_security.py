"""row-level security: the second wall (PostgreSQL only)

Enables and forces RLS with the `luneo_tenant_isolation` policy on every table that has a
`brand_id` column at upgrade time (found by inspection, minus `rls.EXEMPT_TABLES`), creates
the NOLOGIN NOBYPASSRLS role `luneo_app` if absent and grants it DML on the schema (now and,
through default privileges, on tables later migrations create). Later migrations that add a
tenant table call `luneo.platform.rls.enable_rls(table)`.

Runs after every revision that existed when it was written (`depends_on` names their heads,
frozen).
The downgrade drops the policies and revokes the grants; it keeps the role (roles are
cluster-wide and may serve other databases).

Revision ID: 0019
Revises: (root; depends on every earlier head)
Create Date: 2026-11-29 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from luneo.platform import rls

revision: str = "0019"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None


# A root of its own that depends on every other head at the time it was written, so it is
# applied last and, on a downgrade, first. Frozen: a later revision that adds a tenant table calls
# `rls.enable_rls(table)` itself (never edit this list, or databases where 0019 ran break).
depends_on: str | Sequence[str] | None = ("0002", "0005", "0008", "0010", "0011", "0012", "0014", "0015")


def _schema() -> str:
    return str(op.get_bind().execute(sa.text("SELECT current_schema()")).scalar_one())


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite keeps the tenant guard alone
    schema = _schema()
    for stmt in rls.role_statements(rls.DEFAULT_ROLE, schema):
        op.execute(stmt)
    for table in rls.brand_tables(op.get_bind(), schema):
        for stmt in rls.enable_rls_statements(table, role=None):
            op.execute(stmt)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    schema = _schema()
    walled = bind.execute(
        sa.text("SELECT tablename FROM pg_policies WHERE schemaname = :s AND policyname = :p"),
        {"s": schema, "p": rls.POLICY_NAME},
    ).scalars()
    for table in sorted(set(walled)):
        for stmt in rls.disable_rls_statements(table):
            op.execute(stmt)
    for stmt in rls.revoke_role_statements(rls.DEFAULT_ROLE, schema):
        op.execute(stmt)
