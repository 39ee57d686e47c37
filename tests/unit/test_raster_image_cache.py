"""The rasteriser's decoded-image cache (issue 13 §3, typing latency): a photo embedded in the
SVG is decoded once per content, and reusing it changes no output byte."""

from __future__ import annotations

import base64
import io

from PIL import Image

from luneo.design.writers import raster


def _png(color: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    img = Image.new("RGB", (64, 48), color)
    img.putpixel((3, 5), (255 - color[0], 0, 0))
    img.save(buf, "PNG")
    return buf.getvalue()


def _svg(photo: bytes, text_path: str) -> bytes:
    uri = "data:image/png;base64," + base64.b64encode(photo).decode()
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        'width="40mm" height="30mm" viewBox="0 0 40 30">'
        '<defs><clipPath id="c"><path d="M2 2L38 2L38 28L2 28Z"/></clipPath></defs>'
        f'<image x="0" y="0" width="40" height="30" preserveAspectRatio="none" clip-path="url(#c)" '
        f'xlink:href="{uri}"/>'
        f'<path d="{text_path}" fill="#102030"/></svg>'
    ).encode()


def _cold(svg: bytes) -> bytes:
    raster._decoded.clear()
    return raster.encode_png(raster.rasterise(svg, 160))


def test_a_cached_photo_gives_the_same_bytes_as_a_fresh_decode():
    photo = _png((200, 120, 40))
    svgs = [_svg(photo, d) for d in ("M5 5L20 5L20 12Z", "M6 6L30 8L12 20Z", "M5 5L20 5L20 12Z")]
    cold = [_cold(s) for s in svgs]
    raster._decoded.clear()
    warm = [raster.encode_png(raster.rasterise(s, 160)) for s in svgs]  # photo decoded once
    assert raster._decoded.currsize > 0
    assert warm == cold
    assert warm[0] == warm[2] != warm[1]


def test_another_photo_is_not_served_from_the_cache():
    a, b = _png((200, 120, 40)), _png((20, 160, 220))
    path = "M5 5L20 5L20 12Z"
    raster._decoded.clear()
    first = raster.encode_png(raster.rasterise(_svg(a, path), 160))
    other = raster.encode_png(raster.rasterise(_svg(b, path), 160))  # same layout, new bytes
    assert other != first
    assert other == _cold(_svg(b, path))
    pixel = Image.open(io.BytesIO(other)).convert("RGB").getpixel((80, 100))
    assert abs(pixel[2] - 220) < 8  # the new photo's blue, not the cached orange
