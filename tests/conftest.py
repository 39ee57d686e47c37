"""Shared fixtures: settings and database per test (SQLite always; PostgreSQL when
`LUNEO_TEST_DATABASE_URL` is set), an app client, and two brands to prove isolation.

With `LUNEO_REQUIRE_BACKENDS=1` (CI) a skipped PostgreSQL/Redis/validator test fails the run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

PG_URL = os.environ.get("LUNEO_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("LUNEO_TEST_REDIS_URL")
AMQP_URL = os.environ.get("LUNEO_TEST_AMQP_URL")
REQUIRE = os.environ.get("LUNEO_REQUIRE_BACKENDS") == "1"
BACKENDS = ["sqlite", "postgres"]


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "gw0")


def pg_url_for(dbname: str) -> str:
    assert PG_URL
    base = sa.engine.make_url(
        PG_URL.replace("postgresql://", "postgresql+psycopg://", 1)
        if PG_URL.startswith("postgresql://")
        else PG_URL
    )
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(sa.text("select 1 from pg_database where datname = :n"), {"n": dbname}).first()
        if not exists:
            conn.execute(sa.text(f'create database "{dbname}"'))
    admin.dispose()
    return base.set(database=dbname).render_as_string(hide_password=False)


def reset_pg_database(dbname: str) -> str:
    """A fresh empty PostgreSQL database (dropped and recreated)."""
    assert PG_URL
    base = sa.engine.make_url(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'drop database if exists "{dbname}" with (force)'))
        conn.execute(sa.text(f'create database "{dbname}"'))
    admin.dispose()
    return base.set(database=dbname).render_as_string(hide_password=False)


# --- migrated templates, built once per worker -------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from luneo.platform import migrate

    path = tmp_path_factory.mktemp("tpl") / "template.db"
    migrate.upgrade(url=f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_migrated() -> str | None:
    if not PG_URL:
        return None
    from luneo.platform import migrate

    url = reset_pg_database(f"luneo_test_{_worker()}")
    migrate.upgrade(url=url)
    _MIGRATION_ROWS.update(_rows_seeded_by_migrations(url))
    return url


#: Rows the migrations insert (e.g. the default credit packs), restored after each truncate so a
#: PostgreSQL test starts from the same state as a freshly migrated database (as SQLite does).
_MIGRATION_ROWS: dict[str, list[dict[str, Any]]] = {}


def _rows_seeded_by_migrations(url: str) -> dict[str, list[dict[str, Any]]]:
    from luneo.models import metadata

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = {
            t.name: [dict(r._mapping) for r in conn.execute(sa.select(t))] for t in metadata.sorted_tables
        }
    engine.dispose()
    return {name: found for name, found in rows.items() if found}


def _truncate_pg(url: str) -> None:
    from luneo.models import metadata

    engine = sa.create_engine(url)
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(sa.text(f"truncate {names} restart identity cascade"))
        for table in metadata.sorted_tables:
            if table.name in _MIGRATION_ROWS:
                conn.execute(sa.insert(table), _MIGRATION_ROWS[table.name])
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres" and not PG_URL:
        pytest.skip("PostgreSQL not configured (set LUNEO_TEST_DATABASE_URL)")
    return str(request.param)


@pytest.fixture(params=["redis", "rabbitmq"])
def broker(request: pytest.FixtureRequest) -> str:
    """The job broker of worker-process tests: Redis (`LUNEO_TEST_REDIS_URL`) and RabbitMQ
    (`LUNEO_TEST_AMQP_URL`, e.g. amqp://guest:guest@127.0.0.1:5672/%2F)."""
    if not REDIS_URL:
        pytest.skip("Redis not configured (set LUNEO_TEST_REDIS_URL): worker tests skipped")
    if request.param == "rabbitmq" and not AMQP_URL:
        pytest.skip("RabbitMQ not configured (set LUNEO_TEST_AMQP_URL): RabbitMQ broker tests skipped")
    return str(request.param)


@pytest.fixture
def settings(
    backend: str,
    tmp_path: Path,
    sqlite_template: Path,
    pg_migrated: str | None,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Any]:
    """Test settings in a temp data dir with a migrated, empty database; installed globally."""
    from luneo.platform import config, database

    data = tmp_path / "var"
    data.mkdir()
    monkeypatch.setenv("LUNEO_DATA_DIR", str(data))
    monkeypatch.setenv("LUNEO_ENV", "test")
    monkeypatch.setenv("LUNEO_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("LUNEO_RATE_LIMIT_KEY", "100000/minute")
    monkeypatch.setenv("LUNEO_RATE_LIMIT_IP", "100000/minute")
    monkeypatch.setenv("LUNEO_RATE_LIMIT_LOGIN", "100000/minute")
    monkeypatch.setenv("LUNEO_RATE_LIMIT_UPLOAD_IP", "100000/minute")
    monkeypatch.setenv("LUNEO_ARGON2_MEMORY_KIB", "1024")
    monkeypatch.setenv("LUNEO_ARGON2_TIME_COST", "1")
    for var in ("LUNEO_REDIS_URL", "LUNEO_STORAGE_URL", "LUNEO_DATABASE_URL"):
        monkeypatch.delenv(var, raising=False)
    if backend == "postgres":
        assert pg_migrated
        _truncate_pg(pg_migrated)
        monkeypatch.setenv("LUNEO_DATABASE_URL", pg_migrated)
    else:
        shutil.copy(sqlite_template, data / "luneo.db")
    config.get_settings.cache_clear()
    s = config.get_settings()
    db = database.Database(s)
    database.set_db(db)
    from luneo.platform.auth import clear_auth_caches

    clear_auth_caches()
    yield s
    database.set_db(None)
    config.get_settings.cache_clear()


@pytest.fixture
def db(settings: Any) -> Any:
    from luneo.platform.database import get_db

    return get_db()


@pytest.fixture
def app(settings: Any) -> Any:
    from luneo.app import create_app

    return create_app(settings, start_workers=False)


@pytest.fixture
def client(app: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@dataclass
class BrandCtx:
    """A brand with an owner (JWT), a secret key and a publishable key."""

    id: str
    slug: str
    owner_id: str
    owner_email: str
    password: str
    token: str
    sk: str
    pk: str
    origin: str

    def h(self, kind: str = "token", **extra: str) -> dict[str, str]:
        value = {"token": self.token, "sk": self.sk, "pk": self.pk}[kind]
        headers = {"Authorization": f"Bearer {value}"}
        if kind == "pk":
            headers["Origin"] = self.origin
        headers.update(extra)
        return headers


def make_brand(slug: str) -> BrandCtx:
    from luneo.platform.config import get_settings
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_system, bind_tenant
    from luneo.tenancy import service

    origin = f"https://{slug}.example"
    with get_db().transaction() as s:
        bind_system(s)
        brand = service.create_brand(s, slug=slug, name=slug.title(), allowed_origins=[origin])
        user = service.create_user(s, email=f"owner@{slug}.example", password="correct horse battery")
        bind_tenant(s, brand.id)
        service.add_member(s, brand_id=brand.id, user_id=user.id, role="owner")
        _, sk = service.create_api_key(s, brand_id=brand.id, kind="secret")
        _, pk = service.create_api_key(s, brand_id=brand.id, kind="publishable", allowed_origins=[origin])
        bind_system(s)
        access, _ = service.login(s, get_settings(), user.email, "correct horse battery")
        return BrandCtx(brand.id, slug, user.id, user.email, "correct horse battery", access, sk, pk, origin)


@pytest.fixture
def brand_a(settings: Any) -> BrandCtx:
    return make_brand("alpha")


@pytest.fixture
def brand_b(settings: Any) -> BrandCtx:
    return make_brand("bravo")


# --- CI: skipped backend tests are failures ----------------------------------------------

_REQUIRED_WORDS = (
    "PostgreSQL",
    "Redis",
    "RabbitMQ",
    "validator",
    "qpdf",
    "pdftoppm",
    "chromium",
    "LUNEO_TEST_",
)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if REQUIRE and report.skipped and isinstance(report.longrepr, tuple):
        reason = str(report.longrepr[2])
        if any(word in reason for word in _REQUIRED_WORDS):
            report.outcome = "failed"
            report.longrepr = f"required backend/tool skipped in CI: {reason}"
