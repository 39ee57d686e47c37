"""Event subscribers of the billing domain (registered when `luneo.billing.models` is imported).

Published by payments (mapping Stripe): `billing.subscription_updated` (customer.subscription.created
and .updated), `billing.subscription_deleted` (customer.subscription.deleted), `billing.invoice_paid`
(invoice.paid), each with `{provider, event_id, brand_id, subscription_id, plan, status,
period_start, period_end, invoice_id}` (+ optional `customer_id`, `cancel_at_period_end`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from luneo.billing import service
from luneo.platform.events import subscribe


@subscribe("brand.created")
def on_brand_created(session: Session, payload: dict[str, Any]) -> None:
    service.grant_signup(session, payload["brand_id"])


@subscribe("billing.subscription_created")
@subscribe("billing.subscription_updated")
def on_subscription_updated(session: Session, payload: dict[str, Any]) -> None:
    service.apply_subscription(session, payload)


@subscribe("billing.subscription_deleted")
def on_subscription_deleted(session: Session, payload: dict[str, Any]) -> None:
    service.apply_subscription(session, payload, deleted=True)


@subscribe("billing.invoice_paid")
def on_invoice_paid(session: Session, payload: dict[str, Any]) -> None:
    service.invoice_paid(session, payload)


@subscribe("payment.checkout_completed")
def on_checkout_completed(session: Session, payload: dict[str, Any]) -> None:
    meta = payload.get("metadata") or {}
    if payload.get("kind") == "subscription" or meta.get("kind") == "subscription":
        service.activate_from_checkout(session, payload)
