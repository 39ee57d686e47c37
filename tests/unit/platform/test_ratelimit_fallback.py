"""Redis down: the rate limiter counts in memory for a period, logs it once, then tries Redis again."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio
from limits.aio.strategies import FixedWindowRateLimiter
from limits.storage import storage_from_string

from luneo.platform import ratelimit


def run(fn: Any, n: int) -> Any:
    """Run the coroutine function in a thread of its own (no event loop of another test in the way)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, fn, n).result()


class Recorder:
    def __init__(self) -> None:
        self.events: list[str] = []

    def __getattr__(self, level: str) -> Any:
        return lambda event, **_kw: self.events.append(event)


def test_fallback_is_logged_once_per_period_and_recovery_once(monkeypatch: Any) -> None:
    recorder = Recorder()
    monkeypatch.setattr(ratelimit, "log", recorder)
    now = [1000.0]
    monkeypatch.setattr(ratelimit, "_now", lambda: now[0])
    mw = ratelimit.RateLimitMiddleware(
        None, per_key="100/minute", per_ip="3/minute", redis_url="redis://127.0.0.1:1/0"
    )

    async def hits(n: int) -> list[float | None]:
        return [await mw.check(mw.per_ip, "ip:1.2.3.4") for _ in range(n)]

    results = run(hits, 4)
    assert results[:3] == [None, None, None] and results[3] is not None  # still limited, in memory
    assert recorder.events == ["rate_limit_storage_unavailable"]
    now[0] += ratelimit.FALLBACK_S + 1  # the period is over: Redis is tried again, still down
    run(hits, 3)
    assert recorder.events == ["rate_limit_storage_unavailable"] * 2
    mw.shared = FixedWindowRateLimiter(storage_from_string("async+memory://"))  # type: ignore[arg-type]
    now[0] += ratelimit.FALLBACK_S + 1  # Redis is back
    assert run(hits, 2) == [None, None]
    assert recorder.events == ["rate_limit_storage_unavailable"] * 2 + ["rate_limit_storage_recovered"]
