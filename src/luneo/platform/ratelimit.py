"""Rate limits per credential and per client IP (`limits`: in-memory, or Redis when configured)."""

from __future__ import annotations

import hashlib
import math
import time

from limits import RateLimitItem, parse
from limits.aio.strategies import FixedWindowRateLimiter
from limits.storage import storage_from_string

from luneo.platform.asgi import ASGIApp, Receive, Scope, Send, header, send_problem

EXEMPT_PATHS = ("/healthz", "/readyz", "/metrics")


class RateLimitMiddleware:
    """429 with `Retry-After` when a bearer credential or an IP exceeds its window."""

    def __init__(self, app: ASGIApp, *, per_key: str, per_ip: str, redis_url: str | None = None) -> None:
        self.app = app
        if redis_url:  # redis-py's asyncio client (no extra dependency)
            self.storage = storage_from_string("async+" + redis_url, implementation="redispy")
        else:
            self.storage = storage_from_string("async+memory://")
        self.limiter = FixedWindowRateLimiter(self.storage)  # type: ignore[arg-type]
        self.per_key: RateLimitItem = parse(per_key)
        self.per_ip: RateLimitItem = parse(per_ip)

    async def _check(self, item: RateLimitItem, ident: str) -> float | None:
        if await self.limiter.hit(item, ident):
            return None
        stats = await self.limiter.get_window_stats(item, ident)
        return max(1.0, stats.reset_time - time.time())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        auth = header(scope, b"authorization") or ""
        _, _, token = auth.partition(" ")
        token = token.strip()
        client_ip = str((scope.get("client") or ("unknown", 0))[0])
        if token:
            ident = "cred:" + hashlib.sha256(token.encode()).hexdigest()[:32]
            if token.startswith("pk_"):  # a widget key is shared by every shopper: limit per shopper IP
                ident += ":" + client_ip
            wait = await self._check(self.per_key, ident)
        else:
            wait = await self._check(self.per_ip, "ip:" + client_ip)
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
