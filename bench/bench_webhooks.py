"""Outgoing webhooks (issue 17, "Done means"), in one process on SQLite + the embedded job runtime.

    .venv/bin/python bench/bench_webhooks.py [--events 200] [--latency-events 100] [--threads 2]

A local receiver (threaded `http.server` on 127.0.0.1, answers 200) and one endpoint subscribed to
`order.created`; `LUNEO_WEBHOOKS_ALLOW_PRIVATE=true` (local development) so it may be loopback.

(a) Throughput: `--events` orders are committed in one transaction (each writes its event and
    delivery there), then the in-process runtime (`--threads` worker threads) delivers them:
    deliveries/s from the commit to the last request received — signed with `standardwebhooks`,
    through the SSRF guard (resolve + pinned connection), each attempt logged. Baseline: a bare
    `http.client` POST loop of the same bodies to the same receiver, same threads, this process.
(b) Delay: with the runtime running, `--latency-events` orders are committed one after another
    (a short pause between them); for each, the time from the commit of the change to the first
    delivery attempt reaching the receiver. Baseline: the time of one bare POST (p50/p95/p99).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "src")]
_DATA = tempfile.mkdtemp(prefix="luneo-bench-webhooks-")
os.environ.update(
    {
        "LUNEO_DATA_DIR": _DATA,
        "LUNEO_LOG_LEVEL": "WARNING",
        "LUNEO_WEBHOOKS_ALLOW_PRIVATE": "true",
        "LUNEO_RUN_WORKER_IN_PROCESS": "true",
    }
)
for _var in ("LUNEO_DATABASE_URL", "LUNEO_STORAGE_URL", "LUNEO_REDIS_URL", "LUNEO_BROKER_URL"):
    os.environ.pop(_var, None)

import sqlalchemy as sa  # noqa: E402
from _stats import line, percentiles  # noqa: E402

import luneo.models  # noqa: E402  (all tables and event subscribers)
from luneo.catalog.models import Product  # noqa: E402
from luneo.catalog.seed import seed_demo  # noqa: E402
from luneo.commerce import public as commerce  # noqa: E402
from luneo.designs import service as designs  # noqa: E402
from luneo.domains import load_domain_modules  # noqa: E402
from luneo.platform import jobs, migrate  # noqa: E402
from luneo.platform.config import get_settings  # noqa: E402
from luneo.platform.database import get_db  # noqa: E402
from luneo.platform.logging import configure_logging  # noqa: E402
from luneo.platform.tenancy import bind_system, bind_tenant  # noqa: E402
from luneo.tenancy import service as tenancy  # noqa: E402
from luneo.webhooks import service as webhooks  # noqa: E402
from luneo.webhooks.models import WebhookDelivery  # noqa: E402


class Receiver:
    """Records when each event arrives (by order id)."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.count = 0
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.expect = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                now = time.perf_counter()
                try:
                    key = json.loads(body)["data"]["order_id"]
                except (ValueError, KeyError, TypeError):
                    key = None
                with receiver.lock:
                    receiver.count += 1
                    if key is not None:
                        receiver.arrived.setdefault(key, now)
                    if receiver.expect and receiver.count >= receiver.expect:
                        receiver.done.set()
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def reset(self, expect: int) -> None:
        with self.lock:
            self.arrived.clear()
            self.count = 0
            self.expect = expect
            self.done.clear()


def setup(url: str) -> tuple[str, str, str]:
    migrate.upgrade()
    load_domain_modules()
    settings = get_settings()
    with get_db().transaction() as s:
        bind_system(s)
        brand = tenancy.create_brand(s, slug="bench-webhooks", name="Bench")
        bind_tenant(s, brand.id)
        seed_demo(s, brand)
        pid = s.execute(sa.select(Product.id).where(Product.sku == "DEMO-PENDANT")).scalar_one()
        spec_row, _ = designs.create_spec(s, pid, {"arc_text": {"text": "Emma"}, "initial": {"text": "E"}})
        snap, _ = designs.create_snapshot(s, spec_row=spec_row, actor="bench", provenance={})
        webhooks.create_endpoint(s, settings, brand_id=brand.id, url=url, event_types=["order.created"])
        return brand.id, pid, snap.id


def create_order(brand_id: str, pid: str, snap_id: str) -> tuple[str, float]:
    """Commit one order (its event and delivery ride in the same transaction); (id, commit time)."""
    with get_db().transaction() as s:
        bind_tenant(s, brand_id)
        order = commerce.create_order(
            s,
            brand_id,
            [commerce.LineRequest(product_id=pid, quantity=1, snapshot_id=snap_id)],
            commerce.Customer(email="bench@example.com"),
        )
        order_id = order.id
    return order_id, time.perf_counter()


def baseline_posts(port: int, bodies: list[bytes], threads: int) -> tuple[float, list[float]]:
    """Bare POSTs (new connection each, as a delivery makes): (posts/s, per-POST seconds)."""
    times: list[float] = []
    lock = threading.Lock()

    def one(body: bytes) -> None:
        t = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("POST", "/hooks", body=body, headers={"Content-Type": "application/json"})
        conn.getresponse().read(65536)
        conn.close()
        with lock:
            times.append(time.perf_counter() - t)

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, bodies))
    return len(bodies) / (time.perf_counter() - start), times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=200)
    ap.add_argument("--latency-events", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--pause-ms", type=float, default=20.0)
    args = ap.parse_args()
    os.environ["LUNEO_WORKER_THREADS"] = str(args.threads)
    get_settings.cache_clear()
    configure_logging("WARNING", json_logs=False)
    receiver = Receiver()
    url = f"http://127.0.0.1:{receiver.port}/hooks"
    brand_id, pid, snap_id = setup(url)
    db = get_db()

    # (a) throughput: a backlog of deliveries committed at once, then the runtime drains it
    jobs.start_in_process_runtime(db)
    create_order(brand_id, pid, snap_id)  # warm-up (code paths, connections)
    receiver.reset(1)
    receiver.done.wait(timeout=30)
    receiver.reset(args.events)
    with db.transaction() as s:
        bind_tenant(s, brand_id)
        for _ in range(args.events):
            commerce.create_order(
                s,
                brand_id,
                [commerce.LineRequest(product_id=pid, quantity=1, snapshot_id=snap_id)],
                commerce.Customer(email="bench@example.com"),
            )
    start = time.perf_counter()  # the commit dispatches every delivery job
    finished = receiver.done.wait(timeout=600)
    elapsed = time.perf_counter() - start
    rate = receiver.count / elapsed
    with db.transaction(write=False) as s:
        bind_tenant(s, brand_id)
        sample = s.execute(sa.select(WebhookDelivery).limit(1)).scalar_one()
        body = json.dumps(s.get(luneo.webhooks.models.WebhookEvent, sample.event_id).payload).encode()
    base_rate, base_times = baseline_posts(receiver.port, [body] * args.events, args.threads)
    print(f"== webhooks throughput ({args.events} deliveries, {args.threads} worker threads, SQLite)")
    print(f"   Luneo deliveries      {rate:10.1f} /s  (all received: {finished})")
    print(f"   bare POST loop        {base_rate:10.1f} /s  (same receiver, same threads)")
    print(f"   ratio                 {base_rate / rate:10.2f} ×")

    # (b) delay from the committed change to the first delivery attempt received
    receiver.reset(args.latency_events)
    commits: dict[str, float] = {}
    for _ in range(args.latency_events):
        order_id, t = create_order(brand_id, pid, snap_id)
        commits[order_id] = t
        time.sleep(args.pause_ms / 1000)
    receiver.done.wait(timeout=120)
    jobs.stop_in_process_runtime()
    delays = [receiver.arrived[o] - t for o, t in commits.items() if o in receiver.arrived]
    print(f"== change → first delivery attempt ({len(delays)}/{len(commits)} received)")
    print(line("   Luneo (commit → request received)", percentiles(delays)))
    print(line("   baseline: one bare POST", percentiles(base_times)))


if __name__ == "__main__":
    main()
