"""Exact minor-unit ↔ decimal-string conversion (PayPal amounts)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from luneo.payments.providers.base import currency_exponent, from_minor, to_minor


@pytest.mark.parametrize(
    ("cents", "currency", "text"),
    [
        (1234, "EUR", "12.34"),
        (5, "USD", "0.05"),
        (100, "usd", "1.00"),
        (0, "EUR", "0.00"),
        (500, "JPY", "500"),
        (1, "JPY", "1"),
        (1234, "KWD", "1.234"),
        (-250, "EUR", "-2.50"),
        (999_999_999_999, "EUR", "9999999999.99"),
    ],
)
def test_round_trip_examples(cents, currency, text):
    assert from_minor(cents, currency) == text
    assert to_minor(text, currency) == cents


def test_parsing_accepts_short_and_zero_padded_fractions():
    assert to_minor("12.3", "EUR") == 1230
    assert to_minor("12", "EUR") == 1200
    assert to_minor("12.340", "EUR") == 1234
    assert to_minor("500.00", "JPY") == 500


@pytest.mark.parametrize("bad", ["12.345", "1e3", "abc", "", "12.", ".5", "0.1"])
def test_rejects_what_is_not_exact(bad):
    currency = "JPY" if bad == "0.1" else "EUR"
    with pytest.raises(ValueError):
        to_minor(bad, currency)


def test_exponents():
    assert (currency_exponent("JPY"), currency_exponent("EUR"), currency_exponent("BHD")) == (0, 2, 3)


@given(
    st.integers(min_value=-(10**15), max_value=10**15), st.sampled_from(["EUR", "JPY", "KWD", "USD", "CLF"])
)
def test_round_trip_property(cents, currency):
    assert to_minor(from_minor(cents, currency), currency) == cents
