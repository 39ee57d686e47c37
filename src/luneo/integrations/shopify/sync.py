"""Product sync (issue 15 item 8) and the shop's setup after install.

- `list_shop_products`: one page of the shop's products (Admin GraphQL, cost-aware) for the
  dashboard's mapping table; Luneo's own hidden "Personalization" product is left out.
- `map_shopify_product` / `unmap_shopify_product`: the dashboard's mapping changes; each one
  republishes the pricing document (`pricing.enqueue_publish`).
- webhooks `products/update` (the mapping stays; variant mappings of deleted variants go) and
  `products/delete` (the mappings go; the Luneo product and its data stay).
- on `shopify.shop_installed`: the job `shopify.setup` adds the shop's storefront origins
  (`https://{shop}.myshopify.com` and the primary domain) to the brand's allowed origins, so the
  widget's publishable key works on the storefront, then publishes the pricing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from luneo.catalog import public as catalog
from luneo.integrations.shopify import events, pricing, service
from luneo.integrations.shopify.error_codes import ShopifyErrorCode
from luneo.integrations.shopify.graphql import AdminGraphQL
from luneo.integrations.shopify.models import (
    ACTIVE,
    ShopifyIntegration,
    ShopifyProductMapping,
    ShopifyWebhookDelivery,
)
from luneo.platform import jobs
from luneo.platform.config import Settings, get_settings
from luneo.platform.database import Database
from luneo.platform.domain_errors import DomainError, NotFoundError
from luneo.platform.events import subscribe
from luneo.platform.ids import new_id
from luneo.platform.tenancy import bind_tenant
from luneo.tenancy import public as tenancy

SETUP_ACTOR = "shopify.setup"
PAGE_SIZE = 50
PRODUCT_GID = "gid://shopify/Product/"
VARIANT_GID = "gid://shopify/ProductVariant/"

PRODUCTS_QUERY = """
query LuneoProductsPage($first: Int!, $after: String) {
  products(first: $first, after: $after, sortKey: TITLE) {
    nodes {
      id
      title
      handle
      status
      tags
      featuredImage { url altText }
      variants(first: 50) { nodes { id title sku } }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""

SHOP_QUERY = """
query LuneoShop {
  shop { name myshopifyDomain currencyCode primaryDomain { url host } }
}
"""


def numeric_id(gid: str | int) -> str:
    """`gid://shopify/Product/123` (or 123) → `123`."""
    return str(gid).rsplit("/", 1)[-1]


@dataclass(frozen=True)
class ShopVariant:
    id: str  # numeric
    title: str
    sku: str


@dataclass(frozen=True)
class ShopProduct:
    """A product of the shop as the dashboard lists it (`id` numeric, like the mappings)."""

    id: str
    gid: str
    title: str
    handle: str
    status: str
    image_url: str | None
    image_alt: str
    variants: list[ShopVariant] = field(default_factory=list)


@dataclass(frozen=True)
class ShopProductsPage:
    products: list[ShopProduct]
    next_cursor: str | None


def client_for(
    db: Database,
    settings: Settings,
    row: ShopifyIntegration,
    *,
    sleep: Callable[[float], None] | None = None,
    max_throttle_retries: int | None = None,
    max_wait_s: float | None = None,
) -> AdminGraphQL:
    """The Admin GraphQL client of an integration (its token refreshed when it is due)."""
    if row.status != ACTIVE:
        raise DomainError(ShopifyErrorCode.REINSTALL_REQUIRED, "Open the Luneo app in Shopify again.")
    brand_id, integration_id = row.brand_id, row.id

    def token() -> str:
        return service.access_token(db, settings, brand_id, integration_id)

    kwargs: dict[str, Any] = {"api_version": row.api_version or settings.shopify_api_version}
    if sleep is not None:
        kwargs["sleep"] = sleep
    if max_throttle_retries is not None:
        kwargs["max_throttle_retries"] = max_throttle_retries
    if max_wait_s is not None:
        kwargs["max_wait_s"] = max_wait_s
    return AdminGraphQL(settings, row.shop_domain, token, **kwargs)


def _product(node: dict[str, Any]) -> ShopProduct:
    image = node.get("featuredImage") or {}
    return ShopProduct(
        id=numeric_id(node["id"]),
        gid=str(node["id"]),
        title=str(node.get("title") or ""),
        handle=str(node.get("handle") or ""),
        status=str(node.get("status") or ""),
        image_url=image.get("url"),
        image_alt=str(image.get("altText") or ""),
        variants=[
            ShopVariant(numeric_id(v["id"]), str(v.get("title") or ""), str(v.get("sku") or ""))
            for v in ((node.get("variants") or {}).get("nodes") or [])
        ],
    )


def list_shop_products(
    gql: AdminGraphQL, *, after: str | None = None, first: int = PAGE_SIZE
) -> ShopProductsPage:
    """One page of the shop's products, by title (Luneo's Personalization product left out)."""
    data = gql.execute(PRODUCTS_QUERY, {"first": max(1, min(first, 250)), "after": after})
    conn = data.get("products") or {}
    nodes = [n for n in conn.get("nodes") or [] if pricing.PERSONALIZATION_TAG not in (n.get("tags") or [])]
    info = conn.get("pageInfo") or {}
    return ShopProductsPage(
        [_product(n) for n in nodes], info.get("endCursor") if info.get("hasNextPage") else None
    )


def all_shop_products(gql: AdminGraphQL, *, limit_pages: int = 100) -> list[ShopProduct]:
    """Every product of the shop, page after page (each page waits for the cost budget)."""
    out: list[ShopProduct] = []
    cursor: str | None = None
    for _ in range(limit_pages):
        page = list_shop_products(gql, after=cursor)
        out.extend(page.products)
        cursor = page.next_cursor
        if cursor is None:
            break
    return out


# --------------------------------------------------------------------------- mappings (dashboard)


def integration_of_brand(session: Session) -> ShopifyIntegration | None:
    """The session brand's Shopify integration (the most recent), or None."""
    return (
        session.execute(select(ShopifyIntegration).order_by(ShopifyIntegration.installed_at.desc()))
        .scalars()
        .first()
    )


def integration(session: Session, integration_id: str) -> ShopifyIntegration:
    """An integration of the session's brand; another brand's id is a 404 like a missing one."""
    row = session.execute(
        select(ShopifyIntegration).where(ShopifyIntegration.id == integration_id)
    ).scalar_one_or_none()
    if row is None:
        raise NotFoundError("integration", integration_id)
    return row


def mappings(session: Session, row: ShopifyIntegration) -> list[ShopifyProductMapping]:
    return list(
        session.execute(
            select(ShopifyProductMapping)
            .where(ShopifyProductMapping.integration_id == row.id)
            .order_by(ShopifyProductMapping.external_id)
        ).scalars()
    )


def map_shopify_product(
    session: Session,
    row: ShopifyIntegration,
    shopify_product_id: str,
    product_id: str,
    *,
    title: str | None = None,
) -> ShopifyProductMapping:
    """Map a Shopify product to a Luneo product of the brand (404 for another brand's product),
    keeping the Shopify product's `title` when given, then republish the pricing."""
    if not shopify_product_id.isdigit() or len(shopify_product_id) > 20:
        raise NotFoundError("shopify product", shopify_product_id)
    catalog.get_product(session, product_id)  # tenant-scoped: 404 for another brand's
    mapping = service.map_product(session, row, shopify_product_id, product_id, title=title)
    pricing.enqueue_publish(session, row, cause="mapping")
    return mapping


def unmap_shopify_product(session: Session, row: ShopifyIntegration, shopify_product_id: str) -> int:
    """Remove a Shopify product's mappings (the Luneo product stays), then republish the pricing."""
    res = session.execute(
        delete(ShopifyProductMapping).where(
            ShopifyProductMapping.integration_id == row.id,
            ShopifyProductMapping.shopify_product_id == shopify_product_id,
        )
    )
    removed = int(res.rowcount or 0)  # type: ignore[attr-defined]
    if removed:
        pricing.enqueue_publish(session, row, cause="unmapping")
    return removed


def republish_pricing(session: Session, row: ShopifyIntegration) -> None:
    """ "Sync now": publish the pricing (and register the functions) again, in a job."""
    if row.status != ACTIVE:
        raise DomainError(ShopifyErrorCode.REINSTALL_REQUIRED, "Open the Luneo app in Shopify again.")
    pricing.enqueue_publish(session, row, cause="manual")


# --------------------------------------------------------------------------- webhooks


def on_product_update(
    session: Session,
    settings: Settings,
    row: ShopifyIntegration,
    delivery: ShopifyWebhookDelivery,
    payload: dict[str, Any],
) -> dict[str, Any]:
    """`products/update`: the mapping stays (with the product's new title); mappings of variants
    the product no longer has go."""
    pid = numeric_id(payload.get("id") or "")
    found = list(
        session.execute(
            select(ShopifyProductMapping).where(
                ShopifyProductMapping.integration_id == row.id,
                ShopifyProductMapping.shopify_product_id == pid,
            )
        ).scalars()
    )
    if not found:
        return {"mapped": False, "product": pid}
    title = payload.get("title")
    if isinstance(title, str) and title.strip():
        for m in found:
            m.title = title.strip()[:255]
    variants = payload.get("variants")
    removed: list[str] = []
    if isinstance(variants, list):
        live = {numeric_id(v.get("id") or "") for v in variants if isinstance(v, dict)}
        for m in found:
            if m.shopify_variant_id and m.shopify_variant_id not in live:
                removed.append(m.external_id)
                session.delete(m)
    if removed:
        session.flush()
        pricing.enqueue_publish(session, row, cause=f"delivery:{delivery.id}")
    return {
        "mapped": True,
        "product": pid,
        "title": str(payload.get("title") or ""),
        "variant_mappings_removed": removed,
    }


def on_product_delete(
    session: Session,
    settings: Settings,
    row: ShopifyIntegration,
    delivery: ShopifyWebhookDelivery,
    payload: dict[str, Any],
) -> dict[str, Any]:
    """`products/delete`: the product's mappings go; the Luneo product and its data stay. The
    pricing is published again either way: the deleted product may be Luneo's Personalization
    product, which the publication then creates again (an unchanged document writes nothing)."""
    pid = numeric_id(payload.get("id") or "")
    res = session.execute(
        delete(ShopifyProductMapping).where(
            ShopifyProductMapping.integration_id == row.id, ShopifyProductMapping.shopify_product_id == pid
        )
    )
    removed = int(res.rowcount or 0)  # type: ignore[attr-defined]
    pricing.enqueue_publish(session, row, cause=f"delivery:{delivery.id}")
    return {"product": pid, "mappings_removed": removed}


HANDLERS = {"products/update": on_product_update, "products/delete": on_product_delete}


# --------------------------------------------------------------------------- setup after install


def storefront_origins(shop_domain: str, primary_url: str | None) -> list[str]:
    """The storefront's origins: the myshopify domain and the primary domain (when it is https)."""
    out = [f"https://{shop_domain}"]
    if primary_url:
        # a primary domain that is not a valid https origin is not added
        with contextlib.suppress(DomainError):
            out.append(tenancy.normalize_origin(primary_url.rstrip("/")))
    return list(dict.fromkeys(out))


def add_storefront_origins(session: Session, brand_id: str, origins: list[str]) -> list[str]:
    """Add `origins` to the brand's allowed origins (tenancy's public API); returns those added."""
    brand = session.execute(select(tenancy.Brand).where(tenancy.Brand.id == brand_id)).scalar_one()
    current = list(brand.allowed_origins or [])
    added = [o for o in origins if o not in current]
    if added:
        tenancy.set_allowed_origins(session, brand_id, current + added, "shopify")
    return added


def setup_shop(
    db: Database, settings: Settings, brand_id: str, integration_id: str, gql: AdminGraphQL | None = None
) -> dict[str, Any]:
    """After install: the storefront origins allowed, then the pricing published."""
    with db.transaction(write=False) as s:
        bind_tenant(s, brand_id)
        row = integration(s, integration_id)
        if row.status != ACTIVE:
            return {"skipped": "not active"}
        gql = gql or client_for(db, settings, row)
        domain = row.shop_domain
    shop = (gql.execute(SHOP_QUERY).get("shop")) or {}
    origins = storefront_origins(domain, (shop.get("primaryDomain") or {}).get("url"))
    added: list[str] = []
    origins_error = None
    try:
        with db.transaction() as s:
            bind_tenant(s, brand_id)
            added = add_storefront_origins(s, brand_id, origins)
    except DomainError as exc:  # e.g. the brand already has the most origins allowed
        origins_error = str(exc)  # the pricing is still published; the brand edits its origins
    published = pricing.publish(db, settings, brand_id, integration_id, gql=gql)
    return {"origins_added": added, "origins_error": origins_error, "pricing": published}


@subscribe(events.SHOP_INSTALLED)
def _on_installed(session: Session, payload: dict[str, Any]) -> None:
    jobs.enqueue(
        session,
        SETUP_ACTOR,
        f"shopify:setup:{payload['integration_id']}:{new_id('run')}",
        {"integration_id": payload["integration_id"]},
        brand_id=payload["brand_id"],
    )


@jobs.actor(SETUP_ACTOR, time_limit_s=300, max_retries=5)
def setup_job(ctx: jobs.JobContext) -> dict[str, Any]:
    """Job: `setup_shop` for the installed integration (retried)."""
    assert ctx.brand_id is not None
    return setup_shop(ctx.db, get_settings(), ctx.brand_id, str(ctx.payload["integration_id"]))
