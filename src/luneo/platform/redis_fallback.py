"""Redis down: work in this process for a period, say so once, try Redis again after it.

Shared by the rate limiter, the upload limits and the balance cache. When a Redis call fails,
`RedisFallback` answers from the in-process fallback for `period_s` without touching Redis
(no timeout per request), logs `<name>_storage_unavailable` once per period and
`<name>_storage_recovered` once when Redis answers again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import structlog

FALLBACK_S = 30.0
log = structlog.get_logger("luneo.redis")

T = TypeVar("T")


class RedisFallback:
    """The outage state of one Redis use (e.g. "rate_limit"), safe to share between threads."""

    def __init__(
        self,
        name: str,
        *,
        period_s: float = FALLBACK_S,
        clock: Callable[[], float] | None = None,
        logger: Callable[[], Any] | None = None,
    ) -> None:
        """`logger` returns the structlog logger to use (looked up per message; default `log`)."""
        self.name = name
        self.period_s = period_s
        self._clock = clock or time.monotonic
        self._log = logger or (lambda: log)
        self._until = 0.0  # monotonic time until which Redis is not tried again
        self._lock = threading.Lock()

    def use_redis(self) -> bool:
        """False during an outage's period: use the in-process fallback without trying Redis."""
        return self._clock() >= self._until

    def failed(self, exc: BaseException) -> None:
        """A Redis call failed: fall back for a period (logged once per period, not per call)."""
        with self._lock:
            now = self._clock()
            starting = now >= self._until
            self._until = max(self._until, now + self.period_s)
        if starting:
            self._log().warning(
                f"{self.name}_storage_unavailable", error=type(exc).__name__, fallback_s=self.period_s
            )

    def succeeded(self) -> None:
        """A Redis call worked: the outage, if any, is over (logged once)."""
        if not self._until:
            return
        with self._lock:
            recovered, self._until = bool(self._until), 0.0
        if recovered:
            self._log().info(f"{self.name}_storage_recovered")

    def run(self, shared: Callable[[], T], local: Callable[[], T]) -> T:
        """`shared()` (a Redis call) unless Redis is in an outage period; `local()` instead or if it fails."""
        if not self.use_redis():
            return local()
        try:
            result = shared()
        except Exception as exc:
            self.failed(exc)
            return local()
        self.succeeded()
        return result

    def reset(self) -> None:
        """Forget any outage (tests)."""
        with self._lock:
            self._until = 0.0
