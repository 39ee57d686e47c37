"""Job actor `export_pack`: snapshot → production pack ZIP (idempotent on snapshot + options hash)."""

from __future__ import annotations

from typing import Any

import structlog
from pydantic import ValidationError
from sqlalchemy import select

from luneo.designs.models import Snapshot
from luneo.designs.resources import BrandResources
from luneo.manufacturing import service
from luneo.manufacturing.export import PackOptions, PackResult, export_spec, issue_dict
from luneo.manufacturing.models import ProductionPack
from luneo.platform.database import Database
from luneo.platform.jobs import JobContext, PermanentJobError, actor
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


def run_pack(db: Database, brand_id: str, pack_id: str, *, final_attempt: bool = True) -> dict[str, Any]:
    """Build, store and record one pack; on failure (when final) mark it and its work orders failed."""
    try:
        result, status = build_pack_result(db, brand_id, pack_id)
    except PermanentJobError:
        raise
    except Exception as exc:
        permanent = isinstance(exc, _PERMANENT)
        if final_attempt or permanent:
            with db.transaction() as s:
                bind_tenant(s, brand_id)
                service.fail_pack(s, pack_id, f"{type(exc).__name__}: {exc}")
            raise PermanentJobError(f"export failed: {exc}") from exc
        raise
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


@actor("export_pack", time_limit_s=600.0, max_retries=3)
def export_pack(ctx: JobContext) -> dict[str, Any]:
    """Build the production pack named by `payload.pack_id` for the job's brand."""
    if not ctx.brand_id:
        raise PermanentJobError("export_pack needs a brand")
    return run_pack(ctx.db, ctx.brand_id, str(ctx.payload["pack_id"]), final_attempt=ctx.is_last_attempt)
