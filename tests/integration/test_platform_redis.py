"""Idempotency keys and rate limits stored in Redis (production mode), against a real Redis."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import REDIS_URL


@pytest.fixture
def redis_client(settings, monkeypatch):
    if not REDIS_URL:
        pytest.skip("Redis not configured (set LUNEO_TEST_REDIS_URL)")
    from fastapi.testclient import TestClient

    from luneo.app import create_app
    from luneo.platform import config

    monkeypatch.setenv("LUNEO_REDIS_URL", REDIS_URL)
    monkeypatch.setenv("LUNEO_RATE_LIMIT_KEY", "5/minute")
    config.get_settings.cache_clear()
    app = create_app(config.get_settings(), start_workers=False)
    with TestClient(app) as c:
        yield c, app


def test_idempotency_in_redis(redis_client, brand_a):
    from luneo.platform.idempotency import IdempotencyMiddleware, RedisIdempotencyStore

    client, app = redis_client
    stores = [m.kwargs.get("store") for m in app.user_middleware if m.cls is IdempotencyMiddleware]
    assert isinstance(stores[0], RedisIdempotencyStore)
    from tests.integration.factories.catalog import product_body

    h = {**brand_a.h(), "Idempotency-Key": f"redis-key-{uuid.uuid4()}"}
    r1 = client.post("/api/v1/products", json=product_body("RIK-1"), headers=h)
    r2 = client.post("/api/v1/products", json=product_body("RIK-1"), headers=h)
    assert r1.status_code == r2.status_code == 201 and r1.json() == r2.json()
    assert r2.headers.get("idempotent-replayed") == "true"
    r3 = client.post("/api/v1/products", json=product_body("RIK-2"), headers=h)
    assert r3.status_code == 422 and r3.json()["code"] == "idempotency_key_reused"


def test_rate_limit_in_redis(redis_client, brand_b):
    client, _ = redis_client
    codes = [client.get("/api/v1/me", headers=brand_b.h("sk")).status_code for _ in range(6)]
    assert codes[:5] == [200] * 5 and codes[5] == 429
    import redis

    keys = redis.Redis.from_url(REDIS_URL).keys("*LIMITER*")
    assert keys, "the limiter counters live in Redis"
