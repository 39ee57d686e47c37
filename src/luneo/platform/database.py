"""SQLAlchemy 2 engine, sessions and the declarative base.

One synchronous engine per process serves the API (FastAPI runs sync routes in a thread
pool) and the workers, on SQLite (WAL) or PostgreSQL (psycopg 3) alike. On PostgreSQL every
new connection switches to `Settings.database_role` (default `luneo_app`), a role subject to
row-level security (see `luneo.platform.rls`); migrations connect without the switch.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, ORMExecuteState, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from luneo.platform.clock import as_utc, utcnow
from luneo.platform.config import Settings, get_settings
from luneo.platform.rls import quote_ident, validate_role

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive UTC)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)


JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    """Declarative base of every table."""

    metadata = sa.MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONType, list[Any]: JSONType}


class TimestampMixin:
    """`created_at` / `updated_at` in UTC."""

    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, nullable=False)


class TenantMixin:
    """Marks a tenant-scoped table: every query on it is filtered by the session's brand."""

    brand_id: Mapped[str] = mapped_column(
        sa.String(40), sa.ForeignKey("brands.id"), index=True, nullable=False
    )


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see _sqlite_begin)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


_sqlite_writer = threading.Lock()  # one writer at a time per process, queued here
_HOLDS_WRITER = "luneo_holds_writer"


def _sqlite_begin(conn: Any) -> None:
    # Writers take the write lock up front (BEGIN IMMEDIATE) so read-then-write
    # transactions never fail half-way with SQLITE_BUSY; readers stay concurrent (WAL).
    # Within a process writers first queue on a lock: waiting there wakes the next writer as
    # soon as one commits, where SQLite's busy handler would sleep in steps of up to 100 ms
    # (seconds of tail latency under load). Other processes still meet at `busy_timeout`.
    if not conn.get_execution_options().get("luneo_write", False):
        conn.exec_driver_sql("BEGIN")
        return
    if not conn.info.get(_HOLDS_WRITER):  # after 10 s (thread pool exhausted?) SQLite's own wait decides
        conn.info[_HOLDS_WRITER] = _sqlite_writer.acquire(timeout=10)
    try:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        _release_writer(conn)
        raise


def _release_writer(conn: Any, *_args: Any) -> None:
    info = conn.info if hasattr(conn, "info") else None
    if info is not None and info.pop(_HOLDS_WRITER, False):
        _sqlite_writer.release()


def _release_writer_on_checkin(_dbapi_conn: Any, record: Any) -> None:
    if record is not None and record.info.pop(_HOLDS_WRITER, False):
        _sqlite_writer.release()


def _set_role(role: str) -> Any:
    quoted = quote_ident(role)

    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        try:
            cur.execute(f"SET ROLE {quoted}")
        except Exception as exc:
            dbapi_conn.rollback()
            raise RuntimeError(
                f"cannot switch to the database role {role!r} (LUNEO_DATABASE_ROLE): run `luneo db upgrade` "
                "(it creates the role), grant it to the login, or set LUNEO_DATABASE_ROLE= to disable"
            ) from exc
        finally:
            cur.close()
        dbapi_conn.commit()  # a SET inside a rolled-back transaction would not stick

    return on_connect


def create_db_engine(url: str, *, role: str | None = None) -> Engine:
    """An engine configured for SQLite (WAL, immediate writes) or PostgreSQL.

    `role` (PostgreSQL only): `SET ROLE` on every new connection, so the app runs under a
    role that row-level security applies to even when the login is the owner or a superuser.
    """
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=16,
            max_overflow=16,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        event.listen(engine, "commit", _release_writer)
        event.listen(engine, "rollback", _release_writer)
        event.listen(engine, "checkin", _release_writer_on_checkin)  # a connection dropped mid-write
        return engine
    engine = sa.create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
    if role and engine.dialect.name == "postgresql":
        event.listen(engine, "connect", _set_role(role))
    return engine


class ReadOnlyTransactionError(RuntimeError):
    """A write was attempted in a read-only transaction (a read-only route that writes is a bug)."""


@event.listens_for(Session, "before_flush")
def _refuse_flush(session: Session, _ctx: Any, _instances: Any) -> None:
    if not session.info.get("read_only"):
        return
    if session.new or session.deleted or any(session.is_modified(o) for o in session.dirty):
        raise ReadOnlyTransactionError("write in a read-only transaction")


@event.listens_for(Session, "do_orm_execute")
def _refuse_dml(state: ORMExecuteState) -> None:
    if state.session.info.get("read_only") and (state.is_insert or state.is_update or state.is_delete):
        raise ReadOnlyTransactionError("write in a read-only transaction")


class Database:
    """The engine plus session factories for read and write units of work."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        if settings.is_sqlite:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.url = settings.resolved_database_url
        self.engine = create_db_engine(self.url, role=validate_role(settings.database_role))
        self._read = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._write = sessionmaker(
            bind=self.engine.execution_options(luneo_write=True), expire_on_commit=False
        )
        # PostgreSQL: `BEGIN READ ONLY` (psycopg sends it with the BEGIN: no extra round trip).
        ro_engine = (
            self.engine.execution_options(postgresql_readonly=True)
            if self.engine.dialect.name == "postgresql"
            else self.engine
        )
        self._read_only = sessionmaker(bind=ro_engine, expire_on_commit=False, info={"read_only": True})

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self, *, write: bool = True, read_only: bool = False) -> Session:
        """A new session; `write=True` takes SQLite's write lock when its transaction starts.

        `read_only` (with `write=False`): a read-only transaction — `BEGIN READ ONLY` on
        PostgreSQL, and on every backend any ORM write raises `ReadOnlyTransactionError`.
        """
        if read_only and not write:
            return self._read_only()
        return (self._write if write else self._read)()

    @contextmanager
    def transaction(self, *, write: bool = True, **info: Any) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        session = self.session(write=write)
        session.info.update(info)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


_db: Database | None = None


def get_db() -> Database:
    """The process-wide Database (created on first use from the settings)."""
    global _db
    if _db is None:
        _db = Database(get_settings())
    return _db


def set_db(db: Database | None) -> None:
    """Replace the process-wide Database (tests, CLI)."""
    global _db
    if _db is not None and _db is not db:
        _db.dispose()
    _db = db
