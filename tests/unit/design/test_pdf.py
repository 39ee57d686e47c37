"""PDF writer: validity (qpdf), true size, boxes, determinism, outlined text, CMYK, looks."""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import zlib
from pathlib import Path as FsPath

import numpy as np
import pytest
from PIL import Image, ImageChops, ImageDraw

from luneo.design.bleed import bleed_scene
from luneo.design.flatten import flatten
from luneo.design.geometry import rect_path
from luneo.design.scene import Scene, ShapeItem, TextItem
from luneo.design.writers.pdf import CROP_MARK_GAP_MM, CROP_MARK_LEN_MM, CROP_SLUG_PAD_MM, write_pdf
from tests.unit.design.production_scenes import demo_scene, image_item, text_item

K = 72 / 25.4


def _box(pdf: bytes, name: str) -> list[float]:
    m = re.search(rb"/" + name.encode() + rb" \[\s*([-\d. ]+)\]", pdf)
    assert m, f"/{name} missing"
    return [float(v) for v in m.group(1).split()]


def _streams(pdf: bytes) -> list[bytes]:
    out = []
    for m in re.finditer(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        try:
            out.append(zlib.decompressobj().decompress(m.group(1)))
        except zlib.error:
            out.append(m.group(1))
    return out


@pytest.mark.parametrize("cmyk", [False, True])
@pytest.mark.parametrize("crop", [False, True])
def test_qpdf_check_passes(tmp_path: FsPath, cmyk: bool, crop: bool) -> None:
    if shutil.which("qpdf") is None:
        pytest.skip("qpdf not installed (apt-get install -y qpdf)")
    f = tmp_path / "out.pdf"
    f.write_bytes(write_pdf(demo_scene(crop_marks=crop), cmyk=cmyk))
    res = subprocess.run(["qpdf", "--check", str(f)], capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "No syntax or stream encoding errors" in res.stdout


def test_page_size_is_true_size_with_bleed() -> None:
    pdf = write_pdf(demo_scene(bleed=3.0))
    x0, y0, x1, y1 = _box(pdf, "MediaBox")
    assert (x0, y0) == (0, 0)
    assert x1 == pytest.approx((90 + 6) * K, abs=0.01)
    assert y1 == pytest.approx((50 + 6) * K, abs=0.01)
    assert _box(pdf, "TrimBox") == pytest.approx([3 * K, 3 * K, 93 * K, 53 * K], abs=0.01)


def test_crop_marks_add_a_slug_and_boxes() -> None:
    pdf = write_pdf(demo_scene(bleed=2.0, crop_marks=True))
    slug = CROP_MARK_GAP_MM + CROP_MARK_LEN_MM + CROP_SLUG_PAD_MM
    m = 2.0 + slug
    assert _box(pdf, "MediaBox")[2:] == pytest.approx([(90 + 2 * m) * K, (50 + 2 * m) * K], abs=0.01)
    assert _box(pdf, "TrimBox") == pytest.approx([m * K, m * K, (m + 90) * K, (m + 50) * K], abs=0.01)
    assert _box(pdf, "BleedBox") == pytest.approx(
        [slug * K, slug * K, (slug + 94) * K, (slug + 54) * K], abs=0.01
    )
    without = write_pdf(demo_scene(bleed=2.0, crop_marks=False))
    assert b"/TrimBox" in without
    content = b"".join(_streams(pdf))
    # 8 crop-mark segments drawn with the hairline width
    assert content.count(b" l S") - b"".join(_streams(without)).count(b" l S") == 8


def test_deterministic_bytes() -> None:
    s = demo_scene(crop_marks=True)
    assert write_pdf(s) == write_pdf(s)
    assert write_pdf(s, cmyk=True) == write_pdf(s, cmyk=True)
    assert write_pdf(s) != write_pdf(s, cmyk=True)


def test_deterministic_across_processes() -> None:
    """Same bytes in a fresh interpreter with another hash seed."""
    root = FsPath(__file__).resolve().parents[3]
    code = (
        "import hashlib, sys; sys.path[:0] = [sys.argv[1], sys.argv[1] + '/src'];"
        "from tests.unit.design.production_scenes import demo_scene;"
        "from luneo.design.writers.pdf import write_pdf;"
        "s = demo_scene(crop_marks=True);"
        "print(hashlib.sha256(write_pdf(s) + write_pdf(s, cmyk=True)).hexdigest())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "4"}
    out = subprocess.run(
        [sys.executable, "-c", code, str(root)], capture_output=True, text=True, check=True, env=env
    )
    s = demo_scene(crop_marks=True)
    assert out.stdout.strip() == hashlib.sha256(write_pdf(s) + write_pdf(s, cmyk=True)).hexdigest()


def test_text_is_vector_without_fonts() -> None:
    pdf = write_pdf(demo_scene())
    assert b"/BaseFont" not in pdf
    assert b"/Type /Font" not in pdf
    content = b"".join(_streams(pdf))
    assert b"BT" not in content and b" Tf" not in content
    # glyph curves (quadratics become cubics) are present
    assert content.count(b" c ") + content.count(b" c\n") >= 20


def test_cmyk_variant_uses_device_cmyk_only() -> None:
    scene = demo_scene(color_mode="cmyk")
    pdf = write_pdf(scene)  # follows scene.color_mode
    assert pdf == write_pdf(scene, cmyk=True)
    assert b"/DeviceCMYK" in pdf and b"/DeviceRGB" not in pdf
    content = b"".join(_streams(pdf))
    assert b" k\n" in content or b" k " in content
    assert b" rg" not in content
    # the photo keeps its transparency as a soft mask
    assert b"/SMask" in pdf
    rgb = write_pdf(scene, cmyk=False)
    assert b"/DeviceRGB" in rgb and b"/DeviceCMYK" not in rgb


def _pdftoppm(pdf: bytes, tmp_path: FsPath, dpi: int) -> Image.Image:
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm not installed (apt-get install -y poppler-utils)")
    src = tmp_path / "in.pdf"
    src.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-png", "-singlefile", str(src), str(tmp_path / "out")], check=True
    )
    with Image.open(tmp_path / "out.png") as im:
        return im.convert("RGB")


def _reference(scene: Scene, dpi: int, size: tuple[int, int]) -> Image.Image:
    """Draw the scene's flattened polygons with Pillow (even-odd via XOR per contour)."""
    ppm = dpi / 25.4
    b = scene.bleed_mm
    img = Image.new("RGB", size, "white")
    for item in scene.items:
        assert isinstance(item, ShapeItem | TextItem)
        paths = item.glyphs if isinstance(item, TextItem) else (item.path,)
        fill = item.fill
        assert fill is not None
        mask = Image.new("1", size, 0)
        for p in paths:
            for contour in flatten(p, 0.01):
                layer = Image.new("1", size, 0)
                ImageDraw.Draw(layer).polygon([((x + b) * ppm, (y + b) * ppm) for x, y in contour], fill=1)
                mask = ImageChops.logical_xor(mask, layer)
        img.paste(fill, mask=mask)
    return img


def test_rasterised_pdf_matches_reference(tmp_path: FsPath) -> None:
    items = (
        ShapeItem("band", rect_path(0, 34, 90, 16), fill="#2040c0"),
        text_item(h=12.0, stroke=2.0, count=6, fill="#000000"),
    )
    scene = demo_scene(items=items, bleed=2.0, background=None)
    dpi = 100
    got = _pdftoppm(write_pdf(scene), tmp_path, dpi)
    # the band touches the trim: it runs on into the bleed
    ref = _reference(bleed_scene(scene), dpi, got.size)
    a = np.asarray(got.convert("L"), dtype=np.float64)
    r = np.asarray(ref.convert("L"), dtype=np.float64)
    ink_a, ink_r = a < 128, r < 128
    iou = (ink_a & ink_r).sum() / (ink_a | ink_r).sum()
    flipped = ink_r[::-1]
    iou_flipped = (ink_a & flipped).sum() / (ink_a | flipped).sum()
    assert np.abs(a - r).mean() < 4.0
    assert iou > 0.93, iou
    assert iou_flipped < 0.5  # a y-axis mistake would not pass


def test_image_is_clipped(tmp_path: FsPath) -> None:
    img = image_item(x=10, y=10, w=40, h=30, px=(160, 120))
    scene = demo_scene(items=(img,), bleed=0.0)
    dpi = 100
    got = np.asarray(_pdftoppm(write_pdf(scene), tmp_path, dpi))
    ppm = dpi / 25.4

    def px(x: float, y: float) -> tuple[int, ...]:
        return tuple(int(v) for v in got[round(y * ppm), round(x * ppm)])

    centre = px(30, 25)
    assert centre[0] > 200 and centre[1] > 180 and centre[2] < 80  # yellow disc
    corner = px(11.5, 11.5)  # inside the image rectangle, outside the elliptical clip
    bg = px(5, 5)
    assert np.abs(np.array(corner) - np.array(bg)).max() < 10
    band = px(14, 25)  # red band, inside the clip
    assert band[0] > 180 and band[1] < 90


def test_embedded_image_keeps_pixels() -> None:
    pdf = write_pdf(demo_scene())
    m = re.search(rb"/Width (\d+)", pdf)
    assert m and int(m.group(1)) == 120
    # the photo is stored once, at full resolution, lossless
    assert pdf.count(b"/Subtype /Image") == 2  # colour + soft mask
    with Image.open(io.BytesIO(image_item().png)) as im:
        assert im.size == (120, 80)
