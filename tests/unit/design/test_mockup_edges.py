"""Every demo product's mockup reaches the photo's edges: the outermost pixel columns and rows
are as opaque as the product photo there (no transparent strip at the right or bottom), at the
widths the widget (720) and the share page (1200) ask for."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from luneo.catalog.seed import DEMO_MOCKUPS, DEMO_PRODUCTS
from luneo.design.geometry import rect_path
from luneo.design.mockup import render_mockup
from luneo.design.model import MockupWrap
from luneo.design.scene import Mockup, Scene, ShapeItem

ENTRIES: dict[str, dict[str, Any]] = json.loads((DEMO_MOCKUPS / "mockups.json").read_text())
SIZES = {p["sku"]: (float(p["width_mm"]), float(p["height_mm"])) for p in DEMO_PRODUCTS}
WIDTHS = (720, 1200)  # the widget's preview, the share page's image


def _scene(sku: str, photo: bytes | None = None) -> tuple[Scene, Image.Image]:
    e: dict[str, Any] = ENTRIES[sku]
    png = photo if photo is not None else (DEMO_MOCKUPS / str(e["image"])).read_bytes()
    base = Image.open(io.BytesIO(png))
    w_mm, h_mm = SIZES[sku]
    quad = None
    if "corners" in e:
        (ax, ay), (bx, by), (cx, cy), (dx, dy) = e["corners"]
        quad = (
            (float(ax), float(ay)),
            (float(bx), float(by)),
            (float(cx), float(cy)),
            (float(dx), float(dy)),
        )
    maps = {k: (DEMO_MOCKUPS / str(e[k])).read_bytes() for k in ("shading", "displacement") if k in e}
    mockup = Mockup(
        png=png,
        width_px=base.width,
        height_px=base.height,
        offset_x_px=0.0,
        offset_y_px=0.0,
        px_per_mm=1.0,
        quad=quad,
        wrap=MockupWrap(**e["wrap"]) if "wrap" in e else None,
        shading=maps.get("shading"),
        displacement=maps.get("displacement"),
        displacement_px=float(e.get("displacement_px", 0.0)),
    )
    fill = ShapeItem("fill", rect_path(-5, -5, w_mm + 10, h_mm + 10), fill="#1f3a5f")
    scene = Scene(
        spec_hash="0" * 64,
        width_mm=w_mm,
        height_mm=h_mm,
        outline=rect_path(0, 0, w_mm, h_mm),
        safe_areas=(),
        items=(fill,),
        mockup=mockup,
    )
    return scene, base


def _edges(a: np.ndarray) -> dict[str, np.ndarray]:
    return {"left": a[:, 0], "right": a[:, -1], "top": a[0, :], "bottom": a[-1, :]}


@pytest.mark.parametrize("sku", sorted(ENTRIES))
def test_the_outermost_rows_and_columns_are_as_opaque_as_the_photo(sku: str) -> None:
    scene, base = _scene(sku)
    for width in WIDTHS:
        out = render_mockup(scene, width_px=width)
        expected_h = round(base.height * (width / base.width))
        assert out.size == (width, expected_h), (sku, width)
        # the output's aspect ratio is the photo's to within one pixel of rounding
        assert abs(out.height * base.width / base.height - width) <= base.width / base.height
        alpha = np.asarray(out.convert("RGBA"))[..., 3]
        ref = np.asarray(base.convert("RGBA").resize(out.size, Image.Resampling.BILINEAR))[..., 3]
        for side, line in _edges(alpha).items():
            opaque = _edges(ref)[side] == 255
            assert (line[opaque] == 255).all(), (sku, width, side)


def test_a_cut_out_photo_keeps_its_own_alpha_at_the_edges() -> None:
    """A brand's photo with transparency (a cut-out T-shirt): the mockup is opaque exactly where
    the photo is, up to the last column and row."""
    rgb = Image.open(DEMO_MOCKUPS / "tshirt.png").convert("RGB")
    cut = rgb.convert("RGBA")
    a = np.full((rgb.height, rgb.width), 255, np.uint8)
    a[:, : rgb.width // 10] = 0  # a transparent band on the left, opaque to the right edge
    cut.putalpha(Image.fromarray(a))
    buf = io.BytesIO()
    cut.save(buf, "PNG")
    scene, _base = _scene("DEMO-TSHIRT", buf.getvalue())
    for width in WIDTHS:
        alpha = np.asarray(render_mockup(scene, width_px=width))[..., 3]
        assert (alpha[:, -1] == 255).all() and (alpha[-1, width // 5 :] == 255).all(), width
        assert (alpha[:, 0] == 0).all(), width


def test_the_demo_mockup_files_are_opaque_to_their_edges() -> None:
    for name in sorted(p.name for p in Path(DEMO_MOCKUPS).glob("*.png")):
        img = Image.open(DEMO_MOCKUPS / name)
        alpha = np.asarray(img.convert("RGBA"))[..., 3]
        assert all((line == 255).all() for line in _edges(alpha).values()), name
