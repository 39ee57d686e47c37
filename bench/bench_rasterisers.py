"""skia-python vs resvg-py on the same Scene SVGs: speed (p50/p95/p99) and pixel agreement.

Run: .venv/bin/python bench/bench_rasterisers.py [N]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _design_fixtures import Resources, mug_spec, percentiles

from luneo.design.scene_builder import build_scene
from luneo.design.writers.raster import encode_png, rasterise
from luneo.design.writers.svg import write_svg


def main(n: int = 30) -> None:
    res = Resources()
    scene = build_scene(mug_spec(res), "bench", res)
    svgs = {
        "design": write_svg(scene),
        "design+guides": write_svg(scene, include_guides=True),
        "vector only": write_svg(
            scene.__class__(
                **{
                    **{f: getattr(scene, f) for f in scene.__slots__},
                    "items": tuple(i for i in scene.items if type(i).__name__ != "ImageItem"),
                }
            )
        ),
    }
    print(f"rasterise to 1024 px wide (+ PNG encode), {n} runs each, one core")
    for name, svg in svgs.items():
        times: dict[str, list[float]] = {"skia": [], "resvg": []}
        for backend in ("skia", "resvg"):
            rasterise(svg, 1024, backend=backend)  # warm-up (imports, font managers)
            for _ in range(n):
                t = time.perf_counter()
                encode_png(rasterise(svg, 1024, backend=backend))  # type: ignore[arg-type]
                times[backend].append(time.perf_counter() - t)
        a = np.asarray(rasterise(svg, 1024, backend="skia"), dtype=np.int16)
        b = np.asarray(rasterise(svg, 1024, backend="resvg"), dtype=np.int16)
        diff = np.abs(a - b).max(axis=2)
        ratio = np.median(times["resvg"]) / np.median(times["skia"])
        print(f"[{name}] {len(svg) / 1024:.0f} KiB SVG")
        print(f"  skia   {percentiles(times['skia'])}")
        print(f"  resvg  {percentiles(times['resvg'])}")
        print(
            f"  resvg/skia p50 = {ratio:.1f}x;  pixel diff: mean {diff.mean():.3f}, "
            f"max {diff.max()}, >16 on {100 * (diff > 16).mean():.2f}% of pixels "
            f"({'OK' if diff.mean() < 1.0 and (diff > 16).mean() < 0.01 else 'MISMATCH'})"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
