"""CMYK TIFF writer and the RGB→CMYK conversion shared with the PDF writer.

Conversion (no ICC profile, full grey-component replacement), r, g, b in [0, 1]:
    K = 1 − max(r, g, b);  C = (1 − r − K)/(1 − K);  M = (1 − g − K)/(1 − K);  Y = (1 − b − K)/(1 − K)
(C = M = Y = 0 when K = 1). Pure black prints as K only; greys are K only. This formula is kept
as a reference (and for the "before" figures of bench/bench_colour.py); the CMYK TIFF itself is
separated through the product's ICC output profile (`luneo.design.colour`) and carries it.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def rgb_to_cmyk(r: float, g: float, b: float) -> tuple[float, float, float, float]:
    """Convert one RGB colour (components 0..1) to CMYK (0..1) with the module's formula."""
    k = 1.0 - max(r, g, b)
    if k >= 1.0:
        return (0.0, 0.0, 0.0, 1.0)
    d = 1.0 - k
    return ((1.0 - r - k) / d, (1.0 - g - k) / d, (1.0 - b - k) / d, k)


def image_to_cmyk(img: Image.Image, background: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    """Convert an image to a Pillow "CMYK" image with the module's formula.

    Transparent pixels are composited over `background` first (a TIFF for print has no alpha).
    """
    rgb = composite_rgb(img, background)
    return rgb_array_to_cmyk_image(np.asarray(rgb, dtype=np.float32) / np.float32(255.0))


def composite_rgb(img: Image.Image, background: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    """RGB version of `img`, alpha flattened over `background`."""
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        base = Image.new("RGBA", rgba.size, (*background, 255))
        base.alpha_composite(rgba)
        return base.convert("RGB")
    return img.convert("RGB")


def rgb_array_to_cmyk_image(rgb: np.ndarray) -> Image.Image:
    """Float RGB array (h, w, 3) in 0..1 → Pillow CMYK image."""
    k = 1.0 - rgb.max(axis=2)
    d = np.where(k < 1.0, 1.0 - k, 1.0).astype(rgb.dtype)
    cmy = (1.0 - rgb - k[..., None]) / d[..., None]
    cmy[k >= 1.0] = 0.0
    cmyk = np.concatenate([cmy, k[..., None]], axis=2)
    data = np.clip(np.rint(cmyk * 255.0), 0, 255).astype(np.uint8)
    return Image.fromarray(data, mode="CMYK")


def write_cmyk_tiff(png_bytes: bytes, dpi: int, profile: str = "coated") -> bytes:
    """A CMYK TIFF (LZW, DPI tagged, no timestamps) from an sRGB PNG, separated through the
    `profile` output profile (perceptual, black-point compensation) and tagged with it;
    same input ⇒ same bytes."""
    from luneo.design import colour

    if dpi <= 0:
        raise ValueError("dpi must be positive")
    with Image.open(io.BytesIO(png_bytes)) as src:
        src.load()
        cmyk = colour.srgb_image_to_cmyk(src, profile, "perceptual")
    out = io.BytesIO()
    icc = colour.cmyk_profile_bytes(profile)
    cmyk.save(out, format="TIFF", compression="tiff_lzw", dpi=(dpi, dpi), icc_profile=icc)
    return out.getvalue()
