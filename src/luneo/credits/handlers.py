"""Event subscribers of the credits domain (registered when `luneo.credits.models` is imported)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from luneo.credits import service
from luneo.platform.events import subscribe

# A checkout can complete before the money is captured (Stripe delayed methods: "unpaid";
# PayPal: "approved"): those purchases are credited on `payment.succeeded` instead.
PAID_STATUSES = ("paid", "no_payment_required", "succeeded")


def _is_credits(payload: dict[str, Any]) -> bool:
    meta = payload.get("metadata") or {}
    return payload.get("kind") == "credits" or meta.get("kind") == "credits"


@subscribe("payment.checkout_completed")
def on_checkout_completed(session: Session, payload: dict[str, Any]) -> None:
    """A paid credit-pack checkout credits the pack once (ledger reference `purchase:<reference>`)."""
    if _is_credits(payload) and payload.get("payment_status") in PAID_STATUSES:
        service.complete_purchase(session, payload)


@subscribe("payment.succeeded")
def on_payment_succeeded(session: Session, payload: dict[str, Any]) -> None:
    """Same purchase, announced by the capture: the shared reference makes it a no-op if already credited."""
    if _is_credits(payload) and payload.get("payment_status") in PAID_STATUSES:
        service.complete_purchase(session, payload)


@subscribe("payment.refunded")
def on_payment_refunded(session: Session, payload: dict[str, Any]) -> None:
    """A refunded pack purchase takes its credits back (as far as they are unspent)."""
    if _is_credits(payload):
        service.reverse_purchase(session, payload)
