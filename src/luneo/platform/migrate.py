"""Alembic, driven from code: `luneo db upgrade | downgrade | current`."""

from __future__ import annotations

import io
from pathlib import Path

from alembic import command
from alembic.config import Config

from luneo.platform.config import Settings, get_settings

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


def upgrade(revision: str = "heads", *, url: str | None = None) -> None:
    command.upgrade(alembic_config(url=url), revision)


def downgrade(revision: str = "-1", *, url: str | None = None) -> None:
    command.downgrade(alembic_config(url=url), revision)


def current(*, url: str | None = None) -> str:
    cfg = alembic_config(url=url)
    buf = io.StringIO()
    cfg.stdout = buf
    command.current(cfg)
    return buf.getvalue().strip()
