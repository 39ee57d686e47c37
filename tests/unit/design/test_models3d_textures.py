"""Item 9b: GLB and USDZ textures stay within 4096 px on their longest side (downscaled, deterministic)."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from luneo.design.model import Model3DDef
from luneo.design.scene_builder import build_scene
from luneo.design.writers.gltf import MAX_TEXTURE_PX, unpack_glb, write_glb
from luneo.design.writers.raster import write_png
from luneo.design.writers.usdz import write_usdz

from .scene_fixtures import MemoryResources, photo_bytes, three_zone_spec
from .test_models3d import _uploaded_glb, _validate_glb


def _glb_images(glb: bytes) -> list[Image.Image]:
    doc, binary = unpack_glb(glb)
    out = []
    for image in doc.get("images", []):
        view = doc["bufferViews"][image["bufferView"]]
        start = view.get("byteOffset", 0)
        with Image.open(io.BytesIO(binary[start : start + view["byteLength"]])) as im:
            im.load()
            out.append(im.copy())
    return out


def _usdz_images(usdz: bytes) -> dict[str, Image.Image]:
    out = {}
    with zipfile.ZipFile(io.BytesIO(usdz)) as zf:
        for name in zf.namelist():
            if name.endswith((".png", ".jpg")):
                with Image.open(io.BytesIO(zf.read(name))) as im:
                    im.load()
                    out[name] = im.copy()
    return out


@pytest.fixture(scope="module")
def huge() -> tuple[object, bytes]:
    """A design with a 6000 × 3600 photo, drawn as a 5200 px texture (bigger than any GPU wants)."""
    res = MemoryResources()
    spec = three_zone_spec(res, photo=photo_bytes(6000, 3600), shape3d="business_card")
    scene = build_scene(spec, "huge", res, image_dpi=4000)
    return scene, write_png(scene, 5200)


def test_huge_design_texture_is_downscaled_in_glb(huge, tmp_path) -> None:  # type: ignore[no-untyped-def]
    scene, texture = huge
    with Image.open(io.BytesIO(texture)) as im:
        assert max(im.size) > MAX_TEXTURE_PX  # the input really is too big
        aspect = im.width / im.height
    mdef = Model3DDef(kind="procedural", shape="business_card")
    glb = write_glb(scene, mdef, texture)
    assert glb == write_glb(scene, mdef, texture)  # deterministic
    images = _glb_images(glb)
    assert images and all(max(im.size) <= MAX_TEXTURE_PX for im in images)
    big = max(images, key=lambda im: im.width)
    assert max(big.size) == MAX_TEXTURE_PX and abs(big.width / big.height - aspect) < 0.01
    path = tmp_path / "card.glb"
    path.write_bytes(glb)
    report = _validate_glb(path)
    assert report["issues"]["numErrors"] == 0, report["issues"]["messages"][:5]


def test_huge_design_texture_is_downscaled_in_usdz(huge) -> None:  # type: ignore[no-untyped-def]
    scene, texture = huge
    mdef = Model3DDef(kind="procedural", shape="business_card")
    usdz = write_usdz(scene, mdef, texture)
    images = _usdz_images(usdz)
    assert "textures/print.png" in images
    assert all(max(im.size) <= MAX_TEXTURE_PX for im in images.values()), {
        k: im.size for k, im in images.items()
    }


def _uploaded_with_big_label() -> bytes:
    """The two-material uploaded GLB, its 'label' texture 5000 × 40 px."""
    import trimesh
    from trimesh.visual.material import PBRMaterial
    from trimesh.visual.texture import TextureVisuals

    sc = trimesh.load(io.BytesIO(_uploaded_glb()), file_type="glb", force="scene", process=False)
    stripes = np.zeros((40, 5000, 3), np.uint8)
    stripes[:, ::2] = (0, 200, 0)
    for geom in sc.geometry.values():
        mat = geom.visual.material
        if getattr(mat, "name", None) == "label":
            geom.visual = TextureVisuals(
                uv=geom.visual.uv,
                material=PBRMaterial(name="label", baseColorTexture=Image.fromarray(stripes)),
            )
    return sc.export(file_type="glb")  # type: ignore[no-any-return]


def test_uploaded_glb_textures_are_downscaled(tmp_path) -> None:  # type: ignore[no-untyped-def]
    res = MemoryResources()
    scene = build_scene(three_zone_spec(res), "up", res)
    src = _uploaded_with_big_label()
    assert max(max(im.size) for im in _glb_images(src)) == 5000
    mdef = Model3DDef(kind="glb", asset_sha256="x", print_material="print")
    texture = write_png(scene, 256)
    out = write_glb(scene, mdef, texture, glb_bytes=src)
    assert out == write_glb(scene, mdef, texture, glb_bytes=src)
    images = _glb_images(out)
    assert all(max(im.size) <= MAX_TEXTURE_PX for im in images), [im.size for im in images]
    assert any(im.size == (MAX_TEXTURE_PX, 33) for im in images)  # 5000 × 40 → 4096 × 33
    path = tmp_path / "uploaded.glb"
    path.write_bytes(out)
    assert _validate_glb(path)["issues"]["numErrors"] == 0
    usdz = write_usdz(scene, mdef, texture, glb_bytes=src)
    assert all(max(im.size) <= MAX_TEXTURE_PX for im in _usdz_images(usdz).values())
