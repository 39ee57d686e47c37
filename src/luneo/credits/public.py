"""What other domains may use of credits: grant, debit and refund credits, costs, metering.

Other domains import `luneo.credits.public` (or `from luneo.credits import public as credits`),
never `luneo.credits.models`, `.service` or `.api` (import-linter contract
`domains-through-public`).
"""

from __future__ import annotations

from luneo.credits import metering
from luneo.credits.costs import cost_of
from luneo.credits.models import CreditTransaction
from luneo.credits.service import balance_view, debit, grant, refund

__all__ = ["CreditTransaction", "balance_view", "cost_of", "debit", "grant", "metering", "refund"]
