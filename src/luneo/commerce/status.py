"""The order status machine.

pending → paid → in_production → shipped → delivered; cancelled from pending or paid;
refunded from paid, in_production, shipped or delivered. Anything else is a 409
`invalid_transition` problem.
"""

from __future__ import annotations

from luneo.commerce.error_codes import CommerceErrorCode
from luneo.platform.domain_errors import DomainError

STATUSES = ("pending", "paid", "in_production", "shipped", "delivered", "cancelled", "refunded")

TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"paid", "cancelled"}),
    "paid": frozenset({"in_production", "cancelled", "refunded"}),
    "in_production": frozenset({"shipped", "refunded"}),
    "shipped": frozenset({"delivered", "refunded"}),
    "delivered": frozenset({"refunded"}),
    "cancelled": frozenset(),
    "refunded": frozenset(),
}

#: The timestamp column set when an order enters a status.
STAMPS = {
    "paid": "paid_at",
    "in_production": "in_production_at",
    "shipped": "shipped_at",
    "delivered": "delivered_at",
    "cancelled": "cancelled_at",
    "refunded": "refunded_at",
}


def can_transition(current: str, to: str) -> bool:
    return to in TRANSITIONS.get(current, frozenset())


def check_transition(current: str, to: str) -> None:
    """Raise a 409 `invalid_transition` problem unless `current → to` is allowed."""
    if not can_transition(current, to):
        allowed = sorted(TRANSITIONS.get(current, frozenset()))
        raise DomainError(
            CommerceErrorCode.INVALID_TRANSITION,
            f"An order cannot go from {current} to {to}.",
            current=current,
            to=to,
            allowed=allowed,
        )
