"""Shopify's own SDK (`shopifyapp`), configured from the settings, and the HTTP client it uses.

Everything that talks the Shopify protocol goes through `shopify_app.ShopifyApp`: session-token
(App Bridge id token) verification, token exchange, refresh of expiring offline tokens, app-proxy
signatures and webhook HMACs. `LUNEO_SHOPIFY_ADMIN_BASE_URL` (tests) sends every request that the
SDK addresses to `https://{shop}` to that base instead, with the shop's host in `X-Shopify-Shop`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
from shopify_app import ShopifyApp

from luneo.integrations.shopify.error_codes import ShopifyErrorCode
from luneo.platform.config import Settings
from luneo.platform.domain_errors import DomainError

SHOP_HEADER = "X-Shopify-Shop"
HTTP_TIMEOUT_S = 15.0


def app_for(settings: Settings) -> ShopifyApp:
    """The SDK configured with the partner app's client id and secret (503 when unset)."""
    if not settings.shopify_api_key or settings.shopify_api_secret is None:
        raise DomainError(ShopifyErrorCode.NOT_CONFIGURED, "The Shopify app is not configured.")
    return ShopifyApp(
        client_id=settings.shopify_api_key, client_secret=settings.shopify_api_secret.get_secret_value()
    )


class _RebaseTransport(httpx.BaseTransport):
    """Sends `https://{shop}/path` to `{base}/path`, naming the shop in a header (tests)."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self._scheme, self._host, self._port = parts.scheme, parts.hostname or "", parts.port
        self._prefix = parts.path.rstrip("/")
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        shop = request.url.host
        request.url = request.url.copy_with(
            scheme=self._scheme, host=self._host, port=self._port, path=self._prefix + request.url.path
        )
        request.headers[SHOP_HEADER] = shop
        request.headers["Host"] = f"{self._host}:{self._port}" if self._port else self._host
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def http_client(settings: Settings) -> httpx.Client:
    """The HTTP client handed to the SDK (the caller closes it)."""
    kwargs: dict[str, Any] = {"timeout": HTTP_TIMEOUT_S}
    if settings.shopify_admin_base_url:
        kwargs["transport"] = _RebaseTransport(settings.shopify_admin_base_url)
    return httpx.Client(**kwargs)
