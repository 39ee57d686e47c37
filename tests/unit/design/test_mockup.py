"""Mockups: placement (perspective quad, cylinder wrap), effects and the compatible MockupDef."""

from __future__ import annotations

import io
import itertools

import numpy as np
import pytest
from PIL import Image
from pydantic import ValidationError

from luneo.design.geometry import rect_path
from luneo.design.mockup import render_mockup, wrap_maps
from luneo.design.model import MockupDef, MockupWrap
from luneo.design.scene import Mockup, Scene, ShapeItem

PHOTO_W, PHOTO_H = 400, 300
GREY = (128, 128, 128)


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _scene(
    mockup: Mockup, *, w: float = 100.0, h: float = 50.0, items: tuple[ShapeItem, ...] | None = None
) -> Scene:
    if items is None:
        items = (ShapeItem("fill", rect_path(0, 0, w, h), fill="#ff0000"),)
    return Scene(
        spec_hash="0" * 64,
        width_mm=w,
        height_mm=h,
        outline=rect_path(0, 0, w, h),
        safe_areas=(),
        items=items,
        mockup=mockup,
    )


def _mockup(**kw: object) -> Mockup:
    photo = Image.new("RGB", (PHOTO_W, PHOTO_H), GREY)
    base: dict[str, object] = {
        "png": _png(photo),
        "width_px": PHOTO_W,
        "height_px": PHOTO_H,
        "offset_x_px": 0.0,
        "offset_y_px": 0.0,
        "px_per_mm": 1.0,
    }
    base.update(kw)
    return Mockup(**base)  # type: ignore[arg-type]


def _red(img: Image.Image) -> np.ndarray:
    a = np.asarray(img.convert("RGB")).astype(int)
    return (a[..., 0] > 200) & (a[..., 1] < 60) & (a[..., 2] < 60)


# ---------------------------------------------------------------- perspective


def test_quad_maps_design_corners_to_the_given_pixels() -> None:
    quad = ((60.0, 40.0), (330.0, 70.0), (310.0, 250.0), (80.0, 220.0))
    img = render_mockup(_scene(_mockup(quad=quad)), width_px=PHOTO_W)
    assert img.size == (PHOTO_W, PHOTO_H)
    red = _red(img)
    # Just inside each corner is design, just outside is photo.
    centre = np.mean(quad, axis=0)
    for x, y in quad:
        ix, iy = x + (centre[0] - x) * 0.04, y + (centre[1] - y) * 0.04
        ox, oy = x - (centre[0] - x) * 0.04, y - (centre[1] - y) * 0.04
        assert red[round(iy), round(ix)], (x, y)
        assert not red[round(oy), round(ox)], (x, y)
    ys, xs = np.nonzero(red)
    assert abs(xs.min() - 60) <= 2 and abs(xs.max() - 330) <= 2
    assert abs(ys.min() - 40) <= 2 and abs(ys.max() - 250) <= 2


def test_quad_scales_with_the_output_width() -> None:
    quad = ((100.0, 100.0), (300.0, 100.0), (300.0, 200.0), (100.0, 200.0))
    img = render_mockup(_scene(_mockup(quad=quad)), width_px=200)
    assert img.size == (200, 150)
    ys, xs = np.nonzero(_red(img))
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == pytest.approx((50, 149, 50, 99), abs=1.5)


def test_design_is_masked_to_the_product_outline() -> None:
    from luneo.design.geometry import ellipse_path

    quad = ((0.0, 0.0), (400.0, 0.0), (400.0, 300.0), (0.0, 300.0))
    scene = _scene(
        _mockup(quad=quad), w=40, h=30, items=(ShapeItem("f", rect_path(-5, -5, 50, 40), fill="#ff0000"),)
    )
    scene = Scene(
        **{**{f: getattr(scene, f) for f in scene.__slots__}, "outline": ellipse_path(20, 15, 20, 15)}
    )
    red = _red(render_mockup(scene, width_px=PHOTO_W))
    assert red[150, 200] and not red[5, 5] and not red[295, 395]


# ---------------------------------------------------------------- cylinder


def _stripes_scene(wrap: MockupWrap) -> Scene:
    """Ten equal vertical stripes alternating red and blue across a 100 × 50 mm print area."""
    items = tuple(
        ShapeItem(f"s{i}", rect_path(i * 10, 0, 10, 50), fill="#ff0000" if i % 2 == 0 else "#0000ff")
        for i in range(10)
    )
    return _scene(_mockup(wrap=wrap), items=items)


def test_cylinder_wrap_compresses_columns_toward_the_edges() -> None:
    wrap = MockupWrap(left_px=50, right_px=350, top_px=60, bottom_px=240, arc_deg=170)
    img = np.asarray(render_mockup(_stripes_scene(wrap), width_px=PHOTO_W).convert("RGB")).astype(int)
    row = img[150]
    is_red = (row[:, 0] > 150) & (row[:, 2] < 100)
    is_blue = (row[:, 2] > 150) & (row[:, 0] < 100)
    colour = np.where(is_red, 1, np.where(is_blue, 2, 0))
    runs: list[tuple[int, int]] = []  # (colour, length)
    start = None
    for x in range(len(colour) + 1):
        c = colour[x] if x < len(colour) else 0
        if start is not None and (c != colour[start]):
            runs.append((int(colour[start]), x - start))
            start = None
        if start is None and c != 0:
            start = x
    widths = [n for _c, n in runs]
    assert len(widths) == 10
    # Symmetric around the centre; strictly narrower toward each edge.
    left, right = widths[:5], widths[5:][::-1]
    assert all(a < b for a, b in itertools.pairwise(left)), widths
    assert all(a < b for a, b in itertools.pairwise(right)), widths
    assert abs(sum(widths) - 300 * np.sin(np.radians(85))) < 6


def test_cylinder_wrap_edges_follow_the_rim_curve() -> None:
    wrap = MockupWrap(left_px=50, right_px=350, top_px=60, bottom_px=240, top_curve_px=20, arc_deg=120)
    x_mm, y_mm = wrap_maps(_stripes_scene(wrap), wrap, 1.0, (0, 0, PHOTO_W, PHOTO_H))
    top_centre = np.argmax(np.isfinite(y_mm[:, 200]))
    top_side = np.argmax(np.isfinite(y_mm[:, 300]))
    assert top_centre == 60 and top_side < top_centre  # rises toward the silhouette
    assert np.isnan(x_mm[150, 20]) and np.isfinite(x_mm[150, 200])
    assert x_mm[150, 200] == pytest.approx(50.0, abs=0.5)


def test_facing_angle_turns_the_cylinder() -> None:
    wrap = MockupWrap(left_px=50, right_px=350, top_px=60, bottom_px=240, arc_deg=120, facing_deg=-30)
    x_mm, _ = wrap_maps(_stripes_scene(wrap), wrap, 1.0, (0, 0, PHOTO_W, PHOTO_H))
    assert x_mm[150, 200] == pytest.approx(25.0, abs=0.5)  # 30° left of centre = a quarter of 120°


# ---------------------------------------------------------------- effects


def test_engrave_changes_only_pixels_under_the_design() -> None:
    quad = ((100.0, 100.0), (300.0, 100.0), (300.0, 200.0), (100.0, 200.0))
    items = (ShapeItem("mark", rect_path(25, 12.5, 50, 25), fill="#000000"),)
    base = np.asarray(Image.new("RGB", (PHOTO_W, PHOTO_H), GREY)).astype(int)
    for tone, sign in (("darken", -1), ("lighten", 1)):
        img = render_mockup(
            _scene(_mockup(quad=quad, effect="engrave", engrave_tone=tone), items=items), width_px=PHOTO_W
        )
        diff = np.asarray(img).astype(int) - base
        changed = np.any(diff != 0, axis=2)
        ys, xs = np.nonzero(changed)
        assert (xs.min(), xs.max(), ys.min(), ys.max()) == pytest.approx((150, 249, 125, 174), abs=1.5)
        assert np.sign(diff[150, 200, 0]) == sign
        # A luminance shift of the material, not the design's ink: grey stays grey.
        assert diff[150, 200, 0] == diff[150, 200, 1] == diff[150, 200, 2]


def test_shading_multiplies_a_print() -> None:
    quad = ((0.0, 0.0), (400.0, 0.0), (400.0, 300.0), (0.0, 300.0))
    items = (ShapeItem("f", rect_path(0, 0, 100, 50), fill="#c8c8c8"),)
    shading = Image.new("L", (PHOTO_W, PHOTO_H), 255)
    shading.paste(128, (200, 0, 400, 300))
    img = np.asarray(
        render_mockup(_scene(_mockup(quad=quad), items=items), shading=shading, width_px=PHOTO_W)
    )
    assert tuple(img[150, 100]) == (200, 200, 200)
    assert tuple(img[150, 300]) == pytest.approx((100, 100, 100), abs=1)


def test_embroidery_adds_thread_texture() -> None:
    quad = ((0.0, 0.0), (400.0, 0.0), (400.0, 300.0), (0.0, 300.0))
    items = (ShapeItem("f", rect_path(10, 10, 80, 30), fill="#c8c8c8"),)
    img = np.asarray(
        render_mockup(_scene(_mockup(quad=quad, effect="embroidery"), items=items), width_px=PHOTO_W)
    )
    patch = img[120:180, 150:250, 0].astype(int)
    assert patch.std() > 8  # threads, not a flat fill
    assert tuple(img[5, 5]) == GREY


def test_displacement_moves_the_design() -> None:
    quad = ((100.0, 100.0), (300.0, 100.0), (300.0, 200.0), (100.0, 200.0))
    flat = _red(render_mockup(_scene(_mockup(quad=quad)), width_px=PHOTO_W))
    disp = Image.new("L", (PHOTO_W, PHOTO_H), 255)  # full positive shift
    moved = _red(
        render_mockup(_scene(_mockup(quad=quad, displacement_px=10.0)), displacement=disp, width_px=PHOTO_W)
    )
    assert np.nonzero(flat)[1].min() - np.nonzero(moved)[1].min() == pytest.approx(10, abs=1.5)


def test_no_mockup_is_an_error() -> None:
    scene = _scene(_mockup(quad=((0, 0), (1, 0), (1, 1), (0, 1))))
    with pytest.raises(ValueError, match="no mockup"):
        render_mockup(Scene(**{**{f: getattr(scene, f) for f in scene.__slots__}, "mockup": None}))


# ---------------------------------------------------------------- the model


def test_old_affine_mockup_keeps_its_json_and_is_a_rectangle_of_corners() -> None:
    old = {
        "asset_sha256": "a" * 64,
        "width_px": 800,
        "height_px": 600,
        "offset_x_px": 100.0,
        "offset_y_px": 50.0,
        "px_per_mm": 2.0,
    }
    m = MockupDef.model_validate(old)
    assert m.model_dump(mode="json") == old  # same canonical bytes, same spec hash
    assert m.quad(100, 50) == ((100, 50), (300, 50), (300, 150), (100, 150))
    assert m.effect_for("engrave") == "engrave" and m.effect_for("embroider") == "embroidery"


def test_mockup_def_validates_its_placement() -> None:
    base = {"asset_sha256": "a" * 64, "width_px": 800, "height_px": 600}
    with pytest.raises(ValidationError, match="exactly one"):
        MockupDef.model_validate(base)
    with pytest.raises(ValidationError, match="convex"):
        MockupDef.model_validate({**base, "corners": [[0, 0], [10, 0], [20, 0], [0, 10]]})
    with pytest.raises(ValidationError, match="convex"):  # bow-tie
        MockupDef.model_validate({**base, "corners": [[0, 0], [10, 10], [10, 0], [0, 10]]})
    with pytest.raises(ValidationError):
        MockupDef.model_validate(
            {**base, "wrap": {"left_px": 0, "right_px": 10, "top_px": 0, "bottom_px": 9, "arc_deg": 360}}
        )
    ok = MockupDef.model_validate({**base, "corners": [[0, 0], [10, 1], [11, 9], [1, 10]]})
    assert "wrap" not in ok.model_dump(mode="json")
