"""The request pipeline: request ids, problem responses, limits, idempotency, CORS, health."""

from __future__ import annotations

import threading
import time

import pytest


def test_request_id_generated_or_echoed(client):
    r = client.get("/healthz")
    assert r.headers["x-request-id"].startswith("req_")
    r = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"


def test_errors_are_problem_json(client, brand_a):
    r = client.get("/api/v1/nope")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == "not_found" and body["status"] == 404 and "request_id" in body
    # Malformed JSON → 400, unknown fields and wrong types → 422 with field errors.
    r = client.post(
        "/api/v1/api-keys", content=b"{not json", headers={**brand_a.h(), "Content-Type": "application/json"}
    )
    assert r.status_code == 400 and r.json()["code"] == "malformed_json"
    r = client.post("/api/v1/api-keys", json={"kind": "secret", "evil": 1}, headers=brand_a.h())
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    assert any(e["field"] == "evil" for e in r.json()["errors"])
    r = client.post("/api/v1/api-keys", json={"kind": 42}, headers=brand_a.h())
    assert r.status_code == 422
    r = client.patch("/api/v1/brand", json={"name": ""}, headers=brand_a.h())
    assert r.status_code == 422


def test_body_size_limit(client, brand_a, settings):
    big = b"{" + b" " * (settings.max_json_body_bytes + 10) + b"}"
    r = client.post(
        "/api/v1/api-keys", content=big, headers={**brand_a.h(), "Content-Type": "application/json"}
    )
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"


def _keys(client, brand):
    return [k["id"] for k in client.get("/api/v1/api-keys", headers=brand.h()).json()["data"]]


def _products(client, brand):
    return [p["id"] for p in client.get("/api/v1/products", headers=brand.h()).json()["data"]]


def test_idempotency_replay_mismatch_and_scope(client, brand_a, brand_b):
    from tests.integration.factories.catalog import product_body

    before = len(_products(client, brand_a))
    h = {**brand_a.h(), "Idempotency-Key": "k-1"}
    r1 = client.post("/api/v1/products", json=product_body("IK-1"), headers=h)
    r2 = client.post("/api/v1/products", json=product_body("IK-1"), headers=h)
    assert r1.status_code == r2.status_code == 201
    assert r1.json() == r2.json() and r2.headers.get("idempotent-replayed") == "true"
    assert len(_products(client, brand_a)) == before + 1
    r3 = client.post("/api/v1/products", json=product_body("IK-2"), headers=h)
    assert r3.status_code == 422 and r3.json()["code"] == "idempotency_key_reused"
    # Another credential may use the same key string independently.
    r4 = client.post(
        "/api/v1/products", json=product_body("IK-1"), headers={**brand_b.h(), "Idempotency-Key": "k-1"}
    )
    assert r4.status_code == 201 and r4.json()["id"] != r1.json()["id"]


def test_idempotency_in_flight_conflict(settings, db):
    from luneo.platform.idempotency import DatabaseIdempotencyStore

    store = DatabaseIdempotencyStore(db, 3600)
    assert store.begin("s", "k", "POST", "/api/v1/x", "h1")[0] == "new"
    assert store.begin("s", "k", "POST", "/api/v1/x", "h1")[0] == "in_flight"
    assert store.begin("s", "k", "POST", "/api/v1/x", "h2")[0] == "mismatch"
    store.finish(
        "s", "k", {"status": 201, "headers": [["content-type", "application/json"]], "body_b64": "e30="}
    )
    outcome, stored = store.begin("s", "k", "POST", "/api/v1/x", "h1")
    assert outcome == "replay" and stored["status"] == 201
    store.abandon("s", "k")
    assert store.begin("s", "k", "POST", "/api/v1/x", "h1")[0] == "new"


def test_idempotency_concurrent_same_key_runs_once(client, brand_a):
    before = len(_keys(client, brand_a))
    results = []

    def go():
        results.append(
            client.post(
                "/api/v1/api-keys",
                json={"kind": "secret", "name": "c"},
                headers={**brand_a.h(), "Idempotency-Key": "conc"},
            ).status_code
        )

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(results) <= {201, 409}
    assert len(_keys(client, brand_a)) == before + 1


def test_rate_limit_answers_429_with_retry_after(settings, monkeypatch, brand_a):
    from fastapi.testclient import TestClient

    from luneo.app import create_app
    from luneo.platform import config

    monkeypatch.setenv("LUNEO_RATE_LIMIT_KEY", "3/minute")
    monkeypatch.setenv("LUNEO_RATE_LIMIT_IP", "2/minute")
    config.get_settings.cache_clear()
    app = create_app(config.get_settings(), start_workers=False)
    with TestClient(app, client=("192.0.2.1", 1)) as c:  # the per-IP limit counts every request
        anon = [c.get("/api/v1/me").status_code for _ in range(3)]
        assert anon == [401, 401, 429]
        assert c.get("/healthz").status_code == 200  # health is never limited
    monkeypatch.setenv("LUNEO_RATE_LIMIT_IP", "1000/minute")
    config.get_settings.cache_clear()
    with TestClient(create_app(config.get_settings(), start_workers=False)) as c:
        codes = [c.get("/api/v1/me", headers=brand_a.h("sk")).status_code for _ in range(4)]
        assert codes[:3] == [200, 200, 200] and codes[3] == 429
        r = c.get("/api/v1/me", headers=brand_a.h("sk"))
        assert r.json()["code"] == "rate_limited" and int(r.headers["retry-after"]) >= 1


def test_cors_for_allowed_origins_only(client, brand_a):
    pre = client.options(
        "/api/v1/me",
        headers={
            "Origin": brand_a.origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert pre.status_code == 204 and pre.headers["access-control-allow-origin"] == brand_a.origin
    r = client.get("/api/v1/me", headers=brand_a.h("pk"))
    assert r.headers["access-control-allow-origin"] == brand_a.origin
    evil = client.options(
        "/api/v1/me", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in evil.headers


def test_health_ready_metrics(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["database"]["ok"] is True
    client.get("/api/v1/me")
    metrics = client.get("/metrics").text
    assert "luneo_http_request_duration_seconds_bucket" in metrics and 'route="/api/v1/me"' in metrics


def test_openapi_served(client):
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/auth/login" in spec["paths"]
    assert client.get("/docs").status_code == 200


@pytest.mark.parametrize(
    "header", ["Bearer", "Basic abc", "Bearer sk_live_unknown", "Bearer pk_live_unknown"]
)
def test_bad_credentials_are_401(client, header):
    r = client.get("/api/v1/brand", headers={"Authorization": header})
    assert r.status_code == 401 and r.json()["code"] in ("unauthorized", "invalid_api_key")


def test_last_used_at_recorded(client, brand_a, db):
    from sqlalchemy import select

    from luneo.platform.tenancy import bind_system
    from luneo.tenancy.models import ApiKey

    client.get("/api/v1/me", headers=brand_a.h("sk"))
    deadline = time.time() + 5
    while time.time() < deadline:
        with db.transaction(write=False) as s:
            bind_system(s)
            used = (
                s.execute(
                    select(ApiKey.last_used_at).where(ApiKey.brand_id == brand_a.id, ApiKey.kind == "secret")
                )
                .scalars()
                .all()
            )
        if any(used):
            break
        time.sleep(0.05)
    assert any(used)


def test_expired_idempotency_keys_are_purged_by_cleanup(settings, db):
    from datetime import timedelta

    import sqlalchemy as sa

    from luneo.platform import jobs
    from luneo.platform.clock import utcnow
    from luneo.platform.idempotency import DatabaseIdempotencyStore
    from luneo.platform.models import IdempotencyRecord

    store = DatabaseIdempotencyStore(db, 3600)
    store.begin("s", "old", "POST", "/api/v1/x", "h")
    store.begin("s", "fresh", "POST", "/api/v1/x", "h")
    with db.transaction() as s:
        s.execute(
            sa.update(IdempotencyRecord)
            .where(IdempotencyRecord.key == "old")
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
    job = None
    with db.transaction() as s:
        from luneo.platform.tenancy import bind_system

        bind_system(s)
        job = jobs.enqueue(s, "cleanup", "test-cleanup-idem")
    assert jobs.execute(db, job.id, worker_id="t", watchdog=False) == "success"
    with db.transaction(write=False) as s:
        keys = set(s.execute(sa.select(IdempotencyRecord.key)).scalars())
    assert keys == {"fresh"}


def test_values_the_database_cannot_store_are_422_not_500(app):
    """The mechanism behind every route: an out-of-range value is bad input."""
    from fastapi.testclient import TestClient

    @app.get("/api/v1/_test/overflow")
    def overflow() -> None:
        raise OverflowError("Python int too large to convert to SQLite INTEGER")

    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/api/v1/_test/overflow")
    assert r.status_code == 422 and r.json()["code"] == "value_out_of_range"
