"""Routes: the widget's event ingestion (publishable key) and the brand's funnel."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from luneo.analytics import service
from luneo.analytics.schemas import EventBatchIn, FunnelOut, IngestOut
from luneo.catalog.public import shoppers
from luneo.platform.deps import AnalyticsReadDep, WidgetDep
from luneo.platform.errors import Problem

router = APIRouter(tags=["analytics"])

EVENTS_BODY_BYTES = 32 * 1024  # 50 events of the largest allowed shape fit in well under this


def events_body_cap(request: Request) -> None:
    """A batch body over `EVENTS_BODY_BYTES` is a 413 problem before it is parsed."""
    raw = request.scope.get("state", {}).get("raw_body")
    if raw is not None and len(raw) > EVENTS_BODY_BYTES:
        raise Problem(
            413,
            "payload_too_large",
            f"The body exceeds {EVENTS_BODY_BYTES} bytes.",
            max_bytes=EVENTS_BODY_BYTES,
        )


@router.post(
    "/widget/events",
    response_model=IngestOut,
    status_code=202,
    dependencies=[Depends(events_body_cap)],
)
def ingest_events(body: EventBatchIn, t: WidgetDep) -> IngestOut:
    """The widget's analytics events, batched (1–50 per call, body ≤ 32 KiB), publishable key only.

    Request: `{"events": [{"name": "widget_loaded", "product_id": "prd_…",
    "session_id": "k3J9x…" (8–64 of A–Z a–z 0–9 _ -, random per page view), "at":
    "2026-11-29T22:00:00.123Z", "duration_ms": 140 (optional, 0–600000)}]}`. Names:
    `widget_loaded, validation_failed, preview_requested, preview_ready, snapshot_created,
    add_to_cart_clicked, 3d_opened, ar_opened, design_saved`; any other name, field or more than
    50 events is a 422 for the whole batch. `X-Shopper-Token` is optional: only its public id is
    stored. Answer 202 `{"accepted": 2, "rejected": [{"index": 1, "code": "unknown_product"}]}`:
    an event naming a product that is not this brand's (`unknown_product`) or with a client
    time more than 2 days old or 10 minutes ahead (`timestamp_out_of_range`) is dropped.
    """
    token = t.shopper_token(required=False)
    shopper_id = shoppers.public_id(token) if token else None
    return service.ingest(t.session, body.events, shopper_id)


@router.get("/analytics/funnel", response_model=FunnelOut)
def funnel(
    t: AnalyticsReadDep,
    date_from: Annotated[
        date | None, Query(alias="from", description="First UTC day (default: to − 29).")
    ] = None,
    date_to: Annotated[date | None, Query(alias="to", description="Last UTC day (default: today).")] = None,
    product_id: Annotated[str | None, Query(min_length=1, max_length=40)] = None,
) -> FunnelOut:
    """The widget funnel per product and UTC day of receipt: counts of every event name and
    conversion = add_to_cart_clicked / widget_loaded (null with no load), plus totals. Range ≤ 366
    days (422 `funnel_range_invalid`). A secret key or a member's token (`analytics:read`)."""
    return service.funnel(t.session, t.brand_id, date_from, date_to, product_id)
