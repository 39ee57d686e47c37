"""Chaos on the production topology as processes (issue 12, item 13).

    .venv/bin/python bench/chaos.py [--quick] [--only worker-once,redis,...] [--production-timings]

Two `luneo serve` and two `luneo worker` processes on a PRIVATE PostgreSQL cluster (initdb in a
temp dir, as the `postgres` user when run as root), a PRIVATE `redis-server` and the moto S3
server, all on free ports (`tests/integration/topology.py`). Faults, one after the other:

- worker-once     kill -9 the worker exporting a pack (once; an orchestrator restarts it)
- worker-every    kill -9 whichever worker runs the export, on every attempt: the work order must
                  end `failed` with its error (never stuck), and `POST …/export` then makes it ready
- redis           kill -9 Redis (no persistence: the queue is lost) for 20 s (--quick: 8 s) while
                  orders are paid; clients keep calling
- postgres        crash PostgreSQL (`pg_ctl -m immediate`) for 15 s (--quick: 6 s) mid-export;
                  clients keep calling
- api-checkout    kill -9 API #1 while checkouts are in flight; clients retry on API #2 with the
                  same `Idempotency-Key`
- webhooks        the same signed `checkout.session.completed` 50 times at once across both APIs

For each: rows lost (a paid item without a `ready` work order, an order not paid) and duplicated
(work orders per item, successful payments per order, confirmation emails per order, export
jobs per pack, beyond one) — both must be 0 — the recovery time (from the end of the fault to the
last pack ready) and every HTTP status (or transport error) clients saw. Exit 1 if any row was
lost or duplicated.

The job runtime is tuned to notice dead workers within seconds (printed at start);
`--production-timings` keeps the defaults (recovery then takes minutes, as configured).
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from tests.integration.topology import (  # noqa: E402
    Api,
    PrivatePostgres,
    PrivateRedis,
    Shop,
    Topology,
    Worker,
    fresh_database,
    topology,
)

FAST_RECOVERY = {
    "LUNEO_JOB_LEASE_S": "6",
    "LUNEO_JOB_LEASE_RENEW_S": "2",
    "LUNEO_JOB_HEARTBEAT_TIMEOUT_S": "5",
    "LUNEO_JOB_PENDING_GRACE_S": "5",
    "LUNEO_JOB_PROCESSING_GRACE_S": "2",
    "LUNEO_JOB_MAINTENANCE_CHANCE": "1000000",
    "LUNEO_JOB_SWEEP_INTERVAL_S": "1",
    "LUNEO_IDEMPOTENCY_LOCK_TIMEOUT_S": "5",
}


def recovery_env(production: bool) -> dict[str, str]:
    """The fast-recovery tuning, limited to the settings this version of Luneo reads."""
    from luneo.platform.config import Settings
    from luneo.platform.jobs import JobSettings

    if production:
        return {}
    known = {f"LUNEO_{f.upper()}" for f in Settings.model_fields}
    known |= {f"LUNEO_JOB_{f.upper()}" for f in JobSettings.model_fields}
    return {k: v for k, v in FAST_RECOVERY.items() if k in known}


# --------------------------------------------------------------------------- measuring


_LABELS = [
    (re.compile(r"/api/v1/orders$"), "order"),
    (re.compile(r"/orders/[^/]+/checkout$"), "checkout"),
    (re.compile(r"/checkout/dev/[^/]+/pay$"), "pay"),
    (re.compile(r"/api/v1/snapshots$"), "snapshot"),
    (re.compile(r"/api/v1/products$"), "products"),
    (re.compile(r"/readyz$"), "readyz"),
    (re.compile(r"/webhooks/stripe$"), "webhook"),
    (re.compile(r"/work-orders/[^/]+/export$"), "export"),
]


class Seen:
    """HTTP statuses (or transport errors) clients saw, counted per kind of request."""

    def __init__(self) -> None:
        self.counts: collections.Counter[tuple[str, str]] = collections.Counter()
        self.lock = threading.Lock()

    def request(self, method: str, url: str, **kw: Any) -> httpx.Response | None:
        path = httpx.URL(url).path
        label = next((name for rx, name in _LABELS if rx.search(path)), path)
        try:
            r = httpx.request(method, url, timeout=kw.pop("timeout", 30), **kw)
        except httpx.HTTPError as exc:
            with self.lock:
                self.counts[(label, type(exc).__name__)] += 1
            return None
        with self.lock:
            self.counts[(label, str(r.status_code))] += 1
        return r

    def __str__(self) -> str:
        by_label: dict[str, list[str]] = {}
        for (label, status), n in sorted(self.counts.items()):
            by_label.setdefault(label, []).append(f"{status}×{n}")
        return "; ".join(f"{label} {' '.join(v)}" for label, v in by_label.items()) or "-"


@dataclass
class Row:
    name: str
    orders: int = 0
    items: int = 0
    lost: int = 0
    duplicated: int = 0
    recovery_s: float | None = None
    seen: Seen = field(default_factory=Seen)
    notes: list[str] = field(default_factory=list)


def audit(topo: Topology, order_ids: list[str]) -> tuple[int, int, int, list[str]]:
    """(items, lost, duplicated, notes) for these orders, read straight from the database."""
    q = {"ids": order_ids}
    notes: list[str] = []
    with topo.engine().connect() as c:
        items = c.execute(sa.text("select id from order_items where order_id = any(:ids)"), q).scalars().all()
        wos = c.execute(
            sa.text("select order_item_id, status from work_orders where order_id = any(:ids)"), q
        ).all()
        paid_orders = c.execute(
            sa.text("select count(*) from orders where id = any(:ids) and status = 'paid'"), q
        ).scalar_one()
        payments = c.execute(
            sa.text(
                "select reference, count(*) from payments where reference = any(:ids) "
                "and status = 'succeeded' group by reference"
            ),
            q,
        ).all()
        emails = c.execute(
            sa.text(
                "select context->>'order_id', count(*) from email_messages where template = "
                "'order_confirmation' and context->>'order_id' = any(:ids) group by 1"
            ),
            q,
        ).all()
        exports = c.execute(
            sa.text(
                "select payload->>'pack_id', count(*) from jobs where actor = 'export_pack' and "
                "status = 'success' and payload->>'pack_id' in "
                "(select pack_id from work_orders where order_id = any(:ids)) "
                "group by 1"
            ),
            q,
        ).all()
    per_item = collections.Counter(w.order_item_id for w in wos)
    ready = {w.order_item_id for w in wos if w.status == "ready"}
    lost = sum(1 for i in items if i not in ready) + (len(order_ids) - paid_orders)
    dup = sum(n - 1 for n in per_item.values() if n > 1)
    for label, rows in (("payments", payments), ("emails", emails), ("successful export jobs", exports)):
        extra = sum(n - 1 for _, n in rows if n > 1)
        if extra:
            notes.append(f"{extra} duplicated {label}")
        dup += extra
    not_ready = collections.Counter(w.status for w in wos if w.status != "ready")
    if not_ready:
        notes.append("not ready: " + ", ".join(f"{s}×{n}" for s, n in not_ready.items()))
    return len(items), lost, dup, notes


def export_jobs(topo: Topology, status: str | None = None) -> list[Any]:
    sql = (
        "select id, status, worker_id, attempts, payload->>'pack_id' as pack_id "
        "from jobs where actor = 'export_pack'"
    )
    with topo.engine().connect() as c:
        rows = c.execute(sa.text(sql + (" and status = :s" if status else "")), {"s": status}).all()
    return list(rows)


def worker_running(topo: Topology, job_worker_id: str | None) -> Worker | None:
    """The worker process whose pid is in a job's `worker_id` (`kind:host:pid:nonce`)."""
    for w in topo.workers:
        if job_worker_id and f":{w.pid}:" in job_worker_id and w.alive():
            return w
    return None


def wait_until(predicate: Callable[[], bool], timeout_s: float, every_s: float = 0.2) -> float | None:
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        try:
            if predicate():
                return time.monotonic() - start
        except Exception:
            pass
        time.sleep(every_s)
    return None


# --------------------------------------------------------------------------- scenarios


class Chaos:
    def __init__(
        self, topo: Topology, pg: PrivatePostgres, redis: PrivateRedis, args: argparse.Namespace
    ) -> None:
        self.topo, self.pg, self.redis, self.args = topo, pg, redis, args
        self.shop = Shop(topo)
        self.api1, self.api2 = topo.apis
        self.product = self.shop.product_id(self.api1)
        self.counter = 0

    def _body(self, row: Row, n: int) -> dict[str, Any] | None:
        """An order body of `n` pendants (snapshots made through API #2 now), or None if a
        snapshot could not be made (an outage)."""
        self.counter += 1
        items = []
        for i in range(n):
            inputs = {"arc_text": {"text": f"N{self.counter}x{i}"}, "initial": {"text": "N"}}
            r = row.seen.request(
                "POST",
                self.api2.base + "/api/v1/snapshots",
                json={"product_id": self.product, "inputs": inputs},
                headers=self.topo.headers(),
            )
            if r is None or r.status_code not in (200, 201):
                return None
            items.append({"product_id": self.product, "quantity": 1, "snapshot_id": r.json()["id"]})
        customer = {"email": f"ada+{self.counter}@example.com", "name": "Ada"}
        return {"items": items, "customer": customer}

    def paid_order(self, row: Row, n: int, api_order: Api, api_pay: Api) -> str | None:
        """Place an order (API `api_order`) and pay it (API `api_pay`); statuses go to `row.seen`."""
        h = self.topo.headers()
        body = self._body(row, n)
        if body is None:
            return None
        r = row.seen.request("POST", api_order.base + "/api/v1/orders", json=body, headers=h)
        if r is None or r.status_code != 201:
            return None
        order_id = str(r.json()["id"])
        body = {"success_url": "https://shop.example/ok", "cancel_url": "https://shop.example/no"}
        co = row.seen.request(
            "POST", f"{api_pay.base}/api/v1/orders/{order_id}/checkout", json=body, headers=h
        )
        if co is not None and co.status_code == 201:
            row.seen.request("POST", f"{api_pay.base}/checkout/dev/{co.json()['session_id']}/pay")
        return order_id

    def settle(self, row: Row, order_ids: list[str], fault_end: float, timeout_s: float) -> None:
        """Wait for every item to be ready, then audit; recovery = fault end → last ready."""

        def done() -> bool:
            _, lost, _, _ = audit(self.topo, order_ids)
            return lost == 0

        took = wait_until(done, timeout_s, every_s=0.5)
        if took is not None:
            row.recovery_s = time.monotonic() - fault_end
        row.orders = len(order_ids)
        row.items, row.lost, row.duplicated, notes = audit(self.topo, order_ids)
        row.notes += notes

    # --- the faults ----------------------------------------------------------------------

    def worker_once(self) -> Row:
        row = Row("kill -9 a worker mid-export (once)")
        order = self.paid_order(row, 3, self.api1, self.api2)
        assert order
        victim: Worker | None = None

        def exporting() -> bool:
            nonlocal victim
            for job in export_jobs(self.topo, "processing"):
                victim = worker_running(self.topo, job.worker_id)
                if victim:
                    return True
            return False

        if wait_until(exporting, 60, every_s=0.02) is None or victim is None:
            row.notes.append("no export seen in progress: killed worker1")
            victim = self.topo.workers[0]
        victim.kill9()
        fault_end = time.monotonic()
        row.notes.append(f"killed {victim.name}")
        victim.start()
        self.settle(row, [order], fault_end, 180)
        return row

    def worker_every(self) -> Row:
        row = Row("kill -9 the worker on every export attempt")
        order = self.paid_order(row, 1, self.api1, self.api2)
        assert order
        paid_at = time.monotonic()
        kills = 0
        budget = 150 if self.args.quick else 600
        deadline = time.monotonic() + budget
        final = None
        while time.monotonic() < deadline:
            wos = self.shop.work_orders(self.api1, order)
            if wos and wos[0]["status"] in ("failed", "ready"):
                final = wos[0]
                break
            for job in export_jobs(self.topo, "processing"):
                victim = worker_running(self.topo, job.worker_id)
                if victim:
                    victim.kill9()
                    kills += 1
                    victim.start()  # restarted at once: its next attempt dies too
            time.sleep(0.05)
        fault_end = time.monotonic()
        if final is None:
            row.notes.append(
                f"after {kills} kills in {budget} s the work order is still exporting (not failed yet)"
            )
            row.lost = 1
            return row
        row.notes.append(
            f"{kills} kills → work order {final['status']} after {time.monotonic() - paid_at:.1f} s: "
            f"{str(final['error'] or '')[:60]!r}"
        )
        if final["status"] == "failed":
            r = row.seen.request(
                "POST",
                f"{self.api2.base}/api/v1/manufacturing/work-orders/{final['id']}/export",
                headers=self.topo.headers(),
            )
            row.notes.append(f"retry via POST …/export: {r.status_code if r is not None else 'error'}")
            fault_end = time.monotonic()
        self.settle(row, [order], fault_end, 180)
        return row

    def _traffic(self, row: Row, stop: threading.Event, orders: list[str]) -> None:
        """Clients during an outage: catalogue reads, readiness probes, new paid orders."""
        h = self.topo.headers()
        while not stop.is_set():
            for api in self.topo.apis:
                row.seen.request("GET", api.base + "/api/v1/products", headers=h, timeout=10)
                row.seen.request("GET", api.base + "/readyz", timeout=10)
            order = self.paid_order(row, 1, self.api1, self.api2)
            if order:
                orders.append(order)
            stop.wait(0.5)

    def redis_outage(self) -> Row:
        seconds = 8.0 if self.args.quick else 20.0
        row = Row(f"Redis killed for {seconds:.0f} s (queue lost)")
        orders = [o for o in (self.paid_order(row, 2, self.api1, self.api2),) if o]
        self.redis.kill9()
        stop = threading.Event()
        t = threading.Thread(target=self._traffic, args=(row, stop, orders))
        t.start()
        time.sleep(seconds)
        self.redis.start()
        fault_end = time.monotonic()
        stop.set()
        t.join()
        self.settle(row, orders, fault_end, 240)
        return row

    def postgres_outage(self) -> Row:
        seconds = 6.0 if self.args.quick else 15.0
        row = Row(f"PostgreSQL down {seconds:.0f} s mid-export")
        orders = [o for o in (self.paid_order(row, 3, self.api1, self.api2),) if o]
        wait_until(lambda: bool(export_jobs(self.topo, "processing")), 30, every_s=0.02)
        self.pg.crash()
        stop = threading.Event()
        t = threading.Thread(target=self._traffic, args=(row, stop, orders))
        t.start()
        time.sleep(seconds)
        self.pg.start()
        fault_end = time.monotonic()
        stop.set()
        t.join()
        self.settle(row, orders, fault_end, 240)
        return row

    def api_checkout(self) -> Row:
        row = Row("kill -9 API #1 mid-checkout")
        h = self.topo.headers()
        orders = []
        for _ in range(6):
            r = row.seen.request(
                "POST", self.api2.base + "/api/v1/orders", json=self._body(row, 1), headers=h
            )
            assert r is not None and r.status_code == 201, r and r.text
            orders.append(str(r.json()["id"]))
        body = {"success_url": "https://shop.example/ok", "cancel_url": "https://shop.example/no"}
        started = threading.Barrier(len(orders) + 1)

        def buy(order_id: str) -> None:
            key = {"Idempotency-Key": f"checkout-{order_id}", **h}
            started.wait()
            apis = [self.api1, self.api2]
            for attempt in range(40):  # the client's retry loop: same key, next API on a dead one
                api = apis[0] if attempt == 0 else apis[1]
                co = row.seen.request(
                    "POST", f"{api.base}/api/v1/orders/{order_id}/checkout", json=body, headers=key
                )
                if co is not None and co.status_code == 201:
                    paid = row.seen.request(
                        "POST", f"{self.api2.base}/checkout/dev/{co.json()['session_id']}/pay"
                    )
                    if paid is not None and paid.status_code in (303, 409):
                        return
                time.sleep(0.5)

        with ThreadPoolExecutor(len(orders)) as pool:
            futures = [pool.submit(buy, o) for o in orders]
            started.wait()
            time.sleep(0.05)  # the checkouts are in flight on API #1
            self.api1.kill9()
            fault_end = time.monotonic()
            for f in futures:
                f.result()
        self.settle(row, orders, fault_end, 180)  # API #2 alone carries the orders to ready
        self.api1.start()
        self.api1.wait_healthy()
        row.notes.append(f"API #1 restarted, healthy after {time.monotonic() - fault_end:.1f} s")
        return row

    def payment_session(self, session_id: str) -> Any:
        """The dev checkout's row, loaded through Luneo's own models (system scope)."""
        from luneo.payments.models import PaymentSession
        from luneo.platform.config import Settings
        from luneo.platform.database import Database
        from luneo.platform.tenancy import bind_system

        db = Database(Settings(database_url=self.topo.database_url, database_role=""))
        try:
            with db.transaction(write=False) as s:
                bind_system(s)
                row = s.get(PaymentSession, session_id)
                s.expunge(row)
                return row
        finally:
            db.engine.dispose()

    def webhooks(self) -> Row:
        from luneo.payments.providers.dev import checkout_session_object, stripe_event
        from luneo.payments.signatures import sign_header
        from luneo.platform.config import DEFAULT_DEV_WEBHOOK_SECRET

        row = Row("50 duplicate webhooks across 2 APIs")
        h = self.topo.headers()
        r = row.seen.request("POST", self.api1.base + "/api/v1/orders", json=self._body(row, 2), headers=h)
        assert r is not None and r.status_code == 201
        order = str(r.json()["id"])
        co = row.seen.request(
            "POST",
            f"{self.api1.base}/api/v1/orders/{order}/checkout",
            json={"success_url": "https://shop.example/ok", "cancel_url": "https://shop.example/no"},
            headers=h,
        )
        assert co is not None and co.status_code == 201
        session = self.payment_session(co.json()["session_id"])
        body = json.dumps(
            stripe_event("checkout.session.completed", checkout_session_object(session, "paid"))
        ).encode()
        headers = {
            "Stripe-Signature": sign_header(DEFAULT_DEV_WEBHOOK_SECRET, body),
            "Content-Type": "application/json",
        }
        gate = threading.Barrier(50)
        outcomes: collections.Counter[str] = collections.Counter()

        def deliver(i: int) -> None:
            gate.wait()
            api = self.topo.apis[i % 2]
            got = row.seen.request(
                "POST", api.base + "/api/v1/webhooks/stripe", content=body, headers=headers
            )
            if got is not None and got.status_code == 200:
                outcomes[str(got.json().get("status"))] += 1

        with ThreadPoolExecutor(50) as pool:
            list(pool.map(deliver, range(50)))
        fault_end = time.monotonic()
        row.notes.append("acks: " + " ".join(f"{k}×{v}" for k, v in sorted(outcomes.items())))
        if outcomes.get("processed", 0) != 1:
            row.duplicated += max(0, outcomes.get("processed", 0) - 1)
        self.settle(row, [order], fault_end, 120)
        return row


SCENARIOS: dict[str, Callable[[Chaos], Row]] = {
    "worker-once": Chaos.worker_once,
    "worker-every": Chaos.worker_every,
    "redis": Chaos.redis_outage,
    "postgres": Chaos.postgres_outage,
    "api-checkout": Chaos.api_checkout,
    "webhooks": Chaos.webhooks,
}


def print_table(rows: list[Row]) -> None:
    head = ["fault", "orders/items", "lost", "dup", "recovery", "statuses clients saw"]
    lines = [
        [
            r.name,
            f"{r.orders}/{r.items}",
            str(r.lost),
            str(r.duplicated),
            f"{r.recovery_s:.1f} s" if r.recovery_s is not None else "never",
            str(r.seen),
        ]
        for r in rows
    ]
    widths = [max(len(x) for x in col) for col in zip(head, *lines, strict=False)]
    fmt = " | ".join(f"{{:<{w}}}" for w in widths)
    print(fmt.format(*head))
    print("-+-".join("-" * w for w in widths))
    for r, line in zip(rows, lines, strict=True):
        print(fmt.format(*line))
        for note in r.notes:
            print(" " * (widths[0] + 3) + "· " + note)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="shorter outages (Redis 8 s, PostgreSQL 6 s)")
    parser.add_argument("--only", default="", help=f"comma-separated subset of {', '.join(SCENARIOS)}")
    parser.add_argument("--production-timings", action="store_true", help="keep the job runtime's defaults")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs) afterwards")
    args = parser.parse_args()
    chosen = [s.strip() for s in args.only.split(",") if s.strip()] or list(SCENARIOS)
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    workdir = Path(tempfile.mkdtemp(prefix="luneo-chaos-"))
    tuning = recovery_env(args.production_timings)
    print(f"work dir {workdir} (logs/); job tuning: {tuning or 'production defaults'}", flush=True)
    redis = PrivateRedis(workdir / "redis").start()
    pg = PrivatePostgres().start()
    rows: list[Row] = []
    try:
        url = fresh_database(pg.url, "luneo_chaos")
        started = time.monotonic()
        with topology(workdir, database_url=url, redis_url=redis.url, extra_env=tuning) as topo:
            print(
                f"topology up in {time.monotonic() - started:.0f} s: {len(topo.apis)} APIs, "
                f"{len(topo.workers)} workers",
                flush=True,
            )
            chaos = Chaos(topo, pg, redis, args)
            for name in chosen:
                t0 = time.monotonic()
                try:
                    row = SCENARIOS[name](chaos)
                except Exception as exc:  # a broken scenario is reported, the others still run
                    row = Row(name, lost=-1)
                    row.notes.append(f"scenario error: {type(exc).__name__}: {str(exc)[:300]}")
                rows.append(row)
                print(f"  {name}: done in {time.monotonic() - t0:.0f} s", flush=True)
                for w in topo.workers:  # the next fault starts from a full topology
                    if not w.alive():
                        w.start()
    finally:
        redis.stop()
        pg.stop()
        if not args.keep:
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)
    print()
    print_table(rows)
    bad = [r for r in rows if r.lost != 0 or r.duplicated != 0]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
