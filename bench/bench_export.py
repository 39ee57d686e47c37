"""Production pack for a 10-item order: p50/p95/p99 of the whole order (10 packs + the bundle),
wall and CPU time, today's encoders against the baseline ones (in the same process), per-format
timings, and the ratio against Inkscape's CLI converting the same SVGs to PDF.

Baseline ("baseline" rows, `--baseline-only`): the pack path before the speed work, switched
in-process: one `export_spec` after the other, Pillow's PNG encoder for the print PNG (adaptive
filters, one zlib stream) and reportlab's `drawImage` (decode + deflate level 6) for PDF images.
Today ("today" rows, `--no-baseline` for only these): `export_specs` (Scenes here, files on a
pool of `pack_workers()` processes), `luneo.design.writers.pngenc` (Up filter, deflate in
parallel pieces) and the PNG's own IDAT stream embedded in the PDF. Same pixels both ways.
The machine may be loaded by others: CPU time (this process's threads + the pack workers) is
printed beside wall time, and the load average before and after.

Setup (not timed): a temporary SQLite database and storage, the demo catalog, a 1600×1600 JPEG
photo, and 10 snapshots of the demo products that take text + an image (mug, phone case,
T-shirt) with different names. Timed: the packs of the 10 items (Scene
from the frozen spec, print checks, SVG, PDF, PNG at the product DPI, DXF/CMYK when the
product asks, ZIP + manifest) and the order bundle.

Run: .venv/bin/python bench/bench_export.py [RUNS] [--order=photo|names|both] [--baseline-only|--no-baseline]
(`BENCH_ORDER` still picks the order when --order is not given; default: both.)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from multiprocessing import parent_process
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "src")]
# The pack pool's spawned workers import this module again: they reuse the parent's directory.
_TMP = os.environ["LUNEO_DATA_DIR"] if parent_process() else tempfile.mkdtemp(prefix="luneo-bench-export-")
os.environ["LUNEO_DATA_DIR"] = _TMP
os.environ.setdefault("LUNEO_LOG_LEVEL", "WARNING")
os.environ.pop("LUNEO_DATABASE_URL", None)
os.environ.pop("LUNEO_STORAGE_URL", None)

from _design_fixtures import photo_jpeg  # noqa: E402
from _stats import percentiles  # noqa: E402
from sqlalchemy import select  # noqa: E402

# Two 10-item orders: photo products (large print rasters) and engraved/printed names.
ORDERS = {
    "photo": [("DEMO-MUG", "name"), ("DEMO-PHONE", "initials"), ("DEMO-TSHIRT", "slogan")] * 3
    + [("DEMO-MUG", "name")],
    "names": [("DEMO-PENDANT", "arc_text"), ("DEMO-SIGN", "title"), ("DEMO-CARD", "name")] * 3
    + [("DEMO-PENDANT", "arc_text")],
}
NAMES = ["Zoé", "AB", "Bonjour", "Lucas", "CD", "Merci", "Emma", "EF", "Salut", "Marie"]


def setup(kinds: list[str]) -> tuple[str, dict[str, list[tuple[str, str, dict, str]]]]:
    """Brand, catalog, photo and 10 snapshots per order → (brand_id, {kind: [(item id, snapshot id,
    spec, spec_hash)]})."""
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
    items: dict[str, list[tuple[str, str, dict, str]]] = {k: [] for k in kinds}
    with get_db().transaction() as s:
        bind_system(s)
        brand = tenancy.create_brand(s, slug="bench", name="Bench")
        bind_tenant(s, brand.id)
        seed_demo(s, brand)
        asset = catalog.create_asset(s, photo_jpeg(1600, 1600), filename="photo.jpg")
        products = {sku: pid for sku, pid in s.execute(select(Product.sku, Product.id))}
        for kind in kinds:
            for i, ((sku, text_zone), name) in enumerate(zip(ORDERS[kind], NAMES, strict=True)):
                inputs: dict = {text_zone: {"text": name}}
                if kind == "photo":
                    inputs["photo"] = {"asset_id": asset.id}
                elif sku == "DEMO-PENDANT":
                    inputs["initial"] = {"text": name[0].upper()}
                row, _ = designs.create_spec(s, products[sku], inputs)
                snap, _ = designs.create_snapshot(
                    s, spec_row=row, actor="bench", provenance={"source": "bench"}
                )
                items[kind].append((f"item{i:02d}", snap.id, dict(snap.spec), snap.spec_hash))
        return brand.id, items


@contextlib.contextmanager
def baseline_encoders() -> Iterator[None]:
    """The encoders used before the speed work, in-process: Pillow for the print PNG, reportlab's
    drawImage (decode, deflate 6) for PDF images. Same pixels; slower."""
    import io

    from PIL import Image, PngImagePlugin

    from luneo.design.writers import pdf, pngenc

    def pillow_png(pixels: Any, *, dpi: int | None = None, chunks: tuple = ()) -> bytes:
        img = pixels if isinstance(pixels, Image.Image) else Image.fromarray(pixels, "RGBA")
        info = PngImagePlugin.PngInfo()
        for tag, data in chunks:
            info.add(tag, data)
        buf = io.BytesIO()
        img.save(buf, format="PNG", compress_level=1, optimize=False, pnginfo=info, dpi=(dpi, dpi))
        return buf.getvalue()

    saved = pngenc.encode_png, pdf.draw_png
    pngenc.encode_png, pdf.draw_png = pillow_png, lambda *a, **k: False  # type: ignore[assignment]
    try:
        yield
    finally:
        pngenc.encode_png, pdf.draw_png = saved


def run_order(
    brand_id: str, items: list, *, pool: bool, collect: dict | None = None
) -> tuple[float, float, list[bytes]]:
    """One whole order (10 packs + the bundle) → (wall s, CPU s of this process and its pack
    workers, the design SVGs). `pool`: `export_specs` (items on the process pool), else one
    `export_spec` after the other (as before)."""
    from luneo.design.pack import build_bundle
    from luneo.designs.resources import BrandResources
    from luneo.manufacturing.export import PackJob, PackOptions, export_spec, export_specs
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_tenant

    t0, c0 = time.perf_counter(), _cpu()
    jobs = [
        PackJob(
            spec, spec_hash, PackOptions(order_id="ord_bench", order_item_id=item_id), {"snapshot_id": sid}
        )
        for item_id, sid, spec, spec_hash in items
    ]
    with get_db().transaction(write=False) as s:
        bind_tenant(s, brand_id)
        res = BrandResources(s)
        if pool:
            results = export_specs(jobs, res)
        else:
            results = [export_spec(j.spec_doc, j.spec_hash, res, j.options, j.meta) for j in jobs]
    packs, svgs = [], []
    for (item_id, *_), pack in zip(items, results, strict=True):
        if collect is not None:
            for k, v in pack.timings_ms.items():
                collect.setdefault(k, []).append(v / 1000)
        svgs.append(next(f.data for f in pack.files if f.name == "design.svg"))
        packs.append((item_id, pack.data))
    build_bundle(packs, {"order_id": "ord_bench"})
    return time.perf_counter() - t0, _cpu() - c0, svgs


def _cpu() -> float:
    """CPU seconds of this process (all threads) plus its live pack workers (/proc utime+stime)."""
    total = time.process_time()
    try:
        from luneo.manufacturing import export

        pool = export._pool
        pids = list(pool[2]._processes or {}) if pool and pool[0] == os.getpid() else []
        tick = os.sysconf("SC_CLK_TCK")
        for pid in pids:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
    except (OSError, ValueError, AttributeError):
        pass
    return total


def fmt(st: dict[str, float]) -> str:
    return f"p50 {st['p50']:8.1f} ms  p95 {st['p95']:8.1f} ms  p99 {st['p99']:8.1f} ms"


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    runs = int(args[0]) if args else 5
    order_arg = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--order=")), None)
    kind_arg = order_arg or os.environ.get("BENCH_ORDER", "both")
    kinds = list(ORDERS) if kind_arg == "both" else [kind_arg]
    modes = ["baseline", "today"]
    if "--baseline-only" in sys.argv:
        modes = ["baseline"]
    elif "--no-baseline" in sys.argv:
        modes = ["today"]
    brand_id, items = setup(kinds)
    affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    print(f"runs={runs}; cpus={affinity}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for kind in kinds:
        print(f"\n10-item {kind} order: {', '.join(sku for sku, _ in ORDERS[kind])}; photo 1600x1600 JPEG")
        wall: dict[str, list[float]] = {m: [] for m in modes}
        cpu: dict[str, list[float]] = {m: [] for m in modes}
        per_format: dict[str, list[float]] = {}
        svgs: list[bytes] = []
        for run in range(runs + 1):  # run 0 warms caches (fonts, glyphs, images) and is not counted
            for mode in modes if run % 2 else modes[::-1]:  # alternate, so load drifts hit both
                ctx = baseline_encoders() if mode == "baseline" else contextlib.nullcontext()
                with ctx:
                    w, c, svgs = run_order(
                        brand_id,
                        items[kind],
                        pool=mode == "today",
                        collect=per_format if run and mode == "today" else None,
                    )
                if run:
                    wall[mode].append(w)
                    cpu[mode].append(c)
        for mode in modes:
            st = percentiles(wall[mode])
            target = 3000 if kind == "photo" else 1500
            print(
                f"  {mode:<9} wall {fmt(st)}  "
                f"(target p95 < {target} ms: {'met' if st['p95'] < target else 'NOT met'})"
            )
            print(f"  {mode:<9} CPU  {fmt(percentiles(cpu[mode]))}")
        if len(modes) == 2:
            for what, d in (("wall", wall), ("CPU", cpu)):
                b, t = percentiles(d["baseline"]), percentiles(d["today"])
                print(
                    f"  ratio baseline/today {what}: p50 {b['p50'] / t['p50']:.2f}x  "
                    f"p95 {b['p95'] / t['p95']:.2f}x"
                )
        for name, xs in per_format.items():
            print(f"    {name:<14} {fmt(percentiles(xs))}")
        inkscape_ratio(svgs, runs, percentiles(wall[modes[-1]])["p50"], per_format)
    print(f"load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def inkscape_ratio(
    svgs: list[bytes], runs: int, order_p50_ms: float, per_format: dict[str, list[float]]
) -> None:
    inkscape = shutil.which("inkscape")
    if inkscape is None or "pdf" not in per_format:
        print("  baseline: Inkscape unavailable — no ratio")
        return
    ours = percentiles(per_format["pdf"])["p50"] * len(svgs)
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, svg in enumerate(svgs):
            p = Path(tmp) / f"item{i}.svg"
            p.write_bytes(svg)
            paths.append(p)
        ink: list[float] = []
        for _ in range(max(1, min(runs, 3))):
            t0 = time.perf_counter()
            for p in paths:
                subprocess.run(
                    [inkscape, "--export-type=pdf", f"--export-filename={p.with_suffix('.pdf')}", str(p)],
                    check=True,
                    capture_output=True,
                )
            ink.append(time.perf_counter() - t0)
    st = percentiles(ink)
    print(
        f"  inkscape → PDF, 10 SVGs {fmt(st)}  (ours, PDF writer for the same 10 items ≈ {ours:.1f} ms p50)"
    )
    print(
        f"  ratio inkscape / our PDF writer (p50): {st['p50'] / ours:.1f}x; inkscape / our whole pack: "
        f"{st['p50'] / order_p50_ms:.2f}x"
    )


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(_TMP, ignore_errors=True)
