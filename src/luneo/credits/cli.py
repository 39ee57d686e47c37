"""`luneo credits …`: ledger checks (mounted by `app.add_typer(credits_app, name="credits")`)."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from luneo.credits.models import CreditAccount
from luneo.credits.service import ledger_differences
from luneo.platform.database import get_db
from luneo.platform.tenancy import bind_system

app = typer.Typer(help="AI credits: ledger checks.", no_args_is_help=True)
credits_app = app


@app.callback()
def _group() -> None:
    """AI credits: ledger checks."""


@app.command("verify")
def verify() -> None:
    """Recompute every balance from its ledger; list differences and exit 1 if there are any."""
    with get_db().transaction(write=False) as s:
        bind_system(s)
        diffs = ledger_differences(s)
        accounts = s.execute(select(func.count()).select_from(CreditAccount)).scalar() or 0
    console = Console()
    if not diffs:
        console.print(f"ledger consistent: {accounts} account(s), every balance equals the sum of its ledger")
        return
    table = Table("brand", "balance", "ledger sum", "difference", title="ledger differences")
    for d in diffs:
        table.add_row(d["brand_id"], str(d["balance"]), str(d["ledger"]), f"{d['difference']:+d}")
    console.print(table)
    raise typer.Exit(1)
