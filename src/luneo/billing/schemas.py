"""API contract of billing: plans, the subscription and its usage, checkout and portal links."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict


class StrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PlanOut(BaseModel):
    id: str
    name: str
    price_cents: int
    currency: str
    monthly_credits: int
    max_products: int | None
    monthly_limits: dict[str, int | None]


class SubscriptionOut(BaseModel):
    plan: str
    plan_name: str
    status: str
    provider: str | None
    current_period_start: datetime | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    monthly_credits: int
    limits: dict[str, int | None]
    usage: dict[str, int | str]


class CheckoutIn(StrictIn):
    plan: Literal["pro", "business"]


class CheckoutOut(BaseModel):
    checkout_url: str
    session_id: str
    reference: str


class PortalOut(BaseModel):
    url: str
