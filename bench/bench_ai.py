"""Benchmark the local AI tools on a 2000×2000 photo-like image (skimage's astronaut, upscaled).

Baselines that write PNG use the same encoder as the tools (zlib level 1 + Z_RLE above 1 MP).
Prints p50/p95/p99 per operation (end to end: bytes in, PNG bytes out, and the core algorithm on
decoded arrays), plus baselines measured in the same run and the ratio of p50s.
Targets (p95): extract-colors and smart-crop < 200 ms, background removal < 1.5 s, 4× upscale of
500×500 < 1 s. Run: `.venv/bin/python bench/bench_ai.py [--quick]`.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable

import cv2
import numpy as np
from PIL import Image

from luneo.ai.local._imageio import encode_png
from luneo.ai.local.background import foreground_alpha, remove_background
from luneo.ai.local.colors import extract_colors
from luneo.ai.local.smart_crop import smart_crop, smart_crop_box
from luneo.ai.local.upscale import upscale, upscale_array


def photo(size: int) -> np.ndarray:
    try:
        from skimage import data

        img = data.astronaut()
    except ImportError:  # synthetic fallback: gradients, discs and noise
        rng = np.random.default_rng(0)
        yy, xx = np.mgrid[0:512, 0:512].astype(np.float32)
        img = np.dstack([128 + 90 * np.sin(xx / 37), 128 + 90 * np.cos(yy / 23), (xx + yy) / 4])
        img = np.clip(img + rng.normal(0, 8, img.shape), 0, 255).astype(np.uint8)
        for k in range(12):
            cv2.circle(img, (40 * k + 30, 256 + 60 * int(np.sin(k))), 30, (250, 60 + 15 * k, 40), -1)
    return cv2.resize(img, (size, size), interpolation=cv2.INTER_CUBIC)


def encode(arr: np.ndarray, fmt: str) -> bytes:
    """Test inputs: plain Pillow PNG/JPEG; baselines' outputs use the tools' own PNG encoder."""
    if fmt == "out":
        return encode_png(arr)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buf.getvalue()


def measure(fn: Callable[[], object], runs: int) -> list[float]:
    fn()  # warm-up (imports, OpenCV tables)
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000.0)
    return out


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100.0 * (len(s) - 1))))]


def row(name: str, ms: list[float], baseline: list[float] | None = None) -> None:
    p50, p95, p99 = pct(ms, 50), pct(ms, 95), pct(ms, 99)
    ratio = f"{statistics.median(ms) / statistics.median(baseline):6.2f}x" if baseline else "      -"
    print(f"{name:58s} n={len(ms):3d}  p50 {p50:8.1f}  p95 {p95:8.1f}  p99 {p99:8.1f} ms  {ratio}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer runs")
    args = parser.parse_args()
    k = 3 if args.quick else 1
    big = photo(2000)
    big_png, big_jpg = encode(big, "PNG"), encode(big, "JPEG")
    small = photo(500)
    small_png = encode(small, "PNG")
    print(f"python {sys.version.split()[0]}, OpenCV {cv2.__version__}, threads {cv2.getNumThreads()}")
    print(
        f"input: 2000x2000 photo-like (PNG {len(big_png) // 1024} KiB, JPEG q90 {len(big_jpg) // 1024} KiB)"
    )
    print("ratio = p50 / p50 of the baseline printed just above it\n")

    base_jpg = measure(lambda: Image.open(io.BytesIO(big_jpg)).convert("RGB").resize((256, 256)), 30 // k)
    row("baseline: Pillow decode JPEG + resize to 256", base_jpg)
    row("extract_colors(JPEG 2000², count=5)", measure(lambda: extract_colors(big_jpg), 30 // k), base_jpg)
    base_png = measure(lambda: Image.open(io.BytesIO(big_png)).convert("RGB").resize((256, 256)), 20 // k)
    row("baseline: Pillow decode PNG + resize to 256", base_png)
    row("extract_colors(PNG 2000², count=5)", measure(lambda: extract_colors(big_png), 20 // k), base_png)
    print()

    base_crop = measure(
        lambda: encode(
            np.asarray(Image.open(io.BytesIO(big_jpg)).crop((500, 0, 1625, 2000)).resize((450, 800))), "PNG"
        ),
        30 // k,
    )
    row("baseline: Pillow decode JPEG + fixed crop + resize + PNG", base_crop)
    row(
        "smart_crop(JPEG 2000², 9:16, out_width=450)",
        measure(lambda: smart_crop(big_jpg, (9, 16), out_width=450), 30 // k),
        base_crop,
    )
    base_box = measure(lambda: cv2.resize(big, (256, 256), interpolation=cv2.INTER_AREA), 30 // k)
    row("baseline: cv2 INTER_AREA resize of the array to 256", base_box)
    row(
        "smart_crop_box(array 2000², 9:16) [core]",
        measure(lambda: smart_crop_box(big, 9 / 16), 30 // k),
        base_box,
    )
    print()

    base_io = measure(
        lambda: encode(np.asarray(Image.open(io.BytesIO(big_png)).convert("RGBA")), "out"), 8 // k
    )
    row("baseline: Pillow decode PNG + encode RGBA PNG", base_io)
    row("remove_background(PNG 2000²)", measure(lambda: remove_background(big_png), 10 // k), base_io)
    row(
        "foreground_alpha(array 2000²) [core, GrabCut path]",
        measure(lambda: foreground_alpha(big), 10 // k),
        base_io,
    )
    print()

    base_up = measure(
        lambda: encode(
            np.asarray(Image.open(io.BytesIO(small_png)).resize((2000, 2000), Image.Resampling.LANCZOS)),
            "PNG",
        ),
        8 // k,
    )
    row("baseline: Pillow LANCZOS 4x of 500² + PNG encode", base_up)
    row("upscale(PNG 500², 4)", measure(lambda: upscale(small_png, 4), 10 // k), base_up)
    base_up_core = measure(lambda: cv2.resize(small, (2000, 2000), interpolation=cv2.INTER_LANCZOS4), 10 // k)
    row("baseline: cv2 INTER_LANCZOS4 4x of the 500² array", base_up_core)
    row("upscale_array(500², 4) [core]", measure(lambda: upscale_array(small, 4), 10 // k), base_up_core)


if __name__ == "__main__":
    main()
