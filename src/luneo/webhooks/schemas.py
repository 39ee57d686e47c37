"""Webhooks API contract: endpoints (secret shown once), deliveries, replays."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from luneo.webhooks.events import EVENT_TYPES

EventType = Literal[
    "order.created",
    "order.paid",
    "order.refunded",
    "order.cancelled",
    "order.shipped",
    "snapshot.created",
    "snapshot.approved",
    "render.ready",
    "work_order.status_changed",
    "work_order.failed",
    "pack.ready",
    "credits.low_balance",
    "design.saved",
]
assert set(EventType.__args__) == set(EVENT_TYPES)  # type: ignore[attr-defined]

URL_FIELD = Field(min_length=8, max_length=2048, description="https URL (http in development only).")


class EndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = URL_FIELD
    description: str = Field(default="", max_length=500)
    event_types: list[EventType] = Field(min_length=1, max_length=len(EVENT_TYPES))
    enabled: bool = True


class EndpointPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, min_length=8, max_length=2048)
    description: str | None = Field(default=None, max_length=500)
    event_types: list[EventType] | None = Field(default=None, min_length=1, max_length=len(EVENT_TYPES))
    enabled: bool | None = None


class EndpointOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    disabled_reason: str | None
    disabled_at: datetime | None
    failure_streak: int
    previous_secret_expires_at: datetime | None = Field(
        description="Until then the previous secret also signs (rotation overlap); null: none."
    )
    created_at: datetime
    updated_at: datetime


class EndpointCreated(EndpointOut):
    secret: str = Field(description="The signing secret (`whsec_…`). Shown once; store it now.")


class RotateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    overlap_s: int = Field(
        default=24 * 3600,
        ge=0,
        le=7 * 24 * 3600,
        description="How long the previous secret keeps signing next to the new one (default 24 h).",
    )


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    event_id: str
    endpoint_id: str
    event_type: str
    status: Literal["blocked", "pending", "succeeded", "failed"]
    attempt: int
    response_status: int | None
    response_body: str | None = Field(description="The first 1 KiB of the receiver's answer.")
    error: str | None
    duration_ms: float | None
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    request_id: str | None
    replay_of: str | None
    created_at: datetime


class ReplayFailedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: datetime = Field(description="Replay the failed deliveries created at or after this time.")


class ReplayFailedOut(BaseModel):
    replayed: int
    data: list[DeliveryOut]
