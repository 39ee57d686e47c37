"""Spec → Scene → files: the one rendering pipeline shared by the jobs, the CLI and manufacturing.

No database and no storage here: the caller passes a `SceneResources` (e.g.
`designs.resources.BrandResources(session)`) and gets bytes back. Two steps so a job can
build scenes while its session is open and run the writers after closing it:

    prepared = prepare(spec, spec_hash, resources, ["png", "svg", "glb"], width=1024)
    out = write(prepared, ["png", "svg", "glb"])          # out.files["png"].data …

or `render_spec(...)` for both at once. Same spec ⇒ same bytes (every writer is deterministic).

Formats (the output name is the format name):
  png, webp   preview at `width` px (preview scene: images capped at the DPI the width needs;
              `mockup=True`: the design on the product photo, `luneo.design.mockup.render_mockup`,
              `width` px wide; a product without a mockup gets the flat preview)
  svg         the design (production scene), mm units — the master file
  print       true-size PNG at the product's output DPI (bleed included, pHYs + sRGB)
  glb, usdz   the product's 3D model with the design as its print material's texture
  pdf, dxf    true-size PDF (bleed, crop marks) and DXF (cut / engrave layers)
  pack        the production ZIP of `luneo.design.pack.build_production_pack` (the same files as
              the API's export job: design.svg/.pdf/.png, .dxf, CMYK PDF + TIFF, manifest.json)
  thumbnail   200 × 200 PNG
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from luneo.design.mockup import render_mockup
from luneo.design.model import DesignSpec
from luneo.design.scene import Scene
from luneo.design.scene_builder import SceneResources, build_scene, preview_image_dpi
from luneo.design.writers import raster
from luneo.design.writers.svg import write_svg

PREVIEW_FORMATS = ("png", "webp", "thumbnail")
PRODUCTION_FORMATS = ("svg", "print", "glb", "usdz", "pdf", "dxf", "pack")
FORMATS = PREVIEW_FORMATS + PRODUCTION_FORMATS
MODEL_FORMATS = ("glb", "usdz")
FINAL_FORMATS = ("print", "svg", "glb", "usdz", "png")  # what `render_final` makes (png: 1024 px preview)
TEXTURE_PX = 2048
FINAL_PREVIEW_PX = 1024

CONTENT_TYPES = {
    "png": "image/png",
    "webp": "image/webp",
    "thumbnail": "image/png",
    "svg": "image/svg+xml",
    "print": "image/png",
    "glb": "model/gltf-binary",
    "usdz": "model/vnd.usdz+zip",
    "pdf": "application/pdf",
    "dxf": "image/vnd.dxf",
    "pack": "application/zip",
}
FILENAMES = {
    "png": "preview.png",
    "webp": "preview.webp",
    "thumbnail": "thumbnail.png",
    "svg": "design.svg",
    "print": "print.png",
    "glb": "model.glb",
    "usdz": "model.usdz",
    "pdf": "design.pdf",
    "dxf": "design.dxf",
    "pack": "pack.zip",
}

StepCallback = Callable[[str, float], None]


class RenderError(ValueError):
    """The spec cannot be rendered as asked (unknown format, missing 3D model…); retrying cannot help."""


@dataclass(frozen=True)
class OutputFile:
    """One rendered file."""

    name: str
    data: bytes
    content_type: str
    filename: str


@dataclass
class Prepared:
    """Scenes (and the uploaded 3D model, if any) built while the resources were reachable."""

    spec: DesignSpec
    spec_hash: str
    formats: tuple[str, ...]
    width: int
    mockup: bool
    preview_scene: Scene | None
    production_scene: Scene | None
    model_glb: bytes | None
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class RenderOutput:
    """Files by format name, plus per-step timings in ms."""

    files: dict[str, OutputFile]
    timings: dict[str, float]
    warnings: tuple[str, ...] = ()


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000.0, 3)


def load_spec(document: dict[str, Any]) -> DesignSpec:
    """A stored spec document (design_specs.spec / snapshots.spec) as a `DesignSpec`."""
    return DesignSpec.model_validate(document)


def normalise_formats(
    formats: Iterable[str], spec: DesignSpec, *, skip_missing_model: bool = False
) -> tuple[str, ...]:
    """Known formats, deduplicated, in canonical order; 3D formats need the product's model3d."""
    wanted = [f.strip().lower() for f in formats if f.strip()]
    unknown = sorted(set(wanted) - set(FORMATS))
    if unknown:
        raise RenderError(f"unknown format(s): {', '.join(unknown)} (known: {', '.join(FORMATS)})")
    if spec.product.model3d is None and any(f in MODEL_FORMATS for f in wanted):
        if not skip_missing_model:
            raise RenderError(f"product {spec.product.sku} has no 3D model: glb/usdz cannot be rendered")
        wanted = [f for f in wanted if f not in MODEL_FORMATS]
    return tuple(f for f in FORMATS if f in wanted)


def prepare(
    spec: DesignSpec,
    spec_hash: str,
    resources: SceneResources,
    formats: Sequence[str],
    *,
    width: int = FINAL_PREVIEW_PX,
    mockup: bool = False,
) -> Prepared:
    """Build the scenes the formats need (preview formats use the lighter preview scene)."""
    fmts = normalise_formats(formats, spec)
    if not fmts:
        raise RenderError("no format to render")
    if not 16 <= width <= 8192:
        raise RenderError("width must be between 16 and 8192 px")
    timings: dict[str, float] = {}
    start = time.perf_counter()
    preview = production = None
    if any(f in PRODUCTION_FORMATS for f in fmts):
        production = build_scene(spec, spec_hash, resources)
    if any(f in PREVIEW_FORMATS for f in fmts):
        # With a production scene already built, reuse it: same geometry, only more image pixels.
        preview = production or build_scene(
            spec, spec_hash, resources, image_dpi=preview_image_dpi(spec.product, width)
        )
    timings["scene_ms"] = _ms(start)
    model_glb = None
    model = spec.product.model3d
    if model is not None and model.kind == "glb" and any(f in MODEL_FORMATS for f in fmts):
        if not model.asset_sha256:
            raise RenderError("the product's GLB model has no content hash")
        model_glb = resources.image_bytes(model.asset_sha256)
    return Prepared(spec, spec_hash, fmts, width, mockup, preview, production, model_glb, timings)


def _pack(scene: Scene, spec: DesignSpec) -> bytes:
    """The production pack: the same builder as the API's export job and the bulk exports."""
    from luneo.design.pack import build_production_pack

    return build_production_pack(scene, spec).data


def write(prepared: Prepared, on_step: StepCallback | None = None) -> RenderOutput:
    """Run the writers for the prepared formats; `on_step(step, fraction_done)` reports progress."""
    p = prepared
    timings = dict(p.timings)
    raw: dict[str, bytes] = {}
    steps = len(p.formats) + 1
    done = 0

    def step(name: str) -> None:
        nonlocal done
        done += 1
        if on_step is not None:
            on_step(name, done / steps)

    step("scene")
    design_svg: bytes | None = None
    if p.production_scene is not None:
        start = time.perf_counter()
        design_svg = write_svg(p.production_scene)
        timings["svg_ms"] = _ms(start)
    if p.preview_scene is not None and any(f in ("png", "webp") for f in p.formats):
        if p.mockup and p.preview_scene.mockup is not None:
            start = time.perf_counter()
            img = render_mockup(p.preview_scene, width_px=p.width)
            timings["mockup_ms"] = _ms(start)
        else:  # the flat design (also for a product without a mockup)
            start = time.perf_counter()
            preview_svg = (
                design_svg
                if p.preview_scene is p.production_scene and design_svg
                else write_svg(p.preview_scene)
            )
            timings["preview_svg_ms"] = _ms(start)
            start = time.perf_counter()
            img = raster.rasterise(preview_svg, p.width)
        if "png" in p.formats:
            raw["png"] = raster.encode_preview_png(img)
            step("raster")
        if "webp" in p.formats:
            raw["webp"] = raster.encode_webp(img)
            step("raster")
        timings["raster_ms"] = _ms(start)
    if "thumbnail" in p.formats and p.preview_scene is not None:
        start = time.perf_counter()
        raw["thumbnail"] = raster.write_thumbnail(p.preview_scene)
        timings["thumbnail_ms"] = _ms(start)
        step("thumbnail")
    scene = p.production_scene
    if scene is not None and design_svg is not None:
        if "svg" in p.formats:
            raw["svg"] = design_svg
            step("svg")
        if "print" in p.formats:
            start = time.perf_counter()
            raw["print"] = raster.write_print_png(scene)
            timings["print_ms"] = _ms(start)
            step("raster")
        model = p.spec.product.model3d
        if model is not None and any(f in MODEL_FORMATS for f in p.formats):
            start = time.perf_counter()
            texture = raster.render_png(design_svg, TEXTURE_PX)
            timings["texture_ms"] = _ms(start)
            if "glb" in p.formats:
                from luneo.design.writers.gltf import write_glb

                start = time.perf_counter()
                raw["glb"] = write_glb(scene, model, texture, glb_bytes=p.model_glb)
                timings["glb_ms"] = _ms(start)
                step("glb")
            if "usdz" in p.formats:
                from luneo.design.writers.usdz import write_usdz

                start = time.perf_counter()
                raw["usdz"] = write_usdz(scene, model, texture, glb_bytes=p.model_glb)
                timings["usdz_ms"] = _ms(start)
                step("usdz")
        if "pdf" in p.formats:
            from luneo.design.writers.pdf import write_pdf

            start = time.perf_counter()
            raw["pdf"] = write_pdf(scene)
            timings["pdf_ms"] = _ms(start)
            step("pdf")
        if "dxf" in p.formats:
            from luneo.design.writers.dxf import write_dxf

            start = time.perf_counter()
            raw["dxf"] = write_dxf(scene)
            timings["dxf_ms"] = _ms(start)
            step("dxf")
        if "pack" in p.formats:
            start = time.perf_counter()
            raw["pack"] = _pack(scene, p.spec)
            timings["pack_ms"] = _ms(start)
            step("pack")
    files = {f: OutputFile(f, raw[f], CONTENT_TYPES[f], FILENAMES[f]) for f in p.formats}
    any_scene = p.production_scene or p.preview_scene
    warnings = tuple(any_scene.warnings) if any_scene is not None else ()
    return RenderOutput(files, timings, warnings)


def render_spec(
    spec: DesignSpec,
    spec_hash: str,
    resources: SceneResources,
    formats: Sequence[str],
    *,
    width: int = FINAL_PREVIEW_PX,
    mockup: bool = False,
    on_step: StepCallback | None = None,
) -> RenderOutput:
    """`prepare` then `write`: every requested file of one spec."""
    start = time.perf_counter()
    out = write(prepare(spec, spec_hash, resources, formats, width=width, mockup=mockup), on_step)
    out.timings["total_ms"] = _ms(start)
    return out


def preview_formats(fmt: str) -> tuple[str, ...]:
    """The formats of a preview render (`png` or `webp`)."""
    if fmt not in ("png", "webp"):
        raise RenderError("a preview is png or webp")
    return (fmt,)


def final_formats(spec: DesignSpec) -> tuple[str, ...]:
    """The formats of a final render: print PNG, SVG, a 1024 px preview, and GLB + USDZ with a model."""
    return normalise_formats(FINAL_FORMATS, spec, skip_missing_model=True)
