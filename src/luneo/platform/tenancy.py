"""The tenant guard: every ORM query on a tenant table is filtered by the session's brand.

A session is either bound to one brand (`bind_tenant(session, brand_id)`) — its queries on
`TenantMixin` tables get `brand_id = :brand` added automatically and new rows must belong
to that brand — or explicitly marked as system work (`bind_system(session)`: migrations,
webhooks before the brand is known, sweepers). A query on a tenant table from a session
that is neither raises, so a forgotten scope is a loud bug rather than a leak.

On PostgreSQL the binding is also handed to the database, once per transaction: when a
session's transaction starts (and again when a session is re-bound mid-transaction) the
guard runs `set_config('luneo.brand_id', …, true)` and `set_config('luneo.system', …, true)`,
which the row-level security policies read (see `luneo.platform.rls`). A query that slips
past the ORM guard — raw SQL, `luneo_skip_guard`, a bug — still sees only the bound brand.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection, event, select, text
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, with_loader_criteria

from luneo.platform.database import TenantMixin
from luneo.platform.domain_errors import NotFoundError
from luneo.platform.rls import BRAND_SETTING, SYSTEM_SETTING

T = TypeVar("T")


class TenantScopeError(RuntimeError):
    """A tenant table was touched from a session with no tenant and no system flag."""


def bind_tenant(session: Session, brand_id: str) -> Session:
    """Scope every query of this session to one brand."""
    session.info["brand_id"] = brand_id
    session.info.pop("system", None)
    _sync_database_scope(session)
    return session


def bind_system(session: Session) -> Session:
    """Mark a session as cross-tenant system work (used sparingly, never for API callers)."""
    session.info["system"] = True
    session.info.pop("brand_id", None)
    _sync_database_scope(session)
    return session


def unbind(session: Session) -> Session:
    """Remove any scope: the session may then touch only non-tenant tables."""
    session.info.pop("system", None)
    session.info.pop("brand_id", None)
    _sync_database_scope(session)
    return session


@contextmanager
def system_scope(session: Session) -> Iterator[Session]:
    """Lift the tenant scope (guard and row-level security) for a cross-brand check inside the
    current transaction, then restore the previous binding. Pending changes are flushed first,
    under the current scope. Use it for the rare question that is about storage or the
    platform rather than one brand (e.g. "is this content-addressed blob used by anyone?").
    """
    brand_id = session.info.get("brand_id")
    was_system = bool(session.info.get("system"))
    session.flush()
    bind_system(session)
    try:
        yield session
    finally:
        if brand_id is not None:
            bind_tenant(session, brand_id)
        elif not was_system:
            unbind(session)


# --------------------------------------------------------------------------- database side (RLS)

_SET_SCOPE = text(
    f"SELECT set_config('{BRAND_SETTING}', :brand, true), set_config('{SYSTEM_SETTING}', :system, true)"
)
_UNSCOPED = ("", "off")  # what a fresh transaction has: matches no brand, not system
_APPLIED = "_luneo_rls"  # session.info: (connection, (brand, system)) for the open transaction


def _wanted(session: Session) -> tuple[str, str]:
    brand_id = session.info.get("brand_id")
    if brand_id is not None:
        return (str(brand_id), "off")
    if session.info.get("system"):
        return ("", "on")
    return _UNSCOPED


def _apply(session: Session, connection: Connection, wanted: tuple[str, str]) -> None:
    connection.execute(_SET_SCOPE, {"brand": wanted[0], "system": wanted[1]})
    session.info[_APPLIED] = (connection, wanted)


@event.listens_for(Session, "after_begin")
def _scope_transaction(session: Session, _transaction: SessionTransaction, connection: Connection) -> None:
    """Once per transaction (PostgreSQL): hand the session's binding to the RLS policies."""
    if connection.dialect.name != "postgresql":
        return
    applied = session.info.get(_APPLIED)
    current = applied[1] if applied is not None and applied[0] is connection else _UNSCOPED
    wanted = _wanted(session)
    if wanted != current:
        _apply(session, connection, wanted)
    else:
        session.info[_APPLIED] = (connection, current)


@event.listens_for(Session, "after_transaction_end")
def _forget_scope(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the settings were transaction-local: they are gone now
        session.info.pop(_APPLIED, None)


def _sync_database_scope(session: Session) -> None:
    """Re-bound mid-transaction: update the settings on the transaction's connection, if any."""
    applied = session.info.get(_APPLIED)
    if applied is None:
        return  # no connection yet: `after_begin` applies the binding when one is taken
    connection, current = applied
    wanted = _wanted(session)
    if wanted != current:
        _apply(session, connection, wanted)


def session_brand(session: Session) -> str | None:
    return session.info.get("brand_id")


def _touches_tenant_tables(state: ORMExecuteState) -> bool:
    return any(issubclass(mapper.class_, TenantMixin) for mapper in state.all_mappers)


@event.listens_for(Session, "do_orm_execute")
def _scope_queries(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.execution_options.get("luneo_skip_guard"):
        return
    session = state.session
    brand_id = session.info.get("brand_id")
    if brand_id is not None:
        state.statement = state.statement.options(
            with_loader_criteria(TenantMixin, lambda cls: cls.brand_id == brand_id, include_aliases=True)
        )
        return
    if session.info.get("system"):
        return
    if _touches_tenant_tables(state):
        raise TenantScopeError("query on a tenant table from an unscoped session")


@event.listens_for(Session, "before_flush")
def _check_new_rows(session: Session, _ctx: Any, _instances: Any) -> None:
    brand_id = session.info.get("brand_id")
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, TenantMixin):
            continue
        if brand_id is None:
            if not session.info.get("system"):
                raise TenantScopeError("write to a tenant table from an unscoped session")
            continue
        if obj.brand_id is None:
            obj.brand_id = brand_id
        elif obj.brand_id != brand_id:
            raise TenantScopeError("row belongs to another brand")


def get_or_404(session: Session, model: type[T], ident: str, what: str | None = None) -> T:
    """Fetch a row by id through the guard; a foreign brand's id is a 404 like a missing one."""
    row = session.execute(select(model).where(model.id == ident)).scalar_one_or_none()  # type: ignore[attr-defined]
    if row is None:
        raise NotFoundError(what or model.__name__.lower(), ident)
    return row
