"""Cursor pagination: `{"data": [...], "next_cursor": …}`, newest first, by time-ordered id."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select
from sqlalchemy.orm import Session

from luneo.platform.errors import Problem

T = TypeVar("T")
MAX_LIMIT = 200


class Page(BaseModel, Generic[T]):
    """A page of results and the cursor of the next page (null at the end)."""

    data: list[T]
    next_cursor: str | None = None

    def map(self, fn: Callable[[Any], Any]) -> Page[Any]:
        """The same page with each item converted (e.g. ORM row → schema)."""
        return Page(data=[fn(item) for item in self.data], next_cursor=self.next_cursor)


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        pad = "=" * (-len(cursor) % 4)
        value = base64.urlsafe_b64decode(cursor + pad).decode()
    except (ValueError, UnicodeDecodeError):
        raise Problem(422, "invalid_cursor", "The cursor is not one this API issued.") from None
    if not value or len(value) > 64 or not value.isascii():
        raise Problem(422, "invalid_cursor", "The cursor is not one this API issued.")
    return value


def paginate(session: Session, stmt: Select[Any], model: Any, cursor: str | None, limit: int) -> Page[Any]:
    """Run `stmt` (already filtered) newest-first from the cursor; `limit` is clamped to 1..200."""
    if limit < 1 or limit > MAX_LIMIT:
        raise Problem(422, "invalid_limit", f"limit must be between 1 and {MAX_LIMIT}.")
    if cursor:
        stmt = stmt.where(model.id < decode_cursor(cursor))
    rows = list(session.execute(stmt.order_by(model.id.desc()).limit(limit + 1)).scalars())
    nxt = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return Page(data=rows[:limit], next_cursor=nxt)
