"""Coupons: lookup, validity checks and the atomic usage claim.

Usage is counted **when the order is created** (not on payment): one conditional
`UPDATE coupons SET times_used = times_used + 1 WHERE id = … AND (usage_limit IS NULL OR
times_used < usage_limit)` claims a use atomically, so concurrent orders can never exceed
the limit. Cancelling a pending or paid order gives the use back (`release`); refunds do not.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from luneo.commerce.error_codes import CommerceErrorCode
from luneo.commerce.models import Coupon
from luneo.commerce.pricing import Discount
from luneo.platform.clock import as_utc, utcnow
from luneo.platform.domain_errors import DomainError


def normalize_code(code: str) -> str:
    return code.strip().upper()


def find(session: Session, code: str) -> Coupon | None:
    return session.execute(select(Coupon).where(Coupon.code == normalize_code(code))).scalar_one_or_none()


def check(coupon: Coupon | None, code: str, currency: str, now: datetime | None = None) -> Coupon:
    """The coupon if it can be used now for `currency`; a 422 problem with the reason otherwise."""
    now = now or utcnow()
    if coupon is None or not coupon.active:
        raise DomainError(
            CommerceErrorCode.COUPON_INVALID,
            f"The coupon {code!r} does not exist or is disabled.",
            reason="unknown",
        )
    if coupon.valid_until is not None and now >= as_utc(coupon.valid_until):
        until = as_utc(coupon.valid_until).isoformat()
        raise DomainError(
            CommerceErrorCode.COUPON_EXPIRED,
            f"The coupon {coupon.code} expired on {until}.",
            reason="expired",
            valid_until=until,
        )
    if coupon.valid_from is not None and now < as_utc(coupon.valid_from):
        start = as_utc(coupon.valid_from).isoformat()
        raise DomainError(
            CommerceErrorCode.COUPON_NOT_YET_VALID,
            f"The coupon {coupon.code} is valid from {start}.",
            reason="not_yet_valid",
            valid_from=start,
        )
    if coupon.usage_limit is not None and coupon.times_used >= coupon.usage_limit:
        raise DomainError(
            CommerceErrorCode.COUPON_USED_UP,
            f"The coupon {coupon.code} has been used the maximum number of times.",
            reason="used_up",
        )
    if coupon.kind == "fixed" and coupon.currency and coupon.currency != currency:
        raise DomainError(
            CommerceErrorCode.COUPON_CURRENCY_MISMATCH,
            f"The coupon {coupon.code} is in {coupon.currency}; the order is in {currency}.",
            reason="currency",
        )
    return coupon


def discount_of(coupon: Coupon) -> Discount:
    if coupon.kind == "percent":
        return Discount(percent_bps=coupon.percent_off_bps)
    return Discount(amount_cents=coupon.amount_off_cents)


def claim(session: Session, coupon: Coupon) -> None:
    """Count one use atomically; a 422 `coupon_used_up` when the limit was reached meanwhile."""
    stmt = (
        update(Coupon)
        .where(Coupon.id == coupon.id)
        .where((Coupon.usage_limit.is_(None)) | (Coupon.times_used < Coupon.usage_limit))
        .values(times_used=Coupon.times_used + 1)
        .execution_options(synchronize_session=False)
    )
    if session.execute(stmt).rowcount != 1:  # type: ignore[attr-defined]
        raise DomainError(
            CommerceErrorCode.COUPON_USED_UP,
            f"The coupon {coupon.code} has been used the maximum number of times.",
            reason="used_up",
        )
    session.expire(coupon, ["times_used"])


def release(session: Session, coupon_id: str) -> None:
    """Give one use back (a cancelled order)."""
    session.execute(
        update(Coupon)
        .where(Coupon.id == coupon_id, Coupon.times_used > 0)
        .values(times_used=Coupon.times_used - 1)
        .execution_options(synchronize_session=False)
    )
