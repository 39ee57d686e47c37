"""Outgoing webhooks page (issue 17 item 1, issue 14 item 6): the brand's endpoints (URL, event
types, enabled or disabled with the reason, failure streak, last delivery), create one — its
signing secret shown once —, edit, enable/disable, delete, rotate the secret (the new one shown
once, with the end of the overlap), send a `webhook.test` event, and each endpoint's delivery log
with replays (one delivery, or every failed one since a date).

Everything goes through `luneo.webhooks.public`; every page needs `keys:manage` like the API
(an endpoint's secret is a credential). Another brand's ids answer 404.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Form
from fastapi.responses import Response

from luneo.dashboard.forms import Refusal, refusal
from luneo.dashboard.guard import Page, page_dep
from luneo.dashboard.pages import router
from luneo.platform.config import get_settings
from luneo.platform.domain_errors import DomainError
from luneo.platform.errors import Problem
from luneo.platform.pagination import paginate
from luneo.webhooks import public as webhooks

KeysPage = Annotated[Page, page_dep("keys:manage")]
KeysWrite = Annotated[Page, page_dep("keys:manage", write=True)]

BASE = "/dashboard/webhooks"
PAGE_SIZE = 25
#: The event types in groups, as the form shows them (every type of the catalogue, once).
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Orders", tuple(t for t in webhooks.EVENT_TYPES if t.startswith("order."))),
    (
        "Designs and renders",
        tuple(t for t in webhooks.EVENT_TYPES if t.split(".")[0] in ("snapshot", "render", "design")),
    ),
    ("Production", tuple(t for t in webhooks.EVENT_TYPES if t.split(".")[0] in ("work_order", "pack"))),
    ("Credits", tuple(t for t in webhooks.EVENT_TYPES if t.startswith("credits."))),
)
assert sorted(t for _, ts in GROUPS for t in ts) == sorted(webhooks.EVENT_TYPES)
#: Rotation overlaps offered (hours the previous secret keeps signing).
OVERLAP_HOURS = (0, 1, 24, 72, 168)

_NOTICES = {
    "saved": "Endpoint saved.",
    "enabled": "Endpoint enabled: it receives events again.",
    "disabled": "Endpoint disabled: it receives no events until you enable it.",
    "deleted": "Endpoint deleted with its delivery log.",
    "test": "Test event queued: it appears in the delivery log below.",
    "replayed": "Delivery queued again: it appears at the top of the log.",
}


def _form(
    url: str = "", description: str = "", event_types: list[str] | None = None, enabled: bool = True
) -> dict[str, Any]:
    return {"url": url, "description": description, "event_types": event_types or [], "enabled": enabled}


def _field_errors(page: Page, r: Refusal, exc: DomainError) -> dict[str, str]:
    """The service's refusal next to the field it concerns."""
    code = str(exc.code)
    if code == webhooks.WebhooksErrorCode.EVENT_TYPE_UNKNOWN:
        return {"event_types": r.message}
    if code in (webhooks.WebhooksErrorCode.URL_NOT_ALLOWED, webhooks.WebhooksErrorCode.URL_INVALID):
        return {"url": r.message}
    return {"form": r.message}


def _check_form(page: Page, url: str, event_types: list[str]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if len(url.strip()) < 8:
        errors["url"] = page.gettext("Enter the endpoint's URL, e.g. https://example.com/luneo/hooks.")
    if not event_types:
        errors["event_types"] = page.gettext("Choose at least one event type.")
    return errors


def _render_list(page: Page, status_code: int = 200, **extra: Any) -> Response:
    endpoints = list(
        page.session.execute(
            webhooks.list_endpoints_query().order_by(webhooks.WebhookEndpoint.id.desc()).limit(200)
        ).scalars()
    )
    last = webhooks.last_deliveries(page.session, [e.id for e in endpoints])
    ctx: dict[str, Any] = {
        "endpoints": endpoints,
        "last": last,
        "groups": GROUPS,
        "form": _form(),
        "errors": {},
        "created": None,
        "notice": None,
    }
    ctx.update(extra)
    return page.render("webhooks/index.html", status_code=status_code, **ctx)


@router.get("/webhooks")
def webhook_list(page: KeysPage, saved: str | None = None) -> Response:
    """The brand's endpoints and the form to add one."""
    notice = page.gettext(_NOTICES[saved]) if saved in _NOTICES else None
    return _render_list(page, notice=notice)


@router.post("/webhooks")
def create(
    page: KeysWrite,
    url: Annotated[str, Form(max_length=2048)] = "",
    description: Annotated[str, Form(max_length=500)] = "",
    event_types: Annotated[list[str] | None, Form()] = None,
    enabled: Annotated[str | None, Form(max_length=8)] = None,
) -> Response:
    """Register an endpoint; the page answering this form is the only place its secret appears."""
    types = [t for t in (event_types or []) if isinstance(t, str)][:50]
    form = _form(url, description, types, enabled == "on")
    errors = _check_form(page, url, types)
    if errors:
        return _render_list(page, status_code=422, form=form, errors=errors)
    try:
        endpoint, secret = webhooks.create_endpoint(
            page.session,
            get_settings(),
            brand_id=page.brand_id,
            url=url.strip(),
            event_types=types,
            description=description.strip(),
            enabled=enabled == "on",
        )
    except DomainError as exc:
        r = refusal(exc)
        return _render_list(page, status_code=r.status, form=form, errors=_field_errors(page, r, exc))
    return _render_list(page, status_code=201, created={"endpoint": endpoint, "secret": secret})


def _deliveries(page: Page, endpoint_id: str, status: str, cursor: str | None) -> tuple[list[Any], Any]:
    query = webhooks.deliveries_query(endpoint_id, status or None)
    result = paginate(page.session, query, webhooks.WebhookDelivery, cursor, PAGE_SIZE)
    return result.data, result.next_cursor


def _render_detail(
    page: Page,
    endpoint_id: str,
    status_code: int = 200,
    *,
    status: str = "",
    cursor: str | None = None,
    **extra: Any,
) -> Response:
    endpoint = webhooks.get_endpoint(page.session, endpoint_id)
    errors: dict[str, str] = dict(extra.pop("errors", None) or {})
    if status and status not in ("blocked", "pending", "succeeded", "failed"):
        errors["status"] = page.gettext("Unknown status.")
        status = ""
    deliveries: list[Any] = []
    next_url = None
    try:
        deliveries, next_cursor = _deliveries(page, endpoint.id, status, cursor)
    except Problem as exc:  # a cursor this page did not issue
        errors["cursor"] = exc.detail or exc.code
        status_code = 422
    else:
        if next_cursor:
            kept = {"status": status} if status else {}
            next_url = f"{BASE}/{endpoint.id}?" + urlencode({**kept, "cursor": next_cursor}) + "#log"
    ctx: dict[str, Any] = {
        "endpoint": endpoint,
        "groups": GROUPS,
        "form": _form(endpoint.url, endpoint.description, list(endpoint.event_types), endpoint.enabled),
        "errors": errors,
        "deliveries": deliveries,
        "status": status,
        "next_url": next_url,
        "paged": bool(cursor),
        "overlaps": OVERLAP_HOURS,
        "since_default": (datetime.now(UTC) - timedelta(days=3)).date().isoformat(),
        "since_value": None,
        "rotated": None,
        "notice": None,
    }
    ctx.update(extra)
    return page.render("webhooks/detail.html", status_code=status_code, **ctx)


@router.get("/webhooks/{endpoint_id}")
def detail(
    page: KeysPage,
    endpoint_id: str,
    status: str = "",
    cursor: str | None = None,
    saved: str | None = None,
    replayed: int | None = None,
) -> Response:
    """One endpoint: edit it, its secret, a test event and its delivery log with replays."""
    notice = page.gettext(_NOTICES[saved]) if saved in _NOTICES else None
    if replayed is not None:
        notice = page.gettext("%(count)s failed deliveries queued again.", count=max(0, replayed))
    return _render_detail(page, endpoint_id, status=status, cursor=cursor, notice=notice)


@router.post("/webhooks/{endpoint_id}")
def update(
    page: KeysWrite,
    endpoint_id: str,
    url: Annotated[str, Form(max_length=2048)] = "",
    description: Annotated[str, Form(max_length=500)] = "",
    event_types: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Change the URL, description or event types."""
    webhooks.get_endpoint(page.session, endpoint_id)
    types = [t for t in (event_types or []) if isinstance(t, str)][:50]
    form = _form(url, description, types)
    errors = _check_form(page, url, types)
    if not errors:
        try:
            webhooks.update_endpoint(
                page.session,
                get_settings(),
                endpoint_id,
                {"url": url.strip(), "description": description.strip(), "event_types": types},
            )
        except DomainError as exc:
            r = refusal(exc, (409, 422))
            errors = _field_errors(page, r, exc)
        else:
            return page.redirect(f"{BASE}/{endpoint_id}?saved=saved")
    form["enabled"] = webhooks.get_endpoint(page.session, endpoint_id).enabled
    return _render_detail(page, endpoint_id, 422, form=form, errors=errors)


@router.post("/webhooks/{endpoint_id}/enabled")
def set_enabled(page: KeysWrite, endpoint_id: str, enabled: Annotated[str, Form(max_length=8)]) -> Response:
    """Enable (clears the disabled reason and the failure streak) or disable the endpoint."""
    on = enabled == "true"
    webhooks.update_endpoint(page.session, get_settings(), endpoint_id, {"enabled": on})
    return page.redirect(f"{BASE}/{endpoint_id}?saved={'enabled' if on else 'disabled'}")


@router.get("/webhooks/{endpoint_id}/delete")
def confirm_delete(page: KeysPage, endpoint_id: str) -> Response:
    """Ask before deleting an endpoint and its delivery log."""
    return page.render("webhooks/delete.html", endpoint=webhooks.get_endpoint(page.session, endpoint_id))


@router.post("/webhooks/{endpoint_id}/delete")
def delete(page: KeysWrite, endpoint_id: str) -> Response:
    """Delete the endpoint and its delivery log (the events stay)."""
    webhooks.delete_endpoint(page.session, endpoint_id)
    return page.redirect(f"{BASE}?saved=deleted")


@router.post("/webhooks/{endpoint_id}/rotate")
def rotate(
    page: KeysWrite, endpoint_id: str, overlap_hours: Annotated[int, Form(ge=0, le=168)] = 24
) -> Response:
    """A new signing secret, shown once on the answer; the previous one keeps signing next to it
    until the end of the overlap."""
    hours = overlap_hours if overlap_hours in OVERLAP_HOURS else 24
    endpoint, secret = webhooks.rotate_secret(page.session, get_settings(), endpoint_id, hours * 3600)
    return _render_detail(
        page,
        endpoint_id,
        rotated={"secret": secret, "until": endpoint.previous_secret_expires_at},
    )


@router.post("/webhooks/{endpoint_id}/test")
def send_test(page: KeysWrite, endpoint_id: str) -> Response:
    """Queue a `webhook.test` event to this endpoint (a 409 page while it is disabled)."""
    try:
        webhooks.send_test_event(page.session, endpoint_id)
    except DomainError as exc:
        r = refusal(exc, (409,))
        return _render_detail(page, endpoint_id, r.status, errors={"actions": r.message})
    return page.redirect(f"{BASE}/{endpoint_id}?saved=test#log")


@router.post("/webhooks/deliveries/{delivery_id}/replay")
def replay(page: KeysWrite, delivery_id: str) -> Response:
    """Send a delivery's event again (a new delivery, same `webhook-id`)."""
    delivery = webhooks.get_delivery(page.session, delivery_id)
    try:
        webhooks.replay_delivery(page.session, delivery_id)
    except DomainError as exc:
        r = refusal(exc, (409,))
        return _render_detail(page, delivery.endpoint_id, r.status, errors={"log": r.message})
    return page.redirect(f"{BASE}/{delivery.endpoint_id}?saved=replayed#log")


@router.post("/webhooks/{endpoint_id}/replay-failed")
def replay_failed(
    page: KeysWrite, endpoint_id: str, since: Annotated[str, Form(max_length=10)] = ""
) -> Response:
    """Replay every failed delivery created since the date (00:00 UTC), in event order."""
    webhooks.get_endpoint(page.session, endpoint_id)
    try:
        day = date.fromisoformat(since)
    except ValueError:
        error = page.gettext("Use a date like 2026-01-31.")
        return _render_detail(page, endpoint_id, 422, errors={"since": error}, since_value=since)
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    try:
        rows = webhooks.replay_failed(page.session, endpoint_id, start)
    except DomainError as exc:
        r = refusal(exc, (409,))
        return _render_detail(page, endpoint_id, r.status, errors={"since": r.message}, since_value=since)
    return page.redirect(f"{BASE}/{endpoint_id}?replayed={len(rows)}#log")
