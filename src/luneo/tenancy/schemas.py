"""API contract of tenancy and identity."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

Role = Literal["owner", "admin", "editor", "production", "viewer"]


class StrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginIn(StrictIn):
    email: EmailStr
    password: str = Field(min_length=1, max_length=512)


class RefreshIn(StrictIn):
    refresh_token: str = Field(min_length=10, max_length=200)


class TokenOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class BrandOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    slug: str
    name: str
    plan: str
    allowed_origins: list[str]
    production_email: str | None = None
    settings: dict[str, object] = {}
    created_at: datetime


class BrandPatch(StrictIn):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    allowed_origins: list[str] | None = Field(default=None, max_length=50)
    production_email: EmailStr | None = None
    settings: dict[str, object] | None = None


class MembershipOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    user_id: str
    role: Role
    email: str | None = None
    created_at: datetime


class MemberIn(StrictIn):
    email: EmailStr
    role: Role
    name: str = ""
    password: str | None = Field(default=None, min_length=8, max_length=512)


class MemberPatch(StrictIn):
    role: Role


class MeOut(BaseModel):
    user_id: str | None
    email: str | None
    brand_id: str | None
    role: str | None
    kind: str
    permissions: list[str]
    memberships: list[dict[str, str]]


class ApiKeyIn(StrictIn):
    kind: Literal["publishable", "secret"]
    name: str = Field(default="", max_length=200)
    allowed_origins: list[str] = Field(default_factory=list, max_length=50)


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str
    name: str
    prefix: str
    allowed_origins: list[str]
    last_used_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The full key. Shown once; store it now.")
