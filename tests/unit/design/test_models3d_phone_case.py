"""Item 9a: the phone case's artwork stays on the case — inside its rounded outline, off its camera opening.

The demo phone case (catalog seed) gets a full-bleed photo; the print PNG, the print PDF, the flat
preview, the 2D mockup and the GLB (texture and mesh) must show no ink in the square corners outside
the rounded outline nor over the camera opening, and ink on the case itself.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path as FsPath
from typing import Any

import numpy as np
import pytest
from PIL import Image

from luneo.catalog.seed import DEMO_PRODUCTS
from luneo.design.mockup import render_mockup
from luneo.design.model import (
    DesignSpec,
    ImageInput,
    MockupDef,
    Model3DDef,
    ProductDef,
    ZoneDef,
    ZoneGeometry,
)
from luneo.design.models3d import camera_openings, model_for_scene
from luneo.design.scene import ImageItem, Scene
from luneo.design.scene_builder import build_scene
from luneo.design.writers.gltf import unpack_glb, write_glb
from luneo.design.writers.pdf import write_pdf
from luneo.design.writers.raster import write_png, write_print_png

from .scene_fixtures import MemoryResources

RED = (230, 20, 20)
GREY = (128, 128, 128)
MOCKUP_PX_PER_MM, MOCKUP_OX, MOCKUP_OY = 4.0, 50.0, 90.0


def demo_product(sku: str, **extra: Any) -> ProductDef:
    """The seed's product as the design engine sees it (zones' shapes, outline, model)."""
    p = next(d for d in DEMO_PRODUCTS if d["sku"] == sku)
    zones = [
        ZoneDef(
            key=z["key"],
            kind=z["kind"],
            geometry=ZoneGeometry(**z["geometry"]),
            role=z.get("role", "print"),
        )
        for z in p["zones"]
    ]
    return ProductDef(
        id=f"prod_{sku.lower()}",
        sku=sku,
        width_mm=p["width_mm"],
        height_mm=p["height_mm"],
        shape=p["shape"],
        corner_radius_mm=p.get("corner_radius_mm", 0.0),
        production_method=p["production_method"],
        background_color=p.get("background_color"),
        bleed_mm=p.get("bleed_mm", 0.0),
        model3d=Model3DDef(**p["model3d"]) if p.get("model3d") else None,
        zones=zones,
        **extra,
    )


def _solid_png(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def phone() -> tuple[Scene, ProductDef]:
    res = MemoryResources()
    photo = res.add(_solid_png((600, 1240), RED))
    grey = res.add(_solid_png((400, 800), GREY))
    mockup = MockupDef(
        asset_sha256=grey,
        width_px=400,
        height_px=800,
        px_per_mm=MOCKUP_PX_PER_MM,
        offset_x_px=MOCKUP_OX,
        offset_y_px=MOCKUP_OY,
    )
    product = demo_product("DEMO-PHONE", mockup=mockup)
    spec = DesignSpec(
        product=product,
        inputs={"photo": ImageInput(asset_id="asset_red", asset_sha256=photo, fit="cover")},
    )
    return build_scene(spec, "phone", res), product


def _probe_points(product: ProductDef) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """(points that must stay bare: the four square corners and the camera opening; points on the case)."""
    w, h = product.width_mm, product.height_mm
    r = product.corner_radius_mm
    d = r * (1 - 1 / np.sqrt(2)) / 2  # halfway between the square corner and the rounded outline
    bare = [(d, d), (w - d, d), (w - d, h - d), (d, h - d)]
    openings = camera_openings(product.model3d, w, h)  # type: ignore[arg-type]
    assert openings, "the phone case has a camera opening"
    for o in openings:
        assert o.width_mm >= 15 and o.height_mm >= 15
        bare.append((o.x_mm + o.width_mm / 2, o.y_mm + o.height_mm / 2))
        bare.append((o.x_mm + 2.0, o.y_mm + o.height_mm / 2))  # near the opening's edge
    inked = [(w / 2, h / 2), (w / 2, h - 3.0), (w - 3.0, h / 2), (3.0, 40.0)]
    return bare, inked


def _is_red(px: np.ndarray) -> bool:
    return bool(px[0] > 180 and px[1] < 90 and px[2] < 90)


def test_scene_clips_the_photo_to_the_case(phone: tuple[Scene, ProductDef]) -> None:
    scene, _product = phone
    photo = next(i for i in scene.items if isinstance(i, ImageItem))
    assert len([c for c in photo.clip.commands if c[0] == "M"]) >= 2  # outline and camera opening
    assert len([c for c in scene.outline.commands if c[0] == "M"]) >= 2


def test_print_png_has_no_ink_outside_the_case(phone: tuple[Scene, ProductDef]) -> None:
    scene, product = phone
    dpi = 150
    with Image.open(io.BytesIO(write_print_png(scene, dpi))) as im:
        a = np.asarray(im.convert("RGBA"))
    ppm = dpi / 25.4
    bare, inked = _probe_points(product)
    for x, y in bare:
        px = a[int(y * ppm), int(x * ppm)]
        assert px[3] == 0, ((x, y), px)
    for x, y in inked:
        px = a[int(y * ppm), int(x * ppm)]
        assert px[3] == 255 and _is_red(px), ((x, y), px)


def test_print_pdf_has_no_ink_outside_the_case(phone: tuple[Scene, ProductDef], tmp_path: FsPath) -> None:
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm not installed (apt-get install -y poppler-utils)")
    scene, product = phone
    src = tmp_path / "phone.pdf"
    src.write_bytes(write_pdf(scene))
    dpi = 100
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-png", "-singlefile", str(src), str(tmp_path / "out")], check=True
    )
    with Image.open(tmp_path / "out.png") as im:
        a = np.asarray(im.convert("RGB")).astype(int)
    ppm = dpi / 25.4
    bare, inked = _probe_points(product)
    for x, y in bare:
        px = a[int(y * ppm), int(x * ppm)]
        assert (px > 245).all(), ((x, y), px)  # bare paper
    for x, y in inked:
        assert _is_red(a[int(y * ppm), int(x * ppm)]), (x, y)


def test_preview_and_mockup_have_no_ink_outside_the_case(phone: tuple[Scene, ProductDef]) -> None:
    scene, product = phone
    width = 300
    with Image.open(io.BytesIO(write_png(scene, width))) as im:
        flat = np.asarray(im.convert("RGBA"))
    ppm = width / product.width_mm
    bare, inked = _probe_points(product)
    for x, y in bare:
        assert flat[int(y * ppm), int(x * ppm)][3] == 0, (x, y)
    for x, y in inked:
        assert _is_red(flat[int(y * ppm), int(x * ppm)]), (x, y)
    mock = np.asarray(render_mockup(scene, width_px=400).convert("RGB")).astype(int)

    def at(x: float, y: float) -> np.ndarray:
        return mock[int(MOCKUP_OY + y * MOCKUP_PX_PER_MM), int(MOCKUP_OX + x * MOCKUP_PX_PER_MM)]

    for x, y in bare:
        assert np.abs(at(x, y) - np.array(GREY)).max() <= 6, ((x, y), at(x, y))  # the photo shows
    for x, y in inked:
        assert _is_red(at(x, y)), (x, y)


def _point_in_triangles(pts2d: np.ndarray, tris: np.ndarray, p: tuple[float, float]) -> bool:
    a, b, c = pts2d[tris[:, 0]], pts2d[tris[:, 1]], pts2d[tris[:, 2]]

    def cross(u: np.ndarray, v: np.ndarray, q: np.ndarray) -> np.ndarray:
        return (v[:, 0] - u[:, 0]) * (q[1] - u[:, 1]) - (v[:, 1] - u[:, 1]) * (q[0] - u[:, 0])

    q = np.array(p)
    d1, d2, d3 = cross(a, b, q), cross(b, c, q), cross(c, a, q)
    neg = (d1 < 0) | (d2 < 0) | (d3 < 0)
    pos = (d1 > 0) | (d2 > 0) | (d3 > 0)
    return bool((~(neg & pos)).any())


def test_3d_model_and_texture_leave_the_opening_bare(phone: tuple[Scene, ProductDef]) -> None:
    scene, product = phone
    model_def = product.model3d
    assert model_def is not None
    m3d = model_for_scene(scene, model_def)
    bare, inked = _probe_points(product)
    w, h = product.width_mm, product.height_mm
    front = [p for p in m3d.parts if p.material == m3d.print_material]
    assert front
    for part in front:
        xy = np.stack([part.positions[:, 0] / 1e-3 + w / 2, h / 2 - part.positions[:, 1] / 1e-3], -1)
        for x, y in bare:
            assert not _point_in_triangles(xy, part.indices.astype(np.int64), (x, y)), (x, y)
    xy_all = [
        np.stack([p.positions[:, 0] / 1e-3 + w / 2, h / 2 - p.positions[:, 1] / 1e-3], -1) for p in front
    ]
    for x, y in inked:
        assert any(
            _point_in_triangles(xy, p.indices.astype(np.int64), (x, y))
            for xy, p in zip(xy_all, front, strict=True)
        )
    texture = write_png(scene, 300)
    doc, binary = unpack_glb(write_glb(scene, model_def, texture))
    mat = next(m for m in doc["materials"] if m["name"] == model_def.print_material)
    image = doc["images"][doc["textures"][mat["pbrMetallicRoughness"]["baseColorTexture"]["index"]]["source"]]
    view = doc["bufferViews"][image["bufferView"]]
    png = binary[view["byteOffset"] : view["byteOffset"] + view["byteLength"]]
    with Image.open(io.BytesIO(png)) as im:
        tex = np.asarray(im.convert("RGB")).astype(int)
    ppm = tex.shape[1] / w
    for x, y in bare:
        assert not _is_red(tex[int(y * ppm), int(x * ppm)]), (x, y)
    for x, y in inked:
        assert _is_red(tex[int(y * ppm), int(x * ppm)]), (x, y)


def _one_image_product(zone: ZoneGeometry) -> tuple[DesignSpec, MemoryResources]:
    res = MemoryResources()
    photo = res.add(_solid_png((300, 300), RED))
    product = ProductDef(
        id="prod_disc",
        sku="DISC",
        width_mm=30,
        height_mm=30,
        shape="ellipse",
        zones=[ZoneDef(key="photo", kind="image", geometry=zone)],
    )
    return DesignSpec(product=product, inputs={"photo": ImageInput(asset_id="a", asset_sha256=photo)}), res


def test_image_zone_is_clipped_to_the_product_outline() -> None:
    spec, res = _one_image_product(ZoneGeometry(x_mm=15, y_mm=0, width_mm=30, height_mm=30))
    scene = build_scene(spec, "half", res)
    clip = next(i for i in scene.items if isinstance(i, ImageItem)).clip
    xs = [p[0] for p in clip.points()]
    assert min(xs) >= 15 - 1e-6 and max(xs) <= 30 + 1e-6  # the zone's half of the disc only
    with Image.open(io.BytesIO(write_print_png(scene, 254))) as im:
        a = np.asarray(im.convert("RGBA"))
    assert a[10, 290][3] == 0  # (29 mm, 1 mm): inside the zone, outside the disc
    assert _is_red(a[150, 200])  # (20 mm, 15 mm): zone and disc
    assert a[150, 100][3] == 0  # (10 mm, 15 mm): disc, outside the zone


def test_image_zone_off_the_product_is_skipped_with_a_warning() -> None:
    spec, res = _one_image_product(ZoneGeometry(x_mm=40, y_mm=0, width_mm=10, height_mm=10))
    scene = build_scene(spec, "off", res)
    assert not any(isinstance(i, ImageItem) for i in scene.items)
    assert any("outside the product" in w for w in scene.warnings)


def test_image_zone_inside_the_product_keeps_its_exact_clip() -> None:
    zone = ZoneGeometry(shape="ellipse", x_mm=5, y_mm=5, width_mm=20, height_mm=20)
    spec, res = _one_image_product(zone)
    scene = build_scene(spec, "inside", res)
    clip = next(i for i in scene.items if isinstance(i, ImageItem)).clip
    assert [c[0] for c in clip.commands] == ["M", "C", "C", "C", "C", "Z"]  # the zone's curves, unchanged
