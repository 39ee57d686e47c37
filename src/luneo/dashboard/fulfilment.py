"""The fulfilment page (issue 17, item 7): the brand's Printful account (API token and webhook
secret write-only, store id, "register the webhook"), which Luneo product Printful makes with
which variant / placement / technique, the in-house print shop hand-off (HTTPS endpoint or SFTP
server, secrets write-only, SFTP host key pinned), and the latest hand-offs with their status and
a retry. Owners and admins (`brand:manage`, as the API; retry also needs `orders:write`).

Forms are read with the API's own schemas, so a field the API refuses shows its message next to
the field; a service refusal naming a `field` does the same."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError
from sqlalchemy import select

from luneo.catalog import public as catalog
from luneo.dashboard.forms import refusal
from luneo.dashboard.guard import Page, page_dep
from luneo.dashboard.pages import router
from luneo.fulfilment import public as fulfilment
from luneo.platform.config import get_settings
from luneo.platform.domain_errors import DomainError

FulfilmentPage = Annotated[Page, page_dep("brand:manage")]
FulfilmentWrite = Annotated[Page, page_dep("brand:manage", write=True)]
RetryWrite = Annotated[Page, page_dep("brand:manage", "orders:write", write=True)]

BASE = "/dashboard/fulfilment"
_NOTICES = {
    "printful": "The Printful settings were saved.",
    "webhook": "Printful's webhook is registered: shipments will update your orders.",
    "mapping": "The product mapping was saved.",
    "unmapped": "The product is no longer made by Printful.",
    "handoff": "The print shop hand-off was saved.",
    "handoff-deleted": "The print shop hand-off was removed.",
    "retry": "The failed hand-offs of the order are being sent again.",
}
#: API schema field → form field, where they differ.
_FORM_NAMES = {
    "sftp.host": "host",
    "sftp.port": "port",
    "sftp.username": "username",
    "sftp.password": "password",
    "sftp.private_key": "private_key",
    "sftp.directory": "directory",
    "sftp.host_key": "host_key",
}


def _products(page: Page) -> list[Any]:
    P = catalog.Product
    return list(
        page.session.execute(
            select(P.id, P.name, P.sku).where(P.status != "archived").order_by(P.name, P.id)
        ).all()
    )


def _render(page: Page, *, status_code: int = 200, **extra: Any) -> Response:
    settings = get_settings()
    cfg = fulfilment.printful_config(page.session)
    target = fulfilment.handoff_target(page.session)
    products = _products(page)
    ctx: dict[str, Any] = {
        "cfg": cfg,
        "webhook_url": fulfilment.webhook_url(settings, cfg) if cfg else None,
        "mappings": fulfilment.list_mappings(page.session),
        "products": products,
        "names": {p.id: p.name for p in products},
        "target": target,
        "handoffs": fulfilment.recent_handoffs(page.session),
        "retryable": fulfilment.RETRYABLE,
        "can_retry": page.can("orders:write"),
        "notice": None,
        "error": None,
        "errors": {},
        "form": {},
        "section": None,
    }
    ctx.update(extra)
    return page.render("fulfilment/index.html", status_code=status_code, **ctx)


def _field_errors(page: Page, exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"])
        name = _FORM_NAMES.get(path, path.split(".")[-1] or "form")
        errors.setdefault(name, page.gettext("This value is not valid: %(reason)s", reason=err["msg"]))
    return errors


def _parse(page: Page, schema: type[BaseModel], data: dict[str, Any]) -> tuple[Any, dict[str, str]]:
    try:
        return schema.model_validate(data), {}
    except ValidationError as exc:
        return None, _field_errors(page, exc)


def _refused(page: Page, exc: DomainError, section: str, form: dict[str, Any]) -> Response:
    r = refusal(exc, (409, 422, 502))
    field = exc.extra.get("field")
    errors = {str(field): r.message} if field else {}
    return _render(
        page,
        status_code=r.status,
        section=section,
        form=form,
        errors=errors,
        error=None if field else r.message,
    )


@router.get("/fulfilment")
def fulfilment_page(page: FulfilmentPage, saved: str | None = None) -> Response:
    """Printful, product mappings, the print shop hand-off and the latest hand-offs."""
    notice = page.gettext(_NOTICES[saved]) if saved in _NOTICES else None
    return _render(page, notice=notice)


@router.post("/fulfilment/printful")
def save_printful(
    page: FulfilmentWrite,
    api_token: Annotated[str, Form(max_length=600)] = "",
    store_id: Annotated[str, Form(max_length=40)] = "",
    webhook_secret: Annotated[str, Form(max_length=300)] = "",
    shipping: Annotated[str, Form(max_length=40)] = "STANDARD",
    enabled: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Save the Printful account; empty secret fields keep the stored ones."""
    data: dict[str, Any] = {
        "store_id": store_id.strip() or None,
        "shipping": shipping.strip() or "STANDARD",
        "enabled": enabled == "on",
    }
    if api_token.strip():
        data["api_token"] = api_token.strip()
    if webhook_secret.strip():
        data["webhook_secret"] = webhook_secret.strip()
    form = {"store_id": store_id, "shipping": shipping, "enabled": enabled == "on"}
    body, errors = _parse(page, fulfilment.PrintfulConfigIn, data)
    if errors:
        return _render(page, status_code=422, section="printful", form=form, errors=errors)
    changes = body.model_dump(exclude_unset=True)
    if not store_id.strip():
        changes["store_id"] = None
    try:
        cfg = fulfilment.set_printful_config(page.session, get_settings(), page.brand_id, changes=changes)
        if not store_id.strip():
            cfg.store_id = None
    except DomainError as exc:
        return _refused(page, exc, "printful", form)
    return page.redirect(f"{BASE}?saved=printful")


@router.post("/fulfilment/printful/register-webhook")
def register_webhook(page: FulfilmentWrite) -> Response:
    """Register Luneo's webhook URL at Printful (keeps the secret Printful returns)."""
    try:
        fulfilment.register_printful_webhook(page.session, get_settings())
    except DomainError as exc:
        return _refused(page, exc, "printful", {})
    return page.redirect(f"{BASE}?saved=webhook")


@router.post("/fulfilment/mappings")
def save_mapping(
    page: FulfilmentWrite,
    product: Annotated[str, Form(max_length=40)] = "",
    catalog_variant_id: Annotated[str, Form(max_length=20)] = "",
    placement: Annotated[str, Form(max_length=64)] = "front",
    technique: Annotated[str, Form(max_length=32)] = "dtg",
) -> Response:
    """Make a Luneo product through Printful (catalog variant id, placement, technique)."""
    form = {
        "product": product,
        "catalog_variant_id": catalog_variant_id,
        "placement": placement,
        "technique": technique,
    }
    body, errors = _parse(
        page,
        fulfilment.MappingIn,
        {
            "catalog_variant_id": catalog_variant_id.strip() or None,
            "placement": placement.strip(),
            "technique": technique.strip(),
        },
    )
    if not product:
        errors["product"] = page.gettext("Choose a product.")
    if errors:
        return _render(page, status_code=422, section="mapping", form=form, errors=errors)
    try:
        fulfilment.set_mapping(
            page.session,
            page.brand_id,
            product,
            catalog_variant_id=body.catalog_variant_id,
            placement=body.placement,
            technique=body.technique,
        )
    except DomainError as exc:
        if refusal(exc).status == 404:
            return _render(
                page,
                status_code=422,
                section="mapping",
                form=form,
                errors={"product": page.gettext("Choose a product.")},
            )
        return _refused(page, exc, "mapping", form)
    return page.redirect(f"{BASE}?saved=mapping")


@router.post("/fulfilment/mappings/{product_id}/delete")
def delete_mapping(page: FulfilmentWrite, product_id: str) -> Response:
    """Stop making this product through Printful (404 for another brand's product)."""
    fulfilment.delete_mapping(page.session, product_id)
    return page.redirect(f"{BASE}?saved=unmapped")


@router.post("/fulfilment/handoff")
def save_handoff(
    page: FulfilmentWrite,
    kind: Annotated[str, Form(max_length=8)] = "https",
    url: Annotated[str, Form(max_length=2000)] = "",
    method: Annotated[str, Form(max_length=8)] = "POST",
    secret: Annotated[str, Form(max_length=300)] = "",
    host: Annotated[str, Form(max_length=255)] = "",
    port: Annotated[str, Form(max_length=6)] = "22",
    username: Annotated[str, Form(max_length=128)] = "",
    password: Annotated[str, Form(max_length=600)] = "",
    private_key: Annotated[str, Form(max_length=20000)] = "",
    directory: Annotated[str, Form(max_length=1000)] = ".",
    host_key: Annotated[str, Form(max_length=100)] = "",
    enabled: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Save the print shop hand-off: HTTPS (URL, method, signing secret) or SFTP (server, user,
    password or private key, directory, pinned host key). Empty secret fields keep the stored ones."""
    form = {
        "kind": kind,
        "url": url,
        "method": method,
        "host": host,
        "port": port,
        "username": username,
        "directory": directory,
        "host_key": host_key,
        "enabled": enabled == "on",
    }
    data: dict[str, Any] = {"kind": kind, "enabled": enabled == "on"}
    if kind == "sftp":
        sftp: dict[str, Any] = {
            "host": host.strip(),
            "port": port.strip() or "22",
            "username": username.strip(),
            "directory": directory.strip() or ".",
            "host_key": host_key.strip(),
        }
        if password:
            sftp["password"] = password
        if private_key.strip():
            sftp["private_key"] = private_key.strip() + "\n"
        data["sftp"] = sftp
    else:
        data.update(url=url.strip() or None, method=method)
        if secret:
            data["secret"] = secret
    body, errors = _parse(page, fulfilment.TargetIn, data)
    if kind != "sftp" and not url.strip():
        errors["url"] = page.gettext("The URL is required.")
    if errors:
        return _render(page, status_code=422, section="handoff", form=form, errors=errors)
    try:
        fulfilment.set_handoff_target(
            page.session,
            get_settings(),
            page.brand_id,
            kind=body.kind,
            url=body.url,
            method=body.method,
            secret=body.secret,
            enabled=body.enabled,
            sftp_fields=body.sftp.model_dump() if body.sftp else None,
        )
    except DomainError as exc:
        return _refused(page, exc, "handoff", form)
    return page.redirect(f"{BASE}?saved=handoff")


@router.post("/fulfilment/handoff/delete")
def delete_handoff(page: FulfilmentWrite) -> Response:
    """Stop handing packs to the print shop."""
    fulfilment.delete_handoff_target(page.session)
    return page.redirect(f"{BASE}?saved=handoff-deleted")


@router.post("/fulfilment/orders/{order_id}/retry")
def retry_order(page: RetryWrite, order_id: str) -> Response:
    """Send again what failed for this order (404 for another brand's order)."""
    fulfilment.retry_handoffs(page.session, page.brand_id, order_id)
    return page.redirect(f"{BASE}?saved=retry#handoffs")
