"""Item 9c: 3D materials match the product — the gold-plated pendant is gold on every face."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from luneo.design.model import DesignSpec, TextInput
from luneo.design.models3d import model_for_scene
from luneo.design.scene_builder import build_scene
from luneo.design.writers.gltf import unpack_glb, write_glb
from luneo.design.writers.raster import write_png

from .scene_fixtures import MemoryResources
from .test_models3d_phone_case import demo_product


def _srgb_to_linear(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _hex_linear(hex_colour: str) -> np.ndarray:
    return np.array([_srgb_to_linear(int(hex_colour[i : i + 2], 16) / 255) for i in (1, 3, 5)])


def _glb(sku: str, inputs: dict) -> tuple[dict, bytes, object, object]:  # type: ignore[type-arg]
    res = MemoryResources()
    product = demo_product(sku)
    scene = build_scene(DesignSpec(product=product, inputs=inputs), sku, res)
    assert product.model3d is not None
    glb = write_glb(scene, product.model3d, write_png(scene, 256))
    doc, binary = unpack_glb(glb)
    return doc, binary, scene, product


def _texture_mode(doc: dict, binary: bytes, material: dict) -> np.ndarray:  # type: ignore[type-arg]
    """The texture's most common colour (sRGB 0..255)."""
    tex = doc["textures"][material["pbrMetallicRoughness"]["baseColorTexture"]["index"]]
    view = doc["bufferViews"][doc["images"][tex["source"]]["bufferView"]]
    with Image.open(io.BytesIO(binary[view["byteOffset"] : view["byteOffset"] + view["byteLength"]])) as im:
        a = np.asarray(im.convert("RGB")).reshape(-1, 3)
    colours, counts = np.unique(a, axis=0, return_counts=True)
    return colours[np.argmax(counts)]  # type: ignore[no-any-return]


def test_gold_pendant_is_gold_on_both_faces_and_edges() -> None:
    doc, binary, scene, product = _glb(
        "DEMO-PENDANT", {"arc_text": TextInput(text="Emma"), "initial": TextInput(text="E")}
    )
    gold = product.background_color
    assert gold is not None
    m3d = model_for_scene(scene, product.model3d)  # type: ignore[arg-type]
    prims = doc["meshes"][0]["primitives"]
    assert len(prims) == len(m3d.parts)
    by_part = {
        part.name: doc["materials"][prim["material"]] for part, prim in zip(m3d.parts, prims, strict=True)
    }
    front, back = by_part["front"], by_part["back"]
    assert front["name"] == product.model3d.print_material  # type: ignore[union-attr]
    for name, mat in by_part.items():
        pbr = mat["pbrMetallicRoughness"]
        assert pbr["metallicFactor"] == 1.0, name  # metal on every face, the bail and the edge
        if "baseColorTexture" in pbr:
            mode = _texture_mode(doc, binary, mat)
            want = np.array([int(gold[i : i + 2], 16) for i in (1, 3, 5)])
            assert np.abs(mode.astype(int) - want).max() <= 2, (name, mode)
        else:
            assert np.allclose(pbr["baseColorFactor"][:3], _hex_linear(gold), atol=2e-3), (name, pbr)
    assert back["pbrMetallicRoughness"]["roughnessFactor"] == front["pbrMetallicRoughness"]["roughnessFactor"]
    # the metal that is not printed is the plating's gold, not silver
    assert "baseColorTexture" not in back["pbrMetallicRoughness"]


def test_wooden_sign_is_wood_all_over() -> None:
    doc, binary, scene, product = _glb("DEMO-SIGN", {"title": TextInput(text="The Millers")})
    wood = product.background_color
    assert wood is not None and product.model3d is not None and product.model3d.shape == "sign"
    m3d = model_for_scene(scene, product.model3d)
    prims = doc["meshes"][0]["primitives"]
    by_part = {
        part.name: doc["materials"][prim["material"]] for part, prim in zip(m3d.parts, prims, strict=True)
    }
    assert set(by_part) == {"front", "back", "side"}
    for name, mat in by_part.items():
        pbr = mat["pbrMetallicRoughness"]
        assert pbr["metallicFactor"] == 0.0 and pbr["roughnessFactor"] >= 0.7, name  # matte wood
        if "baseColorTexture" in pbr:
            want = np.array([int(wood[i : i + 2], 16) for i in (1, 3, 5)])
            assert np.abs(_texture_mode(doc, binary, mat).astype(int) - want).max() <= 2, name
        else:
            assert np.allclose(pbr["baseColorFactor"][:3], _hex_linear(wood), atol=2e-3), name


@pytest.mark.parametrize(
    ("sku", "inputs", "body", "metal", "rough"),
    [
        ("DEMO-MUG", {}, "body", 0.0, (0.05, 0.4)),  # glazed ceramic
        ("DEMO-PHONE", {}, "case", 0.0, (0.3, 0.8)),  # polycarbonate
        ("DEMO-CARD", {}, "paper", 0.0, (0.7, 1.0)),  # matte paper
    ],
)
def test_demo_products_have_sensible_materials(
    sku: str,
    inputs: dict,
    body: str,
    metal: float,
    rough: tuple[float, float],  # type: ignore[type-arg]
) -> None:
    doc, _binary, _scene, _product = _glb(sku, inputs)
    mats = {m["name"]: m["pbrMetallicRoughness"] for m in doc["materials"]}
    assert mats[body]["metallicFactor"] == metal
    assert rough[0] <= mats[body]["roughnessFactor"] <= rough[1]
    if sku == "DEMO-MUG":  # white ceramic
        assert min(mats[body]["baseColorFactor"][:3]) > 0.8
    if sku == "DEMO-CARD":
        assert min(mats[body]["baseColorFactor"][:3]) > 0.8
