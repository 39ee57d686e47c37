"""Isolation factories for credits and billing routes, and the ledger invariant check.

`pack_id` and `operation` name global (platform) resources, not tenant rows (they are in
`NOT_TENANT_PARAMS`): only platform operators may PUT them.
"""

from __future__ import annotations

from tests.integration.factories import body


@body("PUT", "/api/v1/credits/packs/{pack_id}")
def pack_put(client, brand, ids):
    return {"credits": 100, "price_cents": 1900, "currency": "EUR", "active": True}


@body("PUT", "/api/v1/credits/costs/{operation}")
def cost_put(client, brand, ids):
    return {"credits": 5}


def assert_ledger_consistent(db) -> None:
    """Every brand's balance equals the sum of its ledger, and no balance is negative."""
    from sqlalchemy import select

    from luneo.credits.models import CreditAccount
    from luneo.credits.service import ledger_differences
    from luneo.platform.tenancy import bind_system

    with db.transaction(write=False) as s:
        bind_system(s)
        assert ledger_differences(s) == []
        assert all(b >= 0 for b in s.execute(select(CreditAccount.balance)).scalars())
