"""What other domains may use of analytics: the funnel query and the event names.

Other domains import `luneo.analytics.public`, never `luneo.analytics.models` or `.service`
(import-linter contract `domains-through-public`).
"""

from __future__ import annotations

from luneo.analytics.schemas import EVENT_NAMES, FunnelOut
from luneo.analytics.service import funnel

__all__ = ["EVENT_NAMES", "FunnelOut", "funnel"]
