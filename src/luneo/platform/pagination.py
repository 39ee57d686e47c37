"""Cursor pagination: `{"data": [...], "next_cursor": …}`, newest first, by time-ordered id."""

from __future__ import annotations

import base64
import hashlib
import hmac
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


_CURSOR_TAG = b"luneo-cursor\x00"
_SIG_BYTES = 12


def _cursor_sig(value: bytes) -> bytes:
    from luneo.platform.config import get_settings

    secret = get_settings().secret_key.get_secret_value().encode()
    return hmac.new(secret, _CURSOR_TAG + value, hashlib.sha256).digest()[:_SIG_BYTES]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def encode_cursor(last_id: str) -> str:
    """An opaque cursor: the last id, signed (HMAC-SHA256 with the secret key) so only cursors
    this API issued are accepted."""
    value = last_id.encode()
    return f"{_b64(value)}.{_b64(_cursor_sig(value))}"


def decode_cursor(cursor: str) -> str:
    """The id inside a cursor this API issued; a 422 `invalid_cursor` problem for anything else."""
    invalid = Problem(422, "invalid_cursor", "The cursor is not one this API issued.")
    if len(cursor) > 200 or not cursor.isascii() or cursor.count(".") != 1:
        raise invalid
    payload, _, sig = cursor.partition(".")
    try:
        value = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        given = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
    except ValueError:
        raise invalid from None
    if not value or len(value) > 64 or not hmac.compare_digest(given, _cursor_sig(value)):
        raise invalid
    try:
        text = value.decode("ascii")
    except UnicodeDecodeError:
        raise invalid from None
    return text


def paginate(session: Session, stmt: Select[Any], model: Any, cursor: str | None, limit: int) -> Page[Any]:
    """Run `stmt` (already filtered) newest-first from the cursor; `limit` is clamped to 1..200."""
    if limit < 1 or limit > MAX_LIMIT:
        raise Problem(422, "invalid_limit", f"limit must be between 1 and {MAX_LIMIT}.")
    if cursor:
        stmt = stmt.where(model.id < decode_cursor(cursor))
    rows = list(session.execute(stmt.order_by(model.id.desc()).limit(limit + 1)).scalars())
    nxt = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return Page(data=rows[:limit], next_cursor=nxt)
