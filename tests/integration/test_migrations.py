"""Every migration upgrades, downgrades and upgrades again, on SQLite and PostgreSQL,
and the migrated schema matches the models."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import PG_URL, reset_pg_database


def _url(backend: str, tmp_path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'mig.db'}"
    if not PG_URL:
        pytest.skip("PostgreSQL not configured (set LUNEO_TEST_DATABASE_URL)")
    import os

    return reset_pg_database(f"luneo_mig_{os.environ.get('PYTEST_XDIST_WORKER', 'gw0')}")


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_upgrade_downgrade_upgrade(backend, tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from luneo.models import metadata
    from luneo.platform import migrate

    url = _url(backend, tmp_path)
    migrate.upgrade(url=url)
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    tables = set(sa.inspect(engine).get_table_names())
    assert {t.name for t in metadata.sorted_tables} <= tables
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), metadata)
    assert not [d for d in diff if d[0] in ("add_table", "remove_table", "add_column", "remove_column")], diff
    engine.dispose()
    migrate.downgrade("base", url=url)
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    left = set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    engine.dispose()
    assert left == set()
    migrate.upgrade(url=url)
    assert "head" in migrate.current(url=url)


def test_cli_seed_demo_json_is_one_object_and_idempotent(tmp_path):
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "LUNEO_DATA_DIR": str(tmp_path / "var"), "LUNEO_LOG_LEVEL": "WARNING"}
    env.pop("LUNEO_DATABASE_URL", None)
    out1 = subprocess.run(
        [sys.executable, "-m", "luneo.cli", "seed", "demo", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    out2 = subprocess.run(
        [sys.executable, "-m", "luneo.cli", "seed", "demo", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    a, b = json.loads(out1), json.loads(out2)
    assert out1.count("\n") == 1
    assert a == b
    assert set(a) == {"brand", "owner", "publishable_key", "secret_key"}
    assert a["publishable_key"].startswith("pk_") and a["secret_key"].startswith("sk_")
    assert set(a["brand"]) == {"id", "slug"} and set(a["owner"]) == {"email", "password"}
