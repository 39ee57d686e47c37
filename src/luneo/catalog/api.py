"""Catalog routes: products and their zones, the pure product definition, fonts, assets."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile

from luneo.catalog import service, shoppers
from luneo.catalog import templates as product_templates
from luneo.catalog.models import Asset, BrandFont, Product, ProductTemplate, ProductZone
from luneo.catalog.schemas import (
    AssetOut,
    FontOut,
    ProductDetailOut,
    ProductIn,
    ProductOut,
    ProductPatch,
    TemplateIn,
    TemplateList,
    TemplateOut,
    TemplatePatch,
    ZoneIn,
    ZoneList,
    ZoneOut,
    ZonePatch,
)
from luneo.catalog.upload_limits import limit_uploads
from luneo.design.fonts import BUNDLED_FONTS, BundledFont
from luneo.design.model import ProductDef
from luneo.platform.auth import Tenant
from luneo.platform.config import get_settings
from luneo.platform.deps import CatalogReadDep, CatalogWriteDep
from luneo.platform.pagination import Page
from luneo.platform.storage import get_storage

router = APIRouter(tags=["catalog"])

Status = Literal["draft", "active", "archived"]
Method = Literal["print", "engrave", "laser_cut", "embroider"]


def _read_upload(file: UploadFile) -> bytes:
    # The body limit middleware already bounds the request; read one byte more than the
    # file limit so the service can answer `file_too_large` precisely.
    return file.file.read(get_settings().max_body_bytes + 1)


# --------------------------------------------------------------------------- products


@router.get("/products", response_model=Page[ProductOut])
def list_products(
    t: CatalogReadDep,
    status: Status | None = None,
    production_method: Method | None = None,
    q: str | None = Query(default=None, max_length=200),
    cursor: str | None = None,
    limit: int = 50,
) -> Page[ProductOut]:
    """Products, newest first; filter by `status`, `production_method`, and `q` (name or SKU)."""
    page = service.list_products(
        t.session, status=status, production_method=production_method, q=q, cursor=cursor, limit=limit
    )
    return page.map(ProductOut.model_validate)


@router.post("/products", response_model=ProductDetailOut, status_code=201)
def create_product(body: ProductIn, t: CatalogWriteDep) -> Product:
    """Create a product (zones may be included); 409 `sku_taken` on a duplicate SKU."""
    return service.create_product(t.session, body)


@router.get("/products/{product_id}", response_model=ProductDetailOut)
def get_product(product_id: str, t: CatalogReadDep) -> Product:
    """A product with its zones and their rules."""
    return service.get_product(t.session, product_id)


@router.patch("/products/{product_id}", response_model=ProductDetailOut)
def patch_product(product_id: str, body: ProductPatch, t: CatalogWriteDep) -> Product:
    """Change fields of a product; its `version` increases."""
    return service.update_product(t.session, product_id, body)


@router.delete("/products/{product_id}", status_code=204)
def delete_product(product_id: str, t: CatalogWriteDep) -> Response:
    """Delete a product and its zones (409 `product_in_use` when orders reference it: archive it)."""
    service.delete_product(t.session, product_id)
    return Response(status_code=204)


@router.get("/products/{product_id}/definition", response_model=ProductDef)
def product_definition(product_id: str, t: CatalogReadDep) -> ProductDef:
    """The pure product definition a DesignSpec embeds (geometry, rules, output settings)."""
    return service.product_def(t.session, product_id)


# --------------------------------------------------------------------------- zones


@router.get("/products/{product_id}/zones", response_model=ZoneList)
def list_zones(product_id: str, t: CatalogReadDep) -> ZoneList:
    """A product's zones in display order (all of them: a product has at most 50)."""
    return ZoneList(data=[ZoneOut.model_validate(z) for z in service.list_zones(t.session, product_id)])


@router.post("/products/{product_id}/zones", response_model=ZoneOut, status_code=201)
def create_zone(product_id: str, body: ZoneIn, t: CatalogWriteDep) -> ProductZone:
    """Add a zone; 409 `zone_key_taken` when the key is used on this product."""
    return service.create_zone(t.session, product_id, body)


@router.get("/products/{product_id}/zones/{zone_id}", response_model=ZoneOut)
def get_zone(product_id: str, zone_id: str, t: CatalogReadDep) -> ProductZone:
    return service.get_zone(t.session, service.get_product(t.session, product_id).id, zone_id)


@router.patch("/products/{product_id}/zones/{zone_id}", response_model=ZoneOut)
def patch_zone(product_id: str, zone_id: str, body: ZonePatch, t: CatalogWriteDep) -> ProductZone:
    return service.update_zone(t.session, product_id, zone_id, body)


@router.delete("/products/{product_id}/zones/{zone_id}", status_code=204)
def delete_zone(product_id: str, zone_id: str, t: CatalogWriteDep) -> Response:
    service.delete_zone(t.session, product_id, zone_id)
    return Response(status_code=204)


# --------------------------------------------------------------------------- templates

_TEMPLATE_ERRORS: dict[int | str, dict[str, object]] = {
    404: {"description": "not_found: no such product or template in this brand"},
    422: {"description": "invalid_template: the inputs break the product's rules (`errors` per field)"},
}


@router.get("/products/{product_id}/templates", response_model=TemplateList, responses=_TEMPLATE_ERRORS)
def list_templates(product_id: str, t: CatalogReadDep) -> TemplateList:
    """The product's templates (preset designs a shopper can start from), in display order."""
    shoppers.forbid_widget(t, "list every template")  # a widget reads the active ones (widget route)
    rows = product_templates.list_templates(t.session, product_id)
    return TemplateList(data=[TemplateOut.model_validate(r) for r in rows])


@router.post(
    "/products/{product_id}/templates",
    response_model=TemplateOut,
    status_code=201,
    responses={**_TEMPLATE_ERRORS, 409: {"description": "too_many_templates: 24 already"}},
)
def create_template(product_id: str, body: TemplateIn, t: CatalogWriteDep) -> ProductTemplate:
    """Add a template: `inputs` as the widget sends them, checked against the zones' rules."""
    shoppers.forbid_widget(t, "manage templates")
    return product_templates.create_template(t.session, product_id, body)


@router.patch(
    "/products/{product_id}/templates/{template_id}", response_model=TemplateOut, responses=_TEMPLATE_ERRORS
)
def patch_template(
    product_id: str, template_id: str, body: TemplatePatch, t: CatalogWriteDep
) -> ProductTemplate:
    """Rename, change the inputs, (de)activate, or move to `position` (the others close up)."""
    shoppers.forbid_widget(t, "manage templates")
    return product_templates.update_template(t.session, product_id, template_id, body)


@router.delete("/products/{product_id}/templates/{template_id}", status_code=204, responses=_TEMPLATE_ERRORS)
def delete_template(product_id: str, template_id: str, t: CatalogWriteDep) -> Response:
    shoppers.forbid_widget(t, "manage templates")
    product_templates.delete_template(t.session, product_id, template_id)
    return Response(status_code=204)


# --------------------------------------------------------------------------- fonts


def _bundled_out(f: BundledFont) -> FontOut:
    fmt = "otf" if f.filename.endswith(".otf") else "ttf"
    return FontOut(
        id=f.id,
        source="bundled",
        family=f.family,
        style=f.style,
        format=fmt,
        sha256=f.sha256,
        licence=f.licence,
        role=f.role,
    )


def _brand_out(f: BrandFont, *, with_file: bool = True) -> FontOut:
    """A brand font; the file URL only for brand credentials (a widget gets metadata only: glyphs
    reach shoppers as server-rendered previews, never as a downloadable font file)."""
    url = get_storage().url(f.storage_key, expires_s=get_settings().signed_url_ttl_s) if with_file else None
    return FontOut(
        id=f.id,
        source="brand",
        family=f.family,
        style=f.style,
        format=f.format,
        sha256=f.sha256,
        glyph_coverage=f.glyph_coverage,
        licence_note=f.licence_note,
        size_bytes=f.size_bytes,
        url=url,
        original_filename=f.original_filename if with_file else None,
        created_at=f.created_at,
    )


def _with_file(t: Tenant) -> bool:
    return t.principal.kind != "publishable_key"


@router.get("/fonts", response_model=Page[FontOut])
def list_fonts(t: CatalogReadDep, cursor: str | None = None, limit: int = 50) -> Page[FontOut]:
    """Bundled fonts (first page) followed by the brand's uploaded fonts, newest first.

    A publishable key gets the metadata without the file `url`."""
    page = service.list_brand_fonts(t.session, cursor=cursor, limit=limit)
    bundled = [] if cursor else [_bundled_out(f) for f in BUNDLED_FONTS.values()]
    files = _with_file(t)
    return Page(
        data=[*bundled, *(_brand_out(f, with_file=files) for f in page.data)], next_cursor=page.next_cursor
    )


@router.post("/fonts", response_model=FontOut, status_code=201, dependencies=[Depends(limit_uploads)])
def upload_font(
    t: CatalogWriteDep,
    file: UploadFile = File(...),
    family: str | None = Form(default=None, max_length=200),
    style: str | None = Form(default=None, max_length=100),
    licence_note: str = Form(default="", max_length=2000),
) -> FontOut:
    """Upload a TTF, OTF, WOFF or WOFF2 font (web fonts are stored as TTF/OTF for HarfBuzz)."""
    font = service.create_font(
        t.session,
        _read_upload(file),
        filename=file.filename,
        family=family,
        style=style,
        licence_note=licence_note,
    )
    return _brand_out(font)


@router.get("/fonts/{font_id}", response_model=FontOut)
def get_font(font_id: str, t: CatalogReadDep) -> FontOut:
    """A bundled or brand font (a publishable key gets no file `url`)."""
    if font_id in BUNDLED_FONTS:
        return _bundled_out(BUNDLED_FONTS[font_id])
    return _brand_out(service.get_brand_font(t.session, font_id), with_file=_with_file(t))


@router.delete("/fonts/{font_id}", status_code=204)
def delete_font(font_id: str, t: CatalogWriteDep) -> Response:
    """Delete a brand font (409 `font_in_use` while a zone offers it)."""
    service.delete_font(t.session, font_id)
    return Response(status_code=204)


# --------------------------------------------------------------------------- assets


def _asset_out(a: Asset) -> AssetOut:
    return AssetOut(
        id=a.id,
        url=service.asset_url(a),
        sha256=a.sha256,
        content_type=a.content_type,
        bytes=a.size_bytes,
        width_px=a.width_px,
        height_px=a.height_px,
        original_filename=a.original_filename,
        kind=a.kind,
        created_at=a.created_at,
    )


@router.post("/assets", response_model=AssetOut, status_code=201, dependencies=[Depends(limit_uploads)])
def upload_asset(
    t: CatalogWriteDep,
    file: UploadFile = File(...),
    kind: Literal["upload", "mockup", "model"] = Form(default="upload"),
) -> AssetOut:
    """Upload an image (PNG/JPEG/WebP; `upload` or `mockup`) or a GLB (`model`). Same bytes ⇒ same asset."""
    asset = service.create_asset(
        t.session, _read_upload(file), filename=file.filename, kind=kind, created_by=t.principal.actor
    )
    return _asset_out(asset)


@router.get("/assets", response_model=Page[AssetOut])
def list_assets(
    t: CatalogReadDep,
    kind: Literal["upload", "mockup", "model", "font", "derived"] | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[AssetOut]:
    """The brand's assets, newest first (brand credentials only: 403 for a publishable key)."""
    shoppers.forbid_widget(t, "list assets")
    return service.list_assets(t.session, kind=kind, cursor=cursor, limit=limit).map(_asset_out)


@router.get("/assets/{asset_id}", response_model=AssetOut)
def get_asset(asset_id: str, t: CatalogReadDep) -> AssetOut:
    """An asset; a publishable key reads only what its own shopper uploaded (404 otherwise)."""
    shoppers.require(t.session, shoppers.scope_of(t), "asset", asset_id, "asset")
    return _asset_out(service.get_asset(t.session, asset_id))


@router.delete("/assets/{asset_id}", status_code=204)
def delete_asset(asset_id: str, t: CatalogWriteDep) -> Response:
    """Delete an asset (409 `asset_in_use` while a product or another record references it)."""
    service.delete_asset(t.session, asset_id)
    return Response(status_code=204)
