"""Colour accuracy before/after colour management (ΔE2000, CIEDE2000; lower is better).

1. Uploads with an embedded profile, decoded for previews and RGB output: an Adobe RGB photo
   and a CMYK JPEG (tagged with the uncoated press profile). Reference: LittleCMS's conversion
   of the file's pixels through its own profile to CIELAB. Before = the profile ignored (numbers
   read as sRGB; Pillow's naive CMYK→RGB); after = `luneo.design.scene_builder.decode_image`.
2. A brand palette sent to press: sRGB → CMYK, then printed (CMYK → Lab through the output
   profile) against the colour's own Lab. Before = the naive formula (`writers.tiff.rgb_to_cmyk`);
   after = the shipped output profiles (`luneo.design.colour.srgb_to_cmyk`, relative + BPC).

Images are the synthetic photo-like fields of tests/unit/design/test_colour_management.py.
Run: .venv/bin/python bench/bench_colour.py
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from tests.unit.design.test_colour_management import (  # noqa: E402
    _ADOBE_TO_XYZ,
    _SRGB_TO_XYZ,
    ADOBE_RGB,
    PALETTE,
    _jpeg,
    _palette_de,
    photo,
)

from luneo.design import colour  # noqa: E402
from luneo.design.scene_builder import decode_image  # noqa: E402
from luneo.design.writers.tiff import rgb_to_cmyk  # noqa: E402


def _fmt(d: np.ndarray) -> str:
    return f"mean {d.mean():5.2f}  p95 {np.percentile(d, 95):5.2f}  max {d.max():5.2f}"


def uploads() -> None:
    a = photo(1, 3, 20, 235)
    data = _jpeg(a, "RGB", ADOBE_RGB)
    with Image.open(io.BytesIO(data)) as raw:
        px = raw.convert("RGB")
    ref = colour.to_lab(px, ADOBE_RGB, "RGB")
    before = colour.delta_e2000(ref, colour.to_lab(px))
    after = colour.delta_e2000(ref, colour.to_lab(decode_image(data)))
    lin = (np.asarray(px) / 255.0) ** 2.19921875
    srgb_lin = lin @ _ADOBE_TO_XYZ.T @ np.linalg.inv(_SRGB_TO_XYZ).T
    inside = ((srgb_lin > -0.002) & (srgb_lin < 1.002)).all(-1)
    print(f"Adobe RGB photo 96x96 ({inside.mean():.0%} of pixels inside sRGB's gamut)")
    print(f"  before  {_fmt(before)}")
    print(f"  after   {_fmt(after)}   (inside sRGB gamut: {_fmt(after[inside])})")

    k = photo(2, 4, 0, 200)
    k[..., 3] //= 2
    prof = colour.cmyk_profile_bytes("uncoated")
    data = _jpeg(k, "CMYK", prof)
    with Image.open(io.BytesIO(data)) as raw:
        raw.load()
        ref = colour.to_lab(raw, prof, "CMYK")
        naive = raw.convert("RGB")
    print("CMYK JPEG photo 96x96 (tagged FOGRA29 uncoated)")
    print(f"  before  {_fmt(colour.delta_e2000(ref, colour.to_lab(naive)))}")
    print(f"  after   {_fmt(colour.delta_e2000(ref, colour.to_lab(decode_image(data))))}")


def palette() -> None:
    print(f"Palette of {len(PALETTE)} colours through the output profile: {' '.join(PALETTE)}")
    for profile in ("coated", "uncoated"):
        before = _palette_de(rgb_to_cmyk, profile)
        after = _palette_de(lambda r, g, b, p=profile: colour.srgb_to_cmyk(r, g, b, p), profile)
        print(f"  {profile:8s} before  {_fmt(before)}")
        print(f"  {profile:8s} after   {_fmt(after)}")
        print("           per colour " + " ".join(f"{v:4.1f}" for v in after.ravel()))


if __name__ == "__main__":
    uploads()
    palette()
