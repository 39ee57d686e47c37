"""Bleed is filled: background and flush artwork run on into the bleed; text stays out of it.

Pixels are sampled in the bleed band of the print PNG and of the PDF rasterised by pdftoppm.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path as FsPath

import numpy as np
import pytest
from PIL import Image

from luneo.design.bleed import bleed_scene
from luneo.design.geometry import rect_path
from luneo.design.scene import ImageItem, Scene, ShapeItem, TextItem
from luneo.design.writers.pdf import crop_slug_mm, write_pdf
from luneo.design.writers.raster import write_print_png

W, H, B = 100.0, 60.0, 3.0
DPI = 100
BG = (32, 64, 192)
ZONE = (0, 170, 0)
TEXT = (0, 0, 0)
EDGE = (250, 220, 0)  # the photo's right-most column (flush with the right trim edge)
PHOTO = (200, 60, 60)


def _photo() -> bytes:
    a = np.zeros((60, 40, 3), np.uint8)
    a[:, :] = PHOTO
    a[:, -4:] = EDGE  # 4 px = 2.67 mm band along the right edge
    buf = io.BytesIO()
    Image.fromarray(a, "RGB").save(buf, "PNG")
    return buf.getvalue()


def scene(*, crop_marks: bool = False, color_mode: str = "rgb") -> Scene:
    photo = ImageItem(
        zone_key="photo",
        png=_photo(),
        width_px=40,
        height_px=60,
        x_mm=70.0,
        y_mm=0.0,
        width_mm=30.0,
        height_mm=45.0,
        clip=rect_path(70, 0, 30, 45),
        effective_dpi=34.0,
    )
    # A "glyph" crossing the top trim line at x 40..50: text must stop at the trim.
    glyph = rect_path(40, -2, 10, 6)
    return Scene(
        spec_hash="bleed",
        width_mm=W,
        height_mm=H,
        outline=rect_path(0, 0, W, H),
        safe_areas=(),
        items=(
            ShapeItem(zone_key="band", path=rect_path(0, 20, 30, 20), fill="#00aa00"),
            photo,
            TextItem(zone_key="t", text="I", glyphs=(glyph,), fill="#000000", font_id="x", size_pt=12),
        ),
        background="#2040c0",
        bleed_mm=B,
        crop_marks=crop_marks,
        color_mode=color_mode,
        output_dpi=DPI,
    )


def _px(img: np.ndarray, x_mm: float, y_mm: float, origin_mm: float) -> tuple[int, ...]:
    k = DPI / 25.4
    return tuple(int(v) for v in img[int((y_mm + origin_mm) * k), int((x_mm + origin_mm) * k)])


def _close(got: tuple[int, ...], want: tuple[int, ...], tol: int = 6) -> bool:
    return all(abs(g - w) <= tol for g, w in zip(got, want, strict=False))


# (x, y) in mm in the bleed band → expected colour
SAMPLES = {
    "background top-left corner": ((-1.5, -1.5), BG),
    "background bottom": ((50.0, H + 1.5), BG),
    "background left": ((-1.5, 10.0), BG),
    "zone flush left": ((-1.5, 30.0), ZONE),
    "photo flush top": ((75.0, -1.5), PHOTO),
    "photo edge right (mirrored)": ((W + 1.5, 20.0), EDGE),
    "photo top-right corner": ((W + 1.5, -1.5), EDGE),
    "text stays out of the bleed": ((45.0, -1.0), BG),
}


def _print_png_pixels() -> np.ndarray:
    with Image.open(io.BytesIO(write_print_png(scene(), DPI))) as im:
        return np.asarray(im.convert("RGBA"))


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_print_png_bleed_band_is_filled(name: str) -> None:
    (x, y), want = SAMPLES[name]
    got = _px(_print_png_pixels(), x, y, B)
    assert got[3] == 255, f"{name}: transparent at ({x}, {y}) mm"
    assert _close(got[:3], want), f"{name}: {got[:3]} at ({x}, {y}) mm, want {want}"


def _pdf_pixels(tmp_path: FsPath, **kw: object) -> np.ndarray:
    assert shutil.which("pdftoppm"), (
        "pdftoppm is needed (scripts/install-test-tools.sh installs poppler-utils)"
    )
    src = tmp_path / "in.pdf"
    src.write_bytes(write_pdf(scene(**kw)))  # type: ignore[arg-type]
    subprocess.run(
        ["pdftoppm", "-r", str(DPI), "-png", "-singlefile", str(src), str(tmp_path / "out")], check=True
    )
    with Image.open(tmp_path / "out.png") as im:
        return np.asarray(im.convert("RGB"))


def test_pdf_bleed_band_is_filled(tmp_path: FsPath) -> None:
    img = _pdf_pixels(tmp_path)
    for name, ((x, y), want) in SAMPLES.items():
        got = _px(img, x, y, B)
        assert _close(got, want, 8), f"{name}: {got} at ({x}, {y}) mm, want {want}"


def test_pdf_bleed_with_crop_marks_keeps_the_slug_bare(tmp_path: FsPath) -> None:
    img = _pdf_pixels(tmp_path, crop_marks=True)
    origin = B + crop_slug_mm(scene(crop_marks=True))
    assert _close(_px(img, -1.5, -1.5, origin), BG, 8)
    assert _close(_px(img, W + 1.5, 20.0, origin), EDGE, 8)
    # beyond the bleed box: paper (the slug only holds the marks)
    assert _px(img, -B - 1.0, 30.0, origin) == (255, 255, 255)


def test_text_inside_the_trim_is_untouched_and_crossing_text_is_clipped() -> None:
    s = bleed_scene(scene())
    texts = [i for i in s.items if isinstance(i, TextItem)]
    assert len(texts) == 1
    ys = [p[1] for g in texts[0].glyphs for p in g.points()]
    assert min(ys) >= 0.0 - 1e-9
    inside = TextItem(
        zone_key="t", text="I", glyphs=(rect_path(40, 2, 10, 6),), fill="#000", font_id="x", size_pt=1
    )
    s2 = bleed_scene(Scene(**{**_fields(scene()), "items": (inside,)}))
    assert s2.items == (ShapeItem(zone_key="bleed-background", path=s2.items[0].path, fill="#2040c0"), inside)


def _fields(s: Scene) -> dict[str, object]:
    return {f: getattr(s, f) for f in s.__dataclass_fields__}


def test_no_bleed_no_change() -> None:
    s = Scene(**{**_fields(scene()), "bleed_mm": 0.0})
    assert bleed_scene(s) is s
