"""The provider interface every payment provider implements, and its value types."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, field_validator

from luneo.payments.signatures import SignatureError

__all__ = [
    "CheckoutKind",
    "CheckoutRequest",
    "CheckoutSession",
    "LineItem",
    "PaymentProvider",
    "ProviderError",
    "ProviderEvent",
    "SignatureError",
    "currency_exponent",
    "from_minor",
    "to_minor",
]

CheckoutKind = Literal["order", "credits", "subscription"]


class ProviderError(Exception):
    """A provider call failed (network, 4xx/5xx, unexpected answer)."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class LineItem(BaseModel):
    """One line of a checkout: the server-computed unit price in minor units."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=250)
    image_url: str | None = Field(default=None, max_length=2000)
    unit_amount: int = Field(ge=0, description="Unit price in minor units (cents).")
    quantity: int = Field(ge=1, le=10_000)


class CheckoutRequest(BaseModel):
    """What to charge for: built by the order / credits domains from server-side prices."""

    model_config = ConfigDict(extra="forbid")

    brand_id: str
    reference: str = Field(min_length=1, max_length=200, description="Our order id or credit purchase id.")
    kind: CheckoutKind = "order"
    line_items: list[LineItem] = Field(min_length=1, max_length=100)
    currency: str = Field(min_length=3, max_length=3)
    customer_email: str | None = None
    success_url: str
    cancel_url: str
    metadata: dict[str, str] = Field(default_factory=dict)

    @field_validator("currency")
    @classmethod
    def _iso(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z]{3}", v):
            raise ValueError("currency is an ISO 4217 code")
        return v.upper()

    @property
    def amount_total(self) -> int:
        return sum(i.unit_amount * i.quantity for i in self.line_items)


class CheckoutSession(BaseModel):
    """A provider's hosted checkout: send the shopper to `url`."""

    id: str
    url: str
    provider: str
    amount_total: int
    currency: str
    raw: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True)
class ProviderEvent:
    """A verified inbound webhook event. `data` is the event's object (Stripe `data.object`,
    PayPal `resource`); `raw` is the whole event as received."""

    id: str
    type: str
    data: dict[str, Any]
    created: int
    provider: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class PaymentProvider(Protocol):
    """One payment provider (Stripe, PayPal, the embedded dev provider)."""

    name: str

    def create_checkout(
        self, request: CheckoutRequest, *, idempotency_key: str | None = None
    ) -> CheckoutSession:
        """Create a hosted checkout for the request's line items."""

    def create_payment_intent(
        self, amount: int, currency: str, metadata: dict[str, str], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """Create a payment to confirm client-side: `{id, client_secret, status}`."""

    def refund(
        self,
        payment_ref: str,
        amount: int | None = None,
        *,
        currency: str | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Refund a captured payment (all of it when `amount` is None): `{id, status, amount}`."""

    def verify_webhook(self, headers: dict[str, str], raw_body: bytes) -> ProviderEvent:
        """Authenticate an inbound webhook; raise `SignatureError` when it is not genuine."""


# ISO 4217 minor-unit exponents that are not 2.
_EXPONENTS = {
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    "CLF": 4,
    "UYW": 4,
}
_DECIMAL = re.compile(r"^(-?)(\d+)(?:\.(\d+))?$")


def currency_exponent(currency: str) -> int:
    """Digits after the decimal point for the currency (JPY 0, EUR 2, KWD 3)."""
    return _EXPONENTS.get(currency.upper(), 2)


def from_minor(amount: int, currency: str) -> str:
    """Minor units → decimal string, exactly: (1234, "EUR") → "12.34", (500, "JPY") → "500"."""
    exp = currency_exponent(currency)
    sign = "-" if amount < 0 else ""
    units, frac = divmod(abs(amount), 10**exp)
    return f"{sign}{units}" if exp == 0 else f"{sign}{units}.{frac:0{exp}d}"


def to_minor(value: str, currency: str) -> int:
    """Decimal string → minor units, exactly; raises ValueError on more digits than the currency has."""
    m = _DECIMAL.match(value.strip())
    if not m:
        raise ValueError(f"not a decimal amount: {value!r}")
    sign, units, frac = m.group(1), m.group(2), m.group(3) or ""
    exp = currency_exponent(currency)
    if len(frac) > exp and frac[exp:].strip("0"):
        raise ValueError(f"{value!r} has more than {exp} decimals for {currency}")
    frac = frac[:exp].ljust(exp, "0")
    amount = int(units) * 10**exp + (int(frac) if frac else 0)
    return -amount if sign else amount


def header(headers: Any, name: str) -> str | None:
    """Case-insensitive header lookup in a plain dict or a Starlette `Headers`."""
    value = headers.get(name) if hasattr(headers, "get") else None
    if value is not None:
        return str(value)
    lowered = name.lower()
    for key, val in dict(headers).items():
        if str(key).lower() == lowered:
            return str(val)
    return None


def parse_stripe_event(provider: str, raw_body: bytes) -> ProviderEvent:
    """A Stripe-shaped event (`{id, type, created, data: {object}}`) from a verified body."""
    import json

    try:
        event = json.loads(raw_body)
    except ValueError:
        raise SignatureError("The body is not JSON") from None
    if (
        not isinstance(event, dict)
        or not isinstance(event.get("id"), str)
        or not isinstance(event.get("type"), str)
    ):
        raise SignatureError("The body is not an event")
    data: dict[str, Any] = event["data"] if isinstance(event.get("data"), dict) else {}
    obj: dict[str, Any] = data["object"] if isinstance(data.get("object"), dict) else {}
    created = event.get("created")
    return ProviderEvent(
        id=event["id"],
        type=event["type"],
        data=obj,
        created=int(created) if isinstance(created, int | float) else 0,
        provider=provider,
        raw=event,
    )
