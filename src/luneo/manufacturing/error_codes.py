"""Manufacturing error codes (work orders, exports, bundles) and their HTTP statuses, read only
by the API edge. Shared codes (`not_found`, …) are `CommonErrorCode`."""

from __future__ import annotations

from enum import StrEnum

from luneo.platform.domain_errors import register_http_statuses


class ManufacturingErrorCode(StrEnum):
    INVALID_QUANTITY = "invalid_quantity"
    INVALID_TRANSITION = "invalid_transition"
    SNAPSHOT_PRODUCT_MISMATCH = "snapshot_product_mismatch"
    PERSONALIZATION_REQUIRED = "personalization_required"
    SNAPSHOT_REQUIRED = "snapshot_required"
    BUNDLE_NOT_READY = "bundle_not_ready"


HTTP_STATUS: dict[ManufacturingErrorCode, int] = {
    ManufacturingErrorCode.INVALID_QUANTITY: 422,
    ManufacturingErrorCode.INVALID_TRANSITION: 409,
    ManufacturingErrorCode.SNAPSHOT_PRODUCT_MISMATCH: 422,
    ManufacturingErrorCode.PERSONALIZATION_REQUIRED: 422,
    ManufacturingErrorCode.SNAPSHOT_REQUIRED: 409,
    ManufacturingErrorCode.BUNDLE_NOT_READY: 409,
}

register_http_statuses(ManufacturingErrorCode, HTTP_STATUS)
