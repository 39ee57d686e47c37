"""Rendering error codes and their HTTP statuses, read only by the API edge. Shared codes
(`not_found`, `forbidden`, …) are `CommonErrorCode`."""

from __future__ import annotations

from enum import StrEnum

from luneo.platform.domain_errors import register_http_statuses


class RenderingErrorCode(StrEnum):
    NO_3D_MODEL = "no_3d_model"  # a 3D preview of a product that has no 3D model
    MODEL_UNREADABLE = "model_unreadable"  # the product's uploaded GLB cannot be retextured
    PREVIEW3D_RATE_LIMITED = "rate_limited"


HTTP_STATUS: dict[RenderingErrorCode, int] = {
    RenderingErrorCode.NO_3D_MODEL: 409,
    RenderingErrorCode.MODEL_UNREADABLE: 422,
    RenderingErrorCode.PREVIEW3D_RATE_LIMITED: 429,
}

register_http_statuses(RenderingErrorCode, HTTP_STATUS)
