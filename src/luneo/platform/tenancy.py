"""The tenant guard: every ORM query on a tenant table is filtered by the session's brand.

A session is either bound to one brand (`bind_tenant(session, brand_id)`) — its queries on
`TenantMixin` tables get `brand_id = :brand` added automatically and new rows must belong
to that brand — or explicitly marked as system work (`bind_system(session)`: migrations,
webhooks before the brand is known, sweepers). A query on a tenant table from a session
that is neither raises, so a forgotten scope is a loud bug rather than a leak.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import event, select
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from luneo.platform.database import TenantMixin
from luneo.platform.errors import NotFound

T = TypeVar("T")


class TenantScopeError(RuntimeError):
    """A tenant table was touched from a session with no tenant and no system flag."""


def bind_tenant(session: Session, brand_id: str) -> Session:
    """Scope every query of this session to one brand."""
    session.info["brand_id"] = brand_id
    session.info.pop("system", None)
    return session


def bind_system(session: Session) -> Session:
    """Mark a session as cross-tenant system work (used sparingly, never for API callers)."""
    session.info["system"] = True
    session.info.pop("brand_id", None)
    return session


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
        raise NotFound(what or model.__name__.lower(), ident)
    return row
