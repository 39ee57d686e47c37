"""What other domains may use of commerce: the server's price of a personalized product.

Other domains import `luneo.commerce.public` (or `from luneo.commerce import public as commerce`),
never `luneo.commerce.pricing`, `.service` or other internals (import-linter contract
`domains-through-public`). The widget's quote prices with exactly these functions, so a quote
equals the cart line for the same design.
"""

from __future__ import annotations

from luneo.commerce.pricing import AddOn, unit_price, zone_add_ons
from luneo.commerce.schemas import MAX_QUANTITY

__all__ = ["MAX_QUANTITY", "AddOn", "unit_price", "zone_add_ons"]
