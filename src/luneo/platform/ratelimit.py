"""Rate limits (`limits`: in-memory, or Redis shared by every process when configured).

Three counters, each answering 429 + `Retry-After` when exceeded:

- per client IP, on every request (health probes excepted), whatever its credential. The IP is
  the peer's, or the `X-Forwarded-For` hop resolved by `ProxyHeadersMiddleware` when the peer
  is one of `LUNEO_TRUSTED_PROXIES`;
- per credential, counted only once the credential is verified (the caller's API key or user in
  its brand; a `pk_` widget key is shared by every shopper, so per key and shopper IP). A made-up
  bearer never gets a counter of its own: it only spends its IP's;
- per account on `POST /auth/login` (the normalised email), against password guessing spread
  over many IPs.

With Redis down, counting falls back to this process's memory so routes keep answering; the
fallback is logged once per period (`FALLBACK_S`), and its end once (`platform.redis_fallback`,
shared with the upload limits and the balance cache).
"""

from __future__ import annotations

import hashlib
import json
import math
import time

import structlog
from limits import RateLimitItem, parse
from limits.aio.strategies import FixedWindowRateLimiter
from limits.storage import storage_from_string

from luneo.platform.asgi import ASGIApp, Receive, Scope, Send, header, send_problem
from luneo.platform.middleware import client_ip, verified_principal
from luneo.platform.redis_fallback import FALLBACK_S, RedisFallback

EXEMPT_PATHS = ("/healthz", "/readyz")
LOGIN_PATH = "/api/v1/auth/login"
log = structlog.get_logger("luneo.ratelimit")


def _now() -> float:
    return time.monotonic()


class RateLimitMiddleware:
    """429 with `Retry-After` when an IP, a verified credential or a login account exceeds its window."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        per_key: str,
        per_ip: str,
        per_login: str = "10/minute",
        redis_url: str | None = None,
    ) -> None:
        self.app = app
        self.memory = FixedWindowRateLimiter(storage_from_string("async+memory://"))  # type: ignore[arg-type]
        self.shared = (  # redis-py's asyncio client (no extra dependency)
            FixedWindowRateLimiter(storage_from_string("async+" + redis_url, implementation="redispy"))  # type: ignore[arg-type]
            if redis_url
            else None
        )
        self.redis_state = RedisFallback(
            "rate_limit", period_s=FALLBACK_S, clock=lambda: _now(), logger=lambda: log
        )
        self.per_key: RateLimitItem = parse(per_key)
        self.per_ip: RateLimitItem = parse(per_ip)
        self.per_login: RateLimitItem = parse(per_login)

    async def check(self, item: RateLimitItem, ident: str) -> float | None:
        """Count one hit; None when allowed, else the seconds until the window resets.

        With Redis unreachable, counting falls back to this process's memory for
        `FALLBACK_S` seconds (logged once when it starts, not per request), then Redis is tried again.
        """
        if self.shared is not None and self.redis_state.use_redis():
            try:
                wait = await _count(self.shared, item, ident)
            except Exception as exc:  # Redis unreachable: count in this process instead
                self.redis_state.failed(exc)
            else:
                self.redis_state.succeeded()
                return wait
        return await _count(self.memory, item, ident)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        ip = client_ip(scope)
        wait = await self.check(self.per_ip, "ip:" + ip)
        if wait is None and scope["method"] == "POST" and scope["path"] == LOGIN_PATH:
            account = _login_account(scope)
            if account is not None:
                wait = await self.check(self.per_login, "login:" + account)
        if wait is None and scope["path"] != "/metrics" and header(scope, b"authorization"):
            principal = await verified_principal(scope)
            if principal is not None:
                ident = "cred:" + principal.credential
                if principal.kind == "publishable_key":  # shared by every shopper: per shopper IP
                    ident += ":" + ip
                wait = await self.check(self.per_key, ident)
        if wait is not None:
            seconds = str(math.ceil(wait))
            await send_problem(
                send,
                429,
                "rate_limited",
                f"Too many requests; retry in {seconds} s.",
                headers={"Retry-After": seconds},
                request_id=scope.get("state", {}).get("request_id"),
            )
            return
        await self.app(scope, receive, send)


async def _count(limiter: FixedWindowRateLimiter, item: RateLimitItem, ident: str) -> float | None:
    if await limiter.hit(item, ident):
        return None
    stats = await limiter.get_window_stats(item, ident)
    return max(1.0, stats.reset_time - time.time())


def _login_account(scope: Scope) -> str | None:
    """The login's account key: SHA-256 of the trimmed, lower-cased email (None if unreadable)."""
    body = scope.get("state", {}).get("raw_body")
    if not body:
        return None
    try:
        email = json.loads(body).get("email")
    except (ValueError, AttributeError, RecursionError):  # RecursionError: JSON nested too deep
        return None
    if not isinstance(email, str) or not email.strip():
        return None
    return hashlib.sha256(email.strip().lower().encode("utf-8", "surrogatepass")).hexdigest()[:40]
