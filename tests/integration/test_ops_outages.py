"""Issue 12 §5–6: outages answer 503 problems and recover alone; a crashed request's
idempotency key is not locked for its whole TTL."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import REDIS_URL, BrandCtx
from tests.integration.factories.catalog import product_body

DOWN_PG = "postgresql://postgres@127.0.0.1:1/x"
DOWN_REDIS = "redis://127.0.0.1:1/0"


def assert_unavailable(r: Any) -> None:
    assert r.status_code == 503, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "service_unavailable"
    assert int(r.headers["retry-after"]) > 0


def _client(settings: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from luneo.app import create_app

    with TestClient(create_app(settings, start_workers=False), raise_server_exceptions=False) as c:
        yield c


# --- PostgreSQL / the database down -------------------------------------------------------


@pytest.fixture
def db_down(settings: Any, brand_a: BrandCtx) -> Iterator[Any]:
    """The app, with every database connection refused (brand_a created before the outage)."""
    from luneo.platform import database
    from luneo.platform.auth import clear_auth_caches

    gen = _client(settings)
    client = next(gen)
    down = database.Database(settings.model_copy(update={"database_url": DOWN_PG}))
    up = database.get_db()
    database.set_db(down)
    clear_auth_caches()
    try:
        yield client
    finally:
        database.set_db(up)
        down.dispose()
        gen.close()


def test_database_down_answers_503_problems(db_down: Any, brand_a: BrandCtx) -> None:
    c = db_down
    assert_unavailable(c.get("/api/v1/products", headers=brand_a.h("sk")))
    assert_unavailable(c.get("/api/v1/products", headers=brand_a.h()))
    assert_unavailable(
        c.post("/api/v1/auth/login", json={"email": brand_a.owner_email, "password": brand_a.password})
    )
    # the idempotency middleware touches the database before the route
    assert_unavailable(
        c.post(
            "/api/v1/products",
            json=product_body("DOWN-1"),
            headers={**brand_a.h("sk"), "Idempotency-Key": "down-1"},
        )
    )
    ready = c.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"]["ok"] is False
    assert c.get("/healthz").status_code == 200


def test_database_errors_map_to_503_in_the_handlers(
    settings: Any, brand_a: BrandCtx, monkeypatch: Any
) -> None:
    """A driver failure raised inside a route (not at connect) is a 503 too."""
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

    gen = _client(settings)
    c = next(gen)
    try:
        assert c.get("/api/v1/products", headers=brand_a.h("sk")).status_code == 200

        def boom(*_a: Any, **_k: Any) -> Any:
            raise OperationalError("select 1", {}, Exception("server closed the connection unexpectedly"))

        monkeypatch.setattr(Session, "execute", boom)
        monkeypatch.setattr(Session, "scalars", boom)
        monkeypatch.setattr(Session, "scalar", boom)
        monkeypatch.setattr(Session, "get", boom)
        assert_unavailable(c.get("/api/v1/products", headers=brand_a.h()))
    finally:
        gen.close()


# --- Redis down ---------------------------------------------------------------------------


@pytest.fixture
def redis_down(settings: Any, brand_a: BrandCtx, monkeypatch: Any) -> Iterator[Any]:
    from luneo.platform import config

    monkeypatch.setenv("LUNEO_REDIS_URL", DOWN_REDIS)
    config.get_settings.cache_clear()
    yield from _client(config.get_settings())


class Recorder:
    def __init__(self) -> None:
        self.events: list[str] = []

    def __getattr__(self, level: str) -> Any:
        return lambda event, **_kw: self.events.append(event)


def test_redis_down_routes_without_redis_keep_working(
    redis_down: Any, brand_a: BrandCtx, monkeypatch: Any
) -> None:
    from luneo.platform import ratelimit

    recorder = Recorder()
    monkeypatch.setattr(ratelimit, "log", recorder)
    c = redis_down
    for _ in range(5):
        r = c.get("/api/v1/products", headers=brand_a.h("sk"))
        assert r.status_code == 200, r.text
    fallbacks = [e for e in recorder.events if e == "rate_limit_storage_unavailable"]
    assert len(fallbacks) == 1, "the fallback is logged once per period, not per request"


def test_redis_down_idempotent_mutation_answers_503(redis_down: Any, brand_a: BrandCtx) -> None:
    r = redis_down.post(
        "/api/v1/products",
        json=product_body("RDOWN-1"),
        headers={**brand_a.h("sk"), "Idempotency-Key": "redis-down-1"},
    )
    assert_unavailable(r)


def test_readyz_reports_redis_down(redis_down: Any) -> None:
    r = redis_down.get("/readyz")
    assert r.status_code == 503
    checks = r.json()["checks"]
    assert checks["redis"]["ok"] is False and checks["database"]["ok"] is True
    assert checks["storage"]["ok"] is True


def test_readyz_reports_a_missing_s3_bucket(settings: Any, monkeypatch: Any) -> None:
    from moto.server import ThreadedMotoServer

    from luneo.platform import config, storage

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    try:
        host, port = server.get_host_and_port()
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        bucket = f"missing-{uuid.uuid4().hex[:12]}"  # moto's state is per process, not per server
        monkeypatch.setenv("LUNEO_STORAGE_URL", f"s3://{bucket}/luneo")
        monkeypatch.setenv("LUNEO_S3_ENDPOINT_URL", f"http://{host}:{port}")
        config.get_settings.cache_clear()
        monkeypatch.setattr(storage, "_storage", None)
        gen = _client(config.get_settings())
        c = next(gen)
        try:
            r = c.get("/readyz")
            assert r.status_code == 503, r.text
            assert r.json()["checks"]["storage"]["ok"] is False
            import boto3

            boto3.client("s3", endpoint_url=f"http://{host}:{port}").create_bucket(Bucket=bucket)
            r = c.get("/readyz")
            assert r.status_code == 200, r.text
        finally:
            gen.close()
    finally:
        server.stop()


# --- idempotency after a crash ------------------------------------------------------------


class Clock:
    """Advances `utcnow` as seen by the idempotency stores."""

    def __init__(self, monkeypatch: Any) -> None:
        from luneo.platform import clock, idempotency

        self.offset = timedelta()
        real = clock.utcnow
        monkeypatch.setattr(idempotency, "utcnow", lambda: real() + self.offset)

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


def _stores(settings: Any) -> list[Any]:
    from luneo.platform.database import get_db
    from luneo.platform.idempotency import DatabaseIdempotencyStore, RedisIdempotencyStore

    out: list[Any] = [DatabaseIdempotencyStore(get_db(), settings.idempotency_ttl_s, lock_timeout_s=60)]
    if REDIS_URL:
        out.append(RedisIdempotencyStore(REDIS_URL, settings.idempotency_ttl_s, lock_timeout_s=60))
    return out


def test_stale_in_flight_key_is_taken_over_after_the_lock_timeout(settings: Any, monkeypatch: Any) -> None:
    clock = Clock(monkeypatch)
    for store in _stores(settings):
        scope, key = "cred:test", f"crash-{uuid.uuid4()}"
        assert store.begin(scope, key, "POST", "/api/v1/x", "h1")[0] == "new"
        # the first request's process died here: no finish, no abandon
        assert store.begin(scope, key, "POST", "/api/v1/x", "h1")[0] == "in_flight"
        clock.advance(30)
        assert store.begin(scope, key, "POST", "/api/v1/x", "h1")[0] == "in_flight"
        assert store.begin(scope, key, "POST", "/api/v1/x", "other")[0] == "mismatch"
        clock.advance(31)
        assert store.begin(scope, key, "POST", "/api/v1/x", "h1")[0] == "new", type(store).__name__
        # the retry holds the lock now: a concurrent duplicate still sees it in flight
        assert store.begin(scope, key, "POST", "/api/v1/x", "h1")[0] == "in_flight"
        store.finish(scope, key, {"status": 201, "headers": [], "body_b64": "e30="})
        clock.advance(3600)  # a stored result is replayed, never re-run, however old
        outcome, stored = store.begin(scope, key, "POST", "/api/v1/x", "h1")
        assert outcome == "replay" and stored is not None and stored["status"] == 201


def test_crashed_request_key_can_be_retried_over_http(
    client: Any, brand_a: BrandCtx, monkeypatch: Any
) -> None:
    """The record a dead process left behind answers 409 until the lock timeout, then the
    retry runs (and is stored, so a further retry replays it)."""
    from sqlalchemy import select

    from luneo.platform.database import get_db
    from luneo.platform.models import IdempotencyRecord

    clock = Clock(monkeypatch)
    # learn this credential's idempotency scope from a first, completed request
    h = {**brand_a.h("sk"), "Idempotency-Key": "warmup", "Content-Type": "application/json"}
    assert (
        client.post("/api/v1/products", content=json.dumps(product_body("CR-0")), headers=h).status_code
        == 201
    )
    with get_db().transaction() as s:
        scope = s.execute(
            select(IdempotencyRecord.scope).where(IdempotencyRecord.key == "warmup")
        ).scalar_one()

    body = json.dumps(product_body("CR-1")).encode()
    path = "/api/v1/products"
    digest = hashlib.sha256(b"\x00".join([b"POST", path.encode(), b"", body])).hexdigest()
    from luneo.platform.idempotency import DatabaseIdempotencyStore

    store = DatabaseIdempotencyStore(get_db(), 86400, lock_timeout_s=60)
    assert store.begin(scope, "crashed", "POST", path, digest)[0] == "new"  # then the process died

    h = {**brand_a.h("sk"), "Idempotency-Key": "crashed", "Content-Type": "application/json"}
    r = client.post(path, content=body, headers=h)
    assert r.status_code == 409 and r.json()["code"] == "idempotency_key_in_flight"
    clock.advance(61)
    r = client.post(path, content=body, headers=h)
    assert r.status_code == 201, r.text
    again = client.post(path, content=body, headers=h)
    assert again.status_code == 201 and again.headers.get("idempotent-replayed") == "true"
    assert again.json() == r.json()


# --- a real API process killed mid-request (SIGKILL) ---------------------------------------

# The API process under test: the real app, with the idempotency store's `begin` slowed once it
# has taken a key (so the request is in flight when the test kills the process).
_LAUNCHER = """
import os, pathlib, sys, time
import uvicorn
from luneo.platform import idempotency

marker = os.environ.get("OPS_TEST_LOCKED_MARKER")
if marker:
    original = idempotency.DatabaseIdempotencyStore.begin

    def slow_begin(self, *args):
        outcome = original(self, *args)
        if outcome[0] == "new" and args[1] == "killed-mid-request":
            pathlib.Path(marker).write_text("locked")
            time.sleep(120)
        return outcome

    idempotency.DatabaseIdempotencyStore.begin = slow_begin

from luneo.app import create_app
uvicorn.run(create_app(start_workers=False), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(env: dict[str, str]) -> tuple[Any, str]:
    import subprocess
    import sys
    import time

    import httpx

    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-c", _LAUNCHER, str(port)], env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
        assert proc.poll() is None, "the API process exited"
    proc.kill()
    raise AssertionError("the API process did not start")


def test_api_killed_mid_request_key_recovers_after_lock_timeout(
    settings: Any, brand_a: BrandCtx, tmp_path: Any
) -> None:
    import os
    import signal
    import threading
    import time

    import httpx

    env = {
        k: v for k, v in os.environ.items() if k.startswith(("LUNEO_", "PATH", "HOME", "PYTHON", "VIRTUAL"))
    }
    env.pop("LUNEO_TEST_REDIS_URL", None)
    env.update(LUNEO_RUN_WORKER_IN_PROCESS="false", LUNEO_IDEMPOTENCY_LOCK_TIMEOUT_S="3")
    marker = tmp_path / "locked"
    body = json.dumps(product_body("KILL-1"))
    h = {**brand_a.h("sk"), "Idempotency-Key": "killed-mid-request", "Content-Type": "application/json"}

    first, base = _serve({**env, "OPS_TEST_LOCKED_MARKER": str(marker)})
    outcome: dict[str, Any] = {}

    def send_first() -> None:
        try:
            outcome["status"] = httpx.post(
                base + "/api/v1/products", content=body, headers=h, timeout=60
            ).status_code
        except httpx.HTTPError as exc:
            outcome["error"] = type(exc).__name__

    t = threading.Thread(target=send_first)
    t.start()
    try:
        deadline = time.monotonic() + 30
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert marker.exists(), "the first request never took the key"
        os.kill(first.pid, signal.SIGKILL)  # the API process dies mid-request
        first.wait(10)
        t.join(30)
        assert "error" in outcome, outcome  # the client saw the connection drop
    finally:
        if first.poll() is None:
            first.kill()

    second, base = _serve(env)
    try:
        r = httpx.post(base + "/api/v1/products", content=body, headers=h, timeout=30)
        if r.status_code == 409:  # still within the lock timeout
            assert r.json()["code"] == "idempotency_key_in_flight"
            time.sleep(3.5)
            r = httpx.post(base + "/api/v1/products", content=body, headers=h, timeout=30)
        assert r.status_code == 201, r.text
        again = httpx.post(base + "/api/v1/products", content=body, headers=h, timeout=30)
        assert again.status_code == 201 and again.headers.get("idempotent-replayed") == "true"
        assert again.json()["id"] == r.json()["id"]
        listed = httpx.get(base + "/api/v1/products", headers=brand_a.h("sk"), timeout=30).json()
        items = listed["data"]
        assert [p["sku"] for p in items if p.get("sku") == "KILL-1"] == ["KILL-1"]  # created once
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(10)
        except Exception:
            second.kill()
