"""Routes: login sessions, the current brand, members and API keys."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from luneo.platform.auth import Principal, Tenant, authenticate, guard
from luneo.platform.config import get_settings
from luneo.platform.database import get_db
from luneo.platform.errors import NotFound, Problem
from luneo.platform.pagination import Page, paginate
from luneo.platform.tenancy import bind_system, get_or_404
from luneo.tenancy import service
from luneo.tenancy.models import ApiKey, Brand, Membership, User
from luneo.tenancy.schemas import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyOut,
    BrandOut,
    BrandPatch,
    LoginIn,
    MemberIn,
    MemberPatch,
    MembershipOut,
    MeOut,
    RefreshIn,
    TokenOut,
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
def get_brand(t: Tenant = guard("brand:read")) -> Brand:
    """The caller's brand."""
    return get_or_404(t.session, Brand, t.brand_id, "brand")


@router.patch("/brand", response_model=BrandOut)
def patch_brand(body: BrandPatch, t: Tenant = guard("brand:manage")) -> Brand:
    """Rename the brand, set its allowed origins (CORS for the widget) or settings."""
    brand = get_or_404(t.session, Brand, t.brand_id, "brand")
    for field, value in body.model_dump(exclude_unset=True).items():
        setattr(brand, field, value)
    from luneo.platform.auth import clear_auth_caches

    clear_auth_caches()
    return brand


def _member_out(m: Membership, email: str | None) -> MembershipOut:
    return MembershipOut(id=m.id, user_id=m.user_id, role=m.role, email=email, created_at=m.created_at)  # type: ignore[arg-type]


@router.get("/brand/members", response_model=Page[MembershipOut])
def list_members(
    cursor: str | None = None, limit: int = 50, t: Tenant = guard("members:manage")
) -> Page[MembershipOut]:
    """People with a role in this brand."""
    page = paginate(t.session, select(Membership), Membership, cursor, limit)
    emails = dict(
        t.session.execute(
            select(User.id, User.email).where(User.id.in_([m.user_id for m in page.data]))
        ).all()
    )
    return Page(data=[_member_out(m, emails.get(m.user_id)) for m in page.data], next_cursor=page.next_cursor)


@router.post("/brand/members", response_model=MembershipOut, status_code=201)
def add_member(body: MemberIn, t: Tenant = guard("members:manage")) -> MembershipOut:
    """Give a user (existing, or created now with a password) a role in this brand."""
    if body.role == "owner" and t.principal.role != "owner":
        raise Problem(403, "forbidden", "Only an owner can make another owner.")
    user = t.session.execute(select(User).where(User.email == body.email.lower())).scalar_one_or_none()
    if user is None:
        if not body.password:
            raise Problem(
                422, "password_required", "This email has no account: give a password to create it."
            )
        user = service.create_user(t.session, email=body.email, password=body.password, name=body.name)
    m = service.add_member(t.session, brand_id=t.brand_id, user_id=user.id, role=body.role)
    return _member_out(m, user.email)


@router.patch("/brand/members/{membership_id}", response_model=MembershipOut)
def change_role(membership_id: str, body: MemberPatch, t: Tenant = guard("members:manage")) -> MembershipOut:
    """Change a member's role."""
    m = get_or_404(t.session, Membership, membership_id, "membership")
    if (m.role == "owner" or body.role == "owner") and t.principal.role != "owner":
        raise Problem(403, "forbidden", "Only an owner can change an owner.")
    m.role = body.role
    from luneo.platform.auth import clear_auth_caches

    clear_auth_caches()
    user = t.session.get(User, m.user_id)
    return _member_out(m, user.email if user else None)


@router.delete("/brand/members/{membership_id}", status_code=204)
def remove_member(membership_id: str, t: Tenant = guard("members:manage")) -> Response:
    """Remove a member (the last owner cannot be removed)."""
    m = get_or_404(t.session, Membership, membership_id, "membership")
    if m.role == "owner":
        owners = t.session.execute(select(Membership.id).where(Membership.role == "owner")).all()
        if len(owners) <= 1:
            raise Problem(409, "last_owner", "A brand keeps at least one owner.")
    t.session.delete(m)
    from luneo.platform.auth import clear_auth_caches

    clear_auth_caches()
    return Response(status_code=204)


@router.get("/api-keys", response_model=Page[ApiKeyOut])
def list_keys(
    cursor: str | None = None, limit: int = 50, t: Tenant = guard("keys:manage")
) -> Page[ApiKeyOut]:
    """The brand's API keys (never the keys themselves)."""
    return paginate(t.session, select(ApiKey), ApiKey, cursor, limit).map(ApiKeyOut.model_validate)


@router.post("/api-keys", response_model=ApiKeyCreated, status_code=201)
def create_key(body: ApiKeyIn, t: Tenant = guard("keys:manage")) -> ApiKeyCreated:
    """Create a `pk_` or `sk_` key; the full key is in this response only."""
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
def revoke_key(key_id: str, t: Tenant = guard("keys:manage")) -> ApiKey:
    """Revoke a key: it stops working at once."""
    try:
        return service.revoke_api_key(t.session, key_id)
    except NotFound:
        raise NotFound("api key", key_id) from None
