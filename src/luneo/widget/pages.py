"""Root routes: the widget's JavaScript and a demo storefront page for the demo brand."""

from __future__ import annotations

import html
import json
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from luneo.platform.config import get_settings
from luneo.platform.database import get_db
from luneo.platform.tenancy import bind_tenant

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).parent / "static"


@router.get("/widget/luneo-widget.js")
def widget_js() -> Response:
    """The `<luneo-personalizer>` web component."""
    return Response(
        (STATIC / "luneo-widget.js").read_bytes(),
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.get("/demo", response_class=HTMLResponse)
def demo_page() -> HTMLResponse:
    """A storefront page embedding the widget for every active demo product."""
    path = get_settings().data_dir / "demo-credentials.json"
    if not path.exists():
        return HTMLResponse("<p>No demo brand yet: run <code>luneo seed demo</code>.</p>", status_code=404)
    creds = json.loads(path.read_text())
    from luneo.catalog.public import Product

    with get_db().transaction(write=False) as s:
        bind_tenant(s, creds["brand"]["id"])
        products = s.execute(
            select(Product.id, Product.name).where(Product.status == "active").order_by(Product.sku)
        ).all()
    key = html.escape(creds["publishable_key"])
    options = "".join(
        f'<option value="{html.escape(pid)}">{html.escape(name)}</option>' for pid, name in products
    )
    first = html.escape(products[0][0]) if products else ""
    page = (STATIC / "demo.html").read_text()
    page = page.replace("{{KEY}}", key).replace("{{OPTIONS}}", options).replace("{{FIRST}}", first)
    return HTMLResponse(page)


@router.get("/favicon.ico")
def favicon() -> Response:
    """No icon: answer 204 so browsers stop asking."""
    return Response(status_code=204, headers={"Cache-Control": "public, max-age=86400"})
