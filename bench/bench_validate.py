"""Benchmark: text validation is bounded work (issue 11, item 12).

Run: .venv/bin/python bench/bench_validate.py [--n 300]

In-process, no server: the rules engine (`validate_inputs`) and the whole public route
(`POST /api/v1/personalization/validate` through the ASGI app with a secret key, so the 1 MB
body is within the general JSON limit; a publishable key gets a 413 above 64 KiB). Each
pair is a 40-character name and a 1 MB text; the ratio (1 MB p99 / 40 chars p99) should
stay near 1: a text over the cap is refused before it is normalised, shaped or auto-fitted.
Before the fix a 1 MB text was shaped and fitted whole (13–26 s per call over HTTP).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stats import line, percentiles

from luneo.design.model import ProductDef, ZoneDef, ZoneGeometry, ZoneRules
from luneo.design.rules import validate_inputs

NAME40 = "Joyeux anniversaire à toi, chère Margot!"
BIG = ("Happy birthday to you, dear Margot! " * 30_000)[:1_000_000]  # ASCII: 1 MB of JSON too
PRODUCT = ProductDef(
    id="prd_bench",
    sku="CARD",
    width_mm=90,
    height_mm=50,
    zones=[
        ZoneDef(
            key="name",
            kind="text",
            geometry=ZoneGeometry(x_mm=5, y_mm=5, width_mm=80, height_mm=40, safe_inset_mm=1),
            rules=ZoneRules(
                max_chars=60, max_lines=2, blocked_words=["merde", "nazi"], min_font_pt=6, max_font_pt=36
            ),
            default_font="fnt_serif",
        )
    ],
)


def timed(fn: Callable[[int], object], n: int, warmup: int = 5) -> list[float]:
    for i in range(warmup):
        fn(i)
    out: list[float] = []
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        out.append(time.perf_counter() - t)
    return out


def pair(name: str, small: Callable[[int], object], big: Callable[[int], object], n: int) -> None:
    a, b = percentiles(timed(small, n)), percentiles(timed(big, n))
    print(line(f"{name}: 40 chars", a))
    print(line(f"{name}: 1 MB", b, f"  ratio p99 {b['p99'] / a['p99']:.2f}×, p50 {b['p50'] / a['p50']:.2f}×"))


def core(n: int) -> None:
    def small(i: int) -> object:
        # A new text each call (no layout cache hit): the real cost of a keystroke.
        res = validate_inputs(PRODUCT, {"name": f"{NAME40[:37]}{i % 1000:03d}"})
        assert res.ok, res.violations
        return res

    def big(i: int) -> object:
        res = validate_inputs(PRODUCT, {"name": BIG[: 1_000_000 - i % 7]})
        assert [v.code for v in res.violations] == ["text_too_large"], res.violations
        return res

    pair("validate_inputs", small, big, n)


def http(n: int) -> None:
    tmp = tempfile.mkdtemp()
    os.environ.update(
        LUNEO_DATA_DIR=tmp,
        LUNEO_LOG_LEVEL="WARNING",
        LUNEO_RATE_LIMIT_KEY="1000000/minute",
        LUNEO_RATE_LIMIT_IP="1000000/minute",
    )
    for var in ("LUNEO_DATABASE_URL", "LUNEO_REDIS_URL", "LUNEO_STORAGE_URL"):
        os.environ.pop(var, None)
    from fastapi.testclient import TestClient
    from sqlalchemy import select

    from luneo.app import create_app, load_domain_modules
    from luneo.catalog.models import Product
    from luneo.catalog.seed import seed_demo
    from luneo.platform import migrate
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_system, bind_tenant
    from luneo.tenancy import service as tenancy

    load_domain_modules()
    migrate.upgrade()
    with get_db().transaction() as s:
        bind_system(s)
        brand = tenancy.create_brand(s, slug="bench", name="Bench")
        bind_tenant(s, brand.id)
        seed_demo(s, brand)
        _, sk = tenancy.create_api_key(s, brand_id=brand.id, kind="secret")
        pid = s.execute(select(Product.id).where(Product.sku == "DEMO-PENDANT")).scalar_one()
    headers = {"Authorization": f"Bearer {sk}"}
    with TestClient(create_app()) as client:

        def post(text: str) -> dict[str, object]:
            body = {"product_id": pid, "inputs": {"initial": {"text": "E"}, "arc_text": {"text": text}}}
            r = client.post("/api/v1/personalization/validate", json=body, headers=headers)
            assert r.status_code == 200, r.text
            return dict(r.json())

        def small(i: int) -> object:
            out = post(f"Emma {i % 1000:03d}")
            assert out["valid"] is True, out
            return out

        def big(i: int) -> object:
            out = post(BIG[: 1_000_000 - 40 - i % 7])
            assert [v["code"] for v in out["violations"]] == ["text_too_large"], out  # type: ignore[attr-defined]
            return out

        pair("POST /personalization/validate (sk_)", small, big, max(20, n // 5))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--no-http", action="store_true")
    args = ap.parse_args()
    print(f"python {sys.version.split()[0]}; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    core(args.n)
    if not args.no_http:
        http(args.n)


if __name__ == "__main__":
    main()
