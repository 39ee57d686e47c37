"""Issue 11 (trust), tenancy: owners, invitations, identity-provider linking, platform
administration and brand suspension, the demo login, and `PATCH /brand` with nulls."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from sqlalchemy import select, update

from luneo.platform.database import get_db
from luneo.platform.tenancy import bind_system, bind_tenant

PASSWORD = "correct horse battery"


def _member(brand: Any, email: str, role: str) -> tuple[str, dict[str, str]]:
    """A user with `role` in `brand`: (membership id, bearer headers)."""
    from luneo.platform.config import get_settings
    from luneo.tenancy import service

    with get_db().transaction() as s:
        bind_system(s)
        user = service.create_user(s, email=email, password=PASSWORD)
        bind_tenant(s, brand.id)
        m = service.add_member(s, brand_id=brand.id, user_id=user.id, role=role)
        bind_system(s)
        access, _ = service.login(s, get_settings(), email, PASSWORD)
        return m.id, {"Authorization": f"Bearer {access}", "X-Brand-Id": brand.id}


def _owner_membership(brand: Any) -> str:
    from luneo.tenancy.models import Membership

    with get_db().transaction() as s:
        bind_tenant(s, brand.id)
        return s.execute(select(Membership.id).where(Membership.user_id == brand.owner_id)).scalar_one()


def _roles(brand: Any) -> dict[str, str]:
    from luneo.tenancy.models import Membership, User

    with get_db().transaction() as s:
        bind_tenant(s, brand.id)
        rows = s.execute(select(Membership.user_id, Membership.role)).all()
        bind_system(s)
        emails = dict(s.execute(select(User.id, User.email)).all())
    return {emails[u]: r for u, r in rows}


def _invitation_token(brand: Any, email: str) -> str:
    """The token from the newest invitation email sent to `email` (as the invitee reads it)."""
    from luneo.notifications.models import EmailMessage

    with get_db().transaction() as s:
        bind_tenant(s, brand.id)
        msg = (
            s.execute(
                select(EmailMessage)
                .where(EmailMessage.to == email, EmailMessage.template == "invitation")
                .order_by(EmailMessage.id.desc())
            )
            .scalars()
            .first()
        )
    assert msg is not None, f"no invitation email to {email}"
    url = msg.context["accept_url"]
    assert "/dashboard/invitations/accept?token=" in url
    return str(url.split("token=", 1)[1])


# --- item 5: owners ---------------------------------------------------------------------------


def test_admin_cannot_demote_an_owner_through_the_members_upsert(client, brand_a):
    _, admin = _member(brand_a, "admin@alpha.example", "admin")
    r = client.post(
        "/api/v1/brand/members", headers=admin, json={"email": brand_a.owner_email, "role": "viewer"}
    )
    assert r.status_code < 500, r.text
    assert _roles(brand_a)[brand_a.owner_email] == "owner"


def test_admin_cannot_patch_or_delete_an_owner(client, brand_a):
    _, admin = _member(brand_a, "admin@alpha.example", "admin")
    second_owner, _ = _member(brand_a, "owner2@alpha.example", "owner")
    r = client.patch(f"/api/v1/brand/members/{second_owner}", headers=admin, json={"role": "viewer"})
    assert r.status_code == 403 and r.json()["code"] == "owner_required", r.text
    r = client.delete(f"/api/v1/brand/members/{second_owner}", headers=admin)
    assert r.status_code == 403 and r.json()["code"] == "owner_required", r.text
    admin_id = next(
        m["id"]
        for m in client.get("/api/v1/brand/members", headers=brand_a.h()).json()["data"]
        if m["email"] == "admin@alpha.example"
    )
    r = client.patch(f"/api/v1/brand/members/{admin_id}", headers=admin, json={"role": "owner"})
    assert r.status_code == 403 and r.json()["code"] == "owner_required", r.text
    assert _roles(brand_a) == {
        brand_a.owner_email: "owner",
        "owner2@alpha.example": "owner",
        "admin@alpha.example": "admin",
    }


def test_the_last_owner_can_neither_be_demoted_nor_removed(client, brand_a):
    mine = _owner_membership(brand_a)
    r = client.patch(f"/api/v1/brand/members/{mine}", headers=brand_a.h(), json={"role": "admin"})
    assert r.status_code == 409 and r.json()["code"] == "last_owner", r.text
    r = client.delete(f"/api/v1/brand/members/{mine}", headers=brand_a.h())
    assert r.status_code == 409 and r.json()["code"] == "last_owner", r.text
    assert _roles(brand_a)[brand_a.owner_email] == "owner"
    # With a second owner, an owner may step down (and an owner may manage owners).
    other, other_h = _member(brand_a, "owner2@alpha.example", "owner")
    r = client.patch(f"/api/v1/brand/members/{mine}", headers=brand_a.h(), json={"role": "admin"})
    assert r.status_code == 200 and r.json()["role"] == "admin", r.text
    # Now the other owner is the last one.
    r = client.patch(f"/api/v1/brand/members/{other}", headers=other_h, json={"role": "editor"})
    assert r.status_code == 409 and r.json()["code"] == "last_owner"
    r = client.patch(f"/api/v1/brand/members/{mine}", headers=other_h, json={"role": "owner"})
    assert r.status_code == 200
    r = client.delete(f"/api/v1/brand/members/{other}", headers=brand_a.h())
    assert r.status_code == 204


def test_service_upsert_never_leaves_a_brand_without_owner(brand_a):
    from luneo.platform.domain_errors import DomainError
    from luneo.tenancy import service

    with pytest.raises(DomainError) as exc, get_db().transaction() as s:
        bind_tenant(s, brand_a.id)
        service.add_member(s, brand_id=brand_a.id, user_id=brand_a.owner_id, role="viewer")
    assert exc.value.code == "last_owner"
    assert _roles(brand_a)[brand_a.owner_email] == "owner"


def test_adding_a_member_does_not_reveal_other_accounts(client, brand_a, brand_b):
    known = client.post(
        "/api/v1/brand/members", headers=brand_a.h(), json={"email": brand_b.owner_email, "role": "editor"}
    )
    unknown = client.post(
        "/api/v1/brand/members",
        headers=brand_a.h(),
        json={"email": "nobody@nowhere.example", "role": "editor"},
    )
    assert known.status_code == unknown.status_code == 202, (known.text, unknown.text)
    assert set(known.json()) == set(unknown.json())
    assert brand_b.owner_id not in known.text
    volatile = ("id", "expires_at", "created_at", "email")
    assert {k: v for k, v in known.json().items() if k not in volatile} == {
        k: v for k, v in unknown.json().items() if k not in volatile
    }
    assert known.json()["status"] == "pending" and "user_id" not in known.json()
    # Nobody joined yet: an invitation is only an invitation.
    assert brand_b.owner_email not in _roles(brand_a)


def test_invitation_creates_an_account_when_none_exists(client, brand_a):
    r = client.post(
        "/api/v1/brand/members",
        headers=brand_a.h(),
        json={"email": "New.Person@alpha.example", "role": "editor", "name": "New"},
    )
    assert r.status_code == 202, r.text
    token = _invitation_token(brand_a, "new.person@alpha.example")
    listed = client.get("/api/v1/brand/invitations", headers=brand_a.h()).json()["data"]
    assert [(i["email"], i["role"], i["status"]) for i in listed] == [
        ("new.person@alpha.example", "editor", "pending")
    ]
    assert token not in str(listed)
    bad = client.post(f"/api/v1/invitations/{token}/accept", json={"password": "short"})
    assert bad.status_code == 422
    r = client.post(
        f"/api/v1/invitations/{token}/accept", json={"password": "a long password", "name": "New"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["brand_id"] == brand_a.id and body["role"] == "editor" and body["access_token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"}).json()
    assert me["brand_id"] == brand_a.id and me["role"] == "editor"
    login = client.post(
        "/api/v1/auth/login", json={"email": "new.person@alpha.example", "password": "a long password"}
    )
    assert login.status_code == 200
    again = client.post(f"/api/v1/invitations/{token}/accept", json={"password": "a long password"})
    assert again.status_code == 404 and again.json()["code"] == "invitation_not_found"
    assert (
        client.get("/api/v1/brand/invitations", headers=brand_a.h()).json()["data"][0]["status"] == "accepted"
    )


def test_invitation_for_an_existing_account_needs_that_account_logged_in(client, brand_a, brand_b):
    r = client.post(
        "/api/v1/brand/members", headers=brand_a.h(), json={"email": brand_b.owner_email, "role": "viewer"}
    )
    assert r.status_code == 202
    token = _invitation_token(brand_a, brand_b.owner_email)
    # Holding the token is not enough to take over an existing account by setting a password.
    r = client.post(f"/api/v1/invitations/{token}/accept", json={"password": "attacker password"})
    assert r.status_code == 401 and r.json()["code"] == "login_required", r.text
    assert (
        client.post(
            "/api/v1/auth/login", json={"email": brand_b.owner_email, "password": "attacker password"}
        ).status_code
        == 401
    )
    # Someone else logged in cannot accept it either.
    r = client.post(f"/api/v1/invitations/{token}/accept", headers=brand_a.h(), json={})
    assert r.status_code == 403 and r.json()["code"] == "invitation_email_mismatch"
    r = client.post(f"/api/v1/invitations/{token}/accept", headers=brand_b.h())  # no body needed
    assert r.status_code == 200, r.text
    assert r.json()["access_token"] is None and r.json()["role"] == "viewer"
    assert _roles(brand_a)[brand_b.owner_email] == "viewer"
    assert _roles(brand_b)[brand_b.owner_email] == "owner"


def test_invitation_rules(client, brand_a, db):
    from luneo.tenancy.models import Invitation

    _, admin = _member(brand_a, "admin@alpha.example", "admin")
    r = client.post(
        "/api/v1/brand/members", headers=admin, json={"email": "x@alpha.example", "role": "owner"}
    )
    assert r.status_code == 403 and r.json()["code"] == "owner_required"
    r = client.post(
        "/api/v1/brand/members", headers=admin, json={"email": "admin@alpha.example", "role": "viewer"}
    )
    assert r.status_code == 409 and r.json()["code"] == "already_member"
    r = client.post(
        "/api/v1/brand/members", headers=brand_a.h(), json={"email": "late@alpha.example", "role": "owner"}
    )
    assert r.status_code == 202
    token = _invitation_token(brand_a, "late@alpha.example")
    with db.transaction() as s:
        bind_tenant(s, brand_a.id)
        s.execute(update(Invitation).values(expires_at=Invitation.created_at))
    r = client.post(f"/api/v1/invitations/{token}/accept", json={"password": "a long password"})
    assert r.status_code == 410 and r.json()["code"] == "invitation_expired"
    # A revoked invitation stops working.
    r = client.post(
        "/api/v1/brand/members", headers=brand_a.h(), json={"email": "gone@alpha.example", "role": "viewer"}
    )
    token = _invitation_token(brand_a, "gone@alpha.example")
    assert (
        client.delete(f"/api/v1/brand/invitations/{r.json()['id']}", headers=brand_a.h()).status_code == 204
    )
    r = client.post(f"/api/v1/invitations/{token}/accept", json={"password": "a long password"})
    assert r.status_code == 404 and r.json()["code"] == "invitation_not_found"
    assert (
        client.post("/api/v1/invitations/not-a-real-token/accept", json={}).json()["code"]
        == "invitation_not_found"
    )
    # The token is stored only hashed.
    with db.transaction() as s:
        bind_system(s)
        assert token not in {i.token_hash for i in s.execute(select(Invitation)).scalars()}


# --- item 6: identity providers -----------------------------------------------------------------


def _idp_token(monkeypatch, **claims: Any) -> dict[str, str]:
    from luneo.platform import config

    monkeypatch.setenv("LUNEO_IDP_JWT_SECRET", "supabase-shared-secret")
    config.get_settings.cache_clear()
    base = {"aud": "authenticated", "exp": int(time.time()) + 300, "iss": "https://proj.supabase.co/auth/v1"}
    return {
        "Authorization": f"Bearer {jwt.encode(base | claims, 'supabase-shared-secret', algorithm='HS256')}"
    }


def test_idp_token_with_unverified_email_does_not_take_over_an_account(client, brand_a, monkeypatch):
    for verified in ({}, {"email_verified": False}, {"email_verified": "yes"}):
        h = _idp_token(
            monkeypatch, sub=f"attacker-{len(verified)}-{verified}", email=brand_a.owner_email, **verified
        )
        r = client.get("/api/v1/me", headers=h)
        assert r.status_code in (200, 401, 403), r.text
        if r.status_code == 200:
            assert r.json()["user_id"] != brand_a.owner_id and r.json()["brand_id"] is None
            assert r.json()["email"] != brand_a.owner_email


def test_idp_token_never_overwrites_an_existing_link(client, brand_a, monkeypatch, db):
    from luneo.tenancy.models import User

    first = _idp_token(monkeypatch, sub="real-owner", email=brand_a.owner_email, email_verified=True)
    r = client.get("/api/v1/me", headers=first)
    assert r.status_code == 200 and r.json()["user_id"] == brand_a.owner_id  # verified + unlinked: linked
    other = _idp_token(
        monkeypatch,
        sub="someone-else",
        email=brand_a.owner_email,
        email_verified=True,
        iss="https://other-idp.example",
    )
    r = client.get("/api/v1/me", headers=other)
    assert r.status_code in (200, 401, 403), r.text
    if r.status_code == 200:
        assert r.json()["user_id"] != brand_a.owner_id and r.json()["brand_id"] is None
    with db.transaction() as s:
        bind_system(s)
        owner = s.get(User, brand_a.owner_id)
        assert (owner.external_issuer, owner.external_subject) == (
            "https://proj.supabase.co/auth/v1",
            "real-owner",
        )
    assert client.get("/api/v1/me", headers=first).json()["user_id"] == brand_a.owner_id


def test_idp_verified_email_of_an_unknown_user_creates_it(client, brand_a, monkeypatch):
    h = _idp_token(monkeypatch, sub="fresh", email="Fresh@alpha.example", email_verified=True)
    r = client.get("/api/v1/me", headers=h)
    assert r.status_code == 200 and r.json()["email"] == "fresh@alpha.example"
    # A later unverified claim for the same email from another subject gets its own account.
    h2 = _idp_token(monkeypatch, sub="fresh-2", email="fresh@alpha.example")
    r2 = client.get("/api/v1/me", headers=h2)
    assert r2.status_code in (200, 401, 403)
    if r2.status_code == 200:
        assert r2.json()["user_id"] != r.json()["user_id"]


# --- item 9: platform administration and suspension ----------------------------------------------


def _grant(email: str, action: str = "grant") -> None:
    from typer.testing import CliRunner

    from luneo.cli import app

    result = CliRunner().invoke(app, ["admin", action, email])
    assert result.exit_code == 0, result.output


def test_admin_routes_are_for_platform_admins_only(client, brand_a, brand_b):
    for h in (brand_a.h(), brand_a.h("sk"), brand_a.h("pk")):
        r = client.get("/api/v1/admin/brands", headers=h)
        assert r.status_code in (403, 404) and r.headers["content-type"].startswith(
            "application/problem+json"
        )
        assert brand_b.id not in r.text
        r = client.post(f"/api/v1/admin/brands/{brand_b.id}/suspend", headers=h, json={"reason": "x"})
        assert r.status_code in (403, 404)
    assert client.get("/api/v1/brand", headers=brand_b.h("sk")).status_code == 200
    _grant(brand_a.owner_email)
    r = client.get("/api/v1/admin/brands?limit=1", headers=brand_a.h())
    assert r.status_code == 200, r.text
    page1 = r.json()
    assert len(page1["data"]) == 1 and page1["next_cursor"]
    page2 = client.get(
        f"/api/v1/admin/brands?limit=1&cursor={page1['next_cursor']}", headers=brand_a.h()
    ).json()
    assert {page1["data"][0]["id"], page2["data"][0]["id"]} == {brand_a.id, brand_b.id}
    _grant(brand_a.owner_email, "revoke")
    assert client.get("/api/v1/admin/brands", headers=brand_a.h()).status_code in (403, 404)


def test_admin_cli_refuses_unknown_user(settings):
    from typer.testing import CliRunner

    from luneo.cli import app

    result = CliRunner().invoke(app, ["admin", "grant", "ghost@nowhere.example"])
    assert result.exit_code != 0


def test_suspended_brand_keys_and_sessions_stop_at_once(client, brand_a, brand_b, db):
    from luneo.platform.models import AuditEvent

    _grant(brand_a.owner_email)
    # Warm every credential cache first: suspension must cut through it.
    for kind in ("token", "sk", "pk"):
        assert client.get("/api/v1/me", headers=brand_b.h(kind)).status_code == 200
    r = client.post(
        f"/api/v1/admin/brands/{brand_b.id}/suspend", headers=brand_a.h(), json={"reason": "fraud"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["suspended_at"] and r.json()["suspended_reason"] == "fraud"
    for kind in ("token", "sk", "pk"):
        for path in ("/api/v1/me", "/api/v1/brand", "/api/v1/products"):
            r = client.get(path, headers=brand_b.h(kind))
            assert r.status_code == 403 and r.json()["code"] == "brand_suspended", (kind, path, r.text)
    # A fresh login still cannot act in the suspended brand.
    tokens = client.post(
        "/api/v1/auth/login", json={"email": brand_b.owner_email, "password": brand_b.password}
    ).json()
    r = client.get("/api/v1/brand", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert r.status_code == 403 and r.json()["code"] == "brand_suspended"
    # Other brands are untouched.
    assert client.get("/api/v1/brand", headers=brand_a.h("sk")).status_code == 200
    with db.transaction() as s:
        bind_tenant(s, brand_b.id)
        events = s.execute(select(AuditEvent.action, AuditEvent.actor)).all()
    assert ("brand.suspended", brand_a.owner_id) in events
    r = client.post(f"/api/v1/admin/brands/{brand_b.id}/unsuspend", headers=brand_a.h(), json={})
    assert r.status_code == 200 and r.json()["suspended_at"] is None
    for kind in ("token", "sk", "pk"):
        assert client.get("/api/v1/me", headers=brand_b.h(kind)).status_code == 200
    with db.transaction() as s:
        bind_tenant(s, brand_b.id)
        assert ("brand.unsuspended", brand_a.owner_id) in s.execute(
            select(AuditEvent.action, AuditEvent.actor)
        ).all()


def test_a_platform_admin_of_a_suspended_brand_can_still_administer(client, brand_a):
    _grant(brand_a.owner_email)
    r = client.post(
        f"/api/v1/admin/brands/{brand_a.id}/suspend", headers=brand_a.h(), json={"reason": "test"}
    )
    assert r.status_code == 200
    assert client.get("/api/v1/brand", headers=brand_a.h()).json()["code"] == "brand_suspended"
    assert client.get("/api/v1/admin/brands", headers=brand_a.h()).status_code == 200
    r = client.post(f"/api/v1/admin/brands/{brand_a.id}/unsuspend", headers=brand_a.h(), json={})
    assert r.status_code == 200
    assert client.get("/api/v1/brand", headers=brand_a.h()).status_code == 200
    ghost = client.post(
        "/api/v1/admin/brands/brd_doesnotexist0000000000/suspend", headers=brand_a.h(), json={}
    )
    assert ghost.status_code == 404


# --- item 20: the demo login ---------------------------------------------------------------------


def test_the_printed_demo_login_works(client, db, settings):
    from luneo.seed import DEMO_EMAIL, DEMO_PASSWORD, seed_demo

    creds = seed_demo(db, settings)
    assert creds["owner"]["email"] == DEMO_EMAIL
    r = client.post("/api/v1/auth/login", json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"}).json()
    assert me["role"] == "owner" and me["brand_id"] == creds["brand"]["id"]


def test_accounts_are_only_created_with_addresses_the_login_accepts(settings):
    from luneo.platform.domain_errors import DomainError
    from luneo.tenancy import service

    with pytest.raises(DomainError) as exc, get_db().transaction() as s:
        bind_system(s)
        service.create_user(s, email="owner@demo.luneo.local", password=PASSWORD)
    assert exc.value.code == "invalid_email"


def test_the_readme_login_works(client, db, settings):
    import json
    import re
    from pathlib import Path

    from luneo.seed import DEMO_EMAIL, seed_demo

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    m = re.search(r"/api/v1/auth/login -H 'Content-Type: application/json'\s*-d '(\{[^']*\})'", readme)
    assert m, "README shows no demo login command"
    body = json.loads(m.group(1))
    assert body["email"] == DEMO_EMAIL
    seed_demo(db, settings)
    assert client.post("/api/v1/auth/login", json=body).status_code == 200


def test_a_demo_seeded_with_the_old_address_is_moved(client, db, settings):
    import json

    from luneo.seed import DEMO_EMAIL, DEMO_PASSWORD, seed_demo
    from luneo.tenancy.models import User

    creds = seed_demo(db, settings)
    with db.transaction() as s:
        bind_system(s)
        s.execute(update(User).where(User.email == DEMO_EMAIL).values(email="owner@demo.luneo.local"))
    path = settings.data_dir / "demo-credentials.json"
    path.write_text(
        json.dumps({**creds, "owner": {"email": "owner@demo.luneo.local", "password": DEMO_PASSWORD}})
    )
    again = seed_demo(db, settings)
    assert again["owner"]["email"] == DEMO_EMAIL and again["secret_key"] == creds["secret_key"]
    assert (
        client.post("/api/v1/auth/login", json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD}).status_code
        == 200
    )


# --- item 15 (part): PATCH /brand with nulls -----------------------------------------------------


@pytest.mark.parametrize("field", ["name", "allowed_origins", "settings"])
def test_patch_brand_null_is_a_422(client, brand_a, field):
    r = client.patch("/api/v1/brand", headers=brand_a.h(), json={field: None})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert client.get("/api/v1/brand", headers=brand_a.h()).json()["name"] == "Alpha"


def test_patch_brand_null_production_email_clears_it(client, brand_a):
    r = client.patch("/api/v1/brand", headers=brand_a.h(), json={"production_email": "prod@alpha.example"})
    assert r.status_code == 200 and r.json()["production_email"] == "prod@alpha.example"
    r = client.patch("/api/v1/brand", headers=brand_a.h(), json={"production_email": None})
    assert r.status_code == 200 and r.json()["production_email"] is None


def test_lone_surrogates_in_brand_settings_and_member_names_are_a_422(client, brand_a):
    import json

    bad = "\ud800"
    h = {**brand_a.h(), "Content-Type": "application/json"}
    for body in ({"settings": {"motto": bad}}, {"settings": {bad: 1}}, {"name": bad}):
        r = client.patch("/api/v1/brand", headers=h, content=json.dumps(body))  # ASCII escapes: \ud800
        assert r.status_code == 422, (body, r.text)
    member = {"email": "x@alpha.example", "role": "viewer", "name": bad}
    r = client.post("/api/v1/brand/members", headers=h, content=json.dumps(member))
    assert r.status_code == 422, r.text
