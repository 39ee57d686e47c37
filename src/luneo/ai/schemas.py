"""The AI API contract: one request model per operation, one generation view for every answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Operation = Literal[
    "generate", "upscale", "background_removal", "extract_colors", "smart_crop", "text_to_design", "chat"
]
Status = Literal["pending", "processing", "succeeded", "failed"]
Id = Field(min_length=1, max_length=40)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GenerateIn(_In):
    prompt: str = Field(min_length=1, max_length=1000)
    product_id: str | None = Field(default=None, max_length=40)
    size: Literal[256, 512, 1024] = 1024
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    vectorize: bool = Field(
        default=False,
        description="Also trace the image to a one-colour SVG (always on for engrave / laser_cut products).",
    )


class ImageOpIn(_In):
    asset_id: str = Id


class UpscaleIn(ImageOpIn):
    factor: Literal[2, 4] = 2
    source_dpi: float | None = Field(
        default=None,
        gt=0,
        le=2400,
        description="DPI of the source at its print size (default: the file's DPI).",
    )
    vectorize: bool = False


class BackgroundRemovalIn(ImageOpIn):
    vectorize: bool = False


class ExtractColorsIn(ImageOpIn):
    count: int = Field(default=5, ge=1, le=12)
    product_id: str | None = Field(
        default=None,
        max_length=40,
        description="Match against this product's palette (default: the brand's).",
    )


class SmartCropIn(ImageOpIn):
    aspect_ratio: float | None = Field(default=None, ge=0.05, le=20, description="width / height")
    product_id: str | None = Field(default=None, max_length=40)
    zone_key: str | None = Field(
        default=None, max_length=64, description="Crop to this image zone's aspect ratio (with product_id)."
    )
    width: int | None = Field(default=None, ge=1, le=8192, description="Resize the crop to this width (px).")
    vectorize: bool = False


class TextToDesignIn(_In):
    prompt: str = Field(min_length=1, max_length=1000)
    product_id: str | None = Field(default=None, max_length=40)
    asset_id: str | None = Field(
        default=None, max_length=40, description="An image for the product's image zone."
    )


class ChatMessageIn(_In):
    role: Literal["user", "assistant"]
    content: str = Field(min_length=1, max_length=4000)


class ChatIn(_In):
    messages: list[ChatMessageIn] = Field(min_length=1, max_length=30)
    product_id: str | None = Field(default=None, max_length=40)


class OutputOut(BaseModel):
    asset_id: str
    url: str = Field(description="Short-lived signed URL of the output.")
    content_type: str


class ErrorOut(BaseModel):
    code: str
    message: str


class GenerationOut(BaseModel):
    id: str
    operation: Operation
    status: Status
    provider: str
    model: str
    prompt: str | None
    product_id: str | None
    input_asset_ids: list[str]
    outputs: list[OutputOut]
    result: dict[str, Any]
    credits: int
    latency_ms: int | None
    error: ErrorOut | None
    created_at: datetime
    finished_at: datetime | None
