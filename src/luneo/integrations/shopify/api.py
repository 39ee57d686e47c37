"""Routes at the root: the embedded app home, the app proxy, webhooks and the preview image.

Each is authenticated by its origin (service): session token, proxy signature, webhook HMAC.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import jwt
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from luneo.design.model import DesignSpec
from luneo.integrations.shopify import client, link_page, service
from luneo.integrations.shopify.error_codes import ShopifyErrorCode
from luneo.integrations.shopify.schemas import (
    AdminStatusOut,
    PropertiesIn,
    PropertiesOut,
    ProxyConfigOut,
    WebhookAck,
)
from luneo.platform.config import get_settings
from luneo.platform.database import get_db
from luneo.platform.domain_errors import DomainError, NotFoundError
from luneo.platform.security import decode_access_token
from luneo.platform.tenancy import bind_system, bind_tenant
from luneo.rendering import public as rendering
from luneo.tenancy import public as tenancy

router = APIRouter(prefix="/shopify", include_in_schema=False)

DASHBOARD_PATH = "/dashboard"
LINK_ROLES = ("owner", "admin")


def _headers(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.headers.items()}


def _dashboard(request: Request) -> RedirectResponse:
    params = {"embedded": "1"}
    host = request.query_params.get("host")
    if host:
        params["host"] = host
    return RedirectResponse(f"{DASHBOARD_PATH}?{urlencode(params)}", status_code=303)


# --------------------------------------------------------------------------- embedded app home


@router.get("/app")
def app_home(request: Request) -> Response:
    """The embedded app's home: verify the session token, install (token exchange) or refresh the
    shop's link, then open the dashboard; a shop with no brand yet gets the link page."""
    settings = get_settings()
    try:
        admin = service.verify_admin_request(
            settings, method="GET", url=str(request.url), headers=_headers(request)
        )
    except service.PatchIdToken as redirect:
        return RedirectResponse(redirect.location, status_code=302)
    with get_db().transaction() as s:
        bind_system(s)
        row = service.refresh_install(s, settings, admin)
    if row is not None:
        response: Response = _dashboard(request)
    else:
        ticket = service.link_ticket(settings, admin.shop_domain, service.exchange_token(settings, admin))
        lang = link_page.language(request.query_params.get("locale"), request.headers.get("accept-language"))
        response = HTMLResponse(link_page.render(admin.shop_domain, ticket, lang))
    for name in ("Content-Security-Policy", "Link"):
        if name in admin.response_headers:
            response.headers[name] = admin.response_headers[name]
    return response


@router.get("/app/patch-id-token")
def patch_id_token(request: Request) -> Response:
    """Shopify's page that loads App Bridge to obtain a fresh session token, then reloads."""
    result = client.app_for(get_settings()).app_home_patch_id_token(
        {"method": "GET", "headers": _headers(request), "url": str(request.url), "body": ""}
    )
    return Response(result.response.body, status_code=result.response.status, headers=result.response.headers)


@router.post("/app/link")
def link_shop(
    request: Request,
    ticket: str = Form(max_length=8000),
    action: str = Form(pattern="^(create|signin)$"),
    email: str = Form(max_length=320),
    password: str = Form(max_length=500),
    brand_name: str = Form(default="", max_length=200),
    brand: str = Form(default="", max_length=64),
    lang: str = Form(default="en", max_length=16),
) -> Response:
    """Link the shop of a link ticket to a new brand (sign-up) or to one the person administers."""
    settings = get_settings()
    domain, token = service.read_link_ticket(settings, ticket)
    try:
        with get_db().transaction() as s:
            bind_system(s)
            if action == "create":
                _user, created, _ = tenancy.sign_up(
                    s, settings, email=email, password=password, brand_name=brand_name or domain.split(".")[0]
                )
                brand_id = created.id
            else:
                access, _ = tenancy.login(s, settings, email, password)
                user_id = str(decode_access_token(settings, access)["sub"])
                brands = [
                    b
                    for m, b in tenancy.memberships_of(s, user_id)
                    if m.role in LINK_ROLES and (not brand or b.slug == brand)
                ]
                if not brands:
                    raise DomainError(
                        ShopifyErrorCode.SHOP_NOT_INSTALLED, "You administer no such Luneo brand."
                    )
                brand_id = brands[0].id
                bind_system(s)
            service.install(s, settings, domain, brand_id, token)
    except (DomainError, jwt.PyJWTError) as exc:
        message = getattr(exc, "detail", None) or "The shop could not be linked."
        page = link_page.render(domain, ticket, link_page.language(lang, None), str(message))
        return HTMLResponse(page, status_code=400)
    return _dashboard(request)


@router.get("/admin/status", response_model=AdminStatusOut)
def admin_status(request: Request) -> AdminStatusOut:
    """The shop's link, for the embedded app's fetches (`Authorization: Bearer <session token>`)."""
    settings = get_settings()
    if "authorization" not in request.headers:
        raise DomainError(ShopifyErrorCode.SESSION_TOKEN_INVALID, "A Shopify session token is required.")
    admin = service.verify_admin_request(
        settings, method="GET", url=str(request.url), headers=_headers(request)
    )
    with get_db().transaction(write=False) as s:
        bind_system(s)
        row = service.integration_for_shop(s, admin.shop_domain)
        if row is None:
            return AdminStatusOut(shop_domain=admin.shop_domain, linked=False)
        return AdminStatusOut(
            shop_domain=admin.shop_domain, linked=True, status=row.status, api_version=row.api_version
        )


# --------------------------------------------------------------------------- app proxy


@router.get("/proxy/config", response_model=ProxyConfigOut)
def proxy_config(request: Request, product: str = Query(pattern=r"^[0-9]{1,20}$")) -> ProxyConfigOut:
    """The widget's configuration for a mapped Shopify product (404 when unmapped)."""
    settings = get_settings()
    proxy = service.verify_proxy(settings, str(request.url))
    with get_db().transaction() as s:
        row = service.proxy_integration(s, proxy)
        mapping = service.mapping_for(s, row, product)
        _key, raw = tenancy.ensure_widget_key(s, settings, row.brand_id, "shopify")
        brand_row = s.execute(select(tenancy.Brand).where(tenancy.Brand.id == row.brand_id)).scalar_one()
        locale = str((brand_row.settings or {}).get("locale") or "en")
        return ProxyConfigOut(
            luneo_product=mapping.product_id,
            publishable_key=raw,
            api_base=settings.public_base_url.rstrip("/"),
            locale=locale,
        )


@router.post("/proxy/properties", response_model=PropertiesOut)
def proxy_properties(request: Request, body: PropertiesIn) -> PropertiesOut:
    """The signed line-item properties of a snapshot of this shop's brand (404 otherwise)."""
    settings = get_settings()
    proxy = service.verify_proxy(settings, str(request.url))
    with get_db().transaction(write=False) as s:
        row = service.proxy_integration(s, proxy)
        snap = service.snapshot_of_brand(s, body.snapshot_id)
        return PropertiesOut(
            properties=service.line_properties(settings, service.property_secret(settings, row), snap)
        )


# --------------------------------------------------------------------------- webhooks


@router.post("/webhooks", response_model=WebhookAck)
async def webhooks(request: Request) -> JSONResponse:
    """Every topic: HMAC over the raw body (401), dedupe on `X-Shopify-Event-Id` (a duplicate is
    a 200 without work), record, enqueue the work, answer at once."""
    raw = await request.body()
    receipt = await run_in_threadpool(
        service.receive_webhook, get_db(), get_settings(), dict(request.headers), raw
    )
    return JSONResponse(WebhookAck(status=receipt.status).model_dump())


# --------------------------------------------------------------------------- preview image


@router.get("/preview/{snapshot_id}.png")
def preview(snapshot_id: str, sig: str = Query(max_length=64)) -> Response:
    """A snapshot's mockup image (`_luneo_preview`): signed URL, immutable content."""
    import hmac

    settings = get_settings()
    if not hmac.compare_digest(service.preview_signature(settings, snapshot_id), sig):
        raise NotFoundError("preview", snapshot_id)
    with get_db().transaction(write=False) as s:
        bind_system(s)
        snap: Any = service.snapshot_of_brand(s, snapshot_id)
        bind_tenant(s, snap.brand_id)
        png = rendering.render_preview_png(
            s, DesignSpec.model_validate(snap.spec), snap.spec_hash, mockup=True
        )
    return Response(
        png, media_type="image/png", headers={"Cache-Control": "public, max-age=31536000, immutable"}
    )
