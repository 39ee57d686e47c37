"""Operations: migrations an operator can reason about (issue 12, items 7 and 8).

- `luneo db downgrade` needs an explicit target, shows what it will undo and asks first;
- one domain's latest revision goes down and up again with its rows kept (SQLite and PostgreSQL);
- replicas migrating a fresh PostgreSQL database at the same time do not race (advisory lock).
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import PG_URL, _worker, reset_pg_database


@pytest.fixture
def private_url(backend: str, tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated database of our own (these tests change its schema)."""
    from luneo.platform import migrate

    if backend == "sqlite":
        path = tmp_path / "ops.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url = reset_pg_database(f"luneo_ops_{_worker()}")
    migrate.upgrade(url=url)
    return url


def _engine(url: str) -> sa.Engine:
    from luneo.platform.rls import SYSTEM_SETTING

    engine = sa.create_engine(url)
    if url.startswith("postgres"):

        @sa.event.listens_for(engine, "connect")
        def _system(dbapi_conn: Any, _rec: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute(f"SELECT set_config('{SYSTEM_SETTING}', 'on', false)")
            cur.close()
            dbapi_conn.commit()

    return engine


def _versions(url: str) -> set[str]:
    engine = _engine(url)
    with engine.connect() as conn:
        rows = {r[0] for r in conn.execute(sa.text("select version_num from alembic_version"))}
    engine.dispose()
    return rows


def _heads() -> set[str]:
    """Every branch's latest revision: what a fully upgraded database records."""
    from alembic.script import ScriptDirectory

    from luneo.platform import migrate

    revisions = list(ScriptDirectory(str(migrate.MIGRATIONS_DIR)).walk_revisions())
    below: set[str] = set()
    for rev in revisions:
        for parents in (rev.down_revision, rev.dependencies):
            below |= {parents} if isinstance(parents, str) else set(parents or ())
    return {rev.revision for rev in revisions} - below


def _columns(url: str, table: str) -> set[str]:
    engine = _engine(url)
    cols = {c["name"] for c in sa.inspect(engine).get_columns(table)}
    engine.dispose()
    return cols


def _insert_payments(url: str, n: int) -> None:
    from luneo.payments.models import Payment
    from luneo.tenancy.models import Brand

    engine = _engine(url)
    with engine.begin() as conn:
        conn.execute(sa.insert(Brand.__table__).values(id="brd_ops", slug="ops", name="Ops"))
        for i in range(n):
            conn.execute(
                sa.insert(Payment.__table__).values(
                    id=f"pay_ops{i}",
                    brand_id="brd_ops",
                    provider="dev",
                    reference=f"ord_{i}",
                    kind="order",
                    amount=1000 + i,
                    currency="EUR",
                )
            )
    engine.dispose()


def _payments(url: str) -> list[tuple[str, int]]:
    engine = _engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("select id, amount from payments order by id")).all()
    engine.dispose()
    return [(r[0], r[1]) for r in rows]


def test_plan_lists_the_revisions_a_target_undoes(private_url):
    from luneo.platform import migrate

    plan = migrate.downgrade_plan("0012@-1", url=private_url)
    assert [rev for rev, _ in plan] == ["0019", "0012"]  # 0019 depends on 0012: it goes first
    titles = dict(plan)
    assert titles["0012"].startswith("payments")
    assert titles["0019"].startswith("row-level security")
    # A revision id as the target keeps it and undoes what sits on it.
    assert [rev for rev, _ in migrate.downgrade_plan("0009", url=private_url)] == ["0019", "0014"]
    assert migrate.downgrade_plan("base", url=private_url)[-1][0] == "0001"
    with pytest.raises(migrate.MigrationTargetError):
        migrate.downgrade_plan("9999", url=private_url)


def test_downgrade_then_upgrade_one_domain_keeps_its_rows(private_url):
    from luneo.platform import migrate

    _insert_payments(private_url, 3)
    before = _payments(private_url)
    assert "flag" in _columns(private_url, "payments")
    undone = migrate.downgrade("0012@-1", url=private_url)
    assert undone == ["0019", "0012"]
    assert "flag" not in _columns(private_url, "payments")
    # Every other domain is untouched.
    assert (_heads() - {"0019", "0012"}) | {"0006"} <= _versions(private_url)
    assert _payments(private_url) == before
    migrate.upgrade(url=private_url)
    assert _versions(private_url) == _heads()
    assert "flag" in _columns(private_url, "payments")
    assert _payments(private_url) == before


def test_downgrade_one_revision_with_only_dependents(private_url):
    """0004 (designs): its own child (0022 approvals) and the revisions that depend on it."""
    from luneo.platform import migrate

    undone = migrate.downgrade("0004@-1", url=private_url)
    assert set(undone) == {"0022", "0019", "0014", "0009", "0007", "0005", "0004"}
    migrate.upgrade(url=private_url)
    assert _versions(private_url) == _heads()


def _cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str, args: list[str], input: str = "") -> Any:
    from typer.testing import CliRunner

    from luneo import cli
    from luneo.platform import config

    monkeypatch.setenv("LUNEO_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("LUNEO_DATABASE_URL", url)
    config.get_settings.cache_clear()
    try:
        return CliRunner().invoke(cli.app, args, input=input)
    finally:
        config.get_settings.cache_clear()


def test_cli_downgrade_needs_a_target_shows_the_plan_and_asks(private_url, tmp_path, monkeypatch):
    result = _cli(monkeypatch, tmp_path, private_url, ["db", "downgrade"])
    assert result.exit_code != 0
    assert _versions(private_url) == _heads()

    result = _cli(monkeypatch, tmp_path, private_url, ["db", "downgrade", "0012@-1"], input="n\n")
    assert result.exit_code != 0, result.output
    assert "0012" in result.output and "0019" in result.output and "payments" in result.output
    assert _versions(private_url) == _heads()  # declined: nothing changed

    result = _cli(monkeypatch, tmp_path, private_url, ["db", "downgrade", "nope"])
    assert result.exit_code != 0 and "nope" in result.output

    result = _cli(monkeypatch, tmp_path, private_url, ["db", "downgrade", "0012@-1", "--yes"])
    assert result.exit_code == 0, result.output
    assert "0019" not in _versions(private_url)
    result = _cli(monkeypatch, tmp_path, private_url, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert _versions(private_url) == _heads()


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL not configured (set LUNEO_TEST_DATABASE_URL)")
def test_concurrent_upgrades_on_a_fresh_postgres_do_not_race():
    from luneo.platform import migrate

    url = reset_pg_database(f"luneo_ops_race_{_worker()}")
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def run() -> None:
        start.wait()
        try:
            migrate.upgrade(url=url)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not errors, errors
    assert _versions(url) == _heads()
    assert "flag" in _columns(url, "payments")
