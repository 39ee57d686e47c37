"""What other domains may use of designs: specs, snapshots, saved designs and brand resources.

Other domains import `luneo.designs.public` (or `from luneo.designs import public as designs`),
never `luneo.designs.models`, `.service` or `.resources` (import-linter contract
`domains-through-public`).
"""

from __future__ import annotations

from luneo.designs.approval import approval_required, require_approval
from luneo.designs.models import DesignSpecRow, SavedDesign, Snapshot
from luneo.designs.resources import BrandResources
from luneo.designs.service import (
    attach_assets,
    check_inputs,
    create_snapshot,
    create_spec,
    get_design,
    get_snapshot,
    get_spec,
    store_spec,
    unfilled_required_zones,
)
from luneo.designs.sharing import SharedView, shared_image, shared_view

__all__ = [
    "BrandResources",
    "DesignSpecRow",
    "SavedDesign",
    "SharedView",
    "Snapshot",
    "approval_required",
    "attach_assets",
    "check_inputs",
    "create_snapshot",
    "create_spec",
    "get_design",
    "get_snapshot",
    "get_spec",
    "require_approval",
    "shared_image",
    "shared_view",
    "store_spec",
    "unfilled_required_zones",
]
