"""Events the Shopify integration publishes (`luneo.platform.events`), for other domains to react."""

from __future__ import annotations

#: A shop was linked (or re-linked) to a brand: `{"brand_id", "integration_id", "shop_domain"}`.
SHOP_INSTALLED = "shopify.shop_installed"
#: `app/uninstalled` revoked the shop's tokens: `{"brand_id", "integration_id", "shop_domain"}`.
SHOP_UNINSTALLED = "shopify.shop_uninstalled"
