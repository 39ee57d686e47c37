"""Shopify webhooks and orders (issue 15, "Measure"), in one process on SQLite + local files.

    .venv/bin/python bench/bench_shopify.py [--rounds 4] [--concurrency 50] [--runs 3]

(a) Webhook answer time: `--rounds` bursts of `--concurrency` concurrent, HMAC-signed `orders/paid`
    deliveries (Shopify's documented payload shape, 5 personalized lines, each a new event id) to
    the ASGI app through httpx's `ASGITransport` — verify the HMAC on the raw body, dedupe on
    `X-Shopify-Event-Id`, record, enqueue; the work itself is a job, not run here. Baseline: the
    same bursts of bare `GET /healthz` in the same process. Shopify's limit is 5 s.
(b) `orders/paid` → ready packs for a 5-item order (text designs: pendant, sign, card ×…): from the
    signed delivery to every work order `ready`, the jobs run in-process (the webhook job, then the
    `export_pack` jobs on 2 threads, as the embedded runtime does). `--runs` timed runs after one
    warm-up (fonts, code paths).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "src")]
_DATA = tempfile.mkdtemp(prefix="luneo-bench-shopify-")
os.environ.update(
    {
        "LUNEO_DATA_DIR": _DATA,
        "LUNEO_LOG_LEVEL": "WARNING",
        "LUNEO_SHOPIFY_API_KEY": "bench-client-id",
        "LUNEO_SHOPIFY_API_SECRET": "bench-client-secret-0123456789abcdef",
        "LUNEO_RATE_LIMIT_IP": "1000000/minute",
        "LUNEO_RATE_LIMIT_KEY": "1000000/minute",
    }
)
for _var in ("LUNEO_DATABASE_URL", "LUNEO_STORAGE_URL", "LUNEO_REDIS_URL", "LUNEO_BROKER_URL"):
    os.environ.pop(_var, None)

import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from _stats import line, percentiles  # noqa: E402
from shopify_app import TokenExchangeAccessToken  # noqa: E402

import luneo.models  # noqa: E402, F401  (all tables and event subscribers)
from luneo.catalog.models import Product  # noqa: E402
from luneo.catalog.seed import seed_demo  # noqa: E402
from luneo.commerce import public as commerce  # noqa: E402
from luneo.designs import service as designs  # noqa: E402
from luneo.integrations.shopify import service as shopify  # noqa: E402
from luneo.manufacturing.models import WorkOrder  # noqa: E402
from luneo.platform import jobs, migrate  # noqa: E402
from luneo.platform.config import get_settings  # noqa: E402
from luneo.platform.database import get_db  # noqa: E402
from luneo.platform.models import Job  # noqa: E402
from luneo.platform.tenancy import bind_system, bind_tenant  # noqa: E402
from luneo.tenancy import service as tenancy  # noqa: E402

SHOP = "bench-store.myshopify.com"
SECRET = os.environ["LUNEO_SHOPIFY_API_SECRET"]
ITEMS = [
    ("DEMO-PENDANT", {"arc_text": {"text": "Emma"}, "initial": {"text": "E"}}),
    ("DEMO-SIGN", {"title": {"text": "Bonjour"}}),
    ("DEMO-CARD", {"name": {"text": "Marie"}}),
    ("DEMO-PENDANT", {"arc_text": {"text": "Zoé"}, "initial": {"text": "Z"}}),
    ("DEMO-SIGN", {"title": {"text": "Merci"}}),
]
_ids = itertools.count(5_000_000_000_000)


def setup() -> tuple[str, list[dict[str, Any]], str]:
    """A brand with the demo catalog, the shop installed, its products mapped; the 5 lines'
    properties and prices as the app proxy and Shopify would give them."""
    migrate.upgrade()
    settings = get_settings()
    token = TokenExchangeAccessToken(
        shop="bench-store",
        token="shpat_bench",
        expires=None,
        scope="write_orders",
        access_mode="offline",
        refresh_token=None,
        refresh_token_expires=None,
        user=None,
    )
    with get_db().transaction() as s:
        bind_system(s)
        brand = tenancy.create_brand(s, slug="bench-shopify", name="Bench")
        row = shopify.install(s, settings, SHOP, brand.id, token)
        bind_tenant(s, brand.id)
        seed_demo(s, brand)
        products = {
            sku: (pid, price, cur)
            for sku, pid, price, cur in s.execute(
                sa.select(Product.sku, Product.id, Product.price_cents, Product.currency)
            )
        }
        secret = shopify.property_secret(settings, row)
        lines = []
        for n, (sku, inputs) in enumerate(ITEMS):
            pid, base, currency = products[sku]
            shopify.map_product(s, row, str(7000 + n), pid)
            spec_row, _ = designs.create_spec(s, pid, inputs)
            snap, _ = designs.create_snapshot(s, spec_row=spec_row, actor="bench", provenance={})
            cents = commerce.unit_price(base, snap.spec)
            props = shopify.line_properties(settings, secret, snap)
            lines.append(
                {"product_id": 7000 + n, "price": f"{cents // 100}.{cents % 100:02d}", "props": props}
            )
        return brand.id, lines, currency.upper()


def order_body(lines: list[dict[str, Any]], currency: str) -> dict[str, Any]:
    order_id = next(_ids)
    items = []
    for ln in lines:
        line_id = next(_ids)
        items.append(
            {
                "id": line_id,
                "admin_graphql_api_id": f"gid://shopify/LineItem/{line_id}",
                "product_id": ln["product_id"],
                "variant_id": 808950810,
                "quantity": 1,
                "price": ln["price"],
                "price_set": {"shop_money": {"amount": ln["price"], "currency_code": currency}},
                "properties": [{"name": k, "value": v} for k, v in ln["props"].items()],
            }
        )
    return {
        "id": order_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "name": f"#{order_id % 100000}",
        "email": "jon@example.com",
        "currency": currency,
        "financial_status": "paid",
        "line_items": items,
    }


def signed(topic: str, body: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    digest = base64.b64encode(hmac.new(SECRET.encode(), raw, hashlib.sha256).digest()).decode()
    return raw, {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": digest,
        "X-Shopify-Shop-Domain": SHOP,
        "X-Shopify-API-Version": "2026-10",
        "X-Shopify-Event-Id": f"bench-{next(_ids)}",
    }


async def bursts(
    app: Any, rounds: int, concurrency: int, lines: list[dict[str, Any]], currency: str
) -> tuple[list[float], list[float]]:
    transport = httpx.ASGITransport(app=app)
    hooks: list[float] = []
    health: list[float] = []
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

        async def one_hook() -> None:
            raw, headers = signed("orders/paid", order_body(lines, currency))
            t = time.perf_counter()
            r = await client.post("/shopify/webhooks", content=raw, headers=headers)
            hooks.append(time.perf_counter() - t)
            assert r.status_code == 200 and r.json()["status"] == "accepted", r.text

        async def one_health() -> None:
            t = time.perf_counter()
            r = await client.get("/healthz")
            health.append(time.perf_counter() - t)
            assert r.status_code == 200, r.text

        await asyncio.gather(*(one_hook() for _ in range(concurrency)))  # warm-up, not counted
        hooks.clear()
        for _ in range(rounds):
            await asyncio.gather(*(one_health() for _ in range(concurrency)))
            await asyncio.gather(*(one_hook() for _ in range(concurrency)))
    return hooks, health


def drain(actor: str, pool: ThreadPoolExecutor | None = None) -> None:
    db = get_db()
    while True:
        with db.transaction() as s:
            bind_system(s)
            ids = list(
                s.execute(sa.select(Job.id).where(Job.actor == actor, Job.status == "pending")).scalars()
            )
        if not ids:
            return
        run = lambda i: jobs.execute(db, i, worker_id="bench", watchdog=False)  # noqa: E731
        list(pool.map(run, ids) if pool else map(run, ids))


def paid_to_ready(app: Any, lines: list[dict[str, Any]], currency: str, brand_id: str) -> float:
    from fastapi.testclient import TestClient

    with get_db().transaction() as s:  # only this order's jobs
        bind_system(s)
        s.execute(sa.delete(Job).where(Job.status == "pending"))
    body = order_body(lines, currency)
    raw, headers = signed("orders/paid", body)
    with TestClient(app) as client, ThreadPoolExecutor(2) as pool:
        t0 = time.perf_counter()
        r = client.post("/shopify/webhooks", content=raw, headers=headers)
        assert r.status_code == 200, r.text
        drain("shopify.webhook")
        drain("export_pack", pool)
        elapsed = time.perf_counter() - t0
    with get_db().transaction(write=False) as s:
        bind_tenant(s, brand_id)
        statuses = list(
            s.execute(
                sa.select(WorkOrder.status)
                .where(WorkOrder.order_number.is_not(None))
                .order_by(WorkOrder.created_at.desc())
                .limit(5)
            ).scalars()
        )
    assert statuses == ["ready"] * 5, statuses
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    from luneo.app import create_app

    brand_id, lines, currency = setup()
    app = create_app(get_settings(), start_workers=False)
    affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    print(f"SQLite + local files, in-process; cpus={affinity}; load avg {os.getloadavg()[0]:.1f}")
    hooks, health = asyncio.run(bursts(app, args.rounds, args.concurrency, lines, currency))
    print(f"(a) {args.rounds} bursts of {args.concurrency} concurrent requests (ASGITransport)")
    print(line("  signed orders/paid webhook → 200", percentiles(hooks), f"n={len(hooks)}"))
    print(line("  baseline GET /healthz", percentiles(health), f"n={len(health)}"))
    paid_to_ready(app, lines, currency, brand_id)  # warm-up
    runs = [paid_to_ready(app, lines, currency, brand_id) for _ in range(args.runs)]
    print(f"(b) orders/paid → 5 ready packs, {args.runs} runs after a warm-up")
    print(line("  delivery → all work orders ready", percentiles(runs), f"n={len(runs)}"))


if __name__ == "__main__":
    main()
