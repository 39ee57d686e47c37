"""The dashboard's session cookies and CSRF protection.

A signed-in person holds two HTTP-only cookies: the short-lived access JWT (`luneo_at`, the same
token the API accepts as a bearer) and the rotating refresh token (`luneo_rt`, path `/dashboard`).
Every unsafe request must echo the `luneo_csrf` cookie's value in a `csrf` form field or an
`X-CSRF-Token` header (double-submit; HTMX sends the header from the page's `<meta>`), and an
`Origin` header, when present, must be this server's. Cookies are `SameSite=Lax` on the
dashboard's own site and `SameSite=None; Secure` when the page is embedded in another site's
frame (the Shopify admin), where a Lax cookie would not be sent.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Literal
from urllib.parse import urlsplit

from fastapi import Request, Response

from luneo.platform.config import get_settings
from luneo.platform.errors import Problem

ACCESS_COOKIE = "luneo_at"
REFRESH_COOKIE = "luneo_rt"
CSRF_COOKIE = "luneo_csrf"
BRAND_COOKIE = "luneo_brand"
EMBED_COOKIE = "luneo_embedded"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def embedded(request: Request) -> bool:
    """True when the dashboard runs inside another site's frame (`?embedded=1` once, then a cookie)."""
    return request.query_params.get("embedded") == "1" or request.cookies.get(EMBED_COOKIE) == "1"


def _cookie_policy(request: Request) -> tuple[bool, Literal["lax", "none"]]:
    """(secure, SameSite) of the dashboard's cookies for this request."""
    if embedded(request):
        return True, "none"
    return request.url.scheme == "https" or get_settings().env == "production", "lax"


def csrf_token(request: Request) -> str:
    """This browser's CSRF token (made on first sight and set as a cookie by `apply_cookies`)."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not token:
        token = secrets.token_urlsafe(32)
        request.state.new_csrf = token
    return str(token)


def queue_cookie(request: Request, name: str, value: str | None, *, max_age: int | None = None) -> None:
    """Set (or with `None` delete) a cookie on whatever response this request ends with."""
    pending: dict[str, tuple[str | None, int | None]] = getattr(request.state, "cookies", None) or {}
    pending[name] = (value, max_age)
    request.state.cookies = pending


def sign_in(request: Request, access: str, refresh: str) -> None:
    """Queue the session cookies of a fresh (or rotated) token pair."""
    settings = get_settings()
    queue_cookie(request, ACCESS_COOKIE, access, max_age=settings.access_token_ttl_s)
    queue_cookie(request, REFRESH_COOKIE, refresh, max_age=settings.refresh_token_ttl_s)


def sign_out(request: Request) -> None:
    """Queue the deletion of the session cookies."""
    queue_cookie(request, ACCESS_COOKIE, None)
    queue_cookie(request, REFRESH_COOKIE, None)


def apply_cookies(request: Request, response: Response) -> Response:
    """Write the queued cookies (and a new CSRF cookie) onto `response`."""
    secure, samesite = _cookie_policy(request)
    pending: dict[str, tuple[str | None, int | None]] = dict(getattr(request.state, "cookies", None) or {})
    new_csrf = getattr(request.state, "new_csrf", None)
    if new_csrf and CSRF_COOKIE not in pending:
        pending[CSRF_COOKIE] = (new_csrf, None)
    if request.query_params.get("embedded") == "1" and request.cookies.get(EMBED_COOKIE) != "1":
        pending[EMBED_COOKIE] = ("1", None)
    for name, (value, max_age) in pending.items():
        path = "/dashboard"
        if value is None:
            response.delete_cookie(name, path=path, secure=secure, httponly=True, samesite=samesite)
        else:
            response.set_cookie(
                name, value, max_age=max_age, path=path, secure=secure, httponly=True, samesite=samesite
            )
    return response


def _same_origin(request: Request, origin: str) -> bool:
    own = {f"{request.url.scheme}://{request.url.netloc}", get_settings().public_base_url.rstrip("/")}
    parts = urlsplit(origin)
    return f"{parts.scheme}://{parts.netloc}" in own


async def check_csrf(request: Request) -> None:
    """Refuse an unsafe request whose CSRF token does not match its cookie (403 `csrf_failed`)."""
    if request.method in SAFE_METHODS:
        return
    origin = request.headers.get("origin")
    if origin and origin != "null" and not _same_origin(request, origin):
        raise Problem(403, "csrf_failed", "This form was sent from another site.")
    expected = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else ""
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise Problem(
            403, "csrf_failed", "The form expired or was not sent from this page: reload and retry."
        )
