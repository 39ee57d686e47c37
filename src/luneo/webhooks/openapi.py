"""The webhook events in the OpenAPI document's `webhooks` section (OpenAPI 3.1): one operation
per event type, whose request body is that event's envelope and versioned `data` (see
docs/WEBHOOKS.md). `install(app)` runs from the domain registry (`app_hooks` in `luneo.domains`).

The models describe what `luneo.webhooks.events` sends; fields may be added within a version.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Body, FastAPI
from pydantic import BaseModel, ConfigDict, Field, create_model

from luneo.webhooks.events import EVENT_TYPES, PAYLOAD_VERSION, SIGNED_URL_TTL_S


class _Data(BaseModel):
    model_config = ConfigDict(extra="allow")  # fields may be added within a version


class Customer(_Data):
    email: str | None
    name: str | None


class OrderItem(_Data):
    order_item_id: str
    product_id: str | None
    sku: str | None
    name: str | None
    snapshot_id: str | None
    spec_hash: str | None
    quantity: int
    price_cents: int
    total_cents: int


class OrderData(_Data):
    """The order as it is after the change (money in integer minor units of `currency`)."""

    order_id: str
    number: int
    status: str
    payment_status: str
    source: str
    currency: str = Field(description="ISO 4217")
    subtotal_cents: int
    discount_cents: int
    shipping_cents: int
    tax_cents: int
    total_cents: int
    customer: Customer
    items: list[OrderItem]
    metadata: dict[str, Any]
    created_at: datetime | None


class OrderShippedData(OrderData):
    tracking_number: str | None = None
    carrier: str | None = None


class SnapshotData(_Data):
    snapshot_id: str
    spec_hash: str
    product_id: str | None = None
    created_by: str | None = None
    created_at: datetime | None = None


class SnapshotApprovedData(SnapshotData):
    approved_by: str | None = None
    approved_at: datetime | None = None


class RenderReadyData(_Data):
    render_id: str
    kind: str
    spec_hash: str | None = None
    snapshot_id: str | None = None
    design_id: str | None = None
    outputs: dict[str, str] = Field(
        description=f"Signed URLs by format (png, svg, print, glb, usdz), {SIGNED_URL_TTL_S // 86400} days."
    )


class WorkOrderRef(_Data):
    work_order_id: str
    order_id: str | None
    order_item_id: str | None


class WorkOrderStatusData(WorkOrderRef):
    from_: str | None = Field(alias="from", description="The previous status.")
    to: str
    note: str = ""


class WorkOrderFailedData(WorkOrderRef):
    error: str | None


class Pack(_Data):
    url: str = Field(description="Signed download URL, valid until `expires_at`.")
    expires_at: datetime | None
    sha256: str | None
    size_bytes: int | None
    content_type: Literal["application/zip"] = "application/zip"


class PackReadyData(WorkOrderRef):
    pack: Pack


class LowBalanceData(_Data):
    balance: int | None
    last_topup: int | None
    threshold: int | None
    buy_url: str | None


class DesignSavedData(_Data):
    design_id: str
    name: str | None = None
    source: str | None = None
    product_id: str | None = None
    spec_hash: str | None = None


#: The `data` model of each event type.
DATA_MODELS: dict[str, type[BaseModel]] = {
    "order.created": OrderData,
    "order.paid": OrderData,
    "order.refunded": OrderData,
    "order.cancelled": OrderData,
    "order.shipped": OrderShippedData,
    "snapshot.created": SnapshotData,
    "snapshot.approved": SnapshotApprovedData,
    "render.ready": RenderReadyData,
    "work_order.status_changed": WorkOrderStatusData,
    "work_order.failed": WorkOrderFailedData,
    "pack.ready": PackReadyData,
    "credits.low_balance": LowBalanceData,
    "design.saved": DesignSavedData,
}
assert set(DATA_MODELS) == set(EVENT_TYPES)

SUMMARIES: dict[str, str] = {
    "order.created": "An order is written (API, cart checkout, sales channel).",
    "order.paid": "The order becomes paid.",
    "order.refunded": "The order is refunded.",
    "order.cancelled": "The order is cancelled.",
    "order.shipped": "The order is marked shipped (tracking number and carrier when given).",
    "snapshot.created": "A design is frozen into a new snapshot.",
    "snapshot.approved": "A shopper or member approves a snapshot's proof.",
    "render.ready": "A final render (high-res + 3D/AR) finished.",
    "work_order.status_changed": "A work order's status changes.",
    "work_order.failed": "A work order became `failed`.",
    "pack.ready": "A work order's production pack is ready, with a signed, expiring URL.",
    "credits.low_balance": "The AI credit balance crossed under 20 % of the last top-up.",
    "design.saved": "A named design is saved.",
}

_HEADERS = (
    "Signed with the Standard Webhooks scheme: headers `webhook-id` (the event id), "
    "`webhook-timestamp` and `webhook-signature` (`v1,<base64 HMAC-SHA256>`, two during a secret "
    "rotation), plus `X-Request-ID`. Answer 2xx within 10 s; anything else is retried."
)


def _class_name(event_type: str) -> str:
    return "".join(p.capitalize() for p in event_type.replace("_", ".").split(".")) + "Event"


def envelope(event_type: str) -> type[BaseModel]:
    """The body POSTed for `event_type`: `{type, id, timestamp, data, version}`."""
    model: type[BaseModel] = create_model(
        _class_name(event_type),
        __doc__=SUMMARIES[event_type],
        type=(Literal[event_type], Field(description="The event type.")),  # type: ignore[valid-type,arg-type]
        id=(str, Field(description="Stable event id (`evt_…`), also the `webhook-id` header.")),
        timestamp=(datetime, Field(description="When the change happened (UTC).")),
        data=(DATA_MODELS[event_type], ...),
        version=(Literal[PAYLOAD_VERSION], Field(description="Payload version of `data`.")),  # type: ignore[valid-type,arg-type]
    )
    return model


def _operation(event_type: str, model: type[BaseModel]) -> Callable[..., None]:
    def receive(body: Any = Body(...)) -> None:
        """Documentation only: Luneo POSTs this to your endpoint."""

    receive.__annotations__ = {"body": model, "return": None}
    receive.__name__ = event_type.replace(".", "_")
    return receive


def webhooks_router() -> APIRouter:
    """One documented operation per event type (POST to the brand's endpoint URL)."""
    router = APIRouter(tags=["webhook events"])
    for event_type in EVENT_TYPES:
        router.add_api_route(
            event_type,
            _operation(event_type, envelope(event_type)),
            methods=["POST"],
            summary=SUMMARIES[event_type],
            description=_HEADERS,
            operation_id=f"webhook_{event_type.replace('.', '_')}",
            status_code=200,
            responses={200: {"description": "Received (any 2xx)."}},
        )
    return router


def install(app: FastAPI) -> None:
    """Add the event catalogue to `app.webhooks` (rendered in `/api/v1/openapi.json`)."""
    app.webhooks.include_router(webhooks_router())
    app.openapi_schema = None
