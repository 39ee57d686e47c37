"""What each metered operation costs, in credits: defaults here, platform overrides in `credit_costs`."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from luneo.credits.error_codes import CreditsErrorCode
from luneo.credits.models import CreditCost
from luneo.platform.domain_errors import DomainError

# Seed 004 (plan crédits IA). The platform operator overrides these with PUT /credits/costs/{operation}.
DEFAULT_COSTS: dict[str, int] = {
    "ai.generate": 5,
    "render.highres": 8,
    "ai.upscale": 2,
    "ai.background_removal": 2,
    "ai.extract_colors": 1,
    "ai.smart_crop": 1,
    "ai.text_to_design": 3,
    "ai.chat": 1,
}
OPERATION_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+){1,3}$")
MAX_COST = 100_000


def valid_operation(operation: str) -> bool:
    return len(operation) <= 64 and bool(OPERATION_RE.match(operation))


def all_costs(session: Session) -> dict[str, tuple[int, int | None, bool]]:
    """operation → (effective cost, default cost or None for operator-added operations, overridden)."""
    overrides = dict(session.execute(select(CreditCost.operation, CreditCost.credits)).tuples().all())
    out: dict[str, tuple[int, int | None, bool]] = {
        op: (overrides.get(op, c), c, op in overrides) for op, c in DEFAULT_COSTS.items()
    }
    for op, c in overrides.items():
        out.setdefault(op, (c, None, True))
    return dict(sorted(out.items()))


def cost_of(session: Session, operation: str) -> int:
    """The effective cost of `operation`; an unknown operation is a 422 problem."""
    override = session.execute(select(CreditCost.credits).where(CreditCost.operation == operation)).scalar()
    if override is not None:
        return int(override)
    if operation in DEFAULT_COSTS:
        return DEFAULT_COSTS[operation]
    raise DomainError(
        CreditsErrorCode.UNKNOWN_OPERATION,
        f"No credit cost is defined for the operation {operation}.",
        operation=operation,
    )


def set_cost(session: Session, operation: str, credits: int, actor: str | None) -> CreditCost:
    """Create or replace the override of one operation's cost."""
    if not valid_operation(operation):
        raise DomainError(
            CreditsErrorCode.INVALID_OPERATION, "An operation is a dotted lowercase name such as ai.generate."
        )
    if not 0 <= credits <= MAX_COST:
        raise DomainError(CreditsErrorCode.INVALID_COST, f"A cost is between 0 and {MAX_COST} credits.")
    row = session.get(CreditCost, operation)
    if row is None:
        row = CreditCost(operation=operation, credits=credits, updated_by=actor)
        session.add(row)
    else:
        row.credits, row.updated_by = credits, actor
    session.flush()
    return row
