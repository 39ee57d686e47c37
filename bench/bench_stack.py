"""Cost of Luneo's HTTP stack: an authenticated trivial endpoint vs a bare FastAPI endpoint.

Both apps run under uvicorn (one process each, same settings) on 127.0.0.1; one client
drives each at concurrency 32 with keep-alive. Prints p50/p95/p99, requests/s and the
difference (our middleware + auth) and ratio. Target: our stack costs < 1 ms at p95.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _stats import UVICORN, demo_environment, drive_http, free_port, line, percentiles, wait_for_http

CONCURRENCY = 32
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "4000"))
ROUNDS = 4

BARE_APP = """
from fastapi import FastAPI
app = FastAPI()
@app.get("/api/v1/me")
def me() -> dict:
    return {"kind": "bare"}
"""


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="luneo-bench-"))
    env, creds = demo_environment(str(tmp / "var"))
    (tmp / "bare_app.py").write_text(BARE_APP)
    ours_port, bare_port = free_port(), free_port()
    uv = [sys.executable, *UVICORN]
    procs = [
        subprocess.Popen([*uv, "--factory", "luneo.app:create_app", "--port", str(ours_port)], env=env),
        subprocess.Popen([*uv, "bare_app:app", "--port", str(bare_port), "--app-dir", str(tmp)], env=env),
    ]
    try:
        wait_for_http(f"http://127.0.0.1:{ours_port}/healthz")
        wait_for_http(f"http://127.0.0.1:{bare_port}/api/v1/me")
        auth = {"Authorization": f"Bearer {creds['secret_key']}"}
        # Alternate short rounds so machine noise hits both sides alike.
        load = {"requests": REQUESTS // ROUNDS, "concurrency": CONCURRENCY, "warmup": 100}
        bare, ours, bare_wall, ours_wall = [], [], 0.0, 0.0
        for _ in range(ROUNDS):
            samples, wall = asyncio.run(drive_http(f"http://127.0.0.1:{bare_port}/api/v1/me", {}, **load))
            bare += samples
            bare_wall += wall
            samples, wall = asyncio.run(drive_http(f"http://127.0.0.1:{ours_port}/api/v1/me", auth, **load))
            ours += samples
            ours_wall += wall
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)
    b, o = percentiles(bare), percentiles(ours)
    print(
        f"concurrency {CONCURRENCY}, {REQUESTS} requests each in {ROUNDS} alternating rounds, keep-alive, "
        "one uvicorn process each"
    )
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
