"""Commerce API contract. Request bodies forbid unknown fields: a client never sends a price."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, HttpUrl, field_validator, model_validator

MAX_QUANTITY = 1000
Quantity = Annotated[int, Field(strict=True, ge=1, le=MAX_QUANTITY, description="1 to 1000.")]
OrderStatus = Literal["pending", "paid", "in_production", "shipped", "delivered", "cancelled", "refunded"]


class StrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- cart ------------------------------------------------------------------------------------


class CartAddIn(StrictIn):
    product_id: str = Field(min_length=1, max_length=40)
    quantity: Quantity
    snapshot_id: str | None = Field(default=None, min_length=1, max_length=40)
    spec_hash: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{64}$",
        description="The spec_hash of the preview the shopper approved; must be the snapshot's "
        "(409 `spec_mismatch` otherwise). The cart line records it.",
    )
    metadata: dict[str, str] = Field(default_factory=dict, max_length=20)


class CartQuantityIn(StrictIn):
    quantity: Quantity


class CartItemOut(Out):
    id: str
    product_id: str
    product_sku: str
    product_name: str
    snapshot_id: str | None
    spec_hash: str | None = None
    quantity: int
    unit_price_cents: int
    total_cents: int
    currency: str
    metadata: dict[str, Any]


class CartOut(Out):
    id: str | None
    currency: str | None
    items: list[CartItemOut]
    item_count: int
    subtotal_cents: int


class CartCountOut(Out):
    count: int
    lines: int


# --- orders ----------------------------------------------------------------------------------


class CustomerIn(StrictIn):
    email: EmailStr
    name: str = Field(default="", max_length=200)


class AddressIn(StrictIn):
    name: str | None = Field(default=None, max_length=200)
    line1: str = Field(min_length=1, max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    postal_code: str = Field(min_length=1, max_length=20)
    region: str | None = Field(default=None, max_length=100)
    country: str = Field(min_length=2, max_length=2, description="ISO 3166-1 alpha-2.")
    phone: str | None = Field(default=None, max_length=40)

    @field_validator("country")
    @classmethod
    def _upper(cls, v: str) -> str:
        if not v.isalpha():
            raise ValueError("country is an ISO 3166-1 alpha-2 code")
        return v.upper()


class OrderItemIn(StrictIn):
    product_id: str = Field(min_length=1, max_length=40)
    quantity: Quantity
    snapshot_id: str | None = Field(default=None, min_length=1, max_length=40)
    metadata: dict[str, str] = Field(default_factory=dict, max_length=20)


class OrderIn(StrictIn):
    items: list[OrderItemIn] = Field(min_length=1, max_length=100)
    customer: CustomerIn
    shipping_address: AddressIn | None = None
    coupon_code: str | None = Field(default=None, min_length=1, max_length=64)
    metadata: dict[str, str] = Field(default_factory=dict, max_length=20)


class OrderFromCartIn(StrictIn):
    customer: CustomerIn
    shipping_address: AddressIn | None = None
    coupon_code: str | None = Field(default=None, min_length=1, max_length=64)
    metadata: dict[str, str] = Field(default_factory=dict, max_length=20)


class CheckoutIn(StrictIn):
    provider: Literal["stripe", "paypal", "dev"] | None = None
    success_url: HttpUrl | None = None
    cancel_url: HttpUrl | None = None


class CartCheckoutIn(OrderFromCartIn):
    provider: Literal["stripe", "paypal", "dev"] | None = None
    success_url: HttpUrl | None = None
    cancel_url: HttpUrl | None = None


class TransitionIn(StrictIn):
    to: OrderStatus
    note: str | None = Field(
        default=None, max_length=500, description="Required with `to: paid` (what was received, how)."
    )
    tracking_number: str | None = Field(default=None, max_length=100)
    carrier: str | None = Field(default=None, max_length=100)
    amount: int | None = Field(
        default=None,
        ge=0,
        le=99_999_999_999,
        description="`to: paid` only (an offline payment, owner / admin): the amount received in minor "
        "units; must equal the order total.",
    )
    currency: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z]{3}$",
        description="`to: paid` only: ISO 4217 code of the amount received; must be the order's.",
    )


class ProductRef(Out):
    id: str
    sku: str
    name: str


class SnapshotRef(Out):
    id: str
    spec_hash: str | None


class ItemApprovalOut(Out):
    """The buyer's approval of the item's design: when (UTC), which spec_hash, by whom (`shp_…`)."""

    approved_at: datetime
    spec_hash: str
    approved_by: str


class OrderItemOut(Out):
    id: str
    product: ProductRef
    snapshot: SnapshotRef | None
    approval: ItemApprovalOut | None = Field(
        default=None,
        description="The shopper's approval of this design (time, spec_hash), or null when none was given.",
    )
    quantity: int
    price_cents: int
    total_cents: int
    discount_cents: int
    tax_cents: int
    metadata: dict[str, Any]


class OrderOut(Out):
    id: str
    number: int
    status: str
    payment_status: str
    source: str
    currency: str
    subtotal_cents: int
    discount_cents: int
    shipping_cents: int
    tax_cents: int
    tax_rate_bps: int
    tax_inclusive: bool
    total_cents: int
    coupon_code: str | None
    customer: dict[str, str]
    shipping_address: dict[str, Any] | None
    payment_id: str | None
    payment_ref: str | None
    items: list[OrderItemOut]
    metadata: dict[str, Any]
    history: list[dict[str, Any]]
    created_at: datetime
    paid_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    cancelled_at: datetime | None
    refunded_at: datetime | None


class OrderSummaryOut(Out):
    id: str
    number: int
    status: str
    payment_status: str
    currency: str
    total_cents: int
    customer_email: str
    created_at: datetime


class CheckoutOut(BaseModel):
    checkout_url: str
    session_id: str
    provider: str
    payment_id: str | None = None
    order_id: str
    order_number: int
    amount_cents: int
    currency: str


# --- coupons and shop settings ---------------------------------------------------------------


class CouponIn(StrictIn):
    code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    kind: Literal["percent", "fixed"]
    percent_off_bps: int | None = Field(default=None, ge=1, le=10_000, description="1250 = 12.5 %.")
    amount_off_cents: int | None = Field(default=None, ge=1)
    currency: str | None = Field(default=None, pattern=r"^[A-Za-z]{3}$")
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    usage_limit: int | None = Field(default=None, ge=1)
    active: bool = True

    @model_validator(mode="after")
    def _shape(self) -> CouponIn:
        if self.kind == "percent" and (self.percent_off_bps is None or self.amount_off_cents is not None):
            raise ValueError("a percent coupon sets percent_off_bps only")
        if self.kind == "fixed" and (
            self.amount_off_cents is None or self.percent_off_bps is not None or self.currency is None
        ):
            raise ValueError("a fixed coupon sets amount_off_cents and currency")
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        return self


class CouponOut(Out):
    id: str
    code: str
    kind: str
    percent_off_bps: int | None
    amount_off_cents: int | None
    currency: str | None
    valid_from: datetime | None
    valid_until: datetime | None
    usage_limit: int | None
    times_used: int
    active: bool
    created_at: datetime


class ShopSettingsIn(StrictIn):
    shipping_flat_cents: int = Field(default=0, ge=0, le=10_000_000)
    free_shipping_threshold_cents: int | None = Field(default=None, ge=0, le=100_000_000)
    tax_rate_bps: int = Field(default=0, ge=0, le=10_000, description="2000 = 20 %.")
    tax_inclusive: bool = False
    tax_shipping: bool = True


class ShopSettingsOut(Out):
    shipping_flat_cents: int
    free_shipping_threshold_cents: int | None
    tax_rate_bps: int
    tax_inclusive: bool
    tax_shipping: bool
