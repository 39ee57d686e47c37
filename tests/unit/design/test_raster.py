"""Raster writers: deterministic bytes, sizes, transparency, print PNG metadata, both backends."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from luneo.design.scene_builder import build_scene
from luneo.design.writers import raster
from luneo.design.writers.svg import write_svg

from .scene_fixtures import MemoryResources, three_zone_spec


@pytest.fixture(scope="module")
def scene():  # type: ignore[no-untyped-def]
    res = MemoryResources()
    return build_scene(three_zone_spec(res), "cafe", res)


def _chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    out, off = [], 8
    while off < len(png):
        (n,) = struct.unpack(">I", png[off : off + 4])
        out.append((png[off + 4 : off + 8], png[off + 8 : off + 8 + n]))
        off += 12 + n
    return out


def _rgba(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGBA"))


@pytest.mark.parametrize("backend", ["skia", "resvg"])
def test_png_deterministic_and_sized(scene, backend) -> None:  # type: ignore[no-untyped-def]
    a = raster.write_png(scene, 500, backend=backend)
    assert a == raster.write_png(scene, 500, backend=backend)
    with Image.open(io.BytesIO(a)) as im:
        assert im.size == (500, 300) and im.mode == "RGBA"
    assert {c for c, _ in _chunks(a)} == {b"IHDR", b"IDAT", b"IEND"}  # no time/text metadata


def test_webp_deterministic(scene) -> None:  # type: ignore[no-untyped-def]
    a = raster.write_webp(scene, 400)
    assert a == raster.write_webp(scene, 400)
    assert a[:4] == b"RIFF" and a[8:12] == b"WEBP"
    with Image.open(io.BytesIO(a)) as im:
        assert im.size == (400, 240) and im.mode == "RGBA"


def test_design_png_transparent_outside_zones(scene) -> None:  # type: ignore[no-untyped-def]
    px = _rgba(raster.write_png(scene, 1000))  # 10 px per mm
    assert px[550, 750, 3] == 0  # (75, 55) mm: inside the product, no zone content
    assert px[500, 50, 3] == 0  # (5, 50) mm: below the photo ellipse
    assert px[150, 120, 3] == 0  # (12, 15) mm: inside the photo zone's box, outside its ellipse
    assert tuple(px[50, 500]) == (0x33, 0x66, 0xCC, 255)  # colour band
    assert px[290, 300, 3] == 255  # (30, 29) mm: centre of the photo ellipse


def test_backends_agree(scene) -> None:  # type: ignore[no-untyped-def]
    svg = write_svg(scene, include_guides=True)
    a = np.asarray(raster.rasterise(svg, 600, backend="skia"), dtype=np.int16)
    b = np.asarray(raster.rasterise(svg, 600, backend="resvg"), dtype=np.int16)
    diff = np.abs(a - b).max(axis=2)
    assert diff.mean() < 1.0 and (diff > 16).mean() < 0.01


def test_thumbnail_letterboxed(scene) -> None:  # type: ignore[no-untyped-def]
    px = _rgba(raster.write_thumbnail(scene))
    assert px.shape == (200, 200, 4)
    assert px[:35, :, 3].max() == 0 and px[-35:, :, 3].max() == 0  # 100 × 60 mm → 200 × 120 band
    assert px[45, 100, 3] == 255


def test_print_png_true_size_srgb_and_dpi(scene) -> None:  # type: ignore[no-untyped-def]
    data = raster.write_print_png(scene, 300)
    assert data == raster.write_print_png(scene, 300)
    chunks = dict(_chunks(data))
    assert chunks[b"sRGB"] == b"\x00"
    ppm_x, ppm_y, unit = struct.unpack(">IIB", chunks[b"pHYs"])
    assert unit == 1 and ppm_x == ppm_y == round(300 / 0.0254)
    with Image.open(io.BytesIO(data)) as im:
        assert im.size == (round(100 / 25.4 * 300), round(60 / 25.4 * 300)) and im.mode == "RGBA"
    names = [c for c, _ in _chunks(data)]
    assert names.index(b"sRGB") < names.index(b"IDAT") and b"tIME" not in names
    assert zlib.crc32(data) == zlib.crc32(raster.write_print_png(scene))  # default = product DPI


def test_print_png_includes_bleed() -> None:
    res = MemoryResources()
    scene = build_scene(three_zone_spec(res, bleed_mm=3), "b", res)
    with Image.open(io.BytesIO(raster.write_print_png(scene, 254))) as im:
        assert im.size == (1060, 660)


def test_render_png_of_plain_svg() -> None:
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="20mm" height="10mm" viewBox="0 0 20 10">'
        b'<path d="M0 0L10 0L10 10L0 10Z" fill="#ff0000"/></svg>'
    )
    px = _rgba(raster.render_png(svg, 200))
    assert px.shape == (100, 200, 4)
    assert tuple(px[50, 50]) == (255, 0, 0, 255) and px[50, 150, 3] == 0
    with pytest.raises(ValueError):
        raster.render_png(svg, 0)
