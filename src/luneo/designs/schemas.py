"""API contract of specs, personalization checks, snapshots and saved designs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class StrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Violation(BaseModel):
    zone: str | None
    code: str
    message: str
    params: dict[str, Any] = {}


class DesignInputs(StrictIn):
    """A product and what the shopper entered per zone key."""

    product_id: str = Field(min_length=1, max_length=40)
    inputs: dict[str, dict[str, Any]] = Field(default_factory=dict, max_length=64)


class ValidationOut(BaseModel):
    valid: bool
    violations: list[Violation]
    warnings: list[Violation]
    sizes: dict[str, float] = {}


class SpecOut(BaseModel):
    id: str
    spec_hash: str
    spec_version: str
    product_id: str
    spec: dict[str, Any]
    warnings: list[Violation] = []
    sizes: dict[str, float] = {}
    created_at: datetime


class SpecValidateIn(StrictIn):
    spec: dict[str, Any]


class SpecValidateOut(BaseModel):
    valid: bool
    spec_hash: str | None
    violations: list[Violation]
    warnings: list[Violation] = []


class NormalizeIn(StrictIn):
    texts: dict[str, str] = Field(max_length=64)


class NormalizeOut(BaseModel):
    texts: dict[str, str]
    changed: list[str]


class AutoFitIn(StrictIn):
    product_id: str = Field(min_length=1, max_length=40)
    zone: str = Field(min_length=1, max_length=64)
    text: str = Field(max_length=2000)
    font: str | None = Field(default=None, max_length=40)


class AutoFitOut(BaseModel):
    zone: str
    font: str
    size_pt: float
    fits: bool
    lines: int
    bbox_mm: list[float] | None
    missing_chars: list[str]


class Provenance(StrictIn):
    source: Literal["widget", "shopify", "api"] = "api"
    session_id: str | None = Field(default=None, max_length=200)


class SnapshotIn(StrictIn):
    """Either an existing `spec_hash` or a product + inputs to build one."""

    spec_hash: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    product_id: str | None = Field(default=None, max_length=40)
    inputs: dict[str, dict[str, Any]] | None = Field(default=None, max_length=64)
    provenance: Provenance = Field(default_factory=Provenance)


class ApprovalOut(BaseModel):
    """Who approved a snapshot's proof (a shopper's public id `shp_…`, or a brand actor), when
    (UTC) and which design (`spec_hash`), with the non-blocking findings shown at the time."""

    model_config = ConfigDict(from_attributes=True)

    spec_hash: str
    approved_by: str
    approved_at: datetime
    findings: list[dict[str, Any]] = []


class SnapshotOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    spec_id: str
    spec_hash: str
    product_id: str
    spec: dict[str, Any]
    assets: dict[str, Any]
    provenance: dict[str, Any]
    created_by: str | None
    validated_by: str | None
    validated_at: datetime | None
    locked_by: str | None
    locked_at: datetime | None
    created_at: datetime
    approvals: list[ApprovalOut] = []


class ProofZone(BaseModel):
    """A zone as it will be produced: text after normalisation and auto-fit, or a photo's DPI."""

    zone: str
    label: str
    kind: Literal["text", "image"]
    text: str | None = None
    lines: list[str] | None = None
    font: str | None = None
    color: str | None = None
    size_pt: float | None = None
    max_size_pt: float | None = None
    auto_shrunk: bool | None = None
    effective_dpi: float | None = None
    min_dpi: int | None = None


class PrintFinding(BaseModel):
    code: str
    zone: str
    severity: Literal["error", "warning"]
    message: str
    params: dict[str, Any] = {}


class ProofOut(BaseModel):
    """The final proof of a snapshot, computed with production's own print checks."""

    snapshot_id: str
    spec_hash: str
    product_id: str
    product_name: str
    preview_request: dict[str, Any]
    zones: list[ProofZone]
    findings: list[PrintFinding]
    blocking: bool
    approval_required: bool
    approved: bool
    approval: ApprovalOut | None = None


class DesignIn(StrictIn):
    name: str = Field(min_length=1, max_length=200)
    source: Literal["widget", "ai", "api"] = "api"
    spec_hash: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    product_id: str | None = Field(default=None, max_length=40)
    inputs: dict[str, dict[str, Any]] | None = Field(default=None, max_length=64)


class DesignOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    spec_hash: str
    product_id: str
    source: str
    share_url: str | None = None
    inputs: dict[str, Any] = {}
    created_at: datetime


class SharedDesignOut(BaseModel):
    name: str
    spec_hash: str
    product_id: str
    spec: dict[str, Any]
    created_at: datetime
