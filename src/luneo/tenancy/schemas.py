"""API contract of tenancy and identity."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from luneo.design.pack import check_pattern

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


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def _has_lone_surrogate(value: object, depth: int = 0) -> bool:
    if depth > 64:
        return True
    if isinstance(value, str):
        return any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    if isinstance(value, dict):
        return any(
            _has_lone_surrogate(k, depth + 1) or _has_lone_surrogate(v, depth + 1) for k, v in value.items()
        )
    if isinstance(value, list):
        return any(_has_lone_surrogate(v, depth + 1) for v in value)
    return False


def _text(value: Any) -> Any:
    if _has_lone_surrogate(value):
        raise ValueError("text must be valid Unicode (no lone surrogates), nested at most 64 levels")
    return value


SHOPPER_AI_TOOLS = ("background_removal", "smart_crop")  # `luneo.ai.shopper_tools.TOOLS`


def _shopper_ai_settings(value: Any) -> Any:
    """`shopper_ai_tools`: a list of tool names or `{name: bool}` flags; `shopper_ai_daily_limit`:
    an integer 0–1000 (default 10). Both optional; the tools are off unless listed."""
    if not isinstance(value, dict):
        return value
    tools = value.get("shopper_ai_tools")
    if tools is not None:
        names = list(tools) if isinstance(tools, dict) else tools
        if not isinstance(names, list) or any(n not in SHOPPER_AI_TOOLS for n in names):
            raise ValueError(f"shopper_ai_tools: a list of {', '.join(SHOPPER_AI_TOOLS)} (or flags)")
        if isinstance(tools, dict) and any(not isinstance(v, bool) for v in tools.values()):
            raise ValueError("shopper_ai_tools flags are true or false")
    limit = value.get("shopper_ai_daily_limit")
    if limit is not None and (
        isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= 1000
    ):
        raise ValueError("shopper_ai_daily_limit: an integer from 0 to 1000")
    return value


def _file_name_pattern(value: Any) -> Any:
    """`file_name_pattern`: the production files' name pattern (`luneo.design.pack.check_pattern`:
    tokens {order} {item} {sku} {text} {qty} {product} {format}, ASCII letters, digits, - _ .);
    null or absent: today's names."""
    if not isinstance(value, dict) or value.get("file_name_pattern") is None:
        return value
    pattern = value["file_name_pattern"]
    if not isinstance(pattern, str):
        raise ValueError("file_name_pattern: a string such as {order}-{item}-{sku}")
    check_pattern(pattern)  # PatternError (a ValueError) names the bad token
    return value


class BrandPatch(StrictIn):
    """Fields to change; omitted fields stay. `production_email: null` clears it; the others
    cannot be null (422): send `[]` / `{}` to empty the origins or the settings."""

    # Optional but not nullable: omitted means "unchanged", null is a 422 (the columns are NOT NULL).
    name: str = Field(None, min_length=1, max_length=200, json_schema_extra=_no_default)  # type: ignore[assignment]
    allowed_origins: list[str] = Field(None, max_length=50, json_schema_extra=_no_default)  # type: ignore[arg-type]
    production_email: EmailStr | None = None
    settings: dict[str, object] = Field(None, json_schema_extra=_no_default)  # type: ignore[arg-type]

    _valid_text = field_validator("name", "allowed_origins", "settings")(_text)
    _valid_shopper_ai = field_validator("settings")(_shopper_ai_settings)
    _valid_file_names = field_validator("settings")(_file_name_pattern)


class MembershipOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    user_id: str
    role: Role
    email: str | None = None
    created_at: datetime


class MemberIn(StrictIn):
    """Invite someone by email. The answer is the same whether or not an account exists."""

    email: EmailStr
    role: Role
    name: str = Field(default="", max_length=200)

    _valid_text = field_validator("name")(_text)


class InvitationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    email: str
    role: Role
    status: Literal["pending", "accepted", "revoked", "expired"]
    expires_at: datetime
    created_at: datetime


class InvitationAccept(StrictIn):
    """Accept an invitation. Logged in (bearer) as the invited email: no body needed. No account
    for that email yet: give the password (and name) of the account created now."""

    password: str | None = Field(default=None, min_length=8, max_length=512)
    name: str | None = Field(default=None, max_length=200)

    _valid_text = field_validator("name", "password")(_text)


class InvitationAccepted(BaseModel):
    brand_id: str
    membership_id: str
    user_id: str
    role: Role
    access_token: str | None = Field(default=None, description="Set when the account was created now.")
    refresh_token: str | None = None
    token_type: Literal["bearer"] = "bearer"


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


class AdminBrandOut(BaseModel):
    """A brand as a platform admin sees it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    slug: str
    name: str
    plan: str
    created_at: datetime
    suspended_at: datetime | None = None
    suspended_reason: str | None = None


class SuspendIn(StrictIn):
    reason: str = Field(default="", max_length=500)

    _valid_text = field_validator("reason")(_text)


class UnsuspendIn(StrictIn):
    pass
