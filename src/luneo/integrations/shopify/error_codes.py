"""Shopify integration error codes and their HTTP statuses, read only by the edge."""

from __future__ import annotations

from enum import StrEnum

from luneo.platform.domain_errors import register_http_statuses


class ShopifyErrorCode(StrEnum):
    NOT_CONFIGURED = "shopify_not_configured"
    SESSION_TOKEN_INVALID = "shopify_session_token_invalid"
    PROXY_SIGNATURE_INVALID = "shopify_proxy_signature_invalid"
    WEBHOOK_HMAC_INVALID = "shopify_webhook_hmac_invalid"
    WEBHOOK_INVALID = "shopify_webhook_invalid"
    SHOP_NOT_INSTALLED = "shopify_shop_not_installed"
    SHOP_ALREADY_LINKED = "shopify_shop_already_linked"
    TOKEN_EXCHANGE_FAILED = "shopify_token_exchange_failed"
    REINSTALL_REQUIRED = "shopify_reinstall_required"
    ORDER_NOT_HELD = "shopify_order_not_held"


HTTP_STATUS: dict[ShopifyErrorCode, int] = {
    ShopifyErrorCode.NOT_CONFIGURED: 503,
    ShopifyErrorCode.SESSION_TOKEN_INVALID: 401,
    ShopifyErrorCode.PROXY_SIGNATURE_INVALID: 401,
    ShopifyErrorCode.WEBHOOK_HMAC_INVALID: 401,
    ShopifyErrorCode.WEBHOOK_INVALID: 400,
    ShopifyErrorCode.SHOP_NOT_INSTALLED: 404,
    ShopifyErrorCode.SHOP_ALREADY_LINKED: 409,
    ShopifyErrorCode.TOKEN_EXCHANGE_FAILED: 502,
    ShopifyErrorCode.REINSTALL_REQUIRED: 409,
    ShopifyErrorCode.ORDER_NOT_HELD: 409,
}

register_http_statuses(ShopifyErrorCode, HTTP_STATUS)
