"""Which responses the idempotency store may keep: never one carrying a secret."""

from __future__ import annotations

import json

from luneo.platform.idempotency import storable
from luneo.platform.security import new_api_key


def test_no_store_responses_are_not_kept():
    assert not storable([("Cache-Control", "private, no-store")], b"{}")
    assert storable([("Cache-Control", "private, max-age=60")], b"{}")


def test_bodies_with_a_whole_key_or_signing_secret_are_not_kept():
    for kind in ("secret", "publishable"):
        raw = new_api_key(kind)
        assert not storable([], json.dumps({"id": "key_1", "key": raw}).encode())
        # The short display prefix listed with every key is not a secret.
        assert storable([], json.dumps({"id": "key_1", "prefix": raw[:12]}).encode())
    assert not storable([], json.dumps({"secret": "whsec_" + "a" * 32}).encode())
    assert storable([], json.dumps({"id": "prd_1", "name": "mug"}).encode())
