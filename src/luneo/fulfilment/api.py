"""Routes: Printful configuration and product mappings, the print-shop hand-off target (secrets
write-only, `brand:manage`), hand-off statuses per order (`orders:read`), and Printful's webhook
(root router, authenticated by its signature). Another brand's ids answer 404."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from luneo.fulfilment import service
from luneo.fulfilment.models import SFTP, HandoffTarget, PrintfulConfig
from luneo.fulfilment.schemas import (
    HandoffOut,
    MappingIn,
    MappingOut,
    PrintfulConfigIn,
    PrintfulConfigOut,
    SftpOut,
    TargetIn,
    TargetOut,
)
from luneo.platform.config import Settings, get_settings
from luneo.platform.database import get_db
from luneo.platform.deps import BrandManageDep, OrdersReadDep, OrdersWriteDep
from luneo.platform.domain_errors import NotFoundError

router = APIRouter(tags=["fulfilment"])
hooks_router = APIRouter(tags=["fulfilment"], include_in_schema=False)


def _config_out(settings: Settings, cfg: PrintfulConfig) -> PrintfulConfigOut:
    return PrintfulConfigOut(
        id=cfg.id,
        store_id=cfg.store_id,
        shipping=cfg.shipping,
        enabled=cfg.enabled,
        has_api_token=bool(cfg.api_token_enc),
        has_webhook_secret=bool(cfg.webhook_secret_enc),
        webhook_url=service.webhook_url(settings, cfg),
    )


@router.get("/fulfilment/printful", response_model=PrintfulConfigOut)
def get_printful(t: BrandManageDep) -> PrintfulConfigOut:
    cfg = service.printful_config(t.session)
    if cfg is None:
        raise NotFoundError("Printful configuration")
    return _config_out(get_settings(), cfg)


@router.put("/fulfilment/printful", response_model=PrintfulConfigOut)
def put_printful(body: PrintfulConfigIn, t: BrandManageDep) -> PrintfulConfigOut:
    """Create or update: fields left out are unchanged; `api_token` / `webhook_secret` are never
    answered. Point Printful's webhooks at `webhook_url` (or call `…/register-webhook`)."""
    settings = get_settings()
    cfg = service.set_printful_config(
        t.session, settings, t.brand_id, changes=body.model_dump(exclude_unset=True)
    )
    return _config_out(settings, cfg)


@router.post("/fulfilment/printful/register-webhook", response_model=PrintfulConfigOut)
def register_printful_webhook(t: BrandManageDep) -> PrintfulConfigOut:
    """Register `webhook_url` at Printful (`shipment_sent`, `order_failed`, `order_canceled`) and
    keep the signing secret Printful returns."""
    settings = get_settings()
    return _config_out(settings, service.register_printful_webhook(t.session, settings))


@router.get("/fulfilment/printful/mappings", response_model=list[MappingOut])
def list_mappings(t: BrandManageDep) -> list[MappingOut]:
    return [MappingOut.model_validate(m) for m in service.list_mappings(t.session)]


@router.put("/fulfilment/printful/mappings/{product_id}", response_model=MappingOut)
def put_mapping(product_id: str, body: MappingIn, t: BrandManageDep) -> MappingOut:
    """Make this product through Printful: catalog variant, placement (`front`, `default`, …), technique."""
    row = service.set_mapping(
        t.session,
        t.brand_id,
        product_id,
        catalog_variant_id=body.catalog_variant_id,
        placement=body.placement,
        technique=body.technique,
    )
    return MappingOut.model_validate(row)


@router.delete("/fulfilment/printful/mappings/{product_id}", status_code=204)
def delete_mapping(product_id: str, t: BrandManageDep) -> Response:
    service.delete_mapping(t.session, product_id)
    return Response(status_code=204)


def _target_out(row: HandoffTarget) -> TargetOut:
    out = TargetOut.model_validate(row)
    if row.kind == SFTP:
        out.sftp = SftpOut(
            host=str(row.sftp_host),
            port=int(row.sftp_port or 22),
            username=str(row.sftp_username),
            directory=row.sftp_dir or ".",
            host_key=str(row.sftp_host_key),
            has_password=bool(row.sftp_password_enc),
            has_private_key=bool(row.sftp_key_enc),
        )
    return out


@router.get("/fulfilment/handoff", response_model=TargetOut)
def get_target(t: BrandManageDep) -> TargetOut:
    row = service.handoff_target(t.session)
    if row is None:
        raise NotFoundError("hand-off target")
    return _target_out(row)


@router.put("/fulfilment/handoff", response_model=TargetOut)
def put_target(body: TargetIn, t: BrandManageDep) -> TargetOut:
    """The print shop: `kind=https` — each ready pack is sent to `url`, signed with `secret`
    (write-only; required the first time), 422 `fulfilment_url_not_allowed` for a non-https URL;
    `kind=sftp` — each pack is uploaded to `sftp.directory` on `sftp.host` (`name.part`, then
    renamed), the server's host key must match `sftp.host_key` (`SHA256:…`), password or private
    key write-only. 422 `fulfilment_target_invalid` names the `field` at fault."""
    row = service.set_handoff_target(
        t.session,
        get_settings(),
        t.brand_id,
        kind=body.kind,
        url=body.url,
        method=body.method,
        secret=body.secret,
        enabled=body.enabled,
        sftp_fields=body.sftp.model_dump() if body.sftp else None,
    )
    return _target_out(row)


@router.delete("/fulfilment/handoff", status_code=204)
def delete_target(t: BrandManageDep) -> Response:
    service.delete_handoff_target(t.session)
    return Response(status_code=204)


@router.get("/orders/{order_id}/fulfilment", response_model=list[HandoffOut])
def order_fulfilment(order_id: str, t: OrdersReadDep) -> list[HandoffOut]:
    """Where the order's production went: the Printful order (id, status, error, tracking) and
    each pack sent to the print shop."""
    return [HandoffOut.model_validate(h) for h in service.order_handoffs(t.session, order_id)]


@router.post("/orders/{order_id}/fulfilment/retry", response_model=list[HandoffOut])
def retry_fulfilment(order_id: str, t: OrdersWriteDep) -> list[HandoffOut]:
    """Hand off again what failed or was unmapped (after fixing the cause)."""
    return [HandoffOut.model_validate(h) for h in service.retry_handoffs(t.session, t.brand_id, order_id)]


@hooks_router.post("/hooks/printful/{config_id}")
async def printful_webhook(config_id: str, request: Request) -> JSONResponse:
    """Printful webhooks v2, verified with `X-PF-Webhook-Signature` (401 otherwise)."""
    raw = await request.body()
    result = await run_in_threadpool(
        service.receive_printful_webhook, get_db(), get_settings(), config_id, dict(request.headers), raw
    )
    return JSONResponse({"status": result})
