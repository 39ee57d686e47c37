"""Payments use cases: start a checkout, create a payment intent, refund, and apply inbound
webhook events exactly once.

Other domains call `start_checkout` / `create_payment_intent` / `refund_payment` with their
tenant-bound session, and subscribe (``luneo.platform.events.subscribe``) to:

- ``payment.checkout_completed`` — the shopper finished the hosted checkout (Stripe
  ``checkout.session.completed``, PayPal ``CHECKOUT.ORDER.APPROVED``, dev Pay);
- ``payment.succeeded`` — money is captured; published once per payment whichever events announce it;
- ``payment.failed`` — a payment attempt failed;
- ``payment.refunded`` — (part of) a captured payment was refunded.

Payload: ``{provider, event_id, reference, kind, brand_id, metadata, amount, currency,
payment_ref, raw_type, payment_id, payment_status, amount_refunded, flag}``; handlers run in the
webhook's transaction with the session bound to ``brand_id`` (or system-bound when unknown).

Trust rules (issue 11): ``amount`` / ``currency`` are the event's own, never the payment row's
(missing stays ``None``), so every consumer compares them with its own row (order total, pack
price, plan price). A capture whose amount or currency is missing or differs from what we asked
flags the payment ``amount_mismatch`` and alerts (`alert`). ``metadata`` is the event's overlaid
with the payment row's (server-written keys win); callers can never write a reserved key
(`check_caller_metadata`). The dev provider does not exist in production.
"""

from __future__ import annotations

import re
import traceback
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from luneo.payments.error_codes import PaymentsErrorCode
from luneo.payments.models import InboundEvent, Payment, PaymentSession
from luneo.payments.providers import active_provider_name, dev_provider_allowed, get_provider
from luneo.payments.providers.base import (
    CheckoutRequest,
    CheckoutSession,
    ProviderError,
    ProviderEvent,
    SignatureError,
    from_minor,
    to_minor,
)
from luneo.platform.clock import utcnow
from luneo.platform.config import get_settings
from luneo.platform.context import current_request_id
from luneo.platform.database import get_db
from luneo.platform.domain_errors import DomainError
from luneo.platform.events import publish
from luneo.platform.models import AuditEvent
from luneo.platform.tenancy import bind_system, bind_tenant, get_or_404

log = structlog.get_logger("luneo.payments")

CHECKOUT_COMPLETED = "payment.checkout_completed"
SUCCEEDED = "payment.succeeded"
FAILED = "payment.failed"
REFUNDED = "payment.refunded"
PAID_STATES = ("succeeded", "partially_refunded", "refunded")
OFFLINE = "offline"

#: Metadata keys only the server writes: credits, plans, orders and routing derive from them, so a
#: caller's metadata may never set them (any case, surrounding spaces ignored).
RESERVED_METADATA_KEYS = frozenset(
    {"credits", "price_cents", "pack_id", "order_id", "plan", "kind", "brand_id", "payment_id", "reference"}
)


def _provider_error(exc: ProviderError) -> DomainError:
    if exc.code == "provider_not_configured":
        return DomainError(PaymentsErrorCode.PAYMENTS_NOT_CONFIGURED, str(exc))
    return DomainError(
        PaymentsErrorCode.PAYMENT_PROVIDER_ERROR, str(exc), provider_status=exc.status, provider_code=exc.code
    )


def _provider(name: str | None = None, *, session: Session | None = None) -> Any:
    try:
        return get_provider(name, session=session)
    except ProviderError as exc:
        raise _provider_error(exc) from exc


def check_caller_metadata(metadata: dict[str, str] | None) -> None:
    """Raise the 422 `reserved_metadata_key` problem when a caller's metadata sets a server key."""
    keys = sorted({str(k).strip().lower() for k in metadata or {}} & RESERVED_METADATA_KEYS)
    if keys:
        raise DomainError(
            PaymentsErrorCode.RESERVED_METADATA_KEY,
            f"Metadata cannot set {', '.join(keys)}: the server writes these keys itself.",
            keys=keys,
            reserved=sorted(RESERVED_METADATA_KEYS),
        )


# --- outbound: checkouts, intents, refunds -----------------------------------------------


def start_checkout(session: Session, brand_id: str, request: CheckoutRequest) -> CheckoutSession:
    """Record a pending `payments` row and open the configured provider's hosted checkout.

    `session` must be bound to `brand_id`; `request.brand_id` must equal it. The returned
    `CheckoutSession.url` is where to send the shopper; `raw["payment_id"]` is our payment id.
    """
    if request.brand_id != brand_id:
        raise DomainError(PaymentsErrorCode.BRAND_MISMATCH, "The checkout request belongs to another brand.")
    provider = _provider(session=session)
    payment = Payment(
        brand_id=brand_id,
        provider=provider.name,
        reference=request.reference,
        kind=request.kind,
        amount=request.amount_total,
        currency=request.currency,
        status="pending",
        customer_email=request.customer_email,
        metadata_=dict(request.metadata),
    )
    session.add(payment)
    session.flush()
    routed = request.model_copy(update={"metadata": {**request.metadata, "payment_id": payment.id}})
    try:
        checkout = provider.create_checkout(routed, idempotency_key=f"checkout-{payment.id}")
    except ProviderError as exc:
        raise _provider_error(exc) from exc
    payment.checkout_id = checkout.id
    payment.checkout_url = checkout.url
    payment.metadata_ = {
        **routed.metadata,
        "brand_id": brand_id,
        "reference": request.reference,
        "kind": request.kind,
    }
    return checkout.model_copy(update={"raw": {**checkout.raw, "payment_id": payment.id}})


def create_payment_intent(
    session: Session,
    brand_id: str,
    amount: int,
    currency: str,
    metadata: dict[str, str] | None = None,
    *,
    reference: str | None = None,
    kind: str = "order",
) -> tuple[Payment, dict[str, Any]]:
    """A PaymentIntent (Stripe) / order (PayPal) / dev intent to confirm client-side, saved in `payments`.

    `metadata` is the caller's: it may not set a reserved key (422 `reserved_metadata_key`).
    Credits and plans are never bought this way: they derive from server rows (packs, plans)
    through `POST /credits/buy` and `POST /billing/create-checkout-session`."""
    check_caller_metadata(metadata)
    provider = _provider(session=session)
    payment = Payment(
        brand_id=brand_id,
        provider=provider.name,
        reference=reference or "",
        kind=kind,
        amount=amount,
        currency=currency.upper(),
        status="pending",
        metadata_={},
    )
    session.add(payment)
    session.flush()
    if not payment.reference:
        payment.reference = payment.id
    md = {
        **(metadata or {}),
        "brand_id": brand_id,
        "reference": payment.reference,
        "kind": kind,
        "payment_id": payment.id,
    }
    if kind == "order":
        md.setdefault("order_id", payment.reference)
    try:
        intent = provider.create_payment_intent(amount, currency, md, idempotency_key=f"intent-{payment.id}")
    except ProviderError as exc:
        raise _provider_error(exc) from exc
    payment.payment_ref = intent["id"]
    payment.metadata_ = md
    return payment, intent


def get_payment(session: Session, payment_id: str) -> Payment:
    """A payment of the session's brand (404 otherwise)."""
    return get_or_404(session, Payment, payment_id, "payment")


def payments_for_reference(session: Session, reference: str, kind: str | None = None) -> list[Payment]:
    """The brand's payments for one order / credit purchase, newest first."""
    q = select(Payment).where(Payment.reference == reference)
    if kind:
        q = q.where(Payment.kind == kind)
    return list(session.execute(q.order_by(Payment.created_at.desc())).scalars())


def refund_payment(session: Session, payment_id: str, amount: int | None = None) -> dict[str, Any]:
    """Refund a captured payment (in full when `amount` is None). The `payments` row and the
    `payment.refunded` event follow from the provider's webhook (for dev: a signed
    `charge.refunded` delivered through the webhook path once this transaction commits)."""
    payment = get_payment(session, payment_id)
    if payment.status not in ("succeeded", "partially_refunded") or not payment.payment_ref:
        raise DomainError(
            PaymentsErrorCode.PAYMENT_NOT_REFUNDABLE,
            f"Payment {payment_id} is {payment.status}; nothing to refund.",
        )
    remaining = payment.amount - payment.amount_refunded
    if amount is not None and not 0 < amount <= remaining:
        raise DomainError(
            PaymentsErrorCode.INVALID_REFUND_AMOUNT, f"Refund between 1 and {remaining} (minor units)."
        )
    refund_amount = remaining if amount is None else amount
    if payment.provider == OFFLINE:
        return _refund_offline(session, payment, refund_amount)
    provider = _provider(payment.provider, session=session)
    key = f"refund-{payment.id}-{payment.amount_refunded}-{refund_amount}"
    try:
        result = provider.refund(payment.payment_ref, amount, currency=payment.currency, idempotency_key=key)
    except ProviderError as exc:
        raise _provider_error(exc) from exc
    if payment.provider == "dev":
        _emit_dev_refund_after_commit(session, payment, refund_amount, str(result["id"]))
    return {**result, "amount": result.get("amount") or refund_amount, "payment_id": payment.id}


def _refund_offline(session: Session, payment: Payment, amount: int) -> dict[str, Any]:
    """An offline payment is refunded offline too: record it and publish `payment.refunded` now."""
    actor = session.info.get("actor")
    payment.amount_refunded += amount
    payment.status = "refunded" if payment.amount_refunded >= payment.amount else "partially_refunded"
    refund_id = f"offline_refund_{payment.id}_{payment.amount_refunded}"
    audit(
        session,
        actor,
        "payment.offline_refunded",
        payment.id,
        {"amount": amount, "currency": payment.currency, "reference": payment.reference},
    )
    publish(
        session,
        REFUNDED,
        {
            "provider": OFFLINE,
            "event_id": refund_id,
            "reference": payment.reference,
            "kind": payment.kind,
            "brand_id": payment.brand_id,
            "metadata": dict(payment.metadata_ or {}),
            "amount": amount,
            "currency": payment.currency,
            "payment_ref": payment.payment_ref,
            "raw_type": "offline.refund",
            "payment_id": payment.id,
            "payment_status": payment.status,
            "amount_refunded": payment.amount_refunded,
        },
    )
    return {"id": refund_id, "status": "succeeded", "amount": amount, "payment_id": payment.id}


def record_offline_payment(
    session: Session,
    brand_id: str,
    *,
    reference: str,
    amount: int,
    currency: str,
    note: str,
    actor: str | None,
    kind: str = "order",
) -> Payment:
    """A payment received outside any provider (bank transfer, cash), recorded by a person:
    a `payments` row (provider `offline`, succeeded) and a `payment.offline_recorded` audit event.
    The caller (orders) checks the amount against what is due and applies it."""
    now = utcnow()
    payment = Payment(
        brand_id=brand_id,
        provider=OFFLINE,
        reference=reference,
        kind=kind,
        amount=amount,
        currency=currency.upper(),
        status="succeeded",
        metadata_={"note": note, "recorded_by": actor or ""},
        paid_at=now,
    )
    session.add(payment)
    session.flush()
    payment.payment_ref = f"offline_{payment.id}"
    audit(
        session,
        actor,
        "payment.offline_recorded",
        payment.id,
        {f"{kind}_id": reference, "amount": amount, "currency": payment.currency, "note": note},
    )
    return payment


# --- audit and alerts ----------------------------------------------------------------------


def audit(session: Session, actor: str | None, action: str, payment_id: str, data: dict[str, Any]) -> None:
    """An `audit_events` row about a payment (the session must be bound to its brand)."""
    session.add(
        AuditEvent(
            actor=actor,
            action=action,
            resource_type="payment",
            resource_id=payment_id,
            data=data,
            request_id=current_request_id(),
            created_at=utcnow(),
        )
    )


def _alert_recipients(session: Session, brand_id: str) -> list[str]:
    """The brand's production email, else its owners' emails."""
    from luneo.tenancy.public import Brand, Membership, User

    brand = session.execute(select(Brand).where(Brand.id == brand_id)).scalar_one_or_none()
    if brand is not None and brand.production_email:
        return [brand.production_email]
    rows = session.execute(
        select(User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.brand_id == brand_id, Membership.role == "owner")
        .order_by(User.email)
    ).scalars()
    return [e for e in rows if not e.endswith(".invalid")]


def _money(amount: Any, currency: Any) -> str:
    if not isinstance(amount, int) or not isinstance(currency, str) or not currency:
        return f"{amount if amount is not None else 'no amount'} {currency or 'no currency'}"
    return f"{from_minor(amount, currency)} {currency.upper()}"


def alert(
    session: Session,
    brand_id: str | None,
    reason: str,
    summary: str,
    *,
    payment_id: str | None = None,
    provider: str | None = None,
    event_id: str | None = None,
    reference: str | None = None,
    expected: tuple[Any, Any] | None = None,
    received: tuple[Any, Any] = (None, None),
    action: str | None = None,
) -> None:
    """Tell the operator (an ERROR log line) and the brand (a `payment.alert` audit event and a
    `payment_alert` email to its production address or owners) that money needs a human.
    Never raises: an alert must not undo the webhook that raised it."""
    log.error(
        "payment_alert",
        reason=reason,
        summary=summary,
        brand_id=brand_id,
        payment_id=payment_id,
        provider=provider,
        event_id=event_id,
        reference=reference,
        expected=list(expected) if expected else None,
        received=list(received),
        action=action,
    )
    if not brand_id:
        return
    data = {
        "reason": reason,
        "summary": summary,
        "provider": provider,
        "event_id": event_id,
        "reference": reference,
        "expected": list(expected) if expected else None,
        "received": list(received),
        "action": action,
    }
    try:
        with session.begin_nested():
            audit(session, provider or "payments", "payment.alert", payment_id or event_id or "-", data)
    except Exception as exc:  # pragma: no cover - defensive: the audit table is always there
        log.error("payment_alert_audit_failed", brand_id=brand_id, error=str(exc))
    try:
        from luneo.notifications.public import queue_email
    except ModuleNotFoundError:  # pragma: no cover - notifications is always installed
        return
    context = {
        "summary": summary,
        "reason": reason,
        "payment_id": payment_id,
        "provider": provider or "unknown",
        "event_id": event_id,
        "reference": reference,
        "expected": _money(*expected) if expected else None,
        "received": _money(*received),
        "action": action,
    }
    for to in _alert_recipients(session, brand_id):
        try:
            with session.begin_nested():
                queue_email(session, brand_id, to, "payment_alert", context)
        except Exception as exc:
            log.error("payment_alert_email_failed", brand_id=brand_id, to=to, error=str(exc))


def refund_unpayable_capture(session: Session, payload: dict[str, Any], why: str) -> None:
    """Money was captured for something that can no longer take it (a cancelled, refunded or
    already-paid order): flag the payment, give the money back through its provider, alert.

    `payload` is the `payment.succeeded` payload; the session is bound to its brand."""
    payment_id = payload.get("payment_id")
    payment = session.get(Payment, payment_id) if payment_id else None
    action = "Luneo could not find the payment: refund it with your provider."
    if payment is not None:
        payment.flag = "order_not_payable"
        try:
            with session.begin_nested():
                refund_payment(session, payment.id)
            action = "The payment was refunded in full through the provider."
        except (DomainError, ProviderError) as exc:
            action = f"The automatic refund failed ({exc}): refund it with your provider."
    alert(
        session,
        payload.get("brand_id"),
        "order_not_payable",
        f"A payment was captured for {payload.get('reference')}, which {why}.",
        payment_id=payment_id,
        provider=payload.get("provider"),
        event_id=payload.get("event_id"),
        reference=payload.get("reference"),
        received=(payload.get("amount"), payload.get("currency")),
        action=action,
    )


def _emit_dev_refund_after_commit(session: Session, payment: Payment, amount: int, refund_id: str) -> None:
    from luneo.payments.providers.dev import DevProvider, charge_refunded_object, stripe_event

    obj = charge_refunded_object(payment, payment.amount_refunded + amount, refund_id, amount)
    dev = get_provider("dev")
    assert isinstance(dev, DevProvider)
    headers, body = dev.signed(stripe_event("charge.refunded", obj))

    done: list[bool] = []

    def deliver(committed: Session) -> None:
        # SQLAlchemy 2.1 also fires after_commit when a SAVEPOINT is released (a webhook applies
        # its events in one): deliver only once the outermost transaction has committed.
        if done or committed.in_nested_transaction():
            return
        done.append(True)
        try:
            handle_stripe_webhook(headers, body)
        except Exception:
            log.exception("dev_refund_event_failed", payment_id=payment.id)

    sa_event.listen(session, "after_commit", deliver)


# --- inbound: webhooks ---------------------------------------------------------------------


@dataclass
class WebhookResult:
    """What happened to one delivery: processed | duplicate | ignored | failed."""

    status: str
    event_id: str
    provider: str
    published: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class _Signal:
    what: str  # checkout_completed | succeeded | failed | refunded
    metadata: dict[str, str]
    reference: str | None = None
    amount: int | None = None
    currency: str | None = None
    checkout_id: str | None = None
    payment_ref: str | None = None
    payment_status: str | None = None
    refunded_total: int | None = None
    capture: bool = False
    error: str | None = None


def stripe_route_provider() -> Any:
    """Who verifies `/webhooks/stripe`: Stripe (its webhook secret only) when configured; else, outside
    production only, the dev provider (`LUNEO_DEV_WEBHOOK_SECRET`). In production without Stripe
    the route answers 503 `stripe_not_configured`: no public default secret is ever trusted."""
    s = get_settings()
    if s.stripe_secret_key is not None:
        return get_provider("stripe", settings=s)
    if not dev_provider_allowed(s):
        raise DomainError(PaymentsErrorCode.STRIPE_NOT_CONFIGURED, "Stripe is not configured on this server.")
    return get_provider("dev", settings=s)


def handle_stripe_webhook(headers: Any, raw_body: bytes) -> WebhookResult:
    """Verify (Stripe or, outside production when Stripe is not configured, the dev secret) and apply once."""
    return ingest(stripe_route_provider().verify_webhook(headers, raw_body))


def handle_paypal_webhook(headers: Any, raw_body: bytes) -> WebhookResult:
    """Verify with PayPal's verify-webhook-signature API and apply once."""
    s = get_settings()
    if not (s.paypal_client_id and s.paypal_client_secret):
        raise DomainError(PaymentsErrorCode.PAYPAL_NOT_CONFIGURED, "PayPal is not configured on this server.")
    return ingest(get_provider("paypal").verify_webhook(headers, raw_body))


def ingest(ev: ProviderEvent) -> WebhookResult:
    """Store the event once and apply it in the same transaction.

    The unique (provider, event_id) insert is the lock: a concurrent duplicate blocks on it
    (PostgreSQL) or on the write lock (SQLite) and then answers `duplicate`. A failed apply is
    rolled back to a savepoint and the event kept as `failed`, so a redelivery retries it.
    """
    with get_db().transaction() as s:
        bind_system(s)
        row: InboundEvent | None = None
        try:
            with s.begin_nested():
                row = InboundEvent(
                    provider=ev.provider,
                    event_id=ev.id,
                    type=ev.type[:120],
                    payload=ev.raw,
                    status="received",
                    attempts=0,
                )
                s.add(row)
                s.flush()
        except IntegrityError:
            row = s.execute(
                select(InboundEvent)
                .where(InboundEvent.provider == ev.provider, InboundEvent.event_id == ev.id)
                .with_for_update()
            ).scalar_one()
            if row.status != "failed":
                return WebhookResult("duplicate", ev.id, ev.provider)
        assert row is not None
        row.attempts += 1
        published: list[str] = []
        try:
            with s.begin_nested():
                status, brand_id = _apply(s, ev, published)
        except Exception as exc:
            bind_system(s)
            row.status, row.error = "failed", "".join(traceback.format_exception_only(exc)).strip()[:4000]
            log.warning(
                "webhook_apply_failed", provider=ev.provider, event_id=ev.id, type=ev.type, error=row.error
            )
            return WebhookResult("failed", ev.id, ev.provider, error=row.error)
        bind_system(s)
        row.status, row.brand_id, row.error, row.processed_at = status, brand_id, None, utcnow()
        return WebhookResult(status, ev.id, ev.provider, published)


def _md(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items() if v is not None} if isinstance(value, dict) else {}


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _stripe_signals(ev: ProviderEvent) -> list[_Signal]:
    o, t = ev.data, ev.type
    md = _md(o.get("metadata"))
    cur = str(o.get("currency") or "").upper() or None
    if t.startswith("checkout.session."):
        ref = o.get("payment_intent") or o.get("subscription")
        common: dict[str, Any] = dict(
            metadata=md,
            reference=o.get("client_reference_id") or md.get("reference"),
            amount=_int(o.get("amount_total")),
            currency=cur,
            checkout_id=o.get("id"),
            payment_ref=ref if isinstance(ref, str) else None,
            payment_status=o.get("payment_status"),
        )
        if t == "checkout.session.completed":
            sigs = [_Signal("checkout_completed", **common)]
            if o.get("payment_status") in ("paid", "no_payment_required"):
                sigs.append(_Signal("succeeded", **common))
            return sigs
        if t == "checkout.session.async_payment_succeeded":
            return [_Signal("succeeded", **common)]
        if t == "checkout.session.async_payment_failed":
            return [_Signal("failed", **common)]
        return []
    if t in ("payment_intent.succeeded", "payment_intent.payment_failed"):
        err = o.get("last_payment_error")
        return [
            _Signal(
                "succeeded" if t.endswith("succeeded") else "failed",
                metadata=md,
                reference=md.get("reference"),
                amount=_int(o.get("amount_received")) or _int(o.get("amount")),
                currency=cur,
                payment_ref=o.get("id"),
                payment_status=o.get("status"),
                error=str(err.get("message") or err.get("code") or "") if isinstance(err, dict) else None,
            )
        ]
    if t == "charge.refunded":
        pi = o.get("payment_intent")
        return [
            _Signal(
                "refunded",
                metadata=md,
                reference=md.get("reference"),
                currency=cur,
                payment_ref=pi if isinstance(pi, str) else o.get("id"),
                refunded_total=_int(o.get("amount_refunded")),
                payment_status="refunded",
            )
        ]
    return []


def _pp_amount(obj: Any) -> tuple[int | None, str | None]:
    if not isinstance(obj, dict) or "value" not in obj:
        return None, None
    cur = str(obj.get("currency_code", "")).upper()
    return to_minor(str(obj["value"]), cur), cur


def _paypal_signals(ev: ProviderEvent) -> list[_Signal]:
    r, t = ev.data, ev.type
    if t == "CHECKOUT.ORDER.APPROVED":
        pu = (r.get("purchase_units") or [{}])[0]
        amount, cur = _pp_amount(pu.get("amount"))
        return [
            _Signal(
                "checkout_completed",
                metadata={},
                reference=pu.get("custom_id") or pu.get("reference_id"),
                amount=amount,
                currency=cur,
                checkout_id=r.get("id"),
                payment_status="approved",
                capture=True,
            )
        ]
    if t in ("PAYMENT.CAPTURE.COMPLETED", "PAYMENT.CAPTURE.DENIED"):
        amount, cur = _pp_amount(r.get("amount"))
        related = (r.get("supplementary_data") or {}).get("related_ids") or {}
        return [
            _Signal(
                "succeeded" if t.endswith("COMPLETED") else "failed",
                metadata={},
                reference=r.get("custom_id"),
                amount=amount,
                currency=cur,
                checkout_id=related.get("order_id"),
                payment_ref=r.get("id"),
                payment_status=str(r.get("status") or "").lower() or None,
            )
        ]
    if t == "PAYMENT.CAPTURE.REFUNDED":
        amount, cur = _pp_amount(r.get("amount"))
        capture_id = None
        for link in r.get("links") or []:
            m = re.search(r"/captures/([^/?]+)$", str(link.get("href", "")))
            if link.get("rel") == "up" and m:
                capture_id = m.group(1)
        return [
            _Signal(
                "refunded",
                metadata={},
                reference=r.get("custom_id"),
                amount=amount,
                currency=cur,
                payment_ref=capture_id,
                payment_status="refunded",
            )
        ]
    return []


def _find_payment(s: Session, provider: str, sig: _Signal) -> Payment | None:
    bind_system(s)
    conditions = []
    if sig.metadata.get("payment_id"):
        conditions.append(Payment.id == sig.metadata["payment_id"])
    if sig.checkout_id:
        conditions.append(Payment.checkout_id == sig.checkout_id)
    if sig.payment_ref:
        conditions.append(Payment.payment_ref == sig.payment_ref)
    for cond in conditions:
        row = s.execute(
            select(Payment).where(cond, Payment.provider == provider).with_for_update()
        ).scalar_one_or_none()
        if row is not None:
            return row
    return None


def _known_brand(s: Session, brand_id: str | None) -> str | None:
    if not brand_id:
        return None
    from luneo.tenancy.public import Brand

    return brand_id if s.get(Brand, brand_id) is not None else None


_SUBSCRIPTION_EVENTS = {
    "customer.subscription.created": "billing.subscription_updated",
    "customer.subscription.updated": "billing.subscription_updated",
    "customer.subscription.deleted": "billing.subscription_deleted",
    "invoice.paid": "billing.invoice_paid",
}


def _subscription_event(s: Session, ev: ProviderEvent) -> tuple[str, dict[str, Any]] | None:
    """Stripe subscription lifecycle → the billing domain's events (brand and plan from metadata)."""
    name = _SUBSCRIPTION_EVENTS.get(ev.type)
    if name is None:
        return None
    o = ev.data
    status: str | None
    if ev.type == "invoice.paid":
        lines = ((o.get("lines") or {}).get("data") or [{}]) if isinstance(o.get("lines"), dict) else [{}]
        md = {
            **_md((o.get("subscription_details") or {}).get("metadata")),
            **_md(lines[0].get("metadata")),
            **_md(o.get("metadata")),
        }
        period = lines[0].get("period") or {}
        sub_id, invoice_id = o.get("subscription"), o.get("id")
        start, end, status = period.get("start"), period.get("end"), "active"
    else:
        md = _md(o.get("metadata"))
        sub_id, invoice_id = o.get("id"), None
        start, end, status = o.get("current_period_start"), o.get("current_period_end"), o.get("status")
    brand_id = _known_brand(s, md.get("brand_id"))
    if brand_id is None:
        return None
    return name, {
        "provider": ev.provider,
        "event_id": ev.id,
        "brand_id": brand_id,
        "subscription_id": sub_id,
        "plan": md.get("plan"),
        "status": status,
        "period_start": start,
        "period_end": end,
        "invoice_id": invoice_id,
        "customer_id": o.get("customer"),
        "cancel_at_period_end": bool(o.get("cancel_at_period_end", False)),
    }


def _apply(s: Session, ev: ProviderEvent, published: list[str]) -> tuple[str, str | None]:
    if ev.provider != "paypal":
        sub = _subscription_event(s, ev)
        if sub is not None:
            name, payload = sub
            bind_tenant(s, payload["brand_id"])
            publish(s, name, payload)
            published.append(name)
            return "processed", payload["brand_id"]
    signals = _paypal_signals(ev) if ev.provider == "paypal" else _stripe_signals(ev)
    brand_id: str | None = None
    if not signals:
        bind_system(s)
        return "ignored", _known_brand(s, _md(ev.data.get("metadata")).get("brand_id"))
    for sig in signals:
        payment = _find_payment(s, ev.provider, sig)
        brand_id = payment.brand_id if payment is not None else _known_brand(s, sig.metadata.get("brand_id"))
        if brand_id:
            bind_tenant(s, brand_id)
        else:
            bind_system(s)
        if sig.what in ("checkout_completed", "succeeded"):
            _check_capture(s, ev, sig, payment, brand_id)
        for name, payload in _transition(s, ev, sig, payment, brand_id):
            publish(s, name, payload)
            published.append(name)
    return "processed", brand_id


def _payload(
    ev: ProviderEvent,
    sig: _Signal,
    payment: Payment | None,
    brand_id: str | None,
    amount: int | None,
    currency: str | None = None,
) -> dict[str, Any]:
    """The event payload. `amount` / `currency` are the event's own (never the row's); the
    metadata our server wrote on the payment row wins over what the event carries."""
    md = {**sig.metadata, **(payment.metadata_ if payment else {})}
    return {
        "provider": ev.provider,
        "event_id": ev.id,
        "reference": (payment.reference if payment else None) or sig.reference or md.get("reference"),
        "kind": (payment.kind if payment else None) or md.get("kind") or "order",
        "brand_id": brand_id,
        "metadata": md,
        "amount": amount,
        "currency": currency,
        "payment_ref": (payment.payment_ref if payment else None) or sig.payment_ref,
        "raw_type": ev.type,
        "payment_id": payment.id if payment else None,
        "payment_status": payment.status if payment else sig.payment_status,
        "amount_refunded": payment.amount_refunded if payment else sig.refunded_total,
        "flag": payment.flag if payment else None,
    }


_CAPTURED = ("paid", "no_payment_required", "succeeded", "completed")


def _check_capture(
    s: Session, ev: ProviderEvent, sig: _Signal, payment: Payment | None, brand_id: str | None
) -> None:
    """A capture must carry its own amount and currency, equal to what we asked for: otherwise the
    payment is flagged `amount_mismatch` (once) and the brand and operator alerted. Consumers
    (orders, credits, plans) check the event's amount against their own rows as well."""
    if payment is None or payment.flag is not None or payment.status in PAID_STATES:
        return  # nothing to compare with, already flagged, or a later announcement of a capture
    if sig.what == "checkout_completed" and sig.payment_status not in _CAPTURED:
        return
    currency = sig.currency.upper() if sig.currency else None
    if sig.amount == payment.amount and currency == payment.currency:
        return
    payment.flag = "amount_mismatch"
    missing = [k for k, v in (("amount", sig.amount), ("currency", currency)) if v is None]
    summary = (
        f"The {ev.provider} event {ev.id} has no {' or '.join(missing)}"
        if missing
        else f"The {ev.provider} event {ev.id} captured a different amount than was asked"
    )
    alert(
        s,
        brand_id,
        "amount_mismatch",
        summary + f" for {payment.reference}; it was not applied.",
        payment_id=payment.id,
        provider=ev.provider,
        event_id=ev.id,
        reference=payment.reference,
        expected=(payment.amount, payment.currency),
        received=(sig.amount, currency),
    )


def _transition(
    s: Session, ev: ProviderEvent, sig: _Signal, payment: Payment | None, brand_id: str | None
) -> list[tuple[str, dict[str, Any]]]:
    """Update the payment row for one signal; the events to publish (each state change once)."""
    out: list[tuple[str, dict[str, Any]]] = []
    if payment is not None:
        payment.last_event_id = ev.id
        if sig.payment_ref and (sig.what != "refunded" or not payment.payment_ref):
            payment.payment_ref = sig.payment_ref
    if sig.what == "checkout_completed":
        if payment is not None and ev.provider == "dev":
            _close_dev_session(s, sig.checkout_id, "complete")
        completed = _payload(ev, sig, payment, brand_id, sig.amount, _cur(sig))
        completed["payment_status"] = sig.payment_status
        out.append((CHECKOUT_COMPLETED, completed))
        if sig.capture and payment is not None and payment.status == "pending" and sig.checkout_id:
            out.extend(_capture_paypal(s, ev, sig, payment, brand_id))
        return out
    if sig.what == "succeeded":
        if payment is not None:
            if payment.status in PAID_STATES:
                return out
            payment.status, payment.paid_at = "succeeded", utcnow()
        paid = _payload(ev, sig, payment, brand_id, sig.amount, _cur(sig))
        paid["payment_status"] = "succeeded"
        out.append((SUCCEEDED, paid))
        return out
    if sig.what == "failed":
        if payment is not None:
            if payment.status in PAID_STATES:
                return out
            payment.status = "failed"
            if ev.provider == "dev":
                _close_dev_session(s, sig.checkout_id, "failed")
        payload = _payload(ev, sig, payment, brand_id, sig.amount, _cur(sig))
        payload["payment_status"], payload["error"] = "failed", sig.error
        out.append((FAILED, payload))
        return out
    # refunded
    if payment is None:
        out.append((REFUNDED, _payload(ev, sig, None, brand_id, sig.amount or sig.refunded_total, _cur(sig))))
        return out
    before = payment.amount_refunded
    total = sig.refunded_total if sig.refunded_total is not None else before + (sig.amount or 0)
    total = min(total, payment.amount)
    if total <= before:
        return out
    payment.amount_refunded = total
    payment.status = "refunded" if total >= payment.amount else "partially_refunded"
    out.append(
        (REFUNDED, _payload(ev, sig, payment, brand_id, total - before, _cur(sig) or payment.currency))
    )
    return out


def _cur(sig: _Signal) -> str | None:
    return sig.currency.upper() if sig.currency else None


def _close_dev_session(s: Session, session_id: str | None, status: str) -> None:
    if not session_id:
        return
    row = s.execute(select(PaymentSession).where(PaymentSession.id == session_id)).scalar_one_or_none()
    if row is not None and row.status == "open":
        row.status, row.completed_at = status, utcnow()


def _capture_paypal(
    s: Session, ev: ProviderEvent, sig: _Signal, payment: Payment, brand_id: str | None
) -> list[tuple[str, dict[str, Any]]]:
    """PayPal approval → capture now (idempotent per order); a completed capture is the success."""
    from luneo.payments.providers.paypal import PayPalProvider

    provider = _provider("paypal")
    assert isinstance(provider, PayPalProvider)
    assert sig.checkout_id is not None
    cap = provider.capture(sig.checkout_id)
    if cap["status"] != "COMPLETED":
        return []
    done = _Signal(
        "succeeded",
        metadata={},
        reference=sig.reference,
        amount=cap["amount"],
        currency=cap["currency"],
        checkout_id=sig.checkout_id,
        payment_ref=cap["id"],
        payment_status="completed",
    )
    _check_capture(s, ev, done, payment, brand_id)
    return _transition(s, ev, done, payment, brand_id)


__all__ = [
    "CHECKOUT_COMPLETED",
    "FAILED",
    "OFFLINE",
    "REFUNDED",
    "RESERVED_METADATA_KEYS",
    "SUCCEEDED",
    "SignatureError",
    "WebhookResult",
    "active_provider_name",
    "alert",
    "check_caller_metadata",
    "create_payment_intent",
    "get_payment",
    "handle_paypal_webhook",
    "handle_stripe_webhook",
    "ingest",
    "payments_for_reference",
    "record_offline_payment",
    "refund_payment",
    "refund_unpayable_capture",
    "start_checkout",
]
