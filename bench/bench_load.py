"""The shopper's hot path under load: every widget route next to a bare endpoint, same run.

Starts `luneo serve --seed` as a subprocess and drives each route a shopper's widget calls
(with the demo brand's publishable key and a shopper token) at a fixed concurrency, each right
after a run of the bare endpoint (`/healthz`), and prints p50/p95/p99, requests/s and the
route's throughput as a share of the bare endpoint's.

    .venv/bin/python bench/bench_load.py                 # embedded: SQLite, one process, c16
    .venv/bin/python bench/bench_load.py --pg            # PostgreSQL + Redis, --workers 2, c64

`--pg` takes the server of `LUNEO_TEST_DATABASE_URL` (or `--pg-url`), recreates the database
`luneo_bench_load` (or `--pg-db`: give concurrent runs each their own) in it, and flushes and
uses `LUNEO_BENCH_REDIS_URL` (default db 13, or `--redis-url`); a `luneo worker` renders the
preview the routes ask for. Load comes from `wrk` (a Lua script per route sets the
method, headers and body) when installed, else from the project's asyncio generator (which a
single Python process may saturate first: install wrk for trustworthy numbers). The `cpu ms`
column is the API processes' CPU time (user + system, all of the server's process group) per
request of the route: on a shared machine it moves far less than req/s and p99 do.
Targets (issue 12, item 15): widget config ≥ 50 % of the bare throughput; validate, spec and
preview request p99 ≤ 50 ms at c16 (one process).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _stats import free_port, percentiles, wait_for_http

SHOPPER = "bench-shopper-token-0123456789"
DB_NAME = "luneo_bench_load"


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None = None


@dataclass
class Result:
    rps: float
    p50: float
    p95: float
    p99: float
    errors: int
    requests: int = 0
    cpu_ms: float = 0.0  # API processes' CPU per request


def group_cpu_s(pgid: int) -> float:
    """CPU seconds (user + system) used so far by the live processes of a process group (Linux)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after the name: state, ppid, pgrp, ... utime(11), stime(12)
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def measured(drive: Any, pgid: int, base: str, route: Route, **load: Any) -> Result:
    """`drive` one route and add the server's CPU per request to its result."""
    before = group_cpu_s(pgid)
    res = drive(base, route, **load)
    res.cpu_ms = (group_cpu_s(pgid) - before) * 1000 / max(res.requests, 1)
    return res


# --------------------------------------------------------------------------- server


def _env(args: argparse.Namespace, data_dir: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "LUNEO_DATA_DIR": str(data_dir),
        "LUNEO_ENV": "development",
        "LUNEO_LOG_LEVEL": "WARNING",
        "LUNEO_RATE_LIMIT_KEY": "100000000/minute",
        "LUNEO_RATE_LIMIT_IP": "100000000/minute",
        "LUNEO_RATE_LIMIT_UPLOAD_IP": "100000000/minute",
        "LUNEO_WORKER_THREADS": "2",
    }
    for var in ("LUNEO_DATABASE_URL", "LUNEO_REDIS_URL", "LUNEO_STORAGE_URL", "LUNEO_BROKER_URL"):
        env.pop(var, None)
    if args.pg:
        env["LUNEO_DATABASE_URL"] = _fresh_pg_database(args.pg_url, args.pg_db)
        env["LUNEO_REDIS_URL"] = args.redis_url
    return env


def _fresh_pg_database(url: str, name: str = DB_NAME) -> str:
    import sqlalchemy as sa

    base = sa.engine.make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
        conn.execute(sa.text(f'create database "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False).replace("+psycopg", "", 1)


def _start(args: argparse.Namespace, tmp: Path) -> tuple[list[subprocess.Popen[bytes]], str, dict[str, Any]]:
    data_dir = tmp / "var"
    env = _env(args, data_dir)
    if args.pg:
        import redis

        redis.Redis.from_url(args.redis_url).flushdb()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    luneo = [sys.executable, "-m", "luneo.cli"]
    serve = [*luneo, "serve", "--seed", "--port", str(port), "--workers", str(args.workers)]
    log = open(tmp / "server.log", "wb")  # noqa: SIM115 - kept open for the server's life
    procs = [subprocess.Popen(serve, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)]
    wait_for_http(f"{base}/healthz", attempts=1200)
    if args.pg:  # Redis set: the API runs no job threads; one worker renders the preview
        procs.append(
            subprocess.Popen(
                [*luneo, "worker"], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        )
    creds = json.loads((data_dir / "demo-credentials.json").read_text())
    return procs, base, creds


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)


# --------------------------------------------------------------------------- the widget's requests


def _routes(base: str, creds: dict[str, Any]) -> list[Route]:
    """Prepare the state a shopper has mid-session (a spec, its preview, a cart line) and return
    the requests the widget then makes, as it makes them."""
    pk = {"Authorization": f"Bearer {creds['publishable_key']}", "X-Shopper-Token": SHOPPER}
    sk = {"Authorization": f"Bearer {creds['secret_key']}"}
    with httpx.Client(base_url=f"{base}/api/v1", timeout=60) as c:
        products = c.get("/products", params={"limit": 100}, headers=sk).json()["data"]
        pid = next(p["id"] for p in products if p["sku"] == "DEMO-PENDANT")
        inputs = {"product_id": pid, "inputs": {"arc_text": {"text": "Emma"}, "initial": {"text": "E"}}}
        spec = c.post("/specs", json=inputs, headers=pk)
        assert spec.status_code in (200, 201), spec.text
        spec_hash = spec.json()["spec_hash"]
        preview = {"spec_hash": spec_hash, "width": 720, "format": "png"}
        r = c.post("/renders/preview", json=preview, headers=pk)
        deadline = time.monotonic() + 120
        while r.json().get("status") != "success":
            assert r.status_code < 400 and r.json().get("status") != "failed", r.text
            assert time.monotonic() < deadline, "the preview did not render in 120 s"
            time.sleep(0.2)
            r = c.get(f"/renders/{r.json()['render_id']}/status", headers=pk)
        snapshot = {"spec_hash": spec_hash, "provenance": {"source": "widget"}}
        snap = c.post("/snapshots", json=snapshot, headers=pk)
        assert snap.status_code in (200, 201), snap.text
        cart = {"product_id": pid, "quantity": 1, "snapshot_id": snap.json()["id"], "spec_hash": spec_hash}
        added = c.post("/cart/add", json=cart, headers=pk)
        assert added.status_code in (200, 201), added.text
    json_pk = {**pk, "Content-Type": "application/json"}
    return [
        Route("widget config   GET /widget/config/{id}", "GET", f"/api/v1/widget/config/{pid}", pk),
        Route("quote           GET /cart (priced)", "GET", "/api/v1/cart", pk),
        Route(
            "validate        POST /personalization/validate",
            "POST",
            "/api/v1/personalization/validate",
            json_pk,
            inputs,
        ),
        Route("spec            POST /specs", "POST", "/api/v1/specs", json_pk, inputs),
        Route("preview request POST /renders/preview", "POST", "/api/v1/renders/preview", json_pk, preview),
        Route("snapshot        POST /snapshots", "POST", "/api/v1/snapshots", json_pk, snapshot),
    ]


BARE = Route("bare            GET /healthz", "GET", "/healthz", {})


# --------------------------------------------------------------------------- load generators

_LUA_DONE = """
done = function(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format("LUNEO %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), errors))
end
"""


def _lua(route: Route) -> str:
    lines = [f"wrk.method = {json.dumps(route.method)}"]
    for k, v in route.headers.items():
        lines.append(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}")
    if route.body is not None:
        lines.append(f"wrk.body = {json.dumps(json.dumps(route.body))}")
    return "\n".join(lines) + "\n" + _LUA_DONE


def run_wrk(base: str, route: Route, *, concurrency: int, seconds: float, tmp: Path) -> Result:
    script = tmp / "route.lua"
    script.write_text(_lua(route))
    threads = min(2, concurrency)
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{concurrency}",
        f"-d{seconds:g}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
    ]
    out = subprocess.run([*cmd, base + route.path], capture_output=True, text=True, check=True).stdout
    m = re.search(r"LUNEO (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", out)
    assert m, out
    n, dur_us, p50, p95, p99, errors = (int(x) for x in m.groups())
    return Result(n / (dur_us / 1e6), p50 / 1000, p95 / 1000, p99 / 1000, errors, n)


def run_python(base: str, route: Route, *, concurrency: int, seconds: float, tmp: Path) -> Result:
    async def drive() -> Result:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        samples: list[float] = []
        errors = 0
        async with httpx.AsyncClient(base_url=base, limits=limits, headers=route.headers, timeout=10) as c:
            stop = time.perf_counter() + seconds

            async def worker() -> None:
                nonlocal errors
                while time.perf_counter() < stop:
                    t = time.perf_counter()
                    r = await c.request(route.method, route.path, json=route.body)
                    samples.append(time.perf_counter() - t)
                    errors += r.status_code >= 400

            start = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            wall = time.perf_counter() - start
        st = percentiles(samples)
        return Result(len(samples) / wall, st["p50"], st["p95"], st["p99"], errors, len(samples))

    return asyncio.run(drive())


# --------------------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg", action="store_true", help="PostgreSQL + Redis, two API processes, c64")
    ap.add_argument(
        "--pg-url",
        default=os.environ.get("LUNEO_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    ap.add_argument("--pg-db", default=DB_NAME, help="database to (re)create for the run")
    ap.add_argument(
        "--redis-url", default=os.environ.get("LUNEO_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
    )
    ap.add_argument("--workers", type=int, default=None, help="API processes (default 1, --pg: 2)")
    ap.add_argument("--concurrency", type=int, default=None, help="default 16, --pg: 64")
    ap.add_argument("--seconds", type=float, default=float(os.environ.get("BENCH_SECONDS", "6")))
    ap.add_argument("--bare-seconds", type=float, default=3.0)
    ap.add_argument("--python-load", action="store_true", help="use the asyncio generator even if wrk exists")
    args = ap.parse_args()
    args.workers = args.workers or (2 if args.pg else 1)
    conc = args.concurrency or (64 if args.pg else 16)
    drive = run_python if args.python_load or shutil.which("wrk") is None else run_wrk

    tmp = Path(tempfile.mkdtemp(prefix="luneo-bench-load-"))
    procs, base, creds = _start(args, tmp)
    try:
        routes = _routes(base, creds)
        load = {"concurrency": conc, "tmp": tmp}
        for r in [BARE, *routes]:  # warm every route (caches, connection pools, JIT-ish imports)
            drive(base, r, seconds=1, **load)
        rows: list[tuple[Route, Result, Result]] = []
        pgid = procs[0].pid  # the API server leads its own process group (its workers too)
        for r in routes:  # each route right after its own bare run: noise hits both alike
            bare = measured(drive, pgid, base, BARE, seconds=args.bare_seconds, **load)
            rows.append((r, measured(drive, pgid, base, r, seconds=args.seconds, **load), bare))
    finally:
        _stop(procs)
    mode = "PostgreSQL + Redis" if args.pg else "embedded (SQLite)"
    print(
        f"{mode}, {args.workers} API process(es), concurrency {conc}, "
        f"{'wrk' if drive is run_wrk else 'python asyncio generator'}, {args.seconds:g} s per route"
    )
    print(
        f"{'route':<50} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>6} "
        f"{'cpu ms':>6}  vs bare"
    )
    bares = [b for _, _, b in rows]
    b = Result(
        sum(x.rps for x in bares) / len(bares),
        sum(x.p50 for x in bares) / len(bares),
        sum(x.p95 for x in bares) / len(bares),
        sum(x.p99 for x in bares) / len(bares),
        sum(x.errors for x in bares),
        cpu_ms=sum(x.cpu_ms for x in bares) / len(bares),
    )
    print(
        f"{BARE.name:<50} {b.rps:8.0f} {b.p50:8.2f} {b.p95:8.2f} {b.p99:8.2f} {b.errors:6d} {b.cpu_ms:6.2f}"
        "  (mean of runs)"
    )
    for r, res, bare in rows:
        print(
            f"{r.name:<50} {res.rps:8.0f} {res.p50:8.2f} {res.p95:8.2f} {res.p99:8.2f} {res.errors:6d} "
            f"{res.cpu_ms:6.2f}  "
            f"{res.rps / bare.rps * 100:5.1f} % of {bare.rps:.0f}"
        )


if __name__ == "__main__":
    main()
