"""The order status machine: every pair of statuses is either allowed or a 409."""

from __future__ import annotations

import itertools

import pytest

from luneo.commerce.status import STATUSES, can_transition, check_transition
from luneo.platform.domain_errors import DomainError
from luneo.platform.errors import problem_from

VALID = {
    ("pending", "paid"),
    ("pending", "cancelled"),
    ("paid", "in_production"),
    ("paid", "cancelled"),
    ("paid", "refunded"),
    ("in_production", "shipped"),
    ("in_production", "refunded"),
    ("shipped", "delivered"),
    ("shipped", "refunded"),
    ("delivered", "refunded"),
}


@pytest.mark.parametrize(("current", "to"), list(itertools.product(STATUSES, STATUSES)))
def test_every_pair(current, to):
    assert can_transition(current, to) == ((current, to) in VALID)
    if (current, to) in VALID:
        check_transition(current, to)
    else:
        with pytest.raises(DomainError) as err:
            check_transition(current, to)
        assert (problem_from(err.value).status, err.value.code) == (409, "invalid_transition")
