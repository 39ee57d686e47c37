"""AI error codes (requests, prompt moderation, planning, provider failures) and their HTTP
statuses, read only by the API edge. Shared codes (`not_found`, …) are `CommonErrorCode`."""

from __future__ import annotations

from enum import StrEnum

from luneo.platform.domain_errors import register_http_statuses


class AIErrorCode(StrEnum):
    NOT_AN_IMAGE = "not_an_image"
    UNKNOWN_ZONE = "unknown_zone"
    ASPECT_REQUIRED = "aspect_required"
    UNKNOWN_OPERATION = "unknown_operation"
    PROMPT_REJECTED = "prompt_rejected"
    INVALID_IMAGE = "invalid_image"
    INVALID_OPTIONS = "invalid_options"
    # text-to-design planning (`planner.PlanError`)
    PRODUCT_NOT_FOUND = "product_not_found"
    NO_TEXT_PRODUCT = "no_text_product"
    NO_TEXT_ZONE = "no_text_zone"
    NO_TEXT_FOUND = "no_text_found"
    INVALID_PLAN = "invalid_plan"
    # providers
    AI_PROVIDER_NOT_CONFIGURED = "ai_provider_not_configured"
    AI_PROVIDER_ERROR = "ai_provider_error"
    AI_FAILED = "ai_failed"
    # shopper photo tools (widget): the brand has not enabled the tool, the shopper's daily limit
    SHOPPER_TOOL_DISABLED = "shopper_tool_disabled"
    SHOPPER_DAILY_LIMIT = "shopper_daily_limit"


HTTP_STATUS: dict[AIErrorCode, int] = {
    AIErrorCode.NOT_AN_IMAGE: 422,
    AIErrorCode.UNKNOWN_ZONE: 422,
    AIErrorCode.ASPECT_REQUIRED: 422,
    AIErrorCode.UNKNOWN_OPERATION: 422,
    AIErrorCode.PROMPT_REJECTED: 422,
    AIErrorCode.INVALID_IMAGE: 422,
    AIErrorCode.INVALID_OPTIONS: 422,
    AIErrorCode.PRODUCT_NOT_FOUND: 422,
    AIErrorCode.NO_TEXT_PRODUCT: 422,
    AIErrorCode.NO_TEXT_ZONE: 422,
    AIErrorCode.NO_TEXT_FOUND: 422,
    AIErrorCode.INVALID_PLAN: 422,
    AIErrorCode.AI_PROVIDER_NOT_CONFIGURED: 503,
    AIErrorCode.AI_PROVIDER_ERROR: 502,
    AIErrorCode.AI_FAILED: 500,
    AIErrorCode.SHOPPER_TOOL_DISABLED: 403,
    AIErrorCode.SHOPPER_DAILY_LIMIT: 429,
}

register_http_statuses(AIErrorCode, HTTP_STATUS)
