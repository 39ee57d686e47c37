"""Dashboard: team (members, roles, invitations and their accept page) and the audit log."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from luneo.platform.clock import utcnow
from luneo.platform.database import get_db
from luneo.platform.tenancy import bind_system, bind_tenant

from .helpers import csrf_of, post, sign_in
from .orders_helpers import count_queries

PASSWORD = "correct horse battery"


def _member(brand: Any, email: str, role: str) -> str:
    """A member's membership id."""
    from luneo.tenancy import service

    with get_db().transaction() as s:
        bind_system(s)
        user = service.create_user(s, email=email, password=PASSWORD)
        bind_tenant(s, brand.id)
        return service.add_member(s, brand_id=brand.id, user_id=user.id, role=role).id


def _memberships(brand_id: str) -> dict[str, str]:
    from luneo.tenancy.models import Membership, User

    with get_db().transaction(write=False) as s:
        bind_tenant(s, brand_id)
        rows = s.execute(select(User.email, Membership.role).join(User, User.id == Membership.user_id))
        return {e: r for e, r in rows}


def _owner_membership(brand: Any) -> str:
    from luneo.tenancy.models import Membership

    with get_db().transaction(write=False) as s:
        bind_tenant(s, brand.id)
        return s.execute(select(Membership.id).where(Membership.user_id == brand.owner_id)).scalar_one()


def _accept_url(brand_id: str, email: str) -> str:
    from luneo.notifications.models import EmailMessage

    with get_db().transaction(write=False) as s:
        bind_tenant(s, brand_id)
        msg = (
            s.execute(
                select(EmailMessage)
                .where(EmailMessage.to == email, EmailMessage.template == "invitation")
                .order_by(EmailMessage.id.desc())
            )
            .scalars()
            .first()
        )
    assert msg is not None
    return str(msg.context["accept_url"])


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def _audit_actions(brand_id: str) -> list[str]:
    from luneo.platform.models import AuditEvent

    with get_db().transaction(write=False) as s:
        bind_tenant(s, brand_id)
        return [a for (a,) in s.execute(select(AuditEvent.action))]


@pytest.fixture
def owner(client: Any, brand_a: Any) -> str:
    return sign_in(client, brand_a.owner_email)


def test_an_invitation_is_sent_then_accepted_on_the_dashboard_by_a_new_person(
    client: Any, app: Any, brand_a: Any, owner: str
) -> None:
    page = client.get("/dashboard/team")
    assert page.status_code == 200 and brand_a.owner_email in page.text
    r = post(client, "/dashboard/team/invitations", owner, {"email": "New@Alpha.example", "role": "editor"})
    assert r.status_code == 303 and r.headers["location"] == "/dashboard/team?saved=invited"
    page = client.get(r.headers["location"])
    pending = page.text.split('id="h-invitations"')[1]
    assert "new@alpha.example" in pending and "Invitation sent." in page.text
    url = _accept_url(brand_a.id, "new@alpha.example")
    assert "/dashboard/invitations/accept?token=" in url
    with TestClient(app, raise_server_exceptions=False) as guest:
        form = guest.get(_path(url))
        assert form.status_code == 200 and "Join Alpha" in form.text and "choose a password" in form.text
        token = csrf_of(guest, _path(url))
        raw = url.split("token=")[1]
        short = post(guest, "/dashboard/invitations/accept", token, {"token": raw, "password": "short"})
        assert short.status_code == 422 and "at least 8 characters" in short.text
        done = post(
            guest,
            "/dashboard/invitations/accept",
            token,
            {"token": raw, "password": "a long password", "name": "Nina"},
        )
        assert done.status_code == 303 and done.headers["location"] == "/dashboard"
        home = guest.get("/dashboard")
        assert home.status_code == 200 and "new@alpha.example" in home.text and "Alpha" in home.text
        used = guest.get(_path(url))
        assert "already used or revoked" in used.text
    assert _memberships(brand_a.id)["new@alpha.example"] == "editor"
    assert {"member.invited", "member.joined"} <= set(_audit_actions(brand_a.id))
    assert "new@alpha.example" not in client.get("/dashboard/team").text.split('id="h-invitations"')[1]


def test_someone_with_an_account_signs_in_then_joins(
    client: Any, app: Any, brand_a: Any, brand_b: Any, owner: str
) -> None:
    post(client, "/dashboard/team/invitations", owner, {"email": brand_b.owner_email, "role": "viewer"})
    path = _path(_accept_url(brand_a.id, brand_b.owner_email))
    with TestClient(app, raise_server_exceptions=False) as guest:
        page = guest.get(path)
        login = re.search(r'href="(/dashboard/login\?next=[^"]+)"', page.text)
        assert login and "Sign in to accept" in page.text and 'name="password"' not in page.text
        token = csrf_of(guest, "/dashboard/login")
        r = guest.post(
            "/dashboard/login",
            data={
                "email": brand_b.owner_email,
                "password": PASSWORD,
                "csrf": token,
                "next": path,
            },
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"] == path
        page = guest.get(path)
        assert "Join Alpha" in page.text and 'name="password"' not in page.text
        done = post(guest, "/dashboard/invitations/accept", token, {"token": path.split("token=")[1]})
        assert done.status_code == 303
        assert "Alpha" in guest.get("/dashboard").text
    assert _memberships(brand_a.id)[brand_b.owner_email] == "viewer"


def test_an_invitation_for_someone_else_or_a_bad_link(
    client: Any, app: Any, brand_a: Any, owner: str
) -> None:
    post(client, "/dashboard/team/invitations", owner, {"email": "someone@alpha.example", "role": "viewer"})
    path = _path(_accept_url(brand_a.id, "someone@alpha.example"))
    page = client.get(path)  # signed in as the owner, not the invitee
    assert "You are signed in as owner@alpha.example" in page.text
    done = post(client, "/dashboard/invitations/accept", owner, {"token": path.split("token=")[1]})
    assert done.status_code == 403 and "another email address" in done.text
    bad = client.get("/dashboard/invitations/accept?token=not-a-real-token-at-all")
    assert bad.status_code == 404 and "does not work" in bad.text
    assert client.get("/dashboard/invitations/accept").status_code == 404


def test_invite_form_errors_are_shown(client: Any, brand_a: Any, owner: str) -> None:
    r = post(client, "/dashboard/team/invitations", owner, {"email": "not-an-email", "role": "editor"})
    assert r.status_code == 422 and 'id="invite-error"' in r.text and "not a valid email" in r.text
    r = post(client, "/dashboard/team/invitations", owner, {"email": brand_a.owner_email, "role": "editor"})
    assert r.status_code == 409 and "already a member" in r.text
    r = post(client, "/dashboard/team/invitations", owner, {"email": "x@alpha.example", "role": "god"})
    assert r.status_code == 422


def test_revoking_an_invitation(client: Any, brand_a: Any, owner: str) -> None:
    from luneo.tenancy.models import Invitation

    post(client, "/dashboard/team/invitations", owner, {"email": "gone@alpha.example", "role": "viewer"})
    with get_db().transaction(write=False) as s:
        bind_tenant(s, brand_a.id)
        inv_id = s.execute(select(Invitation.id)).scalar_one()
    r = post(client, f"/dashboard/team/invitations/{inv_id}/revoke", owner)
    assert r.status_code == 303
    assert "gone@alpha.example" not in client.get("/dashboard/team").text
    path = _path(_accept_url(brand_a.id, "gone@alpha.example"))
    assert "already used or revoked" in client.get(path).text
    assert "member.invitation_revoked" in _audit_actions(brand_a.id)


def test_role_changes_follow_the_owner_rules(client: Any, app: Any, brand_a: Any, owner: str) -> None:
    mine = _owner_membership(brand_a)
    r = post(client, f"/dashboard/team/members/{mine}/role", owner, {"role": "viewer"})
    assert r.status_code == 409 and "at least one owner" in r.text and 'id="team-error"' in r.text
    assert _memberships(brand_a.id)[brand_a.owner_email] == "owner"
    editor = _member(brand_a, "ed@alpha.example", "editor")
    r = post(client, f"/dashboard/team/members/{editor}/role", owner, {"role": "viewer"})
    assert r.status_code == 303 and _memberships(brand_a.id)["ed@alpha.example"] == "viewer"
    assert "Role changed." in client.get(r.headers["location"]).text
    assert "member.role_changed" in _audit_actions(brand_a.id)
    assert post(client, f"/dashboard/team/members/{editor}/role", owner, {"role": "god"}).status_code == 422
    # an admin may not grant the owner role
    _member(brand_a, "adm@alpha.example", "admin")
    with TestClient(app, raise_server_exceptions=False) as other:
        csrf = sign_in(other, "adm@alpha.example")
        r = post(other, f"/dashboard/team/members/{editor}/role", csrf, {"role": "owner"})
        assert r.status_code == 403 and "Only an owner" in r.text
        r = post(other, f"/dashboard/team/members/{mine}/remove", csrf)
        assert r.status_code == 403 and "Only an owner" in r.text
    assert _memberships(brand_a.id)["ed@alpha.example"] == "viewer"


def test_removing_a_member_asks_first(client: Any, brand_a: Any, owner: str) -> None:
    editor = _member(brand_a, "ed@alpha.example", "editor")
    confirm = client.get(f"/dashboard/team/members/{editor}/remove")
    assert confirm.status_code == 200 and "Remove ed@alpha.example?" in confirm.text
    assert "ed@alpha.example" in _memberships(brand_a.id)
    r = post(client, f"/dashboard/team/members/{editor}/remove", owner)
    assert r.status_code == 303 and "ed@alpha.example" not in _memberships(brand_a.id)
    assert "member.removed" in _audit_actions(brand_a.id)
    r = post(client, f"/dashboard/team/members/{_owner_membership(brand_a)}/remove", owner)
    assert r.status_code == 409 and "at least one owner" in r.text


def test_another_brands_members_and_invitations_answer_404(
    client: Any, brand_a: Any, brand_b: Any, owner: str
) -> None:
    from luneo.tenancy import service

    theirs = _owner_membership(brand_b)
    with get_db().transaction() as s:
        bind_tenant(s, brand_b.id)
        from luneo.platform.config import get_settings

        inv = service.invite_member(
            s,
            get_settings(),
            brand_id=brand_b.id,
            email="x@bravo.example",
            role="viewer",
            invited_by=None,
            actor_role=None,
        ).id
    assert client.get(f"/dashboard/team/members/{theirs}/remove").status_code == 404
    assert post(client, f"/dashboard/team/members/{theirs}/remove", owner).status_code == 404
    assert (
        post(client, f"/dashboard/team/members/{theirs}/role", owner, {"role": "viewer"}).status_code == 404
    )
    assert post(client, f"/dashboard/team/invitations/{inv}/revoke", owner).status_code == 404
    assert _memberships(brand_b.id)[brand_b.owner_email] == "owner"
    assert "x@bravo.example" not in client.get("/dashboard/team").text


@pytest.mark.parametrize("role", ["editor", "viewer", "production"])
def test_roles_without_members_manage_get_403_and_no_menu_entry(client: Any, brand_a: Any, role: str) -> None:
    _member(brand_a, f"{role}@alpha.example", role)
    csrf = sign_in(client, f"{role}@alpha.example")
    page = client.get("/dashboard/orders")
    nav = page.text.split('id="main-nav"')[1].split("</nav>")[0]
    assert 'href="/dashboard/team"' not in nav
    mine = _owner_membership(brand_a)
    for path in ("/dashboard/team", "/dashboard/team/audit", f"/dashboard/team/members/{mine}/remove"):
        assert client.get(path).status_code == 403, path
    for path, data in (
        ("/dashboard/team/invitations", {"email": "z@alpha.example", "role": "viewer"}),
        (f"/dashboard/team/members/{mine}/role", {"role": "viewer"}),
        (f"/dashboard/team/members/{mine}/remove", {}),
        ("/dashboard/team/invitations/inv_x/revoke", {}),
    ):
        assert post(client, path, csrf, data).status_code == 403, path
    assert _memberships(brand_a.id)[brand_a.owner_email] == "owner"


def _audit_rows(brand: Any, n: int, action: str = "payment.refunded", days_ago: int = 0) -> None:
    from luneo.tenancy import service

    with get_db().transaction() as s:
        bind_tenant(s, brand.id)
        for i in range(n):
            service.audit(s, brand.id, brand.owner_id, action, "payment", f"pay_{action}_{i}", {"n": i})
        if days_ago:
            from luneo.platform.models import AuditEvent

            for e in s.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars():
                e.created_at = utcnow() - timedelta(days=days_ago)


def test_the_audit_log_lists_filters_and_pages(client: Any, brand_a: Any, brand_b: Any, owner: str) -> None:
    _audit_rows(brand_a, 20)
    _audit_rows(brand_a, 10, "workorder.override", days_ago=10)
    _audit_rows(brand_b, 3, "bravo.secret")
    post(client, "/dashboard/team/invitations", owner, {"email": "aud@alpha.example", "role": "viewer"})
    page = client.get("/dashboard/team/audit")
    assert page.status_code == 200
    assert page.text.count("<code>member.invited</code>") == 1 and "bravo.secret" not in page.text
    assert page.text.count("<tr>") == 1 + 25 and 'rel="next"' in page.text and 'rel="prev"' not in page.text
    second = client.get("/dashboard/team/audit?p=2")
    assert (
        second.text.count("<tr>") == 1 + 6 and 'rel="prev"' in second.text and 'rel="next"' not in second.text
    )
    only = client.get("/dashboard/team/audit?action=workorder.override")
    assert (
        only.text.count("<code>workorder.override</code>") == 10
        and "payment.refunded</code>" not in only.text
    )
    recent = (utcnow() - timedelta(days=2)).date().isoformat()
    fresh = client.get(f"/dashboard/team/audit?since={recent}")
    assert "workorder.override</code>" not in fresh.text and "<code>member.invited</code>" in fresh.text
    old = client.get(f"/dashboard/team/audit?until={recent}")
    assert old.text.count("<code>workorder.override</code>") == 10 and "member.invited</code>" not in old.text
    by_actor = client.get("/dashboard/team/audit?actor=owner%40alpha")
    assert "member.invited</code>" in by_actor.text
    nobody = client.get("/dashboard/team/audit?actor=nobody%40elsewhere.example")
    assert "No entry matches these filters." in nobody.text
    kept = client.get("/dashboard/team/audit?action=payment.refunded&p=1")
    assert "action=payment.refunded&amp;p=2" not in kept.text  # 20 rows: one page
    bad = client.get("/dashboard/team/audit?since=yesterday")
    assert bad.status_code == 200 and "YYYY-MM-DD" in bad.text


def test_members_and_audit_pages_do_not_make_more_queries_with_30_rows(
    client: Any, brand_a: Any, owner: str
) -> None:
    counts: dict[str, list[int]] = {"/dashboard/team": [], "/dashboard/team/audit": []}
    for path in counts:
        client.get(path)  # warm the per-process caches first
    for start, n in ((0, 2), (2, 28)):
        for i in range(start, start + n):
            _member(brand_a, f"m{i}@alpha.example", "viewer")
        _audit_rows(brand_a, n, f"action.{start}")
        for path, seen_counts in counts.items():
            with count_queries() as seen:
                assert client.get(path).status_code == 200
            seen_counts.append(len(seen))
    for path, (few, many) in counts.items():
        assert few == many and few <= 20, (path, few, many)
