"""Cost of Luneo's HTTP stack: an authenticated trivial endpoint vs a bare FastAPI endpoint.

Both apps run under uvicorn (one process each, same settings) on 127.0.0.1; one client
drives each at concurrency 32 with keep-alive. Prints p50/p95/p99, requests/s and the
difference (our middleware + auth) and ratio. Target: our stack costs < 1 ms at p95.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _stats import free_port, line, percentiles, wait_for_http

CONCURRENCY = 32
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "4000"))

BARE_APP = """
from fastapi import FastAPI
app = FastAPI()
@app.get("/api/v1/me")
def me() -> dict:
    return {"kind": "bare"}
"""


async def _drive(url: str, headers: dict[str, str]) -> tuple[list[float], float]:
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    samples: list[float] = []
    async with httpx.AsyncClient(limits=limits, headers=headers) as client:
        for _ in range(200):  # warm-up
            await client.get(url)
        queue = iter(range(REQUESTS))

        async def worker() -> None:
            for _ in queue:
                t = time.perf_counter()
                r = await client.get(url)
                samples.append(time.perf_counter() - t)
                assert r.status_code == 200, r.text

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return samples, time.perf_counter() - start


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="luneo-bench-"))
    env = {
        **os.environ,
        "LUNEO_DATA_DIR": str(tmp / "var"),
        "LUNEO_LOG_LEVEL": "WARNING",
        "LUNEO_RATE_LIMIT_KEY": "1000000/minute",
        "LUNEO_RATE_LIMIT_IP": "1000000/minute",
    }
    env.pop("LUNEO_DATABASE_URL", None)
    env.pop("LUNEO_REDIS_URL", None)
    creds = json.loads(
        subprocess.run(
            [sys.executable, "-m", "luneo.cli", "seed", "demo", "--json"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    (tmp / "bare_app.py").write_text(BARE_APP)
    ours_port, bare_port = free_port(), free_port()
    uv = [sys.executable, "-m", "uvicorn", "--log-level", "warning", "--no-access-log", "--host", "127.0.0.1"]
    procs = [
        subprocess.Popen([*uv, "--factory", "luneo.app:create_app", "--port", str(ours_port)], env=env),
        subprocess.Popen([*uv, "bare_app:app", "--port", str(bare_port), "--app-dir", str(tmp)], env=env),
    ]
    try:
        wait_for_http(f"http://127.0.0.1:{ours_port}/healthz")
        wait_for_http(f"http://127.0.0.1:{bare_port}/api/v1/me")
        auth = {"Authorization": f"Bearer {creds['secret_key']}"}
        bare, bare_wall = asyncio.run(_drive(f"http://127.0.0.1:{bare_port}/api/v1/me", {}))
        ours, ours_wall = asyncio.run(_drive(f"http://127.0.0.1:{ours_port}/api/v1/me", auth))
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)
    b, o = percentiles(bare), percentiles(ours)
    print(f"concurrency {CONCURRENCY}, {REQUESTS} requests each, keep-alive, one uvicorn process each")
    print(line("bare FastAPI GET /api/v1/me", b, f"{REQUESTS / bare_wall:8.0f} req/s"))
    print(line("luneo GET /api/v1/me (sk_ key, full stack)", o, f"{REQUESTS / ours_wall:8.0f} req/s"))
    # Per-request cost of our stack: the extra time one request takes (wall / throughput).
    per_req_bare = bare_wall / REQUESTS * 1000
    per_req_ours = ours_wall / REQUESTS * 1000
    print(
        f"ratio luneo/bare: p50 x{o['p50'] / b['p50']:.2f}  p95 x{o['p95'] / b['p95']:.2f}  "
        f"throughput x{(REQUESTS / ours_wall) / (REQUESTS / bare_wall):.2f}"
    )
    print(
        f"stack cost per request (service time): {per_req_ours - per_req_bare:.3f} ms "
        f"({per_req_ours:.3f} vs {per_req_bare:.3f} ms); "
        f"p95 latency delta at c=32: {o['p95'] - b['p95']:.3f} ms"
    )


if __name__ == "__main__":
    main()
