"""The Shopify connection page (issue 14 item 6, issue 15 item 8): the shop's status (installed
at, API version, token expiry), its products read from Shopify page by page with a select to map
each to a Luneo product (or unmap it), "sync now" (the pricing published again), the Shopify
orders held for review ("Needs review"), and how to install the app when no shop is connected.
Owners and admins (`integrations:manage`).

A held order is approved from its Luneo order's page ("Approve and produce", included by
`orders/detail.html` from `integrations/_shopify_review.html`): commerce's offline mark-paid
transition, audited, with the permission of manual payments (`payments:offline`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Query
from fastapi.responses import Response
from sqlalchemy import select

from luneo.catalog import public as catalog
from luneo.dashboard.forms import submit
from luneo.dashboard.guard import Page, page_dep
from luneo.dashboard.pages import router
from luneo.integrations.shopify import public as shopify
from luneo.platform.config import get_settings
from luneo.platform.database import get_db
from luneo.platform.domain_errors import DomainError
from luneo.platform.errors import problem_from

ShopifyPage = Annotated[Page, page_dep("integrations:manage")]
ShopifyWrite = Annotated[Page, page_dep("integrations:manage", write=True)]
ApproveWrite = Annotated[Page, page_dep("orders:read", "payments:offline", write=True)]

BASE = "/dashboard/integrations/shopify"
PAGE_MAX_WAIT_S = 2.0

_NOTICES = {
    "mapped": "The mapping was saved. Shopify's checkout gets the new prices in a moment.",
    "unmapped": "The product is no longer personalized with Luneo.",
    "sync": "Sync started: the functions and the add-on prices are being published to Shopify.",
}


def _luneo_products(page: Page) -> list[Any]:
    P = catalog.Product
    return list(
        page.session.execute(
            select(P.id, P.name, P.sku).where(P.status != "archived").order_by(P.name, P.id)
        ).all()
    )


def _shop_products(page: Page, row: Any, after: str | None) -> tuple[Any, str | None]:
    """(one page of the shop's products or None, the error message when Shopify did not answer)."""
    try:
        # a page waits little for Shopify's rate limit: one retry, at most PAGE_MAX_WAIT_S
        gql = shopify.client_for(
            get_db(), get_settings(), row, max_throttle_retries=1, max_wait_s=PAGE_MAX_WAIT_S
        )
        return shopify.list_shop_products(gql, after=after), None
    except DomainError as exc:
        return None, problem_from(exc).detail
    except (shopify.AdminApiError, ConnectionError) as exc:
        return None, page.gettext("Shopify did not answer: %(error)s", error=str(exc))


def _render(page: Page, *, after: str | None = None, status_code: int = 200, **extra: Any) -> Response:
    row = shopify.integration_of_brand(page.session)
    ctx: dict[str, Any] = {"row": row, "notice": None, "error": None, "after": after, "held": []}
    if row is not None:
        ctx["held"] = shopify.held_orders(page.session)
        mapped = shopify.mappings(page.session, row)
        products = _luneo_products(page)
        names = {p.id: p.name for p in products}
        shop_page, load_error = (None, None)
        if row.status == "active":
            shop_page, load_error = _shop_products(page, row, after)
        ctx.update(
            # a product-level mapping wins over its variants' (as the storefront and pricing read it)
            mapped={m.shopify_product_id: m.product_id for m in mapped if m.shopify_variant_id}
            | {m.shopify_product_id: m.product_id for m in mapped if not m.shopify_variant_id},
            mapping_rows=mapped,
            names=names,
            products=products,
            shop_page=shop_page,
            load_error=load_error,
        )
    ctx.update(extra)
    return page.render("integrations/shopify.html", status_code=status_code, **ctx)


@router.get("/integrations/shopify")
def shopify_page(
    page: ShopifyPage,
    after: Annotated[str | None, Query(max_length=200)] = None,
    saved: str | None = None,
) -> Response:
    """The shop's connection and its products with their Luneo mapping."""
    notice = page.gettext(_NOTICES[saved]) if saved in _NOTICES else None
    return _render(page, after=after, notice=notice)


@router.post("/integrations/shopify/{integration_id}/map")
def map_product(
    page: ShopifyWrite,
    integration_id: str,
    shopify_product: Annotated[str, Form(max_length=20, pattern=r"^[0-9]+$")],
    product: Annotated[str, Form(max_length=40)] = "",
    title: Annotated[str, Form(max_length=255)] = "",
) -> Response:
    """Map a Shopify product to a Luneo product (keeping its Shopify title); an empty choice unmaps it."""
    row = shopify.integration(page.session, integration_id)  # 404 for another brand's
    if not product:
        shopify.unmap_shopify_product(page.session, row, shopify_product)
        return page.redirect(f"{BASE}?saved=unmapped")
    return submit(
        page,
        lambda: shopify.map_shopify_product(
            page.session, row, shopify_product, product, title=title.strip() or None
        ),
        then=f"{BASE}?saved=mapped",
        failed=lambda r: _render(page, status_code=r.status, error=r.message),
        statuses=(409, 422),
    )


@router.post("/integrations/shopify/{integration_id}/sync")
def sync_now(page: ShopifyWrite, integration_id: str) -> Response:
    """Publish the functions and the pricing to Shopify again (a job)."""
    row = shopify.integration(page.session, integration_id)
    return submit(
        page,
        lambda: shopify.republish_pricing(page.session, row),
        then=f"{BASE}?saved=sync",
        failed=lambda r: _render(page, status_code=r.status, error=r.message),
    )


@router.post("/integrations/shopify/orders/{order_id}/approve")
def approve_order(
    page: ApproveWrite,
    order_id: str,
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """ "Approve and produce" a Shopify order held for review: the Luneo order is marked paid
    (offline payment of its total, audited) and goes to production; 409 when it is not held."""
    actor = page.principal.actor if page.principal else None
    return submit(
        page,
        lambda: shopify.approve_held_order(page.session, order_id, actor=actor, note=note),
        then=f"/dashboard/orders/{order_id}",
        failed=lambda r: _render(page, status_code=r.status, error=r.message),
        statuses=(409,),
    )
