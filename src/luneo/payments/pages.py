"""The dev provider's hosted checkout page (`/checkout/dev/{session_id}`): Pay / Fail buttons
emit a Stripe-signed event through the same webhook path as real providers.

Development only: with `LUNEO_ENV=production` every route here answers 404, as if it did not exist."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from luneo.payments import service
from luneo.payments.models import PaymentSession
from luneo.payments.providers import dev_provider_allowed, get_provider
from luneo.payments.providers.base import from_minor
from luneo.payments.providers.dev import (
    DevProvider,
    checkout_session_object,
    stripe_event,
)
from luneo.payments.signatures import SignatureError
from luneo.platform.database import get_db
from luneo.platform.tenancy import bind_system

router = APIRouter(tags=["payments"], include_in_schema=False)

_STYLE = """body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#222}
table{width:100%;border-collapse:collapse}td{padding:.4rem 0;border-bottom:1px solid #eee}
td.n{text-align:right}form{display:inline}button{font-size:1rem;padding:.6rem 1.4rem;margin:1rem .5rem 0 0;
border:0;border-radius:.4rem;cursor:pointer}.pay{background:#2d6cdf;color:#fff}.fail{background:#eee}
.note{color:#777;font-size:.85rem}"""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(title)}</title>"
        f"<meta name=viewport content='width=device-width,initial-scale=1'><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )
    return HTMLResponse(
        html, status_code=status, headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"}
    )


def _load(session_id: str) -> PaymentSession | None:
    if not dev_provider_allowed():
        return None  # production: the dev checkout does not exist
    with get_db().transaction(write=False) as s:
        bind_system(s)
        row = s.get(PaymentSession, session_id)
        if row is not None:
            s.expunge(row)
        return row


def _money(amount: int, currency: str) -> str:
    return f"{from_minor(amount, currency)} {escape(currency)}"


@router.get("/checkout/dev/{session_id}", response_class=HTMLResponse)
def checkout_page(session_id: str) -> Response:
    """The hosted checkout: line items, total, Pay and Fail."""
    row = _load(session_id)
    if row is None:
        return _page("Checkout not found", "<h1>Checkout not found</h1>", 404)
    rows = "".join(
        f"<tr><td>{escape(str(i['name']))} × {int(i['quantity'])}</td>"
        f"<td class=n>{_money(int(i['unit_amount']) * int(i['quantity']), row.currency)}</td></tr>"
        for i in row.line_items
    )
    if row.status != "open":
        return _page("Checkout closed", f"<h1>This checkout is {escape(row.status)}</h1>", 409)
    return _page(
        "Luneo test checkout",
        f"""<h1>Test checkout</h1>
<p class=note>Development payment provider — no money moves. Reference {escape(row.reference)}</p>
<table>{rows}<tr><td><b>Total</b></td>
<td class=n><b>{_money(row.amount_total, row.currency)}</b></td></tr></table>
<form method=post action="/checkout/dev/{escape(row.id)}/pay">
<button class=pay type=submit>Pay</button></form>
<form method=post action="/checkout/dev/{escape(row.id)}/fail">
<button class=fail type=submit>Fail</button></form>""",
    )


def _emit(session_id: str, paid: bool) -> Response:
    row = _load(session_id)
    if row is None:
        return _page("Checkout not found", "<h1>Checkout not found</h1>", 404)
    if row.status != "open":
        return _page("Checkout closed", f"<h1>This checkout is {escape(row.status)}</h1>", 409)
    dev = get_provider("dev")
    assert isinstance(dev, DevProvider)
    if paid:
        event = stripe_event("checkout.session.completed", checkout_session_object(row, "paid"))
    else:
        event = stripe_event("checkout.session.async_payment_failed", checkout_session_object(row, "unpaid"))
    headers, body = dev.signed(event)
    try:
        result = service.handle_stripe_webhook(headers, body)
    except SignatureError:
        return _page(
            "Dev checkout disabled",
            "<h1>The dev checkout is disabled</h1><p>Stripe is configured on this server.</p>",
            409,
        )
    if result.status == "failed":
        return _page(
            "Payment not applied",
            f"<h1>The payment could not be applied</h1><p class=note>{escape(result.error or '')}</p>",
            500,
        )
    target = row.success_url if paid else row.cancel_url
    return RedirectResponse(target.replace("{CHECKOUT_SESSION_ID}", row.id), status_code=303)


@router.post("/checkout/dev/{session_id}/pay")
def pay(session_id: str) -> Response:
    """Pay: a signed `checkout.session.completed` through the webhook path, then the success URL."""
    return _emit(session_id, paid=True)


@router.post("/checkout/dev/{session_id}/fail")
def fail(session_id: str) -> Response:
    """Fail: a signed `checkout.session.async_payment_failed`, then the cancel URL."""
    return _emit(session_id, paid=False)
