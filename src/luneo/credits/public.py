"""What other domains may use of credits: grant, debit and refund credits, costs, metering,
and the brand's ledger, packs and purchases as the dashboard shows them.

Other domains import `luneo.credits.public` (or `from luneo.credits import public as credits`),
never `luneo.credits.models`, `.service` or `.api` (import-linter contract
`domains-through-public`).
"""

from __future__ import annotations

from luneo.credits import metering
from luneo.credits.costs import all_costs, cost_of
from luneo.credits.models import TRANSACTION_TYPES, CreditPack, CreditTransaction
from luneo.credits.service import (
    EXPORT_MAX_ROWS,
    LedgerFilter,
    PurchaseStarted,
    balance_view,
    debit,
    get_transaction,
    grant,
    ledger_export,
    ledger_page,
    list_packs,
    purchase_line,
    purchase_status,
    refund,
    start_purchase,
)

__all__ = [
    "EXPORT_MAX_ROWS",
    "TRANSACTION_TYPES",
    "CreditPack",
    "CreditTransaction",
    "LedgerFilter",
    "PurchaseStarted",
    "all_costs",
    "balance_view",
    "cost_of",
    "debit",
    "get_transaction",
    "grant",
    "ledger_export",
    "ledger_page",
    "list_packs",
    "metering",
    "purchase_line",
    "purchase_status",
    "refund",
    "start_purchase",
]
