"""Fulfilment use cases: configuration, the Printful order of a Luneo order, Printful's shipment
webhooks, and the generic hand-off of each ready pack.

Flow: manufacturing publishes `work_order.status_changed`; when one becomes `ready` (its pack is
built) `handlers` enqueues, per configured partner, a job. The Printful job waits until every work
order of the Luneo order is ready and every item's product is mapped, then creates the Printful
order (`external_id` = the Luneo order id, so a second run finds it instead of making another)
and confirms it. Printful's `shipment_sent` webhook marks the Luneo order shipped through
commerce (which emits `order.shipped`). Every failure is written on the hand-off row the brand sees.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from luneo.catalog import public as catalog
from luneo.commerce import public as commerce
from luneo.fulfilment import crypto, handoff, printful
from luneo.fulfilment.error_codes import FulfilmentErrorCode
from luneo.fulfilment.models import (
    CANCELLED,
    CONFIRMED,
    CREATED,
    FAILED,
    HTTPS,
    PENDING,
    PRINTFUL,
    SENT,
    SFTP,
    SHIPPED,
    UNMAPPED,
    Handoff,
    HandoffTarget,
    PrintfulConfig,
    PrintfulMapping,
)
from luneo.manufacturing import public as manufacturing
from luneo.platform import jobs
from luneo.platform.clock import utcnow
from luneo.platform.config import Settings
from luneo.platform.database import Database
from luneo.platform.domain_errors import DomainError, NotFoundError
from luneo.platform.storage import content_key, get_storage
from luneo.platform.tenancy import bind_system, bind_tenant

log = structlog.get_logger("luneo.fulfilment")

PRINTFUL_ACTOR = "fulfilment.printful_submit"
HANDOFF_ACTOR = "fulfilment.handoff_send"
#: How long the print file URL handed to Printful lives (Printful downloads it after confirmation).
FILE_URL_TTL_S = 7 * 24 * 3600
#: Work-order statuses where the pack is built.
PACK_BUILT = frozenset({"ready", "in_production", "done"})
#: Work-order statuses that will never build a pack for this order.
NEVER = frozenset({"cancelled"})
PRINTFUL_EVENTS = ["shipment_sent", "order_failed", "order_canceled"]

ClientFactory = Callable[[PrintfulConfig], printful.PrintfulClient]


# --------------------------------------------------------------------------- configuration


def printful_config(session: Session) -> PrintfulConfig | None:
    return session.execute(select(PrintfulConfig)).scalar_one_or_none()


def set_printful_config(
    session: Session,
    settings: Settings,
    brand_id: str,
    *,
    changes: dict[str, Any],
) -> PrintfulConfig:
    """Create or update the brand's Printful configuration; secrets are stored encrypted and
    never answered (`api_token`, `webhook_secret`: write-only, `null` clears)."""
    cfg = printful_config(session)
    if cfg is None:
        cfg = PrintfulConfig(brand_id=brand_id)
        session.add(cfg)
    if "api_token" in changes:
        token = changes["api_token"]
        cfg.api_token_enc = crypto.encrypt(settings, token) if token else None
    if "webhook_secret" in changes:
        secret = changes["webhook_secret"]
        cfg.webhook_secret_enc = crypto.encrypt(settings, secret) if secret else None
    for field in ("store_id", "shipping", "enabled"):
        if field in changes and changes[field] is not None:
            setattr(cfg, field, changes[field])
    session.flush()
    return cfg


UNREADABLE_SECRET = "stored secret unreadable: enter it again"


class SecretUnreadable(DomainError):
    """A stored secret this server cannot decrypt (`LUNEO_SECRET_KEY` changed since it was saved):
    the brand enters it again (409 at the edge; written on the hand-off row in jobs)."""

    def __init__(self, what: str) -> None:
        super().__init__(FulfilmentErrorCode.NOT_CONFIGURED, f"{UNREADABLE_SECRET} ({what}).")


def _decrypt(settings: Settings, token: str, what: str) -> str:
    try:
        return crypto.decrypt(settings, token)
    except ValueError:
        raise SecretUnreadable(what) from None


def default_client(settings: Settings) -> ClientFactory:
    def make(cfg: PrintfulConfig) -> printful.PrintfulClient:
        if not cfg.api_token_enc:
            raise DomainError(FulfilmentErrorCode.NOT_CONFIGURED, "No Printful API token is configured.")
        token = _decrypt(settings, cfg.api_token_enc, "the Printful API token")
        return printful.PrintfulClient(token, cfg.store_id)

    return make


def register_printful_webhook(
    session: Session, settings: Settings, client_factory: ClientFactory | None = None
) -> PrintfulConfig:
    """Register Luneo's webhook URL for this brand at Printful and keep the secret it returns."""
    cfg = printful_config(session)
    if cfg is None:
        raise DomainError(FulfilmentErrorCode.NOT_CONFIGURED, "Configure Printful first.")
    with (client_factory or default_client(settings))(cfg) as client:
        try:
            answer = client.register_webhook(webhook_url(settings, cfg), PRINTFUL_EVENTS)
        except printful.PrintfulError as exc:
            raise DomainError(FulfilmentErrorCode.PRINTFUL_UNAVAILABLE, str(exc)) from None
    secret = str(answer.get("secret_key") or "")
    if not secret:
        raise DomainError(FulfilmentErrorCode.PRINTFUL_UNAVAILABLE, "Printful returned no webhook secret.")
    cfg.webhook_secret_enc = crypto.encrypt(settings, secret)
    return cfg


def webhook_url(settings: Settings, cfg: PrintfulConfig) -> str:
    return f"{settings.public_base_url.rstrip('/')}/hooks/printful/{cfg.id}"


def set_mapping(
    session: Session,
    brand_id: str,
    product_id: str,
    *,
    catalog_variant_id: int,
    placement: str,
    technique: str,
) -> PrintfulMapping:
    catalog.get_product(session, product_id)  # 404 for another brand's product
    row = session.execute(
        select(PrintfulMapping).where(PrintfulMapping.product_id == product_id)
    ).scalar_one_or_none()
    if row is None:
        row = PrintfulMapping(brand_id=brand_id, product_id=product_id)
        session.add(row)
    row.catalog_variant_id = catalog_variant_id
    row.placement = placement
    row.technique = technique
    session.flush()
    return row


def list_mappings(session: Session) -> list[PrintfulMapping]:
    return list(session.execute(select(PrintfulMapping).order_by(PrintfulMapping.created_at)).scalars())


def delete_mapping(session: Session, product_id: str) -> None:
    row = session.execute(
        select(PrintfulMapping).where(PrintfulMapping.product_id == product_id)
    ).scalar_one_or_none()
    if row is None:
        raise NotFoundError("Printful mapping of product", product_id)
    session.delete(row)


def handoff_target(session: Session) -> HandoffTarget | None:
    return session.execute(select(HandoffTarget)).scalar_one_or_none()


def set_handoff_target(
    session: Session,
    settings: Settings,
    brand_id: str,
    *,
    url: str | None = None,
    method: str = "POST",
    secret: str | None = None,
    enabled: bool = True,
    kind: str = HTTPS,
    sftp_fields: dict[str, Any] | None = None,
) -> HandoffTarget:
    """Create or update the brand's print shop: an HTTPS endpoint (URL rules checked now,
    addresses at send) or an SFTP server (`sftp_fields`: host, port, username, password or
    private_key, directory, host_key — the pinned `SHA256:` fingerprint). Secrets are write-only:
    left out, the stored one is kept. Everything is checked before anything is written; refusals
    name the `field` at fault."""
    row = handoff_target(session)
    same_kind = row is not None and row.kind == kind
    values: dict[str, Any] = dict.fromkeys(_SFTP_COLUMNS)
    if kind == SFTP:
        values.update(_sftp_values(settings, dict(sftp_fields or {}), row if same_kind else None))
        values.update(method="PUT", secret_enc="")
    else:
        try:
            handoff.check_url(
                url or "", development=settings.env == "development", allow_private=_allow_private(settings)
            )
        except handoff.Refused as exc:
            raise DomainError(FulfilmentErrorCode.URL_NOT_ALLOWED, str(exc), field="url") from None
        if secret:
            values["secret_enc"] = crypto.encrypt(settings, secret)
        elif row is not None and same_kind and row.secret_enc:
            values["secret_enc"] = row.secret_enc
        else:
            raise _invalid("secret", "A signing secret is required.")
        values.update(url=str(url), method=method)
    if row is None:
        row = HandoffTarget(brand_id=brand_id)
        session.add(row)
    for name, value in {**values, "kind": kind, "enabled": enabled}.items():
        setattr(row, name, value)
    session.flush()
    return row


_SFTP_COLUMNS = (
    "sftp_host",
    "sftp_port",
    "sftp_username",
    "sftp_password_enc",
    "sftp_key_enc",
    "sftp_dir",
    "sftp_host_key",
)


def _invalid(field: str, message: str) -> DomainError:
    return DomainError(FulfilmentErrorCode.TARGET_INVALID, message, field=field)


def _sftp_values(settings: Settings, f: dict[str, Any], current: HandoffTarget | None) -> dict[str, Any]:
    """The SFTP columns for `f` (checked; secrets encrypted, or kept from `current` when left out)."""
    import ipaddress

    from luneo.fulfilment import sftp

    host = str(f.get("host") or "").strip().lower()
    if not host:
        raise _invalid("host", "The SFTP host is required.")
    try:
        literal: Any = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    allow_private = _allow_private(settings)
    if literal is not None or host == "localhost" or host.endswith(".localhost"):
        why = None if literal is None else webhooks_refusal(host, allow_private)
        if (literal is None and not allow_private) or why:
            raise DomainError(
                FulfilmentErrorCode.URL_NOT_ALLOWED, why or "localhost is not allowed", field="host"
            )
    port = int(f.get("port") or 22)
    if not 1 <= port <= 65535:
        raise _invalid("port", "The port must be between 1 and 65535.")
    username = str(f.get("username") or "").strip()
    if not username:
        raise _invalid("username", "The SFTP user name is required.")
    try:
        host_key = sftp.normalise_fingerprint(str(f.get("host_key") or ""))
    except ValueError:
        raise _invalid(
            "host_key", "Give the server's host key fingerprint as SHA256:… (ssh-keygen -lf key.pub)."
        ) from None
    directory = str(f.get("directory") or ".").strip() or "."
    if "\x00" in directory or len(directory) > 1000:
        raise _invalid("directory", "Not a valid directory.")
    password, private_key = f.get("password"), f.get("private_key")
    if private_key:
        try:
            sftp.load_private_key(str(private_key))
        except ValueError as exc:
            raise _invalid("private_key", str(exc)) from None
        secrets = {"sftp_key_enc": crypto.encrypt(settings, str(private_key)), "sftp_password_enc": None}
    elif password:
        secrets = {"sftp_password_enc": crypto.encrypt(settings, str(password)), "sftp_key_enc": None}
    elif current is not None and (current.sftp_password_enc or current.sftp_key_enc):
        secrets = {"sftp_password_enc": current.sftp_password_enc, "sftp_key_enc": current.sftp_key_enc}
    else:
        raise _invalid("password", "Give a password or a private key.")
    return {
        **secrets,
        "sftp_host": host,
        "sftp_port": port,
        "sftp_username": username,
        "sftp_dir": directory,
        "sftp_host_key": host_key,
        "url": f"sftp://{username}@{host}:{port}/{directory.lstrip('/')}",
    }


def webhooks_refusal(address: str, allow_private: bool) -> str | None:
    """Why an IP-literal SFTP host is refused (the outgoing webhooks' rules), or None."""
    try:
        handoff.check_url(f"https://{_bracket(address)}/", development=False, allow_private=allow_private)
    except handoff.Refused as exc:
        return str(exc)
    return None


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def delete_handoff_target(session: Session) -> None:
    row = handoff_target(session)
    if row is None:
        raise NotFoundError("hand-off target")
    session.delete(row)


def order_handoffs(session: Session, order_id: str) -> list[Handoff]:
    """The hand-offs of one of the brand's orders (404 for an unknown or another brand's order)."""
    rows = list(
        session.execute(
            select(Handoff).where(Handoff.order_id == order_id).order_by(Handoff.created_at)
        ).scalars()
    )
    if not rows:
        commerce.get_order(session, order_id)
    return rows


def recent_handoffs(session: Session, limit: int = 50) -> list[Handoff]:
    """The brand's latest hand-offs (every kind), newest first."""
    stmt = select(Handoff).order_by(Handoff.updated_at.desc(), Handoff.id.desc()).limit(limit)
    return list(session.execute(stmt).scalars())


def retry_handoffs(session: Session, brand_id: str, order_id: str) -> list[Handoff]:
    """Send again what failed for this order (e.g. after fixing a token, a mapping or the print
    shop): failed or unmapped Printful hand-offs and failed packs get a fresh job."""
    from luneo.platform.ids import new_id

    rows = order_handoffs(session, order_id)
    for row in rows:
        if row.status not in (FAILED, UNMAPPED):
            continue
        row.status, row.error = PENDING, None
        if row.kind == PRINTFUL:
            key, actor, payload = (
                f"fulfilment.printful:{order_id}:{new_id('retry')}",
                PRINTFUL_ACTOR,
                {"order_id": order_id},
            )
        else:
            key, actor, payload = (
                f"fulfilment.handoff:{row.id}:{new_id('retry')}",
                HANDOFF_ACTOR,
                {"handoff_id": row.id},
            )
        jobs.enqueue(session, actor, key, payload, brand_id=brand_id)
    return rows


# --------------------------------------------------------------------------- reacting to packs


def on_work_order_ready(session: Session, payload: dict[str, Any]) -> None:
    """A work order's pack is ready: enqueue the Printful submission of its order and/or the
    generic hand-off of the pack, for whichever the brand configured (idempotent job keys)."""
    brand_id, order_id, wo_id = payload.get("brand_id"), payload.get("order_id"), payload.get("work_order_id")
    if payload.get("to") != "ready" or not brand_id or not order_id or not wo_id:
        return
    cfg = printful_config(session)
    if cfg is not None and cfg.enabled:
        jobs.enqueue(
            session,
            PRINTFUL_ACTOR,
            f"fulfilment.printful:{order_id}:{wo_id}",
            {"order_id": order_id},
            brand_id=brand_id,
        )
    target = handoff_target(session)
    sha = payload.get("pack_sha256")
    if target is not None and target.enabled and sha:
        kind = SFTP if target.kind == SFTP else HTTPS
        row = _handoff_row(session, brand_id, f"{kind}:{wo_id}:{sha}", kind, order_id, wo_id)
        if row.status != SENT:
            jobs.enqueue(
                session,
                HANDOFF_ACTOR,
                f"fulfilment.handoff:{row.id}",
                {"handoff_id": row.id},
                brand_id=brand_id,
            )


def _handoff_row(
    session: Session, brand_id: str, key: str, kind: str, order_id: str, work_order_id: str | None
) -> Handoff:
    found = session.execute(select(Handoff).where(Handoff.key == key)).scalar_one_or_none()
    if found is not None:
        return found
    row = Handoff(brand_id=brand_id, key=key, kind=kind, order_id=order_id, work_order_id=work_order_id)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return session.execute(select(Handoff).where(Handoff.key == key)).scalar_one()
    return row


# --------------------------------------------------------------------------- Printful orders


def _recipient(order: Any) -> dict[str, Any]:
    addr = dict(order.shipping_address or {})
    out = {
        "name": addr.get("name") or order.customer_name or order.customer_email,
        "address1": addr.get("line1"),
        "address2": addr.get("line2"),
        "city": addr.get("city"),
        "state_code": addr.get("region"),
        "country_code": addr.get("country"),
        "zip": addr.get("postal_code"),
        "phone": addr.get("phone"),
        "email": order.customer_email,
    }
    return {k: v for k, v in out.items() if v}


def print_file_url(wo: Any) -> str:
    """A signed, expiring URL of the work order's print file: the pack's first PNG (else PDF)
    stored on its own (Printful fetches an image, not a ZIP); the pack itself when it has none."""
    storage = get_storage()
    data = storage.get(wo.pack_key)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = [n for n in zf.namelist() if not n.endswith("/")]
        for ext, ctype in ((".png", "image/png"), (".pdf", "application/pdf")):
            chosen = next((n for n in names if n.lower().endswith(ext)), None)
            if chosen is not None:
                body = zf.read(chosen)
                import hashlib

                key = content_key(hashlib.sha256(body).hexdigest())
                if not storage.exists(key):
                    storage.put(body, content_type=ctype, key=key)
                url, _ = manufacturing.signed_url(key, chosen.rsplit("/", 1)[-1], FILE_URL_TTL_S)
                return url
    url, _, _, _ = _pack_url(wo)
    return url


def _pack_url(wo: Any) -> tuple[str, Any, Any, Any]:
    url, expires = manufacturing.signed_url(wo.pack_key, f"{wo.order_item_id}.zip", FILE_URL_TTL_S)
    return url, expires, wo.pack_sha256, wo.pack_bytes


@dataclass
class Outcome:
    status: str
    detail: str = ""


def submit_printful(session: Session, brand_id: str, order_id: str, client_factory: ClientFactory) -> Outcome:
    """Create and confirm the Printful order of a Luneo order once all its packs are ready.

    Idempotent: the hand-off row (one per order) holds the Printful id; a run that finds no id
    looks the order up by `@<external_id>` before creating, so a crash between Printful's answer
    and our commit never makes a second order."""
    cfg = printful_config(session)
    if cfg is None or not cfg.enabled:
        return Outcome("skipped", "Printful is not configured")
    row = _handoff_row(session, brand_id, f"{PRINTFUL}:{order_id}", PRINTFUL, order_id, None)
    if row.status in (CONFIRMED, SHIPPED, CANCELLED):
        return Outcome(row.status, "already handed off")
    order = commerce.get_order(session, order_id)
    work_orders = list(manufacturing.list_work_orders(session, order_id=order_id, limit=200).data)
    live = [wo for wo in work_orders if wo.status not in NEVER]
    if not live or any(wo.status not in PACK_BUILT for wo in live):
        return Outcome("waiting", "not every pack is ready")
    mappings = {m.product_id: m for m in list_mappings(session)}
    unmapped = sorted({item.product_id for item in order.items} - set(mappings))
    if unmapped:
        row.status, row.error = UNMAPPED, f"products without a Printful mapping: {', '.join(unmapped)}"
        return Outcome(UNMAPPED, row.error)
    by_item = {wo.order_item_id: wo for wo in live}
    row.attempts += 1
    try:
        pf_client = client_factory(cfg)
    except SecretUnreadable as exc:
        row.status, row.error = FAILED, str(exc)
        return Outcome(FAILED, row.error)
    with pf_client as client:
        existing = client.get_order(row.external_id or f"@{order.id}")
        if existing is None:
            items = []
            for item in order.items:
                wo = by_item.get(item.id)
                if wo is None:
                    continue  # nothing to produce for this item (no required zone, no design)
                m = mappings[item.product_id]
                items.append(
                    {
                        "source": "catalog",
                        "catalog_variant_id": m.catalog_variant_id,
                        "quantity": item.quantity,
                        "external_id": item.id,
                        "name": item.product_name[:100],
                        "placements": [
                            {
                                "placement": m.placement,
                                "technique": m.technique,
                                "layers": [{"type": "file", "url": print_file_url(wo)}],
                            }
                        ],
                    }
                )
            body = {
                "external_id": order.id,
                "shipping": cfg.shipping,
                "recipient": _recipient(order),
                "order_items": items,
            }
            existing = client.create_order(body)
        row.external_id = str(existing["id"])
        row.external_status = str(existing.get("status") or "")
        row.status = CREATED
        if row.external_status == "draft":
            confirmed = client.confirm_order(row.external_id)
            row.external_status = str(confirmed.get("status") or "")
    row.status, row.error, row.sent_at = CONFIRMED, None, utcnow()
    log.info("printful_order_confirmed", order_id=order_id, printful_order_id=row.external_id)
    return Outcome(CONFIRMED, row.external_id)


def record_printful_failure(db: Database, brand_id: str, order_id: str, error: str, *, final: bool) -> None:
    """Write an error on the order's Printful hand-off in its own transaction (the job's work
    rolled back, the row with it when this run made it)."""
    with db.transaction() as s:
        bind_tenant(s, brand_id)
        row = _handoff_row(s, brand_id, f"{PRINTFUL}:{order_id}", PRINTFUL, order_id, None)
        row.error = error[:2000]
        row.attempts += 1
        if final:
            row.status = FAILED


# --------------------------------------------------------------------------- Printful webhooks


def receive_printful_webhook(
    db: Database, settings: Settings, config_id: str, headers: dict[str, str], raw: bytes
) -> str:
    """Verify and apply one Printful webhook: `shipment_sent` marks the Luneo order shipped with
    its tracking (through commerce: `order.shipped`); `order_failed` / `order_canceled` are written
    on the hand-off row. Unknown config → 404; bad signature → 401; duplicates change nothing."""
    import json

    lowered = {k.lower(): v for k, v in headers.items()}
    with db.transaction() as s:
        bind_system(s)
        cfg = s.execute(select(PrintfulConfig).where(PrintfulConfig.id == config_id)).scalar_one_or_none()
        if cfg is None:
            raise NotFoundError("Printful webhook", config_id)
        bind_tenant(s, cfg.brand_id)
        try:
            secret = crypto.decrypt(settings, cfg.webhook_secret_enc) if cfg.webhook_secret_enc else ""
        except ValueError:  # saved under another LUNEO_SECRET_KEY: register the webhook again
            log.warning("printful_webhook_secret_unreadable", config_id=cfg.id)
            secret = ""
        if not secret or not printful.verify(secret, raw, lowered.get("x-pf-webhook-signature")):
            raise DomainError(
                FulfilmentErrorCode.WEBHOOK_SIGNATURE_INVALID, "Invalid Printful webhook signature."
            )
        try:
            event = json.loads(raw)
            kind = str(event["type"])
            data = dict(event.get("data") or {})
        except (ValueError, KeyError, TypeError):
            raise DomainError(FulfilmentErrorCode.WEBHOOK_INVALID, "Not a Printful webhook event.") from None
        row = _row_for_event(s, data)
        if row is None:
            return "ignored"
        if kind == "shipment_sent":
            return _shipped(s, row, dict(data.get("shipment") or {}))
        if kind in ("order_failed", "order_canceled"):
            reason = str(data.get("reason") or (data.get("order") or {}).get("status") or kind)
            row.status = FAILED if kind == "order_failed" else CANCELLED
            row.error = f"Printful {kind}: {reason}"[:2000]
            return row.status
        return "ignored"


def _row_for_event(session: Session, data: dict[str, Any]) -> Handoff | None:
    order = dict(data.get("order") or {})
    shipment = dict(data.get("shipment") or {})
    printful_id = order.get("id") or shipment.get("order_id")
    external = order.get("external_id") or shipment.get("order_external_id")
    stmt = select(Handoff).where(Handoff.kind == PRINTFUL)
    if external:
        found = session.execute(stmt.where(Handoff.order_id == str(external))).scalar_one_or_none()
        if found is not None:
            return found
    if printful_id:
        return session.execute(stmt.where(Handoff.external_id == str(printful_id))).scalar_one_or_none()
    return None


def _shipped(session: Session, row: Handoff, shipment: dict[str, Any]) -> str:
    tracking = str(shipment.get("tracking_number") or "") or None
    carrier = str(shipment.get("carrier") or "") or None
    seen = list((row.details or {}).get("shipments") or [])
    sid = str(shipment.get("id") or tracking or "")
    if sid and sid in seen:
        return "duplicate"
    row.details = {**(row.details or {}), "shipments": [*seen, sid]}
    row.tracking_number, row.carrier = tracking, carrier
    row.tracking_url = str(shipment.get("tracking_url") or "") or None
    row.status, row.shipped_at, row.error = SHIPPED, utcnow(), None
    order = commerce.get_order(session, row.order_id)
    if order.status == "paid":
        commerce.transition(session, order.id, "in_production", actor="printful")
    if order.status == "in_production":
        commerce.transition(
            session, order.id, "shipped", actor="printful", tracking_number=tracking, carrier=carrier
        )
    return SHIPPED


# --------------------------------------------------------------------------- generic hand-off


def send_pack(
    session: Session, settings: Settings, handoff_id: str, resolver: handoff.Resolver | None = None
) -> Outcome:
    """Send one pack to the brand's endpoint; 2xx → `sent`. A 429/5xx or network error raises
    (the job retries); another answer is a permanent failure written on the row."""
    row = session.execute(select(Handoff).where(Handoff.id == handoff_id)).scalar_one_or_none()
    if row is None or row.status == SENT:
        return Outcome("skipped")
    target = handoff_target(session)
    if target is None or not target.enabled:
        row.status, row.error = FAILED, "no enabled hand-off target"
        return Outcome(FAILED, row.error)
    wo = manufacturing.get_work_order(session, str(row.work_order_id))
    if not wo.pack_key:
        row.status, row.error = FAILED, "the work order has no pack"
        return Outcome(FAILED, row.error)
    data = get_storage().get(wo.pack_key)
    meta = {
        "order_id": row.order_id,
        "work_order_id": wo.id,
        "sha256": str(wo.pack_sha256),
        "handoff_id": row.id,
        "filename": f"{wo.order_number or row.order_id}-{wo.order_item_id}.zip",
    }
    row.attempts += 1
    try:
        if target.kind == SFTP:
            return _send_sftp(row, settings, target, meta["filename"], data, resolver)
        signing_secret = _decrypt(settings, target.secret_enc, "the hand-off signing secret")
    except SecretUnreadable as exc:
        row.status, row.error = FAILED, str(exc)
        return Outcome(FAILED, row.error)
    try:
        response = handoff.send(
            target.url,
            target.method,
            signing_secret,
            data,
            meta,
            development=settings.env == "development",
            allow_private=_allow_private(settings),
            resolver=resolver or handoff.system_resolver,
        )
    except handoff.Refused as exc:
        row.status, row.error = FAILED, f"refused: {exc}"
        return Outcome(FAILED, row.error)
    code = response.status
    last_body = response.body[:200].decode("utf-8", "replace")
    row.details = {**(row.details or {}), "last_status": code, "last_body": last_body}
    if 200 <= code < 300:
        row.status, row.error, row.sent_at = SENT, None, utcnow()
        return Outcome(SENT)
    if code == 429 or code >= 500:
        raise HandoffRetry(f"endpoint answered {code}")
    row.status, row.error = FAILED, f"endpoint answered {code}"
    return Outcome(FAILED, row.error)


def _send_sftp(
    row: Handoff,
    settings: Settings,
    target: HandoffTarget,
    filename: str,
    data: bytes,
    resolver: handoff.Resolver | None,
) -> Outcome:
    """Upload over SFTP: a configuration fault (host key, credentials, SSRF) fails the hand-off
    for good (the brand fixes it, then retries); network errors raise (the job retries)."""
    from luneo.fulfilment import sftp

    server = sftp.Server(
        host=str(target.sftp_host),
        port=int(target.sftp_port or 22),
        username=str(target.sftp_username),
        host_key=str(target.sftp_host_key),
        directory=target.sftp_dir or ".",
        password=_decrypt(settings, target.sftp_password_enc, "the SFTP password")
        if target.sftp_password_enc
        else None,
        private_key=_decrypt(settings, target.sftp_key_enc, "the SFTP private key")
        if target.sftp_key_enc
        else None,
    )
    try:
        path = sftp.upload(
            server,
            filename,
            data,
            allow_private=_allow_private(settings),
            resolver=resolver or handoff.system_resolver,
        )
    except sftp.Permanent as exc:
        row.status, row.error = FAILED, str(exc)[:2000]
        return Outcome(FAILED, row.error)
    row.details = {**(row.details or {}), "remote_path": path}
    row.status, row.error, row.sent_at = SENT, None, utcnow()
    return Outcome(SENT, path)


def _allow_private(settings: Settings) -> bool:
    """`LUNEO_WEBHOOKS_ALLOW_PRIVATE` (the webhooks' switch; never in production)."""
    return bool(settings.webhooks_allow_private) and not settings.is_production


class HandoffRetry(Exception):
    """The endpoint is busy or failing (429/5xx): retried by the job."""
