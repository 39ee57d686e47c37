"""Dashboard page of a product's templates: preset designs a shopper can start from.

A template is made from values typed per zone (a form built from the product's zones), listed
with its thumbnail (rendered by the real preview pipeline, cached by spec hash), renamed,
reordered, (de)activated and deleted. Every write goes through `luneo.catalog.public` — the very
service the JSON API uses, which checks the inputs with the widget's own rules — in a savepoint:
a refused change shows the service's messages next to the fields and writes nothing.
"""

from __future__ import annotations

import threading
from typing import Annotated, Any

from cachetools import LRUCache
from fastapi import Depends, Request
from fastapi.responses import Response
from pydantic import ValidationError

from luneo.catalog import public as catalog
from luneo.dashboard.guard import Page, page_dep
from luneo.dashboard.pages import router
from luneo.design.fonts import BUNDLED_FONTS
from luneo.designs import public as designs
from luneo.platform.domain_errors import DomainError, NotFoundError
from luneo.rendering import public as rendering

ReadPage = Annotated[Page, page_dep("catalog:read")]
WritePage = Annotated[Page, page_dep("catalog:write", write=True)]

THUMB_WIDTH = 240
_THUMBS: LRUCache[tuple[str, str, bool], bytes] = LRUCache(256)  # (brand, spec hash, mockup) → PNG
_THUMBS_LOCK = threading.Lock()


async def _form(request: Request) -> dict[str, str]:
    """The posted form's text fields (the CSRF check has parsed it already)."""
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


Form = Annotated[dict[str, str], Depends(_form)]


def _base(product_id: str) -> str:
    return f"/dashboard/products/{product_id}/templates"


def _zone_fields(product: Any) -> list[dict[str, Any]]:
    """What the create form asks per zone: text (with its font and colour choices) or a colour."""
    palette = list(product.palette or [])
    out = []
    for z in product.zones:
        rules = z.rules or {}
        fonts = [
            (f, BUNDLED_FONTS[f].family if f in BUNDLED_FONTS else f)
            for f in rules.get("allowed_fonts") or []
        ]
        colors = list(rules.get("allowed_colors") or ([] if z.kind == "text" else palette))
        out.append(
            {
                "key": z.key,
                "label": z.label or z.key,
                "kind": z.kind,
                "required": bool(rules.get("required")),
                "max_chars": rules.get("max_chars"),
                "fonts": fonts,
                "colors": colors,
                "default_font": z.default_font,
                "default_color": z.default_color,
            }
        )
    return out


def _inputs_from_form(product: Any, form: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The widget's inputs from the typed values: empty text zones are left out."""
    inputs: dict[str, dict[str, Any]] = {}
    for z in _zone_fields(product):
        key = z["key"]
        if z["kind"] == "text":
            text = form.get(f"z.{key}.text", "")[:500]
            if not text.strip():
                continue
            value: dict[str, Any] = {"kind": "text", "text": text}
            font = form.get(f"z.{key}.font", "")
            color = form.get(f"z.{key}.color", "")
            if font:
                value["font"] = font[:40]
            if color:
                value["color"] = color[:7]
            inputs[key] = value
        elif z["kind"] == "colour":
            color = form.get(f"z.{key}.color", "")
            if color:
                inputs[key] = {"kind": "colour", "color": color[:7]}
    return inputs


def _errors(exc: DomainError) -> dict[str, str]:
    out: dict[str, str] = {}
    for err in exc.extra.get("errors") or []:
        out.setdefault(str(err.get("field") or "inputs"), str(err.get("message")))
    return out


def _render(
    page: Page,
    product: Any,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    alert: str | None = None,
    status_code: int = 200,
) -> Response:
    templates = catalog.list_templates(page.session, product.id)
    confirm = page.request.query_params.get("delete")
    return page.render(
        "products/templates_list.html",
        status_code=status_code,
        product=product,
        templates=templates,
        zones=_zone_fields(product),
        values=values or {},
        errors=errors or {},
        alert=alert,
        confirm=next((t for t in templates if t.id == confirm), None),
        limit=catalog.MAX_TEMPLATES,
        can_write=page.can("catalog:write"),
        base=_base(product.id),
    )


@router.get("/products/{product_id}/templates")
def templates_page(page: ReadPage, product_id: str) -> Response:
    """The product's templates with their thumbnails, and the form to add one."""
    return _render(page, catalog.get_product(page.session, product_id))


@router.post("/products/{product_id}/templates")
def template_create(page: WritePage, product_id: str, form: Form) -> Response:
    """Add a template from the values typed per zone (the widget's rules; 422 next to the fields)."""
    product = catalog.get_product(page.session, product_id)
    name = form.get("name", "").strip()
    try:
        data = catalog.TemplateIn(name=name, inputs=_inputs_from_form(product, form))
    except ValidationError:
        msg = page.gettext("Give the template a name of 1 to 80 characters.")
        return _render(page, product, values=form, errors={"name": msg}, alert=msg, status_code=422)
    try:
        with page.session.begin_nested():
            catalog.create_template(page.session, product.id, data)
    except NotFoundError:
        raise
    except DomainError as exc:
        errors = _errors(exc)
        if exc.code == "too_many_templates":
            alert = page.gettext("A product has at most %(limit)s templates.", limit=catalog.MAX_TEMPLATES)
        else:
            alert = page.gettext("This design breaks the product's rules: see the fields below.")
        return _render(page, product, values=form, errors=errors, alert=alert, status_code=422)
    return page.redirect(_base(product.id) + "?saved=1")


def _patch(page: Page, product_id: str, template_id: str, patch: Any) -> Response:
    product = catalog.get_product(page.session, product_id)
    try:
        with page.session.begin_nested():
            catalog.update_template(page.session, product.id, template_id, patch)
    except NotFoundError:
        raise
    except DomainError as exc:
        return _render(page, product, alert=exc.detail or str(exc.code), status_code=422)
    return page.redirect(_base(product.id) + "?saved=1")


@router.post("/products/{product_id}/templates/{template_id}/rename")
def template_rename(page: WritePage, product_id: str, template_id: str, form: Form) -> Response:
    """Rename a template (1–80 characters, the error shown next to its name)."""
    try:
        patch = catalog.TemplatePatch(name=form.get("name", "").strip())
    except ValidationError:
        product = catalog.get_product(page.session, product_id)
        catalog.get_template(page.session, product.id, template_id)
        msg = page.gettext("Give the template a name of 1 to 80 characters.")
        return _render(page, product, errors={f"rename.{template_id}": msg}, alert=msg, status_code=422)
    return _patch(page, product_id, template_id, patch)


@router.post("/products/{product_id}/templates/{template_id}/move")
def template_move(page: WritePage, product_id: str, template_id: str, form: Form) -> Response:
    """Move a template up or down the list."""
    current = catalog.get_template(page.session, product_id, template_id)
    step = -1 if form.get("direction") == "up" else 1
    catalog.move_template(page.session, product_id, template_id, max(0, current.position + step))
    return page.redirect(_base(product_id))


@router.post("/products/{product_id}/templates/{template_id}/active")
def template_active(page: WritePage, product_id: str, template_id: str, form: Form) -> Response:
    """Offer the template in the widget, or stop offering it."""
    return _patch(page, product_id, template_id, catalog.TemplatePatch(active=form.get("active") == "1"))


@router.post("/products/{product_id}/templates/{template_id}/delete")
def template_delete(page: WritePage, product_id: str, template_id: str) -> Response:
    """Delete a template (after the confirmation shown by `?delete=<id>`)."""
    catalog.delete_template(page.session, product_id, template_id)
    return page.redirect(_base(product_id) + "?deleted=1")


@router.get("/products/{product_id}/templates/{template_id}/preview.png")
def template_thumbnail(page: ReadPage, product_id: str, template_id: str) -> Response:
    """The template's thumbnail: its design rendered by the real preview pipeline (on the product
    photo when there is one), cached by spec hash; 404 when the product's rules now refuse it."""
    product = catalog.get_product(page.session, product_id)
    template = catalog.get_template(page.session, product.id, template_id)
    result = designs.check_inputs(page.session, product.id, template.inputs)
    if result.spec is None or result.spec_hash is None or not result.ok:
        raise NotFoundError("preview", template_id)
    mockup = product.mockup is not None
    key = (page.brand_id, result.spec_hash, mockup)
    etag = f'"{result.spec_hash[:32]}{int(mockup)}"'
    headers = {"Cache-Control": "private, max-age=3600", "ETag": etag}
    if page.request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    with _THUMBS_LOCK:
        png = _THUMBS.get(key)
    if png is None:
        png = rendering.render_preview_png(
            page.session, result.spec, result.spec_hash, width=THUMB_WIDTH, mockup=mockup
        )
        with _THUMBS_LOCK:
            _THUMBS[key] = png
    return Response(png, media_type="image/png", headers=headers)
