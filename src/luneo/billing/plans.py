"""The plans: monthly price, included credits and limits (None = unlimited)."""

from __future__ import annotations

from dataclasses import dataclass, field

SIGNUP_GRANT = 50


@dataclass(frozen=True)
class Plan:
    id: str
    name: str
    price_cents: int
    currency: str
    monthly_credits: int
    max_products: int | None
    monthly_limits: dict[str, int | None] = field(default_factory=dict)


PLANS: dict[str, Plan] = {
    "free": Plan("free", "Free", 0, "EUR", 50, 10, {"renders": 500}),
    "pro": Plan("pro", "Pro", 4900, "EUR", 500, 200, {"renders": 20_000}),
    "business": Plan("business", "Business", 19900, "EUR", 2500, None, {"renders": None}),
}
MONTHLY_METRICS = ("renders",)


def get_plan(plan_id: str | None) -> Plan:
    """The plan by id; an unknown or missing id falls back to free."""
    return PLANS.get(plan_id or "free", PLANS["free"])
