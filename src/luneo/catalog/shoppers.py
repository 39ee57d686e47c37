"""Which anonymous shopper made which widget object (public to the other domains).

A publishable key (`pk_`) is shared by every shopper of a brand's store, so what it may read is
narrowed to the objects its own shopper (the `X-Shopper-Token`) uploaded or built: photos,
specs, snapshots and renders. Those objects are content-addressed and shared by everyone who
produces the same bytes, so the binding is a grant per (shopper, object), stored with the
SHA-256 of the token (never the token itself). Brand credentials (`sk_`, JWT) are not narrowed.

`scope_of(t)` gives the shopper token of a widget caller (None for brand credentials), and
every function here treats `shopper=None` as "unrestricted".
"""

from __future__ import annotations

import hashlib
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from luneo.catalog.models import ShopperGrant
from luneo.platform.auth import Tenant
from luneo.platform.domain_errors import CommonErrorCode, DomainError, NotFoundError

ObjectType = Literal["asset", "spec", "snapshot", "render"]


NO_SHOPPER = ""  # a widget caller without a token: holds no grant, so names no shopper object


def scope_of(t: Tenant, *, required: bool = True) -> str | None:
    """The shopper a widget (`pk_`) caller acts for; None (unrestricted) for brand credentials.

    `required`: a widget call without `X-Shopper-Token` is a 422; otherwise it gets `NO_SHOPPER`
    (for checks that write nothing, such as validation)."""
    if t.principal.kind != "publishable_key":
        return None
    token = t.shopper_token(required=required)
    return NO_SHOPPER if token is None else token


def forbid_widget(t: Tenant, what: str) -> None:
    """403 for publishable keys on brand-only reads (e.g. listing every upload)."""
    if t.principal.kind == "publishable_key":
        raise DomainError(CommonErrorCode.FORBIDDEN, f"A publishable key cannot {what}.")


def _digest(shopper: str) -> str:
    return hashlib.sha256(shopper.encode()).hexdigest()


def public_id(shopper: str) -> str:
    """A stable, non-reversible name for a shopper, safe to store and show to the brand."""
    return "shp_" + _digest(shopper)[:24]


def grant(session: Session, shopper: str | None, object_type: ObjectType, object_id: str) -> bool:
    """Record that `shopper` made the object (no-op for brand callers). True when newly granted."""
    if not shopper:
        return False
    if holds(session, shopper, object_type, object_id):
        return False
    try:
        with session.begin_nested():
            session.add(ShopperGrant(shopper=_digest(shopper), object_type=object_type, object_id=object_id))
    except IntegrityError:  # granted concurrently
        return False
    return True


def holds(session: Session, shopper: str | None, object_type: ObjectType, object_id: str) -> bool:
    """Whether the caller may read the object: always for brand callers, by grant for shoppers."""
    if shopper is None:
        return True
    stmt = select(ShopperGrant.id).where(
        ShopperGrant.shopper == _digest(shopper),
        ShopperGrant.object_type == object_type,
        ShopperGrant.object_id == object_id,
    )
    return session.execute(stmt.limit(1)).first() is not None


def require(
    session: Session, shopper: str | None, object_type: ObjectType, object_id: str, label: str | None = None
) -> None:
    """404 (as for a missing object) unless the caller may read the object."""
    if not holds(session, shopper, object_type, object_id):
        raise NotFoundError(label or object_type, object_id)
