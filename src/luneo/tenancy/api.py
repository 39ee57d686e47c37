"""Routes: login sessions, the current brand, members and invitations, API keys, and the
platform-admin routes (`/admin/...`: list, suspend and reinstate brands)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from luneo.platform.auth import Principal, authenticate
from luneo.platform.config import get_settings
from luneo.platform.database import get_db
from luneo.platform.deps import BrandManageDep, BrandReadDep, KeysManageDep, MembersManageDep
from luneo.platform.errors import Problem
from luneo.platform.pagination import Page, paginate
from luneo.platform.tenancy import bind_system, get_or_404
from luneo.tenancy import service
from luneo.tenancy.models import ApiKey, Brand, Invitation, Membership, User
from luneo.tenancy.schemas import (
    AdminBrandOut,
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyOut,
    BrandOut,
    BrandPatch,
    InvitationAccept,
    InvitationAccepted,
    InvitationOut,
    LoginIn,
    MemberIn,
    MemberPatch,
    MembershipOut,
    MeOut,
    RefreshIn,
    SuspendIn,
    TokenOut,
    UnsuspendIn,
)

router = APIRouter(tags=["auth & tenancy"])


def _tokens(access: str, refresh: str) -> TokenOut:
    return TokenOut(access_token=access, refresh_token=refresh, expires_in=get_settings().access_token_ttl_s)


@router.post("/auth/login", response_model=TokenOut)
def login(body: LoginIn) -> TokenOut:
    """Exchange email + password for a short-lived access JWT and a rotating refresh token."""
    with get_db().transaction() as s:
        bind_system(s)
        return _tokens(*service.login(s, get_settings(), body.email, body.password))


@router.post("/auth/refresh", response_model=TokenOut)
def refresh(body: RefreshIn) -> TokenOut:
    """Rotate a refresh token: the old one stops working, a reused one revokes the session."""
    with get_db().transaction() as s:
        bind_system(s)
        return _tokens(*service.refresh(s, get_settings(), body.refresh_token))


@router.post("/auth/logout", status_code=204)
def logout(body: RefreshIn) -> Response:
    """Revoke the session the refresh token belongs to."""
    with get_db().transaction() as s:
        bind_system(s)
        service.logout(s, body.refresh_token)
    return Response(status_code=204)


@router.get("/me", response_model=MeOut)
async def me(request: Request) -> MeOut:
    """Who the credential is, which brand it acts in, and what it may do."""
    return await run_in_threadpool(_me, request)


def _me(request: Request) -> MeOut:
    p: Principal = authenticate(request)
    email = None
    memberships: list[dict[str, str]] = []
    if p.user_id:
        with get_db().transaction(write=False) as s:
            bind_system(s)
            user = s.get(User, p.user_id)
            email = user.email if user else None
            rows = s.execute(
                select(Membership.brand_id, Membership.role, Brand.slug)
                .join(Brand, Brand.id == Membership.brand_id)
                .where(Membership.user_id == p.user_id)
            ).all()
            memberships = [{"brand_id": b, "role": r, "slug": slug} for b, r, slug in rows]
    return MeOut(
        user_id=p.user_id,
        email=email,
        brand_id=p.brand_id,
        role=p.role,
        kind=p.kind,
        permissions=sorted(p.permissions),
        memberships=memberships,
    )


@router.get("/brand", response_model=BrandOut)
def get_brand(t: BrandReadDep) -> Brand:
    """The caller's brand."""
    return get_or_404(t.session, Brand, t.brand_id, "brand")


@router.patch("/brand", response_model=BrandOut)
def patch_brand(body: BrandPatch, t: BrandManageDep) -> Brand:
    """Rename the brand, set its allowed origins (CORS for the widget) or settings."""
    return service.update_brand(t.session, t.brand_id, body.model_dump(exclude_unset=True))


def _member_out(m: Membership, email: str | None) -> MembershipOut:
    return MembershipOut(id=m.id, user_id=m.user_id, role=m.role, email=email, created_at=m.created_at)  # type: ignore[arg-type]


@router.get("/brand/members", response_model=Page[MembershipOut])
def list_members(t: MembersManageDep, cursor: str | None = None, limit: int = 50) -> Page[MembershipOut]:
    """People with a role in this brand."""
    page = paginate(t.session, select(Membership), Membership, cursor, limit)
    emails = dict(
        t.session.execute(
            select(User.id, User.email).where(User.id.in_([m.user_id for m in page.data]))
        ).all()
    )
    return Page(data=[_member_out(m, emails.get(m.user_id)) for m in page.data], next_cursor=page.next_cursor)


def _invitation_out(inv: Invitation) -> InvitationOut:
    return InvitationOut(
        id=inv.id,
        email=inv.email,
        role=inv.role,  # type: ignore[arg-type]
        status=service.invitation_status(inv),  # type: ignore[arg-type]
        expires_at=inv.expires_at,
        created_at=inv.created_at,
    )


@router.post("/brand/members", response_model=InvitationOut, status_code=202)
def add_member(body: MemberIn, t: MembersManageDep) -> InvitationOut:
    """Invite someone by email to join with a role: they get an email with an accept link.

    The answer is the same whether or not the email has an account on the platform (nobody
    joins until the invitee accepts). Only owners invite owners. Someone already a member: 409
    `already_member` (change their role with PATCH).
    """
    inv = service.invite_member(
        t.session,
        get_settings(),
        brand_id=t.brand_id,
        email=body.email,
        role=body.role,
        name=body.name,
        invited_by=t.principal.actor,
        actor_role=t.principal.role,
    )
    return _invitation_out(inv)


@router.get("/brand/invitations", response_model=Page[InvitationOut])
def list_invitations(t: MembersManageDep, cursor: str | None = None, limit: int = 50) -> Page[InvitationOut]:
    """Invitations sent by this brand (pending, accepted, revoked or expired); never their tokens."""
    return paginate(t.session, select(Invitation), Invitation, cursor, limit).map(_invitation_out)


@router.delete("/brand/invitations/{invitation_id}", status_code=204)
def revoke_invitation(invitation_id: str, t: MembersManageDep) -> Response:
    """Revoke a pending invitation: its link stops working."""
    service.revoke_invitation(t.session, invitation_id, t.principal.actor)
    return Response(status_code=204)


@router.post(
    "/invitations/{token}/accept",
    response_model=InvitationAccepted,
    responses={410: {"description": "The invitation has expired (`invitation_expired`)."}},
    # The bearer is optional: the invitee is logged in, or creates the account with a password.
    openapi_extra={"security": [{}, {"HTTPBearer": []}]},
)
def accept_invitation(
    token: str, request: Request, body: InvitationAccept | None = None
) -> InvitationAccepted:
    """Accept an invitation (the token from the email). Logged in as the invited email: send the
    bearer token. No account for that email yet: send `{"password": ...}` to create it; the
    answer then carries a session (access and refresh tokens)."""
    user_id = None
    if request.headers.get("authorization"):
        user_id = authenticate(request, allow_suspended=True).user_id
        if user_id is None:
            raise Problem(
                403, "user_required", "Accept an invitation as a signed-in person, not with an API key."
            )
    body = body or InvitationAccept()
    with get_db().transaction() as s:
        m, user, tokens = service.accept_invitation(
            s, get_settings(), token, user_id=user_id, password=body.password, name=body.name
        )
        return InvitationAccepted(
            brand_id=m.brand_id,
            membership_id=m.id,
            user_id=user.id,
            role=m.role,  # type: ignore[arg-type]
            access_token=tokens[0] if tokens else None,
            refresh_token=tokens[1] if tokens else None,
        )


@router.patch("/brand/members/{membership_id}", response_model=MembershipOut)
def change_role(membership_id: str, body: MemberPatch, t: MembersManageDep) -> MembershipOut:
    """Change a member's role. Only owners grant or change the owner role; the last owner stays."""
    m = get_or_404(t.session, Membership, membership_id, "membership")
    service.set_role(t.session, m, body.role, actor_role=t.principal.role, actor=t.principal.actor)
    user = t.session.get(User, m.user_id)
    return _member_out(m, user.email if user else None)


@router.delete("/brand/members/{membership_id}", status_code=204)
def remove_member(membership_id: str, t: MembersManageDep) -> Response:
    """Remove a member. Only owners remove owners; the last owner cannot be removed (409)."""
    m = get_or_404(t.session, Membership, membership_id, "membership")
    service.remove_member(t.session, m, actor_role=t.principal.role, actor=t.principal.actor)
    return Response(status_code=204)


@router.get("/api-keys", response_model=Page[ApiKeyOut])
def list_keys(t: KeysManageDep, cursor: str | None = None, limit: int = 50) -> Page[ApiKeyOut]:
    """The brand's API keys (never the keys themselves)."""
    return paginate(t.session, select(ApiKey), ApiKey, cursor, limit).map(ApiKeyOut.model_validate)


@router.post("/api-keys", response_model=ApiKeyCreated, status_code=201)
def create_key(body: ApiKeyIn, response: Response, t: KeysManageDep) -> ApiKeyCreated:
    """Create a `pk_` or `sk_` key; the full key is in this response only."""
    response.headers["Cache-Control"] = "no-store"  # never cached, never kept for Idempotency-Key replays
    key, raw = service.create_api_key(
        t.session,
        brand_id=t.brand_id,
        kind=body.kind,
        name=body.name,
        allowed_origins=body.allowed_origins,
        created_by=t.principal.actor,
    )
    return ApiKeyCreated(**ApiKeyOut.model_validate(key).model_dump(), key=raw)


@router.delete("/api-keys/{key_id}", response_model=ApiKeyOut)
def revoke_key(key_id: str, t: KeysManageDep) -> ApiKey:
    """Revoke a key: it stops working at once."""
    # 404 `not_found` for another brand's key
    return service.revoke_api_key(t.session, key_id, t.principal.actor)


# --- platform administration ----------------------------------------------------------------------

_ADMIN_NOT_FOUND = "Not found."


def _platform_admin(request: Request) -> Principal:
    """The caller, if a signed-in platform admin; anyone else gets the same 404 as an unknown path."""
    principal = authenticate(request, allow_suspended=True)
    with get_db().transaction(write=False) as s:
        bind_system(s)
        if principal.kind != "user" or not service.is_platform_admin(s, principal.user_id):
            raise Problem(404, "not_found", _ADMIN_NOT_FOUND, title="Not found")
    return principal


PlatformAdminDep = Annotated[Principal, Depends(_platform_admin)]


def _admin_brand(brand: Brand) -> AdminBrandOut:
    return AdminBrandOut.model_validate(brand)


@router.get("/admin/brands", response_model=Page[AdminBrandOut], tags=["platform admin"])
def admin_list_brands(
    admin: PlatformAdminDep, cursor: str | None = None, limit: int = 50
) -> Page[AdminBrandOut]:
    """Every brand, newest first (platform admins only)."""
    with get_db().transaction(write=False) as s:
        bind_system(s)
        return paginate(s, select(Brand), Brand, cursor, limit).map(_admin_brand)


@router.post("/admin/brands/{brand_id}/suspend", response_model=AdminBrandOut, tags=["platform admin"])
def admin_suspend_brand(
    brand_id: str, admin: PlatformAdminDep, body: SuspendIn | None = None
) -> AdminBrandOut:
    """Suspend a brand: its API keys and sessions answer 403 `brand_suspended` at once (audited)."""
    with get_db().transaction() as s:
        bind_system(s)
        brand = service.set_suspended(
            s, brand_id, suspended=True, actor=admin.actor, reason=(body.reason if body else "")
        )
        return _admin_brand(brand)


@router.post("/admin/brands/{brand_id}/unsuspend", response_model=AdminBrandOut, tags=["platform admin"])
def admin_unsuspend_brand(
    brand_id: str, admin: PlatformAdminDep, body: UnsuspendIn | None = None
) -> AdminBrandOut:
    """Reinstate a suspended brand (audited)."""
    with get_db().transaction() as s:
        bind_system(s)
        return _admin_brand(service.set_suspended(s, brand_id, suspended=False, actor=admin.actor))
