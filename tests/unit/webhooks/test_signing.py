"""Signing secrets and Standard Webhooks signatures (checked with the official verifier)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from luneo.platform.config import Settings
from luneo.webhooks import signing
from luneo.webhooks.events import EVENT_TYPES
from luneo.webhooks.service import MAX_ATTEMPTS, SCHEDULE_S


def test_secret_format_and_size():
    s = signing.new_secret()
    assert s.startswith("whsec_") and len(base64.b64decode(s[6:])) == 32
    assert len(base64.b64decode(signing.new_secret(64)[6:])) == 64
    for bad in (23, 65):
        with pytest.raises(ValueError):
            signing.new_secret(bad)
    assert signing.new_secret() != signing.new_secret()


def test_secrets_are_encrypted_at_rest():
    settings = Settings(secret_key="k" * 48)
    secret = signing.new_secret()
    stored = signing.encrypt(settings, secret)
    assert secret not in stored and secret[6:] not in stored
    assert signing.decrypt(settings, stored) == secret
    with pytest.raises(ValueError):
        signing.decrypt(Settings(secret_key="z" * 48), stored)


def test_two_secrets_sign_space_separated_and_each_verifies():
    old, new = signing.new_secret(), signing.new_secret()
    now = datetime.now(UTC)
    body = '{"type":"order.paid","id":"evt_1","timestamp":"x","data":{},"version":1}'
    headers = signing.signed_headers([new, old], "evt_1", now, body)
    sigs = headers["webhook-signature"].split(" ")
    assert len(sigs) == 2 and all(s.startswith("v1,") for s in sigs)
    assert headers["webhook-timestamp"] == str(int(now.timestamp()))
    assert Webhook(new).verify(body, headers)["type"] == "order.paid"
    assert Webhook(old).verify(body, headers)["type"] == "order.paid"
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new).verify(body.replace("paid", "free"), headers)


def test_the_standard_webhooks_schedule():
    assert SCHEDULE_S == (0, 5, 300, 1800, 7200, 18000, 36000, 36000) and MAX_ATTEMPTS == 8
    assert sum(SCHEDULE_S) == 27 * 3600 + 35 * 60 + 5  # the last attempt ~27.6 h after the first
    assert len(EVENT_TYPES) == 13 and len(set(EVENT_TYPES)) == 13
