"""API contract of renders: preview and final requests, status, and the accepted answer."""

from __future__ import annotations

from datetime import datetime
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
    view: Literal["flat", "mockup"] | None = Field(
        default=None,
        description="`mockup`: the design on the product photo (perspective or cylinder wrap, with the "
        "material's shading/effect; flat when the product has no mockup); `flat` (default): the design "
        "alone. Same as the older `mockup: true|false`.",
    )
    mockup: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> PreviewIn:
        given = [x for x in (self.spec_hash, self.snapshot_id, self.design_id) if x]
        if len(given) != 1:
            raise ValueError("give exactly one of spec_hash, snapshot_id or design_id")
        if self.view == "flat" and self.mockup:
            raise ValueError("view 'flat' contradicts mockup: true")
        return self

    @property
    def wants_mockup(self) -> bool:
        return self.view == "mockup" or (self.view is None and self.mockup)


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


class PosterIn(StrictIn):
    """Which 2D preview to give as `<model-viewer poster>` (the widget's own preview options)."""

    width: int = Field(default=720, ge=64, le=2048)
    format: Literal["png", "webp"] = "png"
    mockup: bool = False


class Preview3DIn(StrictIn):
    """Ids only, like `PreviewIn`: the server renders its own stored spec."""

    spec_hash: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    snapshot_id: str | None = Field(default=None, min_length=1, max_length=40)
    design_id: str | None = Field(default=None, min_length=1, max_length=40)
    poster: PosterIn = PosterIn()

    @model_validator(mode="after")
    def _one_source(self) -> Preview3DIn:
        given = [x for x in (self.spec_hash, self.snapshot_id, self.design_id) if x]
        if len(given) != 1:
            raise ValueError("give exactly one of spec_hash, snapshot_id or design_id")
        return self


class ModelFileOut(BaseModel):
    """A stored 3D file: a signed URL (valid until `expires_at`; the file is served
    `Cache-Control: public, max-age=31536000, immutable`) and what it holds."""

    url: str
    sha256: str
    bytes: int
    content_type: str


class PosterOut(BaseModel):
    """The 2D preview for `poster`: `url` once rendered, else poll `status_url` (same render as
    `POST /renders/preview`)."""

    render_id: str
    status: str
    url: str | None = None
    status_url: str


class Preview3DOut(BaseModel):
    """`glb` → `<model-viewer src>` (and Scene Viewer), `usdz` → `ios-src` (AR Quick Look)."""

    render_id: str
    spec_hash: str
    quality: Literal["preview"] = "preview"
    cached: bool
    texture_px: int
    glb: ModelFileOut
    usdz: ModelFileOut
    poster: PosterOut
    expires_at: datetime
