"""Commerce error codes (carts, orders, coupons, checkout) and their HTTP statuses, read only by
the API edge. Shared codes (`not_found`, …) are `CommonErrorCode`."""

from __future__ import annotations

from enum import StrEnum

from luneo.platform.domain_errors import register_http_statuses


class CommerceErrorCode(StrEnum):
    PRODUCT_UNAVAILABLE = "product_unavailable"
    SNAPSHOT_PRODUCT_MISMATCH = "snapshot_product_mismatch"
    PERSONALIZATION_REQUIRED = "personalization_required"
    SPEC_MISMATCH = "spec_mismatch"
    CURRENCY_MISMATCH = "currency_mismatch"
    QUANTITY_OUT_OF_RANGE = "quantity_out_of_range"
    EMPTY_ORDER = "empty_order"
    CART_EMPTY = "cart_empty"
    INVALID_TRANSITION = "invalid_transition"
    ORDER_NOT_PAYABLE = "order_not_payable"
    OFFLINE_PAYMENT_REQUIRED = "offline_payment_required"
    OFFLINE_PAYMENT_MISMATCH = "offline_payment_mismatch"
    PROVIDER_UNAVAILABLE = "provider_unavailable"
    REDIRECT_NOT_ALLOWED = "redirect_not_allowed"
    COUPON_EXISTS = "coupon_exists"
    COUPON_INVALID = "coupon_invalid"
    COUPON_EXPIRED = "coupon_expired"
    COUPON_NOT_YET_VALID = "coupon_not_yet_valid"
    COUPON_USED_UP = "coupon_used_up"
    COUPON_CURRENCY_MISMATCH = "coupon_currency_mismatch"


class CommerceRequestErrorCode(StrEnum):
    """Codes the API also answers, with a 422, for a request that cannot be checked at all (a wire
    code shared with a `CommerceErrorCode` of another status, kept for compatibility)."""

    SPEC_MISMATCH = "spec_mismatch"  # a spec_hash sent without the snapshot it names


HTTP_STATUS: dict[CommerceErrorCode, int] = {
    CommerceErrorCode.PRODUCT_UNAVAILABLE: 422,
    CommerceErrorCode.SNAPSHOT_PRODUCT_MISMATCH: 422,
    CommerceErrorCode.PERSONALIZATION_REQUIRED: 422,
    CommerceErrorCode.SPEC_MISMATCH: 409,
    CommerceErrorCode.CURRENCY_MISMATCH: 422,
    CommerceErrorCode.QUANTITY_OUT_OF_RANGE: 422,
    CommerceErrorCode.EMPTY_ORDER: 422,
    CommerceErrorCode.CART_EMPTY: 422,
    CommerceErrorCode.INVALID_TRANSITION: 409,
    CommerceErrorCode.ORDER_NOT_PAYABLE: 409,
    CommerceErrorCode.OFFLINE_PAYMENT_REQUIRED: 422,
    CommerceErrorCode.OFFLINE_PAYMENT_MISMATCH: 422,
    CommerceErrorCode.PROVIDER_UNAVAILABLE: 422,
    CommerceErrorCode.REDIRECT_NOT_ALLOWED: 422,
    CommerceErrorCode.COUPON_EXISTS: 409,
    CommerceErrorCode.COUPON_INVALID: 422,
    CommerceErrorCode.COUPON_EXPIRED: 422,
    CommerceErrorCode.COUPON_NOT_YET_VALID: 422,
    CommerceErrorCode.COUPON_USED_UP: 422,
    CommerceErrorCode.COUPON_CURRENCY_MISMATCH: 422,
}

register_http_statuses(CommerceErrorCode, HTTP_STATUS)
register_http_statuses(CommerceRequestErrorCode, {CommerceRequestErrorCode.SPEC_MISMATCH: 422})
