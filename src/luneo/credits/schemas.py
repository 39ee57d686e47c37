"""API contract of credits: balance, packs, ledger lines, costs, purchases."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

TransactionType = Literal["purchase", "usage", "refund", "grant", "adjustment"]


class StrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BalanceOut(BaseModel):
    balance: int
    low_balance: bool
    last_topup: int = Field(description="Credits of the last purchase or grant (the low-balance baseline).")
    packs_url: str = "/api/v1/credits/packs"
    buy_url: str = "/api/v1/credits/buy"
    transactions_url: str = "/api/v1/credits/transactions"


class PackOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    credits: int
    price_cents: int
    currency: str
    active: bool


class PackPut(StrictIn):
    credits: int = Field(gt=0, le=10_000_000)
    price_cents: int = Field(ge=0, le=100_000_000)
    currency: str = Field(pattern=r"^[A-Za-z]{3}$")
    active: bool = True


class TransactionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)

    id: str
    type: TransactionType
    amount: int
    balance_after: int
    operation: str | None
    actor: str | None
    reference: str
    metadata: dict[str, Any] = Field(validation_alias="meta")
    created_at: datetime


class CostOut(BaseModel):
    operation: str
    credits: int
    default: int | None = Field(description="The built-in cost; null for an operation the operator added.")
    overridden: bool


class CostPut(StrictIn):
    credits: int = Field(ge=0, le=100_000)


class BuyIn(StrictIn):
    pack_id: str = Field(min_length=1, max_length=40)


class BuyOut(BaseModel):
    checkout_url: str
    session_id: str
    reference: str
