"""Isolation factories for the outgoing-webhooks routes (endpoints, deliveries)."""

from __future__ import annotations

from typing import Any

from tests.integration.factories import body, factory


def _endpoint(client: Any, brand: Any) -> dict[str, Any]:
    r = client.post(
        "/api/v1/webhook-endpoints",
        json={"url": f"https://hooks.{brand.slug}.example/in", "event_types": ["order.created"]},
        headers=brand.h(),
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


@factory("endpoint_id")
def make_endpoint(client: Any, brand: Any) -> str:
    return str(_endpoint(client, brand)["id"])


@factory("delivery_id")
def make_delivery(client: Any, brand: Any) -> str:
    """A delivery of an `order.created` event (never attempted here: no job runs in this test)."""
    from sqlalchemy import select

    from luneo.commerce import public as commerce
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_tenant
    from luneo.webhooks.models import WebhookDelivery
    from tests.integration.commerce_helpers import priced_product

    endpoint = _endpoint(client, brand)
    pid = priced_product(client, brand, sku=f"WH-{brand.slug}")
    with get_db().transaction() as s:
        bind_tenant(s, brand.id)
        commerce.create_order(
            s, brand.id, [commerce.LineRequest(product_id=pid, quantity=1)], commerce.Customer(email="w@h.co")
        )
        s.flush()
        return str(
            s.execute(
                select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == endpoint["id"])
            ).scalar_one()
        )


@body("PATCH", "/api/v1/webhook-endpoints/{endpoint_id}")
def endpoint_patch(client: Any, brand: Any, ids: dict[str, str]) -> dict[str, Any]:
    return {"enabled": False}


@body("POST", "/api/v1/webhook-endpoints/{endpoint_id}/replay-failed")
def replay_failed(client: Any, brand: Any, ids: dict[str, str]) -> dict[str, Any]:
    return {"since": "2020-01-01T00:00:00Z"}


@body("POST", "/api/v1/webhook-endpoints/{endpoint_id}/rotate-secret")
def rotate(client: Any, brand: Any, ids: dict[str, str]) -> dict[str, Any]:
    return {"overlap_s": 60}
