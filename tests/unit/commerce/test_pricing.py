"""Pure money math: half-up rounding, largest-remainder allocation, add-ons, totals."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from luneo.commerce.pricing import (
    Discount,
    LineIn,
    ShopRates,
    allocate,
    compute_totals,
    round_half_up,
    unit_price,
    zone_add_ons,
)


@pytest.mark.parametrize(
    ("n", "d", "want"),
    [
        (5, 10, 1),
        (4, 10, 0),
        (15, 10, 2),
        (25, 10, 3),
        (0, 7, 0),
        (1, 2, 1),
        (1, 3, 0),
        (2, 3, 1),
        (-5, 10, -1),
    ],
)
def test_round_half_up(n, d, want):
    assert round_half_up(n, d) == want


def test_allocate_largest_remainder_ties_to_earlier():
    assert allocate(10, [1, 1, 1]) == [4, 3, 3]
    assert allocate(100, [3333, 3333, 3334]) == [33, 33, 34]
    assert allocate(0, [5, 5]) == [0, 0]
    assert allocate(7, [0, 0]) == [7, 0]


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.integers(0, 10**7), st.lists(st.integers(0, 10**6), min_size=1, max_size=20))
def test_allocate_always_sums(amount, weights):
    parts = allocate(amount, weights)
    assert sum(parts) == amount and all(p >= 0 for p in parts)


def _spec(zones, inputs):
    return {"product": {"zones": zones}, "inputs": inputs}


def test_add_ons_flat_and_per_grapheme():
    zones = [
        {"key": "name", "kind": "text", "rules": {"price_flat_cents": 200, "price_per_char_cents": 15}},
        {"key": "back", "kind": "text", "rules": {"price_flat_cents": 100}},
        {"key": "photo", "kind": "image", "rules": {"price_flat_cents": 300, "price_per_char_cents": 99}},
    ]
    # "Zoé" with a combining accent + a family emoji (7 code points, 1 grapheme) + a line break (free)
    text = "Zoe\u0301 \U0001f468\u200d\U0001f469\u200d\U0001f467\nAB"
    spec = _spec(
        zones,
        {
            "name": {"kind": "text", "text": text},
            "back": {"kind": "text", "text": "   "},
            "photo": {"kind": "image", "asset_id": "ast_1"},
        },
    )
    add = {a.zone: a for a in zone_add_ons(spec)}
    assert add["name"].chars == 3 + 1 + 1 + 2  # Z o é, space, family, A B
    assert add["name"].cents == 200 + 7 * 15
    assert "back" not in add  # whitespace-only text is empty: no flat fee
    assert add["photo"].cents == 300  # per-char never applies to images
    assert unit_price(1000, spec) == 1000 + 305 + 300
    assert unit_price(1000, None) == 1000


def test_totals_plain():
    t = compute_totals([LineIn(1999, 3), LineIn(500, 1)], ShopRates())
    assert (t.subtotal_cents, t.discount_cents, t.shipping_cents, t.tax_cents, t.total_cents) == (
        6497,
        0,
        0,
        0,
        6497,
    )


def test_percent_discount_half_up_and_allocated():
    # 12.5 % of 1004 = 125.5 → 126 (half-up); allocated 3:1 by line totals
    t = compute_totals([LineIn(251, 3), LineIn(251, 1)], ShopRates(), Discount(percent_bps=1250))
    assert t.discount_cents == 126
    assert [ln.discount_cents for ln in t.lines] == [95, 31]  # tie on remainders → earlier line
    assert sum(ln.discount_cents for ln in t.lines) == 126
    assert t.total_cents == 1004 - 126


def test_fixed_discount_never_exceeds_subtotal():
    t = compute_totals([LineIn(300, 1)], ShopRates(shipping_flat_cents=490), Discount(amount_cents=1000))
    assert (t.discount_cents, t.shipping_cents, t.total_cents) == (300, 490, 490)


def test_shipping_threshold_uses_discounted_goods():
    rates = ShopRates(shipping_flat_cents=590, free_shipping_threshold_cents=5000)
    assert compute_totals([LineIn(5000, 1)], rates).shipping_cents == 0
    assert compute_totals([LineIn(4999, 1)], rates).shipping_cents == 590
    assert compute_totals([LineIn(5000, 1)], rates, Discount(amount_cents=1)).shipping_cents == 590


def test_tax_exclusive_rounding():
    # 20 % of (1003 + 499 shipping) = 300.4 → 300; 20 % of 1005+500 = 301.0; 5.5 % of 1010 = 55.55 → 56
    t = compute_totals([LineIn(1003, 1)], ShopRates(shipping_flat_cents=499, tax_rate_bps=2000))
    assert (t.tax_cents, t.total_cents) == (300, 1003 + 499 + 300)
    assert sum(ln.tax_cents for ln in t.lines) + t.shipping_tax_cents == 300
    t = compute_totals([LineIn(1010, 1)], ShopRates(tax_rate_bps=550))
    assert (t.tax_cents, t.total_cents) == (56, 1066)
    t = compute_totals(
        [LineIn(1010, 1)], ShopRates(tax_rate_bps=550, tax_shipping=False, shipping_flat_cents=100)
    )
    assert t.tax_cents == 56 and t.shipping_tax_cents == 0


def test_tax_inclusive_is_extracted_not_added():
    # 1200 incl. 20 % → tax 200; 1000 incl. 20 % → 166.67 → 167; 1001 incl 5.5 % → 52.18 → 52
    t = compute_totals([LineIn(1200, 1)], ShopRates(tax_rate_bps=2000, tax_inclusive=True))
    assert (t.tax_cents, t.total_cents) == (200, 1200)
    t = compute_totals([LineIn(1000, 1)], ShopRates(tax_rate_bps=2000, tax_inclusive=True))
    assert (t.tax_cents, t.total_cents) == (167, 1000)
    t = compute_totals([LineIn(1001, 1)], ShopRates(tax_rate_bps=550, tax_inclusive=True))
    assert t.tax_cents == 52


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 100_000), st.integers(1, 1000)), min_size=1, max_size=8),
    st.integers(0, 10_000),
    st.booleans(),
    st.integers(0, 3000),
    st.one_of(st.none(), st.integers(1, 10_000)),
)
def test_totals_are_consistent(lines, bps, inclusive, shipping, pct):
    t = compute_totals(
        [LineIn(u, q) for u, q in lines],
        ShopRates(shipping_flat_cents=shipping, tax_rate_bps=bps, tax_inclusive=inclusive),
        Discount(percent_bps=pct) if pct else None,
    )
    assert t.subtotal_cents == sum(u * q for u, q in lines)
    assert sum(ln.discount_cents for ln in t.lines) == t.discount_cents <= t.subtotal_cents
    assert sum(ln.tax_cents for ln in t.lines) + t.shipping_tax_cents == t.tax_cents
    extra = 0 if inclusive else t.tax_cents
    assert t.total_cents == t.subtotal_cents - t.discount_cents + t.shipping_cents + extra >= 0
