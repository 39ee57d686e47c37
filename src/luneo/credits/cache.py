"""A 5-second cache for balances: Redis when `LUNEO_REDIS_URL` is set, else in-process."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import structlog

from luneo.platform.config import get_settings

log = structlog.get_logger("luneo.credits.cache")
TTL_S = 5
_PREFIX = "luneo:credits:balance:"


class _Local:
    def __init__(self) -> None:
        self._data: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> dict[str, Any] | None:
        hit = self._data.get(key)
        return hit[1] if hit is not None and hit[0] > time.monotonic() else None

    def set(self, key: str, value: dict[str, Any]) -> None:
        with self._lock:
            if len(self._data) > 50_000:
                self._data.clear()
            self._data[key] = (time.monotonic() + TTL_S, value)

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)


_local = _Local()
_redis: dict[str, Any] = {}


def _client() -> Any:
    url = get_settings().redis_url
    if not url:
        return None
    client = _redis.get(url)
    if client is None:
        import redis

        client = _redis[url] = redis.Redis.from_url(url, socket_timeout=0.5)
    return client


def get(brand_id: str) -> dict[str, Any] | None:
    """The cached balance view of a brand, or None."""
    client = _client()
    if client is None:
        return _local.get(brand_id)
    try:
        raw = client.get(_PREFIX + brand_id)
    except Exception as exc:
        log.warning("credits_cache_get_failed", error=str(exc))
        return None
    return json.loads(raw) if raw else None


def put(brand_id: str, value: dict[str, Any]) -> None:
    client = _client()
    if client is None:
        _local.set(brand_id, value)
        return
    try:
        client.set(_PREFIX + brand_id, json.dumps(value), ex=TTL_S)
    except Exception as exc:
        log.warning("credits_cache_put_failed", error=str(exc))


def invalidate(brand_id: str) -> None:
    """Forget a brand's cached balance (called on every change, and again after commit)."""
    _local.delete(brand_id)
    client = _client()
    if client is None:
        return
    try:
        client.delete(_PREFIX + brand_id)
    except Exception as exc:
        log.warning("credits_cache_invalidate_failed", error=str(exc))
