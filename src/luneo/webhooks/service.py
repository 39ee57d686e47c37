"""Webhooks use cases: endpoints and their secrets, the event outbox, deliveries, replays.

Outbox: `emit` runs inside the transaction of the change (a platform-bus subscriber, see
`handlers`): it writes the `webhook_events` row, one `webhook_deliveries` row per enabled endpoint
subscribed to the type, and enqueues the first attempt — dispatched only after that transaction
commits, so a rolled-back change never emits.

Delivery (`deliver`, the `deliver_webhook` job, one job per attempt): POST the event body signed
with the endpoint's secret(s) through the SSRF guard (`targets`). A 2xx succeeds; anything else is
retried on the Standard Webhooks schedule (`SCHEDULE_S`: immediately, 5 s, 5 min, 30 min, 2 h,
5 h, 10 h, 10 h, with jitter); after the last attempt the delivery is `failed`, the endpoint is
disabled and the brand emailed.

Ordering: deliveries of events with the same ordering key (an order's id) to one endpoint are sent
in event order — a later one waits (`blocked`) until every earlier one succeeded or failed for good.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from http.client import HTTPException
from typing import Any

import structlog
from sqlalchemy import Select, select
from sqlalchemy import func as sa_func
from sqlalchemy.orm import Session

from luneo.platform import jobs
from luneo.platform.clock import utcnow
from luneo.platform.config import Settings
from luneo.platform.context import current_request_id
from luneo.platform.database import Database
from luneo.platform.domain_errors import DomainError, NotFoundError
from luneo.platform.ids import new_id
from luneo.platform.tenancy import bind_tenant, session_brand, system_scope
from luneo.tenancy.public import Membership, User
from luneo.webhooks import signing, targets
from luneo.webhooks.error_codes import WebhooksErrorCode
from luneo.webhooks.events import EVENT_TYPES, PAYLOAD_VERSION, Outgoing
from luneo.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

log = structlog.get_logger("luneo.webhooks")

DELIVER_ACTOR = "deliver_webhook"
#: Delay before each attempt (Standard Webhooks): immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
SCHEDULE_S: tuple[float, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
MAX_ATTEMPTS = len(SCHEDULE_S)
DEFAULT_OVERLAP_S = 24 * 3600
MAX_OVERLAP_S = 7 * 24 * 3600
RESPONSE_BODY_KEPT = 1024
UNFINISHED = ("blocked", "pending")
#: The ping the brand sends itself from the dashboard (`send_test_event`); never emitted by a change.
TEST_EVENT = "webhook.test"
USER_AGENT = "Luneo-Webhooks/1 (+https://www.standardwebhooks.com)"
NOTIFY_ROLES = ("owner", "admin")


def default_jitter(delay_s: float) -> float:
    """±10 % of the delay, so retries of many deliveries do not arrive in one burst."""
    return delay_s * random.uniform(0.9, 1.1) if delay_s > 0 else 0.0


@dataclass(frozen=True)
class DeliveryConfig:
    """What delivery depends on, injectable for tests: clock, jitter, DNS resolution, caps."""

    clock: Callable[[], datetime] = utcnow
    jitter: Callable[[float], float] = default_jitter
    resolver: targets.Resolver = targets.system_resolver
    timeout_s: float = 10.0
    max_response_bytes: int = 64 * 1024


_config = DeliveryConfig()


def get_config() -> DeliveryConfig:
    return _config


def configure(**changes: Any) -> DeliveryConfig:
    """Replace parts of the delivery configuration; returns the previous one (to restore)."""
    global _config
    previous = _config
    _config = replace(_config, **changes)
    return previous


def set_config(config: DeliveryConfig) -> None:
    global _config
    _config = config


def allow_http(settings: Settings) -> bool:
    """`http` endpoints are for development (and the test suite's development mode) only."""
    return settings.env in ("development", "test")


# --------------------------------------------------------------------------- endpoints


def _check_types(event_types: list[str]) -> list[str]:
    unknown = sorted(set(event_types) - set(EVENT_TYPES))
    if unknown:
        raise DomainError(
            WebhooksErrorCode.EVENT_TYPE_UNKNOWN,
            f"unknown event type(s): {', '.join(unknown)}",
            unknown=unknown,
            available=list(EVENT_TYPES),
        )
    return list(dict.fromkeys(event_types))


def _check_url(settings: Settings, url: str) -> str:
    try:
        return targets.check_url(
            url, allow_http=allow_http(settings), allow_private=settings.webhooks_allow_private
        )
    except targets.TargetRefused as exc:
        raise DomainError(WebhooksErrorCode.URL_NOT_ALLOWED, f"endpoint URL refused: {exc}") from None


def create_endpoint(
    session: Session,
    settings: Settings,
    *,
    brand_id: str,
    url: str,
    event_types: list[str],
    description: str = "",
    enabled: bool = True,
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret (returned once, stored encrypted)."""
    secret = signing.new_secret()
    endpoint = WebhookEndpoint(
        brand_id=brand_id,
        url=_check_url(settings, url),
        description=description,
        event_types=_check_types(event_types),
        enabled=enabled,
        secret_enc=signing.encrypt(settings, secret),
        failure_streak=0,
    )
    session.add(endpoint)
    session.flush()
    return endpoint, secret


def list_endpoints_query() -> Select[Any]:
    return select(WebhookEndpoint)


def get_endpoint(session: Session, endpoint_id: str) -> WebhookEndpoint:
    row = session.execute(
        select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id)
    ).scalar_one_or_none()
    if row is None:
        raise NotFoundError("webhook endpoint", endpoint_id)
    return row


def update_endpoint(
    session: Session, settings: Settings, endpoint_id: str, changes: dict[str, Any]
) -> WebhookEndpoint:
    """Change url, description, event types or enabled; enabling clears the disabled reason."""
    endpoint = get_endpoint(session, endpoint_id)
    if changes.get("url") is not None:
        endpoint.url = _check_url(settings, str(changes["url"]))
    if changes.get("description") is not None:
        endpoint.description = str(changes["description"])
    if changes.get("event_types") is not None:
        endpoint.event_types = _check_types(list(changes["event_types"]))
    if changes.get("enabled") is not None:
        enabled = bool(changes["enabled"])
        if enabled and not endpoint.enabled:
            endpoint.disabled_reason, endpoint.disabled_at, endpoint.failure_streak = None, None, 0
        elif not enabled and endpoint.enabled:
            endpoint.disabled_reason, endpoint.disabled_at = "disabled by the brand", utcnow()
        endpoint.enabled = enabled
    session.flush()
    return endpoint


def delete_endpoint(session: Session, endpoint_id: str) -> None:
    """Delete an endpoint and its delivery log (the events stay)."""
    endpoint = get_endpoint(session, endpoint_id)
    for d in session.execute(
        select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
    ).scalars():
        session.delete(d)
    session.flush()
    session.delete(endpoint)
    session.flush()


def rotate_secret(
    session: Session, settings: Settings, endpoint_id: str, overlap_s: int = DEFAULT_OVERLAP_S
) -> tuple[WebhookEndpoint, str]:
    """A new secret (returned once); the current one keeps signing, next to it, for `overlap_s`.

    A current secret this server cannot decrypt (`LUNEO_SECRET_KEY` changed) cannot sign: the
    overlap is dropped and the new secret alone signs from now on."""
    endpoint = get_endpoint(session, endpoint_id)
    secret = signing.new_secret()
    now = get_config().clock()
    if overlap_s > 0 and _readable(settings, endpoint.secret_enc):
        endpoint.previous_secret_enc = endpoint.secret_enc
        endpoint.previous_secret_expires_at = now + timedelta(seconds=overlap_s)
    else:
        endpoint.previous_secret_enc, endpoint.previous_secret_expires_at = None, None
    endpoint.secret_enc = signing.encrypt(settings, secret)
    session.flush()
    return endpoint, secret


UNREADABLE_SECRET = "signing secret unreadable (LUNEO_SECRET_KEY changed): rotate the endpoint's secret"


def _readable(settings: Settings, token: str | None) -> bool:
    """Whether a stored secret decrypts under this server's key."""
    if not token:
        return False
    try:
        signing.decrypt(settings, token)
    except ValueError:
        return False
    return True


def active_secrets(settings: Settings, endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The secrets that sign now: the current one, then the previous one during its overlap (left
    out when it can no longer be decrypted). ValueError when the current one cannot be."""
    out = [signing.decrypt(settings, endpoint.secret_enc)]
    expires = endpoint.previous_secret_expires_at
    previous = endpoint.previous_secret_enc
    if previous and expires is not None and now < expires and _readable(settings, previous):
        out.append(signing.decrypt(settings, previous))
    return out


# --------------------------------------------------------------------------- outbox


@contextmanager
def brand_scope(session: Session, brand_id: str) -> Iterator[Session]:
    """Work on `brand_id`'s rows from the publisher's session, whatever its binding."""
    if session_brand(session) == brand_id or session.info.get("system"):
        yield session
        return
    with system_scope(session):
        yield session


def _job_key(delivery_id: str, attempt: int) -> str:
    return f"{DELIVER_ACTOR}:{delivery_id}:{attempt}"


def _enqueue_attempt(session: Session, delivery: WebhookDelivery, attempt: int, delay_s: float = 0.0) -> None:
    jobs.enqueue(
        session,
        DELIVER_ACTOR,
        _job_key(delivery.id, attempt),
        {"delivery_id": delivery.id, "attempt": attempt},
        brand_id=delivery.brand_id,
        delay_s=delay_s,
    )


def _has_earlier_unfinished(session: Session, delivery: WebhookDelivery) -> bool:
    if delivery.ordering_key is None:
        return False
    found = session.execute(
        select(WebhookDelivery.id)
        .where(
            WebhookDelivery.endpoint_id == delivery.endpoint_id,
            WebhookDelivery.ordering_key == delivery.ordering_key,
            WebhookDelivery.status.in_(UNFINISHED),
            WebhookDelivery.id < delivery.id,
        )
        .limit(1)
    ).first()
    return found is not None


def _new_delivery(
    session: Session,
    event: WebhookEvent,
    endpoint: WebhookEndpoint,
    *,
    ordering_key: str | None,
    replay_of: str | None = None,
) -> WebhookDelivery:
    now = get_config().clock()
    delivery = WebhookDelivery(
        brand_id=event.brand_id,
        event_id=event.id,
        endpoint_id=endpoint.id,
        event_type=event.type,
        ordering_key=ordering_key,
        status="pending",
        attempt=0,
        request_id=current_request_id() or event.request_id,
        replay_of=replay_of,
        next_attempt_at=now,
    )
    session.add(delivery)
    session.flush()
    if _has_earlier_unfinished(session, delivery):
        delivery.status, delivery.next_attempt_at = "blocked", None
    else:
        _enqueue_attempt(session, delivery, 1)
    return delivery


def emit(session: Session, brand_id: str, outgoing: Outgoing) -> WebhookEvent | None:
    """Write one webhook event and its deliveries in the caller's transaction (the outbox).

    None when no enabled endpoint of the brand subscribes to the type (nothing is stored)."""
    with brand_scope(session, brand_id):
        endpoints = [
            e
            for e in session.execute(
                select(WebhookEndpoint)
                .where(WebhookEndpoint.brand_id == brand_id, WebhookEndpoint.enabled.is_(True))
                .order_by(WebhookEndpoint.id)
            ).scalars()
            if outgoing.type in (e.event_types or [])
        ]
        if not endpoints:
            return None
        now = get_config().clock()
        event_id = new_id("evt")
        event = WebhookEvent(
            id=event_id, brand_id=brand_id, type=outgoing.type, version=PAYLOAD_VERSION, created_at=now
        )
        event.payload = {
            "type": outgoing.type,
            "id": event_id,
            "timestamp": now.isoformat().replace("+00:00", "Z"),
            "data": jobs.jsonable(outgoing.data),
            "version": PAYLOAD_VERSION,
        }
        event.ordering_key = outgoing.ordering_key
        event.request_id = current_request_id()
        session.add(event)
        session.flush()
        for endpoint in endpoints:
            _new_delivery(session, event, endpoint, ordering_key=outgoing.ordering_key)
        return event


# --------------------------------------------------------------------------- delivery


@dataclass(frozen=True)
class _Prepared:
    url: str
    body: str
    event_id: str
    secrets: list[str]
    request_id: str | None
    error: str | None = None  # not sent: why (e.g. the signing secret is unreadable)


def _release_next(session: Session, delivery: WebhookDelivery) -> None:
    """The delivery is final: start the next waiting delivery of the same chain, if any."""
    if delivery.ordering_key is None:
        return
    nxt = session.execute(
        select(WebhookDelivery)
        .where(
            WebhookDelivery.endpoint_id == delivery.endpoint_id,
            WebhookDelivery.ordering_key == delivery.ordering_key,
            WebhookDelivery.status == "blocked",
        )
        .order_by(WebhookDelivery.id)
        .limit(1)
    ).scalar_one_or_none()
    if nxt is None or _has_earlier_unfinished(session, nxt):
        return
    nxt.status, nxt.next_attempt_at = "pending", get_config().clock()
    _enqueue_attempt(session, nxt, nxt.attempt + 1)


def recipients(session: Session, brand_id: str) -> list[str]:
    """Who hears about a disabled endpoint: the brand's owners and admins."""
    rows = session.execute(
        select(User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.brand_id == brand_id,
            Membership.role.in_(NOTIFY_ROLES),
            User.is_active,
            User.email.not_like("%.invalid"),
        )
        .order_by(User.email)
    )
    return list(dict.fromkeys(rows.scalars()))


def _disable(session: Session, endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> None:
    from luneo.notifications.public import queue_email

    now = get_config().clock()
    error = delivery.error or f"HTTP {delivery.response_status}"
    endpoint.enabled = False
    endpoint.disabled_at = now
    endpoint.disabled_reason = f"{MAX_ATTEMPTS} attempts failed (delivery {delivery.id}): {error}"[:500]
    log.warning("webhook_endpoint_disabled", endpoint_id=endpoint.id, delivery_id=delivery.id, error=error)
    context = {
        "endpoint_id": endpoint.id,
        "url": endpoint.url,
        "attempts": MAX_ATTEMPTS,
        "error": error[:300],
    }
    for to in recipients(session, endpoint.brand_id):
        try:
            with session.begin_nested():  # an email problem never undoes the disabling
                queue_email(session, endpoint.brand_id, to, "webhook_endpoint_disabled", context)
        except Exception as exc:
            log.warning("webhook_disabled_email_failed", endpoint_id=endpoint.id, to=to, error=str(exc))


def _prepare(
    session: Session, settings: Settings, delivery_id: str, attempt: int
) -> _Prepared | dict[str, Any]:
    """Load what the attempt sends, or say why it does not run (a dict outcome)."""
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        return {"status": "missing"}
    if delivery.status != "pending" or delivery.attempt >= attempt:
        return {"status": delivery.status, "skipped": True}
    endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
    if endpoint is None or not endpoint.enabled:
        delivery.status, delivery.next_attempt_at = "failed", None
        delivery.error = "endpoint disabled: not sent"
        _release_next(session, delivery)
        return {"status": "failed", "reason": "endpoint_disabled"}
    if _has_earlier_unfinished(session, delivery):
        delivery.status, delivery.next_attempt_at = "blocked", None
        return {"status": "blocked"}
    event = session.get(WebhookEvent, delivery.event_id)
    if event is None:
        return {"status": "missing"}
    body = json.dumps(event.payload, separators=(",", ":"), ensure_ascii=False, sort_keys=False)
    try:
        secrets, error = active_secrets(settings, endpoint, get_config().clock()), None
    except ValueError:
        secrets, error = [], UNREADABLE_SECRET
    return _Prepared(
        url=endpoint.url,
        body=body,
        event_id=event.id,
        secrets=secrets,
        request_id=delivery.request_id or event.request_id,
        error=error,
    )


def _send(settings: Settings, p: _Prepared) -> tuple[int | None, bytes, str | None]:
    """One POST: (status or None, first bytes of the answer, error or None)."""
    cfg = get_config()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **signing.signed_headers(p.secrets, p.event_id, utcnow(), p.body),
    }
    if p.request_id:
        headers["X-Request-ID"] = p.request_id
    try:
        answer = targets.post(
            p.url,
            p.body.encode(),
            headers,
            resolver=cfg.resolver,
            allow_http=allow_http(settings),
            allow_private=settings.webhooks_allow_private,
            timeout_s=cfg.timeout_s,
            max_response_bytes=cfg.max_response_bytes,
        )
    except targets.TargetRefused as exc:
        return None, b"", f"refused: {exc}"
    except (OSError, HTTPException, TimeoutError, ValueError) as exc:
        return None, b"", f"{type(exc).__name__}: {exc}"
    return answer.status, answer.body, None


def deliver(
    db: Database, settings: Settings, brand_id: str, delivery_id: str, attempt: int
) -> dict[str, Any]:
    """Make attempt number `attempt` of a delivery and record it (idempotent per attempt)."""
    with db.transaction() as s:
        bind_tenant(s, brand_id)
        prepared = _prepare(s, settings, delivery_id, attempt)
    if isinstance(prepared, dict):
        return prepared
    started = time.monotonic()
    sent: tuple[int | None, bytes, str | None] = (None, b"", prepared.error)
    if prepared.error is None:
        sent = _send(settings, prepared)
    status, body, error = sent
    duration_ms = round((time.monotonic() - started) * 1000.0, 3)
    ok = status is not None and 200 <= status < 300
    if not ok and error is None:
        error = f"HTTP {status}"
    cfg = get_config()
    with db.transaction() as s:
        bind_tenant(s, brand_id)
        delivery = s.get(WebhookDelivery, delivery_id)
        if delivery is None or delivery.status != "pending" or delivery.attempt >= attempt:
            return {"status": "skipped"}
        now = cfg.clock()
        delivery.attempt = attempt
        delivery.last_attempt_at = now
        delivery.response_status = status
        delivery.response_body = body[:RESPONSE_BODY_KEPT].decode("utf-8", "replace") if body else None
        delivery.duration_ms = duration_ms
        delivery.error = None if ok else (error or "")[:1000]
        endpoint = s.get(WebhookEndpoint, delivery.endpoint_id)
        if ok:
            delivery.status, delivery.next_attempt_at = "succeeded", None
            if endpoint is not None:
                endpoint.failure_streak = 0
            _release_next(s, delivery)
        else:
            if endpoint is not None:
                endpoint.failure_streak = (endpoint.failure_streak or 0) + 1
            if attempt < MAX_ATTEMPTS:
                delay = max(0.0, float(cfg.jitter(SCHEDULE_S[attempt])))
                delivery.next_attempt_at = now + timedelta(seconds=delay)
                _enqueue_attempt(s, delivery, attempt + 1, delay)
            else:
                delivery.status, delivery.next_attempt_at = "failed", None
                if endpoint is not None and endpoint.enabled:
                    _disable(s, endpoint, delivery)
                _release_next(s, delivery)
        log.info(
            "webhook_attempt",
            delivery_id=delivery_id,
            attempt=attempt,
            status=delivery.status,
            response_status=status,
            duration_ms=duration_ms,
            error=delivery.error,
        )
        return {"status": delivery.status, "attempt": attempt, "response_status": status}


# --------------------------------------------------------------------------- log and replay


def get_delivery(session: Session, delivery_id: str) -> WebhookDelivery:
    row = session.execute(
        select(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
    ).scalar_one_or_none()
    if row is None:
        raise NotFoundError("webhook delivery", delivery_id)
    return row


def deliveries_query(endpoint_id: str, status: str | None = None) -> Select[Any]:
    stmt = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
    if status:
        stmt = stmt.where(WebhookDelivery.status == status)
    return stmt


def _replay(session: Session, delivery: WebhookDelivery) -> WebhookDelivery:
    endpoint = get_endpoint(session, delivery.endpoint_id)
    if not endpoint.enabled:
        raise DomainError(
            WebhooksErrorCode.ENDPOINT_DISABLED,
            "the endpoint is disabled: enable it (PATCH enabled=true) before replaying",
            endpoint_id=endpoint.id,
        )
    event = session.get(WebhookEvent, delivery.event_id)
    if event is None:
        raise NotFoundError("webhook event", delivery.event_id)
    return _new_delivery(session, event, endpoint, ordering_key=delivery.ordering_key, replay_of=delivery.id)


def replay_delivery(session: Session, delivery_id: str) -> WebhookDelivery:
    """Send a delivery's event again to its endpoint, as a new delivery (same `webhook-id`)."""
    return _replay(session, get_delivery(session, delivery_id))


def replay_failed(session: Session, endpoint_id: str, since: datetime) -> list[WebhookDelivery]:
    """Replay, in event order, every failed delivery to the endpoint created since `since`
    (each at most once: a failed delivery already replayed is skipped)."""
    endpoint = get_endpoint(session, endpoint_id)
    replayed = select(WebhookDelivery.replay_of).where(
        WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.replay_of.is_not(None)
    )
    failed = list(
        session.execute(
            select(WebhookDelivery)
            .where(
                WebhookDelivery.endpoint_id == endpoint.id,
                WebhookDelivery.status == "failed",
                WebhookDelivery.created_at >= since,
                WebhookDelivery.id.not_in(replayed),
            )
            .order_by(WebhookDelivery.event_id, WebhookDelivery.id)
        ).scalars()
    )
    return [_replay(session, d) for d in failed]


def last_deliveries(session: Session, endpoint_ids: list[str]) -> dict[str, WebhookDelivery]:
    """The newest delivery of each endpoint (one query), by endpoint id."""
    if not endpoint_ids:
        return {}
    newest = (
        select(sa_func.max(WebhookDelivery.id))
        .where(WebhookDelivery.endpoint_id.in_(endpoint_ids))
        .group_by(WebhookDelivery.endpoint_id)
    )
    rows = session.execute(select(WebhookDelivery).where(WebhookDelivery.id.in_(newest))).scalars()
    return {d.endpoint_id: d for d in rows}


def send_test_event(session: Session, endpoint_id: str) -> WebhookDelivery:
    """A `webhook.test` event delivered to this endpoint only (whatever types it subscribes to),
    signed and retried like any other. 409 `webhook_endpoint_disabled` while it is disabled."""
    endpoint = get_endpoint(session, endpoint_id)
    if not endpoint.enabled:
        raise DomainError(
            WebhooksErrorCode.ENDPOINT_DISABLED,
            "the endpoint is disabled: enable it before sending a test event",
            endpoint_id=endpoint.id,
        )
    now = get_config().clock()
    event_id = new_id("evt")
    event = WebhookEvent(
        id=event_id, brand_id=endpoint.brand_id, type=TEST_EVENT, version=PAYLOAD_VERSION, created_at=now
    )
    event.payload = {
        "type": TEST_EVENT,
        "id": event_id,
        "timestamp": now.isoformat().replace("+00:00", "Z"),
        "data": {"endpoint_id": endpoint.id, "message": "A test event sent from the Luneo dashboard."},
        "version": PAYLOAD_VERSION,
    }
    event.request_id = current_request_id()
    session.add(event)
    session.flush()
    return _new_delivery(session, event, endpoint, ordering_key=None)
