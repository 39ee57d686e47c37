"""One-click unsubscribe (RFC 8058) from a brand's non-essential emails (low credits, render ready).

The link carries a token `<payload>.<signature>`: the payload is the base64url JSON of
(brand id, address, category), the signature its HMAC-SHA256 under a key derived from
`LUNEO_SECRET_KEY`. Nothing is stored to issue it, so the same link is rebuilt at send time;
a tampered or foreign token is refused. The opt-out is a row of `email_opt_outs`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from luneo.notifications.models import OPT_OUT_CATEGORIES, EmailOptOut
from luneo.platform.config import Settings

PATH = "/notifications/unsubscribe"


@dataclass(frozen=True)
class Subscription:
    """Who unsubscribes from what: one address, one brand, one category."""

    brand_id: str
    email: str
    category: str


def _key(settings: Settings) -> bytes:
    secret = settings.secret_key.get_secret_value().encode()
    return hmac.new(secret, b"luneo.notifications.unsubscribe.v1", hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_token(settings: Settings, sub: Subscription) -> str:
    payload = _b64(json.dumps([sub.brand_id, sub.email, sub.category], separators=(",", ":")).encode())
    signature = _b64(hmac.new(_key(settings), payload.encode(), hashlib.sha256).digest())
    return f"{payload}.{signature}"


def read_token(settings: Settings, token: str) -> Subscription | None:
    """The subscription a token names, or None when it is malformed, tampered with or unknown."""
    payload, _, signature = (token or "").partition(".")
    if not payload or not signature or len(token) > 2000:
        return None
    expected = _b64(hmac.new(_key(settings), payload.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(expected, signature):
        return None
    try:
        brand_id, email, category = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, TypeError, binascii.Error):
        return None
    if category not in OPT_OUT_CATEGORIES.values():
        return None
    return Subscription(str(brand_id), str(email), str(category))


def unsubscribe_url(settings: Settings, brand_id: str, email: str, template: str) -> str | None:
    """The one-click link of a non-essential email; None for an essential one."""
    category = OPT_OUT_CATEGORIES.get(template)
    if category is None:
        return None
    token = make_token(settings, Subscription(brand_id, email, category))
    return f"{settings.public_base_url.rstrip('/')}{PATH}?token={token}"


def list_unsubscribe_headers(url: str | None) -> dict[str, str]:
    """RFC 2369 `List-Unsubscribe` + RFC 8058 `List-Unsubscribe-Post` (none without a link)."""
    if url is None:
        return {}
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def is_opted_out(session: Session, brand_id: str, email: str, template: str) -> bool:
    """Whether `email` unsubscribed from the category of `template` (never for an essential one)."""
    category = OPT_OUT_CATEGORIES.get(template)
    return category is not None and is_opted_out_category(session, Subscription(brand_id, email, category))


def record_opt_out(session: Session, sub: Subscription, *, source: str = "one_click") -> bool:
    """Record the opt-out (idempotent); True when it is new. The session is bound to the brand."""
    if is_opted_out_category(session, sub):
        return False
    try:
        with session.begin_nested():
            session.add(
                EmailOptOut(brand_id=sub.brand_id, email=sub.email, category=sub.category, source=source)
            )
    except IntegrityError:  # the same link clicked twice at once
        return False
    return True


def is_opted_out_category(session: Session, sub: Subscription) -> bool:
    found = session.execute(
        select(EmailOptOut.id).where(
            EmailOptOut.brand_id == sub.brand_id,
            EmailOptOut.email == sub.email,
            EmailOptOut.category == sub.category,
        )
    ).first()
    return found is not None
