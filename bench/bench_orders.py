"""Order from a 5-item cart + open its checkout (dev provider), vs a plain insert of 5 rows.

    .venv/bin/python bench/bench_orders.py [--n 300] [--pg postgresql://postgres@127.0.0.1:5432/test]

SQLite always; PostgreSQL when `--pg` or `LUNEO_TEST_DATABASE_URL` is given (a scratch database
`luneo_bench_orders` is created next to it). In-process service calls, one transaction per
operation, exactly what `POST /cart/checkout` runs: re-price 5 cart lines (one with a snapshot
and per-character add-ons), claim the next order number, write the order + 5 items, empty the
cart, write the payment row and the dev checkout session. The cart is refilled outside the
timed region. Baseline: one transaction inserting 5 plain rows. Target: p95 < 30 ms.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stats import line, percentiles

import luneo.models  # noqa: F401  (all tables and event subscribers)
from luneo.catalog.models import Product
from luneo.catalog.seed import seed_demo
from luneo.commerce import service
from luneo.designs import service as designs
from luneo.platform import database, migrate
from luneo.platform.config import Settings
from luneo.platform.database import Database
from luneo.platform.tenancy import bind_system, bind_tenant
from luneo.tenancy import service as tenancy
from luneo.tenancy.models import Brand


def _timed(fn: Callable[[], None], prepare: Callable[[], None], n: int, warmup: int = 5) -> list[float]:
    out = []
    for i in range(n + warmup):
        prepare()
        t0 = time.perf_counter()
        fn()
        if i >= warmup:
            out.append(time.perf_counter() - t0)
    return out


def _pg_url(base: str, name: str) -> str:
    url = sa.engine.make_url(
        base.replace("postgresql://", "postgresql+psycopg://", 1)
        if base.startswith("postgresql://")
        else base
    )
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'drop database if exists "{name}" with (force)'))
        c.execute(sa.text(f'create database "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def bench(label: str, url: str, data_dir: Path, n: int) -> None:
    migrate.upgrade(url=url)
    db = Database(Settings(database_url=url, data_dir=data_dir))
    database.set_db(db)
    with db.transaction() as s:
        bind_system(s)
        brand = tenancy.create_brand(s, slug=f"bench-{uuid.uuid4().hex[:8]}", name="Bench")
        bid = brand.id
        bind_tenant(s, bid)
        seed_demo(s, s.get(Brand, bid))
        skus = dict(s.execute(sa.select(Product.sku, Product.id)).all())
        spec_row, _ = designs.create_spec(
            s, skus["DEMO-PENDANT"], {"arc_text": {"text": "Zoé Martin"}, "initial": {"text": "Z"}}
        )
        snap, _ = designs.create_snapshot(s, spec_row=spec_row, actor="bench", provenance={})
        snap_id = snap.id
        s.execute(
            sa.text(
                "create table if not exists bench_plain (id varchar(40) primary key, "
                "brand_id varchar(40), quantity integer, price_cents integer)"
            )
        )
    owner = service.CartOwner("shopper", "bench-shopper-token-0001")
    lines = [
        (skus["DEMO-PENDANT"], 2, snap_id),
        (skus["DEMO-SIGN"], 1, None),
        (skus["DEMO-CARD"], 3, None),
        (skus["DEMO-PHONE"], 1, None),
        (skus["DEMO-TSHIRT"], 4, None),
    ]

    def fill() -> None:
        with db.transaction() as s:
            bind_tenant(s, bid)
            for pid, qty, sid in lines:
                service.add_to_cart(s, owner, pid, qty, sid)

    def order_and_checkout() -> None:
        with db.transaction() as s:
            bind_tenant(s, bid)
            order = service.create_order_from_cart(s, bid, owner, service.Customer("ada@example.com", "Ada"))
            out = service.start_checkout(
                s, bid, order, success_url="https://shop.example/ok", cancel_url="https://shop.example/cart"
            )
            assert out["checkout_url"] and len(order.items) == 5

    def plain_insert() -> None:
        with db.transaction() as s:
            s.execute(
                sa.text(
                    "insert into bench_plain (id, brand_id, quantity, price_cents) values (:id, :b, 1, 100)"
                ),
                [{"id": uuid.uuid4().hex, "b": bid} for _ in range(5)],
            )

    base = percentiles(_timed(plain_insert, lambda: None, n))
    st = percentiles(_timed(order_and_checkout, fill, n))
    print(line(f"{label}: baseline insert 5 rows (1 txn)", base))
    print(
        line(
            f"{label}: order from 5-item cart + checkout",
            st,
            f"ratio p50 {st['p50'] / base['p50']:.1f}x p95 {st['p95'] / base['p95']:.1f}x"
            f"  target p95<30ms: {'OK' if st['p95'] < 30 else 'MISSED'}",
        )
    )
    database.set_db(None)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--pg", default=os.environ.get("LUNEO_TEST_DATABASE_URL"))
    args = ap.parse_args()
    os.environ.setdefault("LUNEO_LOG_LEVEL", "WARNING")
    with tempfile.TemporaryDirectory() as tmp:
        bench("sqlite", f"sqlite:///{tmp}/bench.db", Path(tmp), args.n)
        if args.pg:
            bench("postgres", _pg_url(args.pg, "luneo_bench_orders"), Path(tmp), args.n)
        else:
            print("postgres: skipped (set --pg or LUNEO_TEST_DATABASE_URL)")


if __name__ == "__main__":
    main()
