"""PostgreSQL Row-Level Security: the second wall behind the tenant guard.

Every table with a `brand_id` column carries a forced RLS policy on
`brand_id = current_setting('luneo.brand_id')` (or `luneo.system = 'on'`); the app runs
under a role that does not bypass RLS; the guard sets both settings once per transaction.
These tests run on PostgreSQL only (SQLite keeps the guard alone); in CI
(`LUNEO_REQUIRE_BACKENDS=1`) a missing PostgreSQL fails them instead of skipping.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from tests.conftest import PG_URL, BrandCtx
from tests.integration.factories.catalog import png_bytes, product_body


@pytest.fixture(params=["postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """PostgreSQL only: RLS does not exist on SQLite."""
    if not PG_URL:
        pytest.skip("PostgreSQL not configured (set LUNEO_TEST_DATABASE_URL)")
    return "postgres"


@pytest.fixture
def pg_url(pg_migrated: str | None) -> str:
    """The migrated PostgreSQL test database, connected to as its owner (no role switch)."""
    if not pg_migrated:
        pytest.skip("PostgreSQL not configured (set LUNEO_TEST_DATABASE_URL)")
    return pg_migrated


def _product(client: Any, brand: BrandCtx, sku: str) -> str:
    r = client.post("/api/v1/products", json=product_body(sku), headers=brand.h())
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


@pytest.fixture
def two_products(client: Any, brand_a: BrandCtx, brand_b: BrandCtx) -> tuple[str, str]:
    return _product(client, brand_a, "RLS-A"), _product(client, brand_b, "RLS-B")


def _ids(rows: Any) -> set[str]:
    return {r[0] for r in rows}


# --------------------------------------------------------------------------- the app's role


def test_app_connects_under_a_role_that_does_not_bypass_rls(db: Any) -> None:
    with db.engine.connect() as conn:
        row = conn.execute(
            text(
                "select current_user, r.rolsuper, r.rolbypassrls from pg_roles r where r.rolname = current_user"
            )
        ).one()
    assert row[0] == "luneo_app"
    assert row[1] is False and row[2] is False


# --------------------------------------------------------------------------- forgotten guard


def test_raw_sql_in_a_brand_transaction_sees_only_that_brand(
    db: Any, two_products: tuple[str, str], brand_a: BrandCtx, brand_b: BrandCtx
) -> None:
    from luneo.platform.tenancy import bind_tenant

    pa, pb = two_products
    with db.transaction(write=False) as s:
        bind_tenant(s, brand_a.id)
        # Raw SQL does not go through the ORM guard: only RLS stands between A and B.
        everything = _ids(s.execute(text("select id from products")))
        b_rows = _ids(s.execute(text("select id from products where brand_id = :b"), {"b": brand_b.id}))
        by_id = s.execute(text("select count(*) from products where id = :p"), {"p": pb}).scalar_one()
    assert everything == {pa}
    assert b_rows == set()
    assert by_id == 0


def test_orm_query_with_the_guard_skipped_returns_nothing_of_another_brand(
    db: Any, two_products: tuple[str, str], brand_a: BrandCtx, brand_b: BrandCtx
) -> None:
    from luneo.catalog.models import Product
    from luneo.platform.tenancy import bind_tenant

    _pa, pb = two_products
    with db.transaction(write=False) as s:
        bind_tenant(s, brand_a.id)
        found = s.execute(
            select(Product).where(Product.id == pb), execution_options={"luneo_skip_guard": True}
        ).scalar_one_or_none()
        names = s.execute(
            select(Product.id).where(Product.brand_id == brand_b.id),
            execution_options={"luneo_skip_guard": True},
        ).all()
    assert found is None
    assert names == []


def test_a_connection_bound_to_nothing_sees_no_tenant_rows(db: Any, two_products: tuple[str, str]) -> None:
    with db.engine.connect() as conn:
        assert conn.execute(text("select count(*) from products")).scalar_one() == 0
        assert conn.execute(text("select count(*) from memberships")).scalar_one() == 0
        assert conn.execute(text("select count(*) from api_keys")).scalar_one() == 0
        # Platform tables without a brand stay readable.
        assert conn.execute(text("select count(*) from brands")).scalar_one() == 2


def test_updates_and_deletes_cannot_reach_another_brand(
    db: Any, two_products: tuple[str, str], brand_a: BrandCtx
) -> None:
    from luneo.platform.tenancy import bind_system, bind_tenant

    _pa, pb = two_products
    with db.transaction() as s:
        bind_tenant(s, brand_a.id)
        upd = s.execute(text("update products set name = 'pwned' where id = :p"), {"p": pb})
        dele = s.execute(text("delete from products where id = :p"), {"p": pb})
        assert upd.rowcount == 0 and dele.rowcount == 0
    with db.transaction(write=False) as s:
        bind_system(s)
        assert s.execute(text("select name from products where id = :p"), {"p": pb}).scalar_one() != "pwned"


def test_inserting_a_row_for_another_brand_is_refused(db: Any, brand_a: BrandCtx, brand_b: BrandCtx) -> None:
    from luneo.platform.tenancy import bind_tenant

    sql = text(
        "insert into audit_events (id, brand_id, actor, action, resource_type, resource_id, data, created_at)"
        " values (:id, :brand, 'x', 'x', 'x', 'x', '{}', now())"
    )
    with pytest.raises(DBAPIError, match="row-level security"), db.transaction() as s:
        bind_tenant(s, brand_a.id)
        s.execute(sql, {"id": "aud_rls_forged", "brand": brand_b.id})
    # Moving one's own row to another brand is refused too (WITH CHECK).
    with db.transaction() as s:
        bind_tenant(s, brand_a.id)
        s.execute(sql, {"id": "aud_rls_own", "brand": brand_a.id})
    with pytest.raises(DBAPIError, match="row-level security"), db.transaction() as s:
        bind_tenant(s, brand_a.id)
        s.execute(text("update audit_events set brand_id = :b where id = 'aud_rls_own'"), {"b": brand_b.id})


# --------------------------------------------------------------------------- system work and binding


def test_system_sessions_see_every_brand(db: Any, two_products: tuple[str, str]) -> None:
    from luneo.platform.tenancy import bind_system

    with db.transaction(write=False) as s:
        bind_system(s)
        assert _ids(s.execute(text("select id from products"))) == set(two_products)


def test_rebinding_inside_one_transaction_moves_the_wall(
    db: Any, two_products: tuple[str, str], brand_a: BrandCtx, brand_b: BrandCtx
) -> None:
    from luneo.platform.tenancy import bind_system, bind_tenant

    pa, pb = two_products
    with db.transaction(write=False) as s:
        bind_system(s)
        assert _ids(s.execute(text("select id from products"))) == {pa, pb}
        bind_tenant(s, brand_b.id)
        assert _ids(s.execute(text("select id from products"))) == {pb}
        bind_tenant(s, brand_a.id)
        assert _ids(s.execute(text("select id from products"))) == {pa}
    # Settings are transaction-local: the next transaction on the same pooled connection starts walled.
    with db.engine.connect() as conn:
        assert conn.execute(text("select count(*) from products")).scalar_one() == 0


def test_the_setting_survives_commit_within_one_session(
    db: Any, two_products: tuple[str, str], brand_a: BrandCtx
) -> None:
    from luneo.platform.tenancy import bind_tenant

    pa, _pb = two_products
    s = bind_tenant(db.session(write=False), brand_a.id)
    try:
        assert _ids(s.execute(text("select id from products"))) == {pa}
        s.commit()  # a new transaction begins on the next statement: the guard sets the brand again
        assert _ids(s.execute(text("select id from products"))) == {pa}
    finally:
        s.close()


def test_system_scope_lifts_both_walls_then_restores_the_brand(
    db: Any, two_products: tuple[str, str], brand_a: BrandCtx
) -> None:
    from luneo.platform.tenancy import bind_tenant, session_brand, system_scope

    pa, pb = two_products
    with db.transaction(write=False) as s:
        bind_tenant(s, brand_a.id)
        with system_scope(s):
            assert _ids(s.execute(text("select id from products"))) == {pa, pb}
        assert session_brand(s) == brand_a.id
        assert _ids(s.execute(text("select id from products"))) == {pa}


def test_one_brand_deleting_a_shared_blob_keeps_the_other_brands_copy(
    client: Any, db: Any, brand_a: BrandCtx, brand_b: BrandCtx
) -> None:
    """Storage is content-addressed across brands: the 'is the blob still used' check is cross-brand."""
    from luneo.catalog.models import Asset
    from luneo.platform.storage import get_storage
    from luneo.platform.tenancy import bind_system

    data = png_bytes(9, 7, (1, 2, 3))
    ids = []
    for brand in (brand_a, brand_b):
        r = client.post("/api/v1/assets", headers=brand.h(), files={"file": ("a.png", data, "image/png")})
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    with db.transaction(write=False) as s:
        bind_system(s)
        key = s.execute(select(Asset.storage_key).where(Asset.id == ids[1])).scalar_one()
    assert client.delete(f"/api/v1/assets/{ids[0]}", headers=brand_a.h()).status_code == 204
    assert get_storage().exists(key)


# --------------------------------------------------------------------------- catalogue


def _brand_tables(conn: sa.Connection) -> set[str]:
    return set(
        conn.execute(
            text(
                "select c.table_name from information_schema.columns c"
                " join information_schema.tables t using (table_schema, table_name)"
                " where c.table_schema = current_schema() and c.column_name = 'brand_id'"
                " and t.table_type = 'BASE TABLE'"
            )
        ).scalars()
    )


def test_every_table_with_a_brand_id_has_forced_rls_and_the_policy(pg_url: str) -> None:
    from luneo.models import metadata
    from luneo.platform import rls

    engine = sa.create_engine(pg_url)
    try:
        with engine.connect() as conn:
            tables = _brand_tables(conn)
            flags = {
                r[0]: (r[1], r[2])
                for r in conn.execute(
                    text(
                        "select c.relname, c.relrowsecurity, c.relforcerowsecurity from pg_class c"
                        " join pg_namespace n on n.oid = c.relnamespace"
                        " where n.nspname = current_schema() and c.relkind = 'r'"
                    )
                )
            }
            policies = {
                r[0]: (r[1], r[2], r[3], r[4])
                for r in conn.execute(
                    text(
                        "select tablename, cmd, permissive, qual, with_check from pg_policies"
                        " where schemaname = current_schema() and policyname = :p"
                    ),
                    {"p": rls.POLICY_NAME},
                )
            }
            grants = set(
                conn.execute(
                    text(
                        "select table_name from information_schema.role_table_grants"
                        " where grantee = 'luneo_app' and privilege_type = 'SELECT'"
                        " and table_schema = current_schema()"
                    )
                ).scalars()
            )
    finally:
        engine.dispose()
    tenant_tables = {
        t.name for t in metadata.sorted_tables if "brand_id" in t.c and not t.c.brand_id.nullable
    }
    assert tenant_tables <= tables
    assert tenant_tables - set(rls.EXEMPT_TABLES) == tenant_tables  # a tenant table is never exempt
    protected = tables - set(rls.EXEMPT_TABLES)
    assert protected >= tenant_tables
    for name in sorted(protected):
        assert flags[name] == (True, True), f"{name}: RLS enabled/forced = {flags[name]}"
        cmd, permissive, qual, check = policies[name]
        assert cmd == "ALL" and permissive == "PERMISSIVE", name
        for expr in (qual, check):
            assert "luneo.brand_id" in expr and "luneo.system" in expr and "brand_id" in expr, (name, expr)
    # Every exempt table names why; nothing is exempted that does not exist.
    assert set(rls.EXEMPT_TABLES) <= tables
    assert all(reason for reason in rls.EXEMPT_TABLES.values())
    # The app role can use every table the models declare.
    assert {t.name for t in metadata.sorted_tables} <= grants


def test_enable_rls_helper_protects_a_new_table(pg_url: str) -> None:
    """The helper future migrations call: a new tenant table is walled like the others."""
    from luneo.platform import rls

    engine = sa.create_engine(pg_url)
    try:
        with engine.connect() as conn:
            conn.execute(text("create table rls_probe (id text primary key, brand_id varchar(40) not null)"))
            for stmt in rls.enable_rls_statements("rls_probe", role="luneo_app"):
                conn.execute(text(stmt))
            conn.execute(text("insert into rls_probe values ('1', 'brand_x'), ('2', 'brand_y')"))
            conn.execute(text("set local role luneo_app"))
            conn.execute(text("select set_config('luneo.brand_id', 'brand_x', true)"))
            seen = _ids(conn.execute(text("select id from rls_probe")))
            conn.rollback()
    finally:
        engine.dispose()
    assert seen == {"1"}


def test_rls_revision_runs_after_every_other_migration() -> None:
    """The RLS revision inspects tables at upgrade time, so every earlier revision must precede it
    (later ones enable RLS on their own tables; `test_every_table_with_a_brand_id_...` checks them)."""
    from alembic.script import ScriptDirectory

    from luneo.platform import migrate, rls

    script = ScriptDirectory.from_config(migrate.alembic_config(url="sqlite://"))
    before = {rev.revision for rev in script.iterate_revisions(rls.REVISION, "base")}
    earlier = {rev.revision for rev in script.walk_revisions() if rev.revision < rls.REVISION}
    assert earlier - before == set(), f"run before {rls.REVISION}: {sorted(earlier - before)}"
