"""Snapshot → production pack: pure orchestration of the design writers (no DB, no storage).

`export_spec(spec_doc, spec_hash, resources, options, meta)` rebuilds the Scene from the frozen
spec (never from client data), runs the print checks and writes, all from that one Scene:

- `design.svg`  true size in mm, text as outlines, images embedded (the master);
- `design.pdf`  true size, vector, outlined text, bleed and crop marks when the product asks (RGB);
- `design.png`  at the product's DPI, transparent, sRGB tagged;
- `design.dxf`  for `engrave` / `laser_cut` products only (R2010, mm, CUT/ENGRAVE layers, kerf);
- `design-cmyk.pdf` and `design-cmyk.tif` when the product's colour mode is CMYK;

plus `manifest.json` (meta + name / sha256 / bytes / size mm / dpi per file), zipped by
`luneo.design.pack.build_pack`. Same spec + options ⇒ byte-identical pack. The API actor, the
`luneo export` / `luneo bulk` commands and the benchmark all call this module.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from luneo.design.model import DesignSpec
from luneo.design.pack import PackFile, build_pack, sha256_hex
from luneo.design.print_checks import PrintIssue, run_print_checks
from luneo.design.scene import Scene
from luneo.design.scene_builder import SceneResources, build_scene
from luneo.design.writers.dxf import write_dxf
from luneo.design.writers.pdf import page_size_mm, write_pdf
from luneo.design.writers.raster import write_print_png
from luneo.design.writers.svg import canvas_box, write_svg
from luneo.design.writers.tiff import write_cmyk_tiff

DXF_METHODS = frozenset({"engrave", "laser_cut"})
MAX_KERF_MM = 5.0


@dataclass(frozen=True)
class PackOptions:
    """What, besides the snapshot, changes a pack's bytes (hashed into the export's idempotency key)."""

    quantity: int = 1
    kerf_mm: float = 0.0
    order_id: str | None = None
    order_item_id: str | None = None
    order_number: str | None = None

    def __post_init__(self) -> None:
        if self.quantity < 1:
            raise ValueError("quantity must be ≥ 1")
        if not 0.0 <= self.kerf_mm <= MAX_KERF_MM:
            raise ValueError(f"kerf_mm must be between 0 and {MAX_KERF_MM}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "quantity": self.quantity,
            "kerf_mm": round(float(self.kerf_mm), 4),
            "order_id": self.order_id,
            "order_item_id": self.order_item_id,
            "order_number": self.order_number,
        }

    def digest(self) -> str:
        """SHA-256 (hex, 16 chars) of the canonical options."""
        raw = json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(raw).hexdigest()[:16]


@dataclass
class PackResult:
    """A built pack: ZIP bytes, its manifest, the files inside and the print-check findings."""

    data: bytes
    manifest: dict[str, Any]
    files: list[PackFile]
    issues: list[PrintIssue]
    scene: Scene
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def sha256(self) -> str:
        return sha256_hex(self.data)

    @property
    def blocking(self) -> bool:
        """True when a print check found an error (production must not start unreviewed)."""
        return any(i.severity == "error" for i in self.issues)


def issue_dict(issue: PrintIssue) -> dict[str, Any]:
    return {
        "code": issue.code,
        "zone": issue.zone,
        "severity": issue.severity,
        "message": issue.message,
        "params": dict(issue.params),
    }


def scene_for(
    spec_doc: dict[str, Any], spec_hash: str, resources: SceneResources
) -> tuple[DesignSpec, Scene]:
    """The frozen spec and its full-resolution Scene (images at the product's output DPI)."""
    spec = DesignSpec.model_validate(spec_doc)
    return spec, build_scene(spec, spec_hash, resources)


def pack_files(
    scene: Scene, spec: DesignSpec, *, kerf_mm: float = 0.0, timings: dict[str, float] | None = None
) -> list[PackFile]:
    """Every production file of one Scene (see the module docstring for the list)."""
    product = spec.product
    t = timings if timings is not None else {}
    _, _, cw, ch = canvas_box(scene)
    dpi = product.output_dpi

    def timed(name: str, fn: Callable[[], bytes]) -> bytes:
        start = time.perf_counter()
        out = fn()
        t[name] = t.get(name, 0.0) + (time.perf_counter() - start) * 1000
        return out

    files = [PackFile("design.svg", timed("svg", lambda: write_svg(scene)), "image/svg+xml", cw, ch)]
    pw, ph = page_size_mm(scene)
    files.append(
        PackFile("design.pdf", timed("pdf", lambda: write_pdf(scene, cmyk=False)), "application/pdf", pw, ph)
    )
    png = timed("png", lambda: write_print_png(scene, dpi))
    files.append(PackFile("design.png", png, "image/png", cw, ch, dpi))
    if product.production_method in DXF_METHODS:
        files.append(
            PackFile(
                "design.dxf",
                timed("dxf", lambda: write_dxf(scene, kerf_mm=kerf_mm)),
                "image/vnd.dxf",
                product.width_mm,
                product.height_mm,
            )
        )
    if product.color_mode == "cmyk":
        files.append(
            PackFile(
                "design-cmyk.pdf",
                timed("pdf_cmyk", lambda: write_pdf(scene, cmyk=True)),
                "application/pdf",
                pw,
                ph,
            )
        )
        files.append(
            PackFile(
                "design-cmyk.tif",
                timed("tiff_cmyk", lambda: write_cmyk_tiff(png, dpi)),
                "image/tiff",
                cw,
                ch,
                dpi,
            )
        )
    return files


def export_spec(
    spec_doc: dict[str, Any],
    spec_hash: str,
    resources: SceneResources,
    options: PackOptions,
    meta: dict[str, Any] | None = None,
) -> PackResult:
    """Build one item's production pack from a frozen spec (deterministic)."""
    timings: dict[str, float] = {}
    start = time.perf_counter()
    spec, scene = scene_for(spec_doc, spec_hash, resources)
    timings["scene"] = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    issues = run_print_checks(scene, spec.product)
    timings["checks"] = (time.perf_counter() - start) * 1000
    files = pack_files(scene, spec, kerf_mm=options.kerf_mm, timings=timings)
    product = spec.product
    manifest_meta: dict[str, Any] = {
        **(meta or {}),
        "order_id": options.order_id,
        "order_item_id": options.order_item_id,
        "order_number": options.order_number,
        "spec_hash": spec_hash,
        "quantity": options.quantity,
        "kerf_mm": options.kerf_mm,
        "production_method": product.production_method,
        "product": {
            "id": product.id,
            "sku": product.sku,
            "name": product.name,
            "width_mm": product.width_mm,
            "height_mm": product.height_mm,
            "shape": product.shape,
            "color_mode": product.color_mode,
            "output_dpi": product.output_dpi,
            "bleed_mm": product.bleed_mm,
            "crop_marks": product.crop_marks,
        },
        "print_checks": [issue_dict(i) for i in issues],
    }
    start = time.perf_counter()
    data, manifest = build_pack(files, manifest_meta)
    timings["zip"] = (time.perf_counter() - start) * 1000
    return PackResult(
        data=data, manifest=manifest, files=files, issues=issues, scene=scene, timings_ms=timings
    )
