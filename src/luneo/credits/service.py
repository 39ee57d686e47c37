"""The credit ledger: balance and ledger change in one unit, concurrent debits never overspend.

Every change is one conditional UPDATE of `credit_accounts` (`balance = balance - :n WHERE
balance >= :n RETURNING balance` for debits) followed by the ledger INSERT carrying
`balance_after`, both inside a SAVEPOINT of the caller's transaction. PostgreSQL row-locks
the account on the UPDATE; SQLite write transactions start with BEGIN IMMEDIATE. A reference
is unique per brand: a second use (a replayed webhook, a retried job) rolls the SAVEPOINT
back — balance included — and returns the transaction already recorded.

References used by Luneo: `usage:<usg_…>` (metering), `refund:<reference>` (refund of a usage),
`purchase:<cbuy_…>` (a credit pack checkout), `grant:signup:<brand_id>`, `grant:invoice:<invoice_id>`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import structlog
from sqlalchemy import Select, Table, bindparam, event, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from luneo.credits import cache
from luneo.credits.error_codes import CreditsErrorCode
from luneo.credits.models import CreditAccount, CreditPack, CreditTransaction
from luneo.platform.clock import utcnow
from luneo.platform.domain_errors import DomainError, NotFoundError
from luneo.platform.ids import new_id
from luneo.platform.pagination import Page, paginate

log = structlog.get_logger("luneo.credits")

BUY_URL = "/api/v1/credits/packs"
LOW_BALANCE_RATIO = 0.2
DEFAULT_PACKS: tuple[tuple[str, int, int, str], ...] = (
    ("pack_100", 100, 1900, "EUR"),
    ("pack_500", 500, 7900, "EUR"),
    ("pack_1000", 1000, 13900, "EUR"),
)
_NO_SYNC = {"synchronize_session": False}


class InsufficientCredits(DomainError):
    """`insufficient_credits` (402): the brand's balance does not cover the operation."""

    def __init__(self, balance: int, cost: int, operation: str | None) -> None:
        super().__init__(
            CreditsErrorCode.INSUFFICIENT_CREDITS,
            f"This operation costs {cost} credits; the balance is {balance}.",
            balance=balance,
            cost=cost,
            operation=operation,
            buy_url=BUY_URL,
        )


# --- accounts and reads ------------------------------------------------------------------


def _insert(session: Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def ensure_account(session: Session, brand_id: str) -> None:
    """Create the brand's account row if missing (race-free: INSERT … ON CONFLICT DO NOTHING)."""
    stmt = (
        _insert(session)(CreditAccount)
        .values(brand_id=brand_id)
        .on_conflict_do_nothing(index_elements=["brand_id"])
    )
    session.execute(stmt)


def get_account(session: Session, brand_id: str) -> CreditAccount | None:
    return session.execute(
        select(CreditAccount)
        .where(CreditAccount.brand_id == brand_id)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def get_balance(session: Session, brand_id: str) -> int:
    """The brand's current balance (0 when it never had credits)."""
    value = session.execute(select(CreditAccount.balance).where(CreditAccount.brand_id == brand_id)).scalar()
    return int(value or 0)


def balance_view(session: Session, brand_id: str, *, use_cache: bool = True) -> dict[str, Any]:
    """`{balance, low_balance, last_topup}` — cached 5 s, invalidated on every change."""
    if use_cache:
        hit = cache.get(brand_id)
        if hit is not None:
            return hit
    acc = get_account(session, brand_id)
    view = {
        "balance": acc.balance if acc else 0,
        "low_balance": bool(acc.low_balance_flag) if acc else False,
        "last_topup": acc.last_topup_amount if acc else 0,
    }
    cache.put(brand_id, view)
    return view


def find_transaction(session: Session, brand_id: str, reference: str) -> CreditTransaction | None:
    return session.execute(
        select(CreditTransaction).where(
            CreditTransaction.brand_id == brand_id, CreditTransaction.reference == reference
        )
    ).scalar_one_or_none()


def _touch(session: Session, brand_id: str) -> None:
    """Invalidate the balance cache now and once more when the transaction ends."""
    cache.invalidate(brand_id)
    touched: set[str] | None = session.info.get("credits_touched")
    if touched is None:
        touched = session.info["credits_touched"] = set()

        def _flush_cache(s: Session, *_: Any) -> None:
            for b in s.info.pop("credits_touched", set()):
                cache.invalidate(b)

        event.listen(session, "after_commit", _flush_cache)
        event.listen(session, "after_soft_rollback", _flush_cache)
    touched.add(brand_id)


# --- the one write path ------------------------------------------------------------------
# Prebuilt Core statements run on the session's connection: no ORM unit of work, no per-call
# statement construction (the tenant guard is not needed: every statement names the brand).

_ACC = cast(Table, CreditAccount.__table__)
_LEDGER = cast(Table, CreditTransaction.__table__)
_RETURNING = (_ACC.c.balance, _ACC.c.last_topup_amount, _ACC.c.low_balance_flag)
_DEBIT = (
    _ACC.update()
    .where(_ACC.c.brand_id == bindparam("b_id"), _ACC.c.balance >= bindparam("n_abs"))
    .values(balance=_ACC.c.balance - bindparam("n_abs"), version=_ACC.c.version + 1)
    .returning(*_RETURNING)
)
_CREDIT = (
    _ACC.update()
    .where(_ACC.c.brand_id == bindparam("b_id"))
    .values(balance=_ACC.c.balance + bindparam("n_abs"), version=_ACC.c.version + 1)
    .returning(*_RETURNING)
)
_TOPUP = (
    _ACC.update()
    .where(_ACC.c.brand_id == bindparam("b_id"))
    .values(
        balance=_ACC.c.balance + bindparam("n_abs"),
        version=_ACC.c.version + 1,
        last_topup_amount=bindparam("n_abs"),
    )
    .returning(*_RETURNING)
)
_INSERT_LINE = _LEDGER.insert()


def _apply(
    session: Session,
    brand_id: str,
    amount: int,
    *,
    type: str,
    reference: str,
    operation: str | None,
    actor: str | None,
    metadata: dict[str, Any] | None,
    topup: bool = False,
) -> CreditTransaction:
    """Move the balance by `amount` and append the ledger line, atomically and idempotently."""
    if not reference or len(reference) > 200:
        raise DomainError(CreditsErrorCode.INVALID_REFERENCE, "A ledger reference is 1–200 characters.")
    stmt = _DEBIT if amount < 0 else (_TOPUP if topup else _CREDIT)
    params = {"b_id": brand_id, "n_abs": abs(amount)}
    line = {
        "id": new_id("ctx"),
        "brand_id": brand_id,
        "type": type,
        "amount": amount,
        "operation": operation,
        "actor": actor,
        "reference": reference,
        "metadata": metadata or {},
        "created_at": utcnow(),
    }
    try:
        with session.begin_nested():
            conn = session.connection()
            row = conn.execute(stmt, params).first()
            if row is None and amount >= 0 and get_account(session, brand_id) is None:
                ensure_account(session, brand_id)  # first credit of a brand
                row = conn.execute(stmt, params).first()
            if row is None:
                existing = find_transaction(session, brand_id, reference)
                if existing is not None:  # a retried debit that already went through
                    return existing
                raise InsufficientCredits(get_balance(session, brand_id), -amount, operation)
            balance, last_topup, flagged = int(row[0]), int(row[1]), bool(row[2])
            conn.execute(_INSERT_LINE, {**line, "balance_after": balance})
    except IntegrityError:
        # The reference is already in the ledger (a replay, possibly concurrent): the SAVEPOINT,
        # balance change included, is gone; answer with the transaction recorded first.
        existing = find_transaction(session, brand_id, reference)
        if existing is None:
            raise
        return existing
    txn = CreditTransaction(
        **{k: v for k, v in line.items() if k != "metadata"}, meta=line["metadata"], balance_after=balance
    )
    _touch(session, brand_id)
    threshold = last_topup * LOW_BALANCE_RATIO
    if amount < 0 and not flagged and last_topup > 0 and balance < threshold:
        _flag_low_balance(session, brand_id, balance, last_topup)
    elif amount > 0 and flagged and balance >= threshold:
        session.execute(
            update(CreditAccount).where(CreditAccount.brand_id == brand_id).values(low_balance_flag=False),
            execution_options=_NO_SYNC,
        )
    return txn


def _flag_low_balance(session: Session, brand_id: str, balance: int, last_topup: int) -> None:
    """Flag the account once per crossing (conditional UPDATE) and publish `credits.low_balance`
    (notifications emails the brand: `luneo.notifications.handlers`)."""
    won = session.execute(
        update(CreditAccount)
        .where(CreditAccount.brand_id == brand_id, CreditAccount.low_balance_flag.is_(False))
        .values(low_balance_flag=True)
        .returning(CreditAccount.id),
        execution_options=_NO_SYNC,
    ).first()
    if won is None:
        return
    from luneo.platform.config import get_settings
    from luneo.platform.events import publish

    publish(
        session,
        "credits.low_balance",
        {
            "brand_id": brand_id,
            "balance": balance,
            "last_topup": last_topup,
            "threshold": int(last_topup * LOW_BALANCE_RATIO),
            "buy_url": get_settings().public_base_url.rstrip("/") + BUY_URL,
        },
    )


# --- use cases ---------------------------------------------------------------------------


def debit(
    session: Session,
    brand_id: str,
    amount: int,
    operation: str,
    reference: str,
    actor: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> CreditTransaction:
    """Spend `amount` credits (a `usage` line) or raise `InsufficientCredits` (402)."""
    if amount < 0:
        raise DomainError(CreditsErrorCode.INVALID_AMOUNT, "A debit amount is zero or more.")
    return _apply(
        session,
        brand_id,
        -amount,
        type="usage",
        reference=reference,
        operation=operation,
        actor=actor,
        metadata=metadata,
    )


def credit(
    session: Session,
    brand_id: str,
    amount: int,
    reference: str,
    *,
    type: str = "purchase",
    operation: str | None = None,
    actor: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> CreditTransaction:
    """Add credits (`purchase`, `grant` or `refund`); purchases and grants set the low-balance baseline."""
    if amount <= 0:
        raise DomainError(CreditsErrorCode.INVALID_AMOUNT, "A credited amount is positive.")
    if type not in ("purchase", "grant", "refund"):
        raise DomainError(CreditsErrorCode.INVALID_TYPE, "credit() records a purchase, a grant or a refund.")
    return _apply(
        session,
        brand_id,
        amount,
        type=type,
        reference=reference,
        operation=operation,
        actor=actor,
        metadata=metadata,
        topup=type in ("purchase", "grant"),
    )


def grant(
    session: Session,
    brand_id: str,
    amount: int,
    reference: str,
    *,
    actor: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> CreditTransaction:
    """Free credits (signup, monthly plan allowance); idempotent on `reference`."""
    return credit(session, brand_id, amount, reference, type="grant", actor=actor, metadata=metadata)


def refund(
    session: Session,
    brand_id: str,
    original_reference: str,
    *,
    actor: str | None = None,
    reason: str | None = None,
) -> CreditTransaction:
    """Give back a usage's credits (reference `refund:<original>`, so at most once)."""
    original = find_transaction(session, brand_id, original_reference)
    if original is None or original.type != "usage":
        raise NotFoundError("credit usage", original_reference)
    meta: dict[str, Any] = {"refunds": original.id}
    if reason:
        meta["reason"] = reason[:500]
    return _apply(
        session,
        brand_id,
        -original.amount,
        type="refund",
        reference=f"refund:{original_reference}",
        operation=original.operation,
        actor=actor,
        metadata=meta,
    )


def adjust(
    session: Session,
    brand_id: str,
    amount: int,
    reference: str,
    *,
    actor: str | None = None,
    reason: str = "",
) -> CreditTransaction:
    """An operator correction (signed); never takes the balance below zero."""
    if amount == 0:
        raise DomainError(CreditsErrorCode.INVALID_AMOUNT, "An adjustment is not zero.")
    try:
        return _apply(
            session,
            brand_id,
            amount,
            type="adjustment",
            reference=reference,
            operation=None,
            actor=actor,
            metadata={"reason": reason[:500]} if reason else {},
        )
    except InsufficientCredits as exc:
        raise DomainError(
            CreditsErrorCode.BALANCE_WOULD_GO_NEGATIVE,
            "The adjustment would take the balance below zero.",
            balance=exc.extra["balance"],
        ) from None


# --- packs -------------------------------------------------------------------------------


def ensure_default_packs(session: Session) -> None:
    """Insert the default packs when the table is empty (the migration seeds them; a read-only
    transaction, e.g. `GET /credits/packs`, relies on that and never writes)."""
    if (
        session.info.get("read_only")
        or session.execute(select(func.count()).select_from(CreditPack)).scalar()
    ):
        return
    stmt = (
        _insert(session)(CreditPack)
        .values(
            [
                {"id": i, "credits": c, "price_cents": p, "currency": cur, "active": True}
                for i, c, p, cur in DEFAULT_PACKS
            ]
        )
        .on_conflict_do_nothing(index_elements=["id"])
    )
    session.execute(stmt)


def list_packs(session: Session, *, include_inactive: bool = False) -> list[CreditPack]:
    ensure_default_packs(session)
    stmt = select(CreditPack).order_by(CreditPack.credits, CreditPack.id)
    if not include_inactive:
        stmt = stmt.where(CreditPack.active.is_(True))
    return list(session.execute(stmt).scalars())


def get_pack(session: Session, pack_id: str, *, active_only: bool = True) -> CreditPack:
    ensure_default_packs(session)
    pack = session.get(CreditPack, pack_id)
    if pack is None or (active_only and not pack.active):
        raise NotFoundError("credit pack", pack_id)
    return pack


def put_pack(
    session: Session, pack_id: str, *, credits: int, price_cents: int, currency: str, active: bool
) -> CreditPack:
    """Create or replace a pack (platform operator)."""
    ensure_default_packs(session)
    pack = session.get(CreditPack, pack_id)
    if pack is None:
        pack = CreditPack(id=pack_id)
        session.add(pack)
    pack.credits, pack.price_cents, pack.currency, pack.active = (
        credits,
        price_cents,
        currency.upper(),
        active,
    )
    session.flush()
    return pack


# --- purchases ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PurchaseStarted:
    """A pack checkout opened with the payment provider: send the buyer to `checkout_url`."""

    checkout_url: str
    session_id: str
    reference: str
    pack: CreditPack


def start_purchase(
    session: Session, brand_id: str, user_id: str | None, pack_id: str, return_url: str
) -> PurchaseStarted:
    """Open the provider's checkout for an active pack (`NotFoundError` for any other id).

    The buyer comes back to `return_url` with `purchase=<cbuy_…>&status=success|cancelled`; the
    credits arrive with the payment's webhook (`complete_purchase`)."""
    from luneo.payments import public as payments
    from luneo.tenancy.public import checkout_email

    pack = get_pack(session, pack_id)
    reference = new_id("cbuy")
    sep = "&" if "?" in return_url else "?"
    request = payments.CheckoutRequest(
        brand_id=brand_id,
        reference=reference,
        kind="credits",
        line_items=[
            {"name": f"{pack.credits} Luneo AI credits", "unit_amount": pack.price_cents, "quantity": 1}
        ],
        currency=pack.currency,
        customer_email=checkout_email(session, brand_id, user_id),
        success_url=f"{return_url}{sep}purchase={reference}&status=success",
        cancel_url=f"{return_url}{sep}purchase={reference}&status=cancelled",
        metadata={
            "kind": "credits",
            "pack_id": pack.id,
            "brand_id": brand_id,
            "credits": str(pack.credits),
            "price_cents": str(pack.price_cents),
        },
    )
    checkout = payments.start_checkout(session, brand_id, request)
    return PurchaseStarted(checkout.url, checkout.id, reference, pack)


def purchase_line(session: Session, brand_id: str, checkout_reference: str) -> CreditTransaction | None:
    """The ledger line of a pack purchase once its payment arrived (None while pending)."""
    return find_transaction(session, brand_id, purchase_reference(checkout_reference))


def purchase_reference(checkout_reference: str) -> str:
    """The ledger reference of a pack purchase: our checkout reference (`cbuy_…`), stable across replays."""
    return f"purchase:{checkout_reference}"


def complete_purchase(session: Session, payload: dict[str, Any]) -> CreditTransaction | None:
    """Credit a paid pack once (handler of `payment.checkout_completed` / `payment.succeeded` with
    kind credits).

    What is credited comes only from the pack row named by the purchase (`pack_id`, written by
    `POST /credits/buy`; callers can never set it): never from `credits` / `price_cents` in
    metadata. The event's own amount and currency must equal the pack's price exactly; anything
    else (missing, under- or overpaid, another currency) credits nothing and is logged as an error.
    """
    meta = payload.get("metadata") or {}
    brand_id = payload.get("brand_id") or meta.get("brand_id")
    reference = payload.get("reference") or payload.get("payment_ref")
    if not brand_id or not reference:
        log.warning(
            "credits_purchase_ignored", reason="no brand or reference", event_id=payload.get("event_id")
        )
        return None
    if meta.get("brand_id") and meta["brand_id"] != brand_id:
        log.warning("credits_purchase_ignored", reason="brand mismatch", event_id=payload.get("event_id"))
        return None
    pack_id = str(meta.get("pack_id") or "")
    if pack_id:
        ensure_default_packs(session)
    pack = session.get(CreditPack, pack_id) if pack_id else None
    if pack is None:
        log.error("credits_purchase_ignored", reason="unknown pack", pack_id=pack_id, reference=reference)
        return None
    amount, currency = payload.get("amount"), payload.get("currency")
    if (
        not isinstance(amount, int)
        or isinstance(amount, bool)
        or amount != pack.price_cents
        or not isinstance(currency, str)
        or currency.upper() != pack.currency.upper()
    ):
        log.error(
            "credits_purchase_mismatch",
            reference=reference,
            pack_id=pack.id,
            paid=amount,
            paid_currency=currency,
            price=pack.price_cents,
            currency=pack.currency,
            event_id=payload.get("event_id"),
        )
        return None
    return credit(
        session,
        brand_id,
        pack.credits,
        purchase_reference(str(reference)),
        type="purchase",
        actor=f"{payload.get('provider') or 'payments'}",
        metadata={
            k: v
            for k, v in {
                "pack_id": pack.id,
                "payment_ref": payload.get("payment_ref"),
                "event_id": payload.get("event_id"),
                "amount": amount,
                "currency": currency.upper(),
                "provider": payload.get("provider"),
            }.items()
            if v is not None
        },
    )


# --- reading the ledger ------------------------------------------------------------------

EXPORT_MAX_ROWS = 10_000


@dataclass(frozen=True)
class LedgerFilter:
    """Which ledger lines to read: a type, an operation, `date_from` <= created_at < `date_to`."""

    type: str | None = None
    operation: str | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None


def ledger_query(brand_id: str, f: LedgerFilter) -> Select[Any]:
    """The brand's ledger lines matching `f` (unordered)."""
    stmt = select(CreditTransaction).where(CreditTransaction.brand_id == brand_id)
    if f.type:
        stmt = stmt.where(CreditTransaction.type == f.type)
    if f.operation:
        stmt = stmt.where(CreditTransaction.operation == f.operation)
    if f.date_from:
        stmt = stmt.where(CreditTransaction.created_at >= f.date_from)
    if f.date_to:
        stmt = stmt.where(CreditTransaction.created_at < f.date_to)
    return stmt


def ledger_page(
    session: Session, brand_id: str, f: LedgerFilter, cursor: str | None = None, limit: int = 50
) -> Page[CreditTransaction]:
    """One page of the ledger, newest first (cursor pagination, `limit` 1–200)."""
    return paginate(session, ledger_query(brand_id, f), CreditTransaction, cursor, limit)


def ledger_export(
    session: Session, brand_id: str, f: LedgerFilter, max_rows: int = EXPORT_MAX_ROWS
) -> tuple[list[CreditTransaction], bool]:
    """At most `max_rows` ledger lines, newest first, and whether more matched (one query)."""
    stmt = ledger_query(brand_id, f).order_by(CreditTransaction.id.desc()).limit(max_rows + 1)
    rows = list(session.execute(stmt).scalars())
    return rows[:max_rows], len(rows) > max_rows


def get_transaction(session: Session, brand_id: str, transaction_id: str) -> CreditTransaction:
    """One ledger line of the brand (`NotFoundError` for another brand's or an unknown id)."""
    row = session.execute(
        select(CreditTransaction).where(
            CreditTransaction.brand_id == brand_id, CreditTransaction.id == transaction_id
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFoundError("credit transaction", transaction_id)
    return row


# --- verification ------------------------------------------------------------------------


def ledger_differences(session: Session) -> list[dict[str, Any]]:
    """Accounts whose balance differs from the sum of their ledger (system session)."""
    sums = dict(
        session.execute(
            select(CreditTransaction.brand_id, func.coalesce(func.sum(CreditTransaction.amount), 0)).group_by(
                CreditTransaction.brand_id
            )
        )
        .tuples()
        .all()
    )
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for brand_id, balance in session.execute(select(CreditAccount.brand_id, CreditAccount.balance)).tuples():
        seen.add(brand_id)
        ledger = int(sums.get(brand_id, 0))
        if ledger != balance:
            out.append(
                {
                    "brand_id": brand_id,
                    "balance": int(balance),
                    "ledger": ledger,
                    "difference": balance - ledger,
                }
            )
    for brand_id, total in sums.items():
        if brand_id not in seen:
            out.append({"brand_id": brand_id, "balance": 0, "ledger": int(total), "difference": -int(total)})
    return out


def reverse_purchase(session: Session, payload: dict[str, Any]) -> CreditTransaction | None:
    """Take back the credits of a refunded pack purchase, in proportion to the money refunded.

    Handler of `payment.refunded` with kind credits. Credits already spent cannot be taken back
    (the balance never goes negative): what is missing is recorded as `shortfall` on the line.
    Each refund event's cumulative total gets its own reference, so replays change nothing.
    """
    meta = payload.get("metadata") or {}
    brand_id = payload.get("brand_id") or meta.get("brand_id")
    reference = payload.get("reference")
    if not brand_id or not reference:
        return None
    purchase = session.execute(
        select(CreditTransaction).where(CreditTransaction.reference == purchase_reference(str(reference)))
    ).scalar_one_or_none()
    if purchase is None:
        return None
    paid = int((purchase.meta or {}).get("amount") or 0)
    refunded_total = int(payload.get("amount_refunded") or payload.get("amount") or 0)
    full = payload.get("payment_status") == "refunded" or paid <= 0 or refunded_total >= paid
    target = purchase.amount if full else (purchase.amount * refunded_total) // paid
    prefix = f"clawback:{reference}:"
    taken = -int(
        session.execute(
            select(func.coalesce(func.sum(CreditTransaction.amount), 0)).where(
                CreditTransaction.reference.startswith(prefix)
            )
        ).scalar_one()
    )
    due = target - taken
    if due <= 0:
        return None
    amount = min(due, get_balance(session, brand_id))
    if amount <= 0:
        log.warning("credits_clawback_short", brand_id=brand_id, reference=reference, due=due)
        return None
    return _apply(
        session,
        brand_id,
        -amount,
        type="adjustment",
        reference=f"{prefix}{refunded_total}",
        operation="purchase.refunded",
        actor=str(payload.get("provider") or "payments"),
        metadata={"purchase": purchase.reference, "due": due, "shortfall": due - amount},
    )


def purchase_status(session: Session, brand_id: str, checkout_reference: str) -> dict[str, Any] | None:
    """Where a pack purchase of this brand stands: `{"state": "credited" | "pending" | "failed",
    "line": the ledger line or None}`; None when the brand has no such purchase."""
    line = purchase_line(session, brand_id, checkout_reference)
    if line is not None:
        return {"state": "credited", "line": line}
    from luneo.payments import public as payments

    found = [
        p
        for p in payments.payments_for_reference(session, checkout_reference, "credits")
        if p.brand_id == brand_id
    ]
    if not found:
        return None
    return {"state": "failed" if found[0].status in ("failed", "canceled") else "pending", "line": None}
