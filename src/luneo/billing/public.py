"""What other domains may use of billing: the plans, the brand's subscription view, the plan
checkout and the billing portal (the dashboard's plan page).

Other domains import `luneo.billing.public`, never `luneo.billing.service` or `.models`
(import-linter contract `domains-through-public`).
"""

from __future__ import annotations

from luneo.billing.plans import PLANS, Plan
from luneo.billing.service import (
    portal_available,
    portal_url,
    products_used,
    start_plan_checkout,
    subscription_view,
)

__all__ = [
    "PLANS",
    "Plan",
    "portal_available",
    "portal_url",
    "products_used",
    "start_plan_checkout",
    "subscription_view",
]
