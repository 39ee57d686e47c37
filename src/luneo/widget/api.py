"""Routes for the embeddable widget (publishable keys)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Request, Response, UploadFile
from starlette.concurrency import run_in_threadpool

from luneo.catalog.public import limit_uploads
from luneo.platform.auth import cached_principal, guarded
from luneo.platform.config import get_settings
from luneo.platform.deps import WidgetDep
from luneo.platform.errors import Problem
from luneo.widget import service
from luneo.widget.schemas import WidgetConfig, WidgetUploadOut

router = APIRouter(tags=["widget"])


@router.get(
    "/widget/config/{product_id}",
    response_model=WidgetConfig,
    responses={304: {"description": "Not modified (`If-None-Match` matched the ETag)"}},
)
async def widget_config(product_id: str, request: Request) -> Response:
    """Product + zones + rules + fonts for the widget, with a strong ETag (`If-None-Match` → 304).

    Served from the per-process config cache (keyed by the product's version): a caller already
    verified and a product whose version this process knows are answered on the event loop,
    without a thread hop or a query; anything else takes the guarded path (one version query).
    """
    principal = cached_principal(request)
    if (
        principal is not None
        and principal.brand_id is not None
        and not principal.brand_suspended
        and principal.can("catalog:read")
    ):
        hit = service.config_cache.lookup(principal.brand_id, product_id)
        if hit is not None:
            return _config_response(request, hit)
    return await run_in_threadpool(_widget_config_guarded, product_id, request)


def _widget_config_guarded(product_id: str, request: Request) -> Response:
    with guarded(request, "catalog:read") as t:
        found = service.config_cache.get(t.session, t.brand_id, product_id)
    return _config_response(request, found)


def _config_response(request: Request, config: service.CachedConfig) -> Response:
    headers = {"ETag": config.etag, "Cache-Control": "private, max-age=60", "Vary": "Authorization, Origin"}
    tags = [x.strip() for x in (request.headers.get("if-none-match") or "").split(",")]
    if config.etag in tags or "*" in tags:
        return Response(status_code=304, headers=headers)
    return Response(content=config.body, media_type="application/json", headers=headers)


@router.post(
    "/widget/uploads", response_model=WidgetUploadOut, status_code=201, dependencies=[Depends(limit_uploads)]
)
def widget_upload(t: WidgetDep, file: UploadFile = File(...)) -> WidgetUploadOut:
    """A shopper's photo for an image zone: checked like every upload, stored content-addressed."""
    limit = get_settings().max_body_bytes
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise Problem(413, "file_too_large", f"The file exceeds {limit} bytes.")
    shopper = t.shopper_token(required=True) or ""
    asset = service.upload_photo(t.session, data, file.filename, t.principal.actor, shopper)
    return WidgetUploadOut(
        asset_id=asset.id, width_px=asset.width_px, height_px=asset.height_px, sha256=asset.sha256
    )
