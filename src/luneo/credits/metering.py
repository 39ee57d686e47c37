"""Metering of paid operations: reserve credits, keep them on success, refund them on failure.

    with metered(brand_id, "ai.generate", actor) as usage:
        result = do_the_work()            # raises ⇒ the credits come back (a `refund` line)

or, in a route (declare it BEFORE the route's `guard`, so on SQLite the route's write
transaction is closed before a refund needs the write lock):

    def generate(body: In, usage: Usage = meter("ai.generate", "ai:use"), t: Tenant = guard("ai:use")): ...

The reservation is a `usage` debit committed in its OWN transaction (reference
`usage:<usg_…>`), so concurrent calls see it at once; a short balance is the 402
`insufficient_credits` problem. Work finished later by a job calls `refund_usage(usage)` if it fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import structlog
from fastapi import Depends, Request

from luneo.credits import costs, service
from luneo.credits.error_codes import CreditsErrorCode
from luneo.platform.database import Database, get_db
from luneo.platform.domain_errors import CommonErrorCode, DomainError
from luneo.platform.ids import new_id
from luneo.platform.tenancy import bind_tenant

log = structlog.get_logger("luneo.credits.metering")


@dataclass(frozen=True)
class Usage:
    """A committed reservation: `reference` is the ledger reference of its `usage` line."""

    id: str
    brand_id: str
    operation: str
    cost: int
    reference: str
    transaction_id: str
    balance_after: int


def reserve(
    brand_id: str,
    operation: str,
    actor: str | None,
    *,
    cost: int | None = None,
    reference: str | None = None,
    metadata: dict[str, Any] | None = None,
    db: Database | None = None,
) -> Usage:
    """Debit the operation's cost in its own committed transaction (402 when short)."""
    db = db or get_db()
    usage_id = new_id("usg")
    ref = reference or f"usage:{usage_id}"
    with db.transaction() as s:
        bind_tenant(s, brand_id)
        amount = costs.cost_of(s, operation) if cost is None else cost
        txn = service.debit(
            s, brand_id, amount, operation, ref, actor, {**(metadata or {}), "usage_id": usage_id}
        )
        return Usage(
            id=usage_id,
            brand_id=brand_id,
            operation=operation,
            cost=-txn.amount,
            reference=ref,
            transaction_id=txn.id,
            balance_after=txn.balance_after,
        )


def refund_usage(usage: Usage, *, reason: str | None = None, db: Database | None = None) -> None:
    """Give a reservation back (idempotent: at most one refund per usage)."""
    db = db or get_db()
    with db.transaction() as s:
        bind_tenant(s, usage.brand_id)
        service.refund(s, usage.brand_id, usage.reference, actor="metering", reason=reason)


@contextmanager
def metered(
    brand_id: str,
    operation: str,
    actor: str | None = None,
    *,
    cost: int | None = None,
    reference: str | None = None,
    metadata: dict[str, Any] | None = None,
    db: Database | None = None,
) -> Iterator[Usage]:
    """Reserve → run the block → keep the credits, or refund them if the block raises."""
    usage = reserve(brand_id, operation, actor, cost=cost, reference=reference, metadata=metadata, db=db)
    try:
        yield usage
    except BaseException as exc:
        try:
            refund_usage(usage, reason=type(exc).__name__, db=db)
        except Exception:
            log.exception("credits_refund_failed", usage=usage.id, brand_id=brand_id)
        raise


def meter(operation: str, *permissions: str) -> Any:
    """Route parameter default: `usage: Usage = meter("ai.generate", "ai:use")`.

    Authenticates the caller, checks `permissions` before charging, reserves the cost and
    refunds it if the route raises (including a `DomainError` or a `Problem`).
    """

    def dependency(request: Request) -> Iterator[Usage]:
        from luneo.platform.auth import authenticate

        principal = authenticate(request)
        if principal.brand_id is None:
            raise DomainError(CreditsErrorCode.NO_BRAND, "This account is not a member of any brand yet.")
        missing = [p for p in permissions if not principal.can(p)]
        if missing:
            raise DomainError(
                CommonErrorCode.FORBIDDEN, f"This credential lacks the permission {missing[0]}."
            )
        with metered(principal.brand_id, operation, principal.actor) as usage:
            request.state.credit_usage = usage
            yield usage

    return Depends(dependency, scope="function")
