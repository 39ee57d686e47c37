"""What other domains may use of tenancy: brands, users and memberships (read), word lists.

Other domains import `luneo.tenancy.public`, never `luneo.tenancy.models` or `.service`
(import-linter contract `domains-through-public`).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from luneo.tenancy.console import (
    WIDGET_KEY_NAME,
    AuditRow,
    InvitationView,
    api_key,
    audit_actions,
    audit_events,
    dashboard_origin,
    ensure_widget_key,
    invitation_by_token,
    invite,
    list_api_keys,
    members,
    normalize_origin,
    normalize_origins,
    pending_invitations,
    set_allowed_origins,
    update_settings,
    widget_key,
)
from luneo.tenancy.models import ROLES, ApiKey, Brand, Invitation, Membership, User
from luneo.tenancy.schemas import SHOPPER_AI_TOOLS
from luneo.tenancy.service import (
    MIN_PASSWORD,
    accept_invitation,
    brand_word_lists,
    check_reset_token,
    create_api_key,
    create_brand_for,
    invite_member,
    login,
    logout,
    refresh,
    remove_member,
    request_password_reset,
    reset_password,
    revoke_api_key,
    revoke_invitation,
    send_verification,
    set_role,
    sign_up,
    verify_email,
)

__all__ = [
    "MIN_PASSWORD",
    "ROLES",
    "SHOPPER_AI_TOOLS",
    "WIDGET_KEY_NAME",
    "ApiKey",
    "AuditRow",
    "Brand",
    "Invitation",
    "InvitationView",
    "Membership",
    "User",
    "accept_invitation",
    "api_key",
    "audit_actions",
    "audit_events",
    "brand_word_lists",
    "check_reset_token",
    "checkout_email",
    "create_api_key",
    "create_brand_for",
    "dashboard_origin",
    "email_verified",
    "ensure_widget_key",
    "integration_status",
    "invitation_by_token",
    "invite",
    "invite_member",
    "is_platform_admin",
    "list_api_keys",
    "login",
    "logout",
    "members",
    "membership",
    "memberships_of",
    "normalize_origin",
    "normalize_origins",
    "pending_invitations",
    "refresh",
    "remove_member",
    "request_password_reset",
    "reset_password",
    "revoke_api_key",
    "revoke_invitation",
    "send_verification",
    "set_allowed_origins",
    "set_role",
    "sign_up",
    "update_settings",
    "verify_email",
    "widget_key",
]


def is_platform_admin(session: Session, user_id: str | None) -> bool:
    """True when `user_id` names a platform operator (`users.is_platform_admin`)."""
    user = session.get(User, user_id) if user_id else None
    return bool(user is not None and user.is_platform_admin)


def checkout_email(session: Session, brand_id: str, user_id: str | None) -> str | None:
    """The address a checkout prefills: the signed-in user's, else the brand's production email."""
    if user_id:
        user = session.get(User, user_id)
        if user is not None and not user.email.endswith(".invalid"):
            return user.email
    brand = session.get(Brand, brand_id)
    return brand.production_email if brand else None


def memberships_of(session: Session, user_id: str) -> list[tuple[Membership, Brand]]:
    """The brands a person belongs to, with their role, oldest membership first (one query)."""
    from sqlalchemy import select

    rows = session.execute(
        select(Membership, Brand)
        .join(Brand, Brand.id == Membership.brand_id)
        .where(Membership.user_id == user_id)
        .order_by(Membership.created_at)
    ).all()
    return [(m, b) for m, b in rows]


def email_verified(session: Session, user_id: str | None) -> bool:
    """True when the person proved their email address (or is not a password account)."""
    user = session.get(User, user_id) if user_id else None
    return bool(user is None or user.email_verified_at is not None or user.password_hash is None)


def integration_status(session: Session, brand_id: str) -> dict[str, bool]:
    """Onboarding facts of a brand: `origins` (allowed origins set on the brand or a publishable
    key) and `publishable_key` (a live `pk_` key exists) — one query."""
    from sqlalchemy import select

    rows = session.execute(
        select(ApiKey.allowed_origins).where(
            ApiKey.brand_id == brand_id, ApiKey.kind == "publishable", ApiKey.revoked_at.is_(None)
        )
    ).all()
    brand = session.get(Brand, brand_id)
    origins = bool(brand is not None and brand.allowed_origins) or any(r[0] for r in rows)
    return {"origins": origins, "publishable_key": bool(rows)}


def membership(session: Session, membership_id: str) -> Membership:
    """A membership of the session's brand; another brand's id is a 404 like a missing one."""
    from luneo.platform.tenancy import get_or_404

    return get_or_404(session, Membership, membership_id, "membership")
