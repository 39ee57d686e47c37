"""API contract of renders: preview and final requests, status, and the accepted answer."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class StrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PreviewIn(StrictIn):
    """Ids only: the server renders its own stored spec (never a client URL or path)."""

    spec_hash: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    snapshot_id: str | None = Field(default=None, min_length=1, max_length=40)
    design_id: str | None = Field(default=None, min_length=1, max_length=40)
    width: int = Field(default=1024, ge=64, le=2048)
    format: Literal["png", "webp"] = "png"
    mockup: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> PreviewIn:
        given = [x for x in (self.spec_hash, self.snapshot_id, self.design_id) if x]
        if len(given) != 1:
            raise ValueError("give exactly one of spec_hash, snapshot_id or design_id")
        return self


class FinalIn(StrictIn):
    snapshot_id: str = Field(min_length=1, max_length=40)


class RenderAccepted(BaseModel):
    """202 while the job runs; 200 with `outputs` when the render already exists."""

    render_id: str
    kind: str
    status: str
    status_url: str
    preview_url: str | None = None
    outputs: dict[str, str] = {}


class RenderStatus(BaseModel):
    render_id: str
    kind: str
    status: str
    progress: float
    error: str | None
    outputs: dict[str, str]
    files: dict[str, dict[str, Any]] = {}
    timings: dict[str, Any]
    spec_hash: str
    snapshot_id: str | None = None
    design_id: str | None = None
