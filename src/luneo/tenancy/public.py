"""What other domains may use of tenancy: brands, users and memberships (read), word lists.

Other domains import `luneo.tenancy.public`, never `luneo.tenancy.models` or `.service`
(import-linter contract `domains-through-public`).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from luneo.tenancy.models import Brand, Membership, User
from luneo.tenancy.service import brand_word_lists, login, logout, refresh

__all__ = [
    "Brand",
    "Membership",
    "User",
    "brand_word_lists",
    "checkout_email",
    "is_platform_admin",
    "login",
    "logout",
    "memberships_of",
    "refresh",
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
