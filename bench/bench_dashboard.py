"""Dashboard pages with a busy brand: server time per page and the heaviest page's weight.

Starts the demo server (embedded mode, as `make run`), adds 1 000 orders (5 items each) and
5 000 work orders to the demo brand, signs in through the form like a browser, then requests
every dashboard page sequentially and prints p50/p95/p99 per page next to `/healthz` measured in
the same run (the ratio shows what the page costs beyond the bare stack). Page weight is the
gzipped HTML plus the gzipped CSS and JavaScript it links (the heaviest page is the figure the
issue asks for).

    .venv/bin/python bench/bench_dashboard.py [--requests 40] [--orders 1000] [--work-orders 5000]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _serve import demo_server
from _stats import line, percentiles

PAGES = (
    "/dashboard",
    "/dashboard/products",
    "/dashboard/orders",
    "/dashboard/orders?status=paid",
    "/dashboard/orders/{order_id}",
    "/dashboard/production",
    "/dashboard/production?status=queued",
    "/dashboard/integrations",
    "/dashboard/billing",
    "/dashboard/analytics",
    "/dashboard/team",
    "/dashboard/team/audit",
    "/dashboard/fonts",
    "/dashboard/assets",
)
ASSET = re.compile(r'(?:href|src)="(/dashboard/static/[^"]+)"')


def add_volume(data_dir: Path, brand_id: str, orders: int, work_orders: int) -> str:
    """Insert `orders` paid orders (5 items each) and `work_orders` work orders; the first order's id."""
    os.environ["LUNEO_DATA_DIR"] = str(data_dir)
    from sqlalchemy import select

    from luneo.catalog.models import Product
    from luneo.commerce.models import Order, OrderItem
    from luneo.domains import load_models
    from luneo.manufacturing.models import WorkOrder
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_tenant

    load_models()
    rnd = random.Random(7)
    now = datetime.now(UTC)
    with get_db().transaction() as s:
        bind_tenant(s, brand_id)
        products = s.execute(select(Product.id, Product.sku, Product.production_method)).all()
        first = ""
        items: list[OrderItem] = []
        for n in range(orders):
            when = now - timedelta(minutes=rnd.randint(0, 60 * 24 * 60))
            status = rnd.choice(["paid", "paid", "in_production", "shipped", "pending"])
            order = Order(
                brand_id=brand_id,
                number=10_000 + n,
                status=status,
                payment_status="paid" if status != "pending" else "unpaid",
                currency="EUR",
                subtotal_cents=4_990,
                total_cents=4_990,
                customer_email=f"shopper{n}@example.com",
                customer_name=f"Shopper {n}",
                created_at=when,
                paid_at=when if status != "pending" else None,
            )
            s.add(order)
            s.flush()
            first = first or order.id
            for k in range(5):
                pid, sku, _ = products[(n + k) % len(products)]
                items.append(
                    OrderItem(
                        brand_id=brand_id,
                        order_id=order.id,
                        position=k,
                        product_id=pid,
                        product_sku=sku,
                        product_name=sku,
                        quantity=1,
                        price_cents=998,
                        total_cents=998,
                    )
                )
        s.add_all(items)
        s.flush()
        statuses = ["queued", "ready", "in_production", "done", "failed"]
        s.add_all(
            WorkOrder(
                brand_id=brand_id,
                order_id=items[i % len(items)].order_id,
                order_item_id=items[i % len(items)].id,
                order_number=str(10_000 + (i % orders)),
                product_id=items[i % len(items)].product_id,
                product_sku=items[i % len(items)].product_sku,
                production_method=products[i % len(products)][2] or "print",
                status=statuses[i % len(statuses)],
            )
            for i in range(work_orders)
        )
    return first


def sign_in(client: httpx.Client, email: str, password: str) -> None:
    page = client.get("/dashboard/login")
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert token, page.text[:300]
    r = client.post("/dashboard/login", data={"email": email, "password": password, "csrf": token.group(1)})
    assert r.status_code in (200, 303), r.status_code


def weight(client: httpx.Client, html: str) -> int:
    """Gzipped bytes of the page and of every stylesheet and script it links."""
    total = len(gzip.compress(html.encode(), 6))
    for asset in sorted(set(ASSET.findall(html))):
        total += len(gzip.compress(client.get(asset).content, 6))
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=40)
    ap.add_argument("--orders", type=int, default=1000)
    ap.add_argument("--work-orders", type=int, default=5000)
    args = ap.parse_args()
    extra = {"LUNEO_RATE_LIMIT_IP": "1000000/minute", "LUNEO_RATE_LIMIT_KEY": "1000000/minute"}
    with demo_server(extra, prefix="luneo-bench-dash-") as (base, data):
        creds = json.loads((data / "demo-credentials.json").read_text())
        t = time.perf_counter()
        first_order = add_volume(data, creds["brand"]["id"], args.orders, args.work_orders)
        took = time.perf_counter() - t
        print(f"added {args.orders} orders and {args.work_orders} work orders in {took:.1f} s")
        with httpx.Client(base_url=base, follow_redirects=False, timeout=60) as client:
            sign_in(client, creds["owner"]["email"], creds["owner"]["password"])
            bare = []
            for _ in range(args.requests + 3):
                t = time.perf_counter()
                client.get("/healthz")
                bare.append(time.perf_counter() - t)
            base_stats = percentiles(bare[3:])
            print(line("/healthz (baseline, same run)", base_stats))
            heaviest = ("", 0)
            for template in PAGES:
                path = template.format(order_id=first_order)
                samples = []
                status = 0
                html = ""
                for i in range(args.requests + 3):
                    t = time.perf_counter()
                    r = client.get(path)
                    elapsed = time.perf_counter() - t
                    status, html = r.status_code, r.text
                    if status != 200:
                        break
                    if i >= 3:
                        samples.append(elapsed)
                if status != 200:
                    print(f"{path:<44} answered {status}: not measured")
                    continue
                st = percentiles(samples)
                kb = weight(client, html)
                heaviest = max(heaviest, (path, kb), key=lambda p: p[1])
                ratio = st["p95"] / base_stats["p95"] if base_stats["p95"] else 0
                print(line(path[:44], st, f" ×{ratio:5.1f} bare p95  {kb / 1024:6.1f} KB gz"))
            print(f"heaviest page: {heaviest[0]} — {heaviest[1] / 1024:.1f} KB gzipped (HTML + CSS + JS)")


if __name__ == "__main__":
    main()
