"""A 3-zone design (colour band, photo, text) used by the rendering benchmarks."""

from __future__ import annotations

import hashlib
import io

import numpy as np
from PIL import Image

from luneo.design.model import (
    ColourInput,
    DesignSpec,
    ImageInput,
    Model3DDef,
    ProductDef,
    TextInput,
    ZoneDef,
    ZoneGeometry,
)


def photo_jpeg(w: int = 1600, h: int = 1200, seed: int = 7) -> bytes:
    """A noisy gradient 'photo' (realistic entropy for PNG/JPEG coding)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    a = np.stack([x * 255 // w, y * 255 // h, np.full_like(x, 120)], -1).astype(np.int16)
    a += rng.integers(-12, 12, size=a.shape, dtype=np.int16)
    a[(x - w * 0.7) ** 2 + (y - h * 0.3) ** 2 < (h * 0.15) ** 2] = (255, 230, 0)
    buf = io.BytesIO()
    Image.fromarray(a.clip(0, 255).astype(np.uint8)).save(buf, "JPEG", quality=88)
    return buf.getvalue()


class Resources:
    def __init__(self) -> None:
        self.images: dict[str, bytes] = {}

    def add(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        self.images[digest] = data
        return digest

    def font_data(self, font_id: str, sha256: str | None) -> bytes | None:
        return None

    def image_bytes(self, sha256: str) -> bytes:
        return self.images[sha256]


def mug_spec(res: Resources, with_text: bool = True) -> DesignSpec:
    """A 200 × 80 mm mug wrap: colour band, elliptical photo, name."""
    digest = res.add(photo_jpeg())
    zones = [
        ZoneDef(
            key="band", kind="colour", geometry=ZoneGeometry(x_mm=0, y_mm=65, width_mm=200, height_mm=15)
        ),
        ZoneDef(
            key="photo",
            kind="image",
            geometry=ZoneGeometry(shape="ellipse", x_mm=10, y_mm=5, width_mm=80, height_mm=55),
        ),
        ZoneDef(key="name", kind="text", geometry=ZoneGeometry(x_mm=100, y_mm=20, width_mm=90, height_mm=25)),
    ]
    product = ProductDef(
        id="mug",
        sku="MUG-11OZ",
        width_mm=200,
        height_mm=80,
        zones=zones,
        model3d=Model3DDef(kind="procedural", shape="mug"),
    )
    inputs: dict[str, TextInput | ImageInput | ColourInput] = {
        "band": ColourInput(color="#2255aa"),
        "photo": ImageInput(asset_id="a1", asset_sha256=digest, fit="smart"),
    }
    if with_text:
        inputs["name"] = TextInput(
            text="Joyeux anniversaire Zoé", font="fnt_serif", size_pt=22, color="#aa2200"
        )
    return DesignSpec(product=product, inputs=inputs)


def percentiles(samples: list[float]) -> str:
    a = np.array(samples) * 1000
    p50, p95, p99 = (float(np.percentile(a, q)) for q in (50, 95, 99))
    return f"p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  p99 {p99:7.1f} ms"
