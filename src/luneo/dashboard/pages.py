"""Dashboard pages of the shell: static files, sign-in and sign-out, the home page, the brand
and language switchers, and the credits badge (an HTMX partial refreshed every 30 s).

Every other area registers its pages on `router` from its own module (`luneo.dashboard.<area>`),
imported at the bottom of this file so one router serves the whole dashboard.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from luneo.credits import public as credits
from luneo.dashboard import i18n, session
from luneo.dashboard.guard import Page, page_dep, public_page
from luneo.dashboard.templating import STATIC
from luneo.platform.config import get_settings
from luneo.platform.database import get_db
from luneo.platform.domain_errors import DomainError
from luneo.platform.errors import Problem
from luneo.platform.tenancy import bind_system
from luneo.tenancy import public as tenancy

router = APIRouter(prefix="/dashboard", include_in_schema=False, dependencies=[Depends(session.check_csrf)])

PublicPage = Annotated[Page, Depends(public_page)]
BrandPage = Annotated[Page, page_dep("brand:read")]
#: Any member of the brand, whatever their role (the home page, the brand switcher).
MemberPage = Annotated[Page, page_dep()]
CreditsPage = Annotated[Page, page_dep("credits:read")]

_TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml", ".png": "image/png"}
#: Files a page may load (listed, never a path from the URL).
STATIC_FILES = frozenset(
    str(p.relative_to(STATIC)) for p in STATIC.rglob("*") if p.is_file() and p.suffix in _TYPES
)


@router.get("/static/{name:path}")
def static_file(name: str) -> Response:
    """A stylesheet, script or image of the dashboard (versioned URLs: cached for a year)."""
    if name not in STATIC_FILES:
        raise Problem(404, "not_found", "No such file.")
    path = STATIC / name
    return Response(
        path.read_bytes(),
        media_type=_TYPES[Path(name).suffix],
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )


def _safe_next(value: str | None) -> str:
    """Only a path of the dashboard itself (no open redirect to another site)."""
    if value and value.startswith("/dashboard") and not value.startswith("//") and "\\" not in value:
        return value
    return "/dashboard"


@router.get("/login")
def login_form(page: PublicPage, next: str | None = None) -> Response:
    """The sign-in form (a signed-in person goes straight to the dashboard)."""
    if page.principal is not None and page.principal.brand_id is not None:
        return page.redirect(_safe_next(next))
    return page.render("login.html", next=_safe_next(next), error=None, email="")


@router.post("/login")
def login(
    page: PublicPage,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/dashboard",
) -> Response:
    """Check the password, set the session cookies and go on (or show the form with the error)."""
    try:
        with get_db().transaction() as s:
            bind_system(s)
            access, refresh = tenancy.login(s, get_settings(), email, password)
    except DomainError:
        return page.render(
            "login.html",
            status_code=401,
            next=_safe_next(next),
            email=email,
            error=page.gettext("Email or password is wrong."),
        )
    session.sign_in(page.request, access, refresh)
    return page.redirect(_safe_next(next))


@router.post("/logout")
def logout(request: Request) -> Response:
    """Revoke the session (its whole refresh family) and clear the cookies."""
    raw = request.cookies.get(session.REFRESH_COOKIE)
    if raw:
        with get_db().transaction() as s:
            bind_system(s)
            tenancy.logout(s, raw)
    session.sign_out(request)
    session.queue_cookie(request, session.BRAND_COOKIE, None)
    return session.apply_cookies(request, Response(status_code=303, headers={"Location": "/dashboard/login"}))


@router.post("/brand")
def switch_brand(page: MemberPage, brand_id: Annotated[str, Form(max_length=40)]) -> Response:
    """Act in another of the person's brands (a brand they do not belong to is refused)."""
    if brand_id not in {b.id for b in page.brands}:
        raise Problem(404, "not_found", "No such brand.")
    session.queue_cookie(page.request, session.BRAND_COOKIE, brand_id)
    return page.redirect("/dashboard")


@router.post("/language")
def switch_language(
    request: Request,
    lang: Annotated[str, Form(max_length=8)],
    next: Annotated[str, Form(max_length=2000)] = "/dashboard",
) -> Response:
    """Remember the chosen language (a cookie) and reload the page in it."""
    if lang not in i18n.SUPPORTED:
        raise Problem(422, "unsupported_language", f"Choose one of {', '.join(i18n.SUPPORTED)}.")
    session.queue_cookie(request, i18n.LANG_COOKIE, lang, max_age=365 * 24 * 3600)
    return session.apply_cookies(request, Response(status_code=303, headers={"Location": _safe_next(next)}))


def badge_level(balance: int, last_topup: int) -> str:
    """`ok`, `low` (under 20 % of the last grant or purchase) or `empty` — the badge's colour."""
    if balance <= 0:
        return "empty"
    if last_topup > 0 and balance * 5 < last_topup:
        return "low"
    return "ok"


@router.get("/partials/credits")
def credits_badge(page: CreditsPage) -> Response:
    """The header's credits badge (HTMX polls it every 30 s)."""
    view = credits.balance_view(page.session, page.brand_id, use_cache=False)
    level = badge_level(int(view["balance"]), int(view["last_topup"]))
    return page.render(
        "_credits_badge.html", balance=view["balance"], level=level, last_topup=view["last_topup"]
    )


@router.get("")
def home(page: MemberPage) -> Response:
    """The brand's home page (the onboarding checklist and key figures: `account.home_context`)."""
    from luneo.dashboard.account import home_context

    return page.render("home.html", **home_context(page))


# Every area's pages, registered on `router` by importing their modules.
from luneo.dashboard import (  # noqa: E402,F401
    account,
    analytics,
    billing,
    emails,
    fonts_assets,
    fulfilment,
    integrations,
    orders,
    product_templates,
    production,
    products,
    shopify,
    team,
    webhooks,
)
