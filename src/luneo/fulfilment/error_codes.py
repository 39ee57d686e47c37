"""Fulfilment error codes and their HTTP statuses, read only by the edge."""

from __future__ import annotations

from enum import StrEnum

from luneo.platform.domain_errors import register_http_statuses


class FulfilmentErrorCode(StrEnum):
    NOT_CONFIGURED = "fulfilment_not_configured"
    URL_NOT_ALLOWED = "fulfilment_url_not_allowed"
    TARGET_INVALID = "fulfilment_target_invalid"
    WEBHOOK_SIGNATURE_INVALID = "printful_webhook_signature_invalid"
    WEBHOOK_INVALID = "printful_webhook_invalid"
    PRINTFUL_UNAVAILABLE = "printful_unavailable"


HTTP_STATUS: dict[FulfilmentErrorCode, int] = {
    FulfilmentErrorCode.NOT_CONFIGURED: 409,
    FulfilmentErrorCode.URL_NOT_ALLOWED: 422,
    FulfilmentErrorCode.TARGET_INVALID: 422,
    FulfilmentErrorCode.WEBHOOK_SIGNATURE_INVALID: 401,
    FulfilmentErrorCode.WEBHOOK_INVALID: 400,
    FulfilmentErrorCode.PRINTFUL_UNAVAILABLE: 502,
}

register_http_statuses(FulfilmentErrorCode, HTTP_STATUS)
