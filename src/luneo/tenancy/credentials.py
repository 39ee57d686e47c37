"""The tenancy domain's credential store: API keys, memberships, login sessions, IdP links.

Implements `luneo.platform.auth.CredentialStore` (registered by `create_app`), so the platform
authenticates callers without importing this domain. API-key and membership lookups are cached
in the process for `CREDENTIAL_TTL_S` seconds (`cachetools.TTLCache`): revoking or rotating a key,
suspending a brand or changing a membership clears the cache at once in the process that did it
(`invalidate`, called by `tenancy.service.invalidate_auth_caches`, again after the commit), and
other processes see the change within the TTL. Login sessions (`sid`) are never cached.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from cachetools import TTLCache
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from luneo.platform.auth import BrandRole, KeyRefused, Principal
from luneo.platform.clock import utcnow
from luneo.platform.database import get_db
from luneo.platform.permissions import PUBLISHABLE_SCOPES, SECRET_SCOPES
from luneo.platform.security import sha256_hex
from luneo.platform.tenancy import bind_system
from luneo.tenancy.models import ApiKey, Brand, Membership, RefreshToken, User
from luneo.tenancy.service import link_external_user

CREDENTIAL_TTL_S = 5.0  # how long another process may keep honouring a revoked key or membership
LAST_USED_EVERY_S = 60.0  # `api_keys.last_used_at` is written at most this often per key per process
_MAX_ENTRIES = 10_000


class TenancyCredentialStore:
    """API keys and memberships from the tenancy tables, cached briefly per process."""

    def __init__(self, ttl_s: float = CREDENTIAL_TTL_S, timer: Callable[[], float] = time.monotonic) -> None:
        self._keys: TTLCache[str, Principal | KeyRefused] = TTLCache(_MAX_ENTRIES, ttl_s, timer)
        self._members: TTLCache[str, BrandRole | None] = TTLCache(_MAX_ENTRIES, ttl_s, timer)
        self._last_used: dict[str, float] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ API keys

    def cached_api_key(self, token: str) -> Principal | None:
        """The key's principal when known without I/O (and no `last_used_at` write is due)."""
        with self._lock:
            found = self._keys.get(sha256_hex(token))
        if not isinstance(found, Principal) or found.api_key_id is None:
            return None
        if time.monotonic() - self._last_used.get(found.api_key_id, 0.0) >= LAST_USED_EVERY_S:
            return None
        return found

    def api_key(self, token: str) -> Principal | KeyRefused:
        digest = sha256_hex(token)
        with self._lock:
            found = self._keys.get(digest)
        if found is None:
            found = self._load_key(digest)
            with self._lock:
                self._keys[digest] = found
        if isinstance(found, Principal):
            self._touch(found.api_key_id)
        return found

    def _load_key(self, digest: str) -> Principal | KeyRefused:
        with get_db().transaction(write=False) as s:
            bind_system(s)
            row = s.execute(
                select(ApiKey, Brand.allowed_origins, Brand.suspended_at)
                .join(Brand, Brand.id == ApiKey.brand_id)
                .where(ApiKey.key_hash == digest)
            ).first()
        if row is None or row[0].revoked_at is not None:
            return KeyRefused.INVALID
        if row[2] is not None:
            return KeyRefused.BRAND_SUSPENDED
        key, brand_origins, _ = row
        publishable = key.kind == "publishable"
        base = PUBLISHABLE_SCOPES if publishable else SECRET_SCOPES
        return Principal(
            kind="publishable_key" if publishable else "secret_key",
            brand_id=key.brand_id,
            permissions=frozenset(key.scopes) & base if key.scopes else base,
            api_key_id=key.id,
            allowed_origins=tuple(dict.fromkeys([*(key.allowed_origins or []), *(brand_origins or [])])),
        )

    def _touch(self, key_id: str | None) -> None:
        """Record `last_used_at`, at most once a minute per key per process."""
        if key_id is None:
            return
        now = time.monotonic()
        with self._lock:
            if now - self._last_used.get(key_id, 0.0) < LAST_USED_EVERY_S:
                return
            self._last_used[key_id] = now
        try:
            with get_db().transaction() as s:
                bind_system(s)
                s.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=utcnow()))
        except Exception:
            with self._lock:
                self._last_used.pop(key_id, None)

    # ------------------------------------------------------------------ people

    def membership(self, user_id: str, brand_id: str | None) -> BrandRole | None:
        ck = f"{user_id}:{brand_id}"
        with self._lock:
            if ck in self._members:
                return self._members[ck]
        found = self._load_membership(user_id, brand_id)
        with self._lock:
            self._members[ck] = found
        return found

    def _load_membership(self, user_id: str, brand_id: str | None) -> BrandRole | None:
        with get_db().transaction(write=False) as s:
            bind_system(s)
            user = s.get(User, user_id)
            if user is None or not user.is_active:
                return None
            q = (
                select(Membership.brand_id, Membership.role, Brand.suspended_at)
                .join(Brand, Brand.id == Membership.brand_id)
                .where(Membership.user_id == user_id)
            )
            if brand_id:
                q = q.where(Membership.brand_id == brand_id)
            row = s.execute(q.order_by(Membership.created_at).limit(1)).first()
        return BrandRole(row[0], row[1], row[2] is not None) if row else None

    def session_active(self, session_id: str, user_id: str) -> bool:
        """Never cached: logout and refresh-token reuse end access tokens at once, everywhere."""
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

    def link_idp_user(self, claims: dict[str, Any]) -> str | None:
        """The local user of a verified IdP token, created on first use; None when a concurrent
        first request won twice in a row."""
        for _ in range(2):
            try:
                with get_db().transaction() as s:
                    bind_system(s)
                    return link_external_user(s, claims)
            except IntegrityError:  # a concurrent first request linked it: read the winner's row
                continue
        return None

    def invalidate(self) -> None:
        """Forget every cached key and membership (revocation, rotation, suspension, role change)."""
        with self._lock:
            self._keys.clear()
            self._members.clear()
