"""Bulk personalization: one product × every row of a CSV (e.g. 200 engraved names).

The header row names the zones (`arc_text,initial`); each later row is one personalized item.
Every row is validated first with the rules engine (`designs.service.check_inputs` →
`luneo.design.spec.build_spec`); bad rows are reported by line number (zone, code, message) and
produce nothing; each good row becomes a stored spec + snapshot (provenance `bulk`) and one
production pack `<line>-<slug>.zip` in the output directory, plus `summary.json`.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from luneo.catalog.public import Product, product_def_of
from luneo.design.model import ProductDef
from luneo.designs import public as designs
from luneo.designs.public import BrandResources
from luneo.manufacturing.export import PackJob, PackOptions, export_specs, issue_dict, pack_batch_size
from luneo.platform.database import Database
from luneo.platform.domain_errors import NotFoundError
from luneo.platform.tenancy import bind_system, bind_tenant
from luneo.tenancy.public import Brand

MAX_ROWS = 10_000
_SLUG = re.compile(r"[^A-Za-z0-9]+")


@dataclass
class Row:
    line: int
    inputs: dict[str, Any]
    label: str


@dataclass
class RowError:
    line: int
    zone: str | None
    code: str
    message: str


@dataclass
class BulkResult:
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    packs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def bad_lines(self) -> list[int]:
        return sorted({e.line for e in self.errors})


def brand_id_for(db: Database, slug: str) -> str:
    with db.transaction(write=False) as s:
        bind_system(s)
        brand = s.execute(select(Brand).where(Brand.slug == slug)).scalar_one_or_none()
        if brand is None:
            raise NotFoundError("brand", slug)
        return brand.id


def _input_for(product: ProductDef, key: str, value: str) -> Any:
    kind = next((z.kind for z in product.zones if z.key == key), "text")
    if kind == "image":
        return {"asset_id": value}
    if kind == "colour":
        return {"color": value}
    return {"text": value}


def read_rows(text: str, product: ProductDef) -> list[Row]:
    """CSV rows as zone inputs; line numbers count the header as line 1. Empty cells are omitted."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return []
    rows: list[Row] = []
    start = reader.line_num + 1
    for cells in reader:
        line, start = start, reader.line_num + 1
        if not any(c.strip() for c in cells):
            continue
        if len(rows) >= MAX_ROWS:
            raise ValueError(f"more than {MAX_ROWS} rows")
        values = {k: v for k, v in zip(header, cells, strict=False) if k and v != ""}
        if len(cells) > len(header):
            values["__extra__"] = ",".join(cells[len(header) :])
        inputs = {k: _input_for(product, k, v) for k, v in values.items()}
        rows.append(Row(line=line, inputs=inputs, label=" ".join(v for v in values.values())[:40]))
    return rows


def slug(text: str) -> str:
    return _SLUG.sub("-", text).strip("-").lower()[:40] or "item"


def run_bulk(
    db: Database,
    brand_id: str,
    sku: str,
    csv_text: str,
    out_dir: Path,
    *,
    csv_name: str = "bulk.csv",
    kerf_mm: float = 0.0,
    actor: str = "cli:bulk",
    on_validated: Callable[[int, int], None] | None = None,
    on_packed: Callable[[int, int], None] | None = None,
) -> BulkResult:
    """Validate every row, then write one pack per good row and `summary.json` in `out_dir`."""
    result = BulkResult()
    with db.transaction(write=False) as s:
        bind_tenant(s, brand_id)
        product_row = s.execute(select(Product).where(Product.sku == sku)).scalar_one_or_none()
        if product_row is None:
            raise NotFoundError("product", sku)
        product_id = product_row.id
        product = product_def_of(s, product_row)
        rows = read_rows(csv_text, product)
        result.rows = len(rows)
        good: list[Row] = []
        for i, row in enumerate(rows, 1):
            if "__extra__" in row.inputs:
                result.errors.append(
                    RowError(
                        row.line,
                        None,
                        "too_many_cells",
                        "The row has more cells than the header has columns.",
                    )
                )
            else:
                check = designs.check_inputs(s, product_id, row.inputs)
                result.errors += [RowError(row.line, v.zone, v.code, v.message) for v in check.violations]
                if check.ok:
                    good.append(row)
            if on_validated:
                on_validated(i, len(rows))
    out_dir.mkdir(parents=True, exist_ok=True)
    step = pack_batch_size()
    for first in range(0, len(good), step):  # several packs at once on the pack pool (`export_specs`)
        batch = good[first : first + step]
        jobs: list[PackJob] = []
        snaps: list[tuple[str, str]] = []
        for row in batch:
            with db.transaction() as s:
                bind_tenant(s, brand_id)
                spec_row, _ = designs.create_spec(s, product_id, row.inputs)
                snap, _ = designs.create_snapshot(
                    s,
                    spec_row=spec_row,
                    actor=actor,
                    provenance={"source": "bulk", "csv": csv_name, "line": row.line},
                )
                snaps.append((snap.id, snap.spec_hash))
                jobs.append(
                    PackJob(
                        dict(snap.spec),
                        snap.spec_hash,
                        PackOptions(kerf_mm=kerf_mm),
                        {
                            "snapshot_id": snap.id,
                            "brand_id": brand_id,
                            "bulk": {"csv": csv_name, "line": row.line},
                        },
                    )
                )
        with db.transaction(write=False) as s:
            bind_tenant(s, brand_id)
            packs = export_specs(jobs, BrandResources(s))
        for i, (row, (snapshot_id, spec_hash), pack) in enumerate(
            zip(batch, snaps, packs, strict=True), first + 1
        ):
            name = f"{row.line:04d}-{slug(row.label)}.zip"
            (out_dir / name).write_bytes(pack.data)
            result.packs.append(
                {
                    "line": row.line,
                    "file": name,
                    "snapshot_id": snapshot_id,
                    "spec_hash": spec_hash,
                    "sha256": pack.sha256,
                    "bytes": len(pack.data),
                    "print_checks": [issue_dict(x) for x in pack.issues],
                }
            )
            if on_packed:
                on_packed(i, len(good))
    summary = {
        "product": {"sku": sku, "id": product_id},
        "csv": csv_name,
        "rows": result.rows,
        "good": len(good),
        "bad": [
            {"line": e.line, "zone": e.zone, "code": e.code, "message": e.message} for e in result.errors
        ],
        "packs": result.packs,
    }
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return result


# --------------------------------------------------------------------------- dashboard upload

BULK_ACTOR = "bulk_personalization"
MAX_CSV_BYTES = 1_000_000


def check_csv(session: Any, product_id: str, csv_text: str) -> tuple[int, list[RowError], list[Row]]:
    """Validate every row of a bulk CSV for a product of the session's brand, exactly as `run_bulk`
    does → (rows, errors by line, good rows). Unknown product: 404."""
    product_row = session.execute(select(Product).where(Product.id == product_id)).scalar_one_or_none()
    if product_row is None:
        raise NotFoundError("product", product_id)
    product = product_def_of(session, product_row)
    try:
        rows = read_rows(csv_text, product)
    except (ValueError, csv.Error) as exc:
        return 0, [RowError(1, None, "invalid_csv", str(exc))], []
    errors: list[RowError] = []
    good: list[Row] = []
    for row in rows:
        if "__extra__" in row.inputs:
            errors.append(
                RowError(
                    row.line, None, "too_many_cells", "The row has more cells than the header has columns."
                )
            )
            continue
        check = designs.check_inputs(session, product_id, row.inputs)
        errors += [RowError(row.line, v.zone, v.code, v.message) for v in check.violations]
        if check.ok:
            good.append(row)
    return len(rows), errors, good


def start_bulk(
    session: Any, brand_id: str, product_id: str, csv_text: str, csv_name: str, actor: str
) -> tuple[str | None, int, list[RowError]]:
    """Validate a bulk CSV; when it has good rows, enqueue the job that makes their snapshots and
    packs (`bulk_personalization`) → (job id or None, rows, errors)."""
    from luneo.platform import jobs
    from luneo.platform.ids import new_id

    rows, errors, good = check_csv(session, product_id, csv_text)
    if not good:
        return None, rows, errors
    job = jobs.enqueue(
        session,
        BULK_ACTOR,
        f"bulk:{brand_id}:{new_id('bulk')}",
        {
            "product_id": product_id,
            "csv_name": csv_name,
            "actor": actor,
            "rows": [{"line": r.line, "inputs": r.inputs, "label": r.label} for r in good],
        },
        brand_id=brand_id,
    )
    return job.id, rows, errors


def bulk_job(session: Any, job_id: str) -> dict[str, Any]:
    """A bulk job of the session's brand: status, progress (0..1), result and error; 404 otherwise."""
    from luneo.platform.models import Job
    from luneo.platform.tenancy import session_brand

    job = session.execute(
        select(Job).where(Job.id == job_id, Job.actor == BULK_ACTOR, Job.brand_id == session_brand(session))
    ).scalar_one_or_none()
    if job is None:
        raise NotFoundError("bulk job", job_id)
    return {
        "id": job.id,
        "status": job.status,
        "progress": float(job.progress or 0.0),
        "result": dict(job.result or {}),
        "error": job.error,
    }
