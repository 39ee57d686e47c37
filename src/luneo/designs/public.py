"""What other domains may use of designs: specs, snapshots, saved designs and brand resources.

Other domains import `luneo.designs.public` (or `from luneo.designs import public as designs`),
never `luneo.designs.models`, `.service` or `.resources` (import-linter contract
`domains-through-public`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from luneo.catalog.public import shoppers
from luneo.designs.approval import approval_required, require_approval
from luneo.designs.models import DesignSpecRow, SavedDesign, Snapshot, SnapshotApproval
from luneo.designs.resources import BrandResources
from luneo.designs.service import (
    attach_assets,
    check_inputs,
    create_snapshot,
    create_spec,
    get_design,
    get_snapshot,
    get_spec,
    lock_snapshot,
    store_spec,
    unfilled_required_zones,
)
from luneo.designs.sharing import SharedView, shared_image, shared_view


@dataclass(frozen=True)
class DesignApproval:
    """An approval of a snapshot's proof: when, which design, by whom (`shp_…` or a brand actor)."""

    approved_at: datetime
    spec_hash: str
    approved_by: str


def approvals_for_lines(
    session: Session, lines: Iterable[tuple[str | None, str | None]], shopper: str | None = None
) -> dict[tuple[str, str], DesignApproval]:
    """The approvals of sold lines `(snapshot_id, spec_hash)`, in one query for all of them.

    Keyed by `(snapshot_id, spec_hash)`: an approval counts only for the design it approved. With
    `shopper` (the buyer's shopper token) only that shopper's own approval counts — a snapshot is
    shared by everyone who makes the same design; without one, the latest approval by anyone.
    """
    wanted = {(s, h) for s, h in lines if s and h}
    if not wanted:
        return {}
    q = select(SnapshotApproval).where(SnapshotApproval.snapshot_id.in_(sorted({s for s, _ in wanted})))
    if shopper is not None:
        q = q.where(SnapshotApproval.approved_by == shoppers.public_id(shopper))
    found: dict[tuple[str, str], DesignApproval] = {}
    for row in session.execute(q.order_by(SnapshotApproval.approved_at, SnapshotApproval.id)).scalars():
        key = (row.snapshot_id, row.spec_hash)
        if key in wanted:  # later rows replace earlier ones: the latest approval wins
            found[key] = DesignApproval(row.approved_at, row.spec_hash, row.approved_by)
    return found


__all__ = [
    "BrandResources",
    "DesignApproval",
    "DesignSpecRow",
    "SavedDesign",
    "SharedView",
    "Snapshot",
    "approval_required",
    "approvals_for_lines",
    "attach_assets",
    "check_inputs",
    "create_snapshot",
    "create_spec",
    "get_design",
    "get_snapshot",
    "get_spec",
    "lock_snapshot",
    "require_approval",
    "shared_image",
    "shared_view",
    "store_spec",
    "unfilled_required_zones",
]
