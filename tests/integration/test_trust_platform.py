"""Issue 11 (platform): production start-up check, token type/expiry/revocation, rate limits
that hold, an idempotency store without secrets, per-brand CORS, /metrics token, signed cursors."""

from __future__ import annotations

import os
import time
import uuid

import jwt
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.conftest import REDIS_URL
from tests.integration.factories.catalog import product_body

STRONG = "s" * 48


def _app(monkeypatch, **env):
    from luneo.app import create_app
    from luneo.platform import config

    for k, v in env.items():
        monkeypatch.setenv(k, v)
    config.get_settings.cache_clear()
    return create_app(config.get_settings(), start_workers=False)


def _login(client, brand):
    r = client.post("/api/v1/auth/login", json={"email": brand.owner_email, "password": brand.password})
    assert r.status_code == 200, r.text
    return r.json()


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


# --- 3. production refuses public defaults; tokens carry typ, bounded exp, revocable sid ---------


def test_create_app_refuses_production_with_default_secret(settings, monkeypatch):
    from luneo.platform.config import InsecureConfiguration

    monkeypatch.setenv("LUNEO_ENV", "production")
    with pytest.raises(InsecureConfiguration) as exc:
        _app(monkeypatch)
    assert "LUNEO_SECRET_KEY" in str(exc.value)


def test_create_app_starts_in_production_when_configured(settings, monkeypatch):
    app = _app(
        monkeypatch,
        LUNEO_ENV="production",
        LUNEO_SECRET_KEY=STRONG,
        LUNEO_STRIPE_SECRET_KEY="sk_test_123",
        LUNEO_STRIPE_WEBHOOK_SECRET="whsec_stripe_real",
        LUNEO_PUBLIC_BASE_URL="https://api.brand.example",
    )
    with TestClient(app) as c:
        assert c.get("/healthz").status_code == 200


def _cli(monkeypatch, args, **env):
    from typer.testing import CliRunner

    from luneo import cli
    from luneo.platform import config

    monkeypatch.setenv("LUNEO_PUBLIC_BASE_URL", env.pop("LUNEO_PUBLIC_BASE_URL", "http://127.0.0.1:8000"))
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    config.get_settings.cache_clear()
    started = []
    monkeypatch.setattr("uvicorn.run", lambda *a, **kw: started.append(kw))
    monkeypatch.setattr("luneo.worker.run_worker", lambda **kw: started.append(kw))
    result = CliRunner().invoke(cli.app, args)
    return result, started


def test_cli_serve_and_worker_refuse_unsafe_production(settings, monkeypatch):
    for args in (["serve", "--no-migrate", "--no-seed"], ["worker"]):
        result, started = _cli(monkeypatch, args, LUNEO_ENV="production")
        assert result.exit_code != 0 and not started
        assert "LUNEO_SECRET_KEY" in result.output


def test_cli_serve_refuses_demo_seeding_in_production(settings, monkeypatch):
    good = {
        "LUNEO_ENV": "production",
        "LUNEO_SECRET_KEY": STRONG,
        "LUNEO_STRIPE_SECRET_KEY": "sk_test_123",
        "LUNEO_STRIPE_WEBHOOK_SECRET": "whsec_stripe_real",
        "LUNEO_PUBLIC_BASE_URL": "https://api.brand.example",
    }
    result, started = _cli(monkeypatch, ["serve", "--no-migrate", "--seed"], **good)
    assert result.exit_code != 0 and not started and "--no-seed" in result.output
    result, started = _cli(monkeypatch, ["seed", "demo"], **good)
    assert result.exit_code != 0 and "demo" in result.output
    # Production serves without seeding (nor migrating) by default.
    result, started = _cli(monkeypatch, ["serve"], **good)
    assert result.exit_code == 0, result.output
    assert started and started[0]["proxy_headers"] is False  # forwarded headers: LUNEO_TRUSTED_PROXIES


def test_cli_serve_never_trusts_uvicorn_forwarded_headers(settings, monkeypatch):
    result, started = _cli(monkeypatch, ["serve", "--no-migrate", "--no-seed"])
    assert result.exit_code == 0, result.output
    assert started[0]["proxy_headers"] is False


def _forge(settings, brand, **claims):
    now = int(time.time())
    base = {
        "sub": brand.owner_id,
        "brand": brand.id,
        "iat": now,
        "exp": now + 300,
        "iss": "luneo",
        "aud": "luneo-api",
        "typ": "access",
    }
    base.update(claims)
    return jwt.encode(
        {k: v for k, v in base.items() if v is not None}, settings.secret_key.get_secret_value()
    )


def test_access_tokens_need_typ_access_and_a_bounded_exp(client, brand_a, settings):
    sid = jwt.decode(brand_a.token, options={"verify_signature": False})["sid"]
    assert client.get("/api/v1/me", headers=_bearer(_forge(settings, brand_a, sid=sid))).status_code == 200
    for claims in ({"typ": "refresh"}, {"typ": None}, {"exp": int(time.time()) + 86400 * 365}):
        r = client.get("/api/v1/me", headers=_bearer(_forge(settings, brand_a, sid=sid, **claims)))
        assert r.status_code == 401 and r.json()["code"] == "invalid_token", claims
    # A token without a session id is refused too.
    r = client.get("/api/v1/me", headers=_bearer(_forge(settings, brand_a, sid=None)))
    assert r.status_code == 401


def test_refresh_token_is_not_an_access_token_and_vice_versa(client, brand_a):
    tokens = _login(client, brand_a)
    assert client.get("/api/v1/me", headers=_bearer(tokens["refresh_token"])).status_code == 401
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["access_token"]})
    assert r.status_code in (401, 422) and "access_token" not in r.json()


def test_logout_ends_the_access_tokens_of_the_session_at_once(client, brand_a):
    tokens = _login(client, brand_a)
    other = _login(client, brand_a)
    h = _bearer(tokens["access_token"])
    assert client.get("/api/v1/me", headers=h).status_code == 200
    assert (
        client.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}).status_code == 204
    )
    r = client.get("/api/v1/me", headers=h)
    assert r.status_code == 401 and r.json()["code"] == "session_revoked"
    # Another session of the same user is untouched.
    assert client.get("/api/v1/me", headers=_bearer(other["access_token"])).status_code == 200


def test_refresh_reuse_ends_every_access_token_of_the_family(client, brand_a):
    first = _login(client, brand_a)
    second = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}).json()
    assert client.get("/api/v1/me", headers=_bearer(first["access_token"])).status_code == 200
    assert client.get("/api/v1/me", headers=_bearer(second["access_token"])).status_code == 200
    reuse = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reuse.status_code == 401
    for tok in (first["access_token"], second["access_token"]):
        r = client.get("/api/v1/me", headers=_bearer(tok))
        assert r.status_code == 401 and r.json()["code"] == "session_revoked"


def test_revocation_written_by_another_process_applies_immediately(client, brand_a, db):
    from luneo.tenancy.models import RefreshToken

    tokens = _login(client, brand_a)
    h = _bearer(tokens["access_token"])
    assert client.get("/api/v1/me", headers=h).status_code == 200
    sid = jwt.decode(tokens["access_token"], options={"verify_signature": False})["sid"]
    # Another process revokes the family straight in the database (no in-process hook runs).
    with db.engine.begin() as conn:
        conn.execute(
            sa.update(RefreshToken.__table__)
            .where(RefreshToken.__table__.c.family_id == sid)
            .values(revoked_at=sa.func.now())
        )
    assert client.get("/api/v1/me", headers=h).status_code == 401


# --- 17. rate limits that hold -------------------------------------------------------------------


def test_made_up_bearers_share_the_ip_limit(settings, monkeypatch):
    app = _app(monkeypatch, LUNEO_RATE_LIMIT_KEY="1000/minute", LUNEO_RATE_LIMIT_IP="5/minute")
    with TestClient(app) as c:
        codes = [c.get("/api/v1/me", headers=_bearer(f"sk_live_made_up_{i}")).status_code for i in range(6)]
        codes += [c.get("/api/v1/me", headers=_bearer(f"garbage.{i}.jwt")).status_code for i in range(2)]
    assert codes[:5] == [401] * 5 and codes[5:] == [429, 429, 429]


def test_ip_limit_applies_to_verified_credentials_too(settings, monkeypatch, brand_a):
    app = _app(monkeypatch, LUNEO_RATE_LIMIT_KEY="1000/minute", LUNEO_RATE_LIMIT_IP="3/minute")
    with TestClient(app) as c:
        codes = [c.get("/api/v1/me", headers=brand_a.h("sk")).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_credential_limit_counts_only_verified_credentials(settings, monkeypatch, brand_a):
    app = _app(monkeypatch, LUNEO_RATE_LIMIT_KEY="3/minute", LUNEO_RATE_LIMIT_IP="1000/minute")
    with TestClient(app) as c:
        codes = [c.get("/api/v1/me", headers=brand_a.h("sk")).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        # Garbage credentials never get a counter of their own (only the IP's).
        bad = [c.get("/api/v1/me", headers=_bearer("sk_live_nope")).status_code for _ in range(5)]
        assert bad == [401] * 5
        # The owner's JWT is its own credential.
        assert c.get("/api/v1/me", headers=brand_a.h()).status_code == 200


def test_login_is_limited_per_account(settings, monkeypatch, brand_a, brand_b):
    app = _app(monkeypatch, LUNEO_RATE_LIMIT_LOGIN="3/minute", LUNEO_RATE_LIMIT_IP="1000/minute")
    with TestClient(app) as c:
        codes = [
            c.post(
                "/api/v1/auth/login", json={"email": brand_a.owner_email, "password": f"guess-{i}"}
            ).status_code
            for i in range(3)
        ]
        # Same account, other spelling, fresh bearer: still the same counter.
        r = c.post(
            "/api/v1/auth/login",
            json={"email": brand_a.owner_email.upper(), "password": brand_a.password},
            headers=_bearer(f"made-up-{uuid.uuid4()}"),
        )
        assert codes == [401, 401, 401] and r.status_code == 429 and r.json()["code"] == "rate_limited"
        assert int(r.headers["retry-after"]) >= 1
        ok = c.post("/api/v1/auth/login", json={"email": brand_b.owner_email, "password": brand_b.password})
        assert ok.status_code == 200


def test_forwarded_for_is_trusted_only_from_configured_proxies(settings, monkeypatch):
    app = _app(monkeypatch, LUNEO_RATE_LIMIT_IP="2/minute", LUNEO_TRUSTED_PROXIES="10.0.0.0/8")
    # Through the trusted proxy, each real client has its own counter.
    with TestClient(app, client=("10.1.2.3", 4000)) as proxy:
        codes = [
            proxy.get("/api/v1/me", headers={"X-Forwarded-For": f"198.51.100.7, 203.0.113.{i}"}).status_code
            for i in range(4)
        ]
        assert codes == [401] * 4
        same = [
            proxy.get("/api/v1/me", headers={"X-Forwarded-For": "203.0.113.99"}).status_code for _ in range(3)
        ]
        assert same == [401, 401, 429]
    # A direct (untrusted, even local) peer cannot pick its identity with the header.
    with TestClient(app, client=("127.0.0.1", 4000)) as direct:
        codes = [
            direct.get("/api/v1/me", headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code
            for i in range(3)
        ]
        assert codes == [401, 401, 429]


def test_client_ip_resolution_walks_trusted_hops():
    import ipaddress

    from luneo.platform.middleware import resolve_client_ip

    nets = (ipaddress.ip_network("10.0.0.0/8"),)
    assert resolve_client_ip("10.0.0.1", "1.2.3.4, 5.6.7.8, 10.0.0.2", nets) == "5.6.7.8"
    assert resolve_client_ip("10.0.0.1", "garbage, 10.0.0.9", nets) == "10.0.0.9"  # all trusted/garbage
    assert resolve_client_ip("8.8.8.8", "1.2.3.4", nets) == "8.8.8.8"
    assert resolve_client_ip("10.0.0.1", None, nets) == "10.0.0.1"
    assert resolve_client_ip("10.0.0.1", "1.2.3.4", ()) == "10.0.0.1"


@pytest.fixture
def redis_db5():
    if not REDIS_URL:
        pytest.skip("Redis not configured (set LUNEO_TEST_REDIS_URL)")
    import redis

    # a database per xdist worker: flushing it never touches a test running in another worker
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    url = _redis_db(REDIS_URL, 5 + (int(worker[2:]) % 8 if worker[2:].isdigit() else 0))
    r = redis.Redis.from_url(url)
    r.flushdb()
    yield url
    r.flushdb()


def _redis_db(url: str, db: int) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{db}"))


def test_rate_limit_counters_are_shared_through_redis(settings, monkeypatch, brand_a, redis_db5):
    monkeypatch.setenv("LUNEO_REDIS_URL", redis_db5)
    one = _app(monkeypatch, LUNEO_RATE_LIMIT_KEY="4/hour", LUNEO_RATE_LIMIT_IP="1000/hour")
    two = _app(monkeypatch, LUNEO_RATE_LIMIT_KEY="4/hour", LUNEO_RATE_LIMIT_IP="1000/hour")
    with TestClient(one) as c1, TestClient(two) as c2:
        codes = [
            (c1 if i % 2 else c2).get("/api/v1/me", headers=brand_a.h("sk")).status_code for i in range(5)
        ]
    assert codes == [200, 200, 200, 200, 429]


def test_login_limit_is_shared_through_redis(settings, monkeypatch, brand_a, redis_db5):
    monkeypatch.setenv("LUNEO_REDIS_URL", redis_db5)
    one = _app(monkeypatch, LUNEO_RATE_LIMIT_LOGIN="2/hour")
    two = _app(monkeypatch, LUNEO_RATE_LIMIT_LOGIN="2/hour")
    body = {"email": brand_a.owner_email, "password": "nope"}
    with TestClient(one) as c1, TestClient(two) as c2:
        codes = [
            c1.post("/api/v1/auth/login", json=body).status_code,
            c2.post("/api/v1/auth/login", json=body).status_code,
        ]
        codes.append(c1.post("/api/v1/auth/login", json=body).status_code)
    assert codes == [401, 401, 429]


# --- 18. the idempotency store keeps no secrets and no unauthenticated requests ------------------


def _idem_rows(db):
    from luneo.platform.models import IdempotencyRecord

    with db.engine.connect() as conn:
        return conn.execute(sa.select(IdempotencyRecord.__table__)).mappings().all()


def test_created_api_key_is_never_replayed(client, brand_a, db):
    h = {**brand_a.h(), "Idempotency-Key": "mint-1"}
    first = client.post("/api/v1/api-keys", json={"kind": "secret", "name": "ci"}, headers=h)
    assert first.status_code == 201 and first.json()["key"].startswith("sk_")
    raw = first.json()["key"]
    replay = client.post("/api/v1/api-keys", json={"kind": "secret", "name": "ci"}, headers=h)
    assert replay.status_code == 409 and replay.json()["code"] == "idempotency_response_withheld"
    assert raw not in replay.text
    # Not re-run either: still one key with that name.
    keys = client.get("/api/v1/api-keys", headers=brand_a.h()).json()["data"]
    assert [k["name"] for k in keys].count("ci") == 1
    # Revoked: the replay still never shows it.
    assert client.delete(f"/api/v1/api-keys/{first.json()['id']}", headers=brand_a.h()).status_code == 200
    again = client.post("/api/v1/api-keys", json={"kind": "secret", "name": "ci"}, headers=h)
    assert again.status_code == 409 and raw not in again.text
    assert not any(raw.encode() in (row["response_body"] or b"") for row in _idem_rows(db))


def test_storable_responses_still_replay(client, brand_a):
    h = {**brand_a.h("sk"), "Idempotency-Key": "prd-1"}
    r1 = client.post("/api/v1/products", json=product_body("IDEM-1"), headers=h)
    r2 = client.post("/api/v1/products", json=product_body("IDEM-1"), headers=h)
    assert r1.status_code == r2.status_code == 201 and r1.json() == r2.json()
    assert r2.headers.get("idempotent-replayed") == "true"


@pytest.mark.parametrize("prefix", ["sk_live_fake_", "pk_live_fake_", "eyJ.garbage.", ""])
def test_unverified_bearers_create_no_idempotency_rows(client, db, prefix):
    for i in range(5):
        r = client.post(
            "/api/v1/products",
            json=product_body(f"X-{i}"),
            headers={"Authorization": f"Bearer {prefix}{uuid.uuid4()}", "Idempotency-Key": f"k-{i}"},
        )
        assert r.status_code == 401
    assert _idem_rows(db) == []


def test_redis_store_keeps_no_secret_and_no_garbage(settings, monkeypatch, brand_a, redis_db5):
    import redis

    monkeypatch.setenv("LUNEO_REDIS_URL", redis_db5)
    app = _app(monkeypatch)
    store = redis.Redis.from_url(redis_db5)
    with TestClient(app) as c:
        for i in range(3):
            c.post(
                "/api/v1/products",
                json=product_body(f"G-{i}"),
                headers={"Authorization": f"Bearer sk_live_{uuid.uuid4()}", "Idempotency-Key": f"g{i}"},
            )
        assert store.keys("luneo:idem:*") == []
        h = {**brand_a.h(), "Idempotency-Key": "mint-r"}
        raw = c.post("/api/v1/api-keys", json={"kind": "secret"}, headers=h).json()["key"]
        replay = c.post("/api/v1/api-keys", json={"kind": "secret"}, headers=h)
        assert replay.status_code == 409 and raw not in replay.text
        assert all(raw.encode() not in (store.get(k) or b"") for k in store.keys("luneo:idem:*"))


# --- 19. per-brand CORS, /metrics token, signed cursors ------------------------------------------


def test_cors_only_for_the_credentials_own_brand(client, brand_a, brand_b):
    own = client.get("/api/v1/me", headers={**brand_b.h("sk"), "Origin": brand_b.origin})
    assert own.headers.get("access-control-allow-origin") == brand_b.origin
    foreign = client.get("/api/v1/me", headers={**brand_b.h("sk"), "Origin": brand_a.origin})
    assert foreign.status_code == 200 and "access-control-allow-origin" not in foreign.headers
    bad = client.get("/api/v1/me", headers={**_bearer("sk_live_nope"), "Origin": brand_a.origin})
    assert "access-control-allow-origin" not in bad.headers
    # Preflights carry no credential: any origin some brand allows gets one (documented).
    pre = client.options(
        "/api/v1/me", headers={"Origin": brand_a.origin, "Access-Control-Request-Method": "GET"}
    )
    assert pre.status_code == 204 and pre.headers["access-control-allow-origin"] == brand_a.origin
    # The widget key keeps its CORS.
    pk = client.get("/api/v1/me", headers=brand_a.h("pk"))
    assert pk.headers.get("access-control-allow-origin") == brand_a.origin


def test_metrics_token(settings, monkeypatch):
    app = _app(monkeypatch, LUNEO_METRICS_TOKEN="m" * 40)
    with TestClient(app) as c:
        r = c.get("/metrics")
        assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
        assert r.json()["code"] == "unauthorized"
        assert c.get("/metrics", headers=_bearer("wrong")).status_code == 401
        ok = c.get("/metrics", headers=_bearer("m" * 40))
        assert ok.status_code == 200 and "luneo_http_request_duration_seconds" in ok.text


def test_cursors_are_signed(client, brand_a):
    import base64

    for i in range(3):
        assert (
            client.post(
                "/api/v1/api-keys", json={"kind": "secret", "name": f"c{i}"}, headers=brand_a.h()
            ).status_code
            == 201
        )
    page = client.get("/api/v1/api-keys?limit=2", headers=brand_a.h()).json()
    assert page["next_cursor"]
    nxt = client.get(f"/api/v1/api-keys?limit=2&cursor={page['next_cursor']}", headers=brand_a.h())
    assert nxt.status_code == 200 and nxt.json()["data"]
    forged = base64.urlsafe_b64encode(b"key_zzzzzzzzzz").decode().rstrip("=")
    tampered = page["next_cursor"][:-2] + ("AA" if not page["next_cursor"].endswith("AA") else "BB")
    for bad in (forged, tampered, "!!!", "a" * 5000, "é", "x.y", "."):
        r = client.get("/api/v1/api-keys", params={"cursor": bad}, headers=brand_a.h())
        assert r.status_code == 422 and r.json()["code"] == "invalid_cursor", bad
