"""`POST /webhook-endpoints/{id}/test`: a signed `webhook.test` event to that endpoint only, 409
while it is disabled, 404 for another brand's endpoint."""

from __future__ import annotations

from typing import Any

from standardwebhooks.webhooks import Webhook

from .conftest import create_endpoint, run_webhook_jobs


def test_a_test_event_reaches_only_that_endpoint_signed(
    client: Any, db: Any, brand_a: Any, brand_b: Any, receiver: Any, other_receiver: Any
) -> None:
    ours = create_endpoint(client, brand_a, receiver.url, ["order.paid"])
    create_endpoint(client, brand_a, other_receiver.url, ["order.paid"])
    r = client.post(f"/api/v1/webhook-endpoints/{ours['id']}/test", headers=brand_a.h())
    assert r.status_code == 202, r.text
    assert r.json()["event_type"] == "webhook.test" and r.json()["endpoint_id"] == ours["id"]
    run_webhook_jobs(db)
    (got,) = receiver.requests
    body = Webhook(ours["secret"]).verify(got.body, got.headers)
    assert body["type"] == "webhook.test" and body["data"]["endpoint_id"] == ours["id"]
    assert other_receiver.requests == []
    assert client.post(f"/api/v1/webhook-endpoints/{ours['id']}/test", headers=brand_b.h()).status_code == 404
    client.patch(f"/api/v1/webhook-endpoints/{ours['id']}", json={"enabled": False}, headers=brand_a.h())
    off = client.post(f"/api/v1/webhook-endpoints/{ours['id']}/test", headers=brand_a.h())
    assert off.status_code == 409 and off.json()["code"] == "webhook_endpoint_disabled"
