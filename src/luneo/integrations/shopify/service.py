"""Shopify use cases: install and tokens, the app proxy's properties, webhooks and compliance.

Every request is authenticated by its origin through Shopify's SDK (`client.app_for`): admin
requests by their App Bridge session token, storefront requests by the app-proxy signature,
webhooks by the HMAC of their raw body. The shop is only ever taken from what was verified.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shopify_app import IdTokenDetails, TokenExchangeAccessToken
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from luneo.commerce import public as commerce
from luneo.designs import public as designs
from luneo.integrations.shopify import client, crypto, events
from luneo.integrations.shopify.error_codes import ShopifyErrorCode
from luneo.integrations.shopify.models import (
    ACTIVE,
    UNINSTALLED,
    ShopifyIntegration,
    ShopifyProductMapping,
    ShopifyWebhookDelivery,
)
from luneo.platform import events as bus
from luneo.platform import jobs
from luneo.platform.clock import utcnow
from luneo.platform.config import Settings
from luneo.platform.database import Database
from luneo.platform.domain_errors import DomainError, NotFoundError
from luneo.platform.storage import get_storage
from luneo.platform.tenancy import bind_system, bind_tenant

SHOP_RE = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
PATCH_ID_TOKEN_PATH = "/shopify/app/patch-id-token"
WEBHOOK_ACTOR = "shopify.webhook"
REFRESH_MARGIN_S = 60
LINK_TICKET_TTL_S = 3600
COMPLIANCE_TOPICS = ("customers/data_request", "customers/redact", "shop/redact")


def shop_domain(shop: str | None) -> str:
    """`my-shop` (the SDK's form) or `my-shop.myshopify.com` → `my-shop.myshopify.com` (validated)."""
    value = (shop or "").strip().lower()
    if value and not value.endswith(".myshopify.com"):
        value += ".myshopify.com"
    if not SHOP_RE.match(value):
        raise DomainError(ShopifyErrorCode.SESSION_TOKEN_INVALID, "The shop could not be verified.")
    return value


def _parse_expiry(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _iso(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


# --------------------------------------------------------------------------- admin (session token)


@dataclass(frozen=True)
class AdminSession:
    """A verified App Bridge session token: the shop, the Shopify user, the token itself."""

    shop_domain: str
    user_id: str | None
    id_token: IdTokenDetails
    response_headers: dict[str, str]


class PatchIdToken(Exception):
    """A document request without a (valid) id token: redirect to the page that gets a new one."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


def verify_admin_request(
    settings: Settings, *, method: str, url: str, headers: Mapping[str, str], body: str = ""
) -> AdminSession:
    """Verify an admin request's session token (`id_token` query or `Authorization: Bearer`).

    HS256 with the app secret, `aud` = the app's client id, `dest` = the shop (Shopify's SDK).
    A document request with no or a stale token raises `PatchIdToken`; otherwise 401."""
    result = client.app_for(settings).verify_app_home_req(
        {"method": method, "headers": dict(headers), "url": url, "body": body}, PATCH_ID_TOKEN_PATH
    )
    if not result.ok or result.id_token is None:
        if result.response.status == 302 and "Location" in result.response.headers:
            raise PatchIdToken(result.response.headers["Location"])
        raise DomainError(ShopifyErrorCode.SESSION_TOKEN_INVALID, "The Shopify session token is invalid.")
    return AdminSession(
        shop_domain(result.shop), result.user_id, result.id_token, dict(result.response.headers)
    )


def integration_for_shop(
    session: Session, domain: str, *, active_only: bool = False
) -> ShopifyIntegration | None:
    """The integration of a shop, whatever the brand (call it from a system-bound session)."""
    row = session.execute(
        select(ShopifyIntegration).where(ShopifyIntegration.shop_domain == domain)
    ).scalar_one_or_none()
    if row is not None and active_only and row.status != ACTIVE:
        return None
    return row


def exchange_token(settings: Settings, admin: AdminSession) -> TokenExchangeAccessToken:
    """Token exchange: the session token → an expiring offline access token (+ refresh token)."""
    app = client.app_for(settings)
    with client.http_client(settings) as http:
        result = app.exchange_using_token_exchange("offline", admin.id_token, expiring=True, http_client=http)
    if not result.ok or result.access_token is None:
        if result.response.status == 401:
            raise DomainError(ShopifyErrorCode.SESSION_TOKEN_INVALID, "The Shopify session token is invalid.")
        raise DomainError(
            ShopifyErrorCode.TOKEN_EXCHANGE_FAILED, f"Token exchange failed: {result.log.code}."
        )
    return result.access_token


def _store_tokens(settings: Settings, row: ShopifyIntegration, token: TokenExchangeAccessToken) -> None:
    row.access_token_enc = crypto.encrypt(settings, token.token)
    row.access_token_expires_at = _parse_expiry(token.expires)
    row.refresh_token_enc = crypto.encrypt(settings, token.refresh_token) if token.refresh_token else None
    row.refresh_token_expires_at = _parse_expiry(token.refresh_token_expires)
    row.scopes = token.scope or row.scopes or ""
    row.token_version = (row.token_version or 0) + 1


def link_ticket(settings: Settings, domain: str, token: TokenExchangeAccessToken) -> str:
    """An encrypted, timed ticket carrying a not-yet-linked shop and its tokens to the link form."""
    doc = {
        "shop": domain,
        "token": token.token,
        "expires": token.expires,
        "scope": token.scope,
        "refresh_token": token.refresh_token,
        "refresh_token_expires": token.refresh_token_expires,
    }
    return crypto.encrypt(settings, json.dumps(doc))


def read_link_ticket(settings: Settings, ticket: str) -> tuple[str, TokenExchangeAccessToken]:
    """(shop domain, tokens) of a ticket from `link_ticket` (401 when altered or older than 1 h)."""
    try:
        doc = json.loads(crypto.decrypt(settings, ticket, ttl_s=LINK_TICKET_TTL_S))
    except ValueError:
        raise DomainError(
            ShopifyErrorCode.SESSION_TOKEN_INVALID, "This link has expired: open the app again."
        ) from None
    token = TokenExchangeAccessToken(
        shop=doc["shop"].removesuffix(".myshopify.com"),
        token=doc["token"],
        expires=doc["expires"],
        scope=doc["scope"] or "",
        access_mode="offline",
        refresh_token=doc["refresh_token"],
        refresh_token_expires=doc["refresh_token_expires"],
        user=None,
    )
    return shop_domain(doc["shop"]), token


def _readable(settings: Settings, token: str | None) -> bool:
    """Whether a stored secret exists and decrypts under this server's key (it does not once an
    operator changed `LUNEO_SECRET_KEY`)."""
    if not token:
        return False
    try:
        crypto.decrypt(settings, token)
    except ValueError:
        return False
    return True


def install(
    session: Session, settings: Settings, domain: str, brand_id: str, token: TokenExchangeAccessToken
) -> ShopifyIntegration:
    """Link (or re-link after an uninstall) a shop to a brand with fresh tokens. `session` is
    system-bound; a shop already linked to another brand is refused (409).

    The property secret is kept, unless missing or unreadable (`LUNEO_SECRET_KEY` changed): then a
    new one is made. Properties signed with the old one (carts already filled) no longer verify,
    so `orders/paid` holds their orders for review: the safe outcome, nothing is produced from
    unverified properties."""
    row = integration_for_shop(session, domain)
    if row is not None and row.brand_id != brand_id:
        raise DomainError(ShopifyErrorCode.SHOP_ALREADY_LINKED, "This shop is linked to another brand.")
    now = utcnow()
    if row is None:
        row = ShopifyIntegration(
            brand_id=brand_id,
            shop_domain=domain,
            api_version=settings.shopify_api_version,
            installed_at=now,
            token_version=0,
        )
        session.add(row)
    row.status, row.installed_at, row.uninstalled_at = ACTIVE, row.installed_at or now, None
    row.api_version = settings.shopify_api_version
    if not _readable(settings, row.property_secret_enc):
        row.property_secret_enc = crypto.encrypt(settings, secrets.token_hex(32))
    _store_tokens(settings, row, token)
    session.flush()
    bus.publish(
        session,
        events.SHOP_INSTALLED,
        {"brand_id": brand_id, "integration_id": row.id, "shop_domain": domain},
    )
    return row


def refresh_install(session: Session, settings: Settings, admin: AdminSession) -> ShopifyIntegration | None:
    """On opening the app: the shop's integration, re-installed by token exchange when it has no
    usable tokens (first open after an uninstall, expired refresh token, tokens or property secret
    unreadable after a change of `LUNEO_SECRET_KEY`). None: not linked yet."""
    row = integration_for_shop(session, admin.shop_domain)
    if row is None:
        return None
    usable = (
        row.status == ACTIVE
        and (row.refresh_token_expires_at is None or row.refresh_token_expires_at > utcnow())
        and _readable(settings, row.refresh_token_enc)
        and _readable(settings, row.access_token_enc)
        and _readable(settings, row.property_secret_enc)
    )
    if not usable:
        install(session, settings, admin.shop_domain, row.brand_id, exchange_token(settings, admin))
    return row


def access_token(db: Database, settings: Settings, brand_id: str, integration_id: str) -> str:
    """A valid offline access token for the Admin API, refreshed when it expires within a minute.

    The refresh runs under the integration's row lock (`SELECT … FOR UPDATE` on PostgreSQL, the
    write transaction on SQLite), re-reading the row once the lock is held: of two concurrent
    callers only the first spends the single-use refresh token, the second gets its result."""
    with db.transaction(write=False) as s:
        bind_tenant(s, brand_id)
        row = s.execute(
            select(ShopifyIntegration).where(ShopifyIntegration.id == integration_id)
        ).scalar_one_or_none()
        if row is None:
            raise NotFoundError("integration", integration_id)
        if _fresh(row):
            return _decrypt_stored(settings, row.access_token_enc or "")
    with db.transaction() as s:
        bind_tenant(s, brand_id)
        row = s.execute(
            select(ShopifyIntegration).where(ShopifyIntegration.id == integration_id).with_for_update()
        ).scalar_one()
        if _fresh(row):
            return _decrypt_stored(settings, row.access_token_enc or "")
        if row.status != ACTIVE or not row.refresh_token_enc:
            raise DomainError(ShopifyErrorCode.REINSTALL_REQUIRED, "Open the Luneo app in Shopify again.")
        current = {
            "shop": row.shop_domain.removesuffix(".myshopify.com"),
            "refresh_token": _decrypt_stored(settings, row.refresh_token_enc),
            "expires": _iso(row.access_token_expires_at),
            "refresh_token_expires": _iso(row.refresh_token_expires_at),
            "access_mode": "offline",
        }
        app = client.app_for(settings)
        with client.http_client(settings) as http:
            result = app.refresh_token_exchanged_access_token(current, http_client=http)
        if not result.ok or result.access_token is None:
            if result.log.code == "refresh_token_expired":
                raise DomainError(ShopifyErrorCode.REINSTALL_REQUIRED, "Open the Luneo app in Shopify again.")
            raise DomainError(
                ShopifyErrorCode.TOKEN_EXCHANGE_FAILED, f"Token refresh failed: {result.log.code}."
            )
        _store_tokens(settings, row, result.access_token)
        return result.access_token.token


def _fresh(row: ShopifyIntegration) -> bool:
    if row.status != ACTIVE or not row.access_token_enc:
        return False
    expires = row.access_token_expires_at
    return expires is None or expires > utcnow() + timedelta(seconds=REFRESH_MARGIN_S)


# --------------------------------------------------------------------------- line-item properties


def addons_string(spec: Mapping[str, Any]) -> str:
    """`_luneo_addons`: the priced zones as `zone=chars`, in zone order, joined by `,`."""
    return ",".join(f"{a.zone}={a.chars}" for a in commerce.zone_add_ons(spec))


def property_message(snapshot_id: str, spec_hash: str, preview: str, addons: str) -> str:
    """The exact text `_luneo_sig` signs (contract v1)."""
    return "v1\n" + snapshot_id + "\n" + spec_hash + "\n" + preview + "\n" + addons


def sign_properties(secret: str, snapshot_id: str, spec_hash: str, preview: str, addons: str) -> str:
    """`_luneo_sig`: lowercase hex HMAC-SHA256 of `property_message` under the property secret."""
    message = property_message(snapshot_id, spec_hash, preview, addons).encode("utf-8")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify_properties(secret: str, properties: Mapping[str, Any]) -> bool:
    """Whether a line's `_luneo_*` properties carry a valid `_luneo_sig` (all present, strings)."""
    names = ("_luneo_snapshot", "_luneo_spec_hash", "_luneo_preview", "_luneo_addons", "_luneo_sig")
    values = [properties.get(n) for n in names]
    if not all(isinstance(v, str) for v in values):
        return False
    snapshot_id, spec_hash, preview, addons, sig = (str(v) for v in values)
    expected = sign_properties(secret, snapshot_id, spec_hash, preview, addons)
    return hmac.compare_digest(expected, sig)


def visible_properties(spec: Mapping[str, Any]) -> dict[str, str]:
    """`<zone label>: <text>` for every filled text zone (packing slips, order emails)."""
    inputs = spec.get("inputs") or {}
    out: dict[str, str] = {}
    for zone in (spec.get("product") or {}).get("zones") or []:
        value = inputs.get(zone.get("key")) or {}
        text = str(value.get("text") or "") if value.get("kind") == "text" else ""
        if zone.get("kind") == "text" and text.strip():
            out[str(zone.get("label") or zone.get("key"))] = text
    return out


def preview_signature(settings: Settings, snapshot_id: str) -> str:
    """The signature of a snapshot's public preview URL (the URL stays valid: orders keep it)."""
    key = settings.secret_key.get_secret_value().encode()
    return hmac.new(key, b"shopify-preview:" + snapshot_id.encode(), hashlib.sha256).hexdigest()[:32]


def preview_url(settings: Settings, snapshot_id: str) -> str:
    """`_luneo_preview`: the snapshot's mockup image, served by `GET /shopify/preview/…`."""
    base = settings.public_base_url.rstrip("/")
    return f"{base}/shopify/preview/{snapshot_id}.png?sig={preview_signature(settings, snapshot_id)}"


def line_properties(settings: Settings, secret: str, snapshot: Any) -> dict[str, str]:
    """Every line-item property of the contract for one snapshot, `_luneo_sig` included."""
    spec = snapshot.spec or {}
    preview = preview_url(settings, snapshot.id)
    addons = addons_string(spec)
    props = {
        "_luneo_snapshot": snapshot.id,
        "_luneo_spec_hash": snapshot.spec_hash,
        "_luneo_preview": preview,
        "_luneo_addons": addons,
        "_luneo_sig": sign_properties(secret, snapshot.id, snapshot.spec_hash, preview, addons),
    }
    props.update(visible_properties(spec))
    return props


def property_secret(settings: Settings, row: ShopifyIntegration) -> str:
    """The shop's property-signing secret; 409 `shopify_reinstall_required` when it cannot be
    decrypted (`LUNEO_SECRET_KEY` changed): opening the app replaces it (see `install`)."""
    if not row.property_secret_enc:
        raise DomainError(ShopifyErrorCode.SHOP_NOT_INSTALLED, "The shop is not installed.")
    return _decrypt_stored(settings, row.property_secret_enc)


def _decrypt_stored(settings: Settings, token: str) -> str:
    try:
        return crypto.decrypt(settings, token)
    except ValueError:
        raise DomainError(
            ShopifyErrorCode.REINSTALL_REQUIRED,
            "Luneo's stored Shopify secrets are unreadable (server key changed): open the Luneo app "
            "in Shopify again.",
        ) from None


# --------------------------------------------------------------------------- app proxy


@dataclass(frozen=True)
class ProxyRequest:
    """A verified app-proxy request: the shop and the logged-in customer (if any)."""

    shop_domain: str
    customer_id: str | None


def verify_proxy(settings: Settings, url: str) -> ProxyRequest:
    """Verify an app-proxy request's `signature` (Shopify's SDK: sorted `key=value` params, hex
    HMAC-SHA256 under the app secret, recent `timestamp`); 401 otherwise."""
    result = client.app_for(settings).verify_app_proxy_req(
        {"method": "GET", "headers": {}, "url": url, "body": ""}
    )
    if not result.ok or not result.shop:
        raise DomainError(ShopifyErrorCode.PROXY_SIGNATURE_INVALID, "The app proxy signature is invalid.")
    try:
        domain = shop_domain(result.shop)
    except DomainError:
        raise DomainError(ShopifyErrorCode.PROXY_SIGNATURE_INVALID, "The shop is invalid.") from None
    return ProxyRequest(domain, result.logged_in_customer_id)


def proxy_integration(session: Session, proxy: ProxyRequest) -> ShopifyIntegration:
    """The active integration of a verified proxy request; the session is then bound to its brand."""
    bind_system(session)
    row = integration_for_shop(session, proxy.shop_domain, active_only=True)
    if row is None:
        raise DomainError(ShopifyErrorCode.SHOP_NOT_INSTALLED, "Luneo is not installed on this shop.")
    bind_tenant(session, row.brand_id)
    return row


def mapping_for(session: Session, row: ShopifyIntegration, shopify_product_id: str) -> ShopifyProductMapping:
    """The product-level mapping of a Shopify product (else its first variant mapping); 404 if none."""
    found = (
        session.execute(
            select(ShopifyProductMapping)
            .where(
                ShopifyProductMapping.integration_id == row.id,
                ShopifyProductMapping.shopify_product_id == shopify_product_id,
            )
            .order_by(
                ShopifyProductMapping.shopify_variant_id.is_not(None), ShopifyProductMapping.external_id
            )
        )
        .scalars()
        .first()
    )
    if found is None:
        raise NotFoundError("shopify product", shopify_product_id)
    return found


def map_product(
    session: Session,
    row: ShopifyIntegration,
    shopify_product_id: str,
    product_id: str,
    variant_id: str | None = None,
    *,
    title: str | None = None,
) -> ShopifyProductMapping:
    """Map a Shopify product (or variant) to a Luneo product of the brand (upsert); `title` (the
    Shopify product's) is kept when given."""
    external = shopify_product_id + (f"/{variant_id}" if variant_id else "")
    mapping = session.execute(
        select(ShopifyProductMapping).where(
            ShopifyProductMapping.integration_id == row.id, ShopifyProductMapping.external_id == external
        )
    ).scalar_one_or_none()
    if mapping is None:
        mapping = ShopifyProductMapping(
            integration_id=row.id,
            external_id=external,
            shopify_product_id=shopify_product_id,
            shopify_variant_id=variant_id,
            product_id=product_id,
        )
        session.add(mapping)
    mapping.product_id = product_id
    if title is not None:
        mapping.title = title.strip()[:255]
    elif mapping.title is None:
        mapping.title = ""
    session.flush()
    return mapping


def snapshot_of_brand(session: Session, snapshot_id: str) -> Any:
    """A snapshot of the session's brand (404 for a missing one and for another brand's)."""
    snap = session.execute(
        select(designs.Snapshot).where(designs.Snapshot.id == snapshot_id)
    ).scalar_one_or_none()
    if snap is None:
        raise NotFoundError("snapshot", snapshot_id)
    return snap


# --------------------------------------------------------------------------- webhooks


@dataclass(frozen=True)
class WebhookReceipt:
    """What `receive_webhook` did: `accepted` (job enqueued), `duplicate` or `ignored` (no shop)."""

    status: str
    delivery_id: str | None = None


def receive_webhook(
    db: Database, settings: Settings, headers: Mapping[str, str], raw: bytes
) -> WebhookReceipt:
    """Verify (HMAC over the raw body), dedupe on `X-Shopify-Event-Id`, record, enqueue; no work here."""
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DomainError(ShopifyErrorCode.WEBHOOK_HMAC_INVALID, "The webhook HMAC is invalid.") from None
    hdrs = {k.lower(): v for k, v in headers.items()}
    result = client.app_for(settings).verify_webhook_req(
        {"method": "POST", "headers": hdrs, "url": "/shopify/webhooks", "body": body}
    )
    if not result.ok:
        raise DomainError(ShopifyErrorCode.WEBHOOK_HMAC_INVALID, "The webhook HMAC is invalid.")
    topic = hdrs.get("x-shopify-topic", "")
    event_id = hdrs.get("x-shopify-event-id") or hdrs.get("x-shopify-webhook-id") or ""
    if not topic or not event_id or len(event_id) > 100 or len(topic) > 64:
        raise DomainError(
            ShopifyErrorCode.WEBHOOK_INVALID, "X-Shopify-Topic and X-Shopify-Event-Id are required."
        )
    try:
        payload = json.loads(body)
        domain = shop_domain(result.shop)
    except (ValueError, DomainError):
        raise DomainError(ShopifyErrorCode.WEBHOOK_INVALID, "The webhook body or shop is invalid.") from None
    if not isinstance(payload, dict):
        raise DomainError(ShopifyErrorCode.WEBHOOK_INVALID, "The webhook body must be a JSON object.")
    claimed = payload.get("shop_domain")
    if isinstance(claimed, str) and claimed.lower() != domain:
        raise DomainError(ShopifyErrorCode.WEBHOOK_INVALID, "The body names another shop.")
    with db.transaction() as s:
        bind_system(s)
        row = integration_for_shop(s, domain)
        if row is None:
            return WebhookReceipt("ignored")
        bind_tenant(s, row.brand_id)
        delivery = ShopifyWebhookDelivery(
            integration_id=row.id,
            event_id=event_id,
            topic=topic,
            api_version=hdrs.get("x-shopify-api-version", "")[:16],
            received_at=utcnow(),
            status="received",
            payload=payload,
            result={},
        )
        try:
            with s.begin_nested():
                s.add(delivery)
        except IntegrityError:
            return WebhookReceipt("duplicate")
        jobs.enqueue(
            s,
            WEBHOOK_ACTOR,
            f"shopify:webhook:{delivery.id}",
            {"delivery_id": delivery.id},
            brand_id=row.brand_id,
        )
        return WebhookReceipt("accepted", delivery.id)


def process_delivery(session: Session, settings: Settings, delivery_id: str) -> dict[str, Any]:
    """Do a delivery's work (in a job, brand-bound session); idempotent: a processed one is skipped."""
    delivery = session.execute(
        select(ShopifyWebhookDelivery).where(ShopifyWebhookDelivery.id == delivery_id)
    ).scalar_one_or_none()
    if delivery is None:
        raise NotFoundError("webhook delivery", delivery_id)
    if delivery.status != "received":
        return dict(delivery.result or {})
    row = session.execute(
        select(ShopifyIntegration).where(ShopifyIntegration.id == delivery.integration_id)
    ).scalar_one()
    payload = delivery.payload or {}
    handler = _HANDLERS.get(delivery.topic)
    if handler is None:
        delivery.status, delivery.result = "skipped", {"reason": f"no handler for {delivery.topic}"}
    else:
        delivery.result = handler(session, settings, row, delivery, payload)
        delivery.status = "processed"
    delivery.processed_at = utcnow()
    if delivery.topic in COMPLIANCE_TOPICS:
        delivery.payload = None  # personal data is kept no longer than the work needs it
    return dict(delivery.result or {})


def uninstall(row: ShopifyIntegration) -> None:
    """Revoke the tokens and disable the integration; mappings and the brand's data stay."""
    row.status, row.uninstalled_at = UNINSTALLED, utcnow()
    row.access_token_enc = row.refresh_token_enc = None
    row.access_token_expires_at = row.refresh_token_expires_at = None
    row.token_version = (row.token_version or 0) + 1


def _on_uninstalled(
    session: Session,
    settings: Settings,
    row: ShopifyIntegration,
    delivery: ShopifyWebhookDelivery,
    payload: dict[str, Any],
) -> dict[str, Any]:
    uninstall(row)
    info = {"brand_id": row.brand_id, "integration_id": row.id, "shop_domain": row.shop_domain}
    bus.publish(session, events.SHOP_UNINSTALLED, info)
    return {"uninstalled": True}


def _customer_email(payload: Mapping[str, Any]) -> str:
    customer = payload.get("customer") or {}
    return str(customer.get("email") or "").strip().lower() if isinstance(customer, dict) else ""


def _orders_of(session: Session, email: str) -> list[Any]:
    if not email:
        return []
    order = commerce.Order
    return list(
        session.execute(
            select(order).where(func.lower(order.customer_email) == email).order_by(order.created_at)
        ).scalars()
    )


def customer_export(session: Session, email: str) -> dict[str, Any]:
    """The brand's personal data about one customer: their orders, items and the designs (snapshots)."""
    orders = _orders_of(session, email)
    snapshot_ids = sorted({i.snapshot_id for o in orders for i in o.items if i.snapshot_id})
    snaps = (
        session.execute(select(designs.Snapshot).where(designs.Snapshot.id.in_(snapshot_ids))).scalars().all()
        if snapshot_ids
        else []
    )
    return {
        "email": email,
        "orders": [
            {
                "id": o.id,
                "number": o.number,
                "status": o.status,
                "created_at": o.created_at.isoformat(),
                "currency": o.currency,
                "total_cents": o.total_cents,
                "customer_email": o.customer_email,
                "customer_name": o.customer_name,
                "shipping_address": o.shipping_address,
                "items": [
                    {"product_name": i.product_name, "quantity": i.quantity, "snapshot_id": i.snapshot_id}
                    for i in o.items
                ],
            }
            for o in orders
        ],
        "designs": [
            {"snapshot_id": s.id, "spec_hash": s.spec_hash, "inputs": (s.spec or {}).get("inputs")}
            for s in snaps
        ],
    }


def _on_data_request(
    session: Session,
    settings: Settings,
    row: ShopifyIntegration,
    delivery: ShopifyWebhookDelivery,
    payload: dict[str, Any],
) -> dict[str, Any]:
    email = _customer_email(payload)
    export = customer_export(session, email)
    export["shop_domain"] = row.shop_domain
    export["data_request"] = payload.get("data_request")
    stored = get_storage().put(
        json.dumps(export, sort_keys=True, default=str).encode(),
        content_type="application/json",
        key=f"shopify/data-requests/{row.brand_id}/{delivery.id}.json",
    )
    return {"export_key": stored.key, "orders": len(export["orders"]), "designs": len(export["designs"])}


REDACTED_NAME = ""


def redacted_email(email: str) -> str:
    """What an erased customer's email becomes: not reversible, not deliverable, still unique-ish."""
    return f"redacted-{hashlib.sha256(email.encode()).hexdigest()[:16]}@redacted.invalid"


def redact_customer(session: Session, email: str) -> int:
    """Erase one customer's personal data from the brand's orders (email, name, address); the
    orders' money and production records stay. Returns how many orders were anonymised."""
    orders = _orders_of(session, email)
    for o in orders:
        o.customer_email = redacted_email(email)
        o.customer_name = REDACTED_NAME
        o.shipping_address = None
        o.history = [*(o.history or []), {"at": utcnow().isoformat(), "event": "customer_redacted"}]
    return len(orders)


def _on_customer_redact(
    session: Session,
    settings: Settings,
    row: ShopifyIntegration,
    delivery: ShopifyWebhookDelivery,
    payload: dict[str, Any],
) -> dict[str, Any]:
    return {"orders_redacted": redact_customer(session, _customer_email(payload))}


def _on_shop_redact(
    session: Session,
    settings: Settings,
    row: ShopifyIntegration,
    delivery: ShopifyWebhookDelivery,
    payload: dict[str, Any],
) -> dict[str, Any]:
    """Erase what Luneo holds for the shop: its tokens, property secret, mappings, payloads."""
    uninstall(row)
    row.property_secret_enc = None
    res = session.execute(delete(ShopifyProductMapping).where(ShopifyProductMapping.integration_id == row.id))
    removed = res.rowcount  # type: ignore[attr-defined]
    for other in session.execute(
        select(ShopifyWebhookDelivery).where(ShopifyWebhookDelivery.integration_id == row.id)
    ).scalars():
        other.payload = None
    return {"mappings_removed": int(removed or 0), "secrets_erased": True}


def _orders_handler(name: str) -> Any:
    """A topic handler of `orders.py` (imported when first used: it imports this module)."""

    def run(
        session: Session,
        settings: Settings,
        row: ShopifyIntegration,
        delivery: ShopifyWebhookDelivery,
        payload: dict[str, Any],
    ) -> dict[str, Any]:
        from luneo.integrations.shopify import orders

        result: dict[str, Any] = getattr(orders, name)(session, settings, row, delivery, payload)
        return result

    return run


_HANDLERS = {
    "orders/create": _orders_handler("on_order_created"),
    "orders/paid": _orders_handler("on_order_paid"),
    "orders/cancelled": _orders_handler("on_order_cancelled"),
    "app/uninstalled": _on_uninstalled,
    "customers/data_request": _on_data_request,
    "customers/redact": _on_customer_redact,
    "shop/redact": _on_shop_redact,
}


def _sync_handler(name: str) -> Any:
    """A handler of `sync` (product sync), imported when it runs (`sync` imports this module)."""

    def run(
        session: Session,
        settings: Settings,
        row: ShopifyIntegration,
        delivery: ShopifyWebhookDelivery,
        payload: dict[str, Any],
    ) -> dict[str, Any]:
        from luneo.integrations.shopify import sync

        result: dict[str, Any] = sync.HANDLERS[name](session, settings, row, delivery, payload)
        return result

    return run


_HANDLERS["products/update"] = _sync_handler("products/update")
_HANDLERS["products/delete"] = _sync_handler("products/delete")
