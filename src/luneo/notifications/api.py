"""The one-click unsubscribe route of non-essential emails (RFC 8058), mounted at the root.

- `POST /notifications/unsubscribe?token=…` (what mail clients send for
  `List-Unsubscribe-Post: List-Unsubscribe=One-Click`, and the page's button): records the opt-out.
- `GET` shows a page with that button (a GET never unsubscribes: link scanners prefetch URLs).

The token is signed (`luneo.notifications.unsubscribe`); a tampered or unknown one answers 404.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from luneo.notifications import i18n
from luneo.notifications.service import _env, brand_theme
from luneo.notifications.unsubscribe import PATH, Subscription, read_token, record_opt_out
from luneo.platform.config import get_settings
from luneo.platform.database import get_db
from luneo.platform.languages import best_language
from luneo.platform.tenancy import bind_tenant
from luneo.tenancy.public import Brand

router = APIRouter(tags=["notifications"], include_in_schema=False)
PAGE = "_unsubscribe_page.html.j2"


def _page(request: Request, sub: Subscription | None, token: str, *, done: bool, status: int) -> HTMLResponse:
    lang = best_language(request.headers.get("accept-language"), i18n.SUPPORTED)
    brand_name = ""
    theme = None
    if sub is not None:
        with get_db().transaction(write=False) as s:
            bind_tenant(s, sub.brand_id)
            brand = s.get(Brand, sub.brand_id)
            if brand is not None:
                theme = brand_theme(brand)
                brand_name = brand.name
    t = i18n.translations(lang)
    from luneo.notifications.service import _newstyle

    html = (
        _env()
        .get_template(PAGE)
        .render(
            lang=lang,
            sub=sub,
            token=token,
            done=done,
            brand_name=brand_name,
            theme=theme,
            action=PATH,
            _=_newstyle(t.gettext),
            gettext=_newstyle(t.gettext),
        )
    )
    headers = {"Cache-Control": "no-store", "Content-Language": lang, "X-Robots-Tag": "noindex"}
    return HTMLResponse(html, status_code=status, headers=headers)


@router.get(PATH, response_class=HTMLResponse)
def unsubscribe_page(request: Request, token: str = Query("", max_length=2000)) -> HTMLResponse:
    """The confirmation page of an unsubscribe link (nothing is recorded by a GET)."""
    sub = read_token(get_settings(), token)
    if sub is None:
        return _page(request, None, "", done=False, status=404)
    return _page(request, sub, token, done=False, status=200)


@router.post(PATH, response_class=HTMLResponse)
def unsubscribe(request: Request, token: str = Query("", max_length=2000)) -> HTMLResponse:
    """Record the opt-out (idempotent): RFC 8058 one-click POST or the page's button."""
    sub = read_token(get_settings(), token)
    if sub is None:
        return _page(request, None, "", done=False, status=404)
    with get_db().transaction() as s:
        bind_tenant(s, sub.brand_id)
        if s.get(Brand, sub.brand_id) is None:
            return _page(request, None, "", done=False, status=404)
        record_opt_out(s, sub, source="one_click")
    return _page(request, sub, token, done=True, status=200)
