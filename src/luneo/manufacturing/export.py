"""Snapshot → production pack: rebuild the Scene from the frozen spec, then the one builder.

`export_spec(spec_doc, spec_hash, resources, options, meta)` rebuilds the Scene from the frozen
spec (never from client data) and hands it to `luneo.design.pack.build_production_pack`, the
single builder that `luneo render --formats pack` uses too (print checks, the files —
`design.svg`, `design.pdf`, `design.png`, `design.dxf` for engrave / laser_cut,
`design-cmyk.pdf` + `design-cmyk.tif` for CMYK products, or the brand's pattern names — and
`manifest.json`, every entry measured on the written file). Same spec + options ⇒
byte-identical pack. The API actor, the `luneo export` / `luneo bulk` commands, the dashboard's
bulk upload and the benchmark all call this module.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from luneo.design.model import DesignSpec
from luneo.design.pack import (
    DXF_METHODS,
    BuiltPack,
    PackFile,
    build_production_pack,
    check_pattern,
    issue_dict,
    production_files,
    sha256_hex,
)
from luneo.design.print_checks import PrintIssue
from luneo.design.scene import Scene
from luneo.design.scene_builder import SceneResources, build_scene

__all__ = [
    "DXF_METHODS",
    "PackJob",
    "PackOptions",
    "PackResult",
    "export_spec",
    "export_specs",
    "issue_dict",
    "pack_batch_size",
    "pack_files",
    "scene_for",
]
MAX_KERF_MM = 5.0


@dataclass(frozen=True)
class PackOptions:
    """What, besides the snapshot, changes a pack's bytes (hashed into the export's idempotency key)."""

    quantity: int = 1
    kerf_mm: float = 0.0
    order_id: str | None = None
    order_item_id: str | None = None
    order_number: str | None = None
    item_index: int | None = None  # 1-based position of the item in its order (`{item}`)
    name_pattern: str | None = None  # the brand's `file_name_pattern` (None: today's names)

    def __post_init__(self) -> None:
        if self.quantity < 1:
            raise ValueError("quantity must be ≥ 1")
        if not 0.0 <= self.kerf_mm <= MAX_KERF_MM:
            raise ValueError(f"kerf_mm must be between 0 and {MAX_KERF_MM}")
        if self.item_index is not None and self.item_index < 1:
            raise ValueError("item_index must be ≥ 1")
        if self.name_pattern is not None:
            check_pattern(self.name_pattern)

    def as_dict(self) -> dict[str, Any]:
        """The canonical options; the naming fields only when set, so that packs made before
        naming patterns existed keep their options hash (and stay cached)."""
        out: dict[str, Any] = {
            "quantity": self.quantity,
            "kerf_mm": round(float(self.kerf_mm), 4),
            "order_id": self.order_id,
            "order_item_id": self.order_item_id,
            "order_number": self.order_number,
        }
        if self.item_index is not None:
            out["item_index"] = self.item_index
        if self.name_pattern:
            out["name_pattern"] = self.name_pattern
        return out

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


def scene_for(
    spec_doc: dict[str, Any], spec_hash: str, resources: SceneResources
) -> tuple[DesignSpec, Scene]:
    """The frozen spec and its full-resolution Scene (images at the product's output DPI)."""
    spec = DesignSpec.model_validate(spec_doc)
    return spec, build_scene(spec, spec_hash, resources)


def pack_files(
    scene: Scene, spec: DesignSpec, *, kerf_mm: float = 0.0, timings: dict[str, float] | None = None
) -> list[PackFile]:
    """Every production file of one Scene with today's names (`luneo.design.pack.production_files`)."""
    return production_files(scene, spec, kerf_mm=kerf_mm, timings=timings)


def export_spec(
    spec_doc: dict[str, Any],
    spec_hash: str,
    resources: SceneResources,
    options: PackOptions,
    meta: dict[str, Any] | None = None,
) -> PackResult:
    """Build one item's production pack from a frozen spec (deterministic)."""
    start = time.perf_counter()
    spec, scene = scene_for(spec_doc, spec_hash, resources)
    scene_ms = (time.perf_counter() - start) * 1000
    return _result(_build(scene, spec, options, meta), scene, scene_ms)


def _build(scene: Scene, spec: DesignSpec, options: PackOptions, meta: dict[str, Any] | None) -> BuiltPack:
    return build_production_pack(
        scene,
        spec,
        quantity=options.quantity,
        kerf_mm=options.kerf_mm,
        order_id=options.order_id,
        order_item_id=options.order_item_id,
        order_number=options.order_number,
        item_index=options.item_index,
        name_pattern=options.name_pattern,
        meta=meta,
    )


def _result(built: BuiltPack, scene: Scene, scene_ms: float) -> PackResult:
    return PackResult(
        data=built.data,
        manifest=built.manifest,
        files=built.files,
        issues=built.issues,
        scene=scene,
        timings_ms={"scene": scene_ms, **built.timings_ms},
    )


# ---------------------------------------------------------------- several items at once


@dataclass(frozen=True)
class PackJob:
    """One item of `export_specs`: the arguments of `export_spec` besides the resources."""

    spec_doc: dict[str, Any]
    spec_hash: str
    options: PackOptions
    meta: dict[str, Any] | None = None


def pack_workers() -> int:
    """Worker processes for `export_specs`: `LUNEO_PACK_WORKERS`, else min(2, CPUs). Processes,
    not threads: the skia rasteriser holds the GIL. 1 builds in-process."""
    env = os.environ.get("LUNEO_PACK_WORKERS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, min(2, os.cpu_count() or 1))


def pack_batch_size() -> int:
    """Items per `export_specs` call where a loop builds many (bulk runs): two per worker, so
    the pool stays busy while progress is still reported every few items."""
    return 2 * pack_workers()


_pool_lock = threading.Lock()
_pool: tuple[int, int, ProcessPoolExecutor] | None = None


def _process_pool(workers: int) -> ProcessPoolExecutor:
    """The process's pack pool (spawned once, kept: workers keep their font/image caches)."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid() or _pool[1] != workers:
            if _pool is not None and _pool[0] == os.getpid():
                _pool[2].shutdown(wait=False, cancel_futures=True)
            ctx = multiprocessing.get_context("spawn")  # never fork a process holding DB connections
            _pool = (os.getpid(), workers, ProcessPoolExecutor(workers, mp_context=ctx))
        return _pool[2]


def _drop_pool() -> None:
    global _pool
    with _pool_lock:
        if _pool is not None and _pool[0] == os.getpid():
            _pool[2].shutdown(wait=False, cancel_futures=True)
        _pool = None


def export_specs(
    jobs: Sequence[PackJob], resources: SceneResources, *, workers: int | None = None
) -> list[PackResult]:
    """The packs of several items (an order, a bulk upload), in `jobs` order, byte-identical to
    `export_spec` for each: Scenes are rebuilt here (they read `resources`), the files are
    written on a pool of `workers` processes (default `pack_workers()`). A lost worker process
    means the remaining items are built here."""
    n = pack_workers() if workers is None else max(1, workers)
    prepared = []
    for job in jobs:
        start = time.perf_counter()
        spec, scene = scene_for(job.spec_doc, job.spec_hash, resources)
        prepared.append((spec, scene, (time.perf_counter() - start) * 1000))
    if n <= 1 or len(jobs) < 2:
        return [
            _result(_build(scene, spec, job.options, job.meta), scene, ms)
            for job, (spec, scene, ms) in zip(jobs, prepared, strict=True)
        ]
    pool = _process_pool(n)
    futures = [
        pool.submit(_build, scene, spec, job.options, job.meta)
        for job, (spec, scene, _ms) in zip(jobs, prepared, strict=True)
    ]
    out: list[PackResult] = []
    for fut, job, (spec, scene, ms) in zip(futures, jobs, prepared, strict=True):
        try:
            built = fut.result()
        except BrokenProcessPool:
            _drop_pool()
            built = _build(scene, spec, job.options, job.meta)
        out.append(_result(built, scene, ms))
    return out
