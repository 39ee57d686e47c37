"""What other domains (and the dashboard) may use of fulfilment: the hand-off statuses of an order.

Other domains import `luneo.fulfilment.public`, never its internals (import-linter contract
`domains-through-public`)."""

from __future__ import annotations

from luneo.fulfilment.models import Handoff
from luneo.fulfilment.service import order_handoffs

__all__ = ["Handoff", "order_handoffs"]
