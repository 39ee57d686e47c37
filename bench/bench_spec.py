"""Benchmark: validate + build + hash a 4-zone spec, and auto-fit of a 40-character line.

Run: .venv/bin/python bench/bench_spec.py
Targets (issue 3): spec p95 < 5 ms; auto-fit p95 < 10 ms. Baseline, measured in the same run:
json.dumps(sort_keys) + SHA-256 of the same spec (no validation, no layout, not RFC 8785).
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from luneo.design.model import ProductDef, ZoneDef, ZoneGeometry, ZoneRules
from luneo.design.spec import build_spec
from luneo.design.text import auto_fit

PRODUCT = ProductDef(
    id="prd_bench",
    sku="PEND-40",
    width_mm=40,
    height_mm=40,
    shape="ellipse",
    palette=["#000000", "#C0A060"],
    zones=[
        ZoneDef(
            key="name",
            kind="text",
            geometry=ZoneGeometry(x_mm=5, y_mm=12, width_mm=30, height_mm=10, safe_inset_mm=0.5),
            rules=ZoneRules(
                required=True,
                max_chars=24,
                allowed_fonts=["fnt_script", "fnt_serif"],
                blocked_words=["merde", "putain"],
                max_font_pt=40,
            ),
            default_font="fnt_script",
        ),
        ZoneDef(
            key="date",
            kind="text",
            geometry=ZoneGeometry(
                shape="arc",
                width_mm=40,
                height_mm=40,
                radius_mm=16,
                arc_angle_deg=180,
                arc_inside=True,
                arc_sweep_deg=120,
            ),
            rules=ZoneRules(max_chars=12, allowed_chars="0123456789./- "),
        ),
        ZoneDef(
            key="photo", kind="image", geometry=ZoneGeometry(x_mm=10, y_mm=24, width_mm=20, height_mm=10)
        ),
        ZoneDef(
            key="metal",
            kind="colour",
            geometry=ZoneGeometry(width_mm=40, height_mm=40),
            default_color="#C0A060",
        ),
    ],
)
NAMES = [
    "Éloïse",
    "Marie-Louise",
    "Zoë ✓",
    "Jean & Paul",
    "Anaïs",
    "Léa",
    "Maxime",
    "Chloé ♥",
    "Noah",
    "Inès",
]
ASSETS = {"ast_1": ("a" * 64, 2400, 1200)}
LINE40 = "Joyeux anniversaire à toi, chère Margot!"
LINES40 = [f"{n} — bon anniversaire de la part de tous"[:40].ljust(40, ".") for n in NAMES]
BOX = ZoneGeometry(x_mm=0, y_mm=0, width_mm=90, height_mm=20, safe_inset_mm=1)


def inputs(i: int) -> dict[str, object]:
    return {
        "name": {"text": f"{NAMES[i % len(NAMES)]} {i}"},  # new text every call: no layout cache hit
        "date": f"{1 + i % 28:02d}.02.2024",
        "photo": {"asset_id": "ast_1"},
        "metal": {"color": "#000000"},
    }


CPU: dict[int, list[float]] = {}


def measure(fn: Callable[[int], object], n: int, warmup: int = 50) -> list[float]:
    """Wall-clock ms per call; the thread's CPU ms per call are kept in CPU[id(result)]."""
    for i in range(warmup):
        fn(i)
    out: list[float] = []
    cpu: list[float] = []
    for i in range(n):
        c = time.thread_time_ns()
        t = time.perf_counter_ns()
        fn(i)
        out.append((time.perf_counter_ns() - t) / 1e6)
        cpu.append((time.thread_time_ns() - c) / 1e6)
    CPU[id(out)] = cpu
    return out


def pct(xs: list[float], p: float) -> float:
    return statistics.quantiles(xs, n=100, method="inclusive")[int(p) - 1]


def report(name: str, xs: list[float], base: list[float] | None = None, target: float | None = None) -> None:
    p50, p95, p99 = pct(xs, 50), pct(xs, 95), pct(xs, 99)
    line = f"{name:<46} n={len(xs):>5}  p50={p50:7.3f} ms  p95={p95:7.3f} ms  p99={p99:7.3f} ms"
    if base is not None:
        line += f"  ×{p95 / pct(base, 95):6.1f} vs baseline p95"
    if target is not None:
        line += f"  [target p95 < {target:g} ms: {'OK' if p95 < target else 'MISSED'}]"
    print(line)
    cpu = CPU.get(id(xs))
    if cpu:
        print(
            f"{'  (same calls, thread CPU time)':<46} n={len(cpu):>5}  p50={pct(cpu, 50):7.3f} ms  "
            f"p95={pct(cpu, 95):7.3f} ms  p99={pct(cpu, 99):7.3f} ms"
        )


def main() -> None:
    def spec(i: int) -> object:
        res = build_spec(PRODUCT, inputs(i), asset_lookup=ASSETS.get)
        assert res.spec_hash, res.violations
        return res

    ref = spec(0)
    assert ref.spec is not None
    doc = ref.spec.model_dump(mode="json")

    def baseline(_i: int) -> object:
        return hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()).hexdigest()

    def fit_same(_i: int) -> object:
        return auto_fit(LINE40, BOX, font_id="fnt_serif", min_pt=6, max_pt=72)

    def fit_varied(i: int) -> object:
        return auto_fit(LINES40[i % len(LINES40)] + str(i), BOX, font_id="fnt_serif", min_pt=6, max_pt=72)

    n = 2000
    base = measure(baseline, n)
    print(f"python {sys.version.split()[0]}; {n} iterations each, after warm-up (fonts and outlines cached)")
    load = os.getloadavg()[0]
    print(f"load average {load:.2f} on {os.cpu_count()} CPUs (wall tails grow with load; CPU time does not)")
    report("baseline: json.dumps + sha256 of the spec", base)
    report("validate + build + hash, 4 zones (varied text)", measure(spec, n), base, 5.0)
    report("auto-fit 40 chars (same text, layout cached)", measure(fit_same, n), base, 10.0)
    report("auto-fit 40 chars (new text every call)", measure(fit_varied, n), base, 10.0)


if __name__ == "__main__":
    main()
