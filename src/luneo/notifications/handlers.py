"""Event subscribers: domain events → emails in the outbox.

- `credits.low_balance` (published by credits once per crossing of the threshold, not on every
  debit below it) → the `low_credits` email to the brand's production email, else to its owners
  and admins. An email problem is logged and never rolls back the debit that crossed.
"""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from luneo.notifications.service import queue_email
from luneo.platform.events import subscribe
from luneo.tenancy.public import Brand, Membership, User

log = structlog.get_logger("luneo.notifications")

BILLING_ROLES = ("owner", "admin")


def low_balance_recipients(session: Session, brand_id: str) -> list[str]:
    """The brand's production email, else its owners' and admins' emails."""
    brand = session.execute(select(Brand).where(Brand.id == brand_id)).scalar_one_or_none()
    if brand is not None and brand.production_email:
        return [brand.production_email]
    rows = session.execute(
        select(User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.brand_id == brand_id,
            Membership.role.in_(BILLING_ROLES),
            User.is_active,
            User.email.not_like("%.invalid"),  # an IdP placeholder, not a mailbox
        )
        .order_by(User.email)
    )
    return list(dict.fromkeys(rows.scalars()))


@subscribe("credits.low_balance")
def on_low_balance(session: Session, payload: dict[str, Any]) -> None:
    """Queue one `low_credits` email per recipient, each in a savepoint of the debit's transaction."""
    brand_id = str(payload["brand_id"])
    brand = session.execute(select(Brand).where(Brand.id == brand_id)).scalar_one_or_none()
    context = {
        "brand_name": brand.name if brand else "",
        "balance": payload["balance"],
        "last_topup": payload["last_topup"],
        "threshold": payload["threshold"],
        "buy_url": payload["buy_url"],
    }
    for to in low_balance_recipients(session, brand_id):
        try:
            with session.begin_nested():  # an email problem must never fail the debit
                queue_email(session, brand_id, to, "low_credits", context)
        except Exception as exc:
            log.warning("low_credits_email_failed", brand_id=brand_id, to=to, error=str(exc))
