"""Shopify orders into production: `orders/create`, `orders/paid`, `orders/cancelled` (issue 15, item 7).

`orders/paid` makes one Luneo order (source `shopify`) with one item per personalized line (a line
whose properties carry `_luneo_snapshot`; other lines are ignored), through commerce's public
`create_order` — the unit price is commerce's (Luneo product price + the snapshot's zone add-ons).
Every line is checked: `_luneo_sig` under the integration's property secret, the snapshot in the
shop's brand with the signed spec_hash, the Shopify product mapped to the snapshot's product, and
the price Shopify charged for the line equal to Luneo's unit price, in the same currency.

- all good → the snapshots are locked and the order is marked paid exactly as Luneo's own checkout
  does (`commerce.mark_paid` → `order.paid` → work orders and pack exports), without Luneo's
  confirmation email (Shopify emails its buyers);
- anything wrong → the order is created but held: it stays `pending` with `payment_status =
  mismatch` (the state commerce already uses for money that needs a human), the reasons are in
  its history and on the `ShopifyOrder` row, and the brand is alerted (`payments.alert`). Nothing
  is produced until someone approves it (`approve_held_order`, the dashboard's "Approve and
  produce": commerce's offline mark-paid transition, audited) or marks it paid through the API;
- a line whose snapshot is not one of the brand's cannot become an item; when no line can, the
  Shopify order is `refused` (recorded, brand alerted), no Luneo order.

Idempotent: a Shopify order is one `ShopifyOrder` row per brand (unique on Shopify's id), locked
while a delivery is handled, so the same order delivered twice (any event ids) makes one order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from luneo.commerce import public as commerce
from luneo.designs import public as designs
from luneo.integrations.shopify import service
from luneo.integrations.shopify.error_codes import ShopifyErrorCode
from luneo.integrations.shopify.models import (
    ORDER_ACCEPTED,
    ORDER_CANCELLED,
    ORDER_CREATED,
    ORDER_REFUSED,
    ORDER_REVIEW,
    ShopifyIntegration,
    ShopifyOrder,
    ShopifyWebhookDelivery,
)
from luneo.manufacturing import public as manufacturing
from luneo.payments import public as payments
from luneo.platform.clock import utcnow
from luneo.platform.config import Settings
from luneo.platform.domain_errors import DomainError, NotFoundError

log = structlog.get_logger("luneo.integrations.shopify.orders")

ORDER_SOURCE = "shopify"
SNAPSHOT_PROP = "_luneo_snapshot"
ALERT_REASON = "shopify_order_review"


def _actor(delivery: ShopifyWebhookDelivery) -> str:
    return f"shopify:{delivery.topic}:{delivery.event_id}"[:64]


def line_properties_of(line: Mapping[str, Any]) -> dict[str, str]:
    """A line's properties as a dict: Shopify sends `[{name, value}]` (a dict is accepted too)."""
    raw = line.get("properties") or []
    out: dict[str, str] = {}
    if isinstance(raw, Mapping):
        items = list(raw.items())
    else:
        items = [(p.get("name"), p.get("value")) for p in raw if isinstance(p, Mapping)]
    for name, value in items:
        if isinstance(name, str) and value is not None:
            out[name] = str(value)
    return out


def personalized_lines(payload: Mapping[str, Any]) -> list[tuple[dict[str, Any], dict[str, str]]]:
    """(line, properties) of the lines that carry `_luneo_snapshot`, in order."""
    out = []
    for line in payload.get("line_items") or []:
        if isinstance(line, dict):
            props = line_properties_of(line)
            if props.get(SNAPSHOT_PROP):
                out.append((line, props))
    return out


def _order_id(payload: Mapping[str, Any]) -> str:
    value = payload.get("id")
    if not isinstance(value, int | str) or not str(value).strip() or len(str(value)) > 40:
        raise DomainError(ShopifyErrorCode.WEBHOOK_INVALID, "The order has no id.")
    return str(value)


def shopify_order(
    session: Session, row: ShopifyIntegration, payload: Mapping[str, Any], *, lock: bool = True
) -> ShopifyOrder:
    """The brand's row for a Shopify order, created on first sight; locked (FOR UPDATE) so that two
    deliveries of the same order are handled one after the other."""
    ext = _order_id(payload)
    stmt = select(ShopifyOrder).where(ShopifyOrder.shopify_order_id == ext)
    found = session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()
    if found is not None:
        return found
    rec = ShopifyOrder(
        brand_id=row.brand_id,
        integration_id=row.id,
        shopify_order_id=ext,
        admin_graphql_api_id=str(payload.get("admin_graphql_api_id") or f"gid://shopify/Order/{ext}")[:100],
        name=str(payload.get("name") or "")[:64],
        status=ORDER_CREATED,
        review_reasons=[],
        lines=[],
        writeback={},
    )
    try:
        with session.begin_nested():
            session.add(rec)
            session.flush()
    except IntegrityError:  # a concurrent delivery created it: wait for its lock
        return session.execute(stmt.with_for_update()).scalar_one()
    return rec


# --------------------------------------------------------------------------- orders/create


def on_order_created(
    session: Session,
    settings: Settings,
    row: ShopifyIntegration,
    delivery: ShopifyWebhookDelivery,
    payload: dict[str, Any],
) -> dict[str, Any]:
    """Recorded only: nothing is produced before `orders/paid`."""
    rec = shopify_order(session, row, payload)
    return {
        "shopify_order_id": rec.shopify_order_id,
        "status": rec.status,
        "personalized_lines": len(personalized_lines(payload)),
    }


# --------------------------------------------------------------------------- orders/paid


@dataclass
class LineCheck:
    """One personalized line and what is wrong with it (empty `reasons`: all good)."""

    line_id: str
    quantity: int
    props: dict[str, str]
    charged: str
    snapshot: Any = None
    reasons: list[str] = field(default_factory=list)


def _charged(line: Mapping[str, Any]) -> str:
    """The unit price Shopify charged for the line, before discounts, in the shop's currency."""
    shop_money = ((line.get("price_set") or {}).get("shop_money") or {}) if isinstance(line, dict) else {}
    return str(shop_money.get("amount") or line.get("price") or "")


def _check_line(
    session: Session, row: ShopifyIntegration, secret: str, line: dict[str, Any], props: dict[str, str]
) -> LineCheck:
    quantity = line.get("quantity")
    check = LineCheck(
        line_id=str(line.get("id") or ""),
        quantity=quantity if isinstance(quantity, int) else 0,
        props=props,
        charged=_charged(line),
    )
    if not 1 <= check.quantity <= commerce.MAX_QUANTITY:
        check.reasons.append("quantity_invalid")
    if not service.verify_properties(secret, props):
        check.reasons.append("signature_invalid")
    snap_id = props.get(SNAPSHOT_PROP, "")
    snap = session.execute(
        select(designs.Snapshot).where(designs.Snapshot.id == snap_id)
    ).scalar_one_or_none()  # the tenant guard: another brand's snapshot is not found
    if snap is None:
        check.reasons.append("snapshot_unknown")
        return check
    check.snapshot = snap
    if snap.spec_hash != props.get("_luneo_spec_hash"):
        check.reasons.append("spec_hash_mismatch")
    product = line.get("product_id")
    variant = line.get("variant_id")
    mapped: str | None = None
    if product is not None:
        try:
            mapped = service.mapping_for(session, row, str(product)).product_id
            if variant is not None:
                mapped = _variant_mapping(session, row, str(product), str(variant)) or mapped
        except NotFoundError:
            mapped = None
    if mapped is None:
        check.reasons.append("product_unmapped")
    elif mapped != snap.product_id:
        check.reasons.append("product_mismatch")
    return check


def _variant_mapping(session: Session, row: ShopifyIntegration, product: str, variant: str) -> str | None:
    from luneo.integrations.shopify.models import ShopifyProductMapping

    found = session.execute(
        select(ShopifyProductMapping).where(
            ShopifyProductMapping.integration_id == row.id,
            ShopifyProductMapping.external_id == f"{product}/{variant}",
        )
    ).scalar_one_or_none()
    return found.product_id if found is not None else None


def _customer(payload: Mapping[str, Any]) -> commerce.Customer:
    customer = payload.get("customer") if isinstance(payload.get("customer"), dict) else {}
    assert isinstance(customer, dict)
    email = str(payload.get("email") or payload.get("contact_email") or customer.get("email") or "")
    name = " ".join(
        str(customer.get(k) or "").strip() for k in ("first_name", "last_name") if customer.get(k)
    )
    return commerce.Customer(email=email[:320], name=name[:200])


def _price_check(checks: list[LineCheck], order: Any, currency: str) -> None:
    """Compare each item's unit price (commerce's) with what Shopify charged for its line."""
    for check, item in zip(checks, order.items, strict=True):
        if currency.upper() != order.currency:
            check.reasons.append("currency_mismatch")
            continue
        try:
            charged = payments.to_minor(check.charged, order.currency)
        except ValueError:
            check.reasons.append("price_unreadable")
            continue
        if charged != item.price_cents:
            check.reasons.append("price_mismatch")


def _reasons(checks: list[LineCheck]) -> list[dict[str, Any]]:
    return [{"line_id": c.line_id, "reasons": list(c.reasons)} for c in checks if c.reasons]


def _alert(
    session: Session, rec: ShopifyOrder, delivery: ShopifyWebhookDelivery, summary: str, **kw: Any
) -> None:
    payments.alert(
        session,
        rec.brand_id,
        ALERT_REASON,
        summary,
        provider="shopify",
        event_id=delivery.event_id,
        action="Check the Shopify order, then mark the Luneo order paid to produce it, or cancel it.",
        **kw,
    )


def on_order_paid(
    session: Session,
    settings: Settings,
    row: ShopifyIntegration,
    delivery: ShopifyWebhookDelivery,
    payload: dict[str, Any],
) -> dict[str, Any]:
    """A paid Shopify order → a Luneo order produced (all checks pass) or held for review."""
    rec = shopify_order(session, row, payload)
    if rec.order_id is not None or rec.status in (ORDER_REFUSED, ORDER_CANCELLED):
        return {"duplicate": True, "order_id": rec.order_id, "status": rec.status}
    rec.paid_at = utcnow()
    lines = personalized_lines(payload)
    if not lines:
        rec.status = ORDER_ACCEPTED
        return {"personalized_lines": 0, "order_id": None, "status": rec.status}
    secret = service.property_secret(settings, row)
    checks = [_check_line(session, row, secret, line, props) for line, props in lines]
    usable = [c for c in checks if c.snapshot is not None and c.quantity > 0]
    refused = [c for c in checks if c not in usable]
    actor = _actor(delivery)
    if not usable:
        return _refuse(session, rec, delivery, checks, "no line has a snapshot of this brand")
    try:
        order = commerce.create_order(
            session,
            row.brand_id,
            [
                commerce.LineRequest(
                    product_id=c.snapshot.product_id,
                    quantity=c.quantity,
                    snapshot_id=c.snapshot.id,
                    metadata={"shopify_line_id": c.line_id},
                )
                for c in usable
            ],
            _customer(payload),
            shipping_address=payload.get("shipping_address")
            if isinstance(payload.get("shipping_address"), dict)
            else None,
            source=ORDER_SOURCE,
            actor=actor,
            metadata={
                "shopify_order_id": rec.shopify_order_id,
                "shopify_order_name": rec.name,
                "shop_domain": row.shop_domain,
            },
        )
    except DomainError as exc:
        for c in usable:
            c.reasons.append(str(exc.code))
        return _refuse(session, rec, delivery, checks, f"Luneo cannot sell these lines: {exc}")
    _price_check(usable, order, str(payload.get("currency") or ""))
    rec.order_id = order.id
    rec.lines = [
        {
            "line_id": c.line_id,
            "order_item_id": item.id,
            "snapshot_id": item.snapshot_id,
            "spec_hash": item.spec_hash,
        }
        for c, item in zip(usable, order.items, strict=True)
    ]
    rec.review_reasons = _reasons(checks)
    if rec.review_reasons:
        rec.status = ORDER_REVIEW
        order.payment_status = "mismatch"
        codes = sorted({code for r in rec.review_reasons for code in r["reasons"]})
        entry = {
            "event": "shopify_review",
            "status": order.status,  # the history lists entries by status: still pending
            "at": utcnow().isoformat(),
            "by": actor,
            "note": "Held for review: " + ", ".join(codes),
        }
        entry["reasons"] = rec.review_reasons  # type: ignore[assignment]
        order.history = [*(order.history or []), entry]
        _alert(
            session,
            rec,
            delivery,
            f"Shopify order {rec.name or rec.shopify_order_id} is held for review (order {order.number}): "
            + "; ".join(f"line {r['line_id']}: {', '.join(r['reasons'])}" for r in rec.review_reasons),
            reference=order.id,
            expected=(order.total_cents, order.currency),
            received=(str(payload.get("total_price") or ""), str(payload.get("currency") or "")),
        )
        log.warning("shopify_order_held", order_id=order.id, reasons=rec.review_reasons)
        return {"order_id": order.id, "status": rec.status, "review": rec.review_reasons}
    for item in order.items:
        if item.snapshot_id:
            designs.lock_snapshot(session, item.snapshot_id, actor)
    commerce.mark_paid(
        session,
        order,
        payment_ref=f"shopify:{rec.shopify_order_id}",
        actor=actor,
        note=f"paid in Shopify ({row.shop_domain} {rec.name})".strip(),
        notify=False,
    )
    rec.status = ORDER_ACCEPTED
    return {"order_id": order.id, "status": rec.status, "items": len(order.items), "refused": len(refused)}


def _refuse(
    session: Session,
    rec: ShopifyOrder,
    delivery: ShopifyWebhookDelivery,
    checks: list[LineCheck],
    why: str,
) -> dict[str, Any]:
    rec.status = ORDER_REFUSED
    rec.review_reasons = _reasons(checks)
    _alert(
        session,
        rec,
        delivery,
        f"Shopify order {rec.name or rec.shopify_order_id} was not turned into a Luneo order: {why}.",
        reference=rec.id,
    )
    log.warning("shopify_order_refused", shopify_order_id=rec.shopify_order_id, reasons=rec.review_reasons)
    return {"order_id": None, "status": rec.status, "review": rec.review_reasons}


# --------------------------------------------------------------------------- review


def held_orders(session: Session, limit: int = 50) -> list[ShopifyOrder]:
    """The brand's Shopify orders held for review (a Luneo order waiting for a human), newest first."""
    return list(
        session.execute(
            select(ShopifyOrder)
            .where(ShopifyOrder.status == ORDER_REVIEW, ShopifyOrder.order_id.is_not(None))
            .order_by(ShopifyOrder.created_at.desc(), ShopifyOrder.id)
            .limit(limit)
        ).scalars()
    )


def held_order(session: Session, order_id: str) -> ShopifyOrder | None:
    """The Shopify order held for review that made the Luneo order `order_id`, if any."""
    return session.execute(
        select(ShopifyOrder).where(ShopifyOrder.order_id == order_id, ShopifyOrder.status == ORDER_REVIEW)
    ).scalar_one_or_none()


def approve_held_order(session: Session, order_id: str, *, actor: str | None, note: str = "") -> Any:
    """A person checked a held Shopify order: its snapshots are locked and the Luneo order is
    marked paid through commerce's offline transition (a `payments` row and the
    `payment.offline_recorded` audit event for its total), which produces it (`order.paid`).
    404 for another brand's order, 409 `shopify_order_not_held` when it is not held."""
    order = commerce.get_order(session, order_id, lock=True)  # tenant-scoped: 404 otherwise
    rec = session.execute(
        select(ShopifyOrder).where(ShopifyOrder.order_id == order.id).with_for_update()
    ).scalar_one_or_none()
    if rec is None:
        raise NotFoundError("shopify order", order_id)
    if rec.status != ORDER_REVIEW or order.status != "pending":
        raise DomainError(
            ShopifyErrorCode.ORDER_NOT_HELD,
            f"Order {order.number} is not held for review any more.",
            shopify_order_status=rec.status,
        )
    who = actor or "dashboard"
    for item in order.items:
        if item.snapshot_id:
            designs.lock_snapshot(session, item.snapshot_id, who)
    text = f"Approved after Shopify review ({rec.name or rec.shopify_order_id})"
    commerce.transition(
        session,
        order.id,
        "paid",
        actor=actor,
        note=f"{text}: {note.strip()}" if note.strip() else text,
        amount=order.total_cents,
        currency=order.currency,
        notify=False,  # Shopify has emailed the buyer already
    )
    rec.status = ORDER_ACCEPTED
    return order


def on_order_paid_elsewhere(session: Session, order_id: str) -> None:
    """The Luneo order of a held Shopify order was marked paid another way (the API): not held."""
    rec = held_order(session, order_id)
    if rec is not None:
        rec.status = ORDER_ACCEPTED


# --------------------------------------------------------------------------- orders/cancelled


def on_order_cancelled(
    session: Session,
    settings: Settings,
    row: ShopifyIntegration,
    delivery: ShopifyWebhookDelivery,
    payload: dict[str, Any],
) -> dict[str, Any]:
    """Cancel the order's work orders not yet done (done ones stay); the Luneo order is cancelled
    when it still can be (pending or paid), else the cancellation is noted in its history."""
    rec = shopify_order(session, row, payload)
    already = rec.status == ORDER_CANCELLED
    rec.status, rec.cancelled_at = ORDER_CANCELLED, rec.cancelled_at or utcnow()
    if rec.order_id is None:
        return {"order_id": None, "status": rec.status, "work_orders_cancelled": []}
    actor = _actor(delivery)
    reason = str(payload.get("cancel_reason") or "")
    note = f"Shopify order cancelled{f' ({reason})' if reason else ''}"
    cancelled = manufacturing.cancel_order(session, rec.order_id, actor, note)
    order = commerce.get_order(session, rec.order_id, lock=True)
    if commerce.can_transition(order.status, "cancelled"):
        commerce.transition(session, order.id, "cancelled", actor=actor, note=note)
    elif not already:
        entry = {
            "event": "shopify_cancelled",
            "status": order.status,
            "at": utcnow().isoformat(),
            "by": actor,
            "note": note,
        }
        order.history = [*(order.history or []), entry]
    kept = [
        wo.id
        for wo in manufacturing.list_work_orders(session, order_id=rec.order_id, limit=200).data
        if wo.status == "done"
    ]
    return {
        "order_id": rec.order_id,
        "status": rec.status,
        "order_status": order.status,
        "work_orders_cancelled": [wo.id for wo in cancelled],
        "work_orders_done": kept,
    }
