"""Isolation factories for tenancy routes."""

from __future__ import annotations

from tests.integration.factories import body, factory


@factory("key_id")
def make_key(client, brand) -> str:
    r = client.post("/api/v1/api-keys", json={"kind": "secret", "name": "iso"}, headers=brand.h())
    assert r.status_code == 201, r.text
    return r.json()["id"]


@factory("membership_id")
def make_membership(client, brand) -> str:
    r = client.post("/api/v1/brand/members", headers=brand.h(),
                    json={"email": f"viewer-{brand.slug}@example.com", "role": "viewer", "password": "longenough1"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


@body("PATCH", "/api/v1/brand/members/{membership_id}")
def member_patch(client, brand, ids):
    return {"role": "editor"}
