"""Widget and integrations pages (issue 14 item 6): API keys (created — shown once —, revoked),
the brand's allowed origins and widget settings, the embed snippet of a product with a live
preview of the widget, and placeholders for Shopify (issue 15) and outgoing webhooks (issue 17).

The snippet and the preview use one publishable key the dashboard manages ("Dashboard widget
key"): its value is derived from the server secret, so it can be shown again, and it allows the
dashboard's own origin on that key only — the brand's allowed origins are never widened.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form
from fastapi.responses import Response
from sqlalchemy import select

from luneo.catalog import public as catalog
from luneo.dashboard.forms import submit
from luneo.dashboard.guard import Page, page_dep
from luneo.dashboard.pages import router
from luneo.design import pack
from luneo.platform.config import get_settings
from luneo.platform.domain_errors import NotFoundError
from luneo.tenancy import public as tenancy

KeysPage = Annotated[Page, page_dep("keys:manage")]
KeysWrite = Annotated[Page, page_dep("keys:manage", write=True)]
BrandWrite = Annotated[Page, page_dep("brand:manage", write=True)]
BrandRead = Annotated[Page, page_dep("brand:manage")]

#: The brand setting of the production files' name pattern (`PATCH /brand` `settings`).
FILE_NAME_SETTING = "file_name_pattern"
#: The order item the file-name example is made for (as `luneo.design.pack.NameContext`).
EXAMPLE_ITEM = pack.NameContext(order="1042", item=1, sku="MUG-11", text="Zoé", qty=1, product="Mug")

BASE = "/dashboard/integrations"


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]


def _products(page: Page) -> list[Any]:
    """The brand's products that a shopper can see (id, name, sku), by name (one query)."""
    P = catalog.Product
    return list(
        page.session.execute(
            select(P.id, P.name, P.sku).where(P.status != "archived").order_by(P.name, P.id)
        ).all()
    )


def snippet(base: str, pk: str, product: Any) -> str:
    """The HTML a brand pastes into its product page."""
    return (
        f'<script type="module" src="{base}/widget/luneo-widget.js"></script>\n'
        f"<!-- {product.name} (SKU {product.sku}) -->\n"
        f'<luneo-personalizer api-base="{base}" key="{pk}" product="{product.id}"></luneo-personalizer>'
    )


def _tools_on(settings: dict[str, Any]) -> set[str]:
    raw = settings.get("shopper_ai_tools")
    if isinstance(raw, dict):
        return {k for k, v in raw.items() if v is True}
    return {t for t in raw if isinstance(t, str)} if isinstance(raw, list) else set()


def _render(page: Page, status_code: int = 200, *, product: str | None = None, **extra: Any) -> Response:
    """The integrations page with everything on it; `extra` carries form values and errors."""
    settings = get_settings()
    brand = page.session.execute(select(tenancy.Brand).where(tenancy.Brand.id == page.brand_id)).scalar_one()
    keys = tenancy.list_api_keys(page.session)
    products = _products(page)
    chosen = next((p for p in products if p.id == product), products[0] if products else None)
    managed = tenancy.widget_key(page.session, settings)
    base = settings.public_base_url.rstrip("/")
    brand_settings = brand.settings or {}
    ctx: dict[str, Any] = {
        "brand": brand,
        "keys": keys,
        "widget_key_name": tenancy.WIDGET_KEY_NAME,
        "products": products,
        "product": chosen,
        "widget_key": managed[0] if managed else None,
        "snippet": snippet(base, managed[1], chosen) if managed and chosen else None,
        "dashboard_origin": tenancy.dashboard_origin(settings),
        "preview_ready": bool(
            managed and tenancy.dashboard_origin(settings) in (managed[0].allowed_origins or [])
        ),
        "can_brand": page.can("brand:manage"),
        "require_approval": brand_settings.get("require_design_approval") is True,
        "ai_tools": tenancy.SHOPPER_AI_TOOLS,
        "ai_tools_on": _tools_on(brand_settings),
        "ai_daily_limit": brand_settings.get("shopper_ai_daily_limit", 10),
        "created": None,
        "key_form": {"kind": "publishable", "name": "", "origins": "", "error": None},
        "origins_value": "\n".join(brand.allowed_origins or []),
        "origins_error": None,
        "settings_errors": {},
        "file_name_pattern": brand_settings.get(FILE_NAME_SETTING) or "",
        "file_name_error": None,
        "notice": None,
    }
    ctx.update(extra)
    ctx["file_names"] = file_name_example(str(ctx["file_name_pattern"]))
    return page.render("integrations/index.html", status_code=status_code, **ctx)


_NOTICES = {
    "revoked": "The key was revoked: it stops working at once.",
    "origins": "Allowed origins saved.",
    "settings": "Widget settings saved.",
    "file-names": "Production file names saved.",
    "widget-key": "The widget key is ready: the snippet and the live preview use it.",
}


@router.get("/integrations")
def integrations(page: KeysPage, product: str | None = None, saved: str | None = None) -> Response:
    """API keys, allowed origins, widget settings, the embed snippet and its live preview."""
    notice = page.gettext(_NOTICES[saved]) if saved in _NOTICES else None
    return _render(page, product=product, notice=notice)


@router.post("/integrations/keys")
def create_key(
    page: KeysWrite,
    kind: Annotated[str, Form(max_length=12)] = "publishable",
    name: Annotated[str, Form(max_length=200)] = "",
    origins: Annotated[str, Form(max_length=8000)] = "",
) -> Response:
    """Create a key; the page answering this form is the only place its full value appears."""
    form = {"kind": kind, "name": name, "origins": origins, "error": None}
    field = "kind" if kind not in ("publishable", "secret") else "origins"  # what a refusal is about

    def create() -> tuple[Any, str]:
        allowed = tenancy.normalize_origins(_lines(origins)) if kind == "publishable" else []
        return tenancy.create_api_key(
            page.session,
            brand_id=page.brand_id,
            kind=kind,
            name=name.strip(),
            allowed_origins=allowed,
            created_by=page.principal.actor if page.principal else None,
        )

    return submit(
        page,
        create,
        then=lambda made: _render(page, status_code=201, created={"key": made[0], "raw": made[1]}),
        failed=lambda r: _render(
            page, status_code=r.status, key_form={**form, "error": r.message, "error_field": field}
        ),
    )


@router.get("/integrations/keys/{key_id}/revoke")
def confirm_revoke(page: KeysPage, key_id: str) -> Response:
    """Ask before revoking a key (404 for another brand's key)."""
    key = tenancy.api_key(page.session, key_id)
    return page.render("integrations/revoke.html", key=key)


@router.post("/integrations/keys/{key_id}/revoke")
def revoke_key(page: KeysWrite, key_id: str) -> Response:
    """Revoke a key: it stops working at once."""
    tenancy.api_key(page.session, key_id)
    tenancy.revoke_api_key(page.session, key_id, page.principal.actor if page.principal else None)
    return page.redirect(f"{BASE}?saved=revoked")


@router.post("/integrations/widget-key")
def widget_key(page: KeysWrite, product: Annotated[str, Form(max_length=40)] = "") -> Response:
    """Create (or bring up to date) the publishable key the snippet and the preview use."""
    actor = page.principal.actor if page.principal else "dashboard"
    tenancy.ensure_widget_key(page.session, get_settings(), page.brand_id, actor)
    query = f"&product={product}" if product.startswith("prd_") and product.isascii() else ""
    return page.redirect(f"{BASE}?saved=widget-key{query}#snippet")


@router.post("/integrations/origins")
def save_origins(page: BrandWrite, origins: Annotated[str, Form(max_length=20000)] = "") -> Response:
    """Replace the brand's allowed origins (each checked: scheme + host[:port], https unless local)."""
    actor = page.principal.actor  # type: ignore[union-attr]
    return submit(
        page,
        lambda: tenancy.set_allowed_origins(page.session, page.brand_id, _lines(origins), actor),
        then=f"{BASE}?saved=origins#origins",
        failed=lambda r: _render(page, status_code=r.status, origins_value=origins, origins_error=r.message),
    )


@router.post("/integrations/settings")
def save_settings(
    page: BrandWrite,
    require_design_approval: Annotated[str | None, Form(max_length=8)] = None,
    shopper_ai_tools: Annotated[list[str] | None, Form()] = None,
    shopper_ai_daily_limit: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Save the widget settings of the brand (validated as `PATCH /brand` validates them)."""
    changes: dict[str, Any] = {"require_design_approval": require_design_approval == "on"}
    posted = {  # a refused form shows what was sent, next to the message
        "require_approval": changes["require_design_approval"],
        "ai_tools_on": set(shopper_ai_tools or []),
        "ai_daily_limit": shopper_ai_daily_limit,
    }
    if tenancy.SHOPPER_AI_TOOLS:
        changes["shopper_ai_tools"] = [t for t in (shopper_ai_tools or []) if isinstance(t, str)][:10]
        limit = shopper_ai_daily_limit.strip()
        if limit:
            if not limit.isdigit():
                error = page.gettext("The daily limit is a whole number from 0 to 1000.")
                return _render(
                    page, status_code=422, settings_errors={"shopper_ai_daily_limit": error}, **posted
                )
            changes["shopper_ai_daily_limit"] = int(limit)
    actor = page.principal.actor  # type: ignore[union-attr]
    return submit(
        page,
        lambda: tenancy.update_settings(page.session, page.brand_id, changes, actor),
        then=f"{BASE}?saved=settings#widget-settings",
        failed=lambda r: _render(
            page, status_code=r.status, settings_errors=_settings_errors(r.message), **posted
        ),
    )


SETTINGS_FIELDS = ("shopper_ai_tools", "shopper_ai_daily_limit")


def _settings_errors(message: str) -> dict[str, str]:
    """The settings validator's message (`field: …; field: …`) by the form field each part is
    about; a part naming no field goes next to the approval choice."""
    errors: dict[str, str] = {}
    for part in (p.strip() for p in message.split("; ") if p.strip()):
        name = next((f for f in SETTINGS_FIELDS if part.startswith(f)), "require_design_approval")
        errors[name] = f"{errors[name]} {part}" if name in errors else part
    return errors


@router.get("/integrations/preview")
def preview(page: KeysPage, product: str) -> Response:
    """The small page the live preview frames: the widget for `product` with the widget key."""
    P = catalog.Product
    row = page.session.execute(select(P.id, P.name, P.sku).where(P.id == product)).first()
    if row is None:
        raise NotFoundError("product", product)
    settings = get_settings()
    managed = tenancy.widget_key(page.session, settings)
    response = page.render(
        "integrations/preview.html",
        product=row,
        pk=managed[1] if managed else None,
        api_base=settings.public_base_url.rstrip("/"),
    )
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


def file_name_example(pattern: str) -> dict[str, Any]:
    """The production files' names for `EXAMPLE_ITEM` under `pattern` (empty: today's names), or
    the pattern's error as `PATCH /brand` states it."""
    try:
        names = pack.pack_file_names(pattern.strip() or None, EXAMPLE_ITEM, ("pdf", "svg", "cmyk-pdf"))
    except pack.PatternError as exc:
        return {"names": [], "error": str(exc)}
    return {"names": names, "error": None}


@router.get("/integrations/file-name-example")
def file_name_example_partial(page: BrandRead, file_name_pattern: str = "") -> Response:
    """The live example under the file-name field (HTMX, as the brand types)."""
    return page.render(
        "integrations/_file_names.html",
        file_names=file_name_example(file_name_pattern[:400]),
        file_name_error=None,
    )


@router.post("/integrations/file-names")
def save_file_names(
    page: BrandWrite, file_name_pattern: Annotated[str, Form(max_length=400)] = ""
) -> Response:
    """Save the production files' name pattern (`file_name_pattern`, validated as `PATCH /brand`
    validates it; empty: the default names)."""
    value = file_name_pattern.strip()
    actor = page.principal.actor  # type: ignore[union-attr]
    return submit(
        page,
        lambda: tenancy.update_settings(
            page.session, page.brand_id, {FILE_NAME_SETTING: value or None}, actor
        ),
        then=f"{BASE}?saved=file-names#file-names",
        failed=lambda r: _render(
            page, status_code=r.status, file_name_pattern=value, file_name_error=r.message
        ),
    )
