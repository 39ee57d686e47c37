"""Routes: balance, packs, ledger, costs and buying credits."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query

from luneo.credits import costs, service
from luneo.credits.schemas import (
    BalanceOut,
    BuyIn,
    BuyOut,
    CostOut,
    CostPut,
    PackOut,
    PackPut,
    TransactionOut,
    TransactionType,
)
from luneo.platform.auth import Tenant
from luneo.platform.config import get_settings
from luneo.platform.deps import CreditsBuyDep, CreditsReadDep
from luneo.platform.domain_errors import NotFoundError
from luneo.platform.errors import Problem
from luneo.platform.pagination import Page
from luneo.tenancy.public import is_platform_admin

router = APIRouter(tags=["credits"])


def require_platform_admin(t: Tenant) -> None:
    """403 unless the caller is a signed-in user with `is_platform_admin`."""
    if not is_platform_admin(t.session, t.principal.user_id):
        raise Problem(403, "platform_admin_required", "Only a platform operator can change this.")


@router.get("/credits/balance", response_model=BalanceOut)
def balance(t: CreditsReadDep) -> BalanceOut:
    """The brand's credit balance (cached up to 5 s, refreshed on every change)."""
    return BalanceOut(**service.balance_view(t.session, t.brand_id))


@router.get("/credits/packs", response_model=Page[PackOut])
def packs(t: CreditsReadDep) -> Page[PackOut]:
    """Credit packs on sale."""
    return Page(data=[PackOut.model_validate(p) for p in service.list_packs(t.session)])


@router.put("/credits/packs/{pack_id}", response_model=PackOut)
def put_pack(pack_id: str, body: PackPut, t: CreditsReadDep) -> PackOut:
    """Create or replace a pack (platform operators only)."""
    require_platform_admin(t)
    if not (1 <= len(pack_id) <= 40) or not all(c.isalnum() or c in "_-" for c in pack_id):
        raise Problem(422, "invalid_pack_id", "A pack id is 1–40 letters, digits, dashes or underscores.")
    pack = service.put_pack(
        t.session,
        pack_id,
        credits=body.credits,
        price_cents=body.price_cents,
        currency=body.currency,
        active=body.active,
    )
    return PackOut.model_validate(pack)


@router.get("/credits/transactions", response_model=Page[TransactionOut])
def transactions(
    t: CreditsReadDep,
    cursor: str | None = None,
    limit: int = 50,
    type: TransactionType | None = None,
    operation: str | None = Query(default=None, max_length=64),
    date_from: datetime | None = Query(
        default=None, alias="from", description="Created at or after (ISO 8601)."
    ),
    date_to: datetime | None = Query(default=None, alias="to", description="Created before (ISO 8601)."),
) -> Page[TransactionOut]:
    """The brand's ledger, newest first, filterable by type, operation and date."""
    f = service.LedgerFilter(type=type, operation=operation, date_from=date_from, date_to=date_to)
    return service.ledger_page(t.session, t.brand_id, f, cursor, limit).map(TransactionOut.model_validate)


@router.get("/credits/costs", response_model=Page[CostOut])
def list_costs(t: CreditsReadDep) -> Page[CostOut]:
    """What each metered operation costs."""
    return Page(
        data=[
            CostOut(operation=op, credits=c, default=d, overridden=o)
            for op, (c, d, o) in costs.all_costs(t.session).items()
        ]
    )


@router.put("/credits/costs/{operation}", response_model=CostOut)
def put_cost(operation: str, body: CostPut, t: CreditsReadDep) -> CostOut:
    """Override an operation's cost (platform operators only)."""
    require_platform_admin(t)
    costs.set_cost(t.session, operation, body.credits, t.principal.actor)
    default = costs.DEFAULT_COSTS.get(operation)
    return CostOut(operation=operation, credits=body.credits, default=default, overridden=True)


@router.post("/credits/buy", response_model=BuyOut, status_code=201)
def buy(body: BuyIn, t: CreditsBuyDep) -> BuyOut:
    """Start a checkout for a pack; the credits arrive once the payment completes (webhook)."""
    base = get_settings().public_base_url.rstrip("/")
    try:
        started = service.start_purchase(
            t.session, t.brand_id, t.principal.user_id, body.pack_id, f"{base}/credits"
        )
    except NotFoundError:
        raise Problem(422, "unknown_pack", f"There is no active pack {body.pack_id}.") from None
    return BuyOut(
        checkout_url=started.checkout_url, session_id=started.session_id, reference=started.reference
    )
