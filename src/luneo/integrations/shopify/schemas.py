"""Shopify integration API contract (app proxy JSON, webhook acknowledgement, admin status)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ProxyConfigOut(BaseModel):
    luneo_product: str
    publishable_key: str
    api_base: str
    locale: str


class PropertiesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    snapshot_id: str = Field(pattern=r"^snap_[A-Za-z0-9]+$", max_length=40)


class PropertiesOut(BaseModel):
    properties: dict[str, str]


class WebhookAck(BaseModel):
    status: str


class AdminStatusOut(BaseModel):
    shop_domain: str
    linked: bool
    status: str | None = None
    api_version: str | None = None
