"""Outgoing webhooks after an operator changed `LUNEO_SECRET_KEY`: an endpoint's stored secret can
no longer be decrypted; rotating it still works (no overlap: there is no old secret to sign with)
and deliveries are signed with the new secret only."""

from __future__ import annotations

import pytest
from pydantic import SecretStr
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from luneo.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.integration.commerce_helpers import priced_product
from tests.integration.webhooks.conftest import create_endpoint, rows, run_webhook_jobs
from tests.integration.webhooks.test_delivery import new_order


def _encrypted_under_another_key(db, endpoint_id: str) -> None:
    """Make the stored secret what it is after a key change: a token of the previous key."""
    from luneo.platform.config import get_settings
    from luneo.platform.tenancy import bind_system
    from luneo.webhooks import signing

    old = get_settings().model_copy(update={"secret_key": SecretStr("the-previous-key-" + "x" * 48)})
    with db.transaction() as s:
        bind_system(s)
        s.get(WebhookEndpoint, endpoint_id).secret_enc = signing.encrypt(old, signing.new_secret())


@pytest.mark.parametrize("overlap", [None, 3600])
def test_rotating_an_unreadable_secret_sets_the_new_one_without_overlap(
    client, db, brand_a, receiver, overlap
):
    pid = priced_product(client, brand_a)
    ep = create_endpoint(client, brand_a, receiver.url)
    _encrypted_under_another_key(db, ep["id"])
    body = None if overlap is None else {"overlap_s": overlap}
    r = client.post(f"/api/v1/webhook-endpoints/{ep['id']}/rotate-secret", json=body, headers=brand_a.h())
    assert r.status_code == 200, r.text
    new = r.json()["secret"]
    assert new.startswith("whsec_") and r.json()["previous_secret_expires_at"] is None
    [row] = rows(db, WebhookEndpoint, id=ep["id"])
    assert row.previous_secret_enc is None and row.previous_secret_expires_at is None
    new_order(client, brand_a, pid)
    assert run_webhook_jobs(db) == ["success"]
    [delivery] = rows(db, WebhookDelivery, endpoint_id=ep["id"])
    assert delivery.status == "succeeded", delivery.error
    got = receiver.requests[-1]
    assert len(got.headers["webhook-signature"].split(" ")) == 1
    assert Webhook(new).verify(got.body, got.headers)["type"] == "order.created"
    with pytest.raises(WebhookVerificationError):
        Webhook(ep["secret"]).verify(got.body, got.headers)


def test_an_unreadable_secret_fails_the_attempt_with_a_clear_error_and_sends_nothing(
    client, db, brand_a, receiver
):
    pid = priced_product(client, brand_a)
    ep = create_endpoint(client, brand_a, receiver.url)
    _encrypted_under_another_key(db, ep["id"])
    new_order(client, brand_a, pid)
    assert run_webhook_jobs(db) == ["success", "not_due"]  # recorded; the next attempt scheduled
    [delivery] = rows(db, WebhookDelivery, endpoint_id=ep["id"])
    assert (delivery.status, delivery.attempt) == ("pending", 1)
    assert "signing secret unreadable" in (delivery.error or "") and receiver.requests == []
