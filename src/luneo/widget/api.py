"""Routes for the embeddable widget (publishable keys)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Request, Response, UploadFile

from luneo.catalog.upload_limits import limit_uploads
from luneo.platform.auth import Tenant, guard
from luneo.platform.config import get_settings
from luneo.platform.errors import Problem
from luneo.widget import service
from luneo.widget.schemas import WidgetConfig, WidgetUploadOut

router = APIRouter(tags=["widget"])


@router.get("/widget/config/{product_id}", response_model=WidgetConfig)
def widget_config(
    product_id: str, request: Request, response: Response, t: Tenant = guard("catalog:read")
) -> WidgetConfig | Response:
    """Product + zones + rules + fonts for the widget, with an ETag (`If-None-Match` → 304)."""
    config = service.widget_config(t.session, product_id)
    etag = f'"{config.version}"'
    headers = {"ETag": etag, "Cache-Control": "private, max-age=60", "Vary": "Authorization, Origin"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return config


@router.post(
    "/widget/uploads", response_model=WidgetUploadOut, status_code=201, dependencies=[Depends(limit_uploads)]
)
def widget_upload(file: UploadFile = File(...), t: Tenant = guard("widget")) -> WidgetUploadOut:
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
