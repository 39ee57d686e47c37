"""Routes: work orders (list, get, create, transition, attach a snapshot, export, override checks), export
packs, bundles."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Response

from luneo.manufacturing import service
from luneo.manufacturing.export import PackOptions
from luneo.manufacturing.models import ProductionPack, WorkOrder
from luneo.manufacturing.schemas import (
    AttachSnapshotIn,
    DownloadOut,
    ExportPackIn,
    ExportPackOut,
    OrderIn,
    OverrideIn,
    TransitionIn,
    WorkOrderDetailOut,
    WorkOrderEventOut,
    WorkOrderExportIn,
    WorkOrderIn,
    WorkOrderOut,
    WorkOrderPatch,
    WorkOrderStatus,
)
from luneo.platform.auth import Tenant
from luneo.platform.deps import ProductionReadDep, ProductionWriteDep
from luneo.platform.pagination import Page

router = APIRouter(tags=["manufacturing"])
DOWNLOAD_TTL_S = 3600


def _detail(t: Tenant, wo: WorkOrder) -> WorkOrderDetailOut:
    out = WorkOrderDetailOut.model_validate(wo)
    out.history = [WorkOrderEventOut.model_validate(e) for e in service.history(t.session, wo.id)]
    return out


def _pack_out(pack: ProductionPack, with_url: bool = True) -> ExportPackOut:
    url = expires = None
    if with_url and pack.status == "success" and pack.storage_key:
        url, expires = service.signed_url(pack.storage_key, f"{pack.id}.zip", DOWNLOAD_TTL_S)
    return ExportPackOut(
        pack_id=pack.id,
        job_id=pack.job_id,
        status=pack.status,  # type: ignore[arg-type]
        snapshot_id=pack.snapshot_id,
        spec_hash=pack.spec_hash,
        options=pack.options or {},
        sha256=pack.sha256,
        bytes=pack.size_bytes,
        url=url,
        expires_at=expires,
        manifest=pack.manifest,
        print_checks=pack.print_checks or [],  # type: ignore[arg-type]
        error=pack.error,
        created_at=pack.created_at,
    )


@router.get("/manufacturing/work-orders", response_model=Page[WorkOrderOut])
def list_work_orders(
    t: ProductionReadDep,
    status: list[WorkOrderStatus] | None = Query(default=None),
    product_id: str | None = None,
    production_method: str | None = None,
    order_id: str | None = None,
    assignee: str | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Any]:
    """The brand's work orders, newest first; filter by status (repeatable), product, method, order,
    assignee and creation date range [created_from, created_to)."""
    page = service.list_work_orders(
        t.session,
        status=list(status or []),
        product_id=product_id,
        production_method=production_method,
        order_id=order_id,
        assignee=assignee,
        created_from=created_from,
        created_to=created_to,
        cursor=cursor,
        limit=limit,
    )
    return page.map(WorkOrderOut.model_validate)


@router.post("/manufacturing/work-orders", response_model=WorkOrderDetailOut, status_code=201)
def create_work_order(body: WorkOrderIn, response: Response, t: ProductionWriteDep) -> WorkOrderDetailOut:
    """One work order for a snapshot (idempotent on order_item_id: 200 with the existing one)."""
    wo, created = service.create_work_order(
        t.session, actor=t.principal.actor, source="api", **body.model_dump()
    )
    if not created:
        response.status_code = 200
    return _detail(t, wo)


@router.post("/manufacturing/work-orders/from-order", response_model=list[WorkOrderOut], status_code=201)
def create_from_order(body: OrderIn, t: ProductionWriteDep) -> list[WorkOrderOut]:
    """Work orders for every item of an order (the `order.paid` payload shape), idempotent per item."""
    payload = {**body.model_dump(), "brand_id": t.brand_id}
    rows = service.create_from_order(t.session, payload, t.principal.actor, source="api")
    return [WorkOrderOut.model_validate(wo) for wo in rows]


@router.get("/manufacturing/work-orders/{work_order_id}", response_model=WorkOrderDetailOut)
def get_work_order(work_order_id: str, t: ProductionReadDep) -> WorkOrderDetailOut:
    """A work order with its print checks, pack refs and history."""
    return _detail(t, service.get_work_order(t.session, work_order_id))


@router.patch("/manufacturing/work-orders/{work_order_id}", response_model=WorkOrderDetailOut)
def patch_work_order(work_order_id: str, body: WorkOrderPatch, t: ProductionWriteDep) -> WorkOrderDetailOut:
    """Set the assignee, production partner or notes."""
    wo = service.update_work_order(
        t.session, work_order_id, body.model_dump(exclude_unset=True), t.principal.actor
    )
    return _detail(t, wo)


@router.post("/manufacturing/work-orders/{work_order_id}/transition", response_model=WorkOrderDetailOut)
def transition(work_order_id: str, body: TransitionIn, t: ProductionWriteDep) -> WorkOrderDetailOut:
    """Move a work order (invalid moves → 409 `invalid_transition` with the allowed targets)."""
    wo = service.transition(t.session, work_order_id, body.to, t.principal.actor, body.note)
    return _detail(t, wo)


@router.post("/manufacturing/work-orders/{work_order_id}/snapshot", response_model=WorkOrderDetailOut)
def attach_snapshot(work_order_id: str, body: AttachSnapshotIn, t: ProductionWriteDep) -> WorkOrderDetailOut:
    """Resume a `needs_attention` work order with a snapshot of its product that fills every
    required zone (422 `personalization_required` otherwise): → queued → exporting."""
    wo = service.attach_snapshot(t.session, work_order_id, body.snapshot_id, t.principal.actor)
    return _detail(t, wo)


@router.post(
    "/manufacturing/work-orders/{work_order_id}/export", response_model=WorkOrderDetailOut, status_code=202
)
def export_work_order(
    work_order_id: str, t: ProductionWriteDep, body: WorkOrderExportIn | None = None
) -> WorkOrderDetailOut:
    """(Re-)build the work order's pack: → exporting, then ready / needs_review / failed."""
    wo = service.get_work_order(t.session, work_order_id)
    service.start_export(t.session, wo, t.principal.actor, kerf_mm=body.kerf_mm if body else None)
    return _detail(t, wo)


@router.post("/manufacturing/work-orders/{work_order_id}/override-checks", response_model=WorkOrderDetailOut)
def override_checks(
    work_order_id: str, t: ProductionWriteDep, body: OverrideIn | None = None
) -> WorkOrderDetailOut:
    """Accept blocking print-check findings: needs_review → ready (recorded with who and when)."""
    wo = service.override_checks(t.session, work_order_id, t.principal.actor, body.note if body else "")
    return _detail(t, wo)


@router.get("/manufacturing/work-orders/{work_order_id}/pack", response_model=DownloadOut)
def work_order_pack(work_order_id: str, t: ProductionReadDep) -> DownloadOut:
    """A signed, expiring download URL for the work order's pack (404 until it is built)."""
    url, expires, sha256, size = service.pack_download(t.session, work_order_id, DOWNLOAD_TTL_S)
    return DownloadOut(url=url, expires_at=expires, sha256=sha256, bytes=size)


@router.post("/manufacturing/export-pack", response_model=ExportPackOut, status_code=202)
def export_pack(body: ExportPackIn, response: Response, t: ProductionWriteDep) -> ExportPackOut:
    """Build a production pack for a snapshot: 202 with the job, or 200 with the cached pack."""
    pack = service.ensure_pack(
        t.session, body.snapshot_id, PackOptions(quantity=body.quantity, kerf_mm=body.kerf_mm)
    )
    if pack.status == "success":
        response.status_code = 200
    return _pack_out(pack)


@router.get("/manufacturing/export-pack/{job_or_pack_id}", response_model=ExportPackOut)
def get_export_pack(job_or_pack_id: str, t: ProductionReadDep) -> ExportPackOut:
    """An export by pack id or job id: status, manifest, print checks and a signed URL once built."""
    return _pack_out(service.get_pack(t.session, job_or_pack_id))


@router.get("/manufacturing/bundles/{order_id}", response_model=DownloadOut)
def order_bundle(order_id: str, t: ProductionReadDep) -> DownloadOut:
    """The order's bundle (every item's pack) as a signed, expiring URL; 404 if the brand has no
    work order for this order, 409 `bundle_not_ready` while an item is not ready."""
    key, sha, size = service.build_order_bundle(t.session, order_id)
    url, expires = service.signed_url(key, f"{order_id}-bundle.zip", DOWNLOAD_TTL_S)
    return DownloadOut(url=url, expires_at=expires, sha256=sha, bytes=size)


@router.get("/manufacturing/bundles/{order_id}/ticket", response_model=DownloadOut)
def order_ticket(order_id: str, t: ProductionReadDep) -> DownloadOut:
    """The order's job ticket (A4 PDF: items, quantities, thumbnails, method, material, print
    checks, spec_hash) as a signed, expiring URL — also inside the bundle as `ticket.pdf`; 404 if
    the brand has no work order for this order. Available before every item is ready."""
    key, sha, size = service.build_order_ticket(t.session, order_id)
    url, expires = service.signed_url(key, f"{order_id}-ticket.pdf", DOWNLOAD_TTL_S)
    return DownloadOut(url=url, expires_at=expires, sha256=sha, bytes=size)
