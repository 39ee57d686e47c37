"""Billing use cases: plans, subscriptions from provider events, monthly grants, usage limits.

Other domains call `record_usage`, `check_limit` and `check_product_limit`; the plan in force is
`brands.plan`, kept in step with the subscription by the handlers below.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from luneo.billing.error_codes import BillingErrorCode
from luneo.billing.models import Subscription, UsageCounter
from luneo.billing.plans import MONTHLY_METRICS, PLANS, SIGNUP_GRANT, Plan, get_plan
from luneo.credits import public as credits
from luneo.credits.public import CreditTransaction
from luneo.platform.clock import utcnow
from luneo.platform.config import get_settings
from luneo.platform.database import Database
from luneo.platform.domain_errors import DomainError
from luneo.platform.http import outgoing_headers
from luneo.platform.security import constant_time_equals, sign

log = structlog.get_logger("luneo.billing")

ACTIVE_STATUSES = ("active", "trialing", "past_due")
PORTAL_TOKEN_TTL_S = 3600


# --- plan and usage ----------------------------------------------------------------------


def period_key(now: datetime | None = None) -> str:
    """The usage period of a moment: 'YYYY-MM' in UTC."""
    return (now or utcnow()).astimezone(UTC).strftime("%Y-%m")


def current_plan(session: Session, brand_id: str) -> Plan:
    """The plan in force for the brand (`brands.plan`)."""
    from luneo.tenancy.public import Brand

    plan_id = session.execute(select(Brand.plan).where(Brand.id == brand_id)).scalar()
    return get_plan(plan_id)


def usage(session: Session, brand_id: str, metric: str, period: str | None = None) -> int:
    """How much of `metric` the brand used in `period` (default: this month)."""
    value = session.execute(
        select(UsageCounter.count).where(
            UsageCounter.brand_id == brand_id,
            UsageCounter.metric == metric,
            UsageCounter.period == (period or period_key()),
        )
    ).scalar()
    return int(value or 0)


def record_usage(session: Session, brand_id: str, metric: str, n: int = 1) -> int:
    """Add `n` to this month's counter of `metric` (atomic upsert); returns the new count."""
    if metric not in MONTHLY_METRICS:
        raise ValueError(f"unknown usage metric {metric!r}; known: {MONTHLY_METRICS}")
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    col = UsageCounter.__table__.c
    values = insert(UsageCounter).values(brand_id=brand_id, metric=metric, period=period_key(), count=n)
    stmt = values.on_conflict_do_update(
        index_elements=["brand_id", "metric", "period"], set_={"count": col.count + n}
    ).returning(col.count)
    return int(session.execute(stmt).scalar_one())


def _limit_problem(plan: Plan, metric: str, limit: int, used: int) -> DomainError:
    return DomainError(
        BillingErrorCode.PLAN_LIMIT_REACHED,
        f"The {plan.name} plan allows {limit} {metric}; this brand has used {used}.",
        metric=metric,
        limit=limit,
        usage=used,
        plan=plan.id,
        upgrade_url="/api/v1/billing/subscription",
    )


def check_limit(session: Session, brand_id: str, metric: str, n: int = 1) -> None:
    """Raise the 403 `plan_limit_reached` problem if `n` more of `metric` would exceed this month's limit."""
    if metric not in MONTHLY_METRICS:
        raise ValueError(f"unknown usage metric {metric!r}; known: {MONTHLY_METRICS}")
    plan = current_plan(session, brand_id)
    limit = plan.monthly_limits.get(metric)
    if limit is None:
        return
    used = usage(session, brand_id, metric)
    if used + n > limit:
        raise _limit_problem(plan, metric, limit, used)


def check_product_limit(session: Session, brand_id: str, current_count: int) -> None:
    """Raise `plan_limit_reached` if the brand, having `current_count` products, may not create one more."""
    plan = current_plan(session, brand_id)
    if plan.max_products is not None and current_count >= plan.max_products:
        raise _limit_problem(plan, "products", plan.max_products, current_count)


# --- credits granted by billing ----------------------------------------------------------


def grant_signup(session: Session, brand_id: str) -> CreditTransaction:
    """The free credits every new brand gets, once (reference `grant:signup:<brand_id>`)."""
    return credits.grant(
        session,
        brand_id,
        SIGNUP_GRANT,
        f"grant:signup:{brand_id}",
        actor="billing",
        metadata={"reason": "signup"},
    )


def grant_free_monthly(db: Database, now: datetime | None = None) -> int:
    """Give every free-plan brand its monthly credits once per calendar month (UTC).

    The signup grant covers the month a brand is created; from the next month on this grants
    the free plan's allowance with reference `grant:free:<brand>:<YYYY-MM>`, so running it any
    number of times (several workers, restarts) grants once. Returns how many brands got credits.
    """
    from luneo.platform.tenancy import bind_system, bind_tenant
    from luneo.tenancy.public import Brand

    period = period_key(now)
    with db.transaction(write=False) as s:
        bind_system(s)
        brands = [
            b
            for b, created in s.execute(select(Brand.id, Brand.created_at).where(Brand.plan == "free"))
            if period_key(created) != period
        ]
    granted = 0
    allowance = get_plan("free").monthly_credits
    for brand_id in brands:
        reference = f"grant:free:{brand_id}:{period}"
        with db.transaction() as s:
            bind_tenant(s, brand_id)
            if s.execute(
                select(CreditTransaction.id).where(CreditTransaction.reference == reference)
            ).first():
                continue
            credits.grant(
                s,
                brand_id,
                allowance,
                reference,
                actor="billing",
                metadata={"reason": "free plan", "period": period},
            )
            granted += 1
    return granted


# --- subscriptions from provider events --------------------------------------------------


def _when(value: Any) -> datetime | None:
    """A timestamp from an event: unix seconds, ISO 8601 or a datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    try:
        text = str(value)
        if text.isdigit():
            return datetime.fromtimestamp(int(text), UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def get_subscription(session: Session, brand_id: str) -> Subscription | None:
    return session.execute(select(Subscription).where(Subscription.brand_id == brand_id)).scalar_one_or_none()


def _set_brand_plan(session: Session, brand_id: str, plan: str) -> None:
    from luneo.tenancy.public import Brand

    brand = session.execute(select(Brand).where(Brand.id == brand_id)).scalar_one_or_none()
    if brand is not None and brand.plan != plan:
        brand.plan = plan


def apply_subscription(
    session: Session, payload: dict[str, Any], *, deleted: bool = False
) -> Subscription | None:
    """Upsert the brand's subscription from a `billing.subscription_*` event; keep `brands.plan` in step."""
    brand_id, sub_id = payload.get("brand_id"), payload.get("subscription_id")
    if not brand_id or not sub_id:
        log.warning(
            "billing_event_ignored", reason="no brand or subscription id", event_id=payload.get("event_id")
        )
        return None
    row = get_subscription(session, brand_id)
    if (
        row is not None
        and row.provider_subscription_id == sub_id
        and row.status == "canceled"
        and not deleted
    ):
        return row  # canceled is terminal: a late 'updated' must not revive it
    if deleted and (row is None or row.provider_subscription_id != sub_id):
        return row  # the end of a subscription that is not the current one
    plan_id = payload.get("plan")
    if plan_id not in PLANS:
        plan_id = row.plan if row is not None else "free"
    if row is None:
        row = Subscription(
            brand_id=brand_id,
            provider=str(payload.get("provider") or "unknown"),
            provider_subscription_id=str(sub_id),
            plan=plan_id,
            status="incomplete",
        )
        session.add(row)
    row.provider = str(payload.get("provider") or row.provider)
    row.provider_subscription_id = str(sub_id)
    row.plan = plan_id
    row.status = "canceled" if deleted else str(payload.get("status") or "active")
    if payload.get("customer_id"):
        row.provider_customer_id = str(payload["customer_id"])
    start, end = _when(payload.get("period_start")), _when(payload.get("period_end"))
    if start is not None:
        row.current_period_start = start
    if end is not None:
        row.current_period_end = end
    if "cancel_at_period_end" in payload:
        row.cancel_at_period_end = bool(payload["cancel_at_period_end"])
    row.last_event_id = str(payload.get("event_id") or "") or row.last_event_id
    session.flush()
    _set_brand_plan(session, brand_id, plan_id if row.status in ACTIVE_STATUSES else "free")
    return row


def invoice_paid(session: Session, payload: dict[str, Any]) -> CreditTransaction | None:
    """A paid invoice grants the plan's monthly credits once (reference `grant:invoice:<invoice_id>`)."""
    brand_id, invoice_id = payload.get("brand_id"), payload.get("invoice_id")
    if not brand_id or not invoice_id:
        log.warning(
            "billing_event_ignored", reason="no brand or invoice id", event_id=payload.get("event_id")
        )
        return None
    row = get_subscription(session, brand_id)
    if payload.get("subscription_id"):
        if row is None or row.provider_subscription_id != payload["subscription_id"]:
            row = apply_subscription(session, {**payload, "status": payload.get("status") or "active"})
        elif row.status != "canceled":
            start, end = _when(payload.get("period_start")), _when(payload.get("period_end"))
            row.current_period_start = start or row.current_period_start
            row.current_period_end = end or row.current_period_end
    plan = get_plan(payload.get("plan") if payload.get("plan") in PLANS else (row.plan if row else None))
    if row is not None:
        row.last_invoice_id = str(invoice_id)
    if plan.monthly_credits <= 0:
        return None
    return credits.grant(
        session,
        brand_id,
        plan.monthly_credits,
        f"grant:invoice:{invoice_id}",
        actor="billing",
        metadata={
            "reason": "plan",
            "plan": plan.id,
            "invoice_id": str(invoice_id),
            "provider": payload.get("provider"),
        },
    )


def activate_from_checkout(session: Session, payload: dict[str, Any]) -> Subscription | None:
    """A completed *and paid* subscription checkout activates the plan (credits come with
    `billing.invoice_paid`).

    The plan is one of the server's `PLANS` (named by `POST /billing/create-checkout-session`;
    callers can never set `plan` in metadata), the checkout's `payment_status` must be `paid`, and
    the event's own amount and currency must equal the plan's price; otherwise nothing changes.
    """
    meta = payload.get("metadata") or {}
    brand_id = payload.get("brand_id") or meta.get("brand_id")
    plan = meta.get("plan")
    sub_id = (
        meta.get("subscription_id")
        or payload.get("subscription_id")
        or payload.get("payment_ref")
        or payload.get("reference")
    )
    if not brand_id or plan not in PLANS or not sub_id:
        log.warning("billing_checkout_ignored", event_id=payload.get("event_id"))
        return None
    if payload.get("payment_status") != "paid":
        log.info(
            "billing_checkout_not_paid",
            event_id=payload.get("event_id"),
            payment_status=payload.get("payment_status"),
        )
        return None
    price = PLANS[plan]
    amount, currency = payload.get("amount"), payload.get("currency")
    if (
        not isinstance(amount, int)
        or isinstance(amount, bool)
        or amount != price.price_cents
        or not isinstance(currency, str)
        or currency.upper() != price.currency
    ):
        log.error(
            "billing_checkout_mismatch",
            event_id=payload.get("event_id"),
            brand_id=brand_id,
            plan=plan,
            paid=amount,
            paid_currency=currency,
            price=price.price_cents,
            currency=price.currency,
        )
        return None
    row = get_subscription(session, brand_id)
    if (
        row is not None
        and row.status in ACTIVE_STATUSES
        and (row.provider_subscription_id == sub_id or row.plan == plan)
    ):
        return row  # the provider's own subscription event already recorded it
    return apply_subscription(
        session,
        {
            "provider": payload.get("provider"),
            "event_id": payload.get("event_id"),
            "brand_id": brand_id,
            "subscription_id": sub_id,
            "plan": plan,
            "status": "active",
            "customer_id": meta.get("customer_id"),
        },
    )


# --- checkout and portal -----------------------------------------------------------------


def plan_checkout_request(
    brand_id: str, plan_id: str, customer_email: str | None, reference: str, return_url: str | None = None
) -> dict[str, Any]:
    """The fields of the payments `CheckoutRequest` for a plan subscription (the buyer comes
    back to `return_url`, default `<public base>/billing`)."""
    plan = PLANS.get(plan_id)
    if plan is None or plan.price_cents <= 0:
        raise DomainError(
            BillingErrorCode.INVALID_PLAN, "Choose a paid plan: pro or business.", plans=sorted(PLANS)
        )
    back = return_url or get_settings().public_base_url.rstrip("/") + "/billing"
    sep = "&" if "?" in back else "?"
    return {
        "brand_id": brand_id,
        "reference": reference,
        "kind": "subscription",
        "line_items": [
            {"name": f"Luneo {plan.name} (monthly)", "unit_amount": plan.price_cents, "quantity": 1}
        ],
        "currency": plan.currency,
        "customer_email": customer_email,
        "success_url": f"{back}{sep}checkout={reference}&status=success",
        "cancel_url": f"{back}{sep}checkout={reference}&status=cancelled",
        "metadata": {"kind": "subscription", "plan": plan.id, "brand_id": brand_id},
    }


def portal_token(brand_id: str, now: float | None = None) -> str:
    exp = int((now or time.time()) + PORTAL_TOKEN_TTL_S)
    secret = get_settings().secret_key.get_secret_value()
    return f"{brand_id}.{exp}.{sign(secret, f'billing-portal:{brand_id}:{exp}')}"


def verify_portal_token(token: str) -> str | None:
    """The brand id of a valid, unexpired dev-portal token."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[1].isdigit() or int(parts[1]) < time.time():
        return None
    secret = get_settings().secret_key.get_secret_value()
    expected = sign(secret, f"billing-portal:{parts[0]}:{parts[1]}")
    return parts[0] if constant_time_equals(expected, parts[2]) else None


def start_plan_checkout(
    session: Session, brand_id: str, user_id: str | None, plan_id: str, return_url: str | None = None
) -> tuple[str, str, str]:
    """Open the provider's subscription checkout for a paid plan: (checkout url, session id, reference)."""
    from luneo.payments import public as payments
    from luneo.platform.ids import new_id
    from luneo.tenancy.public import checkout_email

    reference = new_id("bsub")
    email = checkout_email(session, brand_id, user_id)
    fields = plan_checkout_request(brand_id, plan_id, email, reference, return_url)
    checkout = payments.start_checkout(session, brand_id, payments.CheckoutRequest(**fields))
    return checkout.url, checkout.id, reference


def portal_available(session: Session, brand_id: str) -> bool:
    """Whether "Manage billing" leads to Stripe's customer portal (Stripe configured and the
    subscription is a Stripe one)."""
    row = get_subscription(session, brand_id)
    return get_settings().stripe_secret_key is not None and row is not None and row.provider == "stripe"


def products_used(session: Session, brand_id: str) -> int:
    """How many products the brand has (against the plan's `max_products`)."""
    from sqlalchemy import func

    from luneo.catalog.public import Product

    return int(
        session.execute(
            select(func.count()).select_from(Product).where(Product.brand_id == brand_id)
        ).scalar()
        or 0
    )


def portal_url(session: Session, brand_id: str) -> str:
    """Stripe's billing portal for a Stripe customer when Stripe is configured, else the local dev page
    (outside production only: there, 503 `billing_portal_not_configured`)."""
    settings = get_settings()
    base = settings.public_base_url.rstrip("/")
    row = get_subscription(session, brand_id)
    if settings.stripe_secret_key is not None and row is not None and row.provider == "stripe":
        if not row.provider_customer_id:
            raise DomainError(
                BillingErrorCode.NO_BILLING_CUSTOMER,
                "The subscription has no Stripe customer yet; retry shortly.",
            )
        import stripe

        if settings.stripe_api_base:
            stripe.api_base = settings.stripe_api_base
        portal = stripe.billing_portal.Session.create(
            customer=row.provider_customer_id,
            return_url=f"{base}/billing",
            api_key=settings.stripe_secret_key.get_secret_value(),
            headers=outgoing_headers(),
        )
        return str(portal.url)
    if settings.is_production:
        raise DomainError(
            BillingErrorCode.BILLING_PORTAL_NOT_CONFIGURED,
            "No billing portal is configured: set LUNEO_STRIPE_SECRET_KEY to manage subscriptions.",
        )
    return f"{base}/billing/portal/dev?token={portal_token(brand_id)}"


def subscription_view(session: Session, brand_id: str) -> dict[str, Any]:
    """Plan, status, period, limits and this month's usage."""
    plan = current_plan(session, brand_id)
    row = get_subscription(session, brand_id)
    period = period_key()
    return {
        "plan": plan.id,
        "plan_name": plan.name,
        "status": row.status if row is not None else "active",
        "provider": row.provider if row is not None else None,
        "current_period_start": row.current_period_start if row is not None else None,
        "current_period_end": row.current_period_end if row is not None else None,
        "cancel_at_period_end": row.cancel_at_period_end if row is not None else False,
        "monthly_credits": plan.monthly_credits,
        "limits": {"max_products": plan.max_products, **plan.monthly_limits},
        "usage": {"period": period, **{m: usage(session, brand_id, m, period) for m in MONTHLY_METRICS}},
    }
