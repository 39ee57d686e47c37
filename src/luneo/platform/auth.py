"""Who is calling: bearer JWTs (operators), `sk_` secret keys, `pk_` publishable keys.

`require("perm")` is the route dependency: it authenticates, checks the permission and
yields a `Tenant` — the principal plus a database session bound to the caller's brand by
the tenant guard. The brand always comes from the credential, never from the request.
"""

from __future__ import annotations

import enum
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal, Protocol

import anyio
import jwt
from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from luneo.platform.config import get_settings
from luneo.platform.database import get_db
from luneo.platform.error_reporting import tag_caller
from luneo.platform.errors import Problem
from luneo.platform.permissions import ROLE_PERMISSIONS
from luneo.platform.security import decode_access_token
from luneo.platform.tenancy import bind_tenant

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


class KeyRefused(enum.Enum):
    """Why an API key gives no principal."""

    INVALID = "invalid"  # unknown or revoked
    BRAND_SUSPENDED = "brand_suspended"


@dataclass(frozen=True)
class BrandRole:
    """A user's membership as authentication needs it."""

    brand_id: str
    role: str
    brand_suspended: bool


class CredentialStore(Protocol):
    """Where credentials live. The tenancy domain implements it (its `credentials` module)
    and `create_app` registers it, so this module never imports a domain."""

    def cached_api_key(self, token: str) -> Principal | None:
        """The key's principal when known without I/O, else None."""

    def api_key(self, token: str) -> Principal | KeyRefused:
        """The key's principal, or why it is refused."""

    def membership(self, user_id: str, brand_id: str | None) -> BrandRole | None:
        """The user's role in `brand_id` (their first brand when None); None if none or inactive."""

    def session_active(self, session_id: str, user_id: str) -> bool:
        """Whether the login session (`sid`) still lives — never cached."""

    def link_idp_user(self, claims: dict[str, Any]) -> str | None:
        """The local user id of a verified identity-provider token (None: linking lost a race)."""

    def invalidate(self) -> None:
        """Forget cached credentials (revocation, rotation, suspension, role change)."""


_store: CredentialStore | None = None


def register_credential_store(store: CredentialStore) -> None:
    """Install the process's credential store (done by `create_app`)."""
    global _store
    _store = store


def credential_store() -> CredentialStore:
    if _store is None:
        raise RuntimeError("no credential store registered (create_app registers the tenancy one)")
    return _store


_dependent_caches: weakref.WeakSet[Any] = weakref.WeakSet()


def register_dependent_cache(cache: Any) -> None:
    """Have `cache.invalidate()` called whenever the auth caches are cleared (e.g. the CORS
    middleware's allowed-origin cache, so a brand's new origin works at once). Held weakly."""
    _dependent_caches.add(cache)


def clear_auth_caches() -> None:
    """Forget cached keys and memberships (called on revoke / role change / suspension / origin
    changes), and the caches registered with `register_dependent_cache`."""
    if _store is not None:
        _store.invalidate()
    for cache in list(_dependent_caches):
        cache.invalidate()


def _lookup_api_key(token: str) -> Principal:
    found = credential_store().api_key(token)
    if found is KeyRefused.BRAND_SUSPENDED:
        raise _brand_suspended()
    if not isinstance(found, Principal):
        raise _unauthorized("The API key is invalid or revoked.", "invalid_api_key")
    return found


def _user_principal(
    request: Request, user_id: str, token_brand: str | None, wanted_brand: str | None = None
) -> Principal:
    wanted = wanted_brand or request.headers.get("x-brand-id") or token_brand
    found = credential_store().membership(user_id, wanted)
    if found is None:
        if wanted:
            raise Problem(403, "not_a_member", "You are not a member of this brand.")
        return Principal(kind="user", brand_id=None, permissions=frozenset(), user_id=user_id)
    return Principal(
        kind="user",
        brand_id=found.brand_id,
        permissions=ROLE_PERMISSIONS[found.role],
        user_id=user_id,
        role=found.role,
        brand_suspended=found.brand_suspended,
    )


def _user_from_idp(claims: dict[str, Any]) -> str:
    """Link an external identity-provider subject to a local user, creating it on first use."""
    user_id = credential_store().link_idp_user(claims)
    if user_id is None:
        raise _unauthorized("The identity could not be linked; retry.", "invalid_token")
    return user_id


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
    principal = credential_store().cached_api_key(token)
    if principal is None:
        return None
    if principal.kind == "publishable_key":
        origin = request.headers.get("origin")
        if origin and origin not in principal.allowed_origins:
            return None
    request.state.principal = principal
    tag_caller(brand_id=principal.brand_id, user_id=principal.user_id, api_key_id=principal.api_key_id)
    return principal


def principal_from_access_token(
    request: Request, token: str, *, wanted_brand: str | None = None
) -> Principal:
    """The person behind one of our access JWTs (the dashboard's session cookie carries one).

    Raises a 401 problem (`token_expired`, `invalid_token`, `session_revoked`) like `authenticate`;
    `wanted_brand` picks one of the person's brands (else the token's).
    """
    try:
        claims = decode_access_token(get_settings(), token)
    except jwt.ExpiredSignatureError as exc:
        raise _unauthorized("The access token has expired.", "token_expired") from exc
    except jwt.PyJWTError as exc:
        raise _unauthorized("The access token is invalid.", "invalid_token") from exc
    if not credential_store().session_active(claims["sid"], claims["sub"]):
        raise _unauthorized("This session was signed out or revoked.", "session_revoked")
    principal = _user_principal(request, claims["sub"], claims.get("brand"), wanted_brand)
    request.state.principal = principal
    request.state.session_id = claims["sid"]
    return principal


@contextmanager
def open_tenant(
    request: Request, principal: Principal, *permissions: str, write: bool | None = None
) -> Iterator[Tenant]:
    """`guarded` for a caller already resolved (the dashboard resolves its cookie itself)."""
    tenant = _open_tenant(request, _active(principal, False), permissions, write)
    ok = False
    try:
        yield tenant
        ok = True
    finally:
        _finish(tenant.session, ok)


def _brand_suspended() -> Problem:
    return Problem(403, "brand_suspended", "This brand is suspended: its keys and sessions do not work.")


def _active(principal: Principal, allow_suspended: bool) -> Principal:
    if principal.brand_suspended and not allow_suspended:
        raise _brand_suspended()
    tag_caller(brand_id=principal.brand_id, user_id=principal.user_id, api_key_id=principal.api_key_id)
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
            if not credential_store().session_active(claims["sid"], claims["sub"]):
                raise _unauthorized("This session was signed out or revoked.", "session_revoked")
            principal = _user_principal(request, claims["sub"], claims.get("brand"))
    request.state.principal = principal
    return _active(principal, allow_suspended)


def _open_tenant(
    request: Request, principal: Principal, permissions: tuple[str, ...], write: bool | None
) -> Tenant:
    """Check the permissions and open the brand-bound session (lazily: no I/O until first use).

    A read-only route (GET/HEAD/OPTIONS unless `write=True`, or `write=False`) gets a read-only
    transaction: no write lock on SQLite, `BEGIN READ ONLY` on PostgreSQL, any write refused, and
    no commit — it ends with a rollback.
    """
    if principal.brand_id is None:
        raise Problem(403, "no_brand", "This account is not a member of any brand yet.")
    missing = [p for p in permissions if not principal.can(p)]
    if missing:
        raise Problem(403, "forbidden", f"This credential lacks the permission {missing[0]}.")
    is_write = write if write is not None else request.method not in ("GET", "HEAD", "OPTIONS")
    session = get_db().session(write=is_write, read_only=not is_write)
    bind_tenant(session, principal.brand_id)
    session.info["actor"] = principal.actor
    return Tenant(principal=principal, session=session, request=request)


def _finish(session: Session, ok: bool) -> None:
    """Commit a write transaction that succeeded; roll back anything else; release the session."""
    try:
        if ok and not session.info.get("read_only"):
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


@contextmanager
def guarded(request: Request, *permissions: str, write: bool | None = None) -> Iterator[Tenant]:
    """The caller with all `permissions`, in a session bound to their brand (one transaction).

    Commits when the block ends, rolls back if it raises — a failed request never leaves a
    partial write. Used by routes that do their own fast path first (see `require` for routes).
    """
    tenant = _open_tenant(request, authenticate(request), permissions, write)
    ok = False
    try:
        yield tenant
        ok = True
    finally:
        _finish(tenant.session, ok)


_finish_limiter: anyio.CapacityLimiter | None = None
_slots: anyio.Semaphore | None = None
EMBEDDED_ROUTE_SLOTS = 4


def _route_slots() -> anyio.Semaphore | None:
    """Embedded mode (SQLite): at most `EMBEDDED_ROUTE_SLOTS` database routes run at once per
    process; the others wait their turn, first come first served, on the event loop. Their work
    is CPU under one GIL with local file I/O, so more threads only make them interrupt each other
    (the latency tail at concurrency 16 fell several-fold). PostgreSQL routes wait on the network:
    no cap."""
    global _slots
    if get_db().dialect != "sqlite":
        return None
    if _slots is None:
        _slots = anyio.Semaphore(EMBEDDED_ROUTE_SLOTS, fast_acquire=True)
    return _slots


def _finishers() -> anyio.CapacityLimiter:
    """Threads that end transactions, apart from the route threads: a request holding SQLite's
    writer lock must be able to commit while every route thread waits for that lock."""
    global _finish_limiter
    if _finish_limiter is None:
        _finish_limiter = anyio.CapacityLimiter(64)
    return _finish_limiter


def _ends_without_io(session: Session) -> bool:
    """Whether ending the session costs no network or disk wait (then no thread hop is worth it):
    it never began a transaction, or it is a read-only one on the embedded SQLite file."""
    if not session.in_transaction():
        return True
    bind = session.get_bind()
    return bool(session.info.get("read_only")) and bind.dialect.name == "sqlite"


def _known_without_io(request: Request) -> bool:
    return getattr(request.state, "principal", None) is not None or cached_principal(request) is not None


def require(*permissions: str, write: bool | None = None) -> Callable[..., AsyncIterator[Tenant]]:
    """Route dependency form of `guarded` (see `guard`).

    Async, so a caller already verified (by the rate-limit middleware, or an API key seen in the
    last seconds) costs no thread hop to set up; the only hop is ending the transaction.
    """

    async def dependency(request: Request) -> AsyncIterator[Tenant]:
        if _known_without_io(request):
            principal = authenticate(request)
        else:
            principal = await run_in_threadpool(authenticate, request)
        tenant = _open_tenant(request, principal, permissions, write)
        ok = False
        slots = _route_slots()
        if slots is not None:
            await slots.acquire()
        try:
            yield tenant
            ok = True
        finally:
            try:
                if _ends_without_io(tenant.session):
                    _finish(tenant.session, ok)
                else:
                    with anyio.CancelScope(shield=True):
                        await anyio.to_thread.run_sync(_finish, tenant.session, ok, limiter=_finishers())
            finally:
                if slots is not None:
                    slots.release()

    return dependency


def guard(*permissions: str, write: bool | None = None) -> Any:
    """Route dependency: `CatalogWriteDep = Annotated[Tenant, guard("catalog:write")]` (see `deps`)."""
    return Depends(require(*permissions, write=write), scope="function")


def principal_dep() -> Any:
    """Route parameter default for routes that only need the caller (no brand session)."""
    return Depends(authenticate)


def access_token_ttl() -> timedelta:
    return timedelta(seconds=get_settings().access_token_ttl_s)
