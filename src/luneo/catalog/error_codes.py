"""Catalog error codes (products, zones, assets, fonts, uploads) and their HTTP statuses, read
only by the API edge. Shared codes (`not_found`, `forbidden`, …) are `CommonErrorCode`."""

from __future__ import annotations

from enum import StrEnum

from luneo.platform.domain_errors import register_http_statuses


class CatalogErrorCode(StrEnum):
    # products, zones, mappings
    INVALID_PRODUCT = "invalid_product"
    INVALID_ZONE = "invalid_zone"
    UNKNOWN_ASSET = "unknown_asset"
    INVALID_MOCKUP = "invalid_mockup"
    INVALID_MODEL3D = "invalid_model3d"
    SKU_TAKEN = "sku_taken"
    ZONE_KEY_TAKEN = "zone_key_taken"
    EXTERNAL_ID_TAKEN = "external_id_taken"
    PRODUCT_IN_USE = "product_in_use"
    # assets and uploads
    INVALID_ASSET_KIND = "invalid_asset_kind"
    ASSET_IN_USE = "asset_in_use"
    FILE_TOO_LARGE = "file_too_large"
    EMPTY_FILE = "empty_file"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    IMAGE_CORRUPT = "image_corrupt"
    IMAGE_TOO_LARGE = "image_too_large"
    IMAGE_ANIMATED = "image_animated"
    DECOMPRESSION_BOMB = "decompression_bomb"
    MODEL_CORRUPT = "model_corrupt"
    UPLOADS_BUSY = "uploads_busy"
    RATE_LIMITED = "rate_limited"
    # fonts
    FONT_INVALID = "font_invalid"
    FONT_TOO_LARGE = "font_too_large"
    FONT_BUNDLED = "font_bundled"
    FONT_IN_USE = "font_in_use"
    # templates
    INVALID_TEMPLATE = "invalid_template"
    TOO_MANY_TEMPLATES = "too_many_templates"


HTTP_STATUS: dict[CatalogErrorCode, int] = {
    CatalogErrorCode.INVALID_PRODUCT: 422,
    CatalogErrorCode.INVALID_ZONE: 422,
    CatalogErrorCode.UNKNOWN_ASSET: 422,
    CatalogErrorCode.INVALID_MOCKUP: 422,
    CatalogErrorCode.INVALID_MODEL3D: 422,
    CatalogErrorCode.SKU_TAKEN: 409,
    CatalogErrorCode.ZONE_KEY_TAKEN: 409,
    CatalogErrorCode.EXTERNAL_ID_TAKEN: 409,
    CatalogErrorCode.PRODUCT_IN_USE: 409,
    CatalogErrorCode.INVALID_ASSET_KIND: 422,
    CatalogErrorCode.ASSET_IN_USE: 409,
    CatalogErrorCode.FILE_TOO_LARGE: 413,
    CatalogErrorCode.EMPTY_FILE: 422,
    CatalogErrorCode.UNSUPPORTED_MEDIA_TYPE: 415,
    CatalogErrorCode.IMAGE_CORRUPT: 422,
    CatalogErrorCode.IMAGE_TOO_LARGE: 422,
    CatalogErrorCode.IMAGE_ANIMATED: 422,
    CatalogErrorCode.DECOMPRESSION_BOMB: 422,
    CatalogErrorCode.MODEL_CORRUPT: 422,
    CatalogErrorCode.UPLOADS_BUSY: 503,
    CatalogErrorCode.RATE_LIMITED: 429,
    CatalogErrorCode.FONT_INVALID: 422,
    CatalogErrorCode.FONT_TOO_LARGE: 413,
    CatalogErrorCode.FONT_BUNDLED: 409,
    CatalogErrorCode.FONT_IN_USE: 409,
    CatalogErrorCode.INVALID_TEMPLATE: 422,
    CatalogErrorCode.TOO_MANY_TEMPLATES: 409,
}

register_http_statuses(CatalogErrorCode, HTTP_STATUS)
