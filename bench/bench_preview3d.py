"""Shopper 3D preview (`POST /renders/preview3d`): p50/p95/p99 of a cold (cache-miss) preview GLB +
USDZ per 3D demo product, of a cache hit, and of the 2D preview render as the baseline, all in
this process. Target (issue 13 item 4): p95 ≤ 200 ms for the preview GLB.

Setup (not timed): a temporary SQLite database and storage, the demo catalog, a 1600×1600 JPEG
photo, and RUNS distinct specs per product (different names, so every cold run is a new
spec_hash). Timed, through the same functions the route calls:

- cold: spec → preview Scene → texture (≤ 1024 px JPEG) → GLB + USDZ from the product's cached
  model template → stored → `render_results` row; the model template itself is built once per
  product (its first build is reported apart);
- hit: the cached row found and its signed URLs made;
- 2D baseline: a 720 px PNG preview of the same spec (Scene → SVG → PNG), what the widget shows.

Pin to one core with `taskset -c 0`. Run: .venv/bin/python bench/bench_preview3d.py [RUNS]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "src")]
_TMP = tempfile.mkdtemp(prefix="luneo-bench-preview3d-")
os.environ["LUNEO_DATA_DIR"] = _TMP
os.environ.setdefault("LUNEO_LOG_LEVEL", "WARNING")
for _var in ("LUNEO_DATABASE_URL", "LUNEO_STORAGE_URL", "LUNEO_REDIS_URL"):
    os.environ.pop(_var, None)

from _design_fixtures import photo_jpeg  # noqa: E402
from _stats import line, percentiles  # noqa: E402
from sqlalchemy import select  # noqa: E402

NAMES = ["Zoé", "Lucas", "Emma", "Marie", "Hugo", "Léa", "Noah", "Jade", "Louis", "Alice", "Gabriel", "Chloé"]


def inputs_for(sku: str, name: str, photo_id: str, i: int) -> dict[str, object]:
    initials = chr(65 + i % 26) + chr(65 + (i // 26) % 26)  # distinct per run
    return {
        "DEMO-PENDANT": {"arc_text": {"text": name}, "initial": {"text": name[0].upper()}},
        "DEMO-MUG": {"photo": {"asset_id": photo_id}, "name": {"text": name}},
        "DEMO-PHONE": {"photo": {"asset_id": photo_id}, "initials": {"text": initials}},
        "DEMO-CARD": {"name": {"text": name}, "title": {"text": "Engineer"}},
    }[sku]


def setup(runs: int) -> tuple[str, dict[str, list[str]]]:
    """Brand, catalog, photo and `runs` specs per 3D product → (brand_id, {sku: [spec_hash]})."""
    from luneo.app import load_domain_modules
    from luneo.catalog import service as catalog
    from luneo.catalog.models import Product
    from luneo.catalog.seed import seed_demo
    from luneo.designs import service as designs
    from luneo.platform import migrate
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_system, bind_tenant
    from luneo.tenancy import service as tenancy

    load_domain_modules()
    migrate.upgrade()
    specs: dict[str, list[str]] = {}
    with get_db().transaction() as s:
        bind_system(s)
        brand = tenancy.create_brand(s, slug="bench", name="Bench")
        bind_tenant(s, brand.id)
        seed_demo(s, brand)
        asset = catalog.create_asset(s, photo_jpeg(1600, 1600), filename="photo.jpg")
        products = {sku: pid for sku, pid in s.execute(select(Product.sku, Product.id))}
        for sku in ("DEMO-MUG", "DEMO-PENDANT", "DEMO-PHONE", "DEMO-CARD"):
            specs[sku] = []
            for i in range(runs + 1):  # +1: the template's first build
                name = f"{NAMES[i % len(NAMES)]}{i // len(NAMES) or ''}"
                row, _ = designs.create_spec(s, products[sku], inputs_for(sku, name, asset.id, i))
                specs[sku].append(row.spec_hash)
        return brand.id, specs


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    from luneo.design.scene_builder import build_scene, preview_image_dpi
    from luneo.design.writers import raster
    from luneo.designs.public import BrandResources, get_spec
    from luneo.platform.database import get_db
    from luneo.platform.storage import get_storage
    from luneo.platform.tenancy import bind_tenant
    from luneo.rendering import pipeline, preview3d

    brand_id, specs = setup(runs)
    db = get_db()

    def cold(spec_hash: str) -> dict[str, float]:
        with db.transaction(write=False) as s:
            bind_tenant(s, brand_id)
            assert preview3d.find_cached(s, spec_hash) is None
            spec = pipeline.load_spec(get_spec(s, spec_hash).spec)
            files = preview3d.render_files(spec, spec_hash, BrandResources(s))
        refs = preview3d.store(files)
        with db.transaction() as w:
            bind_tenant(w, brand_id)
            preview3d.record(
                w,
                spec_hash=spec_hash,
                refs=refs,
                timings=files.timings,
                snapshot_id=None,
                design_id=None,
                actor="bench",
            )
        return files.timings

    def hit(spec_hash: str) -> None:
        with db.transaction(write=False) as s:
            bind_tenant(s, brand_id)
            row = preview3d.find_cached(s, spec_hash)
            assert row is not None
            for ref in row.outputs.values():
                get_storage().url(ref["key"], expires_s=3600)

    def preview_2d(spec_hash: str) -> None:
        with db.transaction(write=False) as s:
            bind_tenant(s, brand_id)
            spec = pipeline.load_spec(get_spec(s, spec_hash).spec)
            scene = build_scene(
                spec, spec_hash, BrandResources(s), image_dpi=preview_image_dpi(spec.product, 720)
            )
        raster.write_png(scene, 720)

    affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    print(f"runs {runs} per product; cpus {affinity}; load avg {os.getloadavg()[0]:.2f}")
    all_cold: list[float] = []
    for sku, hashes in specs.items():
        preview3d.clear_templates()
        t = time.perf_counter()
        first = cold(hashes[0])
        first_s = time.perf_counter() - t
        samples, steps = [], {"texture_ms": 0.0, "glb_ms": 0.0, "usdz_ms": 0.0, "scene_ms": 0.0}
        for h in hashes[1:]:
            t = time.perf_counter()
            timings = cold(h)
            samples.append(time.perf_counter() - t)
            for k in steps:
                steps[k] += timings[k] / runs
        all_cold += samples
        hits = []
        for h in hashes[1:]:
            t = time.perf_counter()
            hit(h)
            hits.append(time.perf_counter() - t)
        base = []
        for h in hashes[1:]:
            t = time.perf_counter()
            preview_2d(h)
            base.append(time.perf_counter() - t)
        cold_st, hit_st, base_st = percentiles(samples), percentiles(hits), percentiles(base)
        mean_steps = " ".join(f"{k[:-3]} {v:.1f}" for k, v in steps.items())
        print(
            f"{sku}: first request {first_s * 1000:.0f} ms "
            f"(model template built: {first['template_ms']:.0f} ms)"
        )
        print(line(f"  cold GLB+USDZ (cache miss) {sku}", cold_st, f"[mean ms: {mean_steps}]"))
        print(line(f"  cache hit {sku}", hit_st))
        print(
            line(
                f"  baseline 2D preview 720 px {sku}",
                base_st,
                f"cold/2D p50 {cold_st['p50'] / base_st['p50']:.2f}x",
            )
        )
    total = percentiles(all_cold)
    verdict = "OK" if total["p95"] <= 200 else "OVER"
    print(line("all products, cold preview GLB+USDZ", total, f"target p95 ≤ 200 ms: {verdict}"))


if __name__ == "__main__":
    main()
