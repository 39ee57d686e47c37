"""Fulfilment API contract: Printful configuration and mappings, the hand-off target, statuses.
Secrets are write-only: answers say whether one is set, never its value."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class StrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PrintfulConfigIn(StrictIn):
    api_token: str | None = Field(default=None, min_length=1, max_length=500, description="Write-only.")
    store_id: str | None = Field(default=None, pattern=r"^[0-9]{1,20}$", description="Printful store id.")
    webhook_secret: str | None = Field(
        default=None,
        pattern=r"^[0-9a-fA-F]{16,256}$",
        description="Write-only: the webhook `secret_key` (hex).",
    )
    shipping: str | None = Field(default=None, min_length=1, max_length=32)
    enabled: bool | None = None


class PrintfulConfigOut(BaseModel):
    id: str
    store_id: str | None
    shipping: str
    enabled: bool
    has_api_token: bool
    has_webhook_secret: bool
    webhook_url: str


class MappingIn(StrictIn):
    catalog_variant_id: int = Field(ge=1, le=2**31 - 1)
    placement: str = Field(default="front", min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")
    technique: str = Field(default="dtg", min_length=1, max_length=32, pattern=r"^[a-z0-9_]+$")


class MappingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    product_id: str
    catalog_variant_id: int
    placement: str
    technique: str


class SftpIn(StrictIn):
    host: str = Field(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9.:\-\[\]]+$")
    port: int = Field(default=22, ge=1, le=65535)
    username: str = Field(min_length=1, max_length=128)
    password: str | None = Field(default=None, min_length=1, max_length=500, description="Write-only.")
    private_key: str | None = Field(
        default=None, min_length=20, max_length=20000, description="Write-only: OpenSSH/PEM text."
    )
    directory: str = Field(default=".", min_length=1, max_length=1000)
    host_key: str = Field(
        min_length=1, max_length=100, description="The server's host key fingerprint, `SHA256:<base64>`."
    )


class TargetIn(StrictIn):
    kind: Literal["https", "sftp"] = "https"
    url: str | None = Field(default=None, min_length=8, max_length=2000, description="HTTPS only.")
    method: Literal["POST", "PUT"] = "POST"
    secret: str | None = Field(default=None, min_length=16, max_length=200, description="Write-only.")
    sftp: SftpIn | None = Field(default=None, description="SFTP only: the server (secrets write-only).")
    enabled: bool = True


class SftpOut(BaseModel):
    host: str
    port: int
    username: str
    directory: str
    host_key: str
    has_password: bool
    has_private_key: bool


class TargetOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str
    url: str
    method: str
    enabled: bool
    sftp: SftpOut | None = None


class HandoffOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str
    order_id: str
    work_order_id: str | None
    status: str
    external_id: str | None
    external_status: str | None
    attempts: int
    error: str | None
    tracking_number: str | None
    carrier: str | None
    tracking_url: str | None
    sent_at: datetime | None
    shipped_at: datetime | None
    updated_at: datetime
