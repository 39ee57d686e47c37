"""Redis down: upload limits and the balance cache keep working in process and log it once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.requests import Request

from luneo.catalog import upload_limits
from luneo.credits import cache as balance_cache
from luneo.platform import redis_fallback
from luneo.platform.config import get_settings
from luneo.platform.domain_errors import DomainError

UNREACHABLE = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connection refused at once


class Recorder:
    def __init__(self) -> None:
        self.events: list[str] = []

    def __getattr__(self, level: str) -> Any:
        return lambda event, **_kw: self.events.append(event)


@pytest.fixture
def redis_down(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    recorder = Recorder()
    monkeypatch.setattr(redis_fallback, "log", recorder)
    monkeypatch.setenv("LUNEO_REDIS_URL", UNREACHABLE)
    monkeypatch.setenv("LUNEO_RATE_LIMIT_UPLOAD_IP", "3/minute")
    get_settings.cache_clear()
    upload_limits.redis_state.reset()
    balance_cache.redis_state.reset()
    yield recorder
    get_settings.cache_clear()
    upload_limits.redis_state.reset()
    balance_cache.redis_state.reset()


def _request(app: object) -> Request:
    return Request({"type": "http", "client": ("203.0.113.9", 1234), "headers": [], "app": app})


def test_upload_limits_count_in_process_and_log_the_outage_once(redis_down: Recorder) -> None:
    app = object()
    for _ in range(3):
        upload_limits.limit_uploads(_request(app))  # allowed: counted in this process
    for _ in range(3):
        with pytest.raises(DomainError) as refused:
            upload_limits.limit_uploads(_request(app))
        assert refused.value.code == "rate_limited"
    assert redis_down.events == ["upload_rate_limit_storage_unavailable"]


def test_balance_cache_works_in_process_and_logs_the_outage_once(redis_down: Recorder) -> None:
    for n in range(5):
        balance_cache.put("brd_x", {"balance": n})
        assert balance_cache.get("brd_x") == {"balance": n}
    balance_cache.invalidate("brd_x")
    assert balance_cache.get("brd_x") is None
    assert redis_down.events == ["credits_cache_storage_unavailable"]


def test_outage_is_retried_after_the_period_and_recovery_logged_once(monkeypatch: Any) -> None:
    recorder = Recorder()
    monkeypatch.setattr(redis_fallback, "log", recorder)
    now = [100.0]
    state = redis_fallback.RedisFallback("thing", period_s=30.0, clock=lambda: now[0])
    calls: list[str] = []

    def down() -> str:
        calls.append("redis")
        raise ConnectionError("refused")

    assert [state.run(down, lambda: "local") for _ in range(4)] == ["local"] * 4
    assert calls == ["redis"]  # not tried again during the period
    now[0] += 31
    assert state.run(lambda: "redis", lambda: "local") == "redis"
    assert state.run(lambda: "redis", lambda: "local") == "redis"
    assert recorder.events == ["thing_storage_unavailable", "thing_storage_recovered"]
