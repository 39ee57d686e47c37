"""Job actor `export_pack`: snapshot → production pack ZIP (idempotent on snapshot + options hash)."""

from __future__ import annotations

from typing import Any

import structlog
from pydantic import ValidationError
from sqlalchemy import select

from luneo.designs.public import BrandResources, Snapshot
from luneo.manufacturing import service
from luneo.manufacturing.export import (
    PackJob,
    PackOptions,
    PackResult,
    export_spec,
    export_specs,
    issue_dict,
    pack_batch_size,
)
from luneo.manufacturing.models import ProductionPack
from luneo.platform.database import Database
from luneo.platform.jobs import FailedJob, JobContext, PermanentJobError, actor, is_transient
from luneo.platform.storage import get_storage
from luneo.platform.tenancy import bind_tenant

log = structlog.get_logger("luneo.manufacturing.tasks")

# Errors that a retry cannot fix (bad spec, missing asset, impossible geometry).
_PERMANENT = (LookupError, ValueError, ValidationError)


def build_pack_result(db: Database, brand_id: str, pack_id: str) -> tuple[PackResult | None, str]:
    """Build the pack's files from its snapshot (read-only transaction). (None, status) when done already."""
    with db.transaction(write=False) as s:
        bind_tenant(s, brand_id)
        pack = s.execute(select(ProductionPack).where(ProductionPack.id == pack_id)).scalar_one_or_none()
        if pack is None:
            raise PermanentJobError(f"no production pack {pack_id}")
        if pack.status == "success":
            return None, pack.status
        snap = s.execute(select(Snapshot).where(Snapshot.id == pack.snapshot_id)).scalar_one()
        opts = PackOptions(
            **{k: v for k, v in (pack.options or {}).items() if k in PackOptions.__dataclass_fields__}
        )
        result = export_spec(
            snap.spec, snap.spec_hash, BrandResources(s), opts, {"snapshot_id": snap.id, "brand_id": brand_id}
        )
        return result, pack.status


def run_pack(db: Database, brand_id: str, pack_id: str, *, mark_failed: bool = True) -> dict[str, Any]:
    """Build, store and record one pack.

    A deterministic failure (bad spec, missing asset) becomes a `PermanentJobError` (no retry);
    an I/O failure (storage, network) is re-raised as is, for the job runtime's long I/O retry
    budget. With `mark_failed` (the CLI) any failure also marks the pack and its work orders
    failed at once; the job leaves that to `on_export_failed`, after its last attempt.
    """
    try:
        return _run_pack(db, brand_id, pack_id)
    except Exception as exc:
        permanent = isinstance(exc, PermanentJobError) or (
            isinstance(exc, _PERMANENT) and not is_transient(exc)
        )
        if mark_failed:
            fail_pack_safely(db, brand_id, pack_id, f"{type(exc).__name__}: {exc}")
        if permanent and not isinstance(exc, PermanentJobError):
            raise PermanentJobError(f"{type(exc).__name__}: {exc}") from exc
        raise


def fail_pack_safely(db: Database, brand_id: str, pack_id: str, error: str) -> None:
    """Mark the pack and the work orders waiting on it `failed` (and email the brand; an email
    problem never rolls this back). Logs instead of raising."""
    try:
        with db.transaction() as s:
            bind_tenant(s, brand_id)
            service.fail_pack(s, pack_id, error)
    except Exception:
        log.exception("pack_fail_record_failed", pack_id=pack_id, brand_id=brand_id)


def on_export_failed(db: Database, failed: FailedJob) -> None:
    """The `export_pack` job is finally `failed` (every attempt, a deterministic error, or a
    worker lost on its last attempt): the pack and its work orders become `failed` with the
    error, and the brand is told."""
    pack_id = failed.payload.get("pack_id")
    if not failed.brand_id or not pack_id:
        return
    error = failed.error
    for prefix in ("PermanentJobError: ",):
        error = error.removeprefix(prefix)
    log.warning("export_failed", pack_id=pack_id, job_id=failed.job_id, attempts=failed.attempts, error=error)
    fail_pack_safely(db, failed.brand_id, str(pack_id), error)


def _run_pack(db: Database, brand_id: str, pack_id: str) -> dict[str, Any]:
    result, status = build_pack_result(db, brand_id, pack_id)
    with db.transaction() as s:
        bind_tenant(s, brand_id)
        if result is None:  # built earlier: make sure waiting work orders see it
            pack = s.execute(select(ProductionPack).where(ProductionPack.id == pack_id)).scalar_one()
            service._release_waiting(s, pack)
            return {"pack_id": pack_id, "status": status, "cached": True}
        obj = get_storage().put(result.data, content_type=service.PACK_CONTENT_TYPE)
        service.complete_pack(
            s,
            pack_id,
            storage_key=obj.key,
            sha256=obj.sha256,
            size=obj.size,
            manifest=result.manifest,
            issues=[issue_dict(i) for i in result.issues],
        )
    log.info(
        "pack_built",
        pack_id=pack_id,
        sha256=result.sha256,
        bytes=len(result.data),
        timings_ms={k: round(v, 1) for k, v in result.timings_ms.items()},
    )
    return {
        "pack_id": pack_id,
        "status": "success",
        "sha256": result.sha256,
        "bytes": len(result.data),
        "blocking": result.blocking,
    }


@actor(
    "export_pack",
    time_limit_s=600.0,
    max_retries=3,
    on_failure=on_export_failed,
    fail_fast_on=_PERMANENT,
)
def export_pack(ctx: JobContext) -> dict[str, Any]:
    """Build the production pack named by `payload.pack_id` for the job's brand. I/O failures
    retry for ~15 min (the runtime's I/O budget); deterministic ones fail after one attempt."""
    if not ctx.brand_id:
        raise PermanentJobError("export_pack needs a brand")
    return run_pack(ctx.db, ctx.brand_id, str(ctx.payload["pack_id"]), mark_failed=False)


@actor("bulk_personalization", time_limit_s=1800.0, max_retries=1, fail_fast_on=_PERMANENT)
def bulk_personalization(ctx: JobContext) -> dict[str, Any]:
    """The dashboard's bulk CSV upload: one snapshot (provenance `bulk`) and one pack per validated
    row, all packs in one stored ZIP; progress is recorded after each row."""
    from luneo.design.pack import build_bundle
    from luneo.designs import public as designs
    from luneo.manufacturing.bulk import slug

    if not ctx.brand_id:
        raise PermanentJobError("bulk_personalization needs a brand")
    payload = ctx.payload
    rows = list(payload["rows"])
    packs: list[tuple[str, bytes]] = []
    made: list[dict[str, Any]] = []
    step = pack_batch_size()
    for first in range(0, len(rows), step):  # several packs at once on the pack pool (`export_specs`)
        batch = rows[first : first + step]
        jobs: list[PackJob] = []
        snaps: list[tuple[str, str]] = []
        for row in batch:
            with ctx.transaction() as s:
                spec_row, _ = designs.create_spec(s, str(payload["product_id"]), row["inputs"])
                snap, _ = designs.create_snapshot(
                    s,
                    spec_row=spec_row,
                    actor=str(payload.get("actor") or "dashboard:bulk"),
                    provenance={"source": "bulk", "csv": payload.get("csv_name"), "line": row["line"]},
                )
                snaps.append((snap.id, snap.spec_hash))
                meta = {"snapshot_id": snap.id, "brand_id": ctx.brand_id, "bulk": {"line": row["line"]}}
                jobs.append(PackJob(dict(snap.spec), snap.spec_hash, PackOptions(), meta))
        with ctx.transaction(write=False) as s:
            built = export_specs(jobs, BrandResources(s))
        for i, (row, (snapshot_id, spec_hash), pack) in enumerate(
            zip(batch, snaps, built, strict=True), first + 1
        ):
            name = f"{int(row['line']):04d}-{slug(str(row.get('label') or ''))}"
            packs.append((name, pack.data))
            made.append(
                {
                    "line": row["line"],
                    "name": name,
                    "snapshot_id": snapshot_id,
                    "spec_hash": spec_hash,
                    "print_checks": [issue_dict(x) for x in pack.issues],
                }
            )
            ctx.progress(i / (len(rows) + 1))
    obj = get_storage().put(
        build_bundle(packs, {"brand_id": ctx.brand_id, "csv": payload.get("csv_name"), "bulk": True}),
        content_type=service.PACK_CONTENT_TYPE,
    )
    return {"packs": made, "key": obj.key, "sha256": obj.sha256, "bytes": obj.size}
