"""What other domains may use of the catalog: products, assets, fonts, shopper grants, upload limits.

Other domains import `luneo.catalog.public` (or `from luneo.catalog import public as catalog`),
never `luneo.catalog.models`, `.service` or other internals (import-linter contract
`domains-through-public`). The ORM classes are exposed read-mostly, for queries and type hints.
"""

from __future__ import annotations

from luneo.catalog import shoppers
from luneo.catalog.assets import check_upload
from luneo.catalog.models import Asset, BrandFont, Product
from luneo.catalog.service import (
    asset_bytes,
    asset_url,
    create_asset,
    create_shopper_upload,
    delete_asset,
    get_product,
    is_asset_referenced,
    product_def,
    product_def_of,
    register_asset_reference_checker,
    store_derived_asset,
)
from luneo.catalog.upload_limits import limit_uploads

__all__ = [
    "Asset",
    "BrandFont",
    "Product",
    "asset_bytes",
    "asset_url",
    "check_upload",
    "create_asset",
    "create_shopper_upload",
    "delete_asset",
    "get_product",
    "is_asset_referenced",
    "limit_uploads",
    "product_def",
    "product_def_of",
    "register_asset_reference_checker",
    "shoppers",
    "store_derived_asset",
]
