"""Designs error codes (specs, snapshots, saved designs) and their HTTP statuses, read only by
the API edge. Shared codes (`not_found`, …) are `CommonErrorCode`."""

from __future__ import annotations

from enum import StrEnum

from luneo.platform.domain_errors import register_http_statuses


class DesignsErrorCode(StrEnum):
    DESIGN_INVALID = "design_invalid"
    SPEC_REQUIRED = "spec_required"
    SNAPSHOT_LOCKED = "snapshot_locked"
    PROOF_BLOCKED = "proof_blocked"
    DESIGN_NOT_APPROVED = "design_not_approved"


HTTP_STATUS: dict[DesignsErrorCode, int] = {
    DesignsErrorCode.DESIGN_INVALID: 422,
    DesignsErrorCode.SPEC_REQUIRED: 422,
    DesignsErrorCode.SNAPSHOT_LOCKED: 409,
    DesignsErrorCode.PROOF_BLOCKED: 409,
    DesignsErrorCode.DESIGN_NOT_APPROVED: 409,
}

register_http_statuses(DesignsErrorCode, HTTP_STATUS)
