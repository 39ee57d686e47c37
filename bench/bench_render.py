"""Preview and 3D timings for a 3-zone design (colour + smart-cropped photo + text).

- cold 1024 px preview: DesignSpec → Scene → SVG → PNG, every run from scratch (no scene cache;
  the process-wide font/glyph caches are warm after the first run, as in a worker);
- the rasteriser alone on the same SVG (baseline measured in the same run) and the ratio;
- mug GLB + USDZ (texture render included).

Run: .venv/bin/python bench/bench_render.py [N]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _design_fixtures import Resources, mug_spec, percentiles

from luneo.design.scene_builder import build_scene, preview_image_dpi
from luneo.design.writers import raster
from luneo.design.writers.gltf import write_glb
from luneo.design.writers.svg import write_svg
from luneo.design.writers.usdz import write_usdz


def _time(fn, n: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def main(n: int = 30) -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    res = Resources()
    spec = mug_spec(res)
    scene = build_scene(spec, "bench", res)  # production scene (300 dpi images): 3D texture
    dpi = preview_image_dpi(spec.product, 1024)
    svg = write_svg(build_scene(spec, "bench", res, image_dpi=dpi))  # what a 1024 px preview rasterises
    model = spec.product.model3d
    assert model is not None
    print(
        f"backend: {raster.DEFAULT_BACKEND}; preview SVG {len(svg) / 1024:.0f} KiB "
        f"(images at {dpi:.0f} dpi); "
        f"load avg {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
    )

    def preview() -> bytes:
        sc = build_scene(spec, "bench", res, image_dpi=preview_image_dpi(spec.product, 1024))
        return raster.write_png(sc, 1024)

    def preview_full_dpi() -> bytes:
        return raster.write_png(build_scene(spec, "bench", res), 1024)

    def rasteriser_only() -> bytes:
        return raster.render_png(svg, 1024)

    preview()
    rasteriser_only()
    # interleave so that background load hits both alike
    t_prev: list[float] = []
    t_rast: list[float] = []
    for _ in range(n):
        t_prev += _time(preview, 1)
        t_rast += _time(rasteriser_only, 1)
    t_scene = _time(lambda: build_scene(spec, "bench", res, image_dpi=dpi), n)
    t_svg = _time(lambda: write_svg(scene), n)
    t_full = _time(preview_full_dpi, max(5, n // 3))
    print(f"cold preview 1024 px      {percentiles(t_prev)}   (target p95 < 150 ms)")
    print(f"  build_scene             {percentiles(t_scene)}")
    print(f"  write_svg               {percentiles(t_svg)}")
    print(f"  (images at 300 dpi)     {percentiles(t_full)}")
    print(f"rasteriser alone (same SVG){percentiles(t_rast)}")
    p50 = sorted(t_prev)[len(t_prev) // 2] / sorted(t_rast)[len(t_rast) // 2]
    p95_prev = sorted(t_prev)[int(0.95 * (len(t_prev) - 1))]
    p95_rast = sorted(t_rast)[int(0.95 * (len(t_rast) - 1))]
    print(f"ratio preview / rasteriser: p50 {p50:.2f}  p95 {p95_prev / p95_rast:.2f}   (target <= 1.2)")

    def mug_3d() -> None:
        tex = raster.write_png(scene, 2048)
        write_glb(scene, model, tex)
        write_usdz(scene, model, tex)

    mug_3d()
    t3d = _time(mug_3d, max(5, n // 3))
    tex = raster.write_png(scene, 2048)
    t_glb = _time(lambda: write_glb(scene, model, tex), max(5, n // 3))
    t_usdz = _time(lambda: write_usdz(scene, model, tex), max(5, n // 3))
    print(f"mug texture 2048 + GLB + USDZ {percentiles(t3d)}   (target < 1.5 s)")
    print(f"  GLB only                {percentiles(t_glb)}")
    print(f"  USDZ only               {percentiles(t_usdz)}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
