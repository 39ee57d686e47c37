"""Credit debit throughput and latency vs a plain `UPDATE … SET balance = balance - 1` (the floor).

    .venv/bin/python bench/bench_credits.py [--n 2000] [--pg postgresql://postgres@127.0.0.1:5432/test]

SQLite always; PostgreSQL when `--pg` or `LUNEO_TEST_DATABASE_URL` is given (a scratch database
`luneo_bench_credits` is created next to it). Concurrency 1 and 16 threads, all on ONE brand
(the hot-row worst case). A debit = conditional UPDATE … RETURNING + ledger INSERT in a
SAVEPOINT + low-balance check, one transaction each; the floor = one bare UPDATE per transaction.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

import luneo.models  # noqa: F401  (all tables and event subscribers)
from luneo.credits import service
from luneo.platform import migrate
from luneo.platform.config import Settings
from luneo.platform.database import Database
from luneo.platform.tenancy import bind_system, bind_tenant
from luneo.tenancy import service as tenancy


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def run(fn: Callable[[], None], n: int, threads: int) -> tuple[float, list[float]]:
    """Run `fn` n times over `threads` threads; (ops per second, latencies in ms)."""
    lat: list[float] = []
    lock = threading.Lock()
    per = n // threads

    def worker() -> None:
        mine = []
        for _ in range(per):
            t0 = time.perf_counter()
            fn()
            mine.append((time.perf_counter() - t0) * 1000)
        with lock:
            lat.extend(mine)

    t0 = time.perf_counter()
    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return len(lat) / (time.perf_counter() - t0), lat


def bench(label: str, url: str, data_dir: Path, n: int) -> None:
    migrate.upgrade(url=url)
    db = Database(Settings(database_url=url, data_dir=data_dir))
    with db.transaction() as s:
        bind_system(s)
        slug = f"bench-{uuid.uuid4().hex[:8]}"
        brand = tenancy.create_brand(s, slug=slug, name="Bench")
        service.grant(s, brand.id, 10**9, f"grant:bench:{brand.id}")
        floor_brand = tenancy.create_brand(s, slug=slug + "-f", name="Floor")
        service.grant(s, floor_brand.id, 10**9, f"grant:bench:{floor_brand.id}")
    bid, fid = brand.id, floor_brand.id

    def debit() -> None:
        with db.transaction() as s:
            bind_tenant(s, bid)
            service.debit(s, bid, 1, "ai.chat", f"usage:{uuid.uuid4().hex}", "bench")

    floor_sql = sa.text("UPDATE credit_accounts SET balance = balance - 1 WHERE brand_id = :b")

    def floor() -> None:
        with db.transaction() as s:
            bind_system(s)
            s.execute(floor_sql, {"b": fid})

    for fn in (debit, floor):  # warm up pools and caches
        run(fn, 50, 1)
    print(f"\n{label}: {n} operations per row, one brand (hot row)")
    print(f"{'what':<28}{'conc':>5}{'ops/s':>10}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'p95 vs floor':>14}")
    for threads in (1, 16):
        rows = {}
        for name, fn in (("floor: bare UPDATE", floor), ("credits.debit", debit)):
            ops, lat = run(fn, n, threads)
            rows[name] = (ops, lat)
        f95 = _pct(rows["floor: bare UPDATE"][1], 95)
        fops = rows["floor: bare UPDATE"][0]
        for name, (ops, lat) in rows.items():
            p95 = _pct(lat, 95)
            p50, p99 = statistics.median(lat), _pct(lat, 99)
            print(
                f"{name:<28}{threads:>5}{ops:>10.0f}{p50:>9.2f}{p95:>9.2f}{p99:>9.2f}"
                f"{p95 / f95:>13.2f}x   (throughput {ops / fops:.2f}x floor)"
            )
    with db.transaction(write=False) as s:
        bind_system(s)
        bad = [d for d in service.ledger_differences(s) if d["brand_id"] == bid]
    print(f"ledger consistent for the debited brand: {not bad}")
    db.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--pg", default=os.environ.get("LUNEO_TEST_DATABASE_URL"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        import sqlite3

        label = f"SQLite {sqlite3.sqlite_version} (WAL, BEGIN IMMEDIATE)"
        bench(label, f"sqlite:///{path}", Path(tmp), args.n)
        if args.pg:
            base = sa.engine.make_url(args.pg.replace("postgresql://", "postgresql+psycopg://", 1))
            admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sa.text('drop database if exists "luneo_bench_credits" with (force)'))
                conn.execute(sa.text('create database "luneo_bench_credits"'))
            url = base.set(database="luneo_bench_credits").render_as_string(hide_password=False)
            with admin.connect() as conn:
                version = conn.execute(sa.text("show server_version")).scalar()
            bench(f"PostgreSQL {version}", url, Path(tmp), args.n)
            with admin.connect() as conn:
                conn.execute(sa.text('drop database if exists "luneo_bench_credits" with (force)'))
            admin.dispose()


if __name__ == "__main__":
    main()
