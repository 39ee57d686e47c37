"""Scene builder: outline, zone items in order, image fitting, EXIF, DPI, text, determinism."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from luneo.design.model import (
    ColourInput,
    DesignSpec,
    ImageInput,
    MockupDef,
    ProductDef,
    TextInput,
    ZoneDef,
    ZoneGeometry,
)
from luneo.design.scene import ImageItem, ShapeItem, TextItem
from luneo.design.scene_builder import build_scene, salient_point, zone_extent, zone_shape

from .scene_fixtures import MemoryResources, photo_bytes, three_zone_spec


def _image(scene_items: tuple[object, ...]) -> ImageItem:
    return next(i for i in scene_items if isinstance(i, ImageItem))


@pytest.mark.parametrize(("shape", "radius"), [("rect", 0.0), ("ellipse", 0.0), ("rounded_rect", 5.0)])
def test_outline_matches_product_shape(shape: str, radius: float) -> None:
    res = MemoryResources()
    spec = three_zone_spec(res)
    product = spec.product.model_copy(update={"shape": shape, "corner_radius_mm": radius})
    scene = build_scene(DesignSpec(product=product, inputs=spec.inputs), "h", res)
    box = scene.outline.bbox()
    assert box is not None
    assert (box.x0, box.y0, box.x1, box.y1) == pytest.approx((0, 0, 100, 60))
    ops = [op for op, _ in scene.outline.commands]
    assert ("C" in ops) == (shape != "rect")


def test_items_follow_zone_order_and_inputs() -> None:
    res = MemoryResources()
    scene = build_scene(three_zone_spec(res), "abc", res)
    assert scene.spec_hash == "abc"
    assert [type(i) for i in scene.items] == [ShapeItem, ImageItem]  # no text input ⇒ no text item
    band = scene.items[0]
    assert isinstance(band, ShapeItem) and band.fill == "#3366cc" and band.zone_key == "band"
    assert [k for k, _ in scene.safe_areas] == ["band", "photo", "name"]
    safe = dict(scene.safe_areas)["photo"].bbox()
    assert safe is not None and safe.x0 == pytest.approx(12) and safe.x1 == pytest.approx(48)
    assert scene.warnings == ()


def test_build_is_deterministic() -> None:
    res = MemoryResources()
    spec = three_zone_spec(res, fit="smart", rotation_deg=20)
    assert build_scene(spec, "h", res) == build_scene(spec, "h", res)


def test_cover_fills_zone_and_contain_fits_inside() -> None:
    res = MemoryResources()
    wide = photo_bytes(400, 100)
    cover = _image(build_scene(three_zone_spec(res, fit="cover", photo=wide), "h", res).items)
    contain = _image(build_scene(three_zone_spec(res, fit="contain", photo=wide), "h", res).items)
    # zone box: x 10..50, y 14..44
    assert cover.x_mm <= 10 + 1e-6 and cover.x_mm + cover.width_mm >= 50 - 1e-6
    assert cover.y_mm == pytest.approx(14) and cover.height_mm == pytest.approx(30)
    assert contain.x_mm == pytest.approx(10) and contain.width_mm == pytest.approx(40)
    assert contain.height_mm == pytest.approx(10) and contain.y_mm == pytest.approx(24)
    # cover keeps only the visible pixels (cropped), contain keeps all of them
    assert cover.width_px < 400 and (contain.width_px, contain.height_px) == (400, 100)
    assert cover.width_px / cover.width_mm == pytest.approx(cover.height_px / cover.height_mm, rel=0.02)


def test_smart_crop_moves_towards_salient_region() -> None:
    res = MemoryResources()
    wide = photo_bytes(400, 100)  # yellow disc near the right edge
    fx, _fy = salient_point(Image.open(io.BytesIO(wide)).convert("RGB"))
    assert fx > 0.6
    cover = _image(build_scene(three_zone_spec(res, fit="cover", photo=wide), "h", res).items)
    smart = _image(build_scene(three_zone_spec(res, fit="smart", photo=wide), "h", res).items)
    assert smart.png != cover.png  # a different window of the photo
    # the visible window still covers the zone
    assert smart.x_mm <= 10 + 1e-6 and smart.x_mm + smart.width_mm >= 50 - 1e-6
    # the window shows the right part: the disc's column lands inside the zone
    full_w = 400 * 30 / 100  # placed width of the whole photo in mm
    uncropped_x = smart.x_mm + smart.width_mm - full_w if smart.width_px < 400 else smart.x_mm
    disc_x = uncropped_x + 0.8 * full_w
    assert 10 <= disc_x <= 50


def test_exif_orientation_is_applied() -> None:
    res = MemoryResources()
    rotated = photo_bytes(320, 240, exif_orientation=6)  # "rotate 90° CW to display"
    item = _image(build_scene(three_zone_spec(res, fit="contain", photo=rotated), "h", res).items)
    assert (item.width_px, item.height_px) == (240, 320)
    with Image.open(io.BytesIO(item.png)) as im:
        assert im.format == "PNG" and im.mode == "RGB" and im.size == (240, 320)
        assert "exif" not in im.info


def test_alpha_kept_and_effective_dpi() -> None:
    res = MemoryResources()
    img = Image.new("RGBA", (160, 120), (255, 0, 0, 128))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    scene = build_scene(three_zone_spec(res, fit="contain", photo=buf.getvalue()), "h", res)
    item = _image(scene.items)
    assert Image.open(io.BytesIO(item.png)).mode == "RGBA"
    assert item.effective_dpi == pytest.approx(160 / (40 / 25.4), rel=1e-3)
    assert any("below 150 dpi" in w for w in scene.warnings)  # ~102 dpi


def test_oversized_image_is_downsampled_to_output_dpi() -> None:
    res = MemoryResources()
    scene = build_scene(three_zone_spec(res, fit="contain", photo=photo_bytes(4000, 3000)), "h", res)
    item = _image(scene.items)
    assert item.width_px == pytest.approx(40 / 25.4 * 300, abs=1)
    assert item.effective_dpi == pytest.approx(300, rel=0.01)


def test_rotated_zone_clip_and_cover_extent() -> None:
    res = MemoryResources()
    spec = three_zone_spec(res, rotation_deg=30)
    item = _image(build_scene(spec, "h", res).items)
    geometry = spec.product.zones[1].geometry
    x, y, w, h = zone_extent(geometry)
    assert w < 40 and h > 30  # rotated by 30°, the 40 × 30 ellipse is narrower and taller
    assert item.x_mm <= x + 1e-6 and item.y_mm <= y + 1e-6
    assert item.x_mm + item.width_mm >= x + w - 1e-6 and item.y_mm + item.height_mm >= y + h - 1e-6
    assert item.clip == zone_shape(geometry)
    assert item.clip != zone_shape(geometry.model_copy(update={"rotation_deg": 0.0}))


def test_colour_zone_default_and_mismatched_input() -> None:
    res = MemoryResources()
    zone = ZoneDef(
        key="c", kind="colour", default_color="#ABCDEF", geometry=ZoneGeometry(width_mm=5, height_mm=5)
    )
    tzone = ZoneDef(key="t", kind="text", geometry=ZoneGeometry(width_mm=5, height_mm=5))
    product = ProductDef(id="p", sku="s", width_mm=10, height_mm=10, zones=[zone, tzone])
    spec = DesignSpec(product=product, inputs={"t": ColourInput(color="#000000")})
    scene = build_scene(spec, "h", res)
    assert [i.fill for i in scene.items if isinstance(i, ShapeItem)] == ["#abcdef"]
    assert any("does not fit a text zone" in w for w in scene.warnings)


def test_image_without_hash_is_skipped_with_warning() -> None:
    res = MemoryResources()
    spec = three_zone_spec(res)
    inputs = dict(spec.inputs)
    inputs["photo"] = ImageInput(asset_id="a")
    scene = build_scene(DesignSpec(product=spec.product, inputs=inputs), "h", res)
    assert not any(isinstance(i, ImageItem) for i in scene.items)
    assert any("no content hash" in w for w in scene.warnings)


def test_mockup_is_decoded_and_sized() -> None:
    res = MemoryResources()
    spec = three_zone_spec(res)
    digest = res.add(photo_bytes(300, 200))
    mock = MockupDef(
        asset_sha256=digest, width_px=150, height_px=100, offset_x_px=10, offset_y_px=5, px_per_mm=1.2
    )
    product = spec.product.model_copy(update={"mockup": mock})
    scene = build_scene(DesignSpec(product=product, inputs=spec.inputs), "h", res)
    assert scene.mockup is not None
    assert (scene.mockup.width_px, scene.mockup.height_px, scene.mockup.px_per_mm) == (150, 100, 1.2)
    assert Image.open(io.BytesIO(scene.mockup.png)).size == (150, 100)


def test_text_zone_becomes_outlined_text_item() -> None:
    res = MemoryResources()
    scene = build_scene(three_zone_spec(res, text="Émile"), "h", res)
    text = next(i for i in scene.items if isinstance(i, TextItem))
    assert text.zone_key == "name" and text.role == "engrave" and text.fill == "#112233"
    assert text.font_id == "fnt_sans" and text.size_pt == 20
    assert text.glyphs and all(not g.is_empty() for g in text.glyphs)
    assert text.bbox is not None and text.bbox.x0 >= 55 - 0.5 and text.bbox.x1 <= 95 + 0.5
    assert res.font_requests == [("fnt_sans", None)]
    spec = three_zone_spec(res, text="Émile")
    inputs = dict(spec.inputs)
    inputs["name"] = TextInput(text="Émile", font="fnt_sans", size_pt=20, color="#FF0000")
    coloured = build_scene(DesignSpec(product=spec.product, inputs=inputs), "h", res)
    assert next(i for i in coloured.items if isinstance(i, TextItem)).fill == "#ff0000"


def test_blank_text_makes_no_item() -> None:
    res = MemoryResources()
    scene = build_scene(three_zone_spec(res, text="   "), "h", res)
    assert not any(isinstance(i, TextItem) for i in scene.items)


def test_preview_image_dpi_caps_pixels_but_keeps_geometry() -> None:
    res = MemoryResources()
    spec = three_zone_spec(res, fit="cover", photo=photo_bytes(2400, 1800))
    full = _image(build_scene(spec, "h", res).items)
    preview = build_scene(spec, "h", res, image_dpi=100)
    small = _image(preview.items)
    assert (small.x_mm, small.y_mm) == pytest.approx((full.x_mm, full.y_mm), abs=0.2)
    assert small.width_mm == pytest.approx(full.width_mm, abs=0.3)
    assert small.effective_dpi == pytest.approx(100, rel=0.03) and full.effective_dpi == pytest.approx(
        300, rel=0.01
    )
    assert preview.warnings == ()  # the upload itself is ~1500 dpi: no low-resolution warning
