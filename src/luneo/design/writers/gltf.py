"""Scene design → GLB: the design PNG becomes the print material's base-colour texture.

Procedural models (luneo.design.models3d) are written from scratch; an uploaded GLB is patched
in place (its print material gets the texture, every other material, mesh and texture is kept).
The GLB is packed by hand (sorted-key JSON, fixed padding), so the same inputs give the same bytes.
"""

from __future__ import annotations

import io
import json
import struct
from typing import Any

import numpy as np
from PIL import Image

from luneo.design.model import Model3DDef
from luneo.design.models3d import Material, MeshPart, Model3D, load_gltf_json, model_for_scene
from luneo.design.scene import Scene

GLB_MAGIC = 0x46546C67
CHUNK_JSON = 0x4E4F534A
CHUNK_BIN = 0x004E4942
ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER = 34962, 34963
FLOAT, UNSIGNED_SHORT, UNSIGNED_INT = 5126, 5123, 5125
LINEAR, LINEAR_MIPMAP_LINEAR, CLAMP_TO_EDGE = 9729, 9987, 33071
GENERATOR = "Luneo design writer"
MAX_TEXTURE_PX = 4096  # longest side of any texture written (what phones and AR viewers load)


def fit_texture(im: Image.Image, max_px: int = MAX_TEXTURE_PX) -> Image.Image:
    """`im` itself when its longest side is at most `max_px`, else downscaled to exactly that
    (Lanczos, aspect kept, the short side rounded; deterministic)."""
    if max(im.size) <= max_px:
        return im
    k = max_px / max(im.size)
    size = (max(1, min(max_px, round(im.width * k))), max(1, min(max_px, round(im.height * k))))
    if im.mode not in ("RGB", "RGBA", "L", "LA"):
        im = im.convert("RGBA")
    return im.resize(size, Image.Resampling.LANCZOS)


def limit_texture(data: bytes, max_px: int = MAX_TEXTURE_PX) -> tuple[bytes, str | None]:
    """Image bytes at most `max_px` on their longest side: (the same bytes, None) when they fit, else
    (the downscaled image, its MIME type): a JPEG stays a JPEG (quality 92), anything else is a PNG."""
    with Image.open(io.BytesIO(data)) as im:
        if max(im.size) <= max_px:
            return data, None
        jpeg = im.format == "JPEG"
        im.load()
        small = fit_texture(im, max_px)
    buf = io.BytesIO()
    if jpeg:
        small.convert("RGB").save(buf, format="JPEG", quality=92, subsampling=0, optimize=False)
        return buf.getvalue(), "image/jpeg"
    small.save(buf, format="PNG", compress_level=6, optimize=False)
    return buf.getvalue(), "image/png"


def flatten_texture(texture_png: bytes, base_color: tuple[float, float, float, float]) -> bytes:
    """Composite the (transparent-background) design over the material's colour: an opaque RGB PNG
    at most `MAX_TEXTURE_PX` on its longest side.

    glTF's default OPAQUE alpha mode would otherwise show the black behind transparent pixels.
    """
    with Image.open(io.BytesIO(texture_png)) as im:
        rgba = fit_texture(im.convert("RGBA"))
    srgb = tuple(round(255 * _linear_to_srgb(c)) for c in base_color[:3])
    bg = Image.new("RGBA", rgba.size, (*srgb, 255))
    flat = Image.alpha_composite(bg, rgba).convert("RGB")
    buf = io.BytesIO()
    flat.save(buf, format="PNG", compress_level=6, optimize=False)
    return buf.getvalue()


def _linear_to_srgb(c: float) -> float:
    c = min(max(c, 0.0), 1.0)
    return 12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055


class _Bin:
    """Binary chunk builder: 4-byte aligned buffer views."""

    def __init__(self, data: bytearray | None = None) -> None:
        self.data = data if data is not None else bytearray()
        self.views: list[dict[str, Any]] = []

    def add(self, blob: bytes, target: int | None = None, first_view: int = 0) -> int:
        self.data.extend(b"\x00" * (-len(self.data) % 4))
        view: dict[str, Any] = {"buffer": 0, "byteOffset": len(self.data), "byteLength": len(blob)}
        if target is not None:
            view["target"] = target
        self.data.extend(blob)
        self.views.append(view)
        return first_view + len(self.views) - 1


def pack_glb(doc: dict[str, Any], binary: bytes) -> bytes:
    """GLB container: header, JSON chunk (space-padded), BIN chunk (zero-padded)."""
    js = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    js += b" " * (-len(js) % 4)
    bn = bytes(binary) + b"\x00" * (-len(binary) % 4)
    total = 12 + 8 + len(js) + (8 + len(bn) if bn else 0)
    out = struct.pack("<III", GLB_MAGIC, 2, total) + struct.pack("<II", len(js), CHUNK_JSON) + js
    if bn:
        out += struct.pack("<II", len(bn), CHUNK_BIN) + bn
    return out


def unpack_glb(data: bytes) -> tuple[dict[str, Any], bytes]:
    """Split a GLB into its JSON document and BIN chunk."""
    if len(data) < 20:
        raise ValueError("not a GLB: too short")
    magic, version, length = struct.unpack_from("<III", data, 0)
    if magic != GLB_MAGIC or version != 2:
        raise ValueError("not a glTF 2.0 binary (GLB)")
    off, doc, binary = 12, None, b""
    while off + 8 <= min(length, len(data)):
        clen, ctype = struct.unpack_from("<II", data, off)
        chunk = data[off + 8 : off + 8 + clen]
        if ctype == CHUNK_JSON:
            doc = load_gltf_json(chunk)  # bounded nesting; ValueError otherwise
        elif ctype == CHUNK_BIN and not binary:
            binary = chunk
        off += 8 + clen
    if doc is None:
        raise ValueError("GLB has no JSON chunk")
    return doc, binary


def _pbr(m: Material, texture_index: int | None) -> dict[str, Any]:
    pbr: dict[str, Any] = {
        "baseColorFactor": [round(c, 6) for c in m.base_color],
        "metallicFactor": m.metallic,
        "roughnessFactor": m.roughness,
    }
    if texture_index is not None:
        pbr["baseColorFactor"] = [1.0, 1.0, 1.0, 1.0]
        pbr["baseColorTexture"] = {"index": texture_index, "texCoord": 0}
    return {"name": m.name, "pbrMetallicRoughness": pbr, "doubleSided": False}


def _accessor(
    accessors: list[dict[str, Any]], view: int, arr: np.ndarray, kind: str, ctype: int, minmax: bool = False
) -> int:
    acc: dict[str, Any] = {
        "bufferView": view,
        "componentType": ctype,
        "count": int(arr.shape[0]),
        "type": kind,
    }
    if minmax:
        acc["min"] = [float(v) for v in arr.min(axis=0)]
        acc["max"] = [float(v) for v in arr.max(axis=0)]
    accessors.append(acc)
    return len(accessors) - 1


def model_to_glb(model: Model3D, textures: dict[str, bytes]) -> bytes:
    """Write a Model3D; `textures` maps material name → PNG (used instead of the material's own)."""
    binary = _Bin()
    accessors: list[dict[str, Any]] = []
    images: list[dict[str, Any]] = []
    gl_textures: list[dict[str, Any]] = []
    materials: list[dict[str, Any]] = []
    mat_index: dict[str, int] = {}
    for m in model.materials:
        png = textures.get(m.name, m.texture_png)
        tex = None
        if png is not None:
            png, mime = limit_texture(png)
            images.append({"bufferView": binary.add(png), "mimeType": mime or "image/png", "name": m.name})
            gl_textures.append({"sampler": 0, "source": len(images) - 1})
            tex = len(gl_textures) - 1
        mat_index[m.name] = len(materials)
        materials.append(_pbr(m, tex))
    textured = {m["name"] for m in materials if "baseColorTexture" in m["pbrMetallicRoughness"]}
    primitives = [
        _primitive(part, binary, accessors, mat_index[part.material], part.material in textured)
        for part in model.parts
    ]
    doc: dict[str, Any] = {
        "asset": {"version": "2.0", "generator": GENERATOR},
        "scene": 0,
        "scenes": [{"name": model.name, "nodes": [0]}],
        "nodes": [{"name": model.name, "mesh": 0}],
        "meshes": [{"name": model.name, "primitives": primitives}],
        "materials": materials,
        "accessors": accessors,
        "bufferViews": binary.views,
        "buffers": [{"byteLength": len(binary.data) + (-len(binary.data) % 4)}],
    }
    if images:
        doc["images"] = images
        doc["textures"] = gl_textures
        doc["samplers"] = [
            {
                "magFilter": LINEAR,
                "minFilter": LINEAR_MIPMAP_LINEAR,
                "wrapS": CLAMP_TO_EDGE,
                "wrapT": CLAMP_TO_EDGE,
            }
        ]
    return pack_glb(doc, bytes(binary.data))


def _primitive(
    part: MeshPart, binary: _Bin, accessors: list[dict[str, Any]], material: int, with_uv: bool
) -> dict[str, Any]:
    pos = np.ascontiguousarray(part.positions, dtype="<f4")
    nrm = np.ascontiguousarray(part.normals, dtype="<f4")
    uv = np.ascontiguousarray(part.uvs, dtype="<f4")
    small = pos.shape[0] < 65536
    idx = np.ascontiguousarray(part.indices.reshape(-1), dtype="<u2" if small else "<u4")
    attrs = {
        "POSITION": _accessor(accessors, binary.add(pos.tobytes(), ARRAY_BUFFER), pos, "VEC3", FLOAT, True),
        "NORMAL": _accessor(accessors, binary.add(nrm.tobytes(), ARRAY_BUFFER), nrm, "VEC3", FLOAT),
    }
    if with_uv:  # only textured materials read UVs (the validator flags unused ones)
        attrs["TEXCOORD_0"] = _accessor(accessors, binary.add(uv.tobytes(), ARRAY_BUFFER), uv, "VEC2", FLOAT)
    ind = _accessor(
        accessors,
        binary.add(idx.tobytes(), ELEMENT_ARRAY_BUFFER),
        idx,
        "SCALAR",
        UNSIGNED_SHORT if small else UNSIGNED_INT,
    )
    return {"attributes": attrs, "indices": ind, "material": material, "mode": 4}


def _limit_images(doc: dict[str, Any], binary: bytes) -> bytes:
    """Downscale the GLB's embedded images that exceed `MAX_TEXTURE_PX` (in `doc`, in place) and
    return the binary chunk rebuilt around them; untouched (same bytes) when every image fits."""
    views = doc.get("bufferViews", [])
    replaced: dict[int, bytes] = {}
    for image in doc.get("images", []):
        k = image.get("bufferView")
        if not isinstance(k, int) or not 0 <= k < len(views) or k in replaced:
            continue
        start = int(views[k].get("byteOffset", 0))
        data = binary[start : start + int(views[k]["byteLength"])]
        try:
            small, mime = limit_texture(data)
        except (OSError, ValueError, Image.DecompressionBombError):
            continue  # not an image Pillow reads: left as it is
        if mime is not None:
            replaced[k] = small
            image["mimeType"] = mime
    if not replaced:
        return binary
    out = bytearray()
    for k, view in enumerate(views):
        start = int(view.get("byteOffset", 0))
        chunk = replaced.get(k, binary[start : start + int(view["byteLength"])])
        out.extend(b"\x00" * (-len(out) % 4))
        view["byteOffset"] = len(out)
        view["byteLength"] = len(chunk)
        out.extend(chunk)
    return bytes(out)


def retexture_glb(glb: bytes, print_material: str, texture_png: bytes) -> bytes:
    """Put `texture_png` (flattened on the material's colour) into an uploaded GLB's print material."""
    doc, binary = unpack_glb(glb)
    if any("uri" in b for b in doc.get("buffers", [])):
        raise ValueError("GLB buffers must be embedded (no external or data URIs)")
    if any("uri" in im for im in doc.get("images", [])):
        raise ValueError("GLB images must be embedded in the binary chunk")
    materials = doc.get("materials", [])
    idx = next((i for i, m in enumerate(materials) if m.get("name") == print_material), None)
    if idx is None:
        names = ", ".join(repr(m.get("name")) for m in materials) or "none"
        raise ValueError(f"GLB has no material named {print_material!r} (materials: {names})")
    for mesh in doc.get("meshes", []):
        for prim in mesh.get("primitives", []):
            if prim.get("material") == idx and "TEXCOORD_0" not in prim.get("attributes", {}):
                raise ValueError(f"primitives using material {print_material!r} have no TEXCOORD_0")
    binary = _limit_images(doc, binary)
    pbr = materials[idx].setdefault("pbrMetallicRoughness", {})
    base = tuple(pbr.get("baseColorFactor", [1.0, 1.0, 1.0, 1.0]))
    png = flatten_texture(texture_png, (base[0], base[1], base[2], base[3]))
    views = doc.setdefault("bufferViews", [])
    data = _Bin(bytearray(binary))
    view = data.add(png, first_view=len(views))
    views.extend(data.views)
    doc.setdefault("images", []).append({"bufferView": view, "mimeType": "image/png", "name": print_material})
    doc.setdefault("samplers", []).append(
        {
            "magFilter": LINEAR,
            "minFilter": LINEAR_MIPMAP_LINEAR,
            "wrapS": CLAMP_TO_EDGE,
            "wrapT": CLAMP_TO_EDGE,
        }
    )
    doc.setdefault("textures", []).append(
        {"sampler": len(doc["samplers"]) - 1, "source": len(doc["images"]) - 1}
    )
    pbr["baseColorTexture"] = {"index": len(doc["textures"]) - 1, "texCoord": 0}
    pbr["baseColorFactor"] = [1.0, 1.0, 1.0, base[3]]
    buf_len = len(data.data) + (-len(data.data) % 4)
    if doc.get("buffers"):
        doc["buffers"][0]["byteLength"] = buf_len
    else:
        doc["buffers"] = [{"byteLength": buf_len}]
    return pack_glb(doc, bytes(data.data))


def write_glb(
    scene: Scene, model: Model3DDef, texture_png: bytes, *, glb_bytes: bytes | None = None
) -> bytes:
    """GLB of the product with the design as its print material's baseColorTexture.

    texture_png: the design rendered from `scene` (design only, bleed included, e.g.
    `write_png(scene, 2048)`). For `kind="glb"` pass the uploaded file as `glb_bytes`.
    """
    if model.kind == "glb":
        if glb_bytes is None:
            raise ValueError("an uploaded-GLB model needs glb_bytes")
        return retexture_glb(glb_bytes, model.print_material, texture_png)
    m3d = model_for_scene(scene, model)
    pm = m3d.material(m3d.print_material)
    return model_to_glb(m3d, {pm.name: flatten_texture(texture_png, pm.base_color)})
