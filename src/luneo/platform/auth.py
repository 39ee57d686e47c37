"""Who is calling: bearer JWTs (operators), `sk_` secret keys, `pk_` publishable keys.

`require("perm")` is the route dependency: it authenticates, checks the permission and
yields a `Tenant` — the principal plus a database session bound to the caller's brand by
the tenant guard. The brand always comes from the credential, never from the request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

import jwt
from fastapi import Depends, Request
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from luneo.platform.clock import utcnow
from luneo.platform.config import get_settings
from luneo.platform.database import get_db
from luneo.platform.errors import Problem
from luneo.platform.permissions import PUBLISHABLE_SCOPES, ROLE_PERMISSIONS, SECRET_SCOPES
from luneo.platform.security import decode_access_token, sha256_hex
from luneo.platform.tenancy import bind_system, bind_tenant

PrincipalKind = Literal["user", "secret_key", "publishable_key"]


@dataclass(frozen=True)
class Principal:
    """An authenticated caller acting within one brand."""

    kind: PrincipalKind
    brand_id: str | None
    permissions: frozenset[str]
    user_id: str | None = None
    api_key_id: str | None = None
    role: str | None = None
    allowed_origins: tuple[str, ...] = field(default=())
    brand_suspended: bool = False  # the brand is suspended: `authenticate` refuses (403) unless allowed

    @property
    def actor(self) -> str:
        """The id recorded in audit trails and ledgers."""
        return self.user_id or self.api_key_id or "anonymous"

    @property
    def credential(self) -> str:
        """Scope for idempotency keys and rate limits (one key or one user in one brand)."""
        return f"{self.brand_id}:{self.api_key_id or self.user_id}"

    def can(self, permission: str) -> bool:
        return permission in self.permissions


@dataclass
class Tenant:
    """The route's view of the world: the caller and a session bound to their brand."""

    principal: Principal
    session: Session
    request: Request

    @property
    def brand_id(self) -> str:
        assert self.principal.brand_id is not None
        return self.principal.brand_id

    def shopper_token(self, *, required: bool) -> str | None:
        """The anonymous shopper's `X-Shopper-Token` (16–80 printable characters).

        Widget (`pk_`) callers act for one shopper and must send it (`required`); a 422 problem
        otherwise. Returns None when absent and not required.
        """
        token = self.request.headers.get("x-shopper-token")
        if token is None and not required:
            return None
        if not token or not (16 <= len(token) <= 80) or not token.isprintable():
            raise Problem(
                422, "shopper_token_required", "Widget calls send X-Shopper-Token (16–80 characters)."
            )
        return token


def _unauthorized(detail: str, code: str = "unauthorized") -> Problem:
    return Problem(401, code, detail, headers={"WWW-Authenticate": 'Bearer realm="luneo"'})


class _TTLCache:
    """A tiny thread-safe TTL cache for credential lookups (revocation clears it)."""

    def __init__(self, ttl_s: float, max_items: int = 10_000) -> None:
        self.ttl_s, self.max_items = ttl_s, max_items
        self._data: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Any:
        hit = self._data.get(key)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            if len(self._data) >= self.max_items:
                self._data.clear()
            self._data[key] = (time.monotonic() + self.ttl_s, value)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


_key_cache = _TTLCache(ttl_s=5.0)
_SUSPENDED = "suspended"  # key cache marker: the key's brand is suspended
_membership_cache = _TTLCache(ttl_s=5.0)
_last_used_written: dict[str, float] = {}


def clear_auth_caches() -> None:
    """Forget cached keys and memberships (called on revoke / role change)."""
    _key_cache.clear()
    _membership_cache.clear()


def _lookup_api_key(token: str) -> Principal:
    from luneo.tenancy.models import ApiKey, Brand

    digest = sha256_hex(token)
    cached = _key_cache.get(digest)
    if cached is None:
        with get_db().transaction(write=False) as s:
            bind_system(s)
            row = s.execute(
                select(ApiKey, Brand.allowed_origins, Brand.suspended_at)
                .join(Brand, Brand.id == ApiKey.brand_id)
                .where(ApiKey.key_hash == digest)
            ).first()
            if row is None or row[0].revoked_at is not None:
                cached = False
            elif row[2] is not None:
                cached = _SUSPENDED
            else:
                key, brand_origins, _ = row
                publishable = key.kind == "publishable"
                base = PUBLISHABLE_SCOPES if publishable else SECRET_SCOPES
                scopes = frozenset(key.scopes) & base if key.scopes else base
                origins = tuple(dict.fromkeys([*(key.allowed_origins or []), *(brand_origins or [])]))
                cached = Principal(
                    kind="publishable_key" if publishable else "secret_key",
                    brand_id=key.brand_id,
                    permissions=scopes,
                    api_key_id=key.id,
                    allowed_origins=origins,
                )
        _key_cache.put(digest, cached)
    if cached is False:
        raise _unauthorized("The API key is invalid or revoked.", "invalid_api_key")
    if cached is _SUSPENDED:
        raise _brand_suspended()
    _touch_key(cached.api_key_id)
    return cached


def _touch_key(key_id: str | None) -> None:
    """Record `last_used_at`, at most once a minute per key per process."""
    if key_id is None:
        return
    now = time.monotonic()
    if now - _last_used_written.get(key_id, 0.0) < 60:
        return
    _last_used_written[key_id] = now
    from luneo.tenancy.models import ApiKey

    try:
        with get_db().transaction() as s:
            bind_system(s)
            s.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=utcnow()))
    except Exception:
        _last_used_written.pop(key_id, None)


def _membership(user_id: str, brand_id: str | None) -> tuple[str, str, bool] | None:
    """(brand_id, role, brand suspended) for the user in the brand (or their first brand when None)."""
    from luneo.tenancy.models import Brand, Membership, User

    ck = f"{user_id}:{brand_id}"
    cached = _membership_cache.get(ck)
    if cached is not None:
        return cached or None
    with get_db().transaction(write=False) as s:
        bind_system(s)
        user = s.get(User, user_id)
        if user is None or not user.is_active:
            _membership_cache.put(ck, False)
            return None
        q = (
            select(Membership.brand_id, Membership.role, Brand.suspended_at)
            .join(Brand, Brand.id == Membership.brand_id)
            .where(Membership.user_id == user_id)
        )
        if brand_id:
            q = q.where(Membership.brand_id == brand_id)
        row = s.execute(q.order_by(Membership.created_at).limit(1)).first()
    result = (row[0], row[1], row[2] is not None) if row else None
    _membership_cache.put(ck, result or False)
    return result


def _session_active(session_id: str, user_id: str) -> bool:
    """Whether the login session (`sid`, the refresh-token family) still lives.

    Read from the database on every request, never cached: logout and refresh-token reuse
    revoke the family, and that must end its access tokens at once, in every process.
    """
    from luneo.tenancy.models import RefreshToken

    with get_db().transaction(write=False) as s:
        bind_system(s)
        row = s.execute(
            select(RefreshToken.id)
            .where(
                RefreshToken.family_id == session_id,
                RefreshToken.user_id == user_id,
                RefreshToken.revoked_at.is_(None),
                RefreshToken.expires_at > utcnow(),
            )
            .limit(1)
        ).first()
    return row is not None


def _user_principal(request: Request, user_id: str, token_brand: str | None) -> Principal:
    wanted = request.headers.get("x-brand-id") or token_brand
    found = _membership(user_id, wanted)
    if found is None:
        if wanted:
            raise Problem(403, "not_a_member", "You are not a member of this brand.")
        return Principal(kind="user", brand_id=None, permissions=frozenset(), user_id=user_id)
    brand_id, role, suspended = found
    return Principal(
        kind="user",
        brand_id=brand_id,
        permissions=ROLE_PERMISSIONS[role],
        user_id=user_id,
        role=role,
        brand_suspended=suspended,
    )


def _user_from_idp(claims: dict[str, Any]) -> str:
    """Link an external identity-provider subject to a local user, creating it on first use."""
    from sqlalchemy.exc import IntegrityError

    from luneo.tenancy.service import link_external_user

    for attempt in range(2):
        try:
            with get_db().transaction() as s:
                bind_system(s)
                return link_external_user(s, claims)
        except IntegrityError:  # a concurrent first request linked it: read the winner's row
            if attempt:
                raise _unauthorized("The identity could not be linked; retry.", "invalid_token") from None
    raise AssertionError("unreachable")


def cached_principal(request: Request) -> Principal | None:
    """The caller when it is known without I/O (an API key seen in the last seconds), else None.

    Lets hot async routes (cached previews) skip the thread pool; anything else — a first
    sighting, a JWT, a `last_used_at` write due — returns None and the caller uses `authenticate`.
    """
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token.startswith(("pk_", "sk_")):
        return None
    principal = _key_cache.get(sha256_hex(token))
    if not isinstance(principal, Principal) or principal.api_key_id is None:
        return None
    if time.monotonic() - _last_used_written.get(principal.api_key_id, 0.0) >= 60:
        return None
    if principal.kind == "publishable_key":
        origin = request.headers.get("origin")
        if origin and origin not in principal.allowed_origins:
            return None
    request.state.principal = principal
    return principal


def _brand_suspended() -> Problem:
    return Problem(403, "brand_suspended", "This brand is suspended: its keys and sessions do not work.")


def _active(principal: Principal, allow_suspended: bool) -> Principal:
    if principal.brand_suspended and not allow_suspended:
        raise _brand_suspended()
    return principal


def authenticate(request: Request, *, allow_suspended: bool = False) -> Principal:
    """Resolve the caller from `Authorization: Bearer …`; raise a 401 problem otherwise.

    A suspended brand's credentials are refused (403 `brand_suspended`) on every request;
    `allow_suspended` lets a person through anyway (platform-admin routes, accepting an
    invitation to another brand) — their principal still carries `brand_suspended`.
    """
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return _active(cached, allow_suspended)
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise _unauthorized("Send `Authorization: Bearer <token or API key>`.")
    token = token.strip()
    settings = get_settings()
    if token.startswith(("pk_", "sk_")):
        principal = _lookup_api_key(token)
        if principal.kind == "publishable_key":
            origin = request.headers.get("origin")
            if origin and origin not in principal.allowed_origins:
                raise Problem(403, "origin_not_allowed", f"Origin {origin} is not allowed for this key.")
    else:
        try:
            claims = decode_access_token(settings, token)
        except jwt.ExpiredSignatureError as exc:
            raise _unauthorized("The access token has expired.", "token_expired") from exc
        except jwt.PyJWTError:
            if settings.idp_jwt_secret is None and settings.idp_jwks_url is None:
                raise _unauthorized("The access token is invalid.", "invalid_token") from None
            from luneo.platform.security import decode_idp_token

            try:
                idp_claims = decode_idp_token(settings, token)
            except jwt.ExpiredSignatureError as exc:
                raise _unauthorized("The access token has expired.", "token_expired") from exc
            except jwt.PyJWTError as exc:
                raise _unauthorized("The access token is invalid.", "invalid_token") from exc
            principal = _user_principal(request, _user_from_idp(idp_claims), None)
        else:
            if not _session_active(claims["sid"], claims["sub"]):
                raise _unauthorized("This session was signed out or revoked.", "session_revoked")
            principal = _user_principal(request, claims["sub"], claims.get("brand"))
    request.state.principal = principal
    return _active(principal, allow_suspended)


@contextmanager
def guarded(request: Request, *permissions: str, write: bool | None = None) -> Iterator[Tenant]:
    """The caller with all `permissions`, in a session bound to their brand (one transaction).

    Commits when the block ends, rolls back if it raises — a failed request never leaves a
    partial write. Used by `require` (routes) and by routes that do their own fast path first.
    """
    principal = authenticate(request)
    if principal.brand_id is None:
        raise Problem(403, "no_brand", "This account is not a member of any brand yet.")
    missing = [p for p in permissions if not principal.can(p)]
    if missing:
        raise Problem(403, "forbidden", f"This credential lacks the permission {missing[0]}.")
    is_write = write if write is not None else request.method not in ("GET", "HEAD", "OPTIONS")
    session = bind_tenant(get_db().session(write=is_write), principal.brand_id)
    session.info["actor"] = principal.actor
    try:
        yield Tenant(principal=principal, session=session, request=request)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def require(*permissions: str, write: bool | None = None) -> Callable[..., Iterator[Tenant]]:
    """Route dependency form of `guarded` (see `guard`)."""

    def dependency(request: Request) -> Iterator[Tenant]:
        with guarded(request, *permissions, write=write) as tenant:
            yield tenant

    return dependency


def guard(*permissions: str, write: bool | None = None) -> Any:
    """Route parameter default: `t: Tenant = guard("catalog:write")`."""
    return Depends(require(*permissions, write=write), scope="function")


def principal_dep() -> Any:
    """Route parameter default for routes that only need the caller (no brand session)."""
    return Depends(authenticate)


def access_token_ttl() -> timedelta:
    return timedelta(seconds=get_settings().access_token_ttl_s)
