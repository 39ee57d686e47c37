"""Production-file timings for a business card with ~40 glyph outlines and one photo.

Per format: PDF (RGB and CMYK), DXF (with kerf), CMYK TIFF from the 300-DPI print PNG, the pack
ZIP with manifest, and the pre-flight checks. Baseline measured in the same run when available:
`inkscape --export-type=pdf` on the same scene's SVG (process start included, as a worker would
pay it), printed as a ratio to our PDF writer.

Run: .venv/bin/python bench/bench_pack.py [N]
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT), str(ROOT / "src")]

from _stats import line, percentiles, time_calls  # noqa: E402
from tests.unit.design.production_scenes import demo_scene, image_item, text_item  # noqa: E402

from luneo.design.model import ProductDef  # noqa: E402
from luneo.design.pack import PackFile, build_pack  # noqa: E402
from luneo.design.print_checks import run_print_checks  # noqa: E402
from luneo.design.writers.dxf import write_dxf  # noqa: E402
from luneo.design.writers.pdf import page_size_mm, write_pdf  # noqa: E402
from luneo.design.writers.raster import write_print_png  # noqa: E402
from luneo.design.writers.svg import write_svg  # noqa: E402
from luneo.design.writers.tiff import write_cmyk_tiff  # noqa: E402


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    lines = tuple(
        text_item(f"line{i}", x=5.0, y=6.0 + 7.0 * i, h=5.0, stroke=0.7, count=10) for i in range(4)
    )
    scene = demo_scene(crop_marks=True, method="print", items=(*lines, image_item()))
    glyphs = sum(len(getattr(i, "glyphs", ())) for i in scene.items)
    product = ProductDef(id="p", sku="CARD", width_mm=90, height_mm=50, production_method="engrave", zones=[])
    print(f"scene: {scene.width_mm}x{scene.height_mm} mm, {glyphs} glyph paths, 1 clipped image, n={n}")

    png = write_print_png(scene, 300)
    pdf = write_pdf(scene)
    dxf = write_dxf(scene, kerf_mm=0.2)
    tif = write_cmyk_tiff(png, 300)
    pw, ph = page_size_mm(scene)
    files = [
        PackFile("print.pdf", pdf, "application/pdf", pw, ph, None),
        PackFile("cut.dxf", dxf, "image/vnd.dxf", scene.width_mm, scene.height_mm, None),
        PackFile("print.tif", tif, "image/tiff", scene.width_mm, scene.height_mm, 300),
        PackFile("print.png", png, "image/png", scene.width_mm, scene.height_mm, 300),
    ]
    meta = {"order_id": "o", "item_id": "i", "snapshot_id": "s", "spec_hash": scene.spec_hash, "quantity": 1}
    print(
        f"sizes: pdf {len(pdf)} B, dxf {len(dxf)} B, tiff {len(tif)} B, png {len(png)} B, "
        f"zip {len(build_pack(files, meta)[0])} B"
    )

    results = {
        "PDF (RGB)": percentiles(time_calls(lambda: write_pdf(scene), n)),
        "PDF (CMYK)": percentiles(time_calls(lambda: write_pdf(scene, cmyk=True), n)),
        "DXF (kerf 0.2 mm)": percentiles(time_calls(lambda: write_dxf(scene, kerf_mm=0.2), n)),
        "TIFF CMYK 300 dpi (1063x591 px)": percentiles(time_calls(lambda: write_cmyk_tiff(png, 300), n)),
        "ZIP pack (pdf+dxf+tiff+png + manifest)": percentiles(time_calls(lambda: build_pack(files, meta), n)),
        "print checks (engrave, 40 glyphs)": percentiles(
            time_calls(lambda: run_print_checks(scene, product), n)
        ),
    }
    for name, st in results.items():
        print(line(name, st))

    inkscape = shutil.which("inkscape")
    if inkscape is None:
        print("baseline: Inkscape unavailable (apt-get install -y inkscape) — no ratio")
        return
    svg = write_svg(scene)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "scene.svg"
        src.write_bytes(svg)
        out = Path(tmp) / "scene.pdf"

        def run_inkscape() -> None:
            subprocess.run(
                [inkscape, "--export-type=pdf", f"--export-filename={out}", str(src)],
                check=True,
                capture_output=True,
            )

        k = max(5, n // 5)
        st = percentiles(time_calls(run_inkscape, k, warmup=1))
    print(line(f"baseline: inkscape --export-type=pdf (n={k})", st))
    ratio = st["p50"] / results["PDF (RGB)"]["p50"]
    print(f"ratio inkscape/ours (p50): {ratio:.1f}x")


if __name__ == "__main__":
    main()
