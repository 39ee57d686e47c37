"""Tenancy use cases: brands, users, memberships, API keys, login sessions."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from luneo.platform.auth import clear_auth_caches
from luneo.platform.clock import as_utc, utcnow
from luneo.platform.config import Settings
from luneo.platform.errors import Conflict, NotFound, Problem
from luneo.platform.ids import new_id
from luneo.platform.security import (
    create_access_token,
    hash_password,
    new_api_key,
    new_opaque_token,
    sha256_hex,
    verify_password,
)
from luneo.tenancy.models import ApiKey, Brand, Membership, RefreshToken, User

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
_dummy_hash: str | None = None


def _dummy() -> str:
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = hash_password("timing-equaliser")
    return _dummy_hash


def create_brand(
    session: Session, *, slug: str, name: str, allowed_origins: list[str] | None = None, plan: str = "free"
) -> Brand:
    if not _SLUG.match(slug):
        raise Problem(422, "invalid_slug", "A slug is 2–63 lowercase letters, digits or dashes.")
    if session.execute(select(Brand.id).where(Brand.slug == slug)).first():
        raise Conflict("slug_taken", f"The slug {slug} is taken.")
    brand = Brand(slug=slug, name=name, allowed_origins=allowed_origins or [], plan=plan)
    session.add(brand)
    session.flush()
    from luneo.platform.events import publish

    publish(session, "brand.created", {"brand_id": brand.id})
    return brand


def create_user(session: Session, *, email: str, password: str | None, name: str = "") -> User:
    email = email.strip().lower()
    if session.execute(select(User.id).where(User.email == email)).first():
        raise Conflict("email_taken", "A user with this email exists.")
    user = User(email=email, name=name, password_hash=hash_password(password) if password else None)
    session.add(user)
    session.flush()
    return user


def add_member(session: Session, *, brand_id: str, user_id: str, role: str) -> Membership:
    existing = session.execute(
        select(Membership).where(Membership.brand_id == brand_id, Membership.user_id == user_id)
    ).scalar_one_or_none()
    if existing is not None:
        existing.role = role
        clear_auth_caches()
        return existing
    membership = Membership(brand_id=brand_id, user_id=user_id, role=role)
    session.add(membership)
    session.flush()
    clear_auth_caches()
    return membership


def create_api_key(
    session: Session,
    *,
    brand_id: str,
    kind: str,
    name: str = "",
    allowed_origins: list[str] | None = None,
    created_by: str | None = None,
) -> tuple[ApiKey, str]:
    """A new key row and the full key (returned once, stored only as SHA-256)."""
    if kind not in ("publishable", "secret"):
        raise Problem(422, "invalid_key_kind", "kind is publishable or secret.")
    raw = new_api_key(kind)
    key = ApiKey(
        brand_id=brand_id,
        kind=kind,
        name=name,
        prefix=raw[:12],
        key_hash=sha256_hex(raw),
        allowed_origins=allowed_origins or [],
        created_by=created_by,
    )
    session.add(key)
    session.flush()
    return key, raw


def revoke_api_key(session: Session, key_id: str) -> ApiKey:
    key = session.execute(select(ApiKey).where(ApiKey.id == key_id)).scalar_one_or_none()
    if key is None:
        raise NotFound("api key", key_id)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    clear_auth_caches()
    return key


def _issue_tokens(
    session: Session, settings: Settings, user: User, brand_id: str | None, family_id: str | None = None
) -> tuple[str, str, RefreshToken]:
    raw = new_opaque_token()
    token = RefreshToken(
        user_id=user.id,
        brand_id=brand_id,
        family_id=family_id or new_id("fam"),
        token_hash=sha256_hex(raw),
        expires_at=utcnow() + timedelta(seconds=settings.refresh_token_ttl_s),
    )
    session.add(token)
    session.flush()
    access = create_access_token(settings, user_id=user.id, brand_id=brand_id, session_id=token.family_id)
    return access, raw, token


def _default_brand(session: Session, user_id: str) -> str | None:
    row = session.execute(
        select(Membership.brand_id)
        .where(Membership.user_id == user_id)
        .order_by(Membership.created_at)
        .limit(1)
    ).first()
    return row[0] if row else None


def login(session: Session, settings: Settings, email: str, password: str) -> tuple[str, str]:
    """Check a password; return (access JWT, refresh token)."""
    user = session.execute(select(User).where(User.email == email.strip().lower())).scalar_one_or_none()
    if user is None:
        verify_password(_dummy(), password)  # same cost whether or not the user exists
        raise Problem(401, "invalid_credentials", "Email or password is wrong.")
    if not user.is_active or not verify_password(user.password_hash, password):
        raise Problem(401, "invalid_credentials", "Email or password is wrong.")
    access, refresh, _ = _issue_tokens(session, settings, user, _default_brand(session, user.id))
    return access, refresh


def refresh(session: Session, settings: Settings, raw: str) -> tuple[str, str]:
    """Rotate a refresh token. Reusing a rotated token revokes its whole family."""
    token = session.execute(
        select(RefreshToken).where(RefreshToken.token_hash == sha256_hex(raw))
    ).scalar_one_or_none()
    if token is None or as_utc(token.expires_at) < utcnow():
        raise Problem(401, "invalid_refresh_token", "The refresh token is invalid or expired.")
    if token.revoked_at is not None:
        session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == token.family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        session.commit()
        raise Problem(
            401, "refresh_token_reused", "This refresh token was already used; the session is revoked."
        )
    user = session.get(User, token.user_id)
    if user is None or not user.is_active:
        raise Problem(401, "invalid_refresh_token", "The refresh token is invalid or expired.")
    access, new_raw, new_token = _issue_tokens(session, settings, user, token.brand_id, token.family_id)
    token.revoked_at = utcnow()
    token.replaced_by = new_token.id
    return access, new_raw


def logout(session: Session, raw: str) -> None:
    """Revoke the refresh token's whole family (idempotent; unknown tokens are ignored)."""
    token = session.execute(
        select(RefreshToken).where(RefreshToken.token_hash == sha256_hex(raw))
    ).scalar_one_or_none()
    if token is not None:
        session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == token.family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )


def link_external_user(session: Session, claims: dict[str, Any]) -> str:
    """Find or create the local user for a verified identity-provider token; returns user id."""
    issuer = str(claims.get("iss") or "external")
    subject = str(claims["sub"])
    user = session.execute(
        select(User).where(User.external_issuer == issuer, User.external_subject == subject)
    ).scalar_one_or_none()
    if user is not None:
        return user.id
    email = str(
        claims.get("email") or f"{subject}@{re.sub(r'[^a-z0-9.-]', '', issuer.lower())[:60] or 'idp'}.invalid"
    )
    user = session.execute(select(User).where(User.email == email.lower())).scalar_one_or_none()
    if user is None:
        user = User(email=email.lower(), name=str(claims.get("name") or ""), password_hash=None)
        session.add(user)
    user.external_issuer, user.external_subject = issuer, subject
    session.flush()
    return user.id
