"""Shopper 3D previews: a preview-quality GLB (`<model-viewer>`, Scene Viewer) and USDZ (AR Quick
Look) of a stored spec, made in the request and cached by (spec_hash, quality).

Not metered: the brand's credits pay for the final high-res render (`render.highres`) only; a
3D preview is limited per shopper and per client IP instead (`LUNEO_RENDER_PREVIEW3D_SHOPPER`,
`LUNEO_RENDER_PREVIEW3D_IP`; counted on renders, a cache hit is free).

Fast path (bench/bench_preview3d.py): per product model — procedural shape and print size, or the
uploaded GLB's hash — the mesh, UVs, normals, the GLB document and binary and the USD layer are
built once and kept in memory (`ModelTemplate`, LRU bounded by bytes). A preview then only draws
the design texture (longest side `TEXTURE_PX`, flattened on the print material's colour, JPEG)
and splices it in: GLB = template binary + texture; USDZ = cached layer + texture, packaged by
the package layout `Sdf.ZipFileWriter` writes (built in memory).

Files are stored content-addressed (immutable) and recorded as a `render_results` row (kind
`preview`, options `{"format": "model3d", …}`): the next request for the spec is a cache hit, and
old 3D previews expire with the other previews.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import struct
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
from typing import Any

import structlog
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from PIL import Image
from prometheus_client import Counter, Histogram
from sqlalchemy.orm import Session

from luneo.design.bytecache import MIB, ByteLRU
from luneo.design.model import DesignSpec, Model3DDef, ProductDef
from luneo.design.models3d import Model3D, build_model, model_material_color
from luneo.design.scene import Scene
from luneo.design.scene_builder import SceneResources, build_scene, preview_image_dpi
from luneo.design.writers import raster
from luneo.design.writers.gltf import model_to_glb, pack_glb, retexture_glb, unpack_glb
from luneo.design.writers.svg import canvas_box, write_svg
from luneo.design.writers.usdz import (
    LAYER_NAME,
    _define_material,
    _define_mesh,
    _identifier,
    model_from_glb,
)
from luneo.platform.config import get_settings
from luneo.platform.domain_errors import DomainError
from luneo.platform.redis_fallback import RedisFallback
from luneo.rendering import pipeline
from luneo.rendering.error_codes import RenderingErrorCode
from luneo.rendering.models import RenderResult

log = structlog.get_logger("luneo.rendering.preview3d")

QUALITY = "preview"
VERSION = 2  # bump when the files change for the same spec: new render ids, fresh cache
TEXTURE_PX = 1024  # longest side of the design texture
JPEG_QUALITY = 85
USD_TEXTURE = "textures/design.jpg"
_PAD_FIELD = 0x1986  # the extra-field id of USDZ alignment padding
TEMPLATE_CACHE_BYTES = 64 * MIB

PREVIEW3D_REQUESTS = Counter(
    "luneo_preview3d_requests_total", "Shopper 3D preview requests, by cache outcome", ["cache"]
)
PREVIEW3D_SECONDS = Histogram(
    "luneo_preview3d_render_seconds",
    "Time to render a 3D preview (GLB + USDZ) on a cache miss",
    buckets=(0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2.5, 5),
)


def options() -> dict[str, Any]:
    """The render options of a 3D preview (part of its `render_id`)."""
    return {"format": "model3d", "quality": QUALITY, "texture_px": TEXTURE_PX, "v": VERSION}


# --------------------------------------------------------------------------- model templates


@dataclass(frozen=True, eq=False)
class ModelTemplate:
    """Everything of a product's 3D preview except the design texture."""

    glb_doc: dict[str, Any]  # glTF JSON; the print image's bufferView is filled per preview
    glb_bin: bytes  # every other bufferView, 4-byte aligned; the texture is appended after it
    glb_view: int
    usd_layer: bytes  # model.usdc, its print material reading USD_TEXTURE
    usd_files: tuple[tuple[str, bytes], ...]  # the model's own (constant) textures
    base_color: tuple[float, float, float, float]  # shows through the design's transparent pixels

    @property
    def nbytes(self) -> int:
        return len(self.glb_bin) + len(self.usd_layer) + sum(len(b) for _, b in self.usd_files) + 4096


_templates: ByteLRU[str, ModelTemplate] = ByteLRU(TEMPLATE_CACHE_BYTES, lambda t: t.nbytes)


def _placeholder_png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (1, 1), (255, 255, 255)).save(buf, format="PNG")
    return buf.getvalue()


def template_key(model: Model3DDef, scene: Scene) -> str:
    """Same model definition and print size ⇒ same template (the 'product version' of its mesh)."""
    sized = {
        "model": model.model_dump(mode="json"),
        "size": [scene.width_mm, scene.height_mm, scene.bleed_mm],
        "material": model_material_color(model, scene.background),
        "v": VERSION,
    }
    return hashlib.sha256(json.dumps(sized, sort_keys=True).encode()).hexdigest()


def _compact_glb(glb: bytes, print_material: str) -> tuple[dict[str, Any], bytes, int]:
    """The GLB with its print image's bytes taken out: (doc, binary, that image's bufferView)."""
    doc, binary = unpack_glb(glb)
    material = next(m for m in doc["materials"] if m.get("name") == print_material)
    texture = doc["textures"][material["pbrMetallicRoughness"]["baseColorTexture"]["index"]]
    image = doc["images"][texture["source"]]
    slot = int(image["bufferView"])
    out = bytearray()
    views: list[dict[str, Any]] = []
    for k, view in enumerate(doc["bufferViews"]):
        if k == slot:
            views.append({})
            continue
        out.extend(b"\x00" * (-len(out) % 4))
        start = int(view.get("byteOffset", 0))
        chunk = binary[start : start + int(view["byteLength"])]
        views.append({**view, "byteOffset": len(out)})
        out.extend(chunk)
    out.extend(b"\x00" * (-len(out) % 4))
    image["mimeType"] = "image/jpeg"
    doc["bufferViews"] = views
    return doc, bytes(out), slot


def _usd_layer(model: Model3D) -> tuple[bytes, tuple[tuple[str, bytes], ...]]:
    """The model's USD layer (crate bytes) with its print material reading `USD_TEXTURE`."""
    from pxr import Usd, UsdGeom, UsdShade

    with tempfile.TemporaryDirectory(prefix="luneo-preview3d-") as tmp:
        path = os.path.join(tmp, LAYER_NAME)
        stage = Usd.Stage.CreateNew(path)
        UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.y)
        UsdGeom.SetStageMetersPerUnit(stage, 1.0)
        root = UsdGeom.Xform.Define(stage, "/Root")
        stage.SetDefaultPrim(root.GetPrim())
        used: set[str] = set()
        files: list[tuple[str, bytes]] = []
        materials: dict[str, Any] = {}
        for m in model.materials:
            ident = _identifier(m.name, used)
            rel: str | None = None
            if m.name == model.print_material:
                rel = USD_TEXTURE
            elif m.texture_png is not None:
                rel = f"textures/{ident}.png"
                files.append((rel, m.texture_png))
            materials[m.name] = _define_material(stage, f"/Root/Materials/{ident}", m, rel)
        parts: set[str] = set()
        for part in model.parts:
            mesh = _define_mesh(stage, f"/Root/Geom/{_identifier(part.name, parts)}", part)
            UsdShade.MaterialBindingAPI.Apply(mesh.GetPrim()).Bind(materials[part.material])
        stage.GetRootLayer().documentation = "Luneo 3D preview"
        stage.GetRootLayer().Save()
        del stage
        with open(path, "rb") as fh:
            return fh.read(), tuple(files)


def _build_template(scene: Scene, model: Model3DDef, resources: SceneResources) -> ModelTemplate:
    placeholder = _placeholder_png()
    if model.kind == "glb":
        if not model.asset_sha256:
            raise DomainError(
                RenderingErrorCode.MODEL_UNREADABLE, "The product's GLB model has no content hash."
            )
        try:
            uploaded = resources.image_bytes(model.asset_sha256)
            doc, _ = unpack_glb(uploaded)
            mat: dict[str, Any] = next(
                (m for m in doc.get("materials", []) if m.get("name") == model.print_material), {}
            )
            factor = mat.get("pbrMetallicRoughness", {}).get("baseColorFactor", [1.0, 1.0, 1.0, 1.0])
            base = (float(factor[0]), float(factor[1]), float(factor[2]), float(factor[3]))
            glb = retexture_glb(uploaded, model.print_material, placeholder)
            m3d = model_from_glb(uploaded, model.print_material)
        except (LookupError, ValueError) as exc:
            raise DomainError(
                RenderingErrorCode.MODEL_UNREADABLE, f"The product's 3D model cannot be used: {exc}"
            ) from exc
    else:
        m3d = build_model(
            str(model.shape),
            width_mm=scene.width_mm,
            height_mm=scene.height_mm,
            bleed_mm=scene.bleed_mm,
            print_material=model.print_material,
            material_color=model_material_color(model, scene.background),
        )
        base = m3d.material(m3d.print_material).base_color
        glb = model_to_glb(m3d, {m3d.print_material: placeholder})
    doc, binary, slot = _compact_glb(glb, model.print_material)
    layer, files = _usd_layer(m3d)
    return ModelTemplate(doc, binary, slot, layer, files, base)


def model_template(scene: Scene, model: Model3DDef, resources: SceneResources) -> ModelTemplate:
    """The cached template of a product model at the scene's size (built on first use)."""
    return _templates.get_or_set(template_key(model, scene), lambda: _build_template(scene, model, resources))


def clear_templates() -> None:
    """Forget every cached template (tests, benchmarks)."""
    _templates.clear()


# --------------------------------------------------------------------------- per preview


def _linear_to_srgb(c: float) -> float:
    c = min(max(c, 0.0), 1.0)
    return 12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055


def texture_size(scene: Scene) -> tuple[int, int]:
    """Texture pixels: the design canvas (bleed included) with its longest side `TEXTURE_PX`."""
    _x, _y, w, h = canvas_box(scene)
    k = TEXTURE_PX / max(w, h)
    return max(16, round(w * k)), max(16, round(h * k))


def texture_width(product: ProductDef) -> int:
    """The texture's width for a product (what its preview scene's image resolution is cut to)."""
    w, h = product.width_mm + 2 * product.bleed_mm, product.height_mm + 2 * product.bleed_mm
    return max(16, round(TEXTURE_PX * min(1.0, w / h)))


def design_texture(scene: Scene, base_color: tuple[float, float, float, float]) -> bytes:
    """The design drawn at preview size, flattened on the print material's colour, as a JPEG."""
    width, height = texture_size(scene)
    img = raster.rasterise(write_svg(scene), width, height)
    srgb = tuple(round(255 * _linear_to_srgb(c)) for c in base_color[:3])
    flat = Image.new("RGB", img.size, (srgb[0], srgb[1], srgb[2]))
    flat.paste(img, mask=img)  # straight alpha: the design over the material
    buf = io.BytesIO()
    flat.save(buf, format="JPEG", quality=JPEG_QUALITY, subsampling=0, optimize=False)
    return buf.getvalue()


def glb_with_texture(t: ModelTemplate, texture: bytes) -> bytes:
    """The template's GLB with `texture` (JPEG) as its print material's base colour."""
    views = list(t.glb_doc["bufferViews"])
    views[t.glb_view] = {"buffer": 0, "byteOffset": len(t.glb_bin), "byteLength": len(texture)}
    total = len(t.glb_bin) + len(texture)
    doc = {**t.glb_doc, "bufferViews": views, "buffers": [{"byteLength": total + (-total % 4)}]}
    return pack_glb(doc, t.glb_bin + texture)


def usdz_with_texture(t: ModelTemplate, texture: bytes) -> bytes:
    """The template's USD layer and `texture` packaged as a USDZ in memory: the layer first, every
    entry stored uncompressed with its data 64-byte aligned (padding in an extra field, as
    `Sdf.ZipFileWriter` does), entry times at the zip epoch."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for rel, data in ((LAYER_NAME, t.usd_layer), (USD_TEXTURE, texture), *t.usd_files):
            info = zipfile.ZipInfo(rel, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            start = buf.tell() + 30 + len(rel.encode()) + 4  # local header + the padding field's header
            pad = -start % 64
            info.extra = struct.pack("<HH", _PAD_FIELD, pad) + b"\x00" * pad
            zf.writestr(info, data)
    return buf.getvalue()


@dataclass(frozen=True)
class Preview3DFiles:
    glb: bytes
    usdz: bytes
    timings: dict[str, float]


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000.0, 3)


def require_model(spec: DesignSpec) -> Model3DDef:
    """The product's 3D model, else 409 `no_3d_model`."""
    model = spec.product.model3d
    if model is None:
        raise DomainError(
            RenderingErrorCode.NO_3D_MODEL,
            f"Product {spec.product.sku} has no 3D model: show its 2D preview instead.",
            product_id=spec.product.id,
        )
    return model


def render_files(spec: DesignSpec, spec_hash: str, resources: SceneResources) -> Preview3DFiles:
    """GLB + USDZ of a spec at preview quality (the only rendering a cache miss does)."""
    model = require_model(spec)
    start = time.perf_counter()
    timings: dict[str, float] = {}
    dpi = preview_image_dpi(spec.product, texture_width(spec.product))
    scene = build_scene(spec, spec_hash, resources, image_dpi=dpi)
    timings["scene_ms"] = _ms(start)
    step = time.perf_counter()
    template = model_template(scene, model, resources)
    timings["template_ms"] = _ms(step)
    step = time.perf_counter()
    texture = design_texture(scene, template.base_color)
    timings["texture_ms"] = _ms(step)
    step = time.perf_counter()
    glb = glb_with_texture(template, texture)
    timings["glb_ms"] = _ms(step)
    step = time.perf_counter()
    usdz = usdz_with_texture(template, texture)
    timings["usdz_ms"] = _ms(step)
    timings["total_ms"] = _ms(start)
    PREVIEW3D_SECONDS.observe(timings["total_ms"] / 1000.0)
    return Preview3DFiles(glb, usdz, timings)


def content_types() -> dict[str, str]:
    return {"glb": pipeline.CONTENT_TYPES["glb"], "usdz": pipeline.CONTENT_TYPES["usdz"]}


# --------------------------------------------------------------------------- rate limits


def redis_url() -> str | None:
    """Where the counters live (`LUNEO_REDIS_URL`; None: this process's memory)."""
    return get_settings().redis_url


class Preview3DLimiter:
    """Renders per shopper and per client IP (fixed windows, `limits`), in Redis when configured
    (shared by every process; this process's memory while Redis is down), else in memory."""

    def __init__(self) -> None:
        self.memory = FixedWindowRateLimiter(storage_from_string("memory://"))
        self.redis_state = RedisFallback("preview3d_rate_limit")
        self._shared: FixedWindowRateLimiter | None = None
        self._lock = threading.Lock()

    def _redis(self, url: str) -> FixedWindowRateLimiter:
        with self._lock:
            if self._shared is None:
                self._shared = FixedWindowRateLimiter(storage_from_string(url))
            return self._shared

    @staticmethod
    def _hit(limiter: FixedWindowRateLimiter, item: RateLimitItem, *ident: str) -> float | None:
        if limiter.hit(item, "preview3d", *ident):
            return None
        stats = limiter.get_window_stats(item, "preview3d", *ident)
        return max(1.0, stats.reset_time - time.time())

    def _count(self, item: RateLimitItem, *ident: str) -> float | None:
        url = redis_url()
        if not url:
            return self._hit(self.memory, item, *ident)
        return self.redis_state.run(
            lambda: self._hit(self._redis(url), item, *ident), lambda: self._hit(self.memory, item, *ident)
        )

    def check(self, *, shopper: str, ip: str, per_shopper: str, per_ip: str) -> None:
        """Count one render for the shopper and the IP; 429 `rate_limited` past either limit."""
        who = hashlib.sha256(shopper.encode()).hexdigest()[:32]
        for item, ident in ((parse(per_shopper), "shopper:" + who), (parse(per_ip), "ip:" + ip)):
            wait = self._count(item, ident)
            if wait is not None:
                seconds = math.ceil(wait)
                raise DomainError(
                    RenderingErrorCode.PREVIEW3D_RATE_LIMITED,
                    f"Too many 3D previews; retry in {seconds} s.",
                    retry_after_s=seconds,
                )


def limiter_for(state: Any) -> Preview3DLimiter:
    """The limiter of an application (its `state`): a fresh app counts afresh."""
    limiter = getattr(state, "preview3d_limiter", None)
    if limiter is None:
        limiter = Preview3DLimiter()
        state.preview3d_limiter = limiter
    return limiter


# --------------------------------------------------------------------------- cache rows


def render_id(spec_hash: str) -> str:
    """The render id of a spec's 3D preview (same spec ⇒ same id, whoever asks)."""
    from luneo.rendering.service import render_id_for

    return render_id_for(spec_hash, "preview", options())


def find_cached(session: Session, spec_hash: str) -> RenderResult | None:
    """The finished 3D preview of a spec in the session's brand, if any."""
    from luneo.rendering.service import SUCCESS, find_render

    row = find_render(session, render_id(spec_hash))
    if row is None or row.status != SUCCESS or not {"glb", "usdz"} <= set(row.outputs or {}):
        return None
    return row


def store(files: Preview3DFiles) -> dict[str, dict[str, Any]]:
    """Put the files in storage (content-addressed: same bytes, same key, nothing rewritten)."""
    from luneo.platform.storage import get_storage

    storage = get_storage()
    refs: dict[str, dict[str, Any]] = {}
    for name, data in (("glb", files.glb), ("usdz", files.usdz)):
        obj = storage.put(data, content_type=content_types()[name])
        refs[name] = {
            "key": obj.key,
            "sha256": obj.sha256,
            "bytes": obj.size,
            "content_type": obj.content_type,
        }
    return refs


def record(
    session: Session,
    *,
    spec_hash: str,
    refs: dict[str, dict[str, Any]],
    timings: dict[str, float],
    snapshot_id: str | None,
    design_id: str | None,
    actor: str | None,
) -> RenderResult:
    """The finished 3D preview row (created, or completed when a concurrent request made it)."""
    from luneo.platform.clock import utcnow
    from luneo.rendering import service

    row, _created = service._get_or_create(
        session,
        render_id=render_id(spec_hash),
        kind="preview",
        spec_hash=spec_hash,
        options=options(),
        snapshot_id=snapshot_id,
        design_id=design_id,
        actor=actor,
    )
    if row.status != service.SUCCESS:
        row.status, row.progress, row.error = service.SUCCESS, 1.0, None
        row.outputs, row.timings, row.finished_at = refs, timings, utcnow()
    service._link(row, snapshot_id, design_id)
    session.flush()
    return row
