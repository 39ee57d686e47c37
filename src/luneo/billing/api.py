"""Routes: plans, the brand's subscription, plan checkout and the billing portal."""

from __future__ import annotations

import html

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from luneo.billing import service
from luneo.billing.plans import PLANS
from luneo.billing.schemas import CheckoutIn, CheckoutOut, PlanOut, PortalOut, SubscriptionOut
from luneo.platform.config import get_settings
from luneo.platform.database import get_db
from luneo.platform.deps import BillingManageDep, BillingReadDep
from luneo.platform.errors import NotFound
from luneo.platform.pagination import Page
from luneo.platform.tenancy import bind_tenant

router = APIRouter(tags=["billing"])
# Mounted at the root by the app (ROOT_ROUTERS): the local stand-in for Stripe's customer portal.
pages_router = APIRouter(tags=["billing"], include_in_schema=False)


@router.get("/billing/plans", response_model=Page[PlanOut])
def plans(t: BillingReadDep) -> Page[PlanOut]:
    """The plans on offer."""
    return Page(
        data=[
            PlanOut(
                id=p.id,
                name=p.name,
                price_cents=p.price_cents,
                currency=p.currency,
                monthly_credits=p.monthly_credits,
                max_products=p.max_products,
                monthly_limits=p.monthly_limits,
            )
            for p in PLANS.values()
        ]
    )


@router.get("/billing/subscription", response_model=SubscriptionOut)
def subscription(t: BillingReadDep) -> SubscriptionOut:
    """The plan in force, the subscription's status and period, limits and this month's usage."""
    return SubscriptionOut(**service.subscription_view(t.session, t.brand_id))


@router.post("/billing/create-checkout-session", response_model=CheckoutOut, status_code=201)
def create_checkout_session(body: CheckoutIn, t: BillingManageDep) -> CheckoutOut:
    """Start a subscription checkout for a paid plan; the plan switches when the provider confirms."""
    url, session_id, reference = service.start_plan_checkout(
        t.session, t.brand_id, t.principal.user_id, body.plan
    )
    return CheckoutOut(checkout_url=url, session_id=session_id, reference=reference)


@router.post("/billing/portal", response_model=PortalOut)
def portal(t: BillingManageDep) -> PortalOut:
    """A link to manage the subscription: Stripe's billing portal, or the local page in dev."""
    return PortalOut(url=service.portal_url(t.session, t.brand_id))


@pages_router.get("/billing/portal/dev", response_class=HTMLResponse)
def dev_portal(token: str = "") -> HTMLResponse:
    """A read-only subscription summary reached through a signed, one-hour link (not in production)."""
    if get_settings().is_production:
        raise NotFound("page", "/billing/portal/dev")
    brand_id = service.verify_portal_token(token)
    if brand_id is None:
        return HTMLResponse(
            "<!doctype html><title>Link expired</title><p>This billing link is invalid or expired.",
            status_code=403,
        )
    with get_db().transaction(write=False) as s:
        bind_tenant(s, brand_id)
        view = service.subscription_view(s, brand_id)
    rows = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in [
            ("Plan", view["plan_name"]),
            ("Status", view["status"]),
            ("Period", f"{view['current_period_start'] or '—'} → {view['current_period_end'] or '—'}"),
            ("Cancels at period end", "yes" if view["cancel_at_period_end"] else "no"),
            ("Monthly credits", view["monthly_credits"]),
            (
                "Renders this month",
                f"{view['usage'].get('renders', 0)} / {view['limits'].get('renders') or '∞'}",
            ),
        ]
    )
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Luneo billing (development)</title></head>"
        "<body style='font-family:system-ui;margin:2rem'><h1>Billing</h1>"
        "<p>Development portal: no payment provider is configured, so plans change through checkout.</p>"
        f"<table>{rows}</table></body></html>"
    )
    return HTMLResponse(page)
