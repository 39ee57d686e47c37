"""Billing error codes (plans, limits, the billing portal) and their HTTP statuses, read only by
the API edge."""

from __future__ import annotations

from enum import StrEnum

from luneo.platform.domain_errors import register_http_statuses


class BillingErrorCode(StrEnum):
    PLAN_LIMIT_REACHED = "plan_limit_reached"
    INVALID_PLAN = "invalid_plan"
    NO_BILLING_CUSTOMER = "no_billing_customer"
    BILLING_PORTAL_NOT_CONFIGURED = "billing_portal_not_configured"


HTTP_STATUS: dict[BillingErrorCode, int] = {
    BillingErrorCode.PLAN_LIMIT_REACHED: 403,
    BillingErrorCode.INVALID_PLAN: 422,
    BillingErrorCode.NO_BILLING_CUSTOMER: 409,
    BillingErrorCode.BILLING_PORTAL_NOT_CONFIGURED: 503,
}

register_http_statuses(BillingErrorCode, HTTP_STATUS)
