"""Pure money math for carts and orders: integer cents only, deterministic rounding.

Rules (also in the README):

1. **Unit price** = product `price_cents` + for each zone of the snapshot's frozen product
   definition whose input is non-empty: the zone's `price_flat_cents`, plus, for text
   zones, `price_per_char_cents` × the text's grapheme count (extended grapheme clusters
   after NFC, line breaks not counted — the same count as the zone's `max_chars`). A client
   never sends a price.
2. **Line total** = unit price × quantity (exact).
3. **Subtotal** = Σ line totals.
4. **Discount**: percent coupons take `round_half_up(subtotal × bps / 10000)`; fixed coupons
   take `min(amount_off, subtotal)`. The discount is allocated to the lines in proportion to
   their totals by the largest-remainder method (floor each share, then hand the missing
   cents one by one to the largest remainders, ties to the earlier line), so the line
   discounts always sum to the order discount.
5. **Shipping** = the brand's flat rate, or 0 when `subtotal − discount` ≥ the brand's
   free-shipping threshold (when one is set).
6. **Tax** (brand rate in basis points) applies to `subtotal − discount (+ shipping when
   shipping is taxable)`:
   - *exclusive*: `tax = round_half_up(base × bps / 10000)`, added to the total;
   - *inclusive*: prices already contain tax; `tax = round_half_up(base × bps / (10000 + bps))`
     is reported and not added.
   Tax is computed once on the order (not per line, so there is no rounding drift) and then
   allocated to the lines (and shipping) by the same largest-remainder method.
7. **Total** = subtotal − discount + shipping (+ tax when exclusive). Never negative.

`round_half_up(n / d)` for n ≥ 0 is `(2n + d) // 2d`: exact integer arithmetic, no floats.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from luneo.design.rules import grapheme_count

BPS = 10_000


def round_half_up(numerator: int, denominator: int) -> int:
    """`numerator / denominator` rounded half away from zero (for non-negative numerators)."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    if numerator < 0:
        return -round_half_up(-numerator, denominator)
    return (2 * numerator + denominator) // (2 * denominator)


def allocate(amount: int, weights: Sequence[int]) -> list[int]:
    """Split `amount` cents in proportion to `weights` (largest remainder; ties to the earlier index).

    The parts always sum to `amount`; with all-zero weights everything goes to the first part.
    """
    if not weights:
        if amount:
            raise ValueError("cannot allocate a non-zero amount to nothing")
        return []
    total = sum(weights)
    if total <= 0:
        return [amount] + [0] * (len(weights) - 1)
    floors = [amount * w // total for w in weights]
    remainders = [amount * w % total for w in weights]
    missing = amount - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:missing]:
        floors[i] += 1
    return floors


def _input_is_empty(value: Mapping[str, Any] | None) -> bool:
    if not value:
        return True
    kind = value.get("kind")
    if kind == "text":
        return not str(value.get("text") or "").strip()
    if kind == "image":
        return not value.get("asset_id")
    if kind == "colour":
        return not value.get("color")
    return True


@dataclass(frozen=True)
class AddOn:
    """One zone's contribution to a unit price."""

    zone: str
    flat_cents: int
    chars: int
    per_char_cents: int

    @property
    def cents(self) -> int:
        return self.flat_cents + self.chars * self.per_char_cents


def zone_add_ons(spec: Mapping[str, Any]) -> list[AddOn]:
    """Add-ons of a frozen DesignSpec (`{"product": {"zones": [...]}, "inputs": {...}}`)."""
    product = spec.get("product") or {}
    inputs = spec.get("inputs") or {}
    out: list[AddOn] = []
    for zone in product.get("zones") or []:
        key = zone.get("key")
        value = inputs.get(key)
        if _input_is_empty(value):
            continue
        rules = zone.get("rules") or {}
        flat = int(rules.get("price_flat_cents") or 0)
        per_char = int(rules.get("price_per_char_cents") or 0)
        chars = grapheme_count(str(value.get("text") or "")) if zone.get("kind") == "text" and value else 0
        if flat or (per_char and chars):
            out.append(AddOn(zone=str(key), flat_cents=flat, chars=chars, per_char_cents=per_char))
    return out


def unit_price(base_cents: int, spec: Mapping[str, Any] | None) -> int:
    """Product price plus the snapshot's zone add-ons."""
    return base_cents + (sum(a.cents for a in zone_add_ons(spec)) if spec else 0)


@dataclass(frozen=True)
class Discount:
    """A resolved coupon: either `percent_bps` or `amount_cents`."""

    percent_bps: int | None = None
    amount_cents: int | None = None

    def of(self, subtotal: int) -> int:
        if self.percent_bps is not None:
            return min(subtotal, round_half_up(subtotal * self.percent_bps, BPS))
        return min(subtotal, self.amount_cents or 0)


@dataclass(frozen=True)
class ShopRates:
    """A brand's shipping and tax settings."""

    shipping_flat_cents: int = 0
    free_shipping_threshold_cents: int | None = None
    tax_rate_bps: int = 0
    tax_inclusive: bool = False
    tax_shipping: bool = True


@dataclass(frozen=True)
class LineIn:
    unit_price_cents: int
    quantity: int


@dataclass(frozen=True)
class LineOut:
    unit_price_cents: int
    quantity: int
    total_cents: int
    discount_cents: int
    tax_cents: int


@dataclass(frozen=True)
class Totals:
    """An order's money, all integer cents."""

    lines: list[LineOut] = field(default_factory=list)
    subtotal_cents: int = 0
    discount_cents: int = 0
    shipping_cents: int = 0
    shipping_tax_cents: int = 0
    tax_cents: int = 0
    tax_inclusive: bool = False
    tax_rate_bps: int = 0
    total_cents: int = 0


def compute_totals(lines: Sequence[LineIn], rates: ShopRates, discount: Discount | None = None) -> Totals:
    """Subtotal, discount, shipping, tax and total for `lines` (see the module rules)."""
    line_totals = [ln.unit_price_cents * ln.quantity for ln in lines]
    if any(t < 0 for t in line_totals):
        raise ValueError("negative line")
    subtotal = sum(line_totals)
    disc = discount.of(subtotal) if discount else 0
    line_discounts = allocate(disc, line_totals) if lines else []
    goods = subtotal - disc
    free = rates.free_shipping_threshold_cents is not None and goods >= rates.free_shipping_threshold_cents
    shipping = 0 if free or not lines else rates.shipping_flat_cents
    net_lines = [t - d for t, d in zip(line_totals, line_discounts, strict=True)]
    taxable = [*net_lines, shipping if rates.tax_shipping else 0]
    base = sum(taxable)
    bps = rates.tax_rate_bps
    if bps <= 0:
        tax = 0
    elif rates.tax_inclusive:
        tax = round_half_up(base * bps, BPS + bps)
    else:
        tax = round_half_up(base * bps, BPS)
    tax_parts = allocate(tax, taxable) if taxable else []
    total = goods + shipping + (0 if rates.tax_inclusive else tax)
    out = [
        LineOut(ln.unit_price_cents, ln.quantity, t, d, x)
        for ln, t, d, x in zip(lines, line_totals, line_discounts, tax_parts[: len(lines)], strict=True)
    ]
    return Totals(
        lines=out,
        subtotal_cents=subtotal,
        discount_cents=disc,
        shipping_cents=shipping,
        shipping_tax_cents=tax_parts[-1] if tax_parts else 0,
        tax_cents=tax,
        tax_inclusive=rates.tax_inclusive,
        tax_rate_bps=bps,
        total_cents=total,
    )
