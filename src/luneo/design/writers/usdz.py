"""Scene design → USDZ for AR Quick Look (usd-core).

One Mesh per model part (points in metres, vertex normals, `primvars:st`), one
UsdPreviewSurface material per model material; the print material reads the design PNG
through a UsdUVTexture. Stage: upAxis Y, metersPerUnit 1. Packaged with `Sdf.ZipFileWriter`
(uncompressed, 64-byte aligned; entry times zeroed). USD writes files, so the package is
assembled in a private temporary directory and read back.
"""

from __future__ import annotations

import io
import os
import struct
import tempfile
from typing import Any

import numpy as np
from PIL import Image

from luneo.design.model import Model3DDef
from luneo.design.models3d import Material, MeshPart, Model3D, model_for_scene
from luneo.design.scene import Scene
from luneo.design.writers.gltf import fit_texture, flatten_texture, limit_texture

LAYER_NAME = "model.usdc"
_DOS_TIME, _DOS_DATE = 0, (0 << 9) | (1 << 5) | 1  # 1980-01-01 00:00:00, the zip epoch


def normalise_zip_times(data: bytes) -> bytes:
    """Set every entry's modification time to the zip epoch, so packages don't depend on the clock.

    Only the fixed-size time/date fields change: offsets, alignment and CRCs stay as written.
    """
    out = bytearray(data)
    eocd = out.rfind(b"PK\x05\x06")
    if eocd < 0:
        raise ValueError("not a zip file")
    count, _size, cd_off = struct.unpack_from("<HII", out, eocd + 10)
    off = cd_off
    for _ in range(count):
        if out[off : off + 4] != b"PK\x01\x02":
            raise ValueError("bad zip central directory")
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", out, off + 28)
        (local,) = struct.unpack_from("<I", out, off + 42)
        struct.pack_into("<HH", out, off + 12, _DOS_TIME, _DOS_DATE)
        if out[local : local + 4] != b"PK\x03\x04":
            raise ValueError("bad zip local header")
        struct.pack_into("<HH", out, local + 10, _DOS_TIME, _DOS_DATE)
        off += 46 + name_len + extra_len + comment_len
    return bytes(out)


def _identifier(name: str, used: set[str]) -> str:
    from pxr import Tf

    base = Tf.MakeValidIdentifier(name or "item")
    out, n = base, 1
    while out in used:
        n += 1
        out = f"{base}_{n}"
    used.add(out)
    return out


def _define_material(stage: Any, path: str, m: Material, texture_file: str | None) -> Any:
    from pxr import Gf, Sdf, UsdShade

    material = UsdShade.Material.Define(stage, path)
    surface = UsdShade.Shader.Define(stage, f"{path}/PreviewSurface")
    surface.CreateIdAttr("UsdPreviewSurface")
    surface.CreateInput("metallic", Sdf.ValueTypeNames.Float).Set(float(m.metallic))
    surface.CreateInput("roughness", Sdf.ValueTypeNames.Float).Set(float(m.roughness))
    diffuse = surface.CreateInput("diffuseColor", Sdf.ValueTypeNames.Color3f)
    if texture_file is None:
        diffuse.Set(Gf.Vec3f(*(float(c) for c in m.base_color[:3])))
    else:
        reader = UsdShade.Shader.Define(stage, f"{path}/StReader")
        reader.CreateIdAttr("UsdPrimvarReader_float2")
        reader.CreateInput("varname", Sdf.ValueTypeNames.String).Set("st")
        st_out = reader.CreateOutput("result", Sdf.ValueTypeNames.Float2)
        tex = UsdShade.Shader.Define(stage, f"{path}/Texture")
        tex.CreateIdAttr("UsdUVTexture")
        tex.CreateInput("file", Sdf.ValueTypeNames.Asset).Set(texture_file)
        tex.CreateInput("st", Sdf.ValueTypeNames.Float2).ConnectToSource(st_out)
        tex.CreateInput("wrapS", Sdf.ValueTypeNames.Token).Set("clamp")
        tex.CreateInput("wrapT", Sdf.ValueTypeNames.Token).Set("clamp")
        tex.CreateInput("sourceColorSpace", Sdf.ValueTypeNames.Token).Set("sRGB")
        diffuse.ConnectToSource(tex.CreateOutput("rgb", Sdf.ValueTypeNames.Float3))
    if m.base_color[3] < 1.0:
        surface.CreateInput("opacity", Sdf.ValueTypeNames.Float).Set(float(m.base_color[3]))
    material.CreateSurfaceOutput().ConnectToSource(surface.ConnectableAPI(), "surface")
    return material


def _define_mesh(stage: Any, path: str, part: MeshPart) -> Any:
    from pxr import Gf, Sdf, UsdGeom, Vt

    mesh = UsdGeom.Mesh.Define(stage, path)
    pos = np.asarray(part.positions, dtype=np.float32)
    mesh.CreatePointsAttr(Vt.Vec3fArray.FromNumpy(pos))
    mesh.CreateFaceVertexCountsAttr(Vt.IntArray.FromNumpy(np.full(len(part.indices), 3, dtype=np.int32)))
    mesh.CreateFaceVertexIndicesAttr(Vt.IntArray.FromNumpy(part.indices.reshape(-1).astype(np.int32)))
    mesh.CreateNormalsAttr(Vt.Vec3fArray.FromNumpy(np.asarray(part.normals, dtype=np.float32)))
    mesh.SetNormalsInterpolation(UsdGeom.Tokens.vertex)
    mesh.CreateSubdivisionSchemeAttr(UsdGeom.Tokens.none)
    mesh.CreateDoubleSidedAttr(False)
    mesh.CreateExtentAttr(
        Vt.Vec3fArray([Gf.Vec3f(*map(float, pos.min(0))), Gf.Vec3f(*map(float, pos.max(0)))])
    )
    st = np.stack([part.uvs[:, 0], 1.0 - part.uvs[:, 1]], -1).astype(np.float32)  # USD: origin bottom-left
    primvar = UsdGeom.PrimvarsAPI(mesh).CreatePrimvar(
        "st", Sdf.ValueTypeNames.TexCoord2fArray, UsdGeom.Tokens.vertex
    )
    primvar.Set(Vt.Vec2fArray.FromNumpy(st))
    return mesh


def model_to_usdz(model: Model3D, textures: dict[str, bytes]) -> bytes:
    """Package a Model3D; `textures` maps material name → PNG (else the material's own texture)."""
    from pxr import Sdf, Usd, UsdGeom, UsdShade

    with tempfile.TemporaryDirectory(prefix="luneo-usdz-") as tmp:
        layer_path = os.path.join(tmp, LAYER_NAME)
        stage = Usd.Stage.CreateNew(layer_path)
        UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.y)
        UsdGeom.SetStageMetersPerUnit(stage, 1.0)
        root = UsdGeom.Xform.Define(stage, "/Root")
        stage.SetDefaultPrim(root.GetPrim())
        used: set[str] = set()
        tex_files: list[tuple[str, str]] = []
        materials: dict[str, Any] = {}
        for m in model.materials:
            ident = _identifier(m.name, used)
            png = textures.get(m.name, m.texture_png)
            rel = None
            if png is not None:
                png, mime = limit_texture(png)
                if mime == "image/jpeg":  # keep the extension true to the bytes
                    buf = io.BytesIO()
                    with Image.open(io.BytesIO(png)) as im:
                        im.save(buf, format="PNG", compress_level=6, optimize=False)
                    png = buf.getvalue()
                rel = f"textures/{ident}.png"
                with open(os.path.join(tmp, f"{ident}.png"), "wb") as fh:
                    fh.write(png)
                tex_files.append((os.path.join(tmp, f"{ident}.png"), rel))
            materials[m.name] = _define_material(stage, f"/Root/Materials/{ident}", m, rel)
        parts_used: set[str] = set()
        for part in model.parts:
            mesh = _define_mesh(stage, f"/Root/Geom/{_identifier(part.name, parts_used)}", part)
            binding = UsdShade.MaterialBindingAPI.Apply(mesh.GetPrim())
            binding.Bind(materials[part.material])
        stage.GetRootLayer().documentation = "Luneo design"
        stage.GetRootLayer().Save()
        del stage
        usdz_path = os.path.join(tmp, "model.usdz")
        writer = Sdf.ZipFileWriter.CreateNew(usdz_path)
        writer.AddFile(layer_path, LAYER_NAME)
        for src, rel in tex_files:
            writer.AddFile(src, rel)
        writer.Save()
        with open(usdz_path, "rb") as fh:
            return normalise_zip_times(fh.read())


def model_from_glb(glb: bytes, print_material: str) -> Model3D:
    """Read an uploaded GLB's meshes (node transforms applied) and materials via trimesh."""
    import trimesh

    scene: Any = trimesh.load(io.BytesIO(glb), file_type="glb", force="scene", process=False)
    parts: list[MeshPart] = []
    mats: dict[str, Material] = {}
    for node in sorted(scene.graph.nodes_geometry):
        transform, geom_name = scene.graph[node]
        mesh = scene.geometry[geom_name].copy()
        mesh.apply_transform(transform)
        visual = mesh.visual
        material = getattr(visual, "material", None)
        name = str(getattr(material, "name", None) or "default")
        if name not in mats:
            factor = getattr(material, "baseColorFactor", None)
            rgba = (1.0, 1.0, 1.0, 1.0) if factor is None else tuple(float(c) / 255.0 for c in factor)
            tex_png = None
            tex = getattr(material, "baseColorTexture", None)
            if isinstance(tex, Image.Image):
                buf = io.BytesIO()
                fit_texture(tex.convert("RGBA")).save(buf, format="PNG", compress_level=6)
                tex_png = buf.getvalue()
            mats[name] = Material(
                name,
                (rgba[0], rgba[1], rgba[2], rgba[3]),
                float(getattr(material, "metallicFactor", None) or 0.0),
                float(getattr(material, "roughnessFactor", None) or 1.0),
                tex_png,
            )
        uv = getattr(visual, "uv", None)
        uvs = np.zeros((len(mesh.vertices), 2)) if uv is None else np.asarray(uv, dtype=np.float64)
        uvs = np.stack([uvs[:, 0], 1.0 - uvs[:, 1]], -1)  # trimesh flips glTF's v; flip back
        parts.append(
            MeshPart(
                name=str(node),
                material=name,
                positions=np.asarray(mesh.vertices, dtype=np.float32),
                normals=np.asarray(mesh.vertex_normals, dtype=np.float32),
                uvs=uvs.astype(np.float32),
                indices=np.asarray(mesh.faces, dtype=np.uint32),
            )
        )
    if print_material not in mats:
        raise ValueError(
            f"GLB has no material named {print_material!r} (materials: {', '.join(sorted(mats))})"
        )
    return Model3D("uploaded", tuple(parts), tuple(mats.values()), print_material)


def write_usdz(
    scene: Scene, model: Model3DDef, texture_png: bytes, *, glb_bytes: bytes | None = None
) -> bytes:
    """USDZ of the product with the design on its print material (procedural or uploaded GLB)."""
    if model.kind == "glb":
        if glb_bytes is None:
            raise ValueError("an uploaded-GLB model needs glb_bytes")
        m3d = model_from_glb(glb_bytes, model.print_material)
    else:
        m3d = model_for_scene(scene, model)
    pm = m3d.material(m3d.print_material)
    return model_to_usdz(m3d, {pm.name: flatten_texture(texture_png, pm.base_color)})
