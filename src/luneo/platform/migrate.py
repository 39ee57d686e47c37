"""Alembic, driven from code: `luneo db upgrade | downgrade | current`.

On PostgreSQL every upgrade and downgrade holds a session advisory lock
(`pg_advisory_lock(MIGRATION_LOCK_KEY)`): replicas that all run `luneo db upgrade` against a
fresh database wait for each other, and the later ones find nothing left to do.

`downgrade` always takes an explicit target, because the history has one branch per domain
(and 0019, row-level security, depends on every branch): `base`, a revision id (kept; every
applied revision built on it is undone) or `REV@-1` (undo REV and what depends on it).
`downgrade_plan` says which revisions a target undoes, in the order they are undone.

Migrations run as the connecting login (the schema owner), never under the app's
`LUNEO_DATABASE_ROLE`; on PostgreSQL their connection has `luneo.system = on`, so data
migrations see and change every brand's rows through the row-level security policies.
"""

from __future__ import annotations

import heapq
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from luneo.platform.config import Settings, get_settings
from luneo.platform.rls import SYSTEM_SETTING

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# Fixed key of the PostgreSQL advisory lock held around migrations ("luneo_mg" in ASCII).
MIGRATION_LOCK_KEY = 0x6C756E656F5F6D67


class MigrationTargetError(ValueError):
    """An unknown or malformed downgrade target."""


def alembic_config(settings: Settings | None = None, url: str | None = None) -> Config:
    settings = settings or get_settings()
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolates '%': escape it (URL-encoded passwords contain it).
    cfg.set_main_option("sqlalchemy.url", (url or settings.resolved_database_url).replace("%", "%%"))
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    if settings.is_sqlite and url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return cfg


@contextmanager
def _owner_connection(cfg: Config) -> Iterator[Config]:
    """On PostgreSQL: one connection as the login itself (no role switch), marked as system work."""
    url = cfg.get_main_option("sqlalchemy.url") or ""
    if not url.startswith("postgres"):
        yield cfg  # SQLite: env.py opens its own connection
        return
    from luneo.platform.database import create_db_engine

    engine = create_db_engine(url, role=None)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f"SELECT set_config('{SYSTEM_SETTING}', 'on', false)"))
            # Concurrent replicas migrate one after the other (held until unlock/disconnect).
            conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
            conn.commit()
            cfg.attributes["connection"] = conn
            try:
                yield cfg
            finally:
                try:
                    if conn.in_transaction():
                        conn.rollback()
                    conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_KEY})
                    conn.commit()
                except sa.exc.SQLAlchemyError:
                    pass  # a broken connection: the lock ends with it (engine.dispose below)
    finally:
        engine.dispose()


def _names(value: str | tuple[str, ...] | list[str] | None) -> set[str]:
    if value is None:
        return set()
    return {value} if isinstance(value, str) else set(value)


def _parents(cfg: Config) -> dict[str, set[str]]:
    script = ScriptDirectory.from_config(cfg)
    return {
        rev.revision: _names(rev.down_revision) | _names(rev.dependencies) for rev in script.walk_revisions()
    }


def ordered_revisions(cfg: Config) -> list[str]:
    """Every revision, parents (down revisions and `depends_on`) first, ties by revision id.

    Alembic orders independent branches by set iteration, which varies with the process's
    hash seed, and some orders trip its version bookkeeping when a revision depends on
    another branch (`KeyError` in `_delete_version`). Applying revisions one at a time in
    this fixed order gives the same, working sequence on every run.
    """
    parents = _parents(cfg)
    children: dict[str, set[str]] = {name: set() for name in parents}
    for name, ups in parents.items():
        for up in ups:
            children[up].add(name)
    waiting = {name: len(ups) for name, ups in parents.items()}
    ready = [name for name, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        name = heapq.heappop(ready)
        order.append(name)
        for child in children[name]:
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(ready, child)
    return order


def upgrade(revision: str = "heads", *, url: str | None = None) -> None:
    """Upgrade to `revision`; `heads` applies every revision, one at a time, in a fixed order."""
    with _owner_connection(alembic_config(url=url)) as cfg:
        if revision != "heads":
            command.upgrade(cfg, revision)
            return
        for step in ordered_revisions(cfg):
            command.upgrade(cfg, step)


def _applied(cfg: Config, parents: dict[str, set[str]]) -> set[str]:
    """Revisions applied to the database: those in `alembic_version` and all their ancestors."""
    from alembic.runtime.migration import MigrationContext

    conn = cfg.attributes.get("connection")
    if conn is not None:
        heads = set(MigrationContext.configure(conn).get_current_heads())
    else:
        from luneo.platform.database import create_db_engine

        engine = create_db_engine(cfg.get_main_option("sqlalchemy.url") or "")
        try:
            with engine.connect() as c:
                heads = set(MigrationContext.configure(c).get_current_heads())
        finally:
            engine.dispose()
    applied: set[str] = set()
    todo = list(heads)
    while todo:
        name = todo.pop()
        if name in applied or name not in parents:
            continue
        applied.add(name)
        todo.extend(parents[name])
    return applied


def _descendants(parents: dict[str, set[str]], root: str) -> set[str]:
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, ups in parents.items():
            if name not in found and (root in ups or ups & found):
                found.add(name)
                changed = True
    return found


def _plan(cfg: Config, target: str) -> list[tuple[str, str]]:
    parents = _parents(cfg)
    if target == "base":
        undo = set(parents)
    else:
        rev, sep, step = target.partition("@")
        if rev not in parents or (sep and step != "-1"):
            raise MigrationTargetError(
                f"unknown downgrade target {target!r}: use base, a revision id "
                f"({', '.join(sorted(parents))}) or REV@-1"
            )
        undo = _descendants(parents, rev) | ({rev} if sep else set())
    undo &= _applied(cfg, parents)
    script = ScriptDirectory.from_config(cfg)
    order = [name for name in reversed(ordered_revisions(cfg)) if name in undo]
    titles = {name: (script.get_revision(name).doc or "").strip().splitlines() for name in order}
    return [(name, titles[name][0].strip() if titles[name] else "") for name in order]


def downgrade_plan(target: str, *, url: str | None = None) -> list[tuple[str, str]]:
    """(revision, title) for every applied revision `downgrade(target)` would undo, in order."""
    return _plan(alembic_config(url=url), target)


def downgrade(target: str, *, url: str | None = None) -> list[str]:
    """Undo what `downgrade_plan(target)` lists, one revision at a time; returns their ids."""
    with _owner_connection(alembic_config(url=url)) as cfg:
        plan = _plan(cfg, target)  # under the lock: what is applied now
        conn = cfg.attributes.get("connection")
        if conn is not None and conn.in_transaction():
            conn.commit()  # else alembic joins this transaction and never commits its own
        for name, _title in plan:
            command.downgrade(cfg, f"{name}@-1")
        return [name for name, _ in plan]


def current(*, url: str | None = None) -> str:
    cfg = alembic_config(url=url)
    buf = io.StringIO()
    cfg.stdout = buf
    command.current(cfg)
    return buf.getvalue().strip()
