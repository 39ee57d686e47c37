"""Shared helpers for bench scripts: percentiles and a table printer."""

from __future__ import annotations

import socket
import statistics
import time
from collections.abc import Callable


def percentiles(samples_s: list[float]) -> dict[str, float]:
    """p50/p95/p99/mean in milliseconds."""
    xs = sorted(samples_s)
    if not xs:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0, "mean": 0.0}

    def pct(p: float) -> float:
        k = min(len(xs) - 1, max(0, round(p / 100 * (len(xs) - 1))))
        return xs[k] * 1000

    return {"p50": pct(50), "p95": pct(95), "p99": pct(99), "mean": statistics.fmean(xs) * 1000}


def time_calls(fn: Callable[[], object], n: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def line(name: str, st: dict[str, float], extra: str = "") -> str:
    return f"{name:<44} p50 {st['p50']:8.3f} ms  p95 {st['p95']:8.3f} ms  p99 {st['p99']:8.3f} ms {extra}"


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_http(url: str, attempts: int = 300) -> None:
    """Poll `url` until a server answers (any status)."""
    import httpx

    for _ in range(attempts):
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"server at {url} did not start")


async def drive_http(
    url: str,
    headers: dict[str, str],
    *,
    requests: int,
    concurrency: int,
    warmup: int = 100,
    expect_len: int | None = None,
) -> tuple[list[float], float]:
    """GET `url` `requests` times from `concurrency` keep-alive connections.

    Returns every request's latency (s) and the wall time of the measured part.
    """
    import asyncio

    import httpx

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    samples: list[float] = []
    async with httpx.AsyncClient(limits=limits, headers=headers) as client:
        for _ in range(warmup):
            await client.get(url)
        queue = iter(range(requests))

        async def worker() -> None:
            for _ in queue:
                t = time.perf_counter()
                r = await client.get(url)
                samples.append(time.perf_counter() - t)
                assert r.status_code == 200, r.status_code
                assert expect_len is None or len(r.content) == expect_len

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return samples, time.perf_counter() - start


UVICORN = ["-m", "uvicorn", "--log-level", "warning", "--no-access-log", "--host", "127.0.0.1"]


def demo_environment(data_dir: str, **extra: str) -> tuple[dict[str, str], dict[str, object]]:
    """Environment for an embedded-mode server in `data_dir` (no rate limits), and the demo
    brand's credentials from `luneo seed demo --json`."""
    import json
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "LUNEO_DATA_DIR": data_dir,
        "LUNEO_LOG_LEVEL": "WARNING",
        "LUNEO_RATE_LIMIT_KEY": "1000000/minute",
        "LUNEO_RATE_LIMIT_IP": "1000000/minute",
        **extra,
    }
    for var in ("LUNEO_DATABASE_URL", "LUNEO_REDIS_URL", "LUNEO_STORAGE_URL"):
        env.pop(var, None)
    out = subprocess.run(
        [sys.executable, "-m", "luneo.cli", "seed", "demo", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return env, json.loads(out)
