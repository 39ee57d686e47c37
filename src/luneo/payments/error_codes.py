"""Payments error codes (checkouts, refunds, providers, webhooks) and their HTTP statuses, read
only by the API edge. Shared codes (`not_found`, …) are `CommonErrorCode`."""

from __future__ import annotations

from enum import StrEnum

from luneo.platform.domain_errors import register_http_statuses


class PaymentsErrorCode(StrEnum):
    BRAND_MISMATCH = "brand_mismatch"
    RESERVED_METADATA_KEY = "reserved_metadata_key"
    PAYMENT_NOT_REFUNDABLE = "payment_not_refundable"
    INVALID_REFUND_AMOUNT = "invalid_refund_amount"
    PAYMENT_PROVIDER_ERROR = "payment_provider_error"
    PAYMENTS_NOT_CONFIGURED = "payments_not_configured"
    STRIPE_NOT_CONFIGURED = "stripe_not_configured"
    PAYPAL_NOT_CONFIGURED = "paypal_not_configured"


HTTP_STATUS: dict[PaymentsErrorCode, int] = {
    PaymentsErrorCode.BRAND_MISMATCH: 422,
    PaymentsErrorCode.RESERVED_METADATA_KEY: 422,
    PaymentsErrorCode.PAYMENT_NOT_REFUNDABLE: 409,
    PaymentsErrorCode.INVALID_REFUND_AMOUNT: 422,
    PaymentsErrorCode.PAYMENT_PROVIDER_ERROR: 502,
    PaymentsErrorCode.PAYMENTS_NOT_CONFIGURED: 503,
    PaymentsErrorCode.STRIPE_NOT_CONFIGURED: 503,
    PaymentsErrorCode.PAYPAL_NOT_CONFIGURED: 503,
}

register_http_statuses(PaymentsErrorCode, HTTP_STATUS)
