"""A 5-second cache for balances: Redis when `LUNEO_REDIS_URL` is set, else in-process.

With Redis down, the in-process cache stands in (`platform.redis_fallback`: logged once per
outage, Redis tried again after the period), so balances keep answering.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from cachetools import TTLCache

from luneo.platform.config import get_settings
from luneo.platform.redis_fallback import RedisFallback

TTL_S = 5
MAX_LOCAL = 50_000  # brands cached in this process (small dicts)
_PREFIX = "luneo:credits:balance:"

_local: TTLCache[str, dict[str, Any]] = TTLCache(maxsize=MAX_LOCAL, ttl=TTL_S)
_local_lock = threading.Lock()
_redis: dict[str, Any] = {}
redis_state = RedisFallback("credits_cache")


def _client() -> Any:
    url = get_settings().redis_url
    if not url:
        return None
    client = _redis.get(url)
    if client is None:
        import redis

        client = _redis[url] = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    return client


def _local_get(brand_id: str) -> dict[str, Any] | None:
    with _local_lock:
        return _local.get(brand_id)


def _local_put(brand_id: str, value: dict[str, Any]) -> None:
    with _local_lock:
        _local[brand_id] = value


def get(brand_id: str) -> dict[str, Any] | None:
    """The cached balance view of a brand, or None."""
    client = _client()
    if client is None:
        return _local_get(brand_id)

    def shared() -> dict[str, Any] | None:
        raw = client.get(_PREFIX + brand_id)
        return json.loads(raw) if raw else None

    return redis_state.run(shared, lambda: _local_get(brand_id))


def put(brand_id: str, value: dict[str, Any]) -> None:
    client = _client()
    if client is None:
        _local_put(brand_id, value)
        return
    payload = json.dumps(value)
    key = _PREFIX + brand_id
    redis_state.run(lambda: client.set(key, payload, ex=TTL_S), lambda: _local_put(brand_id, value))


def invalidate(brand_id: str) -> None:
    """Forget a brand's cached balance (called on every change, and again after commit)."""
    with _local_lock:
        _local.pop(brand_id, None)
    client = _client()
    if client is not None:
        redis_state.run(lambda: client.delete(_PREFIX + brand_id), lambda: None)
