"""API contract of the widget endpoints."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class WidgetFont(BaseModel):
    id: str
    family: str
    style: str


class WidgetZone(BaseModel):
    key: str
    label: str
    kind: str
    role: str
    geometry: dict[str, Any]
    rules: dict[str, Any]
    default_font: str | None
    default_color: str | None


class WidgetProduct(BaseModel):
    id: str
    sku: str
    name: str
    description: str
    price_cents: int
    currency: str
    width_mm: float
    height_mm: float
    production_method: str
    palette: list[str]
    has_3d: bool


class WidgetConfig(BaseModel):
    """Everything the widget needs to draw its form for one product."""

    product: WidgetProduct
    zones: list[WidgetZone]
    fonts: list[WidgetFont]
    version: str


class WidgetUploadOut(BaseModel):
    asset_id: str
    width_px: int | None
    height_px: int | None
    sha256: str
