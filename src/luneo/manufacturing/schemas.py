"""Manufacturing API contract: work orders, their history, export packs and order bundles."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from luneo.manufacturing.export import MAX_KERF_MM
from luneo.manufacturing.models import WorkOrderStatus


class PrintIssueOut(BaseModel):
    code: str
    zone: str
    severity: Literal["error", "warning"]
    message: str
    params: dict[str, Any] = Field(default_factory=dict)


class WorkOrderEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    from_status: str | None
    to_status: str
    actor: str
    note: str
    created_at: datetime


class WorkOrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    order_id: str | None
    order_item_id: str
    order_number: str | None
    snapshot_id: str | None
    spec_hash: str | None
    product_id: str
    product_sku: str
    production_method: str
    quantity: int
    kerf_mm: float
    status: WorkOrderStatus
    assignee: str | None
    production_partner: str | None
    notes: str
    print_checks: list[PrintIssueOut]
    checks_blocked: bool
    checks_overridden_by: str | None
    checks_overridden_at: datetime | None
    pack_id: str | None
    pack_sha256: str | None
    pack_bytes: int | None
    error: str | None
    source: str
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    ready_at: datetime | None
    done_at: datetime | None
    cancelled_at: datetime | None


class WorkOrderDetailOut(WorkOrderOut):
    history: list[WorkOrderEventOut] = Field(default_factory=list)


class WorkOrderIn(BaseModel):
    """Create one work order for a snapshot (e.g. an order taken outside Luneo's commerce)."""

    model_config = ConfigDict(extra="forbid")

    snapshot_id: str = Field(max_length=40)
    quantity: int = Field(default=1, ge=1, le=100_000)
    order_id: str | None = Field(default=None, max_length=64)
    order_item_id: str | None = Field(default=None, max_length=64)
    order_number: str | None = Field(default=None, max_length=64)
    assignee: str | None = Field(default=None, max_length=200)
    production_partner: str | None = Field(default=None, max_length=200)
    notes: str = Field(default="", max_length=10_000)
    kerf_mm: float = Field(default=0.0, ge=0, le=MAX_KERF_MM)


class OrderItemIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    order_item_id: str = Field(min_length=1, max_length=64)
    product_id: str | None = Field(default=None, max_length=40)
    snapshot_id: str | None = Field(default=None, max_length=40)
    quantity: int = Field(default=1, ge=1, le=100_000)


class OrderIn(BaseModel):
    """The `order.paid` payload shape (brand taken from the caller, never from the body)."""

    model_config = ConfigDict(extra="ignore")

    order_id: str = Field(min_length=1, max_length=64)
    number: str | None = Field(default=None, max_length=64)
    items: list[OrderItemIn] = Field(min_length=1, max_length=1000)


class AttachSnapshotIn(BaseModel):
    """The snapshot a `needs_attention` work order is made from (it must fill the required zones)."""

    model_config = ConfigDict(extra="forbid")

    snapshot_id: str = Field(min_length=1, max_length=40)


class WorkOrderPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    assignee: str | None = Field(default=None, max_length=200)
    production_partner: str | None = Field(default=None, max_length=200)
    notes: str | None = Field(default=None, max_length=10_000)


class TransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: WorkOrderStatus
    note: str = Field(default="", max_length=2000)


class OverrideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=2000)


class WorkOrderExportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kerf_mm: float | None = Field(default=None, ge=0, le=MAX_KERF_MM)


class ExportPackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    snapshot_id: str = Field(max_length=40)
    quantity: int = Field(default=1, ge=1, le=100_000)
    kerf_mm: float = Field(default=0.0, ge=0, le=MAX_KERF_MM)


class ExportPackOut(BaseModel):
    """A pack export: `status` pending → success | failed; url/sha256/bytes once built."""

    pack_id: str
    job_id: str | None
    status: Literal["pending", "success", "failed"]
    snapshot_id: str
    spec_hash: str
    options: dict[str, Any]
    sha256: str | None = None
    bytes: int | None = None
    url: str | None = None
    expires_at: datetime | None = None
    manifest: dict[str, Any] | None = None
    print_checks: list[PrintIssueOut] = Field(default_factory=list)
    error: str | None = None
    created_at: datetime


class DownloadOut(BaseModel):
    """A signed, expiring download URL."""

    url: str
    expires_at: datetime
    sha256: str
    bytes: int
