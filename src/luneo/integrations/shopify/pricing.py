"""The add-on pricing published to Shopify (contract: `$app:luneo` / `pricing`, JSON).

Shopify functions read only their owner's metafields, so the same document is set with
`metafieldsSet` on BOTH the CartTransform (the cart transform prices the Personalization
component) and the Validation (the validation knows which products must be personalized).
`publish` makes sure both objects exist (`cartTransformCreate` / `validationCreate` by function
handle, found again through `shopifyFunctions`), that the shop has Luneo's hidden
"Personalization" product (its variant is the priced component), and writes the document only
when it differs from what each owner holds. It runs as the job `shopify.pricing` (retried),
enqueued on install, on every mapping change, on catalog's `catalog.product_changed` of a mapped
product (debounced: `enqueue_debounced`, one job per shop per `DEBOUNCE_S` window) and by the
periodic `shopify.pricing_sweep`, the safety net for anything missed.
"""

from __future__ import annotations

import json
import math
import secrets
import time
from decimal import Decimal
from typing import Any

from babel.numbers import get_currency_precision
from sqlalchemy import select
from sqlalchemy.orm import Session

from luneo.catalog import public as catalog
from luneo.integrations.shopify.graphql import AdminApiError, AdminGraphQL, check_user_errors
from luneo.integrations.shopify.models import ACTIVE, ShopifyIntegration, ShopifyProductMapping
from luneo.platform import jobs
from luneo.platform.config import Settings, get_settings
from luneo.platform.database import Database
from luneo.platform.tenancy import bind_system, bind_tenant

PRICING_ACTOR = "shopify.pricing"
SWEEP_ACTOR = "shopify.pricing_sweep"
SWEEP_EVERY_S = 600
DEBOUNCE_S = 5.0  # changes within this window cost one publish
DEBOUNCE_GRACE_S = 2.0  # run this long after the window closes (its transactions have committed)
NAMESPACE, KEY = "$app:luneo", "pricing"
CART_TRANSFORM_HANDLE = "luneo-cart-transform"
VALIDATION_HANDLE = "luneo-checkout-validation"
PERSONALIZATION_TAG = "luneo-personalization"
PERSONALIZATION_TITLE = "Personalization"

STATE_QUERY = """
query LuneoPricingState {
  shop { currencyCode }
  shopifyFunctions(first: 25) { nodes { id title handle apiType app { title } } }
  cartTransforms(first: 25) {
    nodes { id functionId metafield(namespace: "$app:luneo", key: "pricing") { jsonValue } }
  }
  validations(first: 25) {
    nodes {
      id
      shopifyFunction { id }
      metafield(namespace: "$app:luneo", key: "pricing") { jsonValue }
    }
  }
  personalization: products(first: 1, query: "tag:'luneo-personalization'") {
    nodes { id variants(first: 1) { nodes { id } } }
  }
}
"""

CART_TRANSFORM_CREATE = """
mutation LuneoCartTransformCreate($functionHandle: String!) {
  cartTransformCreate(functionHandle: $functionHandle, blockOnFailure: false) {
    cartTransform { id functionId }
    userErrors { field message }
  }
}
"""

VALIDATION_CREATE = """
mutation LuneoValidationCreate($validation: ValidationCreateInput!) {
  validationCreate(validation: $validation) {
    validation { id }
    userErrors { field message }
  }
}
"""

PRODUCT_CREATE = """
mutation LuneoPersonalizationCreate($product: ProductCreateInput!) {
  productCreate(product: $product) {
    product { id variants(first: 1) { nodes { id } } }
    userErrors { field message }
  }
}
"""

METAFIELDS_SET = """
mutation LuneoPricingSet($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) {
    metafields { id ownerType }
    userErrors { field message }
  }
}
"""


def amount(minor: int, currency: str) -> str:
    """Minor units → the decimal string of the contract, with the currency's precision (Babel)."""
    digits = get_currency_precision(currency.upper())
    value = Decimal(int(minor)).scaleb(-digits)
    return f"{value:.{digits}f}"


def zones_of(product: Any, currency: str) -> dict[str, dict[str, str]]:
    """The priced zones of a Luneo product as the contract writes them (zones without price left out)."""
    out: dict[str, dict[str, str]] = {}
    for zone in product.zones:
        rules = zone.rules or {}
        flat = int(rules.get("price_flat_cents") or 0)
        per_char = int(rules.get("price_per_char_cents") or 0)
        if flat or per_char:
            out[zone.key] = {"flat": amount(flat, currency), "per_char": amount(per_char, currency)}
    return out


def pricing_document(
    session: Session, row: ShopifyIntegration, shop_currency: str, personalization_variant: str
) -> tuple[dict[str, Any], list[str]]:
    """(the pricing document, warnings). A mapped product priced in another currency than the
    shop's is listed without zones (it must be personalized, but no add-on is charged) and warned."""
    rows = session.execute(
        select(ShopifyProductMapping)
        .where(ShopifyProductMapping.integration_id == row.id)
        .order_by(
            ShopifyProductMapping.shopify_product_id,
            ShopifyProductMapping.shopify_variant_id.is_not(None),
            ShopifyProductMapping.external_id,
        )
    ).scalars()
    chosen: dict[str, str] = {}
    for m in rows:
        chosen.setdefault(m.shopify_product_id, m.product_id)  # product-level mapping first
    products = {
        p.id: p
        for p in session.execute(
            select(catalog.Product).where(catalog.Product.id.in_(set(chosen.values())))
        ).scalars()
    }
    warnings: list[str] = []
    doc_products: dict[str, Any] = {}
    for shopify_id, product_id in sorted(chosen.items()):
        product = products.get(product_id)
        if product is None:
            continue
        if product.currency.upper() != shop_currency.upper():
            warnings.append(
                f"{product.name}: priced in {product.currency}, the shop sells in {shop_currency}; "
                "no add-on price is published."
            )
            zones: dict[str, Any] = {}
        else:
            zones = zones_of(product, shop_currency)
        doc_products[f"gid://shopify/Product/{shopify_id}"] = {"luneo_product": product_id, "zones": zones}
    doc = {"v": 1, "personalization_variant": personalization_variant, "products": doc_products}
    return doc, warnings


def _json_value(node: dict[str, Any] | None) -> Any:
    mf = (node or {}).get("metafield") or {}
    value = mf.get("jsonValue")
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def _function_id(state: dict[str, Any], handle: str) -> str | None:
    for fn in (state.get("shopifyFunctions") or {}).get("nodes") or []:
        if fn.get("handle") == handle:
            return str(fn["id"])
    return None


def ensure_personalization_variant(gql: AdminGraphQL, state: dict[str, Any]) -> str:
    """The variant of Luneo's "Personalization" product (created unpublished, priced 0, once)."""
    for node in (state.get("personalization") or {}).get("nodes") or []:
        variants = (node.get("variants") or {}).get("nodes") or []
        if variants:
            return str(variants[0]["id"])
    data = gql.execute(
        PRODUCT_CREATE,
        {
            "product": {
                "title": PERSONALIZATION_TITLE,
                "tags": [PERSONALIZATION_TAG],
                "status": "ACTIVE",
                "productType": "Luneo",
                "vendor": "Luneo",
            }
        },
    )
    made = check_user_errors(data.get("productCreate"), "productCreate")
    variants = ((made.get("product") or {}).get("variants") or {}).get("nodes") or []
    if not variants:
        raise AdminApiError("productCreate returned no variant.")
    return str(variants[0]["id"])


def publish(
    db: Database,
    settings: Settings,
    brand_id: str,
    integration_id: str,
    *,
    gql: AdminGraphQL | None = None,
) -> dict[str, Any]:
    """Ensure the CartTransform, the Validation and the Personalization variant exist, and set
    the pricing document on both function owners when it changed. Idempotent."""
    from luneo.integrations.shopify import sync

    with db.transaction(write=False) as s:
        bind_tenant(s, brand_id)
        row = sync.integration(s, integration_id)
        if row.status != ACTIVE:
            return {"skipped": "not active"}
        gql = gql or sync.client_for(db, settings, row)
    state = gql.execute(STATE_QUERY)
    currency = str((state.get("shop") or {}).get("currencyCode") or "")
    created: list[str] = []

    cart_fn = _function_id(state, CART_TRANSFORM_HANDLE)
    cart = next(
        (
            n
            for n in (state.get("cartTransforms") or {}).get("nodes") or []
            if cart_fn and n.get("functionId") == cart_fn
        ),
        None,
    )
    if cart is None:
        data = gql.execute(CART_TRANSFORM_CREATE, {"functionHandle": CART_TRANSFORM_HANDLE})
        made = check_user_errors(data.get("cartTransformCreate"), "cartTransformCreate")
        cart = {"id": made["cartTransform"]["id"], "metafield": None}
        created.append("cart_transform")

    validation_fn = _function_id(state, VALIDATION_HANDLE)
    validation = next(
        (
            n
            for n in (state.get("validations") or {}).get("nodes") or []
            if validation_fn and (n.get("shopifyFunction") or {}).get("id") == validation_fn
        ),
        None,
    )
    if validation is None:
        data = gql.execute(
            VALIDATION_CREATE,
            {"validation": {"functionHandle": VALIDATION_HANDLE, "enable": True, "blockOnFailure": True}},
        )
        made = check_user_errors(data.get("validationCreate"), "validationCreate")
        validation = {"id": made["validation"]["id"], "metafield": None}
        created.append("validation")

    variant = ensure_personalization_variant(gql, state)
    with db.transaction(write=False) as s:
        bind_tenant(s, brand_id)
        doc, warnings = pricing_document(s, sync.integration(s, integration_id), currency, variant)

    owners = [n for n in (cart, validation) if _json_value(n) != doc]
    if owners:
        value = json.dumps(doc, sort_keys=True, separators=(",", ":"))
        data = gql.execute(
            METAFIELDS_SET,
            {
                "metafields": [
                    {"ownerId": n["id"], "namespace": NAMESPACE, "key": KEY, "type": "json", "value": value}
                    for n in owners
                ]
            },
        )
        check_user_errors(data.get("metafieldsSet"), "metafieldsSet")
    return {
        "cart_transform": cart["id"],
        "validation": validation["id"],
        "personalization_variant": variant,
        "created": created,
        "updated": [n["id"] for n in owners],
        "products": len(doc["products"]),
        "warnings": warnings,
    }


def enqueue_publish(session: Session, row: ShopifyIntegration, *, cause: str) -> None:
    """Publish the pricing of `row` in a job after this transaction commits."""
    jobs.enqueue(
        session,
        PRICING_ACTOR,
        f"shopify:pricing:{row.id}:{secrets.token_hex(8)}",
        {"integration_id": row.id, "cause": cause},
        brand_id=row.brand_id,
    )


def clock() -> float:
    """Wall time in seconds (replaced in tests)."""
    return time.time()


def enqueue_debounced(session: Session, row: ShopifyIntegration, *, cause: str) -> None:
    """Publish the pricing of `row` once for all the changes of the current window.

    The job's key is the window (`DEBOUNCE_S` seconds): every change made in it enqueues the same
    job, which runs `DEBOUNCE_GRACE_S` after the window closes and reads the catalog as committed
    by then. A publish writes only what differs, so a late extra run costs one read."""
    now = clock()
    window = math.floor(now / DEBOUNCE_S)
    delay = (window + 1) * DEBOUNCE_S - now + DEBOUNCE_GRACE_S
    jobs.enqueue(
        session,
        PRICING_ACTOR,
        f"shopify:pricing:{row.id}:w{window}",
        {"integration_id": row.id, "cause": cause},
        brand_id=row.brand_id,
        delay_s=delay,
    )


@jobs.actor(PRICING_ACTOR, time_limit_s=300, max_retries=5)
def publish_job(ctx: jobs.JobContext) -> dict[str, Any]:
    """Job: `publish` for one integration (retried; Shopify throttling waits inside)."""
    assert ctx.brand_id is not None
    return publish(ctx.db, get_settings(), ctx.brand_id, str(ctx.payload["integration_id"]))


@jobs.actor(SWEEP_ACTOR, time_limit_s=120, max_retries=1)
def sweep_job(ctx: jobs.JobContext) -> dict[str, Any]:
    """Periodic: a publish job per active shop (zone prices of mapped products may have changed;
    a publish whose document is unchanged writes nothing)."""
    with ctx.db.transaction() as s:
        bind_system(s)
        rows = list(
            s.execute(select(ShopifyIntegration).where(ShopifyIntegration.status == ACTIVE)).scalars()
        )
        for row in rows:
            enqueue_publish(s, row, cause="sweep")
    return {"integrations": len(rows)}


jobs.register_periodic(SWEEP_ACTOR, SWEEP_EVERY_S)
