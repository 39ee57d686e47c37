"""Mockup vs flat preview, per demo product, in the same process (1024 px wide, PNG-encoded).

Both go through the preview pipeline (`luneo.rendering.pipeline.render_spec`): spec → preview Scene →
flat raster, or → `render_mockup` (design raster, perspective/cylinder warp, shading, displacement,
effect) on the project-made demo photo. The demo catalog and its mockups are built offline from
`luneo.catalog.seed` and `src/luneo/catalog/demo_mockups/` (no database). Runs interleave so that
background load hits both alike.

Run: .venv/bin/python bench/bench_mockup.py [N]
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _design_fixtures import Resources, percentiles, photo_jpeg

from luneo.catalog.seed import DEMO_MOCKUPS, DEMO_PRODUCTS
from luneo.design.model import MockupDef, ProductDef, ZoneDef
from luneo.design.spec import build_spec
from luneo.rendering import pipeline

WIDTH = 1024
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
    import io

    from PIL import Image

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


def main(n: int = 20) -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    res = Resources()
    photo = photo_jpeg(2400, 2400)
    photo_sha = res.add(photo)
    print(f"{WIDTH} px, PNG; load avg {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    for spec in DEMO_PRODUCTS:
        product = demo_product(spec, res)
        inputs: dict[str, Any] = {k: {"text": v} for k, v in TEXT[spec["sku"]].items()}
        for z in product.zones:
            if z.kind == "image":
                inputs[z.key] = {"kind": "image", "asset_id": "photo"}
        built = build_spec(product, inputs, asset_lookup=lambda _id: (photo_sha, 2400, 2400))
        assert built.spec is not None and built.spec_hash is not None, built.violations

        def flat(spec=built.spec, h=built.spec_hash) -> bytes:  # type: ignore[no-untyped-def]
            return pipeline.render_spec(spec, h, res, ["png"], width=WIDTH).files["png"].data

        def mockup(spec=built.spec, h=built.spec_hash) -> bytes:  # type: ignore[no-untyped-def]
            return pipeline.render_spec(spec, h, res, ["png"], width=WIDTH, mockup=True).files["png"].data

        flat(), mockup()  # warm the font, glyph and decoded-photo caches, as in a worker
        t_flat: list[float] = []
        t_mock: list[float] = []
        for _ in range(n):
            for fn, out in ((flat, t_flat), (mockup, t_mock)):
                t = time.perf_counter()
                fn()
                out.append(time.perf_counter() - t)
        kind = "wrap" if product.mockup and product.mockup.wrap else "quad"
        print(f"{spec['sku']:<13} {kind}  mockup {percentiles(t_mock)}")
        print(f"{'':<13}       flat   {percentiles(t_flat)}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
