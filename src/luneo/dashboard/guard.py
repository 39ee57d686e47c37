"""Who is looking at a dashboard page, in which brand, allowed to do what: the page guard.

`page_guard("orders:read")` is a route dependency: it reads the session cookie (rotating an
expired access token with the refresh cookie), picks the brand (`luneo_brand` cookie, else the
person's first), checks the permissions exactly as the API does, and opens the same brand-bound
transaction (`luneo.platform.auth.open_tenant`), committed when the page succeeds. Without a
session the browser is sent to the sign-in page; without the permission it gets a 403 page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from luneo.dashboard import i18n, session, templating
from luneo.platform.auth import Principal, Tenant, open_tenant, principal_from_access_token
from luneo.platform.config import get_settings
from luneo.platform.database import get_db
from luneo.platform.domain_errors import DomainError
from luneo.platform.errors import Problem
from luneo.platform.tenancy import bind_system
from luneo.tenancy import public as tenancy


class LoginRequired(Exception):
    """No valid session: the page answers a redirect to the sign-in page."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


@dataclass
class BrandChoice:
    """One brand the signed-in person belongs to (for the brand switcher)."""

    id: str
    name: str
    role: str


@dataclass
class Page:
    """Everything a dashboard route needs: the request, the person, their brand and language."""

    request: Request
    principal: Principal | None
    tenant: Tenant | None
    locale: str
    email: str = ""
    brands: list[BrandChoice] = field(default_factory=list)

    @property
    def session(self) -> Any:
        """The brand-bound database session (only on guarded pages)."""
        assert self.tenant is not None, "this page has no brand session"
        return self.tenant.session

    @property
    def brand_id(self) -> str:
        assert self.principal is not None and self.principal.brand_id is not None
        return self.principal.brand_id

    @property
    def brand_name(self) -> str:
        current = self.principal.brand_id if self.principal else None
        return next((b.name for b in self.brands if b.id == current), "")

    def can(self, permission: str) -> bool:
        """Whether the person's role grants `permission` (menus hide what they cannot use)."""
        return self.principal is not None and self.principal.can(permission)

    def gettext(self, message: str, **values: Any) -> str:
        """`message` translated into the page's language, `%(name)s` placeholders filled."""
        text = i18n.translations(self.locale).gettext(message)
        return text % values if values else text

    def context(self, **extra: Any) -> dict[str, Any]:
        req = self.request
        return {
            "page": self,
            "request": req,
            "path": req.url.path,
            "csrf": session.csrf_token(req),
            "embedded": session.embedded(req),
            "crisp_website_id": get_settings().crisp_website_id,
            **extra,
        }

    def render(self, template: str, status_code: int = 200, **extra: Any) -> HTMLResponse:
        """The template rendered in the page's language, with the queued cookies."""
        html = templating.render(self.locale, template, self.context(**extra))
        response = HTMLResponse(html, status_code=status_code)
        response.headers["Cache-Control"] = "no-store"
        response.headers["Content-Language"] = self.locale
        return session.apply_cookies(self.request, response)  # type: ignore[return-value]

    def redirect(self, url: str) -> Response:
        """Go to `url` after a form: a 303, or `HX-Redirect` for an HTMX request."""
        if self.request.headers.get("hx-request") == "true":
            response: Response = Response(status_code=204, headers={"HX-Redirect": url})
        else:
            response = RedirectResponse(url, status_code=303)
        return session.apply_cookies(self.request, response)


def _next_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return target if request.method == "GET" else "/dashboard"


def _refresh(request: Request) -> str | None:
    """Rotate the refresh cookie into a new token pair; the new access token, or None."""
    raw = request.cookies.get(session.REFRESH_COOKIE)
    if not raw:
        return None
    try:
        with get_db().transaction() as s:
            bind_system(s)
            access, new_raw = tenancy.refresh(s, get_settings(), raw)
    except DomainError:
        session.sign_out(request)
        return None
    session.sign_in(request, access, new_raw)
    return access


def current_principal(request: Request) -> Principal:
    """The signed-in person, rotating an expired access token; raises `LoginRequired`."""
    wanted = request.cookies.get(session.BRAND_COOKIE) or None
    token = request.cookies.get(session.ACCESS_COOKIE)
    for attempt in (token, "refresh"):
        if attempt == "refresh":
            attempt = _refresh(request)
        if not attempt:
            continue
        try:
            return principal_from_access_token(request, attempt, wanted_brand=wanted)
        except Problem as exc:
            if exc.status == 403 and wanted:  # no longer a member of the remembered brand
                session.queue_cookie(request, session.BRAND_COOKIE, None)
                wanted = None
                return principal_from_access_token(request, attempt)
            if exc.status != 401:
                raise
    raise LoginRequired(_next_url(request))


def _brands(user_id: str | None) -> tuple[str, list[BrandChoice]]:
    if not user_id:
        return "", []
    with get_db().transaction(write=False) as s:
        bind_system(s)
        rows = tenancy.memberships_of(s, user_id)
        user = s.get(tenancy.User, user_id)
        email = user.email if user else ""
        return email, [BrandChoice(id=b.id, name=b.name, role=m.role) for m, b in rows]


def public_page(request: Request) -> Page:
    """A page anyone may see (sign-in, sign-up): the language and, if signed in, the person."""
    try:
        principal: Principal | None = current_principal(request)
    except (LoginRequired, Problem):
        principal = None
    email, brands = _brands(principal.user_id if principal else None)
    return Page(request, principal, None, i18n.negotiate(request), email, brands)


def page_guard(*permissions: str, write: bool | None = None) -> Callable[[Request], Iterator[Page]]:
    """Route dependency: a signed-in member with `permissions`, in their brand's transaction."""

    def dependency(request: Request) -> Iterator[Page]:
        principal = current_principal(request)
        locale = i18n.negotiate(request)
        if principal.brand_id is None:
            raise LoginRequired("/dashboard/welcome")
        email, brands = _brands(principal.user_id)
        with open_tenant(request, principal, *permissions, write=write) as tenant:
            yield Page(request, principal, tenant, locale, email, brands)

    return dependency


def page_dep(*permissions: str, write: bool | None = None) -> Any:
    """`Annotated[Page, page_dep("orders:read")]`: the page guard as a dependency whose transaction
    ends with the route (`scope="function"`), so a write is committed before the browser receives
    the response and follows its redirect (FastAPI ends yield dependencies after the response by
    default)."""
    return Depends(page_guard(*permissions, write=write), scope="function")


def page_url(path: str, next_url: str | None = None) -> str:
    """A dashboard URL with an escaped `next` parameter."""
    return f"{path}?next={quote(next_url, safe='/')}" if next_url else path
