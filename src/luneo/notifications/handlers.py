"""Event subscribers: domain events → emails in the outbox.

- `credits.low_balance` (published by credits once per crossing of the threshold, not on every
  debit below it) → the `low_credits` email to the brand's production email, else to its owners
  and admins. An email problem is logged and never rolls back the debit that crossed.
- `render.ready` (published by rendering when a final render succeeds) → the `render_ready` email,
  with the image and file links, to the person who asked for it (a dashboard user), else — asked
  by the brand's servers through an API key — to the brand's production email; a widget shopper
  has no address on file, so nothing is sent then. Never fails the render's transaction.
"""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from luneo.notifications.service import queue_email
from luneo.platform.events import subscribe
from luneo.tenancy.public import Brand, Membership, User

#: The signed links of `render.ready` live this long (rendering's `READY_URL_TTL_S`).
READY_LINK_DAYS = 7
#: Outputs shown as the image (first found), the others are listed as files.
IMAGE_OUTPUTS = ("png", "webp", "thumbnail")

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


def render_ready_recipient(session: Session, brand_id: str, requested_by: str | None) -> str | None:
    """The user who asked for the render when it was one, else the brand's production email."""
    if requested_by and requested_by.startswith("usr_"):
        user = session.execute(select(User).where(User.id == requested_by)).scalar_one_or_none()
        if user is not None and user.is_active and not user.email.endswith(".invalid"):
            return user.email
        return None
    if requested_by:  # an API key: the brand's systems asked
        brand = session.execute(select(Brand).where(Brand.id == brand_id)).scalar_one_or_none()
        return brand.production_email if brand is not None and brand.production_email else None
    return None


def render_ready_context(payload: dict[str, Any]) -> dict[str, Any]:
    """The `render_ready` email's context from a `render.ready` payload (signed output URLs)."""
    outputs: dict[str, str] = dict(payload.get("outputs") or {})
    image = next((outputs[k] for k in IMAGE_OUTPUTS if k in outputs), None)
    files = [{"name": name, "url": url} for name, url in sorted(outputs.items()) if name not in IMAGE_OUTPUTS]
    return {
        "render_id": payload.get("render_id"),
        "image_url": image,
        "files": files,
        "product_name": payload.get("product_name"),
        "link_days": READY_LINK_DAYS,
    }


@subscribe("render.ready")
def on_render_ready(session: Session, payload: dict[str, Any]) -> None:
    """Queue the `render_ready` email in a savepoint of the render's transaction."""
    from luneo.rendering.public import render_requester

    brand_id = str(payload["brand_id"])
    try:
        with session.begin_nested():  # an email problem must never fail the render
            to = render_ready_recipient(
                session, brand_id, render_requester(session, str(payload["render_id"]))
            )
            if to is not None:
                queue_email(session, brand_id, to, "render_ready", render_ready_context(payload))
    except Exception as exc:
        log.warning("render_ready_email_failed", brand_id=brand_id, error=str(exc))
