"""The mockup's static-layer cache: bounded, keyed by what the layers are made of, same bytes out."""

from __future__ import annotations

import io
import math
from collections.abc import Iterator

import numpy as np
import pytest
from PIL import Image

from luneo.design import mockup
from luneo.design.bytecache import ByteLRU
from luneo.design.geometry import rect_path
from luneo.design.model import MockupWrap
from luneo.design.scene import Mockup, Scene, ShapeItem
from luneo.design.writers import raster
from luneo.design.writers.svg import canvas_box

PHOTO_W, PHOTO_H = 400, 300
QUAD = ((60.0, 40.0), (330.0, 70.0), (350.0, 260.0), (40.0, 230.0))
WRAP = MockupWrap(
    left_px=80,
    right_px=320,
    top_px=60,
    bottom_px=250,
    top_curve_px=20,
    bottom_curve_px=25,
    arc_deg=200,
    facing_deg=15,
)


def _png(a: np.ndarray, mode: str) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a, mode).save(buf, "PNG")
    return buf.getvalue()


def _noise(seed: int, mode: str) -> bytes:
    channels = {"L": (), "RGB": (3,), "RGBA": (4,)}[mode]
    a = np.random.default_rng(seed).integers(0, 256, size=(PHOTO_H, PHOTO_W, *channels), dtype=np.uint8)
    return _png(a, mode)


def _mockup(photo: bytes | None = None, **kw: object) -> Mockup:
    base: dict[str, object] = {
        "png": photo if photo is not None else _noise(1, "RGB"),
        "width_px": PHOTO_W,
        "height_px": PHOTO_H,
        "offset_x_px": 0.0,
        "offset_y_px": 0.0,
        "px_per_mm": 1.0,
    }
    if "wrap" not in kw:
        base["quad"] = QUAD
    return Mockup(**(base | kw))  # type: ignore[arg-type]


def _scene(m: Mockup, text_x: float = 10.0) -> Scene:
    items = (
        ShapeItem("a", rect_path(text_x, 10, 50, 20), fill="#c83264"),
        ShapeItem("b", rect_path(0, 35, 30, 15), fill="#2040ff"),
    )
    return Scene(
        spec_hash="0" * 64,
        width_mm=100.0,
        height_mm=50.0,
        outline=rect_path(0, 0, 100, 50),
        safe_areas=(),
        items=items,
        mockup=m,
    )


def _bytes(img: Image.Image) -> bytes:
    return img.mode.encode() + img.tobytes()


@pytest.fixture(autouse=True)
def _cold() -> Iterator[None]:
    mockup.clear_caches(decoded=True)
    yield
    mockup.clear_caches(decoded=True)


def _reference(scene: Scene, width_px: int) -> bytes:
    """The mockup as made before the cache: the whole photo in float, the whole print area
    composited, every pixel rounded at the end (no static layer kept between calls)."""
    m = scene.mockup
    assert m is not None
    scale = width_px / m.width_px
    size = (width_px, max(1, round(m.height_px * scale)))
    with Image.open(io.BytesIO(m.png)) as probe:
        mode = "RGBA" if probe.mode in ("RGBA", "LA", "PA") else "RGB"
    photo = mockup._as_array(m.png, size, mode)
    if m.wrap is not None:
        r_out = (m.wrap.right_px - m.wrap.left_px) / 2 * scale
        k_needed = max(
            r_out * math.radians(m.wrap.arc_deg) / scene.width_mm,
            (m.wrap.bottom_px - m.wrap.top_px) * scale / scene.height_mm,
        )
    else:
        q = m.quad
        assert q is not None
        k_needed = scale * max(
            math.dist(q[0], q[1]) / scene.width_mm,
            math.dist(q[3], q[2]) / scene.width_mm,
            math.dist(q[0], q[3]) / scene.height_mm,
            math.dist(q[1], q[2]) / scene.height_mm,
        )
    design, ox, oy, k = mockup._design_raster(scene, math.ceil(k_needed * canvas_box(scene)[2]))
    pad = math.ceil(m.displacement_px * scale) if m.displacement is not None else 0
    if m.wrap is not None:
        placed = mockup._warp_wrap(scene, design, (ox, oy), k, m.wrap, scale, size, pad)
    else:
        assert m.quad is not None
        quad_out = tuple((px * scale, py * scale) for px, py in m.quad)
        placed = mockup._warp_quad(design, mockup.quad_homography(scene, quad_out, (ox, oy), k), size, pad)
    out = photo.copy()
    assert placed is not None
    layer, (x0, y0, x1, y1) = placed
    if m.displacement is not None and m.displacement_px > 0:
        disp = mockup._as_array(m.displacement, size, "L")[y0:y1, x0:x1]
        layer = mockup._displace(layer, disp, m.displacement_px * scale)
    shade = mockup._as_array(m.shading, size, "L")[y0:y1, x0:x1] if m.shading is not None else None
    period = max(2.5, width_px / 300)
    out[y0:y1, x0:x1] = mockup._composite(photo[y0:y1, x0:x1], layer, shade, m.effect, m.engrave_tone, period)
    mockup.clear_caches(decoded=True)
    return mode.encode() + np.round(out * 255.0).astype(np.uint8).tobytes()


CASES = [
    pytest.param(photo, place, effect, tone, maps, id=f"{photo}-{place}-{effect}-{tone}-{maps}")
    for photo in ("RGB", "RGBA")
    for place in ("quad", "wrap")
    for effect, tone in (
        ("print", "darken"),
        ("engrave", "darken"),
        ("engrave", "lighten"),
        ("embroidery", "darken"),
    )
    for maps in (False, True)
]


@pytest.mark.parametrize(("photo", "place", "effect", "tone", "maps"), CASES)
def test_cold_and_warm_renders_give_the_bytes_of_the_uncached_mockup(
    photo: str, place: str, effect: str, tone: str, maps: bool
) -> None:
    extra: dict[str, object] = {"wrap": WRAP} if place == "wrap" else {}
    if maps:
        extra |= {"shading": _noise(2, "L"), "displacement": _noise(3, "L"), "displacement_px": 6.0}
    m = _mockup(_noise(4, photo), effect=effect, engrave_tone=tone, **extra)
    for width in (400, 257):
        expected = _reference(_scene(m), width)
        cold = _bytes(mockup.render_mockup(_scene(m), width_px=width))
        misses = mockup.cache_info()["misses"]
        warm = _bytes(mockup.render_mockup(_scene(m), width_px=width))
        info = mockup.cache_info()
        assert cold == expected
        assert warm == expected
        assert misses > 0 and info["misses"] == misses and info["hits"] >= misses  # all static layers hit


def test_a_new_design_on_the_same_product_reuses_the_static_layers() -> None:
    m = _mockup(wrap=WRAP, shading=_noise(2, "L"), displacement=_noise(3, "L"), displacement_px=4.0)
    mockup.render_mockup(_scene(m, text_x=10), width_px=300)
    misses = mockup.cache_info()["misses"]
    other = mockup.render_mockup(_scene(m, text_x=40), width_px=300)  # the shopper typed: other design
    assert mockup.cache_info()["misses"] == misses
    mockup.clear_caches(decoded=True)
    assert _bytes(other) == _bytes(mockup.render_mockup(_scene(m, text_x=40), width_px=300))


def test_another_photo_misses_and_shows_the_new_photo() -> None:
    before = _mockup(_noise(1, "RGB"))
    mockup.render_mockup(_scene(before), width_px=300)
    misses = mockup.cache_info()["misses"]
    after = _mockup(_noise(9, "RGB"))  # a new product version with another mockup asset
    got = mockup.render_mockup(_scene(after), width_px=300)
    assert mockup.cache_info()["misses"] > misses
    assert _bytes(got) == _reference(_scene(after), 300)


@pytest.mark.parametrize(
    "change",
    [
        {"quad": ((20.0, 30.0), (330.0, 70.0), (350.0, 260.0), (40.0, 230.0))},  # print area grows
        {"wrap": WRAP.model_copy(update={"arc_deg": 180.0})},
        {"displacement": _noise(7, "L")},
        {"displacement_px": 3.0},
    ],
    ids=["corners", "wrap", "displacement-map", "displacement-amount"],
)
def test_a_new_placement_or_map_misses(change: dict[str, object]) -> None:
    base: dict[str, object] = {"displacement": _noise(3, "L"), "displacement_px": 6.0}
    if "wrap" in change:
        base["wrap"] = WRAP
    first = _mockup(**base)
    mockup.render_mockup(_scene(first), width_px=300)
    misses = mockup.cache_info()["misses"]
    second = _mockup(**(base | change))  # the product's next version placed it otherwise
    got = mockup.render_mockup(_scene(second), width_px=300)
    assert mockup.cache_info()["misses"] > misses
    assert _bytes(got) == _reference(_scene(second), 300)


def test_another_width_misses() -> None:
    m = _mockup()
    mockup.render_mockup(_scene(m), width_px=300)
    misses = mockup.cache_info()["misses"]
    mockup.render_mockup(_scene(m), width_px=301)
    assert mockup.cache_info()["misses"] > misses


def test_the_cache_is_bounded_by_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    budget = 3 * PHOTO_W * PHOTO_H * 3  # about three photos' output pixels
    small: ByteLRU[mockup.StaticKey, tuple[np.ndarray, ...]] = ByteLRU(
        budget, lambda v: sum(int(a.nbytes) for a in v) + 256
    )
    monkeypatch.setattr(mockup, "_static", small)
    photos = [_noise(20 + i, "RGB") for i in range(6)]
    for photo in photos:
        mockup.render_mockup(_scene(_mockup(photo)), width_px=PHOTO_W)
        assert small.currsize <= budget
    misses = mockup.cache_info()["misses"]
    mockup.render_mockup(_scene(_mockup(photos[0])), width_px=PHOTO_W)  # evicted long ago
    assert mockup.cache_info()["misses"] > misses


def test_given_pil_images_are_not_cached_and_give_the_same_pixels() -> None:
    photo = _noise(5, "RGBA")
    m = _mockup(photo)
    with Image.open(io.BytesIO(photo)) as pil:
        got = mockup.render_mockup(_scene(m), product_image=pil, width_px=300)
    assert _bytes(got) == _bytes(mockup.render_mockup(_scene(m), width_px=300))


def test_preview_png_has_the_same_pixels_as_the_default_encoding() -> None:
    img = mockup.render_mockup(_scene(_mockup(_noise(6, "RGBA"))), width_px=PHOTO_W)
    preview = raster.encode_preview_png(img)
    assert preview == raster.encode_preview_png(img)  # deterministic
    with Image.open(io.BytesIO(preview)) as a, Image.open(io.BytesIO(raster.encode_png(img))) as b:
        assert a.mode == b.mode and a.tobytes() == b.tobytes() == img.tobytes()
