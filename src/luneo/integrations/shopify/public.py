"""What other domains may use of the Shopify integration: the property signature (orders check
it at `orders/paid`), the events it publishes and the integration model for queries.

Other domains import `luneo.integrations.shopify.public`, never its models or service.
"""

from __future__ import annotations

from luneo.integrations.shopify.events import SHOP_INSTALLED, SHOP_UNINSTALLED
from luneo.integrations.shopify.graphql import AdminApiError
from luneo.integrations.shopify.models import ShopifyIntegration, ShopifyOrder, ShopifyProductMapping
from luneo.integrations.shopify.orders import approve_held_order, held_order, held_orders
from luneo.integrations.shopify.service import (
    access_token,
    addons_string,
    line_properties,
    property_message,
    sign_properties,
    verify_properties,
)
from luneo.integrations.shopify.sync import (
    ShopProduct,
    ShopProductsPage,
    client_for,
    integration,
    integration_of_brand,
    list_shop_products,
    map_shopify_product,
    mappings,
    republish_pricing,
    unmap_shopify_product,
)

__all__ = [
    "SHOP_INSTALLED",
    "SHOP_UNINSTALLED",
    "AdminApiError",
    "ShopProduct",
    "ShopProductsPage",
    "ShopifyIntegration",
    "ShopifyOrder",
    "ShopifyProductMapping",
    "access_token",
    "addons_string",
    "approve_held_order",
    "client_for",
    "held_order",
    "held_orders",
    "integration",
    "integration_of_brand",
    "line_properties",
    "list_shop_products",
    "map_shopify_product",
    "mappings",
    "property_message",
    "republish_pricing",
    "sign_properties",
    "unmap_shopify_product",
    "verify_properties",
]
