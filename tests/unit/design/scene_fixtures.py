"""Design specs, in-memory resources and generated images for the scene/writer tests."""

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


def photo_bytes(w: int = 320, h: int = 240, fmt: str = "JPEG", exif_orientation: int | None = None) -> bytes:
    """A gradient photo with a bright yellow disc near the top-right (the salient spot)."""
    y, x = np.mgrid[0:h, 0:w]
    a = np.zeros((h, w, 3), np.uint8)
    a[..., 0] = x * 255 // w
    a[..., 1] = 60
    a[..., 2] = 128
    a[(x - w * 0.8) ** 2 + (y - h * 0.25) ** 2 < (h * 0.12) ** 2] = (255, 255, 0)
    img = Image.fromarray(a)
    buf = io.BytesIO()
    if exif_orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        img.save(buf, fmt, exif=exif.tobytes())
    else:
        img.save(buf, fmt)
    return buf.getvalue()


class MemoryResources:
    """SceneResources over dicts; counts font look-ups."""

    def __init__(self) -> None:
        self.images: dict[str, bytes] = {}
        self.font_requests: list[tuple[str, str | None]] = []

    def add(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        self.images[digest] = data
        return digest

    def font_data(self, font_id: str, sha256: str | None) -> bytes | None:
        self.font_requests.append((font_id, sha256))
        return None

    def image_bytes(self, sha256: str) -> bytes:
        return self.images[sha256]


def three_zone_spec(
    res: MemoryResources,
    *,
    fit: str = "cover",
    text: str | None = None,
    bleed_mm: float = 0.0,
    rotation_deg: float = 0.0,
    photo: bytes | None = None,
    shape3d: str = "mug",
) -> DesignSpec:
    """A 100 × 60 mm product: a colour band, an elliptical photo zone and a text zone."""
    digest = res.add(photo if photo is not None else photo_bytes())
    zones = [
        ZoneDef(key="band", kind="colour", geometry=ZoneGeometry(x_mm=0, y_mm=0, width_mm=100, height_mm=10)),
        ZoneDef(
            key="photo",
            kind="image",
            geometry=ZoneGeometry(
                shape="ellipse",
                x_mm=10,
                y_mm=14,
                width_mm=40,
                height_mm=30,
                rotation_deg=rotation_deg,
                safe_inset_mm=2,
            ),
        ),
        ZoneDef(
            key="name",
            kind="text",
            role="engrave",
            default_color="#112233",
            geometry=ZoneGeometry(x_mm=55, y_mm=20, width_mm=40, height_mm=15),
        ),
    ]
    product = ProductDef(
        id="prod_1",
        sku="MUG-1",
        width_mm=100,
        height_mm=60,
        shape="rounded_rect",
        corner_radius_mm=4,
        bleed_mm=bleed_mm,
        zones=zones,
        model3d=Model3DDef(kind="procedural", shape=shape3d),  # type: ignore[arg-type]
    )
    inputs: dict[str, TextInput | ImageInput | ColourInput] = {
        "band": ColourInput(color="#3366CC"),
        "photo": ImageInput(asset_id="asset_1", asset_sha256=digest, fit=fit),  # type: ignore[arg-type]
    }
    if text is not None:
        inputs["name"] = TextInput(text=text, font="fnt_sans", size_pt=20)
    return DesignSpec(product=product, inputs=inputs)
