"""Tenancy tables: brands (the tenants), users, memberships, invitations, API keys, refresh tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from luneo.platform.database import Base, TenantMixin, TimestampMixin
from luneo.platform.ids import new_id

ROLES = ("owner", "admin", "editor", "production", "viewer")


class Brand(TimestampMixin, Base):
    """A tenant: a brand selling personalizable products."""

    __tablename__ = "brands"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("brd"))
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    allowed_origins: Mapped[list[Any]] = mapped_column(default=list)
    plan: Mapped[str] = mapped_column(sa.String(32), default="free")
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    production_email: Mapped[str | None] = mapped_column(sa.String(320))
    # Set by a platform admin: every key and session of the brand answers 403 `brand_suspended`.
    suspended_at: Mapped[datetime | None] = mapped_column()
    suspended_reason: Mapped[str | None] = mapped_column(sa.String(500))
    suspended_by: Mapped[str | None] = mapped_column(sa.String(40))


class User(TimestampMixin, Base):
    """A person who signs in (operators); global, linked to brands by memberships."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("usr"))
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    is_platform_admin: Mapped[bool] = mapped_column(default=False)
    external_issuer: Mapped[str | None] = mapped_column(sa.String(255))
    external_subject: Mapped[str | None] = mapped_column(sa.String(255))
    # When the person proved they read mail at `email` (the emailed verification link).
    email_verified_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (sa.UniqueConstraint("external_issuer", "external_subject"),)


class Membership(TimestampMixin, TenantMixin, Base):
    """A user's role in a brand."""

    __tablename__ = "memberships"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("mem"))
    user_id: Mapped[str] = mapped_column(
        sa.String(40), sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(sa.String(20))

    __table_args__ = (
        sa.UniqueConstraint("brand_id", "user_id"),
        sa.CheckConstraint("role in ('owner','admin','editor','production','viewer')", name="role"),
    )


class Invitation(TimestampMixin, TenantMixin, Base):
    """An invitation to join a brand with a role, sent by email; only the token's SHA-256 is stored.

    Accepted once by the invitee (logged in as that email, or creating the account), until
    `expires_at`; revoking or re-inviting the same email ends it.
    """

    __tablename__ = "invitations"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("inv"))
    email: Mapped[str] = mapped_column(sa.String(320), index=True)
    role: Mapped[str] = mapped_column(sa.String(20))
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    invited_by: Mapped[str | None] = mapped_column(sa.String(40))
    expires_at: Mapped[datetime] = mapped_column()
    accepted_at: Mapped[datetime | None] = mapped_column()
    accepted_by: Mapped[str | None] = mapped_column(sa.String(40))
    revoked_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (
        sa.CheckConstraint("role in ('owner','admin','editor','production','viewer')", name="role"),
    )


class ApiKey(TimestampMixin, TenantMixin, Base):
    """A `pk_` (publishable, widget) or `sk_` (secret, server) key; only its SHA-256 is stored."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("key"))
    kind: Mapped[str] = mapped_column(sa.String(12))  # publishable | secret
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    prefix: Mapped[str] = mapped_column(sa.String(16))
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    scopes: Mapped[list[Any]] = mapped_column(default=list)
    allowed_origins: Mapped[list[Any]] = mapped_column(default=list)
    created_by: Mapped[str | None] = mapped_column(sa.String(40))
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()


class RefreshToken(TimestampMixin, Base):
    """A refresh token (hashed). Rotation: using one revokes it and issues the next in its family;
    reusing a revoked one revokes the whole family (theft detection)."""

    __tablename__ = "refresh_tokens"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("rt"))
    user_id: Mapped[str] = mapped_column(
        sa.String(40), sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    brand_id: Mapped[str | None] = mapped_column(
        sa.String(40), sa.ForeignKey("brands.id", ondelete="CASCADE")
    )
    family_id: Mapped[str] = mapped_column(sa.String(40), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    replaced_by: Mapped[str | None] = mapped_column(sa.String(40))


class UserToken(TimestampMixin, Base):
    """A single-use emailed token for a person (global, not brand-scoped): email verification or
    password reset. Only its SHA-256 is stored; `used_at` spends it, `expires_at` ends it."""

    __tablename__ = "user_tokens"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("utk"))
    user_id: Mapped[str] = mapped_column(
        sa.String(40), sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(sa.String(24))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (
        sa.CheckConstraint("purpose in ('email_verification','password_reset')", name="purpose"),
    )
