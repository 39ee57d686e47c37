"""Hand-built Scenes for the production-file tests and benchmarks (no scene builder needed).

Glyphs are closed contours with quadratic and cubic curves and counters (holes) wound
opposite to their outer contour, as a font's outlines are.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from luneo.design.geometry import Path, PathCommand, ellipse_path, rect_path, translate
from luneo.design.scene import ImageItem, Scene, SceneItem, ShapeItem, TextItem


def _reverse_ellipse(cx: float, cy: float, rx: float, ry: float) -> Path:
    """Ellipse wound the other way (a counter inside an outer contour)."""
    kx, ky = 0.5522847498 * rx, 0.5522847498 * ry
    return Path(
        (
            ("M", (cx + rx, cy)),
            ("C", (cx + rx, cy - ky, cx + kx, cy - ry, cx, cy - ry)),
            ("C", (cx - kx, cy - ry, cx - rx, cy - ky, cx - rx, cy)),
            ("C", (cx - rx, cy + ky, cx - kx, cy + ry, cx, cy + ry)),
            ("C", (cx + kx, cy + ry, cx + rx, cy + ky, cx + rx, cy)),
            ("Z", ()),
        )
    )


def glyph_o(x: float, y: float, h: float, stroke: float) -> Path:
    """An 'O' of height h (top-left at x, y): outer ellipse and a reversed counter."""
    rx, ry = 0.4 * h, h / 2
    cx, cy = x + rx, y + ry
    return Path(
        ellipse_path(cx, cy, rx, ry).commands + _reverse_ellipse(cx, cy, rx - stroke, ry - stroke).commands
    )


def glyph_d(x: float, y: float, h: float, stroke: float) -> Path:
    """A 'D' built from quadratic curves with a counter (tests Q → cubic conversion)."""
    w = 0.7 * h
    s = stroke
    outer: tuple[PathCommand, ...] = (
        ("M", (x, y)),
        ("L", (x + w * 0.4, y)),
        ("Q", (x + w, y, x + w, y + h / 2)),
        ("Q", (x + w, y + h, x + w * 0.4, y + h)),
        ("L", (x, y + h)),
        ("Z", ()),
    )
    inner: tuple[PathCommand, ...] = (
        ("M", (x + s, y + s)),
        ("L", (x + s, y + h - s)),
        ("L", (x + w * 0.4, y + h - s)),
        ("Q", (x + w - s, y + h - s, x + w - s, y + h / 2)),
        ("Q", (x + w - s, y + s, x + w * 0.4, y + s)),
        ("Z", ()),
    )
    return Path(outer + inner)


def glyph_i(x: float, y: float, h: float, stroke: float) -> Path:
    return rect_path(x, y, stroke, h)


GLYPHS = (glyph_o, glyph_d, glyph_i)


def glyph_run(x: float, y: float, h: float, stroke: float, count: int) -> tuple[Path, ...]:
    """`count` glyphs cycling O, D, I laid out left to right."""
    out: list[Path] = []
    pen = x
    for i in range(count):
        fn = GLYPHS[i % len(GLYPHS)]
        out.append(fn(pen, y, h, stroke))
        bb = out[-1].bbox()
        assert bb is not None
        pen = bb.x1 + 0.15 * h
    return tuple(out)


def make_png(w: int = 120, h: int = 80, alpha: bool = True) -> bytes:
    """A small deterministic PNG: colour bands and a translucent disc."""
    img = Image.new("RGBA" if alpha else "RGB", (w, h), (255, 255, 255, 0) if alpha else (255, 255, 255))
    d = ImageDraw.Draw(img)
    d.rectangle((0, 0, w // 3, h), fill=(220, 30, 30, 255) if alpha else (220, 30, 30))
    d.rectangle((w // 3, 0, 2 * w // 3, h), fill=(30, 160, 60, 255) if alpha else (30, 160, 60))
    d.rectangle((2 * w // 3, 0, w, h), fill=(30, 60, 200, 255) if alpha else (30, 60, 200))
    d.ellipse((w // 4, h // 4, 3 * w // 4, 3 * h // 4), fill=(250, 220, 0, 255) if alpha else (250, 220, 0))
    if alpha:  # a transparent strip along the top edge
        d.rectangle((0, 0, w, h // 10), fill=(0, 0, 0, 0))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def image_item(
    zone_key: str = "photo",
    x: float = 55.0,
    y: float = 8.0,
    w: float = 30.0,
    h: float = 20.0,
    px: tuple[int, int] = (120, 80),
    dpi: float | None = None,
) -> ImageItem:
    png = make_png(*px)
    eff = dpi if dpi is not None else px[0] / (w / 25.4)
    return ImageItem(
        zone_key=zone_key,
        png=png,
        width_px=px[0],
        height_px=px[1],
        x_mm=x,
        y_mm=y,
        width_mm=w,
        height_mm=h,
        clip=ellipse_path(x + w / 2, y + h / 2, w / 2 - 1, h / 2 - 1),
        effective_dpi=eff,
    )


def text_item(
    zone_key: str = "name",
    x: float = 6.0,
    y: float = 10.0,
    h: float = 8.0,
    stroke: float = 1.2,
    count: int = 6,
    role: str = "print",
    missing: tuple[str, ...] = (),
    fill: str = "#1a1a1a",
) -> TextItem:
    glyphs = glyph_run(x, y, h, stroke, count)
    return TextItem(
        zone_key=zone_key,
        text="ODIODI"[:count] if count <= 6 else "ODI" * (count // 3 + 1),
        glyphs=glyphs,
        fill=fill,
        font_id="test-font",
        size_pt=h / 0.3528,
        role=role,
        missing_chars=missing,
    )


def demo_scene(
    *,
    bleed: float = 3.0,
    crop_marks: bool = False,
    color_mode: str = "rgb",
    method: str = "print",
    glyph_count: int = 6,
    items: tuple[SceneItem, ...] | None = None,
    width: float = 90.0,
    height: float = 50.0,
    background: str | None = "#fdfaf3",
) -> Scene:
    """A business-card-like scene: background, a colour band, text, a clipped photo, a cut line."""
    if items is None:
        items = (
            ShapeItem("band", rect_path(0, 36, width, 14), fill="#f0c020"),
            text_item(count=glyph_count),
            image_item(),
            ShapeItem(
                "frame", rect_path(2, 2, width - 4, height - 4, 3), stroke="#c00000", stroke_width_mm=0.5
            ),
        )
    return Scene(
        spec_hash="sha256:" + "ab" * 32,
        width_mm=width,
        height_mm=height,
        outline=rect_path(0, 0, width, height),
        safe_areas=(
            ("name", rect_path(4, 4, width - 8, height - 8)),
            ("photo", rect_path(4, 4, width - 8, height - 8)),
        ),
        items=items,
        production_method=method,
        background=background,
        bleed_mm=bleed,
        crop_marks=crop_marks,
        color_mode=color_mode,
    )


def shifted(path: Path, dx: float, dy: float) -> Path:
    return path.transformed(translate(dx, dy))
