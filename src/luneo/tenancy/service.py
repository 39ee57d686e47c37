"""Tenancy use cases: brands, users, memberships, invitations, API keys, login sessions,
identity-provider links and platform administration (suspension)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from luneo.platform.auth import clear_auth_caches
from luneo.platform.clock import as_utc, utcnow
from luneo.platform.config import Settings
from luneo.platform.context import current_request_id
from luneo.platform.domain_errors import DomainError, NotFoundError
from luneo.platform.ids import new_id
from luneo.platform.models import AuditEvent
from luneo.platform.security import (
    create_access_token,
    hash_password,
    new_api_key,
    new_opaque_token,
    sha256_hex,
    verify_password,
)
from luneo.platform.tenancy import bind_system, bind_tenant, get_or_404
from luneo.tenancy.error_codes import TenancyErrorCode
from luneo.tenancy.models import ApiKey, Brand, Invitation, Membership, RefreshToken, User, UserToken

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
OWNER = "owner"
INVITATION_TTL = timedelta(days=7)
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
        raise DomainError(
            TenancyErrorCode.INVALID_SLUG, "A slug is 2–63 lowercase letters, digits or dashes."
        )
    if session.execute(select(Brand.id).where(Brand.slug == slug)).first():
        raise DomainError(TenancyErrorCode.SLUG_TAKEN, f"The slug {slug} is taken.")
    brand = Brand(slug=slug, name=name, allowed_origins=allowed_origins or [], plan=plan)
    session.add(brand)
    session.flush()
    from luneo.platform.events import publish

    publish(session, "brand.created", {"brand_id": brand.id})
    return brand


def create_user(session: Session, *, email: str, password: str | None, name: str = "") -> User:
    """A new account. The email must pass the login route's own validation (e.g. `.local` fails),
    so every account created with a password can actually sign in."""
    from email_validator import EmailNotValidError, validate_email

    email = email.strip().lower()
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        raise DomainError(
            TenancyErrorCode.INVALID_EMAIL, f"{email!r} is not a valid email address: {exc}"
        ) from None
    if session.execute(select(User.id).where(User.email == email)).first():
        raise DomainError(TenancyErrorCode.EMAIL_TAKEN, "A user with this email exists.")
    user = User(email=email, name=name, password_hash=hash_password(password) if password else None)
    session.add(user)
    session.flush()
    return user


def audit(
    session: Session,
    brand_id: str,
    actor: str | None,
    action: str,
    resource_type: str,
    resource_id: str,
    data: dict[str, Any] | None = None,
) -> None:
    """Record who did what in `brand_id`'s audit trail (same transaction as the change)."""
    session.add(
        AuditEvent(
            brand_id=brand_id,
            actor=actor,
            action=action,
            resource_type=resource_type,
            resource_id=resource_id,
            data=data or {},
            request_id=current_request_id(),
            created_at=utcnow(),
        )
    )


def update_brand(session: Session, brand_id: str, changes: dict[str, Any]) -> Brand:
    """Apply validated `PATCH /brand` fields (name, allowed origins, production email, settings)."""
    brand = get_or_404(session, Brand, brand_id, "brand")
    for field, value in changes.items():
        setattr(brand, field, value)
    invalidate_auth_caches(session)
    return brand


def invalidate_auth_caches(session: Session) -> None:
    """Forget cached credentials now and again once `session` commits, so no request that read
    the old state in between keeps it cached."""
    clear_auth_caches()
    if not session.info.get("_clear_auth_after_commit"):
        session.info["_clear_auth_after_commit"] = True

        def _after_commit(sess: Session) -> None:
            sess.info.pop("_clear_auth_after_commit", None)
            clear_auth_caches()

        event.listen(session, "after_commit", _after_commit, once=True)


def _require_owner(actor_role: str | None) -> None:
    """Only owners grant, revoke or change the owner role (`actor_role` None: operator/system code)."""
    if actor_role is not None and actor_role != OWNER:
        raise DomainError(
            TenancyErrorCode.OWNER_REQUIRED, "Only an owner can grant, change or remove the owner role."
        )


def _other_owners(session: Session, brand_id: str, membership_id: str) -> int:
    """How many owners the brand keeps besides `membership_id` (rows locked until commit)."""
    rows = session.execute(
        select(Membership.id)
        .where(Membership.brand_id == brand_id, Membership.role == OWNER)
        .with_for_update()
    ).all()
    return sum(1 for (mid,) in rows if mid != membership_id)


def _check_owner_change(
    session: Session, m: Membership, new_role: str | None, actor_role: str | None
) -> None:
    """Rules for changing `m` to `new_role` (None: removing it): owners manage owners, and the
    brand keeps at least one owner."""
    if m.role != OWNER and new_role != OWNER:
        return
    if m.role == new_role:
        return
    _require_owner(actor_role)
    if m.role == OWNER and _other_owners(session, m.brand_id, m.id) == 0:
        raise DomainError(
            TenancyErrorCode.LAST_OWNER, "A brand keeps at least one owner: make another owner first."
        )


def set_role(
    session: Session, m: Membership, role: str, *, actor_role: str | None, actor: str | None = None
) -> Membership:
    """Change a member's role (owner rules enforced; a change is audited as `member.role_changed`)."""
    _check_owner_change(session, m, role, actor_role)
    if m.role != role and actor is not None:
        data = {"from": m.role, "to": role}
        audit(session, m.brand_id, actor, "member.role_changed", "membership", m.id, data)
    m.role = role
    session.flush()
    invalidate_auth_caches(session)
    return m


def remove_member(
    session: Session, m: Membership, *, actor_role: str | None, actor: str | None = None
) -> None:
    """Remove a membership (owner rules enforced; audited as `member.removed`)."""
    _check_owner_change(session, m, None, actor_role)
    if actor is not None:
        audit(session, m.brand_id, actor, "member.removed", "membership", m.id, {"role": m.role})
    session.delete(m)
    session.flush()
    invalidate_auth_caches(session)


def add_member(
    session: Session, *, brand_id: str, user_id: str, role: str, actor_role: str | None = None
) -> Membership:
    """Give a user a role in a brand (an existing membership changes role, owner rules enforced)."""
    existing = session.execute(
        select(Membership).where(Membership.brand_id == brand_id, Membership.user_id == user_id)
    ).scalar_one_or_none()
    if existing is not None:
        return set_role(session, existing, role, actor_role=actor_role)
    if role == OWNER:
        _require_owner(actor_role)
    membership = Membership(brand_id=brand_id, user_id=user_id, role=role)
    session.add(membership)
    session.flush()
    invalidate_auth_caches(session)
    return membership


# --- invitations --------------------------------------------------------------------------------


def invitation_status(inv: Invitation) -> str:
    if inv.accepted_at is not None:
        return "accepted"
    if inv.revoked_at is not None:
        return "revoked"
    if as_utc(inv.expires_at) <= utcnow():
        return "expired"
    return "pending"


def _accept_url(settings: Settings, raw: str) -> str:
    """The link of the invitation email: the dashboard's accept page (which calls
    `accept_invitation`, like `POST /api/v1/invitations/{token}/accept`)."""
    return f"{settings.public_base_url.rstrip('/')}/dashboard/invitations/accept?token={raw}"


def invite_member(
    session: Session,
    settings: Settings,
    *,
    brand_id: str,
    email: str,
    role: str,
    name: str = "",
    invited_by: str | None,
    actor_role: str | None,
) -> Invitation:
    """Invite `email` to the brand with `role` and email them an accept link.

    Never looks at whether an account exists elsewhere on the platform: the inviter learns
    nothing about other brands' people. A pending invitation to the same email is replaced.
    """
    email = email.strip().lower()
    if role == OWNER:
        _require_owner(actor_role)
    member = session.execute(
        select(Membership.id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.brand_id == brand_id, User.email == email)
    ).first()
    if member is not None:
        raise DomainError(
            TenancyErrorCode.ALREADY_MEMBER, "This person is already a member: change their role instead."
        )
    now = utcnow()
    for old in session.execute(
        select(Invitation).where(
            Invitation.email == email, Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None)
        )
    ).scalars():
        old.revoked_at = now
    raw = new_opaque_token()
    inv = Invitation(
        brand_id=brand_id,
        email=email,
        role=role,
        name=name,
        token_hash=sha256_hex(raw),
        invited_by=invited_by,
        expires_at=now + INVITATION_TTL,
    )
    session.add(inv)
    session.flush()
    from luneo.notifications.public import queue_email

    queue_email(
        session,
        brand_id,
        email,
        "invitation",
        {
            "accept_url": _accept_url(settings, raw),
            "role": role,
            "name": name,
            "expires_at": inv.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
        },
    )
    audit(session, brand_id, invited_by, "member.invited", "invitation", inv.id, {"role": role})
    return inv


def revoke_invitation(session: Session, invitation_id: str, actor: str | None) -> None:
    inv = session.execute(select(Invitation).where(Invitation.id == invitation_id)).scalar_one_or_none()
    if inv is None:
        raise NotFoundError("invitation", invitation_id)
    if inv.accepted_at is None and inv.revoked_at is None:
        inv.revoked_at = utcnow()
        audit(session, inv.brand_id, actor, "member.invitation_revoked", "invitation", inv.id)


def accept_invitation(
    session: Session,
    settings: Settings,
    raw: str,
    *,
    user_id: str | None,
    password: str | None,
    name: str | None,
) -> tuple[Membership, User, tuple[str, str] | None]:
    """Join the brand of the invitation whose token is `raw`: (membership, user, tokens when the
    account was created now).

    The caller is the invitee: logged in as the invited email (`user_id`), or — when no account
    has that email — creating it with `password` (holding the emailed token proves the address).
    An existing account is never given a password through an invitation.
    """
    bind_system(session)
    inv = (
        session.execute(
            select(Invitation).where(Invitation.token_hash == sha256_hex(raw)).with_for_update()
        ).scalar_one_or_none()
        if 16 <= len(raw) <= 200
        else None
    )
    if inv is None or inv.accepted_at is not None or inv.revoked_at is not None:
        raise DomainError(
            TenancyErrorCode.INVITATION_NOT_FOUND, "This invitation does not exist or was already used."
        )
    if as_utc(inv.expires_at) <= utcnow():
        raise DomainError(
            TenancyErrorCode.INVITATION_EXPIRED, "This invitation has expired: ask for a new one."
        )
    brand = session.get(Brand, inv.brand_id)
    if brand is None or brand.suspended_at is not None:
        raise DomainError(TenancyErrorCode.BRAND_SUSPENDED, "This brand is suspended.")
    tokens: tuple[str, str] | None = None
    if user_id is not None:
        user = session.get(User, user_id)
        if user is None or not user.is_active or user.email != inv.email:
            raise DomainError(
                TenancyErrorCode.INVITATION_EMAIL_MISMATCH, "This invitation is for another email address."
            )
    else:
        existing = session.execute(select(User).where(User.email == inv.email)).scalar_one_or_none()
        if existing is not None:
            raise DomainError(
                TenancyErrorCode.LOGIN_REQUIRED,
                "Log in as the invited email address, then accept the invitation.",
            )
        if not password:
            raise DomainError(
                TenancyErrorCode.PASSWORD_REQUIRED, "Choose a password (8+ characters) for your new account."
            )
        user = create_user(session, email=inv.email, password=password, name=name or inv.name)
    bind_tenant(session, inv.brand_id)
    if session.execute(select(Membership.id).where(Membership.user_id == user.id)).first():
        raise DomainError(TenancyErrorCode.ALREADY_MEMBER, "You are already a member of this brand.")
    membership = add_member(session, brand_id=inv.brand_id, user_id=user.id, role=inv.role)
    inv.accepted_at, inv.accepted_by = utcnow(), user.id
    audit(
        session,
        inv.brand_id,
        user.id,
        "member.joined",
        "membership",
        membership.id,
        {"role": inv.role, "invitation_id": inv.id},
    )
    if user_id is None:
        bind_system(session)
        access, refresh_raw, _ = _issue_tokens(session, settings, user, inv.brand_id)
        tokens = (access, refresh_raw)
    return membership, user, tokens


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
        raise DomainError(TenancyErrorCode.INVALID_KEY_KIND, "kind is publishable or secret.")
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
    if created_by is not None:
        data = {"kind": kind, "name": name}
        audit(session, brand_id, created_by, "api_key.created", "api_key", key.id, data)
    return key, raw


def revoke_api_key(session: Session, key_id: str, actor: str | None = None) -> ApiKey:
    """Revoke a key (it stops working at once; audited as `api_key.revoked` when `actor` is given)."""
    key = session.execute(select(ApiKey).where(ApiKey.id == key_id)).scalar_one_or_none()
    if key is None:
        raise NotFoundError("api key", key_id)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        if actor is not None:
            audit(session, key.brand_id, actor, "api_key.revoked", "api_key", key.id, {"kind": key.kind})
    invalidate_auth_caches(session)
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
        raise DomainError(TenancyErrorCode.INVALID_CREDENTIALS, "Email or password is wrong.")
    if not user.is_active or not verify_password(user.password_hash, password):
        raise DomainError(TenancyErrorCode.INVALID_CREDENTIALS, "Email or password is wrong.")
    access, refresh, _ = _issue_tokens(session, settings, user, _default_brand(session, user.id))
    return access, refresh


def refresh(session: Session, settings: Settings, raw: str) -> tuple[str, str]:
    """Rotate a refresh token. Reusing a rotated token revokes its whole family."""
    token = session.execute(
        select(RefreshToken).where(RefreshToken.token_hash == sha256_hex(raw))
    ).scalar_one_or_none()
    if token is None or as_utc(token.expires_at) < utcnow():
        raise DomainError(TenancyErrorCode.INVALID_REFRESH_TOKEN, "The refresh token is invalid or expired.")
    if token.revoked_at is not None:
        session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == token.family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        session.commit()
        raise DomainError(
            TenancyErrorCode.REFRESH_TOKEN_REUSED,
            "This refresh token was already used; the session is revoked.",
        )
    user = session.get(User, token.user_id)
    if user is None or not user.is_active:
        raise DomainError(TenancyErrorCode.INVALID_REFRESH_TOKEN, "The refresh token is invalid or expired.")
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


def _verified(claims: dict[str, Any]) -> bool:
    value = claims.get("email_verified")
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _placeholder_email(issuer: str, subject: str) -> str:
    host = re.sub(r"[^a-z0-9.-]", "", issuer.lower().split("://")[-1].split("/")[0])[:60] or "idp"
    local = re.sub(r"[^a-z0-9._-]", "", subject.lower())[:40] or "user"
    return f"{local}-{sha256_hex(f'{issuer} {subject}')[:12]}@{host}.invalid"


def link_external_user(session: Session, claims: dict[str, Any]) -> str:
    """Find or create the local user for a verified identity-provider token; returns user id.

    An existing local account is linked by email only when the IdP says the email is verified
    (`email_verified: true`) and the account has no identity link yet; an existing link is never
    overwritten. Otherwise the subject gets its own account (with a placeholder `.invalid`
    address when its email is unverified or taken), so a token never takes over an account.
    """
    issuer = str(claims.get("iss") or "external")[:255]
    subject = str(claims["sub"])[:255]
    verified = _verified(claims)
    raw_email = claims.get("email")
    email = raw_email.strip().lower() if isinstance(raw_email, str) and "@" in raw_email else None
    if email is not None and len(email) > 320:
        email = None
    user = session.execute(
        select(User).where(User.external_issuer == issuer, User.external_subject == subject)
    ).scalar_one_or_none()
    if user is not None:
        if (
            verified
            and email
            and user.email.endswith(".invalid")
            and not session.execute(select(User.id).where(User.email == email)).first()
        ):
            user.email = email  # the IdP has verified the address since: adopt it
        return user.id
    if email and verified:
        by_email = session.execute(select(User).where(User.email == email)).scalar_one_or_none()
        if by_email is None:
            user = User(email=email, name=str(claims.get("name") or "")[:200], password_hash=None)
            session.add(user)
        elif by_email.external_issuer is None and by_email.external_subject is None:
            user = by_email
    if user is None:
        placeholder = _placeholder_email(issuer, subject)
        if session.execute(select(User.id).where(User.email == placeholder)).first():
            raise DomainError(
                TenancyErrorCode.IDP_LINK_REFUSED, "This identity cannot be linked to a Luneo account."
            )
        user = User(email=placeholder, name=str(claims.get("name") or "")[:200], password_hash=None)
        session.add(user)
    user.external_issuer, user.external_subject = issuer, subject
    session.flush()
    return user.id


# --- platform administration --------------------------------------------------------------------


def set_platform_admin(session: Session, email: str, value: bool) -> User:
    """Grant or revoke the platform-admin role (operator command only; never over the API)."""
    user = session.execute(select(User).where(User.email == email.strip().lower())).scalar_one_or_none()
    if user is None:
        raise NotFoundError("user", email)
    user.is_platform_admin = value
    session.flush()
    return user


def deactivate_user(session: Session, email: str) -> User:
    """Deactivate an account (operator command): it can no longer sign in, and its refresh
    tokens are revoked so existing sessions end when their access token expires."""
    user = session.execute(select(User).where(User.email == email.strip().lower())).scalar_one_or_none()
    if user is None:
        raise NotFoundError("user", email)
    user.is_active = False
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    session.flush()
    invalidate_auth_caches(session)
    return user


def is_platform_admin(session: Session, user_id: str | None) -> bool:
    if user_id is None:
        return False
    user = session.get(User, user_id)
    return bool(user is not None and user.is_active and user.is_platform_admin)


def set_suspended(session: Session, brand_id: str, *, suspended: bool, actor: str, reason: str = "") -> Brand:
    """Suspend (or reinstate) a brand: its keys and sessions answer 403 `brand_suspended` from the
    next request on (auth caches of this process are cleared now; other processes' within seconds)."""
    brand = session.get(Brand, brand_id)
    if brand is None:
        raise NotFoundError("brand", brand_id)
    if suspended:
        brand.suspended_at = brand.suspended_at or utcnow()
        brand.suspended_reason = reason or brand.suspended_reason
        brand.suspended_by = actor
    else:
        brand.suspended_at = brand.suspended_reason = brand.suspended_by = None
    audit(
        session,
        brand.id,
        actor,
        "brand.suspended" if suspended else "brand.unsuspended",
        "brand",
        brand.id,
        {"reason": reason} if suspended else {},
    )
    session.flush()
    invalidate_auth_caches(session)
    return brand


MAX_BRAND_WORDS = 2000  # entries read from each of settings.blocked_words / settings.allowed_words
MAX_BRAND_WORD_LEN = 100


def _word_list(raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list):
        return ()
    words = (w.strip() for w in raw[:MAX_BRAND_WORDS] if isinstance(w, str))
    return tuple(w for w in words if w and len(w) <= MAX_BRAND_WORD_LEN)


def brand_word_lists(session: Session) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(blocked words, allowed words) of the session's brand, from its settings JSON keys
    `blocked_words` and `allowed_words` (lists of strings; other values are ignored). The rules
    engine adds the blocked words to every text zone's own list; allowed words (names) are never
    refused as blocked words. No brand bound: two empty lists."""
    from luneo.platform.tenancy import session_brand

    brand_id = session_brand(session)
    brand = session.get(Brand, brand_id) if brand_id else None
    settings = (brand.settings if brand is not None else None) or {}
    if not isinstance(settings, dict):
        return (), ()
    return _word_list(settings.get("blocked_words")), _word_list(settings.get("allowed_words"))


# --- sign-up, email verification, password reset -------------------------------------------

MIN_PASSWORD = 10
MAX_PASSWORD = 1024
VERIFICATION_TTL = timedelta(hours=48)
RESET_TTL = timedelta(hours=1)
EMAIL_VERIFICATION = "email_verification"
PASSWORD_RESET = "password_reset"
_TTL = {EMAIL_VERIFICATION: VERIFICATION_TTL, PASSWORD_RESET: RESET_TTL}


def check_password(password: str) -> None:
    """Refuse a password under `MIN_PASSWORD` characters (or of a single repeated character)."""
    if len(password) < MIN_PASSWORD or len(set(password)) < 2 or len(password) > MAX_PASSWORD:
        raise DomainError(
            TenancyErrorCode.WEAK_PASSWORD,
            f"Choose a password of at least {MIN_PASSWORD} characters (not one repeated character).",
        )


def slug_from_name(name: str) -> str:
    """A slug-shaped base from a brand name (`Café Déco!` → `cafe-deco`)."""
    import unicodedata

    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:48].strip("-")
    return base if len(base) >= 2 else "brand"


def unique_slug(session: Session, wanted: str) -> str:
    """`wanted`, or `wanted-2`, `wanted-3`… the first one no brand uses (one query)."""
    taken = set(session.execute(select(Brand.slug).where(Brand.slug.like(f"{wanted}%"))).scalars().all())
    if wanted not in taken:
        return wanted
    n = 2
    while f"{wanted}-{n}" in taken:
        n += 1
    return f"{wanted}-{n}"


def _brand_slug(session: Session, brand_name: str, slug: str | None) -> str:
    """The slug asked for (checked by `create_brand`), else one derived from the name, made unique."""
    if slug and slug.strip():
        return slug.strip().lower()
    return unique_slug(session, slug_from_name(brand_name))


def _new_user_token(session: Session, user_id: str, purpose: str) -> str:
    """Issue a token for `purpose` (earlier unused ones of the same purpose are spent); the raw token."""
    now = utcnow()
    session.execute(
        update(UserToken)
        .where(UserToken.user_id == user_id, UserToken.purpose == purpose, UserToken.used_at.is_(None))
        .values(used_at=now)
    )
    raw = new_opaque_token()
    session.add(
        UserToken(
            user_id=user_id, purpose=purpose, token_hash=sha256_hex(raw), expires_at=now + _TTL[purpose]
        )
    )
    session.flush()
    return raw


def _spend_user_token(session: Session, raw: str, purpose: str) -> UserToken:
    """The live token `raw` of `purpose`, marked used (404 unknown or used, 410 expired)."""
    token = (
        session.execute(
            select(UserToken)
            .where(UserToken.token_hash == sha256_hex(raw), UserToken.purpose == purpose)
            .with_for_update()
        ).scalar_one_or_none()
        if 16 <= len(raw) <= 200
        else None
    )
    if token is None or token.used_at is not None:
        raise DomainError(TenancyErrorCode.INVALID_TOKEN, "This link is not valid or was already used.")
    if as_utc(token.expires_at) <= utcnow():
        raise DomainError(TenancyErrorCode.TOKEN_EXPIRED, "This link has expired: ask for a new one.")
    token.used_at = utcnow()
    return token


def _link(settings: Settings, path: str, raw: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}{path}?token={raw}"


def send_verification(
    session: Session, settings: Settings, user_id: str, *, brand_id: str | None = None, lang: str = "en"
) -> bool:
    """Email `user_id` a fresh verification link (through `brand_id`'s outbox, else their first
    brand's); False when already verified or the person has no brand to send from."""
    user = session.get(User, user_id)
    if user is None or user.email_verified_at is not None:
        return False
    brand_id = brand_id or _default_brand(session, user_id)
    if brand_id is None:
        return False
    raw = _new_user_token(session, user.id, EMAIL_VERIFICATION)
    from luneo.notifications.public import queue_email

    queue_email(
        session,
        brand_id,
        user.email,
        "email_verification",
        {
            "verify_url": _link(settings, "/dashboard/verify", raw),
            "hours": int(VERIFICATION_TTL.total_seconds() // 3600),
            "lang": lang,
        },
    )
    return True


def sign_up(
    session: Session,
    settings: Settings,
    *,
    email: str,
    password: str,
    brand_name: str,
    slug: str | None = None,
    lang: str = "en",
) -> tuple[User, Brand, tuple[str, str]]:
    """A new brand with its owner, in the caller's one transaction: (user, brand, (access, refresh)).

    The brand's `brand.created` event grants the signup credits (billing, idempotent on
    `grant:signup:<brand_id>`), and the owner is emailed a verification link."""
    bind_system(session)
    check_password(password)
    brand_name = " ".join(brand_name.split())
    if not brand_name:
        raise DomainError(TenancyErrorCode.INVALID_SLUG, "Give your brand a name.")
    user = create_user(session, email=email, password=password)
    brand_slug = _brand_slug(session, brand_name, slug)
    brand = create_brand(session, slug=brand_slug, name=brand_name[:200])
    brand.production_email = user.email
    bind_tenant(session, brand.id)
    membership = add_member(session, brand_id=brand.id, user_id=user.id, role=OWNER)
    audit(session, brand.id, user.id, "brand.signed_up", "membership", membership.id, {"slug": brand.slug})
    bind_system(session)
    send_verification(session, settings, user.id, brand_id=brand.id, lang=lang)
    access, refresh_raw, _ = _issue_tokens(session, settings, user, brand.id)
    return user, brand, (access, refresh_raw)


def create_brand_for(
    session: Session, settings: Settings, user_id: str, *, brand_name: str, slug: str | None = None
) -> tuple[Brand, tuple[str, str]]:
    """A signed-in person without a brand creates one and becomes its owner: (brand, new tokens)."""
    bind_system(session)
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise DomainError(TenancyErrorCode.INVALID_CREDENTIALS, "Sign in again.")
    brand_name = " ".join(brand_name.split())
    if not brand_name:
        raise DomainError(TenancyErrorCode.INVALID_SLUG, "Give your brand a name.")
    brand_slug = _brand_slug(session, brand_name, slug)
    brand = create_brand(session, slug=brand_slug, name=brand_name[:200])
    bind_tenant(session, brand.id)
    membership = add_member(session, brand_id=brand.id, user_id=user.id, role=OWNER)
    audit(session, brand.id, user.id, "brand.created", "membership", membership.id, {"slug": brand.slug})
    bind_system(session)
    access, refresh_raw, _ = _issue_tokens(session, settings, user, brand.id)
    return brand, (access, refresh_raw)


def verify_email(session: Session, raw: str) -> User:
    """Spend a verification token: the user's email is verified (once)."""
    token = _spend_user_token(session, raw, EMAIL_VERIFICATION)
    user = session.get(User, token.user_id)
    assert user is not None
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    return user


def request_password_reset(session: Session, settings: Settings, email: str, *, lang: str = "en") -> None:
    """Email a reset link when an active account has this email; answers the same either way
    (no account enumeration). Sent through the person's first brand's outbox."""
    user = session.execute(select(User).where(User.email == email.strip().lower())).scalar_one_or_none()
    if user is None or not user.is_active:
        return
    brand_id = _default_brand(session, user.id)
    if brand_id is None:  # nothing to send from: the outbox belongs to a brand
        return
    raw = _new_user_token(session, user.id, PASSWORD_RESET)
    from luneo.notifications.public import queue_email

    queue_email(
        session,
        brand_id,
        user.email,
        "password_reset",
        {
            "reset_url": _link(settings, "/dashboard/password/reset", raw),
            "minutes": int(RESET_TTL.total_seconds() // 60),
            "lang": lang,
        },
    )


def check_reset_token(session: Session, raw: str) -> None:
    """Raise unless `raw` is a live password-reset token (nothing is spent)."""
    token = (
        session.execute(
            select(UserToken).where(
                UserToken.token_hash == sha256_hex(raw), UserToken.purpose == PASSWORD_RESET
            )
        ).scalar_one_or_none()
        if 16 <= len(raw) <= 200
        else None
    )
    if token is None or token.used_at is not None:
        raise DomainError(TenancyErrorCode.INVALID_TOKEN, "This link is not valid or was already used.")
    if as_utc(token.expires_at) <= utcnow():
        raise DomainError(TenancyErrorCode.TOKEN_EXPIRED, "This link has expired: ask for a new one.")


def reset_password(session: Session, raw: str, new_password: str) -> User:
    """Spend a reset token, set the new password and end every session of the person (all
    refresh-token families revoked, so their access tokens stop at once). Reading the link
    also proves the address: the email counts as verified."""
    check_password(new_password)
    token = _spend_user_token(session, raw, PASSWORD_RESET)
    user = session.get(User, token.user_id)
    assert user is not None
    user.password_hash = hash_password(new_password)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return user
