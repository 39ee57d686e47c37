"""Routes for the embeddable widget (publishable keys)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Request, Response, UploadFile
from starlette.concurrency import run_in_threadpool

from luneo.catalog.public import limit_uploads, shoppers
from luneo.platform.auth import cached_principal, guarded
from luneo.platform.config import get_settings
from luneo.platform.deps import WidgetDep, WidgetQuoteDep
from luneo.platform.errors import Problem
from luneo.widget import quote as quotes
from luneo.widget import service
from luneo.widget.schemas import QuoteIn, QuoteOut, WidgetConfig, WidgetTemplateList, WidgetUploadOut

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


@router.get("/widget/products/{product_id}/templates", response_model=WidgetTemplateList)
def widget_templates(product_id: str, request: Request) -> WidgetTemplateList:
    """The product's active templates (preset designs the shopper can start from), in the brand's
    order, each with `inputs` (as the widget sends them) and its finished `preview` (null until
    rendered: the first listing asks for it, a later one finds it). 404: not an active product of
    the key's brand. Read-only, except the first time a preview is missing."""
    with guarded(request, "catalog:read") as t:
        views = service.widget_templates(t.session, product_id)
    missing = [v for v in views if v.template.preview is None]
    if missing:
        with guarded(request, "catalog:read", "renders:preview", write=True) as t:
            service.request_template_previews(t.session, product_id, missing)
    return WidgetTemplateList(data=[v.template for v in views])


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


QUOTE_BODY_BYTES = 64 * 1024


def quote_body_cap(request: Request) -> None:
    """A quote body over `QUOTE_BODY_BYTES` is a 413 problem before any work."""
    raw = request.scope.get("state", {}).get("raw_body")
    if raw is not None and len(raw) > QUOTE_BODY_BYTES:
        raise Problem(
            413,
            "payload_too_large",
            f"The body exceeds {QUOTE_BODY_BYTES} bytes.",
            max_bytes=QUOTE_BODY_BYTES,
        )


@router.post("/widget/quote", response_model=QuoteOut, dependencies=[Depends(quote_body_cap)])
def widget_quote(body: QuoteIn, request: Request, t: WidgetQuoteDep) -> QuoteOut:
    """The price of the shopper's current design, computed by the server as the cart will.

    Callable with the publishable key (`X-Shopper-Token` optional: it lets image zones name the
    shopper's own uploads), a secret key or a user. Request:
    `{"product_id": "prd_…", "inputs": {"<zone>": {"text": "Emma", "font": "fnt_serif"},
    "<image zone>": {"kind": "image", "asset_id": "ast_…"}}, "quantity": 2, "locale": "fr-FR"}`
    (`inputs` as sent to `/personalization/validate`; `quantity` 1–1000, default 1; `locale`
    optional, else `Accept-Language`, else `en`). Answer (200), amounts in integer minor units of
    `currency` plus Babel's text for the locale:
    `{"product_id", "currency": "EUR", "locale": "fr-FR", "quantity": 2, "valid": true,
    "base": {"minor": 3900, "formatted": "39,00 €"}, "lines": [{"zone": "arc_text", "label": "…",
    "kind": "per_char", "count": 4, "unit": {"minor": 20, …}, "amount": {"minor": 80, …}}],
    "unit_price": {"minor": 3980, …}, "total": {"minor": 7960, …}, "violations": [], "warnings": []}`.
    `kind` is `zone` (flat zone add-on), `photo` (flat add-on of an image zone) or `per_char`.
    An invalid design is still quoted for its valid zones, with `valid: false` and the
    `violations` (the cart refuses it until fixed). 404: not an active product of the key's brand;
    422 `unknown_locale`: a `locale` Babel does not know.
    """
    if body.locale is not None:
        locale = quotes.parse_locale(body.locale)
        if locale is None:
            raise Problem(422, "unknown_locale", f"Unknown locale {body.locale!r}.", locale=body.locale)
    else:
        locale = quotes.negotiate_locale(request.headers.get("accept-language"))
    return quotes.quote(
        t.session,
        body.product_id,
        body.inputs,
        quantity=body.quantity,
        locale=locale,
        shopper=shoppers.scope_of(t, required=False),
    )
