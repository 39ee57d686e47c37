"""What other domains may use of payments: start a checkout, refund, look payments up.

Other domains import `luneo.payments.public` (or `from luneo.payments import public as payments`),
never `luneo.payments.service`, `.providers` or `.models` (import-linter contract
`domains-through-public`). Outcomes arrive as events (`payment.succeeded`, `payment.refunded`, …).
"""

from __future__ import annotations

from luneo.payments.providers import active_provider_name
from luneo.payments.providers.base import CheckoutRequest, LineItem, from_minor, to_minor
from luneo.payments.service import (
    alert,
    payments_for_reference,
    record_offline_payment,
    refund_payment,
    refund_unpayable_capture,
    start_checkout,
)

__all__ = [
    "CheckoutRequest",
    "LineItem",
    "active_provider_name",
    "alert",
    "from_minor",
    "payments_for_reference",
    "record_offline_payment",
    "refund_payment",
    "refund_unpayable_capture",
    "start_checkout",
    "to_minor",
]
