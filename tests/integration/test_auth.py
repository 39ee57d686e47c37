"""Login sessions, tokens, API keys and their failure modes."""

from __future__ import annotations

import time

import jwt


def test_login_refresh_rotation_and_logout(client, brand_a):
    r = client.post("/api/v1/auth/login", json={"email": brand_a.owner_email, "password": brand_a.password})
    assert r.status_code == 200, r.text
    tokens = r.json()
    assert tokens["token_type"] == "bearer" and tokens["access_token"] and tokens["refresh_token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}).json()
    assert me["brand_id"] == brand_a.id and me["role"] == "owner"

    r2 = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r2.status_code == 200
    new = r2.json()
    assert new["refresh_token"] != tokens["refresh_token"]
    # Reusing the rotated token is theft: the whole session family dies.
    reuse = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert reuse.status_code == 401 and reuse.json()["code"] == "refresh_token_reused"
    dead = client.post("/api/v1/auth/refresh", json={"refresh_token": new["refresh_token"]})
    assert dead.status_code == 401

    r3 = client.post(
        "/api/v1/auth/login", json={"email": brand_a.owner_email, "password": brand_a.password}
    ).json()
    assert client.post("/api/v1/auth/logout", json={"refresh_token": r3["refresh_token"]}).status_code == 204
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": r3["refresh_token"]}).status_code == 401


def test_wrong_password_and_unknown_user_look_the_same(client, brand_a):
    a = client.post("/api/v1/auth/login", json={"email": brand_a.owner_email, "password": "nope"})
    b = client.post("/api/v1/auth/login", json={"email": "ghost@nowhere.example", "password": "nope"})
    assert a.status_code == b.status_code == 401
    assert a.json()["code"] == b.json()["code"] == "invalid_credentials"
    assert a.headers["content-type"].startswith("application/problem+json")


def test_bad_and_expired_tokens(client, brand_a, settings):
    assert client.get("/api/v1/brand").json()["code"] == "unauthorized"
    bad = client.get("/api/v1/brand", headers={"Authorization": "Bearer not-a-jwt"})
    assert bad.status_code == 401 and bad.json()["code"] == "invalid_token"
    expired = jwt.encode(
        {
            "sub": brand_a.owner_id,
            "brand": brand_a.id,
            "iat": int(time.time()) - 100,
            "exp": int(time.time()) - 10,
            "iss": "luneo",
            "aud": "luneo-api",
        },
        settings.secret_key.get_secret_value(),
        algorithm="HS256",
    )
    r = client.get("/api/v1/brand", headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401 and r.json()["code"] == "token_expired"
    forged = jwt.encode(
        {"sub": brand_a.owner_id, "exp": int(time.time()) + 60, "iat": 1, "iss": "luneo", "aud": "luneo-api"},
        "wrong-secret",
        algorithm="HS256",
    )
    assert client.get("/api/v1/brand", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_api_keys_shown_once_hashed_and_revocable(client, brand_a):
    r = client.post("/api/v1/api-keys", json={"kind": "secret", "name": "erp"}, headers=brand_a.h())
    assert r.status_code == 201, r.text
    created = r.json()
    raw = created["key"]
    assert raw.startswith("sk_live_")
    listed = client.get("/api/v1/api-keys", headers=brand_a.h()).json()["data"]
    assert all("key" not in k for k in listed)
    assert client.get("/api/v1/brand", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    assert client.delete(f"/api/v1/api-keys/{created['id']}", headers=brand_a.h()).status_code == 200
    r = client.get("/api/v1/brand", headers={"Authorization": f"Bearer {raw}"})
    assert r.status_code == 401 and r.json()["code"] == "invalid_api_key"


def test_publishable_key_scopes_and_origins(client, brand_a):
    ok = client.get("/api/v1/me", headers=brand_a.h("pk"))
    assert ok.status_code == 200 and ok.json()["kind"] == "publishable_key"
    assert "keys:manage" not in ok.json()["permissions"]
    foreign = client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {brand_a.pk}", "Origin": "https://evil.example"}
    )
    assert foreign.status_code == 403 and foreign.json()["code"] == "origin_not_allowed"
    # A publishable key cannot manage keys.
    r = client.post("/api/v1/api-keys", json={"kind": "secret"}, headers=brand_a.h("pk"))
    assert r.status_code == 403


def test_roles_limit_routes(client, brand_a):
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_system, bind_tenant
    from luneo.tenancy import service

    with get_db().transaction() as s:  # members join by invitation (tests/integration/test_trust_tenancy.py)
        bind_system(s)
        user = service.create_user(s, email="prod@alpha.example", password="longenough1")
        bind_tenant(s, brand_a.id)
        service.add_member(s, brand_id=brand_a.id, user_id=user.id, role="production")
    login = client.post(
        "/api/v1/auth/login", json={"email": "prod@alpha.example", "password": "longenough1"}
    ).json()
    h = {"Authorization": f"Bearer {login['access_token']}"}
    assert client.get("/api/v1/brand", headers=h).status_code == 403  # production sees no brand admin
    assert client.get("/api/v1/api-keys", headers=h).status_code == 403


def test_idp_token_links_user_on_first_use(client, brand_a, monkeypatch):
    from luneo.platform import config

    monkeypatch.setenv("LUNEO_IDP_JWT_SECRET", "supabase-shared-secret")
    config.get_settings.cache_clear()
    claims = {
        "sub": "3f1c-uuid",
        "email": "shopper.owner@alpha.example",
        "aud": "authenticated",
        "exp": int(time.time()) + 300,
        "iss": "https://proj.supabase.co/auth/v1",
    }
    token = jwt.encode(claims, "supabase-shared-secret", algorithm="HS256")
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    first = r.json()["user_id"]
    assert first and r.json()["brand_id"] is None  # linked, not yet a member of any brand
    again = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()["user_id"]
    assert again == first
    bad = jwt.encode(claims, "other-secret", algorithm="HS256")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {bad}"}).status_code == 401
