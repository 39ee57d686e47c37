"""Routes: webhook endpoints (secret shown once), secret rotation, the delivery log and replays.

Every route needs `keys:manage` (like API keys: an endpoint's secret is a credential); another
brand's ids answer 404 like missing ones.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from luneo.platform.clock import as_utc
from luneo.platform.config import get_settings
from luneo.platform.deps import KeysManageDep
from luneo.platform.pagination import Page, paginate
from luneo.webhooks import service
from luneo.webhooks.models import WebhookDelivery, WebhookEndpoint
from luneo.webhooks.schemas import (
    DeliveryOut,
    EndpointCreated,
    EndpointIn,
    EndpointOut,
    EndpointPatch,
    ReplayFailedIn,
    ReplayFailedOut,
    RotateIn,
)

router = APIRouter(tags=["webhooks"])


def _no_store(response: Response) -> None:
    response.headers["Cache-Control"] = "no-store"  # a secret: never cached or replayed


@router.post("/webhook-endpoints", response_model=EndpointCreated, status_code=201)
def create_endpoint(body: EndpointIn, response: Response, t: KeysManageDep) -> EndpointCreated:
    """Register an endpoint. The answer carries its signing secret (`whsec_…`) once.

    422 `webhook_url_not_allowed` for a non-https URL (http in development only), credentials in
    the URL or an IP literal that is not public; names are resolved and checked at every delivery."""
    _no_store(response)
    endpoint, secret = service.create_endpoint(
        t.session,
        get_settings(),
        brand_id=t.brand_id,
        url=body.url,
        event_types=list(body.event_types),
        description=body.description,
        enabled=body.enabled,
    )
    return EndpointCreated(**EndpointOut.model_validate(endpoint).model_dump(), secret=secret)


@router.get("/webhook-endpoints", response_model=Page[EndpointOut])
def list_endpoints(t: KeysManageDep, cursor: str | None = None, limit: int = 50) -> Page[EndpointOut]:
    """The brand's endpoints, newest first (never their secrets)."""
    page = paginate(t.session, service.list_endpoints_query(), WebhookEndpoint, cursor, limit)
    return page.map(EndpointOut.model_validate)


@router.get("/webhook-endpoints/{endpoint_id}", response_model=EndpointOut)
def get_endpoint(endpoint_id: str, t: KeysManageDep) -> WebhookEndpoint:
    return service.get_endpoint(t.session, endpoint_id)


@router.patch("/webhook-endpoints/{endpoint_id}", response_model=EndpointOut)
def update_endpoint(endpoint_id: str, body: EndpointPatch, t: KeysManageDep) -> WebhookEndpoint:
    """Change the URL, description, event types or `enabled` (enabling a disabled endpoint
    clears its disabled reason and failure streak)."""
    return service.update_endpoint(
        t.session, get_settings(), endpoint_id, body.model_dump(exclude_unset=True)
    )


@router.delete("/webhook-endpoints/{endpoint_id}", status_code=204)
def delete_endpoint(endpoint_id: str, t: KeysManageDep) -> Response:
    """Delete the endpoint and its delivery log."""
    service.delete_endpoint(t.session, endpoint_id)
    return Response(status_code=204)


@router.post("/webhook-endpoints/{endpoint_id}/rotate-secret", response_model=EndpointCreated)
def rotate_secret(
    endpoint_id: str, response: Response, t: KeysManageDep, body: RotateIn | None = None
) -> EndpointCreated:
    """A new signing secret, shown once. The previous one keeps signing next to it (two
    space-separated `v1,` signatures) for `overlap_s` (default 24 h), then stops."""
    _no_store(response)
    overlap = body.overlap_s if body is not None else service.DEFAULT_OVERLAP_S
    endpoint, secret = service.rotate_secret(t.session, get_settings(), endpoint_id, overlap)
    return EndpointCreated(**EndpointOut.model_validate(endpoint).model_dump(), secret=secret)


@router.get("/webhook-endpoints/{endpoint_id}/deliveries", response_model=Page[DeliveryOut])
def list_deliveries(
    endpoint_id: str,
    t: KeysManageDep,
    status: Annotated[Literal["blocked", "pending", "succeeded", "failed"] | None, Query()] = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[DeliveryOut]:
    """The endpoint's delivery log, newest first: status, attempts, the answer's code and first
    1 KiB, duration, next attempt and the request id carried."""
    service.get_endpoint(t.session, endpoint_id)
    page = paginate(t.session, service.deliveries_query(endpoint_id, status), WebhookDelivery, cursor, limit)
    return page.map(DeliveryOut.model_validate)


@router.post("/webhook-deliveries/{delivery_id}/replay", response_model=DeliveryOut, status_code=202)
def replay_delivery(delivery_id: str, t: KeysManageDep) -> WebhookDelivery:
    """Send the delivery's event again (a new delivery, same `webhook-id`). 409
    `webhook_endpoint_disabled` while the endpoint is disabled."""
    return service.replay_delivery(t.session, delivery_id)


@router.post(
    "/webhook-endpoints/{endpoint_id}/replay-failed", response_model=ReplayFailedOut, status_code=202
)
def replay_failed(endpoint_id: str, body: ReplayFailedIn, t: KeysManageDep) -> ReplayFailedOut:
    """Replay, in event order, every failed delivery to the endpoint created since `since`
    (each failed delivery at most once)."""
    rows = service.replay_failed(t.session, endpoint_id, as_utc(body.since))
    return ReplayFailedOut(replayed=len(rows), data=[DeliveryOut.model_validate(r) for r in rows])


@router.post("/webhook-endpoints/{endpoint_id}/test", response_model=DeliveryOut, status_code=202)
def send_test_event(endpoint_id: str, t: KeysManageDep) -> WebhookDelivery:
    """Send a `webhook.test` event to this endpoint only (signed and retried like any event), to
    check the receiver. 409 `webhook_endpoint_disabled` while the endpoint is disabled."""
    return service.send_test_event(t.session, endpoint_id)
