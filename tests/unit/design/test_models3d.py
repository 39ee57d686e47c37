"""Procedural models, GLB (Khronos validator) and USDZ (usd-core validators, zip layout)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from luneo.design.model import Model3DDef
from luneo.design.models3d import SHAPES, build_model
from luneo.design.scene_builder import build_scene
from luneo.design.writers.gltf import unpack_glb, write_glb
from luneo.design.writers.raster import write_png
from luneo.design.writers.usdz import write_usdz

from .scene_fixtures import MemoryResources, three_zone_spec

ROOT = Path(__file__).resolve().parents[3]
VALIDATOR_SCRIPT = ROOT / "tools" / "validate_gltf.mjs"
VALIDATOR_PKG = ROOT / "tools" / "node" / "node_modules" / "gltf-validator"


@pytest.fixture(scope="module")
def scene():  # type: ignore[no-untyped-def]
    res = MemoryResources()
    return build_scene(three_zone_spec(res, bleed_mm=2), "3d", res)


@pytest.fixture(scope="module")
def texture(scene) -> bytes:  # type: ignore[no-untyped-def]
    return write_png(scene, 512)


def _validate_glb(path: Path) -> dict:  # type: ignore[type-arg]
    node = shutil.which("node")
    if node is None or not VALIDATOR_PKG.exists():
        pytest.skip("Khronos gltf-validator not installed (need node and `npm ci --prefix tools/node`)")
    proc = subprocess.run(
        [node, str(VALIDATOR_SCRIPT), str(path)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize("shape", SHAPES)
def test_model_geometry_is_sane(shape: str) -> None:
    model = build_model(shape, width_mm=100, height_mm=60, bleed_mm=2)
    assert any(p.material == "print" for p in model.parts)
    for part in model.parts:
        n = len(part.positions)
        assert part.normals.shape == (n, 3) and part.uvs.shape == (n, 2)
        assert part.indices.max() < n and part.indices.dtype == np.uint32
        assert np.allclose(np.linalg.norm(part.normals, axis=1), 1.0, atol=1e-5)
        # winding agrees with the normals (counter-clockwise from outside)
        p = part.positions.astype(np.float64)
        t = part.indices
        face = np.cross(p[t[:, 1]] - p[t[:, 0]], p[t[:, 2]] - p[t[:, 0]])
        assert (np.einsum("ij,ij->i", face, part.normals[t].sum(axis=1)) > 0).all()
    print_uv = np.concatenate([p.uvs for p in model.parts if p.material == "print"])
    lo, hi = 2 / 104, 1 - 2 / 104  # the product (not the bleed) spans the print surface
    assert print_uv[:, 0].min() == pytest.approx(lo, abs=1e-4) and print_uv[:, 0].max() == pytest.approx(
        hi, abs=1e-4
    )


def test_mug_print_faces_the_viewer_left_to_right() -> None:
    model = build_model("mug", width_mm=200, height_mm=80)
    wall = next(p for p in model.parts if p.material == "print")
    front = np.argmax(wall.positions[:, 2])  # the point nearest the viewer (+Z)
    assert wall.uvs[front, 0] == pytest.approx(0.5, abs=0.02)
    right = wall.positions[:, 0] > 0.01
    assert (wall.uvs[right, 0] > 0.5).all()  # u grows to the viewer's right
    top = wall.positions[:, 1] == wall.positions[:, 1].max()
    assert np.allclose(wall.uvs[top, 1], 0.0, atol=1e-6)  # v = 0 at the top (glTF)
    handle = next(p for p in model.parts if p.name == "handle")
    assert handle.positions[:, 2].max() < 0  # handle behind the mug


def test_glb_deterministic_textured_and_valid(scene, texture, tmp_path) -> None:  # type: ignore[no-untyped-def]
    mdef = Model3DDef(kind="procedural", shape="mug")
    glb = write_glb(scene, mdef, texture)
    assert glb == write_glb(scene, mdef, texture)
    doc, binary = unpack_glb(glb)
    mat = next(m for m in doc["materials"] if m["name"] == "print")
    tex = mat["pbrMetallicRoughness"]["baseColorTexture"]["index"]
    view = doc["bufferViews"][doc["images"][doc["textures"][tex]["source"]]["bufferView"]]
    png = binary[view["byteOffset"] : view["byteOffset"] + view["byteLength"]]
    with Image.open(io.BytesIO(png)) as im:
        assert im.mode == "RGB" and im.size == (512, 315)  # 104 × 64 mm with bleed; flattened on white
    path = tmp_path / "mug.glb"
    path.write_bytes(glb)
    report = _validate_glb(path)
    assert report["issues"]["numErrors"] == 0, report["issues"]["messages"][:5]
    assert report["issues"]["numWarnings"] == 0, report["issues"]["messages"][:5]


@pytest.mark.parametrize("shape", ["pendant", "phone_case", "business_card", "sign"])
def test_other_shapes_pass_validator(shape: str, scene, texture, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / f"{shape}.glb"
    path.write_bytes(write_glb(scene, Model3DDef(kind="procedural", shape=shape), texture))  # type: ignore[arg-type]
    assert _validate_glb(path)["issues"]["numErrors"] == 0


def _uploaded_glb() -> bytes:
    """A two-material GLB made with trimesh: 'print' (plain) and 'label' (with its own texture)."""
    import trimesh
    from trimesh.visual.material import PBRMaterial
    from trimesh.visual.texture import TextureVisuals

    box = trimesh.creation.box(extents=(0.08, 0.05, 0.01))
    uv = (box.vertices[:, :2] - box.vertices[:, :2].min(0)) / np.ptp(box.vertices[:, :2], axis=0)
    box.visual = TextureVisuals(
        uv=uv, material=PBRMaterial(name="print", baseColorFactor=[255, 255, 255, 255])
    )
    other = trimesh.creation.box(extents=(0.02, 0.02, 0.02))
    other.apply_translation((0, 0, 0.03))
    label = Image.new("RGB", (8, 8), (0, 200, 0))
    other.visual = TextureVisuals(
        uv=np.full((len(other.vertices), 2), 0.5), material=PBRMaterial(name="label", baseColorTexture=label)
    )
    sc = trimesh.Scene()
    sc.add_geometry(box, geom_name="body")
    sc.add_geometry(other, geom_name="badge")
    return sc.export(file_type="glb")  # type: ignore[no-any-return]


def test_uploaded_glb_gets_design_on_print_material_only(scene, texture, tmp_path) -> None:  # type: ignore[no-untyped-def]
    src = _uploaded_glb()
    src_doc, _ = unpack_glb(src)
    mdef = Model3DDef(kind="glb", asset_sha256="x", print_material="print")
    out = write_glb(scene, mdef, texture, glb_bytes=src)
    assert out == write_glb(scene, mdef, texture, glb_bytes=src)
    doc, _ = unpack_glb(out)
    by_name = {m["name"]: m for m in doc["materials"]}
    assert "baseColorTexture" in by_name["print"]["pbrMetallicRoughness"]
    assert by_name["label"] == {m["name"]: m for m in src_doc["materials"]}["label"]  # untouched
    assert len(doc["images"]) == len(src_doc.get("images", [])) + 1
    path = tmp_path / "uploaded.glb"
    path.write_bytes(out)
    assert _validate_glb(path)["issues"]["numErrors"] == 0
    with pytest.raises(ValueError, match="no material named"):
        write_glb(scene, Model3DDef(kind="glb", print_material="nope"), texture, glb_bytes=src)


def _usd_errors(path: Path) -> list[str]:
    from pxr import Usd, UsdValidation

    stage = Usd.Stage.Open(str(path))
    validators = UsdValidation.ValidationRegistry().GetOrLoadAllValidators()
    assert len(validators) > 10  # includes the usdz package validators
    errors = UsdValidation.ValidationContext(validators).Validate(stage)
    return [f"{e.GetName()}: {e.GetMessage()}" for e in errors]


def _check_zip_layout(data: bytes) -> list[str]:
    names = []
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            assert info.compress_type == zipfile.ZIP_STORED
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            data_start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
            assert data_start % 64 == 0, info.filename
            names.append(info.filename)
    return names


@pytest.mark.parametrize("shape", SHAPES)
def test_usdz_valid_aligned_deterministic(shape: str, scene, texture, tmp_path) -> None:  # type: ignore[no-untyped-def]
    mdef = Model3DDef(kind="procedural", shape=shape)  # type: ignore[arg-type]
    usdz = write_usdz(scene, mdef, texture)
    assert usdz == write_usdz(scene, mdef, texture)
    names = _check_zip_layout(usdz)
    assert names[0].endswith(".usdc") and "textures/print.png" in names
    path = tmp_path / f"{shape}.usdz"
    path.write_bytes(usdz)
    assert _usd_errors(path) == []
    from pxr import Usd, UsdGeom

    stage = Usd.Stage.Open(str(path))
    assert UsdGeom.GetStageUpAxis(stage) == UsdGeom.Tokens.y
    assert UsdGeom.GetStageMetersPerUnit(stage) == 1.0
    meshes = [p for p in stage.Traverse() if p.IsA(UsdGeom.Mesh)]
    assert meshes and all(UsdGeom.PrimvarsAPI(m).GetPrimvar("st").IsDefined() for m in meshes)


def test_usdz_from_uploaded_glb(scene, texture, tmp_path) -> None:  # type: ignore[no-untyped-def]
    usdz = write_usdz(
        scene, Model3DDef(kind="glb", print_material="print"), texture, glb_bytes=_uploaded_glb()
    )
    names = _check_zip_layout(usdz)
    assert "textures/print.png" in names and "textures/label.png" in names
    path = tmp_path / "uploaded.usdz"
    path.write_bytes(usdz)
    assert _usd_errors(path) == []
