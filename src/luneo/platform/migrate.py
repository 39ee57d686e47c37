"""Alembic, driven from code: `luneo db upgrade | downgrade | current`.

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
            conn.commit()
            cfg.attributes["connection"] = conn
            yield cfg
    finally:
        engine.dispose()


def _names(value: str | tuple[str, ...] | list[str] | None) -> set[str]:
    if value is None:
        return set()
    return {value} if isinstance(value, str) else set(value)


def ordered_revisions(cfg: Config) -> list[str]:
    """Every revision, parents (down revisions and `depends_on`) first, ties by revision id.

    Alembic orders independent branches by set iteration, which varies with the process's
    hash seed, and some orders trip its version bookkeeping when a revision depends on
    another branch (`KeyError` in `_delete_version`). Applying revisions one at a time in
    this fixed order gives the same, working sequence on every run.
    """
    script = ScriptDirectory.from_config(cfg)
    parents = {
        rev.revision: _names(rev.down_revision) | _names(rev.dependencies) for rev in script.walk_revisions()
    }
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


def downgrade(revision: str = "-1", *, url: str | None = None) -> None:
    with _owner_connection(alembic_config(url=url)) as cfg:
        command.downgrade(cfg, revision)


def current(*, url: str | None = None) -> str:
    cfg = alembic_config(url=url)
    buf = io.StringIO()
    cfg.stdout = buf
    command.current(cfg)
    return buf.getvalue().strip()
