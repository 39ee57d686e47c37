"""Server render of a widget preview (a 720 px PNG mockup) after a text change, per demo product:
the old path ("baseline") vs the new one ("new"), in the same process.

Each iteration changes the text (a fresh suffix: a new spec_hash, never a cached preview) and
renders through the preview pipeline the render job runs (`luneo.rendering.pipeline.render_spec`:
spec → preview Scene → design raster → perspective/cylinder warp, displacement, shading, effect on
the product photo → PNG). "baseline" clears the mockup's static layers before each render (the
photo's output pixels, outline mask, sampling maps: made again every time, as before that cache;
decoded photos and fonts stay warm, as in a worker) and encodes the PNG with zlib's default
strategy (the old preview encoding); "new" keeps the static layers and encodes with
`raster.PREVIEW_PNG_STRATEGY`. Runs interleave so that background load hits both alike: compare
the ratios. Checked on every pair: the same pixels, and the same mockup step output bytes (the
`[mockup …]` column is that step alone, the cache's share).
The demo catalog and mockups come from `luneo.catalog.seed` and `src/luneo/catalog/demo_mockups/`.

Run: .venv/bin/python bench/bench_mockup.py [N] [WIDTH]   (defaults: 30 iterations, 720 px)
"""

from __future__ import annotations

import io
import json
import os
import random
import string
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _design_fixtures import Resources, photo_jpeg
from _stats import percentiles
from PIL import Image

from luneo.catalog.seed import DEMO_MOCKUPS, DEMO_PRODUCTS
from luneo.design import mockup as mockup_module
from luneo.design.model import MockupDef, ProductDef, ZoneDef
from luneo.design.spec import build_spec
from luneo.design.writers import raster
from luneo.rendering import pipeline

WIDTH = 720  # the widget asks for 720 px previews
TEXT = {
    "DEMO-PENDANT": {"arc_text": "Emma", "initial": "E"},
    "DEMO-MUG": {"name": "Grandma"},
    "DEMO-TSHIRT": {"slogan": "Good vibes only"},
    "DEMO-SIGN": {"title": "The Millers", "subtitle": "Est. 2026"},
    "DEMO-PHONE": {"initials": "AJ"},
    "DEMO-CARD": {"name": "Alex Martin", "title": "Product Designer"},
}
PRODUCT_FIELDS = set(ProductDef.model_fields) - {"id", "sku", "zones", "mockup", "model3d"}


def demo_product(spec: dict[str, Any], res: Resources) -> ProductDef:
    entry = json.loads((DEMO_MOCKUPS / "mockups.json").read_text())[spec["sku"]]
    maps = {
        f"{k}_sha256": res.add((DEMO_MOCKUPS / entry[k]).read_bytes())
        for k in ("shading", "displacement")
        if k in entry
    }
    image = (DEMO_MOCKUPS / entry["image"]).read_bytes()
    with Image.open(io.BytesIO(image)) as im:
        w, h = im.size
    place = {k: entry[k] for k in ("corners", "wrap", "displacement_px") if k in entry}
    mockup = MockupDef(asset_sha256=res.add(image), width_px=w, height_px=h, **maps, **place)
    zones = [
        ZoneDef.model_validate(
            {k: z[k] for k in ("key", "label", "kind", "geometry", "rules", "role") if k in z}
            | {
                "default_font": None if z.get("default_font") is None else "fnt_serif",
                "default_color": z.get("default_color"),
            }
        )
        for z in spec["zones"]
    ]
    fields = {k: v for k, v in spec.items() if k in PRODUCT_FIELDS}
    return ProductDef(id=spec["sku"].lower(), sku=spec["sku"], zones=zones, mockup=mockup, **fields)


NEW_STRATEGY = raster.PREVIEW_PNG_STRATEGY


def pixels(png: bytes) -> bytes:
    with Image.open(io.BytesIO(png)) as im:
        return im.mode.encode() + im.tobytes()


def renderer(
    product: ProductDef, res: Resources, photo_sha: str, width: int
) -> Callable[[str], tuple[bytes, float] | None]:
    """Render the product's demo texts, the first one ending in `suffix`: (PNG, mockup step ms)."""
    texts = TEXT[product.sku]
    first = next(iter(texts))

    def render(suffix: str) -> tuple[bytes, float] | None:
        inputs: dict[str, Any] = {k: {"text": v} for k, v in texts.items()}
        inputs[first] = {"text": texts[first][: max(1, len(texts[first]) - 2)] + suffix}
        for z in product.zones:
            if z.kind == "image":
                inputs[z.key] = {"kind": "image", "asset_id": "photo"}
        built = build_spec(product, inputs, asset_lookup=lambda _id: (photo_sha, 2400, 2400))
        if built.spec is None or built.spec_hash is None:
            return None  # e.g. the suffix made a blocked word: another one
        out = pipeline.render_spec(built.spec, built.spec_hash, res, ["png"], width=width, mockup=True)
        return out.files["png"].data, out.timings.get("mockup_ms", 0.0)

    return render


def main(n: int = 30, width: int = WIDTH) -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    res = Resources()
    photo = photo_jpeg(2400, 2400)
    photo_sha = res.add(photo)
    rng = random.Random(13)
    print(f"{width} px PNG mockup, {n} text changes per product; load avg {os.getloadavg()[0]:.2f}")
    print(f"{'product':<13} {'':<8} {'p50':>8} {'p95':>8} {'p99':>8}   (ms; mockup step p50 in brackets)")
    for spec in DEMO_PRODUCTS:
        product = demo_product(spec, res)
        render = renderer(product, res, photo_sha, width)
        render("Qz")  # warm fonts, glyphs and the decoded photos, as in a running worker
        times: dict[str, list[float]] = {"baseline": [], "new": []}
        steps: dict[str, list[float]] = {"baseline": [], "new": []}
        done = 0
        while done < n:
            suffix = "".join(rng.choice(string.ascii_letters) for _ in range(2))
            got: dict[str, bytes] = {}
            for mode in ("baseline", "new") if done % 2 == 0 else ("new", "baseline"):
                if mode == "baseline":
                    mockup_module.clear_caches()
                raster.PREVIEW_PNG_STRATEGY = zlib.Z_DEFAULT_STRATEGY if mode == "baseline" else NEW_STRATEGY
                t = time.perf_counter()
                r = render(suffix)
                elapsed = time.perf_counter() - t
                if r is None:
                    break
                got[mode] = r[0]
                times[mode].append(elapsed)
                steps[mode].append(r[1])
            if len(got) < 2:
                continue
            assert pixels(got["baseline"]) == pixels(got["new"]), f"{spec['sku']}: other pixels"
            done += 1
        stats = {mode: percentiles(ts) for mode, ts in times.items()}
        for mode in ("baseline", "new"):
            st = stats[mode]
            step = sorted(steps[mode])[len(steps[mode]) // 2]
            print(
                f"{spec['sku'] if mode == 'baseline' else '':<13} {mode:<8} "
                f"{st['p50']:8.1f} {st['p95']:8.1f} {st['p99']:8.1f}   [mockup {step:6.1f}]"
            )
        ratio = {p: stats["baseline"][p] / stats["new"][p] for p in ("p50", "p95", "p99")}
        print(f"{'':<13} {'ratio':<8} " + " ".join(f"{ratio[p]:7.2f}x" for p in ("p50", "p95", "p99")))
    raster.PREVIEW_PNG_STRATEGY = NEW_STRATEGY
    check_same_bytes(res, photo_sha, width)


def check_same_bytes(res: Resources, photo_sha: str, width: int) -> None:
    """The mockup step with its static layers cold, then warm: the same image bytes, per product."""
    for spec in DEMO_PRODUCTS:
        product = demo_product(spec, res)
        texts = {k: {"text": v} for k, v in TEXT[spec["sku"]].items()}
        inputs: dict[str, Any] = texts | {
            z.key: {"kind": "image", "asset_id": "photo"} for z in product.zones if z.kind == "image"
        }
        built = build_spec(product, inputs, asset_lookup=lambda _id: (photo_sha, 2400, 2400))
        assert built.spec is not None and built.spec_hash is not None
        scene = pipeline.prepare(built.spec, built.spec_hash, res, ["png"], width=width, mockup=True)
        assert scene.preview_scene is not None
        mockup_module.clear_caches()
        cold = mockup_module.render_mockup(scene.preview_scene, width_px=width).tobytes()
        warm = mockup_module.render_mockup(scene.preview_scene, width_px=width).tobytes()
        assert cold == warm, spec["sku"]
    print(
        f"cold == warm mockup bytes for all {len(DEMO_PRODUCTS)} products; cache {mockup_module.cache_info()}"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30, int(sys.argv[2]) if len(sys.argv) > 2 else WIDTH)
