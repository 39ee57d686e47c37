"""API contract of payments."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class StrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PaymentIntentIn(StrictIn):
    amount: int = Field(gt=0, le=99_999_999, description="Amount in minor units (cents).")
    currency: str = Field(min_length=3, max_length=3, description="ISO 4217 code.")
    metadata: dict[str, str] = Field(
        default_factory=dict,
        max_length=40,
        description="Your own keys. Reserved keys (credits, price_cents, pack_id, order_id, plan, kind, "
        "brand_id, payment_id, reference) are refused: 422 `reserved_metadata_key`.",
    )
    reference: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Your order / purchase id (defaults to the payment id).",
    )
    kind: Literal["order", "credits", "subscription"] = "order"

    @field_validator("currency")
    @classmethod
    def _iso(cls, v: str) -> str:
        if not v.isascii() or not v.isalpha():
            raise ValueError("currency is an ISO 4217 code")
        return v.upper()

    @field_validator("metadata")
    @classmethod
    def _md(cls, v: dict[str, str]) -> dict[str, str]:
        for key, value in v.items():
            if len(key) > 40 or len(value) > 500:
                raise ValueError("metadata keys are at most 40 characters, values at most 500")
        return v


class PaymentIntentOut(BaseModel):
    payment_id: str
    provider: str
    id: str = Field(description="The provider's payment id (PaymentIntent / PayPal order).")
    client_secret: str | None
    status: str | None
    amount: int
    currency: str


class PaymentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    provider: str
    reference: str
    kind: str
    amount: int
    amount_refunded: int
    currency: str
    status: str
    checkout_id: str | None
    payment_ref: str | None
    checkout_url: str | None
    paid_at: datetime | None
    flag: str | None = Field(
        default=None,
        description="amount_mismatch | order_not_payable: captured but not applied as asked (alerted).",
    )
    created_at: datetime
    updated_at: datetime


class RefundIn(StrictIn):
    amount: int | None = Field(default=None, gt=0, description="Minor units; omit to refund the rest.")


class RefundOut(BaseModel):
    payment_id: str
    id: str
    status: str | None
    amount: int | None


class WebhookAck(BaseModel):
    received: bool = True
    status: str
    event_id: str
    detail: dict[str, Any] | None = None
