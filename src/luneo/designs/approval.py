"""Proof and approval: what will be made from a snapshot, checked before payment, and who approved it.

The proof rebuilds the production Scene from the frozen spec exactly as the export does
(`build_scene` at the product's output DPI) and runs the same print checks
(`luneo.design.print_checks.run_print_checks`), so a finding that would stop production
(severity `error`: text too thin to engrave, photo below the product's DPI, artwork outside the
product, missing glyphs) is shown to the shopper before the order, not after it.

A brand that sets `settings.require_design_approval = true` (`PATCH /brand`) sells a snapshot
to a widget shopper only after that shopper approved it (`POST /snapshots/{id}/approve`):
approvals are per (snapshot, shopper), since snapshots are shared by every shopper who makes
the same design.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from luneo.catalog.public import shoppers
from luneo.design.model import DesignSpec
from luneo.design.print_checks import PrintIssue, run_print_checks
from luneo.design.scene import ImageItem, TextItem
from luneo.design.scene_builder import build_scene
from luneo.designs.error_codes import DesignsErrorCode
from luneo.designs.models import Snapshot, SnapshotApproval
from luneo.designs.resources import BrandResources
from luneo.designs.service import _audit, get_snapshot, snapshot_event
from luneo.platform.clock import utcnow
from luneo.platform.domain_errors import DomainError
from luneo.platform.events import publish
from luneo.platform.tenancy import session_brand

SETTING = "require_design_approval"


@dataclass(frozen=True)
class ProofFacts:
    """What a spec will produce: the laid-out zones and the print-check findings."""

    zones: tuple[dict[str, Any], ...]
    findings: tuple[dict[str, Any], ...]

    @property
    def blocking(self) -> list[dict[str, Any]]:
        return [f for f in self.findings if f["severity"] == "error"]


# Same spec_hash (fonts and images by SHA-256 inside it) ⇒ same facts: cached per brand and hash.
_facts: LRUCache[tuple[str, str], ProofFacts] = LRUCache(maxsize=256)


def approval_required(session: Session) -> bool:
    """Whether the session's brand requires a shopper's approval before selling a design."""
    from luneo.tenancy.public import Brand

    brand_id = session_brand(session)
    brand = session.get(Brand, brand_id) if brand_id else None
    settings = (brand.settings if brand is not None else None) or {}
    return isinstance(settings, dict) and settings.get(SETTING) is True


def _finding(issue: PrintIssue) -> dict[str, Any]:
    return {
        "code": issue.code,
        "zone": issue.zone,
        "severity": issue.severity,
        "message": issue.message,
        "params": dict(issue.params),
    }


def proof_facts(session: Session, snap: Snapshot) -> ProofFacts:
    """Zones as they will be produced and the production print checks of a snapshot (cached)."""
    key = (snap.brand_id, snap.spec_hash)
    cached = _facts.get(key)
    if cached is not None:
        return cached
    spec = DesignSpec.model_validate(snap.spec)
    try:
        scene = build_scene(spec, snap.spec_hash, BrandResources(session))  # the export's own scene
    except LookupError as exc:  # a file the design names is gone: production would fail too
        missing = {
            "code": "asset_missing",
            "zone": "",
            "severity": "error",
            "message": "A file this design uses is no longer available; make the design again.",
            "params": {"detail": str(exc)[:200]},
        }
        return ProofFacts((), (missing,))  # not cached: the file may come back
    findings = tuple(_finding(i) for i in run_print_checks(scene, spec.product))
    items = {item.zone_key: item for item in scene.items}
    zones: list[dict[str, Any]] = []
    for zone in spec.product.zones:
        item = items.get(zone.key)
        if isinstance(item, TextItem):
            zones.append(
                {
                    "zone": zone.key,
                    "label": zone.label or zone.key,
                    "kind": "text",
                    "text": item.text,
                    "lines": item.text.split("\n"),
                    "font": item.font_id,
                    "color": item.fill,
                    "size_pt": round(item.size_pt, 2),
                    "max_size_pt": zone.rules.max_font_pt,
                    "auto_shrunk": item.size_pt < zone.rules.max_font_pt - 1e-6,
                }
            )
        elif isinstance(item, ImageItem):
            zones.append(
                {
                    "zone": zone.key,
                    "label": zone.label or zone.key,
                    "kind": "image",
                    "effective_dpi": round(item.effective_dpi, 1),
                    "min_dpi": spec.product.min_image_dpi,
                }
            )
    facts = ProofFacts(tuple(zones), findings)
    _facts[key] = facts
    return facts


def approvals_of(session: Session, snapshot_id: str, shopper: str | None) -> list[SnapshotApproval]:
    """A snapshot's approvals: all of them for brand callers, a widget shopper's own only."""
    q = select(SnapshotApproval).where(SnapshotApproval.snapshot_id == snapshot_id)
    if shopper is not None:
        q = q.where(SnapshotApproval.approved_by == shoppers.public_id(shopper))
    return list(session.execute(q.order_by(SnapshotApproval.approved_at)).scalars())


def proof(session: Session, snapshot_id: str, shopper: str | None) -> tuple[Snapshot, ProofFacts]:
    """The snapshot (a widget shopper's own only, else 404) and what will be made from it."""
    snap = get_snapshot(session, snapshot_id, shopper)
    return snap, proof_facts(session, snap)


def approve(session: Session, snapshot_id: str, shopper: str | None, actor: str) -> SnapshotApproval:
    """Record the caller's approval of the proof (idempotent per approver; audited).

    409 `proof_blocked` (with `findings`) when a print check would stop production."""
    snap, facts = proof(session, snapshot_id, shopper)
    if facts.blocking:
        raise DomainError(
            DesignsErrorCode.PROOF_BLOCKED,
            "This design cannot be made as it is: fix the problems listed, then approve it.",
            snapshot_id=snap.id,
            findings=facts.blocking,
        )
    approver = shoppers.public_id(shopper) if shopper else actor
    existing = approvals_of(session, snap.id, shopper)
    found = next((a for a in existing if a.approved_by == approver), None)
    if found is not None:
        return found
    row = SnapshotApproval(
        snapshot_id=snap.id,
        spec_hash=snap.spec_hash,
        approved_by=approver,
        approved_at=utcnow(),
        findings=[f for f in facts.findings if f["severity"] != "error"],
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # approved concurrently by the same approver
        return session.execute(
            select(SnapshotApproval).where(
                SnapshotApproval.snapshot_id == snap.id, SnapshotApproval.approved_by == approver
            )
        ).scalar_one()
    _audit(session, actor, "snapshot.approved", snap, {"spec_hash": snap.spec_hash, "by": approver})
    approved = {"approved_by": approver, "approved_at": row.approved_at.isoformat()}
    publish(session, "snapshot.approved", {**snapshot_event(snap), **approved})
    return row


def require_approval(session: Session, snapshot_id: str | None, shopper: str) -> None:
    """For commerce: when the brand requires approval, a widget shopper's snapshot must carry that
    shopper's approval (409 `design_not_approved` otherwise). No-op for items without a snapshot
    (the personalization check refuses those) and for brands that do not require approval."""
    if not snapshot_id or not approval_required(session):
        return
    approver = shoppers.public_id(shopper)
    found = session.execute(
        select(SnapshotApproval.id).where(
            SnapshotApproval.snapshot_id == snapshot_id, SnapshotApproval.approved_by == approver
        )
    ).first()
    if found is None:
        raise DomainError(
            DesignsErrorCode.DESIGN_NOT_APPROVED,
            "Approve the proof of this design before adding it to the cart.",
            snapshot_id=snapshot_id,
        )
