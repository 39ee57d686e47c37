"""PostgreSQL Row-Level Security: the second wall behind the tenant guard.

Every table with a `brand_id` column (except the few platform tables listed in
`EXEMPT_TABLES`) has RLS enabled *and forced* (the table owner is subject too) and one
policy, `luneo_tenant_isolation`:

    brand_id = current_setting('luneo.brand_id', true)
    OR current_setting('luneo.system', true) = 'on'

for reading (USING) and writing (WITH CHECK). The tenant guard (`luneo.platform.tenancy`)
sets both settings with `set_config(…, true)` — transaction-local — once when a session's
transaction starts and again only when the session is re-bound mid-transaction. A
connection bound to nothing sees no tenant row and cannot write one.

The API and the workers switch to a role that does not bypass RLS (`LUNEO_DATABASE_ROLE`,
default `luneo_app`, created NOLOGIN NOBYPASSRLS by the RLS migration) on every new pooled
connection; superusers and BYPASSRLS roles skip every policy, so the app must never run as
one. Migrations run as the owner with `luneo.system = on` for their whole connection.

SQLite has no RLS: there the guard is the only wall.
"""

from __future__ import annotations

import re
from typing import Any

POLICY_NAME = "luneo_tenant_isolation"
BRAND_SETTING = "luneo.brand_id"
SYSTEM_SETTING = "luneo.system"
DEFAULT_ROLE = "luneo_app"
REVISION = "0019"

# Tables that have a `brand_id` column but are platform tables, read and written before a
# brand is known (or across brands by design); the tenant guard does not scope them either.
EXEMPT_TABLES: dict[str, str] = {
    "jobs": "the job queue: claimed and swept across brands by workers; brand_id is an optional routing tag",
    "inbound_events": "provider webhooks are stored before the brand is known; brand_id is filled in later",
    "refresh_tokens": "belong to a user (looked up by token hash at refresh); brand_id is the token's scope",
}

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

POLICY_EXPR = (
    f"brand_id = current_setting('{BRAND_SETTING}', true) OR current_setting('{SYSTEM_SETTING}', true) = 'on'"
)


def quote_ident(name: str) -> str:
    """A safely quoted SQL identifier (only plain names are accepted)."""
    if not _IDENT.match(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return f'"{name}"'


def enable_rls_statements(table: str, *, role: str | None = DEFAULT_ROLE) -> list[str]:
    """SQL that walls `table` (which must have a `brand_id` column) and grants DML to `role`."""
    t = quote_ident(table)
    stmts = [
        f"ALTER TABLE {t} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {t} FORCE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS {POLICY_NAME} ON {t}",
        f"CREATE POLICY {POLICY_NAME} ON {t} AS PERMISSIVE FOR ALL"
        f" USING ({POLICY_EXPR}) WITH CHECK ({POLICY_EXPR})",
    ]
    if role:
        stmts.append(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {t} TO {quote_ident(role)}")
    return stmts


def disable_rls_statements(table: str) -> list[str]:
    """SQL that removes the wall from `table` (downgrades)."""
    t = quote_ident(table)
    return [
        f"DROP POLICY IF EXISTS {POLICY_NAME} ON {t}",
        f"ALTER TABLE {t} NO FORCE ROW LEVEL SECURITY",
        f"ALTER TABLE {t} DISABLE ROW LEVEL SECURITY",
    ]


def enable_rls(table: str, *, role: str | None = DEFAULT_ROLE) -> None:
    """For migrations: wall a new tenant table (PostgreSQL only; a no-op on SQLite).

    Call it in `upgrade()` after `op.create_table(...)`; dropping the table drops its policy.
    """
    from alembic import op

    if op.get_bind().dialect.name != "postgresql":
        return
    for stmt in enable_rls_statements(table, role=role):
        op.execute(stmt)


def disable_rls(table: str) -> None:
    """For migrations: undo `enable_rls` on a table that stays (PostgreSQL only)."""
    from alembic import op

    if op.get_bind().dialect.name != "postgresql":
        return
    for stmt in disable_rls_statements(table):
        op.execute(stmt)


def role_statements(role: str, schema: str) -> list[str]:
    """SQL that creates the app role if absent (NOLOGIN, NOBYPASSRLS) and grants it DML on `schema`.

    Roles are cluster-wide: creation tolerates a concurrent creator, and the role is never
    dropped by a downgrade (other databases of the cluster may use it).
    """
    r, s = quote_ident(role), quote_ident(schema)
    lit = role.replace("'", "''")
    return [
        "DO $$ BEGIN"
        f" IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{lit}') THEN"
        f" CREATE ROLE {r} NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT;"
        " END IF;"
        " EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;"
        " END $$",
        # The migrating login must be able to `SET ROLE` to it (superusers always can).
        "DO $$ BEGIN"
        f" IF NOT pg_has_role(current_user, '{lit}', 'MEMBER') THEN"
        f" EXECUTE 'GRANT {r} TO ' || quote_ident(current_user);"
        " END IF;"
        " EXCEPTION WHEN insufficient_privilege THEN"
        f" RAISE WARNING 'grant role {lit} to the login the app uses (SET ROLE needs membership)';"
        " END $$",
        f"GRANT USAGE ON SCHEMA {s} TO {r}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {r}",
        f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {s} TO {r}",
        # Tables later migrations create (as this same owner) are granted too.
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {r}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {r}",
    ]


def revoke_role_statements(role: str, schema: str) -> list[str]:
    """SQL that takes back what `role_statements` granted in `schema` (the role itself stays)."""
    r, s = quote_ident(role), quote_ident(schema)
    lit = role.replace("'", "''")
    adp = f"ALTER DEFAULT PRIVILEGES IN SCHEMA {s}"
    body = "; ".join(
        [
            f"{adp} REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {r}",
            f"{adp} REVOKE USAGE, SELECT, UPDATE ON SEQUENCES FROM {r}",
            f"REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM {r}",
            f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {s} FROM {r}",
            f"REVOKE USAGE ON SCHEMA {s} FROM {r}",
        ]
    )
    exists = f"EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{lit}')"
    return [f"DO $$ BEGIN IF {exists} THEN {body}; END IF; END $$"]


def brand_tables(conn: Any, schema: str) -> list[str]:
    """Base tables of `schema` that have a `brand_id` column, minus `EXEMPT_TABLES`."""
    from sqlalchemy import text

    rows = conn.execute(
        text(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " JOIN pg_attribute a ON a.attrelid = c.oid"
            " WHERE n.nspname = :schema AND c.relkind IN ('r', 'p') AND a.attname = 'brand_id'"
            " AND NOT a.attisdropped ORDER BY c.relname"
        ),
        {"schema": schema},
    ).scalars()
    return [name for name in rows if name not in EXEMPT_TABLES]


def validate_role(role: str | None) -> str | None:
    """`None`/empty disables the role switch; anything else must be a plain identifier."""
    if not role:
        return None
    quote_ident(role)
    return role
