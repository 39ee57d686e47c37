"""Tenancy reads and writes for the brand dashboard: keys, origins, widget settings, members,
invitations and the audit trail, each in a handful of queries (never one per row).

The JSON API keeps its own routes; both call the same service functions for the writes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from luneo.platform.clock import utcnow
from luneo.platform.config import Settings
from luneo.platform.domain_errors import DomainError
from luneo.platform.ids import new_id
from luneo.platform.models import AuditEvent
from luneo.platform.security import sha256_hex
from luneo.tenancy.error_codes import TenancyErrorCode
from luneo.tenancy.models import ApiKey, Brand, Invitation, Membership, User
from luneo.tenancy.schemas import BrandPatch
from luneo.tenancy.service import audit, invalidate_auth_caches, invitation_status, update_brand

MAX_ORIGINS = 50
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
#: The name of the publishable key the dashboard manages for the embed snippet and the live preview.
WIDGET_KEY_NAME = "Dashboard widget key"


# --- allowed origins ------------------------------------------------------------------------------


def normalize_origin(value: str) -> str:
    """`scheme://host[:port]` of `value` (lower-cased, one trailing `/` dropped); https unless the
    host is local. Anything else (a path, a query, credentials, a wildcard) is a 422 `invalid_origin`."""

    def bad(reason: str) -> DomainError:
        return DomainError(TenancyErrorCode.INVALID_ORIGIN, f"{value.strip()!r}: {reason}")

    text = value.strip()
    if text.endswith("/") and text.count("/") == 3:
        text = text[:-1]
    if not text or len(text) > 255 or any(c.isspace() for c in text) or "*" in text:
        raise bad("write an origin like https://shop.example (no spaces or wildcards).")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or not parts.hostname:
        raise bad("an origin starts with https:// followed by a host name.")
    if parts.path or parts.query or parts.fragment or "?" in text or "#" in text:
        raise bad("an origin has no path, query or fragment: only scheme, host and port.")
    if parts.username is not None or parts.password is not None:
        raise bad("an origin has no user name or password.")
    try:
        port = parts.port
    except ValueError:
        raise bad("the port is not a number from 1 to 65535.") from None
    host = parts.hostname.lower()
    host = f"[{host}]" if ":" in host else host
    if parts.scheme == "http" and host not in LOCAL_HOSTS:
        raise bad("use https:// (plain http is allowed only for localhost).")
    return f"{parts.scheme}://{host}{f':{port}' if port is not None else ''}"


def normalize_origins(values: list[str]) -> list[str]:
    """Each origin normalized (see `normalize_origin`), duplicates and blank lines dropped."""
    out = [normalize_origin(v) for v in values if v.strip()]
    out = list(dict.fromkeys(out))
    if len(out) > MAX_ORIGINS:
        raise DomainError(TenancyErrorCode.INVALID_ORIGIN, f"At most {MAX_ORIGINS} origins.")
    return out


def set_allowed_origins(session: Session, brand_id: str, values: list[str], actor: str) -> Brand:
    """Replace the brand's allowed origins (validated; audited as `brand.origins_changed`)."""
    origins = normalize_origins(values)
    brand = update_brand(session, brand_id, {"allowed_origins": origins})
    audit(session, brand_id, actor, "brand.origins_changed", "brand", brand_id, {"origins": origins})
    return brand


# --- widget settings ------------------------------------------------------------------------------


def update_settings(session: Session, brand_id: str, changes: dict[str, Any], actor: str) -> Brand:
    """Merge `changes` into the brand's settings, validated exactly as `PATCH /brand` validates them
    (422 `invalid_brand_settings` with the validator's message otherwise)."""
    brand = session.execute(select(Brand).where(Brand.id == brand_id)).scalar_one()
    merged = {**(brand.settings or {}), **changes}
    try:
        BrandPatch.model_validate({"settings": merged})
    except ValidationError as exc:
        message = "; ".join(str(e.get("msg", "")).removeprefix("Value error, ") for e in exc.errors())
        raise DomainError(TenancyErrorCode.INVALID_BRAND_SETTINGS, message) from None
    brand = update_brand(session, brand_id, {"settings": merged})
    audit(session, brand_id, actor, "brand.settings_changed", "brand", brand_id, {"changed": sorted(changes)})
    return brand


# --- API keys -------------------------------------------------------------------------------------


def list_api_keys(session: Session) -> list[ApiKey]:
    """The session brand's keys, newest first, revoked ones last (one query)."""
    return list(
        session.execute(
            select(ApiKey).order_by(ApiKey.revoked_at.is_not(None), ApiKey.created_at.desc(), ApiKey.id)
        ).scalars()
    )


def _derived_key(settings: Settings, key_id: str) -> str:
    """The widget key of row `key_id`, recomputed from the server secret (never stored)."""
    mac = hmac.new(
        settings.secret_key.get_secret_value().encode(),
        f"luneo-dashboard-widget-key:{key_id}".encode(),
        hashlib.sha256,
    ).digest()
    return "pk_live_" + base64.urlsafe_b64encode(mac[:24]).decode().rstrip("=")


def dashboard_origin(settings: Settings) -> str:
    """The dashboard's own origin (`LUNEO_PUBLIC_BASE_URL`): where the live preview runs."""
    parts = urlsplit(settings.public_base_url)
    return f"{parts.scheme}://{parts.netloc}"


def widget_key(session: Session, settings: Settings) -> tuple[ApiKey, str] | None:
    """The brand's dashboard-managed publishable key and its value, if one is active (read only).

    That key is what the embed snippet shows and the live preview uses: its value is derived
    from the server secret and its row id, so it can be shown again (a publishable key is public
    by design: it sits in every storefront page). It allows the brand's origins (as every key
    does) plus the dashboard's own origin, set on this key only — the brand's list is unchanged.
    """
    rows = session.execute(
        select(ApiKey)
        .where(ApiKey.kind == "publishable", ApiKey.name == WIDGET_KEY_NAME, ApiKey.revoked_at.is_(None))
        .order_by(ApiKey.created_at.desc())
    ).scalars()
    for key in rows:
        raw = _derived_key(settings, key.id)
        if hmac.compare_digest(key.key_hash, sha256_hex(raw)):
            return key, raw
    return None


def ensure_widget_key(session: Session, settings: Settings, brand_id: str, actor: str) -> tuple[ApiKey, str]:
    """The dashboard-managed widget key, created (or its dashboard origin brought up to date)."""
    origin = dashboard_origin(settings)
    found = widget_key(session, settings)
    if found is not None:
        key, raw = found
        if list(key.allowed_origins or []) != [origin]:
            key.allowed_origins = [origin]
            invalidate_auth_caches(session)
        return key, raw
    key_id = new_id("key")
    raw = _derived_key(settings, key_id)
    key = ApiKey(
        id=key_id,
        brand_id=brand_id,
        kind="publishable",
        name=WIDGET_KEY_NAME,
        prefix=raw[:12],
        key_hash=sha256_hex(raw),
        allowed_origins=[origin],
        created_by=actor,
    )
    session.add(key)
    session.flush()
    audit(
        session,
        brand_id,
        actor,
        "api_key.created",
        "api_key",
        key.id,
        {"kind": "publishable", "name": WIDGET_KEY_NAME},
    )
    return key, raw


# --- members and invitations ----------------------------------------------------------------------


def members(session: Session) -> list[tuple[Membership, str]]:
    """The session brand's members with their email, owners first, then by join date (one query)."""
    rows = session.execute(
        select(Membership, User.email)
        .join(User, User.id == Membership.user_id)
        .order_by(Membership.role != "owner", Membership.created_at, Membership.id)
    ).all()
    return [(m, email) for m, email in rows]


def pending_invitations(session: Session) -> list[Invitation]:
    """Invitations not yet accepted, revoked or expired, newest first (one query)."""
    return list(
        session.execute(
            select(Invitation)
            .where(
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > utcnow(),
            )
            .order_by(Invitation.created_at.desc(), Invitation.id)
        ).scalars()
    )


@dataclass(frozen=True)
class InvitationView:
    """What the accept page shows about an invitation link (never its token)."""

    brand_name: str
    email: str
    role: str
    status: str  # pending | accepted | revoked | expired
    has_account: bool


def invitation_by_token(session: Session, raw: str) -> InvitationView | None:
    """The invitation whose link carries `raw` (a system-bound session), or None."""
    if not 16 <= len(raw) <= 200:
        return None
    row = session.execute(
        select(Invitation, Brand.name)
        .join(Brand, Brand.id == Invitation.brand_id)
        .where(Invitation.token_hash == sha256_hex(raw))
    ).first()
    if row is None:
        return None
    inv, brand_name = row
    has_account = session.execute(select(User.id).where(User.email == inv.email)).first() is not None
    return InvitationView(brand_name, inv.email, inv.role, invitation_status(inv), has_account)


# --- audit trail ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditRow:
    id: str
    created_at: datetime
    actor: str | None
    actor_email: str | None
    action: str
    resource_type: str
    resource_id: str
    data: dict[str, Any]


def audit_actions(session: Session) -> list[str]:
    """The distinct actions in the session brand's audit trail (for the filter)."""
    return [a for (a,) in session.execute(select(AuditEvent.action).distinct().order_by(AuditEvent.action))]


def audit_events(
    session: Session,
    *,
    action: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: int = 1,
    per_page: int = 25,
) -> tuple[list[AuditRow], bool]:
    """One page of the session brand's audit trail, newest first, and whether a next page exists
    (one query). `actor` matches an actor id exactly or part of the person's email."""
    query = select(AuditEvent, User.email).outerjoin(User, User.id == AuditEvent.actor)
    if action:
        query = query.where(AuditEvent.action == action)
    if actor:
        like = actor.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(
            or_(AuditEvent.actor == actor.strip(), func.lower(User.email).like(f"%{like}%", escape="\\"))
        )
    if since:
        query = query.where(AuditEvent.created_at >= since)
    if until:
        query = query.where(AuditEvent.created_at < until)
    page = max(1, page)
    rows = session.execute(
        query.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page + 1)
    ).all()
    out = [
        AuditRow(e.id, e.created_at, e.actor, email, e.action, e.resource_type, e.resource_id, e.data or {})
        for e, email in rows[:per_page]
    ]
    return out, len(rows) > per_page


def api_key(session: Session, key_id: str) -> ApiKey:
    """A key of the session's brand; another brand's id is a 404 like a missing one."""
    from luneo.platform.tenancy import get_or_404

    return get_or_404(session, ApiKey, key_id, "api key")


def invite(
    session: Session,
    settings: Settings,
    *,
    brand_id: str,
    email: str,
    role: str,
    name: str,
    actor: str,
    actor_role: str | None,
) -> Invitation:
    """`invite_member` with the checks `POST /brand/members` makes on its body: a valid email
    address (422 `invalid_email`) and a known role (422 `invalid_role`)."""
    from email_validator import EmailNotValidError, validate_email

    from luneo.tenancy.models import ROLES
    from luneo.tenancy.service import invite_member

    email = email.strip().lower()
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        raise DomainError(
            TenancyErrorCode.INVALID_EMAIL, f"{email!r} is not a valid email address: {exc}"
        ) from None
    if role not in ROLES:
        raise DomainError(TenancyErrorCode.INVALID_ROLE, f"The role is one of {', '.join(ROLES)}.")
    return invite_member(
        session,
        settings,
        brand_id=brand_id,
        email=email,
        role=role,
        name=name,
        invited_by=actor,
        actor_role=actor_role,
    )
