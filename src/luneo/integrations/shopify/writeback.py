"""Write production back to the Shopify order (issue 15, item 7).

When a work order of a Shopify-origin order is done (`work_order.status_changed`, see `handlers`), a job
(`shopify.writeback`) sets the app-owned order metafield `$app:luneo` / `production` (type
`json`) through Admin GraphQL `metafieldsSet`:

    {"status": "done" | "partially_done" | "in_production",
     "items": [{"line_id", "spec_hash", "status", "pack_url"}]}

`pack_url` is the dashboard's pack link (sign-in required, then a redirect to the signed file),
so it never expires in the Shopify admin. The document is rebuilt from the current state on every
run, so runs are idempotent and the last one wins. A `THROTTLED` answer is retried by a follow-up
job after the wait that Shopify's cost extension documents (`(requestedQueryCost −
currentlyAvailable) / restoreRate` seconds); network and 5xx failures by the job's own retries.
"""

from __future__ import annotations

import json
import math
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from luneo.integrations.shopify import client, service
from luneo.integrations.shopify.error_codes import ShopifyErrorCode
from luneo.integrations.shopify.models import ShopifyIntegration, ShopifyOrder
from luneo.manufacturing import public as manufacturing
from luneo.platform import jobs
from luneo.platform.clock import utcnow
from luneo.platform.config import Settings, get_settings
from luneo.platform.domain_errors import DomainError
from luneo.platform.jobs import JobContext, PermanentJobError, actor

log = structlog.get_logger("luneo.integrations.shopify.writeback")

WRITEBACK_ACTOR = "shopify.writeback"
METAFIELD_NAMESPACE = "$app:luneo"
METAFIELD_KEY = "production"
MAX_THROTTLE_RESCHEDULES = 20
MIN_THROTTLE_WAIT_S = 0.05

METAFIELDS_SET = """
mutation LuneoProduction($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) {
    metafields { id namespace key }
    userErrors { field message code }
  }
}
""".strip()


class Throttled(Exception):
    """Shopify answered THROTTLED: retry after `wait_s` seconds."""

    def __init__(self, wait_s: float) -> None:
        super().__init__(f"throttled, retry in {wait_s:.2f}s")
        self.wait_s = wait_s


class WritebackFailed(Exception):
    """The Admin API refused the request (network, 5xx, auth): the job retries."""


def enqueue_for_work_order(session: Session, payload: dict[str, Any]) -> bool:
    """A work order done → a write-back job when the work order's order came from Shopify."""
    order_id = payload.get("order_id")
    if not order_id:
        return False
    rec = session.execute(
        select(ShopifyOrder).where(ShopifyOrder.order_id == str(order_id))
    ).scalar_one_or_none()
    if rec is None:
        return False
    jobs.enqueue(
        session,
        WRITEBACK_ACTOR,
        f"shopify:writeback:{rec.id}:{payload.get('work_order_id')}",
        {"shopify_order": rec.id},
        brand_id=rec.brand_id,
    )
    return True


def pack_url(settings: Settings, work_order_id: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}/dashboard/production/{work_order_id}/pack"


def production_document(session: Session, settings: Settings, rec: ShopifyOrder) -> dict[str, Any]:
    """The metafield's JSON for the order's current work orders (one entry per Shopify line)."""
    by_item = {
        wo.order_item_id: wo
        for wo in manufacturing.list_work_orders(session, order_id=rec.order_id, limit=200).data
    }
    items = []
    for line in rec.lines or []:
        wo = by_item.get(line.get("order_item_id"))
        items.append(
            {
                "line_id": str(line.get("line_id") or ""),
                "spec_hash": line.get("spec_hash"),
                "status": wo.status if wo is not None else "pending",
                "pack_url": pack_url(settings, wo.id) if wo is not None and wo.pack_key else None,
            }
        )
    statuses = {i["status"] for i in items}
    if items and statuses == {"done"}:
        status = "done"
    elif "done" in statuses:
        status = "partially_done"
    else:
        status = "in_production"
    return {"status": status, "items": items}


def throttle_wait_s(body: dict[str, Any], headers: dict[str, str] | None = None) -> float | None:
    """Seconds to wait before retrying a throttled answer (None: not throttled)."""
    errors = body.get("errors") or []
    codes = {
        str(((e.get("extensions") or {}) if isinstance(e, dict) else {}).get("code") or "") for e in errors
    } | {str(e.get("message") or "") for e in errors if isinstance(e, dict)}
    if "THROTTLED" not in codes and "Throttled" not in codes:
        return None
    cost = (body.get("extensions") or {}).get("cost") or {}
    status = cost.get("throttleStatus") or {}
    try:
        needed = float(cost.get("requestedQueryCost") or 0) - float(status.get("currentlyAvailable") or 0)
        rate = float(status.get("restoreRate") or 0)
        wait = needed / rate if rate > 0 else 1.0
    except (TypeError, ValueError):
        wait = 1.0
    return max(MIN_THROTTLE_WAIT_S, math.ceil(max(0.0, wait) * 1000) / 1000)


def send(
    settings: Settings, shop_domain: str, api_version: str, token: str, doc: dict[str, Any], owner: str
) -> dict[str, Any]:
    """One `metafieldsSet` call; raises `Throttled`, `WritebackFailed` or `PermanentJobError`."""
    variables = {
        "metafields": [
            {
                "ownerId": owner,
                "namespace": METAFIELD_NAMESPACE,
                "key": METAFIELD_KEY,
                "type": "json",
                "value": json.dumps(doc, sort_keys=True),
            }
        ]
    }
    app = client.app_for(settings)
    with client.http_client(settings) as http:
        result = app.admin_graphql_request(
            METAFIELDS_SET,
            shop=shop_domain.removesuffix(".myshopify.com"),
            access_token=token,
            api_version=api_version,
            variables=variables,
            http_client=http,
        )
    if result.ok:
        payload = (result.data or {}).get("metafieldsSet") or {}
        errors = payload.get("userErrors") or []
        if errors:
            raise PermanentJobError(f"metafieldsSet refused: {errors}")
        return {"metafields": payload.get("metafields") or [], "cost": (result.extensions or {}).get("cost")}
    try:
        body = json.loads(result.response.body or "{}")
    except ValueError:
        body = {}
    wait = throttle_wait_s(body if isinstance(body, dict) else {})
    if wait is None and result.response.status == 429:
        try:
            wait = max(MIN_THROTTLE_WAIT_S, float(result.response.headers.get("Retry-After") or 1.0))
        except ValueError:
            wait = 1.0
    if wait is not None:
        raise Throttled(wait)
    if result.response.status in (400, 403) or result.log.code == "graphql_errors":
        raise PermanentJobError(
            f"Admin API refused the write-back: {result.log.code} {result.response.body[:300]}"
        )
    raise WritebackFailed(f"Admin API write-back failed: {result.log.code}")


@actor(WRITEBACK_ACTOR, time_limit_s=60, max_retries=6, backoff_base_s=5.0)
def write_back(ctx: JobContext) -> dict[str, Any]:
    """Write the order's production status and pack links to its Shopify order (metafield)."""
    settings = get_settings()
    with ctx.transaction(write=False) as s:
        rec = s.execute(
            select(ShopifyOrder).where(ShopifyOrder.id == str(ctx.payload["shopify_order"]))
        ).scalar_one_or_none()
        if rec is None or rec.order_id is None:
            raise PermanentJobError(f"no Shopify order {ctx.payload['shopify_order']}")
        row = s.execute(
            select(ShopifyIntegration).where(ShopifyIntegration.id == rec.integration_id)
        ).scalar_one()
        doc = production_document(s, settings, rec)
        owner, brand_id, integration_id = rec.admin_graphql_api_id, rec.brand_id, row.id
        shop, api_version = row.shop_domain, row.api_version
    try:
        token = service.access_token(ctx.db, settings, brand_id, integration_id)
    except DomainError as exc:
        if exc.code == ShopifyErrorCode.TOKEN_EXCHANGE_FAILED:
            raise WritebackFailed(str(exc)) from exc  # Shopify did not answer the refresh: retry
        raise PermanentJobError(f"no Admin API access for {shop}: {exc}") from exc  # uninstalled
    try:
        sent = send(settings, shop, api_version, token, doc, owner)
    except Throttled as exc:
        rounds = int(ctx.payload.get("throttled", 0)) + 1
        if rounds > MAX_THROTTLE_RESCHEDULES:
            raise WritebackFailed(str(exc)) from exc
        with ctx.transaction() as s:
            jobs.enqueue(
                s,
                WRITEBACK_ACTOR,
                f"{ctx.key.split('#')[0]}#t{rounds}",
                {**ctx.payload, "throttled": rounds},
                brand_id=brand_id,
                delay_s=exc.wait_s,
            )
        log.info("shopify_writeback_throttled", shopify_order=owner, retry_in_s=exc.wait_s)
        return {"throttled": True, "retry_in_s": exc.wait_s}
    with ctx.transaction() as s:
        rec = s.execute(
            select(ShopifyOrder).where(ShopifyOrder.id == str(ctx.payload["shopify_order"]))
        ).scalar_one()
        rec.writeback = {"document": doc, "at": utcnow().isoformat(), "job_id": ctx.job_id}
        rec.written_back_at = utcnow()
    return {"written": True, "status": doc["status"], "cost": sent.get("cost")}
