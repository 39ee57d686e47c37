"""What other domains may use of analytics: the funnel queries and the event names.

Other domains import `luneo.analytics.public`, never `luneo.analytics.models` or `.service`
(import-linter contract `domains-through-public`).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from luneo.analytics.schemas import EVENT_NAMES, FunnelOut
from luneo.analytics.service import (
    FUNNEL_STEPS,
    MAX_FUNNEL_DAYS,
    STEP_NAMES,
    FunnelStep,
    WidgetFunnel,
    check_range,
    funnel,
    product_options,
    widget_funnel,
)

__all__ = [
    "EVENT_NAMES",
    "FUNNEL_STEPS",
    "MAX_FUNNEL_DAYS",
    "STEP_NAMES",
    "FunnelOut",
    "FunnelStep",
    "WidgetFunnel",
    "check_range",
    "funnel",
    "product_options",
    "widget_funnel",
]


def has_event(session: Session, brand_id: str, name: str) -> bool:
    """Whether the brand ever received a widget event `name` (e.g. `widget_loaded`): the home
    page's onboarding checklist."""
    from sqlalchemy import select

    from luneo.analytics.models import AnalyticsEvent

    return (
        session.execute(
            select(AnalyticsEvent.id)
            .where(AnalyticsEvent.brand_id == brand_id, AnalyticsEvent.name == name)
            .limit(1)
        ).first()
        is not None
    )
