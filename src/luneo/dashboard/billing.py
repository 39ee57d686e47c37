"""Dashboard: credits and billing — the balance and the credit packs ("Buy" opens the same
checkout as `POST /credits/buy`: the dev provider's hosted page or Stripe Checkout), the purchase's
return (the new balance; the header badge refreshes through the `luneo:credits` HTMX event), the
ledger (type and date filters, cursor pages, a bounded CSV export), the plan and subscription
(limits and usage, plan checkout, Stripe's customer portal when configured) and what each AI
operation costs.

Everything goes through the domains' public modules — the calls the JSON API makes.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Form
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from luneo.billing import public as billing
from luneo.credits import public as credits
from luneo.dashboard import session as dashboard_session
from luneo.dashboard.forms import parse_day
from luneo.dashboard.guard import Page, page_dep
from luneo.dashboard.pages import router
from luneo.platform.clock import utcnow
from luneo.platform.config import get_settings
from luneo.platform.domain_errors import DomainError, NotFoundError
from luneo.platform.errors import Problem

CreditsRead = Annotated[Page, page_dep("credits:read")]
CreditsBuy = Annotated[Page, page_dep("credits:read", "credits:buy", write=True)]
BillingManage = Annotated[Page, page_dep("credits:read", "billing:manage", write=True)]

PAGE_SIZE = 25
CSV_CHUNK = 500
REFERENCE = re.compile(r"^cbuy_[A-Za-z0-9]{1,60}$")
LEDGER_ID = re.compile(r"^ctx_[A-Za-z0-9]{1,60}$")
CREDITS_EVENT = "luneo:credits"


def _return_url() -> str:
    return get_settings().public_base_url.rstrip("/") + "/dashboard/billing"


def _checkout(page: Page, url: str) -> Response:
    """Go to a provider's checkout or portal. Embedded (Shopify admin), the form posted into a new
    top-level window (Stripe refuses to run in a frame): a plain 303 there, never an `HX-Redirect`
    that would take the frame itself to the provider; elsewhere as any form."""
    if dashboard_session.embedded(page.request):
        return dashboard_session.apply_cookies(page.request, RedirectResponse(url, status_code=303))
    return page.redirect(url)


def _ledger_filter(
    page: Page, type: str, date_from: str, date_to: str
) -> tuple[Any, dict[str, str], dict[str, str]]:
    """The ledger filter from the query string, the values to echo, and errors by field."""
    errors: dict[str, str] = {}
    if type and type not in credits.TRANSACTION_TYPES:
        errors["type"] = page.gettext("Unknown type.")
    start = parse_day(page, date_from, "date_from", errors)
    end = parse_day(page, date_to, "date_to", errors)
    if start and end and start > end:
        errors["date_to"] = page.gettext("The end date is before the start date.")
    f = credits.LedgerFilter(
        type=type or None,
        date_from=datetime.combine(start, time.min) if start else None,
        date_to=datetime.combine(end + timedelta(days=1), time.min) if end else None,
    )
    return f, {"type": type, "date_from": date_from, "date_to": date_to}, errors


def _context(page: Page, **extra: Any) -> dict[str, Any]:
    """Balance, packs, plan and costs: what every view of the billing page shows."""
    s, brand = page.session, page.brand_id
    view = credits.balance_view(s, brand, use_cache=False)
    context: dict[str, Any] = {
        "balance": int(view["balance"]),
        "last_topup": int(view["last_topup"]),
        "packs": credits.list_packs(s),
        "costs": [(op, c, default) for op, (c, default, _o) in credits.all_costs(s).items()],
        "types": credits.TRANSACTION_TYPES,
        "export_max": credits.EXPORT_MAX_ROWS,
        "subscription": None,
        "plans": [],
        "portal": False,
        "products_used": 0,
        "ledger": [],
        "next_url": None,
        "paged": False,
        "filters": {"type": "", "date_from": "", "date_to": ""},
        "errors": {},
        "error": None,
        "purchase": None,
        "purchase_ref": None,
        "checkout_state": None,
        "export_url": "/dashboard/billing/ledger.csv",
    }
    if page.can("billing:read"):
        context.update(
            subscription=billing.subscription_view(s, brand),
            plans=list(billing.PLANS.values()),
            portal=billing.portal_available(s, brand),
            products_used=billing.products_used(s, brand),
        )
    context.update(extra)
    return context


def _render(page: Page, status_code: int = 200, **extra: Any) -> Response:
    return page.render("billing/index.html", status_code=status_code, **_context(page, **extra))


@router.get("/billing")
def billing_page(
    page: CreditsRead,
    type: str = "",
    date_from: str = "",
    date_to: str = "",
    cursor: str | None = None,
    purchase: str = "",
    status: str = "",
    checkout: str = "",
) -> Response:
    """Balance and packs, the purchase just made (on return from the checkout), the ledger, the
    plan and the AI costs."""
    f, filters, errors = _ledger_filter(page, type, date_from, date_to)
    ledger: list[Any] = []
    next_url = None
    if not errors:
        try:
            result = credits.ledger_page(page.session, page.brand_id, f, cursor, PAGE_SIZE)
        except Problem as exc:  # a cursor this server did not issue
            errors["cursor"] = exc.detail or exc.code
        else:
            ledger = result.data
            if result.next_cursor:
                kept = {k: v for k, v in filters.items() if v}
                next_url = (
                    "/dashboard/billing?" + urlencode({**kept, "cursor": result.next_cursor}) + "#ledger"
                )
    kept = {k: v for k, v in filters.items() if v}
    found = None
    if purchase and REFERENCE.match(purchase) and status != "cancelled":
        found = credits.purchase_status(page.session, page.brand_id, purchase)
    return _render(
        page,
        status_code=422 if errors else 200,
        ledger=ledger,
        next_url=next_url,
        paged=bool(cursor),
        filters=filters,
        errors=errors,
        purchase=found,
        purchase_ref=purchase if found else None,
        purchase_cancelled=status == "cancelled" and bool(purchase),
        checkout_state=status if checkout else None,
        export_url="/dashboard/billing/ledger.csv" + ("?" + urlencode(kept) if kept else ""),
    )


@router.get("/billing/purchases/{reference}")
def purchase_partial(page: CreditsRead, reference: str) -> Response:
    """A purchase's state (HTMX polls it while the payment is pending). Once credited the answer
    carries `HX-Trigger: luneo:credits`, so the header's badge refreshes without a reload."""
    found = (
        credits.purchase_status(page.session, page.brand_id, reference)
        if REFERENCE.match(reference)
        else None
    )
    if found is None:
        raise Problem(404, "not_found", "No such purchase.")
    view = credits.balance_view(page.session, page.brand_id, use_cache=False)
    response = page.render(
        "billing/_purchase.html",
        purchase=found,
        purchase_ref=reference,
        balance=int(view["balance"]),
        oob=True,
    )
    if found["state"] == "credited":
        response.headers["HX-Trigger"] = CREDITS_EVENT
    return response


@router.post("/billing/buy")
def buy(page: CreditsBuy, pack_id: Annotated[str, Form(max_length=40)] = "") -> Response:
    """Open the checkout of a pack (the provider's hosted page); back on this page afterwards."""
    try:
        started = credits.start_purchase(
            page.session,
            page.brand_id,
            page.principal.user_id if page.principal else None,
            pack_id,
            _return_url(),
        )
    except NotFoundError:
        return _render(page, 422, error=page.gettext("This pack is not on sale."))
    except DomainError as exc:
        return _render(page, 422, error=exc.detail)
    return _checkout(page, started.checkout_url)


@router.post("/billing/plan")
def change_plan(page: BillingManage, plan: Annotated[str, Form(max_length=32)] = "") -> Response:
    """Subscribe to (or change to) a paid plan through the billing checkout."""
    try:
        url, _id, _ref = billing.start_plan_checkout(
            page.session,
            page.brand_id,
            page.principal.user_id if page.principal else None,
            plan,
            _return_url(),
        )
    except DomainError as exc:
        return _render(page, 422, error=exc.detail)
    return _checkout(page, url)


@router.post("/billing/portal")
def manage_billing(page: BillingManage) -> Response:
    """Stripe's customer portal (when Stripe is configured for this subscription)."""
    if not billing.portal_available(page.session, page.brand_id):
        return _render(
            page,
            409,
            error=page.gettext("The billing portal is not available: no Stripe subscription is configured."),
        )
    try:
        url = billing.portal_url(page.session, page.brand_id)
    except DomainError as exc:
        return _render(page, 422, error=exc.detail)
    return _checkout(page, url)


@router.get("/billing/balance")
def balance_partial(page: CreditsRead) -> Response:
    """The balance figure (an embedded page fetches it when the checkout window closes), with
    `HX-Trigger: luneo:credits` so the header's badge refreshes too."""
    view = credits.balance_view(page.session, page.brand_id, use_cache=False)
    response = page.render("billing/_balance.html", balance=int(view["balance"]))
    response.headers["HX-Trigger"] = CREDITS_EVENT
    return response


@router.get("/billing/ledger/{transaction_id}")
def ledger_line(page: CreditsRead, transaction_id: str) -> Response:
    """One ledger line with its details (metadata)."""
    if not LEDGER_ID.match(transaction_id):
        raise Problem(404, "not_found", "No such ledger line.")
    line = credits.get_transaction(page.session, page.brand_id, transaction_id)
    return page.render("billing/line.html", line=line)


def _csv_rows(rows: list[tuple[Any, ...]], header: list[str]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for i, row in enumerate(rows, 1):
        writer.writerow(row)
        if i % CSV_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


@router.get("/billing/ledger.csv")
def ledger_csv(page: CreditsRead, type: str = "", date_from: str = "", date_to: str = "") -> Response:
    """The ledger lines matching the filters as CSV, newest first, at most `EXPORT_MAX_ROWS` (the
    `X-Luneo-Truncated` header says when more matched)."""
    f, _filters, errors = _ledger_filter(page, type, date_from, date_to)
    if errors:
        raise Problem(422, "invalid_filter", "; ".join(f"{k}: {v}" for k, v in errors.items()))
    lines, truncated = credits.ledger_export(page.session, page.brand_id, f, credits.EXPORT_MAX_ROWS)
    rows = [
        (
            line.id,
            line.created_at.isoformat(),
            line.type,
            line.amount,
            line.balance_after,
            line.operation or "",
            line.reference,
            line.actor or "",
        )
        for line in lines
    ]
    header = ["id", "created_at", "type", "amount", "balance_after", "operation", "reference", "actor"]
    stamp = utcnow().strftime("%Y%m%d")
    response = StreamingResponse(
        _csv_rows(rows, header),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="luneo-credits-{stamp}.csv"',
            "Cache-Control": "no-store",
            "X-Luneo-Truncated": "true" if truncated else "false",
        },
    )
    return dashboard_session.apply_cookies(page.request, response)  # type: ignore[return-value]
