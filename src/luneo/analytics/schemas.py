"""API contract of the widget's event ingestion and the funnel query."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

EventName = Literal[
    "widget_loaded",
    "validation_failed",
    "preview_requested",
    "preview_ready",
    "snapshot_created",
    "add_to_cart_clicked",
    "3d_opened",
    "ar_opened",
    "design_saved",
]
EVENT_NAMES: tuple[str, ...] = EventName.__args__  # type: ignore[attr-defined]
MAX_BATCH = 50
MAX_DURATION_MS = 600_000


class EventIn(BaseModel):
    """One widget event. Nothing else is accepted (no free-form properties: no personal data)."""

    model_config = ConfigDict(extra="forbid")

    name: EventName
    product_id: str = Field(min_length=1, max_length=40)
    session_id: str = Field(
        pattern=r"^[A-Za-z0-9_-]{8,64}$",
        description="The widget's random id for this page view (not the shopper token).",
    )
    at: AwareDatetime = Field(description="The client's timestamp (RFC 3339 with offset).")
    duration_ms: int | None = Field(
        default=None, strict=True, ge=0, le=MAX_DURATION_MS, description="A timing, e.g. preview latency."
    )


class EventBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[EventIn] = Field(min_length=1, max_length=MAX_BATCH)


class RejectedEvent(BaseModel):
    index: int
    code: Literal["unknown_product", "timestamp_out_of_range"]


class IngestOut(BaseModel):
    """`accepted` events were stored; `rejected` ones (by index in the batch) were dropped."""

    accepted: int
    rejected: list[RejectedEvent]


class FunnelRow(BaseModel):
    """One product on one UTC day: event counts (every name, zeros included) and conversion =
    `add_to_cart_clicked` / `widget_loaded` (null when nothing loaded)."""

    product_id: str
    day: date
    counts: dict[str, int]
    conversion: float | None


class FunnelTotals(BaseModel):
    counts: dict[str, int]
    conversion: float | None


class FunnelOut(BaseModel):
    date_from: date = Field(serialization_alias="from")
    date_to: date = Field(serialization_alias="to")
    product_id: str | None
    events: list[str]
    rows: list[FunnelRow]
    totals: FunnelTotals
