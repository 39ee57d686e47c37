"""Per-client-IP rate limit on upload routes (shopper photos, assets, fonts).

Uploads cost far more than other requests (decoding, re-encoding, storage), so on top of the
global limits each client IP gets `LUNEO_RATE_LIMIT_UPLOAD_IP` uploads (default 30/minute),
whatever key it uses. Counted with `limits` in Redis when configured (shared by every process,
falling back to this process when Redis is down: `platform.redis_fallback`, logged once per
outage), else in memory; the client IP is the one the
proxy-header middleware resolved (forwarded headers are believed only from trusted proxies).
"""

from __future__ import annotations

import math
import threading
import time

from fastapi import Request
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from luneo.catalog.error_codes import CatalogErrorCode
from luneo.platform.config import get_settings
from luneo.platform.domain_errors import DomainError
from luneo.platform.middleware import client_ip
from luneo.platform.redis_fallback import RedisFallback

redis_state = RedisFallback("upload_rate_limit")
_lock = threading.Lock()
_limiters: dict[str, FixedWindowRateLimiter] = {}


def _limiter(url: str, name: str | None = None) -> FixedWindowRateLimiter:
    key = name or url
    with _lock:
        if key not in _limiters:
            _limiters[key] = FixedWindowRateLimiter(storage_from_string(url))
        return _limiters[key]


def _hit(limiter: FixedWindowRateLimiter, item: RateLimitItem, keys: tuple[str, ...]) -> float | None:
    if limiter.hit(item, *keys):
        return None
    stats = limiter.get_window_stats(item, *keys)
    return max(1.0, stats.reset_time - time.time())


def window_wait(request: Request, rate: str, *keys: str) -> float | None:
    """Count one hit of `keys` (a namespace, then identifiers) against `rate` ("10/hour"): None
    when allowed, else the seconds until the window resets. In Redis when configured (this
    process's memory while Redis is down, logged once per outage), else in memory; in-memory
    counters belong to the application instance (a fresh app starts afresh)."""
    item = parse(rate)
    memory = _limiter("memory://", f"memory:{id(request.app)}")
    url = get_settings().redis_url
    if url:
        return redis_state.run(lambda: _hit(_limiter(url), item, keys), lambda: _hit(memory, item, keys))
    return _hit(memory, item, keys)


def limit_uploads(request: Request) -> None:
    """Route dependency: 429 `rate_limited` with `Retry-After` past the per-IP upload limit."""
    wait = window_wait(request, get_settings().rate_limit_upload_ip, "upload-ip", client_ip(request.scope))
    if wait is not None:
        seconds = math.ceil(wait)
        raise DomainError(
            CatalogErrorCode.RATE_LIMITED, f"Too many uploads; retry in {seconds} s.", retry_after_s=seconds
        )
