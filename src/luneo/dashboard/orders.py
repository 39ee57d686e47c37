"""Dashboard: orders — the list (status, date range, number/email search, cursor pages) and an
order's page (items with their preview, proof approval and snapshot spec_hash, payments, history)
with its actions: refund (full or partial, `payments:write`), start production and mark shipped
(carrier + tracking number; the customer gets the "order shipped" email), each confirmed first.

Everything goes through the domains' public modules — the calls the JSON API makes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import suppress
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from fastapi import Form
from fastapi.responses import RedirectResponse, Response

from luneo.commerce import public as commerce
from luneo.dashboard.forms import parse_day, submit
from luneo.dashboard.guard import Page, page_dep
from luneo.dashboard.pages import router
from luneo.manufacturing import public as manufacturing
from luneo.payments import public as payments
from luneo.platform.domain_errors import DomainError, NotFoundError
from luneo.platform.errors import Problem
from luneo.rendering import public as rendering

OrdersRead = Annotated[Page, page_dep("orders:read")]
#: The item preview asks for the render it lacks (one job per spec_hash): a write transaction.
OrdersPreview = Annotated[Page, page_dep("orders:read", write=True)]
OrdersWrite = Annotated[Page, page_dep("orders:write", write=True)]
PaymentsWrite = Annotated[Page, page_dep("orders:read", "payments:write", write=True)]

PAGE_SIZE = 25
#: The proof's preview request (designs' `/snapshots/{id}/proof`): the same render is reused.
PREVIEW_WIDTH, PREVIEW_FORMAT = 1024, "png"
REFUNDABLE = ("succeeded", "partially_refunded")


def _at(day: date | None, plus_days: int = 0) -> datetime | None:
    return datetime(day.year, day.month, day.day) + timedelta(days=plus_days) if day else None


@router.get("/orders")
def order_list(
    page: OrdersRead,
    status: str = "",
    q: str = "",
    date_from: str = "",
    date_to: str = "",
    cursor: str | None = None,
) -> Response:
    """Orders newest first, filtered by status, creation dates [from, to] and number/email search."""
    q = q.strip()[:320]
    errors: dict[str, str] = {}
    if status and status not in commerce.STATUSES:
        errors["status"] = page.gettext("Unknown status.")
    start = parse_day(page, date_from, "date_from", errors)
    end = parse_day(page, date_to, "date_to", errors)
    filters = {"status": status, "q": q, "date_from": date_from, "date_to": date_to}
    orders: list[Any] = []
    next_url = None
    if not errors:
        try:
            result = commerce.list_orders(
                page.session,
                status=status or None,
                search=q or None,
                created_from=_at(start),
                created_to=_at(end, 1),
                cursor=cursor,
                limit=PAGE_SIZE,
            )
        except Problem as exc:  # a cursor this API did not issue
            errors["cursor"] = exc.detail or exc.code
        else:
            orders = result.data
            if result.next_cursor:
                kept = {k: v for k, v in filters.items() if v}
                next_url = "/dashboard/orders?" + urlencode({**kept, "cursor": result.next_cursor})
    return page.render(
        "orders/list.html",
        status_code=422 if errors else 200,
        orders=orders,
        filters=filters,
        errors=errors,
        statuses=commerce.STATUSES,
        next_url=next_url,
        paged=bool(cursor),
    )


def _preview_urls(page: Page, items: list[Any]) -> dict[str, str]:
    expires = (int(time.time()) // 3600 + 2) * 3600  # bucketed: the same URL for an hour
    found: dict[str, str] = {}
    for item in items:
        if item.spec_hash:
            preview = rendering.finished_preview(
                page.session,
                item.spec_hash,
                width=PREVIEW_WIDTH,
                fmt=PREVIEW_FORMAT,
                mockup=True,
                expires_at=expires,
            )
            if preview is not None:
                found[item.id] = preview.url
    return found


def placeholder_svg(name: str, note: str) -> str:
    """A 4:3 image naming the product and saying its preview is not rendered yet (never a blank or
    broken image)."""
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 320 240" width="320" height="240" '
        f'role="img" aria-label="{escape(name, {chr(34): "&quot;"})}: {escape(note)}">'
        '<rect width="320" height="240" rx="12" fill="#efedfb"/>'
        '<rect x="118" y="52" width="84" height="68" rx="8" fill="none" stroke="#8c86b5" stroke-width="4"/>'
        '<circle cx="140" cy="76" r="8" fill="#8c86b5"/>'
        '<path d="M124 114l26-24 18 16 12-10 18 18z" fill="#8c86b5"/>'
        '<text x="160" y="164" text-anchor="middle" font-family="system-ui, sans-serif" font-size="22" '
        f'font-weight="600" fill="#1d1b2f">{escape(name if len(name) <= 24 else name[:23] + "…")}</text>'
        '<text x="160" y="196" text-anchor="middle" font-family="system-ui, sans-serif" font-size="19" '
        f'fill="#4b4868">{escape(note)}</text></svg>'
    )


@router.get("/orders/{order_id}/items/{item_id}/preview")
def item_preview(page: OrdersPreview, order_id: str, item_id: str) -> Response:
    """An item's mockup: its finished render (a redirect to the signed, content-addressed file) or,
    until then, a placeholder image naming the product; the render is asked for on the way (once
    per spec_hash and options: the proof's own preview render)."""
    order = commerce.get_order(page.session, order_id)
    item = next((i for i in order.items if i.id == item_id), None)
    if item is None:
        raise NotFoundError("order item", item_id)
    if item.spec_hash:
        found = _preview_urls(page, [item]).get(item.id)
        if found:
            return RedirectResponse(found, status_code=303, headers={"Cache-Control": "no-store"})
        with suppress(DomainError):  # rendering unavailable for this spec: the placeholder stays
            rendering.request_preview(
                page.session, item.spec_hash, width=PREVIEW_WIDTH, fmt=PREVIEW_FORMAT, mockup=True
            )
    svg = placeholder_svg(item.product_name or item.product_sku, page.gettext("Preview not rendered yet"))
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


def _entry(entry: dict[str, Any]) -> dict[str, Any]:
    """A history entry with its time parsed (`when`), for the locale's date format."""
    try:
        when: datetime | None = datetime.fromisoformat(str(entry.get("at")))
    except ValueError:
        when = None
    return {**entry, "when": when}


def _detail(page: Page, order_id: str, status_code: int = 200, **extra: Any) -> Response:
    order = commerce.get_order(page.session, order_id)
    paid = payments.payments_for_reference(page.session, order.id, "order")
    work_orders = manufacturing.list_work_orders(page.session, order_id=order.id, limit=200).data
    context: dict[str, Any] = {
        "order": order,
        "approvals": commerce.item_approvals(page.session, order),
        "previews": _preview_urls(page, list(order.items)),
        "payments_list": paid,
        "refundable": [p for p in paid if p.status in REFUNDABLE and p.payment_ref],
        "work_orders": work_orders,
        "history": [_entry(h) for h in order.history or []],
        "can_ship": commerce.can_transition(order.status, "shipped"),
        "can_start": commerce.can_transition(order.status, "in_production"),
        "error": None,
        "field_errors": {},
        "form": {},
        "notice": None,
    }
    context.update(extra)
    return page.render("orders/detail.html", status_code=status_code, **context)


@router.get("/orders/{order_id}")
def order_detail(page: OrdersRead, order_id: str, done: str = "") -> Response:
    """One order: items (preview, approval, spec_hash), payments, work orders and history."""
    notices = {
        "refund": page.gettext("Refund requested. The payment updates when the provider confirms it."),
        "shipped": page.gettext("Order marked shipped. The customer is emailed."),
        "in_production": page.gettext("Order moved to in production."),
    }
    return _detail(page, order_id, notice=notices.get(done))


def _action(
    page: Page, order_id: str, action: Callable[[], object], done: str, form: dict[str, str]
) -> Response:
    """Run an order action: back on the order's page with `?done=` or with the refusal (409 or
    422; a 404 is the page's own)."""
    return submit(
        page,
        action,
        then=f"/dashboard/orders/{order_id}?done={done}",
        failed=lambda r: _detail(page, order_id, status_code=r.status, error=r.message, form=form),
        statuses=(409, 422),
    )


@router.post("/orders/{order_id}/refund")
def refund(
    page: PaymentsWrite,
    order_id: str,
    payment_id: Annotated[str, Form(max_length=64)] = "",
    amount: Annotated[str, Form(max_length=32)] = "",
    confirm: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Refund one of the order's captured payments: all that remains (amount empty) or part of it."""
    order = commerce.get_order(page.session, order_id)
    form = {"payment_id": payment_id, "amount": amount}
    payment = next(
        (p for p in payments.payments_for_reference(page.session, order.id, "order") if p.id == payment_id),
        None,
    )
    if payment is None:
        raise Problem(404, "not_found", f"payment {payment_id} not found")
    errors: dict[str, str] = {}
    minor: int | None = None
    if amount.strip():
        try:
            minor = payments.to_minor(amount, payment.currency)
        except ValueError:
            errors["amount"] = page.gettext("Enter an amount like 12.50.")
    if confirm != "yes":
        errors["confirm"] = page.gettext("Tick the box to confirm.")
    if errors:
        return _detail(page, order_id, status_code=422, field_errors=errors, form=form)
    return _action(
        page, order.id, lambda: payments.refund_payment(page.session, payment.id, minor), "refund", form
    )


@router.post("/orders/{order_id}/ship")
def ship(
    page: OrdersWrite,
    order_id: str,
    carrier: Annotated[str, Form(max_length=100)] = "",
    tracking_number: Annotated[str, Form(max_length=100)] = "",
    confirm: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """in_production → shipped with the carrier and tracking number (the "order shipped" email)."""
    order = commerce.get_order(page.session, order_id)
    form = {"carrier": carrier, "tracking_number": tracking_number}
    errors: dict[str, str] = {}
    if not carrier.strip():
        errors["carrier"] = page.gettext("Enter the carrier.")
    if not tracking_number.strip():
        errors["tracking_number"] = page.gettext("Enter the tracking number.")
    if confirm != "yes":
        errors["ship_confirm"] = page.gettext("Tick the box to confirm.")
    if errors:
        return _detail(page, order_id, status_code=422, field_errors=errors, form=form)
    return _action(
        page,
        order.id,
        lambda: commerce.transition(
            page.session,
            order.id,
            "shipped",
            actor=page.principal.actor if page.principal else None,
            tracking_number=tracking_number.strip(),
            carrier=carrier.strip(),
        ),
        "shipped",
        form,
    )


@router.post("/orders/{order_id}/start-production")
def start_production(page: OrdersWrite, order_id: str) -> Response:
    """paid → in_production (the API's transition)."""
    order = commerce.get_order(page.session, order_id)
    actor = page.principal.actor if page.principal else None
    return _action(
        page,
        order.id,
        lambda: commerce.transition(page.session, order.id, "in_production", actor=actor),
        "in_production",
        {},
    )
