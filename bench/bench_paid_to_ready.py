"""Paid order → last ready pack for a 10-item order (issue 12, "Measure"), through the public HTTP
API, in the two ways Luneo runs:

- embedded: one `luneo serve --seed` with in-process jobs on SQLite + local files (`make run`);
- scale-out: PostgreSQL + Redis + the moto S3 server, two `luneo serve` and two `luneo worker`
  processes (`tests/integration/topology.py`), with the Redis broker and — `rabbitmq` mode — with
  RabbitMQ as the job broker (`LUNEO_BROKER_URL`, a private queue deleted afterwards; the mode
  is reported SKIPPED when nothing listens at `--amqp-url`).

Per mode, untimed: upload one 1600×1600 JPEG photo, then for every order 10 snapshots of demo
products (7 text-only: pendant, sign, card; 3 with the photo: 2 mugs, a phone case), the
secret key's cart of them and its dev-provider checkout. Timed, one order at a time (latency, not a backlog):
the dev provider's Pay button (`POST /checkout/dev/{session}/pay`); from its response, the
order's work orders are polled every 50 ms until all 10 are `ready` (first ready pack and last).
A work order that ends `failed`, `needs_attention`, `needs_review` or `cancelled`, or an order not
ready within `--timeout`, counts as a failed order. The first `--warmup` orders per mode are not
counted (fonts and code paths warm up).

Baseline, in this process: the same 10 items exported one after the other by
`manufacturing.export.export_spec` (as `bench/bench_export.py` does) on a temporary SQLite
database, once right after each timed order (so under the same machine load, never alongside
it); the ratio paid→ready / baseline (p50) is what payment handling, job dispatch and queueing
add to the export work itself, minus what parallel job threads and workers win back.

Run: .venv/bin/python bench/bench_paid_to_ready.py [--orders 10] [--modes embedded,redis,rabbitmq]
PostgreSQL: `--pg-url` (default `LUNEO_TEST_DATABASE_URL`; database `luneo_bench_paid_to_ready`
is recreated); Redis: `--redis-url`; RabbitMQ: `--amqp-url`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "src")]
# The in-process baseline's settings; the servers' environments never inherit LUNEO_* variables.
_BASELINE_DIR = tempfile.mkdtemp(prefix="luneo-bench-p2r-")
os.environ["LUNEO_DATA_DIR"] = _BASELINE_DIR
os.environ["LUNEO_LOG_LEVEL"] = "WARNING"
for _var in ("LUNEO_DATABASE_URL", "LUNEO_STORAGE_URL", "LUNEO_REDIS_URL", "LUNEO_BROKER_URL"):
    os.environ.pop(_var, None)

import httpx  # noqa: E402
from _design_fixtures import photo_jpeg  # noqa: E402
from _stats import percentiles  # noqa: E402
from tests.integration.topology import (  # noqa: E402
    BASE_ENV,
    Api,
    fresh_database,
    luneo_argv,
    topology,
)

# (sku, text inputs, with the photo): 7 text-only items and 3 with a photo.
ITEMS: list[tuple[str, dict[str, str], bool]] = [
    ("DEMO-PENDANT", {"arc_text": "Emma", "initial": "E"}, False),
    ("DEMO-MUG", {"name": "Lucas"}, True),
    ("DEMO-SIGN", {"title": "Bonjour"}, False),
    ("DEMO-CARD", {"name": "Marie"}, False),
    ("DEMO-PHONE", {"initials": "AB"}, True),
    ("DEMO-PENDANT", {"arc_text": "Zoé", "initial": "Z"}, False),
    ("DEMO-SIGN", {"title": "Merci"}, False),
    ("DEMO-MUG", {"name": "Salut"}, True),
    ("DEMO-CARD", {"name": "Inès"}, False),
    ("DEMO-PENDANT", {"arc_text": "Louise", "initial": "L"}, False),
]
PHOTO = photo_jpeg(1600, 1600)
NOT_READY_END = {"failed", "needs_attention", "needs_review", "cancelled"}
POLL_S = 0.05
DB_NAME = "luneo_bench_paid_to_ready"


def inputs_for(texts: dict[str, str], photo_asset: str | None) -> dict[str, Any]:
    inputs: dict[str, Any] = {zone: {"text": text} for zone, text in texts.items()}
    if photo_asset is not None:
        inputs["photo"] = {"asset_id": photo_asset}
    return inputs


# --------------------------------------------------------------------------- baseline


class Baseline:
    """The 10 items exported in this process, one after the other, on a temporary SQLite database."""

    def __init__(self) -> None:
        self.brand_id, self.specs = _baseline_specs()

    def run_once(self) -> float:
        """Seconds to export the 10 items once."""
        from luneo.designs.resources import BrandResources
        from luneo.manufacturing.export import PackOptions, export_spec
        from luneo.platform.database import get_db
        from luneo.platform.tenancy import bind_tenant

        t0 = time.perf_counter()
        with get_db().transaction(write=False) as s:
            bind_tenant(s, self.brand_id)
            res = BrandResources(s)
            for i, (sid, spec, spec_hash) in enumerate(self.specs):
                opts = PackOptions(order_id="ord_bench", order_item_id=f"item{i:02d}")
                export_spec(spec, spec_hash, res, opts, {"snapshot_id": sid})
        return time.perf_counter() - t0


def _baseline_specs() -> tuple[str, list[tuple[str, dict[str, Any], str]]]:
    """Migrate, seed the demo catalog, store the photo and snapshot the 10 items → (brand, specs)."""
    from sqlalchemy import select

    from luneo.app import load_domain_modules
    from luneo.catalog import service as catalog
    from luneo.catalog.models import Product
    from luneo.catalog.seed import seed_demo
    from luneo.designs import service as designs
    from luneo.platform import migrate
    from luneo.platform.database import get_db
    from luneo.platform.logging import configure_logging
    from luneo.platform.tenancy import bind_system, bind_tenant
    from luneo.tenancy import service as tenancy

    configure_logging("WARNING", json_logs=False)
    load_domain_modules()
    migrate.upgrade()
    specs: list[tuple[str, dict[str, Any], str]] = []
    with get_db().transaction() as s:
        bind_system(s)
        brand = tenancy.create_brand(s, slug="bench", name="Bench")
        bind_tenant(s, brand.id)
        seed_demo(s, brand)
        asset = catalog.create_asset(s, PHOTO, filename="photo.jpg")
        products = {sku: pid for sku, pid in s.execute(select(Product.sku, Product.id))}
        for sku, texts, photo in ITEMS:
            row, _ = designs.create_spec(s, products[sku], inputs_for(texts, asset.id if photo else None))
            snap, _ = designs.create_snapshot(s, spec_row=row, actor="bench", provenance={"source": "bench"})
            specs.append((snap.id, dict(snap.spec), snap.spec_hash))
        return brand.id, specs


# --------------------------------------------------------------------------- the shopper


@dataclass
class Timed:
    first_s: float | None = None
    last_s: float | None = None
    failed: str | None = None


@dataclass
class Storefront:
    """Orders through the public API with the brand's secret key (its own cart, one order at a time)."""

    bases: list[str]
    secret_key: str
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=60))
    products: dict[str, str] = field(default_factory=dict)
    photo: str = ""

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret_key}"}

    def call(self, i: int, method: str, path: str, expect: tuple[int, ...], **kw: Any) -> Any:
        kw.setdefault("headers", self.headers())
        r = self.client.request(method, self.bases[i % len(self.bases)] + path, **kw)
        assert r.status_code in expect, f"{method} {path}: {r.status_code} {r.text[:500]}"
        return r.json() if r.content else None

    def setup(self) -> None:
        page = self.call(0, "GET", "/api/v1/products", (200,), params={"limit": 100})
        self.products = {p["sku"]: p["id"] for p in page["data"]}
        files = {"file": ("photo.jpg", PHOTO, "image/jpeg")}
        self.photo = self.call(0, "POST", "/api/v1/assets", (200, 201), files=files)["id"]

    def checkout(self, n: int) -> tuple[str, str]:
        """A cart of the 10 items and its dev checkout, through alternating APIs → (order, session)."""
        for i, (sku, texts, photo) in enumerate(ITEMS):
            inputs = inputs_for(texts, self.photo if photo else None)
            body = {"product_id": self.products[sku], "inputs": inputs}
            snap = self.call(n + i, "POST", "/api/v1/snapshots", (200, 201), json=body)
            line = {"product_id": self.products[sku], "quantity": 1, "snapshot_id": snap["id"]}
            self.call(n + i, "POST", "/api/v1/cart/add", (201,), json=line)
        body = {
            "customer": {"email": f"ada+{n}@example.com", "name": "Ada"},
            "provider": "dev",
            "success_url": "https://shop.example/thanks",
            "cancel_url": "https://shop.example/cart",
        }
        co = self.call(n, "POST", "/api/v1/cart/checkout", (201,), json=body)
        return str(co["order_id"]), str(co["session_id"])

    def pay_and_wait(self, n: int, order_id: str, session_id: str, timeout_s: float) -> Timed:
        """Pay through API n+1 (the other one when there are two); poll API n until 10 packs are ready."""
        paid = self.client.post(f"{self.bases[(n + 1) % len(self.bases)]}/checkout/dev/{session_id}/pay")
        t0 = time.perf_counter()
        assert paid.status_code == 303, f"pay: {paid.status_code} {paid.text[:300]}"
        timed = Timed()
        statuses: list[str] = []
        while time.perf_counter() - t0 < timeout_s:
            page = self.call(
                n, "GET", "/api/v1/manufacturing/work-orders", (200,), params={"order_id": order_id}
            )
            statuses = [w["status"] for w in page["data"]]
            now = time.perf_counter() - t0
            if timed.first_s is None and "ready" in statuses:
                timed.first_s = now
            if len(statuses) == len(ITEMS) and set(statuses) == {"ready"}:
                timed.last_s = now
                return timed
            ended = [s for s in statuses if s in NOT_READY_END]
            if ended:
                timed.failed = f"{order_id}: work orders {sorted(statuses)}"
                return timed
            time.sleep(POLL_S)
        timed.failed = f"{order_id}: not ready after {timeout_s:.0f} s: {sorted(statuses)}"
        return timed


@dataclass
class ModeResult:
    name: str
    first: list[float] = field(default_factory=list)
    last: list[float] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    base: list[float] = field(default_factory=list)
    note: str = ""


def run_orders(
    name: str, shop: Storefront, args: argparse.Namespace, note: str, base: Baseline
) -> ModeResult:
    """The orders one at a time; after each timed one, a baseline export (same machine load)."""
    result = ModeResult(name, note=note)
    shop.setup()
    total = args.warmup + args.orders
    carts = [shop.checkout(n) for n in range(total)]
    for n, (order_id, session_id) in enumerate(carts):
        timed = shop.pay_and_wait(n, order_id, session_id, args.timeout)
        if n < args.warmup:
            if timed.failed:
                result.failed.append("warm-up " + timed.failed)
            continue
        if timed.failed or timed.last_s is None or timed.first_s is None:
            result.failed.append(timed.failed or order_id)
            continue
        result.first.append(timed.first_s)
        result.last.append(timed.last_s)
        result.base.append(base.run_once())
    print(f"  {name}: {len(result.last)} orders timed, {len(result.failed)} failed", flush=True)
    return result


# --------------------------------------------------------------------------- the modes


class EmbeddedApi(Api):
    """`luneo serve --seed` as `make run` starts it: migrates, seeds, runs jobs in-process."""

    def __init__(self, name: str, env: dict[str, str], logs: Path, cwd: Path) -> None:
        super().__init__(name, env, logs, cwd)
        self.argv = luneo_argv("serve", "--seed", "--host", "127.0.0.1", "--port", str(self.port))


def embedded_mode(workdir: Path, args: argparse.Namespace, base: Baseline) -> ModeResult:
    workdir.mkdir(parents=True)
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("LUNEO_")}
    env = {
        **inherited,
        **BASE_ENV,
        "LUNEO_ENV": "development",
        "LUNEO_RUN_WORKER_IN_PROCESS": "true",
        "LUNEO_LOG_LEVEL": "WARNING",
        "LUNEO_DATA_DIR": str(workdir / "var"),
    }
    api = EmbeddedApi("embedded", env, workdir, workdir).start()
    try:
        api.wait_healthy()
        creds = json.loads((workdir / "var" / "demo-credentials.json").read_text())
        shop = Storefront([api.base], creds["secret_key"])
        note = "1 `luneo serve`, in-process jobs, SQLite + local files"
        return run_orders("embedded", shop, args, note, base)
    except Exception:
        print(api.tail(), file=sys.stderr)
        raise
    finally:
        api.stop()


def _delete_rabbitmq_queues(amqp_url: str, queue: str) -> None:
    """Remove the private queue (and Dramatiq's delay / dead-letter queues) from RabbitMQ."""
    import pika

    with contextlib.suppress(Exception):
        conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
        try:
            channel = conn.channel()
            for name in (queue, f"{queue}.DQ", f"{queue}.XQ"):
                channel.queue_delete(queue=name)
        finally:
            conn.close()


def _reachable(url: str) -> bool:
    """Whether something listens at the URL's host and port."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5672), timeout=2):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def _broker_env(broker: str, amqp_url: str) -> Iterator[dict[str, str]]:
    if broker != "rabbitmq":
        yield {}
        return
    queue = f"luneo_bench_{secrets.token_hex(4)}"
    try:
        yield {"LUNEO_BROKER_URL": amqp_url, "LUNEO_JOB_QUEUE_NAME": queue}
    finally:
        _delete_rabbitmq_queues(amqp_url, queue)


def scale_out_mode(workdir: Path, args: argparse.Namespace, broker: str, base: Baseline) -> ModeResult:
    url = fresh_database(args.pg_url, DB_NAME)
    try:
        with (
            _broker_env(broker, args.amqp_url) as extra,
            topology(workdir, database_url=url, redis_url=args.redis_url, extra_env=extra) as topo,
        ):
            shop = Storefront([api.base for api in topo.apis], str(topo.demo["secret_key"]))
            note = f"PostgreSQL + Redis + moto S3, 2 APIs + 2 workers × 2 threads, broker {broker}"
            try:
                return run_orders(f"scale-out ({broker})", shop, args, note, base)
            except Exception:
                print(topo.logs(), file=sys.stderr)
                raise
    finally:
        fresh_database(args.pg_url, DB_NAME, create=False)


# --------------------------------------------------------------------------- report


def fmt_ms(st: dict[str, float]) -> str:
    return f"p50 {st['p50']:8.0f} ms  p95 {st['p95']:8.0f} ms  p99 {st['p99']:8.0f} ms"


def report(results: list[ModeResult], args: argparse.Namespace) -> int:
    print()
    print(
        f"10-item order ({', '.join(sku.removeprefix('DEMO-').lower() for sku, _, _ in ITEMS)}; "
        f"3 with a 1600×1600 photo); {args.orders} orders per mode after {args.warmup} warm-up, "
        f"one at a time; poll every {POLL_S * 1000:.0f} ms"
    )
    failed = 0
    for r in results:
        print(f"{r.name} — {r.note}")
        last, first = percentiles(r.last), percentiles(r.first)
        base_st = percentiles(r.base)
        ratio = last["p50"] / base_st["p50"] if base_st["p50"] else 0.0
        print(f"  {'paid → last pack ready':<38} {fmt_ms(last)}  ×{ratio:.2f} baseline (p50)")
        print(f"  {'paid → first pack ready':<38} {fmt_ms(first)}")
        print(f"  {'baseline: in-process export, 10 items':<38} {fmt_ms(base_st)}  (after each order)")
        print(f"  orders whose packs failed: {len(r.failed)}")
        for why in r.failed:
            print(f"    · {why[:300]}")
        failed += len(r.failed)
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=10, help="timed orders per mode (default 10)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed orders first, per mode (default 1)")
    parser.add_argument(
        "--modes", default="embedded,redis,rabbitmq", help="subset of embedded,redis,rabbitmq"
    )
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds per order before it counts failed"
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("LUNEO_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("LUNEO_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    )
    parser.add_argument(
        "--amqp-url", default=os.environ.get("LUNEO_BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory (server logs)")
    args = parser.parse_args()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = set(modes) - {"embedded", "redis", "rabbitmq"}
    if unknown:
        parser.error(f"unknown mode(s): {', '.join(sorted(unknown))}")
    workdir = Path(tempfile.mkdtemp(prefix="luneo-bench-p2r-work-"))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"work dir {workdir}; cpus {sorted(os.sched_getaffinity(0))}; load average {load}", flush=True)
    try:
        base = Baseline()
        base.run_once()  # warm-up: fonts, glyph outlines, code paths
        results = []
        for mode in modes:
            if mode == "rabbitmq" and not _reachable(args.amqp_url):
                print(f"  rabbitmq: SKIPPED, no RabbitMQ at {args.amqp_url.split('@')[-1]}", flush=True)
                continue
            started = time.monotonic()
            if mode == "embedded":
                results.append(embedded_mode(workdir / mode, args, base))
            else:
                results.append(scale_out_mode(workdir / mode, args, mode, base))
            print(f"  {mode}: {time.monotonic() - started:.0f} s in all", flush=True)
        return report(results, args)
    finally:
        shutil.rmtree(_BASELINE_DIR, ignore_errors=True)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
