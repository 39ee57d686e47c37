"""Credits error codes (ledger, costs, metering) and their HTTP statuses, read only by the API
edge. Shared codes (`not_found`, `forbidden`, …) are `CommonErrorCode`."""

from __future__ import annotations

from enum import StrEnum

from luneo.platform.domain_errors import register_http_statuses


class CreditsErrorCode(StrEnum):
    INSUFFICIENT_CREDITS = "insufficient_credits"
    BALANCE_WOULD_GO_NEGATIVE = "balance_would_go_negative"
    INVALID_REFERENCE = "invalid_reference"
    INVALID_AMOUNT = "invalid_amount"
    INVALID_TYPE = "invalid_type"
    UNKNOWN_OPERATION = "unknown_operation"
    INVALID_OPERATION = "invalid_operation"
    INVALID_COST = "invalid_cost"
    NO_BRAND = "no_brand"


HTTP_STATUS: dict[CreditsErrorCode, int] = {
    CreditsErrorCode.INSUFFICIENT_CREDITS: 402,
    CreditsErrorCode.BALANCE_WOULD_GO_NEGATIVE: 409,
    CreditsErrorCode.INVALID_REFERENCE: 422,
    CreditsErrorCode.INVALID_AMOUNT: 422,
    CreditsErrorCode.INVALID_TYPE: 422,
    CreditsErrorCode.UNKNOWN_OPERATION: 422,
    CreditsErrorCode.INVALID_OPERATION: 422,
    CreditsErrorCode.INVALID_COST: 422,
    CreditsErrorCode.NO_BRAND: 403,
}

register_http_statuses(CreditsErrorCode, HTTP_STATUS)
