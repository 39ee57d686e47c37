"""Webhooks error codes and their HTTP statuses, read only by the API edge. Shared codes
(`not_found`, …) are `CommonErrorCode`."""

from __future__ import annotations

from enum import StrEnum

from luneo.platform.domain_errors import register_http_statuses


class WebhooksErrorCode(StrEnum):
    URL_INVALID = "webhook_url_invalid"
    URL_NOT_ALLOWED = "webhook_url_not_allowed"
    EVENT_TYPE_UNKNOWN = "webhook_event_type_unknown"
    ENDPOINT_DISABLED = "webhook_endpoint_disabled"


HTTP_STATUS: dict[WebhooksErrorCode, int] = {
    WebhooksErrorCode.URL_INVALID: 422,
    WebhooksErrorCode.URL_NOT_ALLOWED: 422,
    WebhooksErrorCode.EVENT_TYPE_UNKNOWN: 422,
    WebhooksErrorCode.ENDPOINT_DISABLED: 409,
}

register_http_statuses(WebhooksErrorCode, HTTP_STATUS)
