"""`Idempotency-Key` on mutations: same key + same body replays the stored response; same
key + different body → 422; same key while the first is still running → 409.

Keys are scoped per *verified* credential (an unauthenticated or made-up bearer never creates
a record: the route answers 401) and kept 24 h, in the database (embedded default) or in Redis
when configured. A 5xx outcome is not stored, so the client can retry.

A crashed request (the process killed mid-request) leaves its record "in flight". As the IETF
draft asks, such a lock is not kept for the key's whole TTL: once it is older than
`LUNEO_IDEMPOTENCY_LOCK_TIMEOUT_S` (60 s), a retry with the same key and body takes it over
and runs the request again; a retry of a request whose response was stored replays it. The
takeover is a compare-and-set, so two retries racing for a stale lock run the request once.

Responses carrying a secret are never stored: a route marks its response `Cache-Control:
no-store` (e.g. `POST /api-keys`, whose body holds the new key), and any body holding a secret
key (`sk_…`, `pk_live_…`, `whsec_…`) is treated the same way. The outcome is remembered without
the body: a replay answers 409 `idempotency_response_withheld` (the request is not re-run, and
the secret is never shown again).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import timedelta
from typing import Any, Literal, Protocol

import anyio
import structlog
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from luneo.platform.asgi import (
    ASGIApp,
    Message,
    Receive,
    Scope,
    Send,
    header,
    read_body,
    replay_receive,
    send_problem,
)
from luneo.platform.clock import as_utc, utcnow
from luneo.platform.config import Settings
from luneo.platform.database import Database
from luneo.platform.errors import is_outage
from luneo.platform.middleware import verified_principal
from luneo.platform.models import IdempotencyRecord

log = structlog.get_logger("luneo.idempotency")
METHODS = {"POST", "PUT", "PATCH", "DELETE"}
Outcome = Literal["new", "replay", "mismatch", "in_flight", "withheld"]
# A whole API key or signing secret as a JSON string (a key's short display prefix does not match).
SECRET_PATTERN = re.compile(rb'"(?:(?:sk|pk)_(?:live|test)_|whsec_)[A-Za-z0-9_+/=-]{16,}"')


class StoredResponse(dict[str, Any]):
    """{status, headers: [[k, v]], body_b64} (+ `withheld: True` when the body was not kept)"""


def withheld(status: int) -> StoredResponse:
    """The record of a response that carried a secret: its status only, no headers, no body."""
    return StoredResponse(status=status, headers=[], body_b64="", withheld=True)


def storable(headers: list[tuple[str, str]], body: bytes) -> bool:
    """False when the response must not be kept: `Cache-Control: no-store`, or a secret key inside."""
    for k, v in headers:
        if k.lower() == "cache-control" and "no-store" in v.lower():
            return False
    return SECRET_PATTERN.search(body) is None


class IdempotencyStore(Protocol):
    def begin(
        self, scope: str, key: str, method: str, path: str, req_hash: str
    ) -> tuple[Outcome, StoredResponse | None]: ...
    def finish(self, scope: str, key: str, response: StoredResponse) -> None: ...
    def abandon(self, scope: str, key: str) -> None: ...


class DatabaseIdempotencyStore:
    """Records in `idempotency_keys`; the unique (scope, key) constraint is the lock."""

    def __init__(self, db: Database, ttl_s: int, *, lock_timeout_s: int = 60) -> None:
        self.db, self.ttl_s, self.lock_timeout_s = db, ttl_s, lock_timeout_s

    def begin(
        self, scope: str, key: str, method: str, path: str, req_hash: str
    ) -> tuple[Outcome, StoredResponse | None]:
        now = utcnow()
        for _ in range(3):
            try:
                with self.db.transaction() as s:
                    existing = s.execute(
                        select(IdempotencyRecord).where(
                            IdempotencyRecord.scope == scope, IdempotencyRecord.key == key
                        )
                    ).scalar_one_or_none()
                    if existing is not None and as_utc(existing.expires_at) < now:
                        s.delete(existing)
                        s.flush()
                        existing = None
                    if existing is None:
                        s.add(
                            IdempotencyRecord(
                                scope=scope,
                                key=key,
                                method=method,
                                path=path,
                                request_hash=req_hash,
                                created_at=now,
                                expires_at=now + timedelta(seconds=self.ttl_s),
                            )
                        )
                        return "new", None
                    if existing.request_hash != req_hash:
                        return "mismatch", None
                    if existing.status == "withheld":
                        return "withheld", withheld(existing.response_status or 200)
                    if existing.status != "done":
                        locked_at = as_utc(existing.created_at)
                        if locked_at > now - timedelta(seconds=self.lock_timeout_s):
                            return "in_flight", None
                        # the request holding the lock died: take it over (compare-and-set on
                        # the lock time, so one of two racing retries wins)
                        taken = s.execute(
                            update(IdempotencyRecord)
                            .where(
                                IdempotencyRecord.id == existing.id,
                                IdempotencyRecord.status == existing.status,
                                IdempotencyRecord.created_at == existing.created_at,
                            )
                            .values(created_at=now, expires_at=now + timedelta(seconds=self.ttl_s))
                            .execution_options(synchronize_session=False)
                        ).rowcount  # type: ignore[attr-defined]
                        return ("new", None) if taken == 1 else ("in_flight", None)
                    return "replay", StoredResponse(
                        status=existing.response_status,
                        headers=existing.response_headers or {},
                        body_b64=base64.b64encode(existing.response_body or b"").decode(),
                    )
            except IntegrityError:
                continue  # a concurrent request inserted first: read its row
        return "in_flight", None

    def finish(self, scope: str, key: str, response: StoredResponse) -> None:
        with self.db.transaction() as s:
            rec = s.execute(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.scope == scope, IdempotencyRecord.key == key
                )
            ).scalar_one_or_none()
            if rec is not None:
                rec.status = "withheld" if response.get("withheld") else "done"
                rec.response_status = response["status"]
                rec.response_headers = response["headers"]
                rec.response_body = (
                    None if response.get("withheld") else base64.b64decode(response["body_b64"])
                )

    def abandon(self, scope: str, key: str) -> None:
        with self.db.transaction() as s:
            s.execute(
                delete(IdempotencyRecord).where(
                    IdempotencyRecord.scope == scope, IdempotencyRecord.key == key
                )
            )

    def purge_expired(self) -> int:
        with self.db.transaction() as s:
            return s.execute(
                delete(IdempotencyRecord).where(IdempotencyRecord.expires_at < utcnow())
            ).rowcount  # type: ignore[attr-defined,no-any-return]


class RedisIdempotencyStore:
    """Records as Redis strings with a TTL; `SET NX` is the lock."""

    # SET k new EX ttl only if k still holds the stale record this process read.
    _TAKEOVER = (
        "if redis.call('GET', KEYS[1]) == ARGV[1] then "
        "redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) return 1 end return 0"
    )

    def __init__(self, redis_url: str, ttl_s: int, *, lock_timeout_s: int = 60) -> None:
        import redis

        self.redis = redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=2)
        self.ttl_s, self.lock_timeout_s = ttl_s, lock_timeout_s

    def _k(self, scope: str, key: str) -> str:
        return "luneo:idem:" + hashlib.sha256(f"{scope}\x00{key}".encode()).hexdigest()

    def begin(
        self, scope: str, key: str, method: str, path: str, req_hash: str
    ) -> tuple[Outcome, StoredResponse | None]:
        k = self._k(scope, key)
        now = utcnow().timestamp()
        fresh = json.dumps({"hash": req_hash, "status": "in_flight", "locked_at": now})
        for _ in range(3):
            if self.redis.set(k, fresh, nx=True, ex=self.ttl_s):
                return "new", None
            raw = self.redis.get(k)
            if raw is None:
                continue  # expired or abandoned between the two calls
            rec = json.loads(raw)
            if rec["hash"] != req_hash:
                return "mismatch", None
            if rec["status"] == "withheld":
                return "withheld", withheld(int(rec.get("response", {}).get("status", 200)))
            if rec["status"] == "done":
                return "replay", StoredResponse(rec["response"])
            locked_at = rec.get("locked_at")
            if locked_at is None:  # a record written before lock timeouts: its age from its TTL
                locked_at = now - (self.ttl_s - max(0, int(self.redis.ttl(k))))
            if float(locked_at) > now - self.lock_timeout_s:
                return "in_flight", None
            # the request holding the lock died: take it over if no one else did first
            taken = self.redis.eval(self._TAKEOVER, 1, k, raw, fresh, self.ttl_s)
            return ("new", None) if taken == 1 else ("in_flight", None)
        return "in_flight", None

    def finish(self, scope: str, key: str, response: StoredResponse) -> None:
        k = self._k(scope, key)
        raw = self.redis.get(k)
        rec = json.loads(raw) if raw else {}
        if response.get("withheld"):
            rec.update(status="withheld", response={"status": response["status"]})
        else:
            rec.update(status="done", response=dict(response))
        self.redis.set(k, json.dumps(rec), ex=self.ttl_s)

    def abandon(self, scope: str, key: str) -> None:
        self.redis.delete(self._k(scope, key))


async def credential_scope(scope: Scope) -> str | None:
    """Who owns an idempotency key: the verified API key, or the verified user in their brand.
    None for a missing, made-up or revoked credential (nothing is stored for it)."""
    if not header(scope, b"authorization"):
        return None
    principal = await verified_principal(scope)
    return None if principal is None else "cred:" + principal.credential


class IdempotencyMiddleware:
    """Applies the Idempotency-Key contract to POST/PUT/PATCH/DELETE under /api/."""

    async def _abandon(self, owner: str, key: str) -> None:
        """Release the key after a failure; with the store down, its lock times out instead."""
        try:
            await anyio.to_thread.run_sync(self.store.abandon, owner, key)
        except Exception as exc:
            if not is_outage(exc):
                raise
            log.warning("idempotency_abandon_failed", error=type(exc).__name__)

    def __init__(self, app: ASGIApp, *, store: IdempotencyStore, settings: Settings) -> None:
        self.app, self.store, self.settings = app, store, settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = header(scope, b"idempotency-key") if scope["type"] == "http" else None
        if key is None or scope["method"] not in METHODS or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        rid = scope.get("state", {}).get("request_id")
        if not (1 <= len(key) <= 255) or not key.isprintable():
            await send_problem(
                send,
                422,
                "invalid_idempotency_key",
                "Idempotency-Key must be 1–255 printable characters.",
                request_id=rid,
            )
            return
        owner = await credential_scope(scope)
        if owner is None:
            await self.app(scope, receive, send)  # unauthenticated: the route answers 401
            return
        body = scope.get("state", {}).get("raw_body")
        if body is None:
            body = await read_body(receive, self.settings.max_body_bytes) or b""
        digest = hashlib.sha256(
            b"\x00".join(
                [scope["method"].encode(), scope["path"].encode(), scope.get("query_string", b""), body]
            )
        ).hexdigest()
        outcome, stored = await anyio.to_thread.run_sync(
            self.store.begin, owner, key, scope["method"], scope["path"], digest
        )
        if outcome == "mismatch":
            await send_problem(
                send,
                422,
                "idempotency_key_reused",
                "This Idempotency-Key was used with a different request.",
                request_id=rid,
            )
            return
        if outcome == "in_flight":
            await send_problem(
                send,
                409,
                "idempotency_key_in_flight",
                "A request with this Idempotency-Key is still being processed.",
                request_id=rid,
            )
            return
        if outcome == "withheld" and stored is not None:
            await send_problem(
                send,
                409,
                "idempotency_response_withheld",
                "A request with this Idempotency-Key already succeeded; its response carried a secret "
                "and is never replayed. Use a new key to run the request again.",
                request_id=rid,
                original_status=stored["status"],
            )
            return
        if outcome == "replay" and stored is not None:
            headers = [(k.encode(), v.encode()) for k, v in stored["headers"]] + [
                (b"idempotent-replayed", b"true")
            ]
            await send({"type": "http.response.start", "status": stored["status"], "headers": headers})
            await send({"type": "http.response.body", "body": base64.b64decode(stored["body_b64"])})
            return
        captured: dict[str, Any] = {"status": 500, "headers": [], "body": []}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = [
                    (k.decode("latin-1"), v.decode("latin-1"))
                    for k, v in message.get("headers", [])
                    if k.lower() not in (b"x-request-id", b"content-length")
                ]
            elif message["type"] == "http.response.body":
                captured["body"].append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_receive(body), capture)
        except BaseException:
            await self._abandon(owner, key)
            raise
        if captured["status"] >= 500:
            await self._abandon(owner, key)
            return
        raw = b"".join(captured["body"])
        response = (
            StoredResponse(
                status=captured["status"],
                headers=captured["headers"],
                body_b64=base64.b64encode(raw).decode(),
            )
            if storable(captured["headers"], raw)
            else withheld(captured["status"])
        )
        try:
            await anyio.to_thread.run_sync(self.store.finish, owner, key, response)
        except Exception as exc:
            if not is_outage(exc):
                raise
            # The response is already sent; the record stays in flight until its lock times
            # out, then a retry runs the request again (or finds its effects).
            log.warning("idempotency_finish_failed", error=type(exc).__name__)


def _purge_expired_keys(db: Database) -> int:
    """Cleanup hook: drop idempotency records past their 24 h (database store)."""
    from luneo.platform.config import get_settings

    settings = get_settings()
    return DatabaseIdempotencyStore(
        db, settings.idempotency_ttl_s, lock_timeout_s=settings.idempotency_lock_timeout_s
    ).purge_expired()


def _register_cleanup() -> None:
    from luneo.platform.jobs import register_cleanup

    register_cleanup("idempotency_keys", _purge_expired_keys)


_register_cleanup()
