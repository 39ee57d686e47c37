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
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_system, bind_tenant
    from luneo.tenancy import service

    with get_db().transaction() as s:
        bind_system(s)
        user = service.create_user(s, email=f"viewer-{brand.slug}@example.com", password="longenough1")
        bind_tenant(s, brand.id)
        return service.add_member(s, brand_id=brand.id, user_id=user.id, role="viewer").id


@factory("invitation_id")
def make_invitation(client, brand) -> str:
    r = client.post(
        "/api/v1/brand/members",
        headers=brand.h(),
        json={"email": f"invitee-{brand.slug}@example.com", "role": "viewer"},
    )
    assert r.status_code == 202, r.text
    return r.json()["id"]


@factory("brand_id")
def brand_id(client, brand) -> str:
    """Platform-admin routes take a brand id: anyone else gets the same 404 for any id."""
    return brand.id


@body("PATCH", "/api/v1/brand/members/{membership_id}")
def member_patch(client, brand, ids):
    return {"role": "editor"}


@body("POST", "/api/v1/admin/brands/{brand_id}/suspend")
def suspend_body(client, brand, ids):
    return {"reason": "isolation"}


@body("POST", "/api/v1/admin/brands/{brand_id}/unsuspend")
def unsuspend_body(client, brand, ids):
    return {}
