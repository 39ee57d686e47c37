"""Analytics error codes and their HTTP statuses, read only by the API edge. Shared codes
(`not_found`, …) are `CommonErrorCode`."""

from __future__ import annotations

from enum import StrEnum

from luneo.platform.domain_errors import register_http_statuses


class AnalyticsErrorCode(StrEnum):
    FUNNEL_RANGE_INVALID = "funnel_range_invalid"


HTTP_STATUS: dict[AnalyticsErrorCode, int] = {
    AnalyticsErrorCode.FUNNEL_RANGE_INVALID: 422,
}

register_http_statuses(AnalyticsErrorCode, HTTP_STATUS)
