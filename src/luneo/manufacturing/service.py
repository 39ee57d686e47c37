"""Manufacturing use cases: work orders and their status machine, export packs, bundles.

Work-order statuses (see `TRANSITIONS`):

    queued ──▶ exporting ──▶ ready ──▶ in_production ──▶ done
                  │  ▲          ▲            │
                  │  └──────────┼── re-export (from failed / needs_review / ready)
                  ├──▶ needs_review ──(override-checks)──▶ ready
                  └──▶ failed ──▶ queued (retry)
    needs_attention ──(attach a producible snapshot)──▶ queued
    any state but done ──▶ cancelled

`exporting → ready | needs_review | failed` and `needs_review → ready` are made by the system
(export job) and by the override-checks route; operators move the rest with `transition`.
A print check of severity "error" sends the work order to `needs_review` instead of `ready`
(and emails the brand's production contact) until an operator overrides the checks.
A paid order item without a producible snapshot (none, another brand's or product's, or one
that leaves a required zone empty) becomes a `needs_attention` work order with the reason,
and the brand is emailed, never skipped; attaching a good snapshot resumes it.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from luneo.catalog import public as catalog
from luneo.catalog.public import Product
from luneo.design.model import DesignSpec, ProductDef
from luneo.design.pack import (
    NameContext,
    PackFile,
    PatternError,
    build_bundle,
    bundle_item_names,
    check_pattern,
    name_context,
    sha256_hex,
)
from luneo.design.ticket import Ticket, TicketItem, write_job_ticket
from luneo.designs import public as designs
from luneo.designs.public import Snapshot
from luneo.manufacturing.error_codes import ManufacturingErrorCode
from luneo.manufacturing.export import PackOptions
from luneo.manufacturing.models import ProductionPack, WorkOrder, WorkOrderEvent
from luneo.platform import events, jobs
from luneo.platform.clock import utcnow
from luneo.platform.domain_errors import DomainError, NotFoundError
from luneo.platform.ids import new_id
from luneo.platform.pagination import Page, paginate
from luneo.platform.storage import get_storage
from luneo.platform.tenancy import bind_system, bind_tenant, session_brand
from luneo.tenancy.public import Brand

log = structlog.get_logger("luneo.manufacturing")

EXPORT_ACTOR = "export_pack"
SYSTEM_ACTOR = "system"
#: Published on every status change: `{"brand_id", "work_order_id", "order_id", "order_item_id",
#: "from", "to", "note", "error", "pack_key", "pack_sha256", "pack_bytes"}` (outgoing webhooks).
WORK_ORDER_STATUS_CHANGED = "work_order.status_changed"
PACK_CONTENT_TYPE = "application/zip"

# Moves an operator may make with POST /transition.
TRANSITIONS: dict[str, frozenset[str]] = {
    "queued": frozenset({"cancelled"}),
    "exporting": frozenset({"failed", "cancelled"}),
    "needs_review": frozenset({"cancelled"}),
    "needs_attention": frozenset({"cancelled"}),
    "ready": frozenset({"in_production", "cancelled"}),
    "in_production": frozenset({"done", "ready", "failed", "cancelled"}),
    "failed": frozenset({"queued", "cancelled"}),
    "done": frozenset(),
    "cancelled": frozenset(),
}
# Where an export may start from (re-export included).
EXPORTABLE = frozenset({"queued", "failed", "needs_review", "ready"})
BUNDLE_READY = frozenset({"ready", "in_production", "done"})


# --------------------------------------------------------------------------- history


def _record(session: Session, wo: WorkOrder, from_status: str | None, to: str, actor: str, note: str) -> None:
    wo.history_seq = (wo.history_seq or 0) + 1
    session.add(
        WorkOrderEvent(
            work_order_id=wo.id,
            brand_id=wo.brand_id,
            seq=wo.history_seq,
            from_status=from_status,
            to_status=to,
            actor=actor,
            note=note,
            created_at=utcnow(),
        )
    )


def _move(session: Session, wo: WorkOrder, to: str, actor: str, note: str = "") -> None:
    """Change status and record who did it (no checks: callers check the machine); publishes
    `work_order.status_changed`."""
    _record(session, wo, wo.status, to, actor, note)
    from_status, wo.status = wo.status, to
    now = utcnow()
    changed = {
        "brand_id": wo.brand_id,
        "work_order_id": wo.id,
        "order_id": wo.order_id,
        "order_item_id": wo.order_item_id,
        "from": from_status,
        "to": to,
        "note": note,
        "error": wo.error if to == "failed" else None,
        "pack_key": wo.pack_key,
        "pack_sha256": wo.pack_sha256,
        "pack_bytes": wo.pack_bytes,
    }
    events.publish(session, WORK_ORDER_STATUS_CHANGED, changed)
    if to == "ready":
        wo.ready_at = now
    elif to == "done":
        wo.done_at = now
    elif to == "cancelled":
        wo.cancelled_at = now


def history(session: Session, work_order_id: str) -> list[WorkOrderEvent]:
    stmt = (
        select(WorkOrderEvent)
        .where(WorkOrderEvent.work_order_id == work_order_id)
        .order_by(WorkOrderEvent.seq)
    )
    return list(session.execute(stmt).scalars())


# --------------------------------------------------------------------------- creation


def _snapshot(session: Session, snapshot_id: str) -> Snapshot:
    snap = session.execute(select(Snapshot).where(Snapshot.id == snapshot_id)).scalar_one_or_none()
    if snap is None:
        raise NotFoundError("snapshot", snapshot_id)
    return snap


def _product_sku(session: Session, snap: Snapshot) -> tuple[str, str]:
    product = (snap.spec or {}).get("product") or {}
    sku = str(product.get("sku") or "")
    method = str(product.get("production_method") or "")
    if not sku or not method:
        row = session.execute(select(Product).where(Product.id == snap.product_id)).scalar_one_or_none()
        sku = sku or (row.sku if row else "")
        method = method or (row.production_method if row else "print")
    return sku, method


def create_work_order(
    session: Session,
    *,
    snapshot_id: str,
    quantity: int,
    actor: str,
    order_id: str | None = None,
    order_item_id: str | None = None,
    order_number: str | None = None,
    assignee: str | None = None,
    production_partner: str | None = None,
    notes: str = "",
    kerf_mm: float = 0.0,
    source: str = "api",
    export: bool = True,
) -> tuple[WorkOrder, bool]:
    """One work order per order item (idempotent on `order_item_id`); starts its export.

    Returns (work order, created).
    """
    if order_item_id:
        existing = session.execute(
            select(WorkOrder).where(WorkOrder.order_item_id == order_item_id)
        ).scalar_one_or_none()
        if existing is not None:
            return existing, False
    if quantity < 1:
        raise DomainError(ManufacturingErrorCode.INVALID_QUANTITY, "quantity must be at least 1.")
    snap = _snapshot(session, snapshot_id)
    sku, method = _product_sku(session, snap)
    wo = WorkOrder(
        order_id=order_id,
        order_item_id=order_item_id or new_id("woi"),
        order_number=order_number,
        snapshot_id=snap.id,
        spec_hash=snap.spec_hash,
        product_id=snap.product_id,
        product_sku=sku,
        production_method=method,
        quantity=quantity,
        kerf_mm=kerf_mm,
        status="queued",
        assignee=assignee,
        production_partner=production_partner,
        notes=notes,
        print_checks=[],
        checks_blocked=False,
        source=source,
        created_by=actor,
    )
    raced = _insert_once(session, wo, order_item_id)
    if raced is not None:
        return raced, False
    _record(session, wo, None, "queued", actor, f"created ({source})")
    if export:
        start_export(session, wo, actor)
    return wo, True


def create_from_order(
    session: Session, payload: dict[str, Any], actor: str, source: str = "event"
) -> list[WorkOrder]:
    """Work orders for every item of an `order.paid`-shaped payload (idempotent per item).

    An item without a producible snapshot becomes a `needs_attention` work order with the
    reason (and an email to the brand), never a silent skip; from the API, a snapshot id that
    is not in the brand stays a 404. Only an item of a product with no required zone and no
    snapshot has nothing to make here (logged).
    """
    out: list[WorkOrder] = []
    for item in payload.get("items") or []:
        wo = _work_order_for_item(session, payload, item, actor, source)
        if wo is not None:
            out.append(wo)
    return out


def _by_order_item(session: Session, order_item_id: str | None) -> WorkOrder | None:
    return session.execute(
        select(WorkOrder).where(WorkOrder.order_item_id == order_item_id)
    ).scalar_one_or_none()


def _insert_once(session: Session, wo: WorkOrder, order_item_id: str | None) -> WorkOrder | None:
    """Insert the work order; None when inserted, else the one a concurrent call made for the item."""
    try:
        with session.begin_nested():
            session.add(wo)
            session.flush()
    except IntegrityError:
        raced = _by_order_item(session, order_item_id)
        if raced is None:
            raise
        return raced
    return None


def _product_def(session: Session, product_id: str | None) -> ProductDef | None:
    if not product_id:
        return None
    try:
        return catalog.product_def(session, product_id)
    except NotFoundError:
        return None


def _work_order_for_item(
    session: Session, payload: dict[str, Any], item: dict[str, Any], actor: str, source: str
) -> WorkOrder | None:
    item_id = str(item["order_item_id"])
    existing = _by_order_item(session, item_id)
    if existing is not None:
        return existing
    snapshot_id = str(item["snapshot_id"]) if item.get("snapshot_id") else None
    named = str(item["product_id"]) if item.get("product_id") else None
    snap: Snapshot | None = None
    reason: str | None = None
    if snapshot_id is not None:
        try:
            snap = designs.get_snapshot(session, snapshot_id)
        except NotFoundError:
            if source != "event":
                raise
            reason = f"snapshot {snapshot_id} not found in this brand: nothing approved to produce"
    product = _product_def(session, named)
    if snap is not None and product is not None and snap.product_id != product.id:
        reason = f"snapshot {snap.id} personalizes another product than {product.sku}"
        snap = None
    elif snap is not None and product is None:
        product = _product_def(session, snap.product_id)
    if reason is None and product is not None:
        missing = designs.unfilled_required_zones(product, snap)
        if missing:
            zones = ", ".join(missing)
            reason = (
                f"snapshot {snap.id} leaves required zone(s) {zones} empty"
                if snap is not None
                else f"no personalization for required zone(s) {zones}: nothing approved to produce"
            )
    if reason is None and snap is None:
        if product is None:
            reason = "no snapshot and no known product: nothing to produce"
        else:
            log.info(
                "work_order_not_needed",
                order_id=payload.get("order_id"),
                item=item_id,
                reason="product has no required zone and the item no snapshot",
            )
            return None
    if reason is not None:
        return _needs_attention(session, payload, item, item_id, actor, source, snap, product, named, reason)
    assert snap is not None
    wo, _ = create_work_order(
        session,
        snapshot_id=snap.id,
        quantity=int(item.get("quantity") or 1),
        actor=actor,
        order_id=str(payload["order_id"]),
        order_item_id=item_id,
        order_number=str(payload["number"]) if payload.get("number") is not None else None,
        source=source,
    )
    return wo


def _needs_attention(
    session: Session,
    payload: dict[str, Any],
    item: dict[str, Any],
    item_id: str,
    actor: str,
    source: str,
    snap: Snapshot | None,
    product: ProductDef | None,
    named_product: str | None,
    reason: str,
) -> WorkOrder:
    """A visible work order for a paid item that cannot be made as it is; the brand is emailed."""
    wo = WorkOrder(
        order_id=str(payload["order_id"]),
        order_item_id=item_id,
        order_number=str(payload["number"]) if payload.get("number") is not None else None,
        snapshot_id=snap.id if snap is not None else None,
        spec_hash=snap.spec_hash if snap is not None else None,
        product_id=product.id if product is not None else (named_product or "")[:40],
        product_sku=product.sku if product is not None else "",
        production_method=product.production_method if product is not None else "print",
        quantity=max(1, int(item.get("quantity") or 1)),
        status="needs_attention",
        notes="",
        print_checks=[],
        checks_blocked=False,
        error=reason,
        source=source,
        created_by=actor,
    )
    raced = _insert_once(session, wo, item_id)
    if raced is not None:
        return raced
    _record(session, wo, None, "needs_attention", actor, reason[:500])
    log.warning(
        "work_order_needs_attention",
        work_order_id=wo.id,
        order_id=wo.order_id,
        item=item_id,
        reason=reason,
    )
    notify_production_error(session, wo, "needs_attention", error=reason)
    return wo


def attach_snapshot(session: Session, work_order_id: str, snapshot_id: str, actor: str) -> WorkOrder:
    """Resume a `needs_attention` work order with a producible snapshot of its product: the
    snapshot must fill every required zone (422 `personalization_required`); → queued → export."""
    wo = get_work_order(session, work_order_id)
    if wo.status != "needs_attention":
        raise DomainError(
            ManufacturingErrorCode.INVALID_TRANSITION,
            f"Only a work order in needs_attention takes a snapshot this way (this one is {wo.status}).",
            current=wo.status,
            to="queued",
            allowed=sorted(TRANSITIONS.get(wo.status, ())),
        )
    snap = designs.get_snapshot(session, snapshot_id)
    if wo.product_id and snap.product_id != wo.product_id:
        raise DomainError(
            ManufacturingErrorCode.SNAPSHOT_PRODUCT_MISMATCH,
            f"Snapshot {snapshot_id} personalizes another product than this work order's.",
        )
    product = catalog.product_def(session, snap.product_id)
    missing = designs.unfilled_required_zones(product, snap)
    if missing:
        raise DomainError(
            ManufacturingErrorCode.PERSONALIZATION_REQUIRED,
            f"Snapshot {snapshot_id} leaves required zone(s) {', '.join(missing)} empty.",
            product_id=product.id,
            zones=missing,
            snapshot_id=snapshot_id,
        )
    wo.snapshot_id, wo.spec_hash = snap.id, snap.spec_hash
    wo.product_id, wo.product_sku, wo.production_method = product.id, product.sku, product.production_method
    wo.error = None
    _move(session, wo, "queued", actor, f"snapshot {snap.id} attached")
    start_export(session, wo, actor)
    return wo


def cancel_order(
    session: Session, order_id: str, actor: str, note: str = "order refunded"
) -> list[WorkOrder]:
    """Cancel every work order of an order that is not done (or already cancelled)."""
    rows = list(session.execute(select(WorkOrder).where(WorkOrder.order_id == order_id)).scalars())
    changed = []
    for wo in rows:
        if wo.status not in ("done", "cancelled"):
            _move(session, wo, "cancelled", actor, note)
            changed.append(wo)
    return changed


@contextmanager
def as_brand(session: Session, brand_id: str) -> Iterator[bool]:
    """Temporarily bind an event's session to the payload's brand; yields False (and does
    nothing) when the session is already bound to another brand."""
    current = session_brand(session)
    if current is not None and current != brand_id:
        log.warning("event_for_other_brand_ignored", session_brand=current, payload_brand=brand_id)
        yield False
        return
    was_system = bool(session.info.get("system"))
    bind_tenant(session, brand_id)
    try:
        yield True
    finally:
        if current is not None:
            bind_tenant(session, current)
        elif was_system:
            bind_system(session)
        else:
            session.info.pop("brand_id", None)


# --------------------------------------------------------------------------- queries


def get_work_order(session: Session, work_order_id: str) -> WorkOrder:
    wo = session.execute(select(WorkOrder).where(WorkOrder.id == work_order_id)).scalar_one_or_none()
    if wo is None:
        raise NotFoundError("work order", work_order_id)
    return wo


def list_work_orders(
    session: Session,
    *,
    status: list[str] | None = None,
    product_id: str | None = None,
    production_method: str | None = None,
    order_id: str | None = None,
    assignee: str | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Any]:
    stmt: Select[Any] = select(WorkOrder)
    if status:
        stmt = stmt.where(WorkOrder.status.in_(status))
    if product_id:
        stmt = stmt.where(WorkOrder.product_id == product_id)
    if production_method:
        stmt = stmt.where(WorkOrder.production_method == production_method)
    if order_id:
        stmt = stmt.where(WorkOrder.order_id == order_id)
    if assignee:
        stmt = stmt.where(WorkOrder.assignee == assignee)
    if created_from:
        stmt = stmt.where(WorkOrder.created_at >= created_from)
    if created_to:
        stmt = stmt.where(WorkOrder.created_at < created_to)
    return paginate(session, stmt, WorkOrder, cursor, limit)


# --------------------------------------------------------------------------- operator actions


def transition(session: Session, work_order_id: str, to: str, actor: str, note: str = "") -> WorkOrder:
    """An operator's move; anything outside `TRANSITIONS` is a 409 `invalid_transition`."""
    wo = get_work_order(session, work_order_id)
    allowed = TRANSITIONS.get(wo.status, frozenset())
    if to not in allowed:
        hint = " Use the override-checks route." if (wo.status, to) == ("needs_review", "ready") else ""
        raise DomainError(
            ManufacturingErrorCode.INVALID_TRANSITION,
            f"A work order cannot go from {wo.status} to {to}.{hint}",
            current=wo.status,
            to=to,
            allowed=sorted(allowed),
        )
    _move(session, wo, to, actor, note)
    if to == "queued":  # retry after a failure: export again
        start_export(session, wo, actor)
    return wo


def update_work_order(session: Session, work_order_id: str, changes: dict[str, Any], actor: str) -> WorkOrder:
    wo = get_work_order(session, work_order_id)
    for field in ("assignee", "production_partner", "notes"):
        if field in changes:
            value = changes[field]
            setattr(wo, field, "" if field == "notes" and value is None else value)
    return wo


def override_checks(session: Session, work_order_id: str, actor: str, note: str = "") -> WorkOrder:
    """An operator accepts the print-check findings: needs_review → ready."""
    wo = get_work_order(session, work_order_id)
    if wo.status != "needs_review":
        raise DomainError(
            ManufacturingErrorCode.INVALID_TRANSITION,
            f"Only a work order in needs_review can have its checks overridden (this one is {wo.status}).",
            current=wo.status,
            to="ready",
            allowed=[],
        )
    wo.checks_overridden_by, wo.checks_overridden_at = actor, utcnow()
    _move(session, wo, "ready", actor, note or "print checks overridden")
    return wo


# --------------------------------------------------------------------------- packs


SETTING_FILE_NAME_PATTERN = "file_name_pattern"


def name_pattern(session: Session, brand_id: str) -> str | None:
    """The brand's `file_name_pattern` setting (None: today's names; an unusable one is ignored)."""
    brand = session.get(Brand, brand_id)
    settings = (brand.settings if brand is not None else None) or {}
    pattern = settings.get(SETTING_FILE_NAME_PATTERN) if isinstance(settings, dict) else None
    if not isinstance(pattern, str) or not pattern:
        return None
    try:
        check_pattern(pattern)
    except PatternError:
        log.warning("file_name_pattern_ignored", brand_id=brand_id, pattern=pattern[:200])
        return None
    return pattern


def item_index(session: Session, wo: WorkOrder) -> int | None:
    """1-based position of the work order's item in its order (order items sorted by id, as in
    the bundle); None without an order."""
    if not wo.order_id:
        return None
    ids = list(
        session.execute(
            select(WorkOrder.order_item_id)
            .where(WorkOrder.order_id == wo.order_id)
            .order_by(WorkOrder.order_item_id)
        ).scalars()
    )
    return ids.index(wo.order_item_id) + 1 if wo.order_item_id in ids else None


def pack_options_for(session: Session, wo: WorkOrder) -> PackOptions:
    """The pack options of a work order; the naming fields only when the brand set a pattern
    (so the default pack, and its cache key, are what they were before patterns)."""
    pattern = name_pattern(session, wo.brand_id)
    return PackOptions(
        quantity=wo.quantity,
        kerf_mm=wo.kerf_mm,
        order_id=wo.order_id,
        order_item_id=wo.order_item_id,
        order_number=wo.order_number,
        item_index=item_index(session, wo) if pattern else None,
        name_pattern=pattern,
    )


def job_key(brand_id: str, snapshot_id: str, options_hash: str) -> str:
    return f"{EXPORT_ACTOR}:{brand_id}:{snapshot_id}:{options_hash}"


def ensure_pack(
    session: Session, snapshot_id: str, options: PackOptions, *, enqueue: bool = True
) -> ProductionPack:
    """The pack row for (snapshot, options) — created and its job enqueued when new; a failed
    pack is retried. Idempotent on snapshot + options hash."""
    import luneo.manufacturing.tasks  # noqa: F401  (registers the export_pack actor)

    snap = _snapshot(session, snapshot_id)
    digest = options.digest()
    stmt = select(ProductionPack).where(
        ProductionPack.snapshot_id == snap.id, ProductionPack.options_hash == digest
    )
    pack = session.execute(stmt).scalar_one_or_none()
    if pack is None:
        pack = ProductionPack(
            snapshot_id=snap.id,
            spec_hash=snap.spec_hash,
            options_hash=digest,
            options=options.as_dict(),
            status="pending",
            print_checks=[],
        )
        try:
            with session.begin_nested():
                session.add(pack)
                session.flush()
        except IntegrityError:
            pack = session.execute(stmt).scalar_one()
    elif pack.status == "failed":
        pack.status, pack.error, pack.finished_at = "pending", None, None
    if enqueue and pack.status == "pending":
        job = jobs.enqueue(
            session,
            EXPORT_ACTOR,
            job_key(snap.brand_id, snap.id, digest),
            {"pack_id": pack.id},
            brand_id=snap.brand_id,
            retry_failed=True,
        )
        pack.job_id = job.id
    return pack


def start_export(session: Session, wo: WorkOrder, actor: str, *, kerf_mm: float | None = None) -> WorkOrder:
    """Move a work order to `exporting` and attach its pack (built by the job, or cached)."""
    if wo.status == "exporting" and kerf_mm is None:
        if wo.snapshot_id is not None:
            # Idempotent while the export runs; restarts it when its job failed for good (a
            # work order left `exporting` by a lost failure is never stuck).
            pack = ensure_pack(session, wo.snapshot_id, pack_options_for(session, wo))
            wo.pack_id = pack.id
            if pack.status == "success":
                apply_pack(session, wo, pack)
        return wo
    if wo.status not in EXPORTABLE and wo.status != "exporting":
        raise DomainError(
            ManufacturingErrorCode.INVALID_TRANSITION,
            f"A {wo.status} work order cannot be exported.",
            current=wo.status,
            to="exporting",
            allowed=sorted(TRANSITIONS.get(wo.status, ())),
        )
    if wo.snapshot_id is None:
        raise DomainError(
            ManufacturingErrorCode.SNAPSHOT_REQUIRED,
            "This work order has no snapshot to export; attach one first.",
            current=wo.status,
        )
    if kerf_mm is not None:
        wo.kerf_mm = kerf_mm
    if wo.status != "exporting":
        _move(session, wo, "exporting", actor)
    wo.error = None
    pack = ensure_pack(session, wo.snapshot_id, pack_options_for(session, wo))
    wo.pack_id = pack.id
    if pack.status == "success":
        apply_pack(session, wo, pack)
    return wo


def apply_pack(session: Session, wo: WorkOrder, pack: ProductionPack) -> None:
    """Copy a finished pack onto an exporting work order: ready, needs_review or failed."""
    if wo.status != "exporting" or wo.pack_id != pack.id:
        return
    if pack.status == "failed":
        wo.error = pack.error
        _move(session, wo, "failed", SYSTEM_ACTOR, (pack.error or "export failed")[:500])
        notify_production_error(session, wo, "export_failed", error=pack.error or "export failed")
        return
    wo.pack_key, wo.pack_sha256, wo.pack_bytes = pack.storage_key, pack.sha256, pack.size_bytes
    wo.print_checks = list(pack.print_checks or [])
    blocking = [i for i in wo.print_checks if i.get("severity") == "error"]
    wo.checks_blocked = bool(blocking)
    if blocking and wo.checks_overridden_at is None:
        _move(session, wo, "needs_review", SYSTEM_ACTOR, f"{len(blocking)} print check error(s)")
        notify_production_error(session, wo, "checks_blocked", issues=blocking)
    else:
        _move(session, wo, "ready", SYSTEM_ACTOR, "pack ready")


def complete_pack(
    session: Session,
    pack_id: str,
    *,
    storage_key: str,
    sha256: str,
    size: int,
    manifest: dict[str, Any],
    issues: list[dict[str, Any]],
) -> ProductionPack:
    """Record a built pack and release the work orders waiting on it."""
    pack = session.execute(select(ProductionPack).where(ProductionPack.id == pack_id)).scalar_one()
    pack.status, pack.storage_key, pack.sha256, pack.size_bytes = "success", storage_key, sha256, size
    pack.manifest, pack.print_checks, pack.error, pack.finished_at = manifest, issues, None, utcnow()
    _release_waiting(session, pack)
    return pack


def fail_pack(session: Session, pack_id: str, error: str) -> ProductionPack:
    pack = session.execute(select(ProductionPack).where(ProductionPack.id == pack_id)).scalar_one()
    if pack.status == "success":  # built meanwhile (a retry raced the failure): keep it
        _release_waiting(session, pack)
        return pack
    pack.status, pack.error, pack.finished_at = "failed", error[:4000], utcnow()
    _release_waiting(session, pack)
    return pack


def _release_waiting(session: Session, pack: ProductionPack) -> None:
    waiting = session.execute(
        select(WorkOrder).where(WorkOrder.pack_id == pack.id, WorkOrder.status == "exporting")
    ).scalars()
    for wo in list(waiting):
        apply_pack(session, wo, pack)


def get_pack(session: Session, job_or_pack_id: str) -> ProductionPack:
    """A pack by its id, or by the id of the job that builds it."""
    column = ProductionPack.job_id if job_or_pack_id.startswith("job_") else ProductionPack.id
    pack = session.execute(select(ProductionPack).where(column == job_or_pack_id)).scalars().first()
    if pack is None:
        raise NotFoundError("export pack", job_or_pack_id)
    return pack


def signed_url(key: str, filename: str, expires_s: int) -> tuple[str, datetime]:
    from datetime import timedelta

    url = get_storage().url(key, expires_s=expires_s, filename=filename)
    return url, (utcnow() + timedelta(seconds=expires_s)).replace(microsecond=0)


# --------------------------------------------------------------------------- bundles


def order_work_orders(session: Session, order_id: str) -> list[WorkOrder]:
    rows = list(
        session.execute(
            select(WorkOrder).where(WorkOrder.order_id == order_id).order_by(WorkOrder.order_item_id)
        ).scalars()
    )
    if not rows:
        raise NotFoundError("order", order_id)
    return rows


def _spec_of(session: Session, wo: WorkOrder) -> DesignSpec | None:
    if wo.snapshot_id is None:
        return None
    try:
        return DesignSpec.model_validate(_snapshot(session, wo.snapshot_id).spec)
    except (NotFoundError, ValueError):
        return None


def _name_context(session: Session, wo: WorkOrder, index: int) -> NameContext:
    spec = _spec_of(session, wo)
    if spec is None:
        return NameContext(order=wo.order_number, item=index, sku=wo.product_sku, qty=wo.quantity)
    return name_context(spec, order=wo.order_number, item=index, qty=wo.quantity)


def bundle_names(session: Session, rows: list[WorkOrder]) -> list[str]:
    """The items' pack names in the order bundle: the brand's pattern (`{format}` = `pack`), or
    the order item ids; `{item}` counts the order's items sorted by id (cancelled ones too)."""
    if not rows:
        return []
    pattern = name_pattern(session, rows[0].brand_id)
    defaults = [str(wo.order_item_id) for wo in rows]
    if pattern is None:
        return defaults
    contexts = [_name_context(session, wo, item_index(session, wo) or i) for i, wo in enumerate(rows, 1)]
    return bundle_item_names(pattern, contexts, defaults)


def bundle_bytes(
    order_id: str,
    items: list[tuple[WorkOrder, bytes]],
    brand_id: str,
    *,
    names: list[str] | None = None,
    ticket: bytes | None = None,
) -> bytes:
    """The per-order ZIP (deterministic): each item's pack as items/<name>.zip (`names`, default
    the order item ids) and, when given, the job ticket as `ticket.pdf`."""
    names = names or [str(wo.order_item_id) for wo, _ in items]
    meta = {
        "order_id": order_id,
        "brand_id": brand_id,
        "order_number": next((wo.order_number for wo, _ in items if wo.order_number), None),
        "items": [
            {
                "work_order_id": wo.id,
                "order_item_id": wo.order_item_id,
                "name": name,
                "snapshot_id": wo.snapshot_id,
                "product_sku": wo.product_sku,
                "quantity": wo.quantity,
                "pack_sha256": sha256_hex(data),
            }
            for (wo, data), name in zip(items, names, strict=True)
        ],
    }
    extra = [PackFile(TICKET_NAME, ticket, "application/pdf", 210.0, 297.0)] if ticket else []
    packs = [(name, data) for (_, data), name in zip(items, names, strict=True)]
    return build_bundle(packs, meta, extra)


def order_bundle_data(session: Session, order_id: str, items: list[tuple[WorkOrder, bytes]]) -> bytes:
    """The order bundle of these work orders and their packs: brand names and the job ticket."""
    rows = [wo for wo, _ in items]
    names = bundle_names(session, rows)
    ticket = order_ticket(session, order_id, rows, names, {wo.id: data for wo, data in items})
    return bundle_bytes(order_id, items, rows[0].brand_id, names=names, ticket=ticket)


def build_order_bundle(session: Session, order_id: str) -> tuple[str, str, int]:
    """Store the order's bundle (content-addressed) → (storage key, sha256, bytes).

    Every non-cancelled item must be ready (or later): otherwise 409 `bundle_not_ready`.
    """
    rows = [wo for wo in order_work_orders(session, order_id) if wo.status != "cancelled"]
    waiting = [
        {"work_order_id": wo.id, "status": wo.status}
        for wo in rows
        if wo.status not in BUNDLE_READY or not wo.pack_key
    ]
    if not rows or waiting:
        raise DomainError(
            ManufacturingErrorCode.BUNDLE_NOT_READY,
            "Some items of this order have no releasable pack yet.",
            waiting=waiting,
        )
    storage = get_storage()
    items = [(wo, storage.get(str(wo.pack_key))) for wo in rows]
    data = order_bundle_data(session, order_id, items)
    obj = storage.put(data, content_type=PACK_CONTENT_TYPE)
    return obj.key, obj.sha256, obj.size


# --------------------------------------------------------------------------- job ticket

TICKET_NAME = "ticket.pdf"


def _preview_refs(previews: dict[str, Any]) -> list[Any]:
    """Rendered previews, mockups first (then flat ones), each group by name."""
    mockups = [previews[k] for k in sorted(previews) if k.endswith("_mockup")]
    return mockups + [previews[k] for k in sorted(previews) if not k.endswith("_mockup")]


def _preview_bytes(session: Session, wo: WorkOrder) -> bytes | None:
    """The item's rendered preview (mockup first), else its final preview, from storage."""
    if wo.snapshot_id is None:
        return None
    try:
        assets = _snapshot(session, wo.snapshot_id).assets or {}
    except NotFoundError:
        return None
    refs = _preview_refs(dict(assets.get("previews") or {}))
    if assets.get("final_png"):
        refs.append(assets["final_png"])
    storage = get_storage()
    for ref in refs:
        key = ref.get("key") if isinstance(ref, dict) else None
        if not key:
            continue
        try:
            return storage.get(str(key))
        except Exception:  # removed from storage since: try the next one
            continue
    return None


def _proof_png(pack: bytes | None) -> bytes | None:
    """The pack's proof PNG (its image/png file that is not a print check's marked-up image)."""
    if not pack:
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(pack)) as zf:
            files = json.loads(zf.read("manifest.json")).get("files", [])
            proofs = [
                f["name"]
                for f in files
                if f.get("media_type") == "image/png" and not str(f["name"]).startswith("print-check-")
            ]
            name = proofs[0] if proofs else None
            return zf.read(name) if name else None
    except (zipfile.BadZipFile, KeyError, ValueError):
        return None


def _material(spec: DesignSpec | None) -> str:
    """The blank as the product describes it (size, shape, colour, print material, colour mode)."""
    if spec is None:
        return "-"
    p = spec.product
    parts = [f"{p.width_mm:g} x {p.height_mm:g} mm {p.shape.replace('_', ' ')}"]
    if p.background_color:
        parts.append(f"colour {p.background_color}")
    if p.model3d is not None and p.model3d.print_material != "print":
        parts.append(p.model3d.print_material)
    parts.append(p.color_mode.upper())
    if p.bleed_mm:
        parts.append(f"bleed {p.bleed_mm:g} mm")
    return ", ".join(parts)


def _order_date(session: Session, order_id: str, rows: list[WorkOrder]) -> datetime:
    from luneo.commerce.public import get_order

    try:
        return get_order(session, order_id).created_at
    except NotFoundError:  # a sales channel's order (e.g. Shopify): the work orders' date
        return min(wo.created_at for wo in rows) if rows else utcnow()


def order_ticket(
    session: Session,
    order_id: str,
    rows: list[WorkOrder] | None = None,
    names: list[str] | None = None,
    packs: dict[str, bytes] | None = None,
) -> bytes:
    """The order's job ticket (A4 PDF, `luneo.design.ticket`): every non-cancelled item with
    its thumbnail, quantity, product, method, material, print checks and spec_hash."""
    if rows is None:
        rows = [wo for wo in order_work_orders(session, order_id) if wo.status != "cancelled"]
    names = names if names is not None else bundle_names(session, rows)
    packs = packs or {}
    storage = get_storage()
    items = []
    for i, (wo, name) in enumerate(zip(rows, names, strict=True), 1):
        spec = _spec_of(session, wo)
        thumb = _preview_bytes(session, wo)
        if thumb is None:
            pack = packs.get(wo.id)
            if pack is None and wo.pack_key:
                try:
                    pack = storage.get(str(wo.pack_key))
                except Exception:  # no pack to take a proof from: the ticket says "no preview"
                    pack = None
            thumb = _proof_png(pack)
        items.append(
            TicketItem(
                index=item_index(session, wo) or i,
                product=spec.product.name if spec is not None and spec.product.name else wo.product_sku,
                sku=wo.product_sku,
                quantity=wo.quantity,
                production_method=wo.production_method,
                material=_material(spec),
                spec_hash=wo.spec_hash or "-",
                pack_name=name,
                status=wo.status,
                print_checks=list(wo.print_checks or []),
                thumbnail=thumb,
            )
        )
    brand = session.get(Brand, rows[0].brand_id) if rows else None
    return write_job_ticket(
        Ticket(
            order_number=next((wo.order_number for wo in rows if wo.order_number), None) or order_id,
            order_id=order_id,
            date=_order_date(session, order_id, rows),
            brand=brand.name if brand is not None else "",
            items=items,
        )
    )


def build_order_ticket(session: Session, order_id: str) -> tuple[str, str, int]:
    """Store the order's job ticket (content-addressed) → (storage key, sha256, bytes); 404 when
    the brand has no work order for the order. Available before every item is ready."""
    obj = get_storage().put(order_ticket(session, order_id), content_type="application/pdf")
    return obj.key, obj.sha256, obj.size


# --------------------------------------------------------------------------- email


def notify_production_error(
    session: Session,
    wo: WorkOrder,
    reason: str,
    *,
    error: str | None = None,
    issues: list[dict[str, Any]] | None = None,
) -> None:
    """Queue the `production_error` email to the brand's production contact, else to its owners."""
    from luneo.notifications.public import queue_email

    context = {
        "reason": reason,
        "work_order_id": wo.id,
        "order_id": wo.order_id,
        "order_number": wo.order_number,
        "product_sku": wo.product_sku,
        "quantity": wo.quantity,
        "production_method": wo.production_method,
        "error": (error or "")[:500],
        "issues": issues or [],
    }
    try:
        with session.begin_nested():
            recipients = production_recipients(session, wo.brand_id)
    except Exception as exc:  # the state change that called us must stand
        log.warning("production_error_email_failed", work_order_id=wo.id, error=str(exc))
        return
    if not recipients:
        log.warning(
            "production_error_not_emailed", work_order_id=wo.id, reason="no production email or owner"
        )
    for to in recipients:
        try:
            with session.begin_nested():  # an email problem never fails the payment's transaction
                queue_email(session, wo.brand_id, to, "production_error", context)
        except Exception as exc:
            log.warning("production_error_email_failed", work_order_id=wo.id, error=str(exc))


def production_recipients(session: Session, brand_id: str) -> list[str]:
    """The brand's production contact, else its owners' emails."""
    from luneo.tenancy.public import Membership, User

    brand = session.get(Brand, brand_id)
    if brand is not None and brand.production_email:
        return [brand.production_email]
    stmt = (
        select(User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.brand_id == brand_id, Membership.role == "owner")
        .order_by(User.email)
    )
    return list(session.execute(stmt).scalars())


# --------------------------------------------------------------------------- dashboard helpers


def pack_download(session: Session, work_order_id: str, ttl_s: int) -> tuple[str, datetime, str, int]:
    """(signed URL, expiry, sha256, bytes) of a work order's pack, as `GET …/pack` answers it;
    404 until the pack is built."""
    wo = get_work_order(session, work_order_id)
    if not wo.pack_key or wo.pack_sha256 is None or wo.pack_bytes is None:
        raise NotFoundError("pack of work order", work_order_id)
    url, expires = signed_url(
        wo.pack_key, f"{wo.order_number or wo.order_id or 'pack'}-{wo.order_item_id}.zip", ttl_s
    )
    return url, expires, wo.pack_sha256, wo.pack_bytes


def build_selection_bundle(
    session: Session, work_order_ids: list[str]
) -> tuple[tuple[str, str, int] | None, dict[str, str]]:
    """One ZIP of the packs of the chosen work orders → ((key, sha256, bytes) or None, errors by id).

    Another brand's or unknown ids and work orders without a built pack are reported, not zipped."""
    wanted = list(dict.fromkeys(work_order_ids))
    rows = {wo.id: wo for wo in session.execute(select(WorkOrder).where(WorkOrder.id.in_(wanted))).scalars()}
    errors: dict[str, str] = {}
    ready: list[WorkOrder] = []
    for wo_id in wanted:
        wo = rows.get(wo_id)
        if wo is None:
            errors[wo_id] = "not_found"
        elif not wo.pack_key or wo.status not in BUNDLE_READY:
            errors[wo_id] = "pack_not_ready"
        else:
            ready.append(wo)
    if not ready:
        return None, errors
    storage = get_storage()
    packs = [(wo.id, storage.get(str(wo.pack_key))) for wo in ready]
    meta = {
        "brand_id": ready[0].brand_id,
        "work_orders": [
            {"work_order_id": wo.id, "order_number": wo.order_number, "spec_hash": wo.spec_hash}
            for wo in ready
        ],
    }
    obj = storage.put(build_bundle(packs, meta), content_type=PACK_CONTENT_TYPE)
    return (obj.key, obj.sha256, obj.size), errors


def transition_many(
    session: Session, work_order_ids: list[str], to: str, actor: str, note: str = ""
) -> dict[str, str | None]:
    """Move each work order (each in its own savepoint): per id, None when moved or the error code
    and detail; a failing row leaves the others as they are and is itself left untouched."""
    results: dict[str, str | None] = {}
    for wo_id in dict.fromkeys(work_order_ids):
        try:
            with session.begin_nested():
                transition(session, wo_id, to, actor, note)
            results[wo_id] = None
        except DomainError as exc:
            results[wo_id] = exc.detail or exc.code.value
    return results
