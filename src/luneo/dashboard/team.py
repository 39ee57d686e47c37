"""Team pages (issue 14 item 9): members and their roles, invitations and the page their email
links to, and the audit log of sensitive actions (keys, roles, overrides, refunds, payments).

The owner rules are the API's (`tenancy.set_role` / `remove_member`): only owners manage owners
and a brand keeps at least one owner; a refused change shows the rule's message.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Form
from fastapi.responses import Response

from luneo.dashboard import session
from luneo.dashboard.forms import refusal, submit
from luneo.dashboard.guard import Page, page_dep, page_url
from luneo.dashboard.pages import PublicPage, router
from luneo.platform.config import get_settings
from luneo.platform.database import get_db
from luneo.platform.domain_errors import DomainError
from luneo.platform.tenancy import bind_system
from luneo.tenancy import public as tenancy

TeamPage = Annotated[Page, page_dep("members:manage")]
TeamWrite = Annotated[Page, page_dep("members:manage", write=True)]

BASE = "/dashboard/team"
AUDIT_PER_PAGE = 25


def role_names(page: Page) -> dict[str, str]:
    """The roles' names in the page's language, in `ROLES` order."""
    names = {
        "owner": page.gettext("Owner"),
        "admin": page.gettext("Admin"),
        "editor": page.gettext("Editor"),
        "production": page.gettext("Production"),
        "viewer": page.gettext("Viewer"),
    }
    return {r: names.get(r, r) for r in tenancy.ROLES}


def _actor(page: Page) -> str:
    return page.principal.actor if page.principal else "dashboard"


def _role(page: Page) -> str | None:
    return page.principal.role if page.principal else None


def _render(page: Page, status_code: int = 200, **extra: Any) -> Response:
    ctx: dict[str, Any] = {
        "members": tenancy.members(page.session),
        "invitations": tenancy.pending_invitations(page.session),
        "roles": role_names(page),
        "me": page.principal.user_id if page.principal else None,
        "invite": {"email": "", "role": "editor", "name": "", "error": None},
        "error": None,
        "notice": None,
    }
    ctx.update(extra)
    return page.render("team/index.html", status_code=status_code, **ctx)


_NOTICES = {
    "invited": "Invitation sent.",
    "revoked": "Invitation revoked: its link no longer works.",
    "role": "Role changed.",
    "removed": "Member removed.",
}


@router.get("/team")
def team(page: TeamPage, saved: str | None = None) -> Response:
    """Members with their roles, pending invitations and the invite form."""
    return _render(page, notice=page.gettext(_NOTICES[saved]) if saved in _NOTICES else None)


@router.post("/team/invitations")
def invite(
    page: TeamWrite,
    email: Annotated[str, Form(max_length=320)] = "",
    role: Annotated[str, Form(max_length=20)] = "editor",
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Invite someone by email with a role: they get the invitation email with its accept link."""
    form = {"email": email, "role": role, "name": name}
    return submit(
        page,
        lambda: tenancy.invite(
            page.session,
            get_settings(),
            brand_id=page.brand_id,
            email=email,
            role=role,
            name=name.strip(),
            actor=_actor(page),
            actor_role=_role(page),
        ),
        then=f"{BASE}?saved=invited",
        failed=lambda r: _render(page, status_code=r.status, invite={**form, "error": r.message}),
    )


@router.post("/team/invitations/{invitation_id}/revoke")
def revoke_invitation(page: TeamWrite, invitation_id: str) -> Response:
    """Revoke a pending invitation (404 for another brand's)."""
    tenancy.revoke_invitation(page.session, invitation_id, _actor(page))
    return page.redirect(f"{BASE}?saved=revoked")


@router.post("/team/members/{membership_id}/role")
def change_role(page: TeamWrite, membership_id: str, role: Annotated[str, Form(max_length=20)]) -> Response:
    """Change a member's role (the API's owner rules; a refusal shows its message)."""
    member = tenancy.membership(page.session, membership_id)
    if role not in tenancy.ROLES:
        return _render(page, status_code=422, error=page.gettext("Choose one of the listed roles."))
    return submit(
        page,
        lambda: tenancy.set_role(page.session, member, role, actor_role=_role(page), actor=_actor(page)),
        then=f"{BASE}?saved=role",
        failed=lambda r: _render(page, status_code=r.status, error=r.message),
    )


@router.get("/team/members/{membership_id}/remove")
def confirm_remove(page: TeamPage, membership_id: str) -> Response:
    """Ask before removing a member (404 for another brand's membership)."""
    member = tenancy.membership(page.session, membership_id)
    user = page.session.get(tenancy.User, member.user_id)
    return page.render(
        "team/remove.html", member=member, email=user.email if user else "", roles=role_names(page)
    )


@router.post("/team/members/{membership_id}/remove")
def remove(page: TeamWrite, membership_id: str) -> Response:
    """Remove a member (owner rules enforced)."""
    member = tenancy.membership(page.session, membership_id)
    return submit(
        page,
        lambda: tenancy.remove_member(page.session, member, actor_role=_role(page), actor=_actor(page)),
        then=f"{BASE}?saved=removed",
        failed=lambda r: _render(page, status_code=r.status, error=r.message),
    )


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@router.get("/team/audit")
def audit(
    page: TeamPage,
    action: str | None = None,
    actor: str | None = None,
    since: str | None = None,
    until: str | None = None,
    p: int = 1,
) -> Response:
    """The brand's audit log, newest first, filtered by action, actor and dates, 25 a page."""
    action = (action or "").strip()[:80] or None
    actor = (actor or "").strip()[:320] or None
    start, end = _day(since), _day(until)
    page_no = max(1, min(p, 10_000))
    rows, has_next = tenancy.audit_events(
        page.session,
        action=action,
        actor=actor,
        since=datetime.combine(start, datetime.min.time()) if start else None,
        until=datetime.combine(end, datetime.min.time()) + timedelta(days=1) if end else None,
        page=page_no,
        per_page=AUDIT_PER_PAGE,
    )
    filters = {
        "action": action or "",
        "actor": actor or "",
        "since": start.isoformat() if start else "",
        "until": end.isoformat() if end else "",
    }
    kept = {k: v for k, v in filters.items() if v}
    return page.render(
        "team/audit.html",
        rows=rows,
        actions=tenancy.audit_actions(page.session),
        filters=filters,
        page_no=page_no,
        prev_url=f"{BASE}/audit?{urlencode({**kept, 'p': page_no - 1})}" if page_no > 1 else None,
        next_url=f"{BASE}/audit?{urlencode({**kept, 'p': page_no + 1})}" if has_next else None,
        date_error=page.gettext("Dates are written YYYY-MM-DD.")
        if (since and not start) or (until and not end)
        else None,
    )


# --- the invitation email's link -----------------------------------------------------------------


def _view(token: str) -> tenancy.InvitationView | None:
    with get_db().transaction(write=False) as s:
        bind_system(s)
        return tenancy.invitation_by_token(s, token)


def _accept_page(page: Page, token: str, status_code: int = 200, error: str | None = None) -> Response:
    view = _view(token)
    here = "/dashboard/invitations/accept?" + urlencode({"token": token})
    return page.render(
        "team/accept.html",
        status_code=status_code if view is not None else 404,
        view=view,
        token=token,
        error=error,
        roles=role_names(page),
        login_url=page_url("/dashboard/login", here),
        min_password=8,
    )


@router.get("/invitations/accept")
def accept_form(page: PublicPage, token: str = "") -> Response:
    """Where the invitation email leads: join as the signed-in invitee, sign in, or set a password."""
    return _accept_page(page, token[:200])


@router.post("/invitations/accept")
def accept(
    page: PublicPage,
    token: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=512)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Join the brand (`accept_invitation`, as the API route): signed in as the invited email, or
    creating the account with `password`; then open the brand's dashboard."""
    user_id = page.principal.user_id if page.principal else None
    if user_id is None and password and len(password) < 8:
        error = page.gettext("Choose a password of at least 8 characters.")
        return _accept_page(page, token, 422, error)
    try:
        with get_db().transaction() as s:
            membership, _user, tokens = tenancy.accept_invitation(
                s,
                get_settings(),
                token,
                user_id=user_id,
                password=password or None,
                name=name.strip() or None,
            )
            brand_id = membership.brand_id
    except DomainError as exc:
        refused = refusal(exc)
        return _accept_page(page, token, refused.status, refused.message)
    if tokens is not None:
        session.sign_in(page.request, *tokens)
    session.queue_cookie(page.request, session.BRAND_COOKIE, brand_id)
    return page.redirect("/dashboard")
