"""Root routes: the widget's JavaScript and a demo storefront page for the demo brand."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from luneo.design.fonts import BUNDLED_FONTS
from luneo.platform.config import get_settings
from luneo.platform.database import get_db
from luneo.platform.errors import Problem
from luneo.platform.tenancy import bind_tenant

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).parent / "static"
LOCALES = frozenset(p.stem for p in (STATIC / "i18n").glob("*.json"))
SAMPLES = frozenset(p.name for p in (STATIC / "samples").glob("*.jpg"))
VENDOR = frozenset(p.name for p in (STATIC / "vendor").glob("*.js"))


@router.get("/widget/luneo-widget.js")
def widget_js() -> Response:
    """The `<luneo-personalizer>` web component (a module script: CORS so any store can load it)."""
    return _module("luneo-widget.js")


def _module(name: str) -> Response:
    return Response(
        (STATIC / name).read_bytes(),
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"},
    )


@router.get("/widget/luneo-photo.js")
def widget_photo_js() -> Response:
    """The widget's photo framing module (crop, zoom, rotate inside the zone; DPI notice)."""
    return _module("luneo-photo.js")


@router.get("/widget/luneo-designs.js")
def widget_designs_js() -> Response:
    """The widget's saved-designs module (save and share link, "My designs", reopen)."""
    return _module("luneo-designs.js")


@router.get("/widget/luneo-3d.js")
def widget_3d_js() -> Response:
    """The widget's 3D view and AR (imported only when the shopper opens 3D)."""
    return _module("luneo-3d.js")


@router.get("/widget/vendor/{name}")
def widget_vendor(name: str) -> Response:
    """A vendored browser module (`<model-viewer>`), its version in its name: cached for a year."""
    if name not in VENDOR:
        raise Problem(404, "not_found", "No such file.")
    return Response(
        (STATIC / "vendor" / name).read_bytes(),
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=31536000, immutable", "Access-Control-Allow-Origin": "*"},
    )


@router.get("/widget/i18n/{locale}.json")
def widget_messages(locale: str) -> Response:
    """The widget's message catalogue for one locale (en, fr, de, es, ar)."""
    if locale not in LOCALES:
        raise Problem(404, "not_found", "No message catalogue for this locale.")
    return Response(
        (STATIC / "i18n" / f"{locale}.json").read_bytes(),
        media_type="application/json",
        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"},
    )


@router.get("/widget/fonts/{font_id}")
def widget_font(font_id: str) -> Response:
    """A bundled font file, for the widget's font picker (each font shown in its own typeface)."""
    font = BUNDLED_FONTS.get(font_id)
    if font is None:
        raise Problem(404, "not_found", "No such bundled font.")
    media = "font/otf" if font.filename.endswith(".otf") else "font/ttf"
    return Response(
        font.path.read_bytes(),
        media_type=media,
        headers={"Cache-Control": "public, max-age=86400", "Access-Control-Allow-Origin": "*"},
    )


@router.get("/widget/samples/{name}")
def widget_sample(name: str) -> Response:
    """The demo brand's sample photo (made by the project), shown before a shopper uploads one."""
    if name not in SAMPLES:
        raise Problem(404, "not_found", "No such sample.")
    return Response(
        (STATIC / "samples" / name).read_bytes(),
        media_type="image/jpeg",
        headers={"Cache-Control": "public, max-age=86400", "Access-Control-Allow-Origin": "*"},
    )


@router.get("/demo", response_class=HTMLResponse)
def demo_page(locale: str | None = None, sku: str | None = None) -> HTMLResponse:
    """A storefront page embedding the widget for every active demo product (`?locale=fr`: the
    widget's language, else the browser's; `?sku=DEMO-MUG`: the product shown first)."""
    path = get_settings().data_dir / "demo-credentials.json"
    if not path.exists():
        return HTMLResponse("<p>No demo brand yet: run <code>luneo seed demo</code>.</p>", status_code=404)
    creds = json.loads(path.read_text())
    from luneo.catalog.public import Product

    with get_db().transaction(write=False) as s:
        bind_tenant(s, creds["brand"]["id"])
        products = s.execute(
            select(Product.id, Product.name, Product.sku)
            .where(Product.status == "active")
            .order_by(Product.sku)
        ).all()
    key = html.escape(creds["publishable_key"])
    skus = {sku_: pid for pid, _name, sku_ in products}
    first_id = skus.get(sku or "") or (products[0][0] if products else "")
    options = "".join(
        f'<option value="{html.escape(pid)}"{" selected" * (pid == first_id)}>{html.escape(name)}</option>'
        for pid, name, _sku in products
    )
    valid_locale = locale and re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?", locale)
    lang = f' locale="{html.escape(locale or "")}"' if valid_locale else ""
    page = (STATIC / "demo.html").read_text()
    page = (
        page.replace("{{KEY}}", key)
        .replace("{{OPTIONS}}", options)
        .replace("{{FIRST}}", html.escape(first_id))
        .replace("{{LOCALE}}", lang)
    )
    return HTMLResponse(page)


@router.get("/favicon.ico")
def favicon() -> Response:
    """No icon: answer 204 so browsers stop asking."""
    return Response(status_code=204, headers={"Cache-Control": "public, max-age=86400"})
