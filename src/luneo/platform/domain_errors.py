"""Domain errors: what services raise instead of HTTP problems.

A service refuses an operation with `DomainError(<Domain>ErrorCode.X, "Human message.", **extra)`.
It knows nothing of HTTP: each domain lists its codes in `luneo.<domain>.error_codes` (a `StrEnum`
whose values are the API's stable `code` strings) and registers there, with
`register_http_statuses`, the HTTP status each code answers. Only the edge
(`luneo.platform.errors`) reads that registry, turning the error into an RFC 9457 problem with
the same `code`, `detail` and extra fields. `CommonErrorCode` holds the codes every domain shares,
so "another brand's id answers 404 `not_found`" stays uniform.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any, TypeVar

E = TypeVar("E", bound=StrEnum)


class CommonErrorCode(StrEnum):
    """Codes shared by every domain."""

    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    CONFLICT = "conflict"
    VALIDATION = "validation_error"


class DomainError(Exception):
    """A business rule refused the operation: a code from a domain's enum, a message, details.

    `extra` fields (e.g. `errors`, `sku`, `violations`) are answered next to `code` and `detail`;
    `retry_after_s` says when a retry may succeed (capacity, rate limits)."""

    def __init__(
        self, code: StrEnum, detail: str | None = None, *, retry_after_s: int | None = None, **extra: Any
    ) -> None:
        super().__init__(detail or code.value)
        self.code = code
        self.detail = detail
        self.retry_after_s = retry_after_s
        self.extra = extra


class NotFoundError(DomainError):
    """`not_found` — also the answer for another brand's id (never reveal that it exists)."""

    def __init__(self, what: str = "resource", ident: str | None = None) -> None:
        super().__init__(
            CommonErrorCode.NOT_FOUND, f"{what} {ident} not found" if ident else f"{what} not found"
        )


# --------------------------------------------------------------------------- the edge's registry

_STATUSES: dict[type[StrEnum], Mapping[StrEnum, int]] = {}
_HEADERS: dict[type[StrEnum], Mapping[StrEnum, Mapping[str, str]]] = {}


def register_http_statuses(
    codes: type[E],
    statuses: Mapping[E, int],
    headers: Mapping[E, Mapping[str, str]] | None = None,
) -> None:
    """Declare the HTTP status (and fixed headers, e.g. `WWW-Authenticate`) of every member of
    `codes`; called once by each domain's `error_codes` module. A member without a status fails
    at import, so a new code cannot reach the edge unmapped."""
    missing = [m.name for m in codes if m not in statuses]
    foreign = [c for c in statuses if not isinstance(c, codes)]
    if missing or foreign:
        raise ValueError(f"{codes.__name__}: no HTTP status for {missing}; not members: {foreign}")
    bad = {m.name: s for m, s in statuses.items() if not 400 <= s <= 599}
    if bad:
        raise ValueError(f"{codes.__name__}: statuses must be 4xx/5xx: {bad}")
    by_code: dict[StrEnum, int] = {code: status for code, status in statuses.items()}
    fixed: dict[StrEnum, Mapping[str, str]] = {code: dict(h) for code, h in (headers or {}).items()}
    _STATUSES[codes] = MappingProxyType(by_code)
    _HEADERS[codes] = MappingProxyType(fixed)


def http_status(code: StrEnum) -> int:
    """The status the edge answers for `code` (LookupError when its enum was never registered)."""
    return _STATUSES[type(code)][code]


def http_headers(code: StrEnum) -> dict[str, str]:
    """Fixed response headers registered for `code` (usually none)."""
    return dict(_HEADERS.get(type(code), {}).get(code, {}))


def registered_codes() -> dict[type[StrEnum], Mapping[StrEnum, int]]:
    """Every registered enum with its statuses (for tests and documentation)."""
    return dict(_STATUSES)


register_http_statuses(
    CommonErrorCode,
    {
        CommonErrorCode.NOT_FOUND: 404,
        CommonErrorCode.FORBIDDEN: 403,
        CommonErrorCode.CONFLICT: 409,
        CommonErrorCode.VALIDATION: 422,
    },
)
