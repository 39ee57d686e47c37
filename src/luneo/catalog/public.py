"""What other domains may use of the catalog: products, assets, fonts, shopper grants, upload limits.

Other domains import `luneo.catalog.public` (or `from luneo.catalog import public as catalog`),
never `luneo.catalog.models`, `.service` or other internals (import-linter contract
`domains-through-public`). The ORM classes are exposed read-mostly, for queries and type hints.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from luneo.catalog import shoppers
from luneo.catalog.assets import check_upload
from luneo.catalog.events import PRODUCT_CHANGED
from luneo.catalog.fonts import COVERAGE_BLOCKS, block_coverage
from luneo.catalog.models import PRODUCT_STATUSES, Asset, BrandFont, Product, ProductTemplate
from luneo.catalog.schemas import (
    MAX_TEMPLATES,
    MockupIn,
    Model3DIn,
    ProductIn,
    ProductPatch,
    TemplateIn,
    TemplatePatch,
    ZoneIn,
)
from luneo.catalog.service import (
    asset_bytes,
    asset_url,
    assets_by_id,
    brand_font_coverage,
    create_asset,
    create_font,
    create_product,
    create_shopper_upload,
    delete_asset,
    draft_product_def,
    duplicate_product,
    font_data,
    get_asset,
    get_brand_font,
    get_product,
    is_asset_referenced,
    list_assets,
    list_brand_fonts,
    list_products,
    product_def,
    product_def_of,
    register_asset_reference_checker,
    replace_zones,
    store_derived_asset,
    update_product,
)
from luneo.catalog.templates import (
    check_template_inputs,
    create_template,
    delete_template,
    get_template,
    list_templates,
    move_template,
    reorder_templates,
    update_template,
)
from luneo.catalog.upload_limits import limit_uploads, window_wait

__all__ = [
    "COVERAGE_BLOCKS",
    "MAX_TEMPLATES",
    "PRODUCT_CHANGED",
    "PRODUCT_STATUSES",
    "Asset",
    "BrandFont",
    "MockupIn",
    "Model3DIn",
    "Product",
    "ProductIn",
    "ProductPatch",
    "ProductTemplate",
    "TemplateIn",
    "TemplatePatch",
    "ZoneIn",
    "asset_bytes",
    "asset_url",
    "assets_by_id",
    "block_coverage",
    "brand_font_coverage",
    "check_template_inputs",
    "check_upload",
    "create_asset",
    "create_font",
    "create_product",
    "create_shopper_upload",
    "create_template",
    "delete_asset",
    "delete_template",
    "draft_product_def",
    "duplicate_product",
    "font_data",
    "get_asset",
    "get_brand_font",
    "get_product",
    "get_template",
    "is_asset_referenced",
    "limit_uploads",
    "list_assets",
    "list_brand_fonts",
    "list_products",
    "list_templates",
    "move_template",
    "product_def",
    "product_def_of",
    "register_asset_reference_checker",
    "reorder_templates",
    "replace_zones",
    "shoppers",
    "store_derived_asset",
    "update_product",
    "update_template",
    "window_wait",
]


def onboarding_progress(session: Session, brand_id: str) -> tuple[int, bool]:
    """(how many products the brand has, whether any of them has a zone) — one query."""
    from sqlalchemy import exists, func, select

    from luneo.catalog.models import ProductZone

    row = session.execute(
        select(
            func.count(Product.id),
            exists().where(ProductZone.brand_id == brand_id).correlate(None),
        ).where(Product.brand_id == brand_id)
    ).one()
    return int(row[0]), bool(row[1])
