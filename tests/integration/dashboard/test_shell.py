"""The dashboard shell: sign-in and sign-out, session cookies, CSRF, brand and language, errors, badge."""

from __future__ import annotations

from typing import Any

import pytest

from luneo.dashboard.pages import badge_level

from .helpers import csrf_of, post, sign_in


def test_a_page_without_a_session_sends_the_browser_to_sign_in(client: Any) -> None:
    r = client.get("/dashboard?from=mail", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/dashboard/login?next=/dashboard%3Ffrom%3Dmail"


def test_sign_in_sets_http_only_lax_cookies_and_opens_the_home_page(client: Any, brand_a: Any) -> None:
    token = csrf_of(client)
    r = client.post(
        "/dashboard/login",
        data={
            "email": brand_a.owner_email,
            "password": brand_a.password,
            "csrf": token,
            "next": "/dashboard",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/dashboard"
    cookies = r.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith("luneo_at="))
    assert (
        "HttpOnly" in session_cookie
        and "SameSite=lax" in session_cookie
        and "Path=/dashboard" in session_cookie
    )
    home = client.get("/dashboard")
    assert home.status_code == 200
    assert "Alpha" in home.text and brand_a.owner_email in home.text
    assert home.headers["cache-control"] == "no-store"


def test_a_wrong_password_shows_the_form_again_with_the_error(client: Any, brand_a: Any) -> None:
    token = csrf_of(client)
    r = client.post(
        "/dashboard/login",
        data={"email": brand_a.owner_email, "password": "nope", "csrf": token},
        follow_redirects=False,
    )
    assert r.status_code == 401
    assert "Email or password is wrong." in r.text and 'value="owner@alpha.example"' in r.text
    assert not any(c.startswith("luneo_at=") for c in r.headers.get_list("set-cookie"))


def test_a_form_without_its_csrf_token_is_refused(client: Any, brand_a: Any) -> None:
    csrf_of(client)
    r = client.post(
        "/dashboard/login",
        data={"email": brand_a.owner_email, "password": brand_a.password},
        follow_redirects=False,
    )
    assert r.status_code == 403 and "csrf_failed" in r.text
    token = csrf_of(client)
    r = client.post(
        "/dashboard/login",
        data={"email": brand_a.owner_email, "password": brand_a.password, "csrf": token},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert r.status_code == 403


def test_next_never_leaves_the_dashboard(client: Any, brand_a: Any) -> None:
    token = csrf_of(client)
    r = client.post(
        "/dashboard/login",
        data={
            "email": brand_a.owner_email,
            "password": brand_a.password,
            "csrf": token,
            "next": "//evil.example",
        },
        follow_redirects=False,
    )
    assert r.headers["location"] == "/dashboard"


def test_an_expired_access_cookie_is_rotated_with_the_refresh_cookie(client: Any, brand_a: Any) -> None:
    sign_in(client, brand_a.owner_email)
    refresh = client.cookies["luneo_rt"]
    client.cookies.clear()
    client.cookies.set("luneo_rt", refresh, path="/dashboard")
    client.cookies.set("luneo_at", "expired.or.garbage", path="/dashboard")
    r = client.get("/dashboard", follow_redirects=False)
    assert r.status_code == 200
    assert any(c.startswith("luneo_at=") for c in r.headers.get_list("set-cookie"))
    assert client.get("/dashboard", follow_redirects=False).status_code == 200


def test_sign_out_revokes_the_session(client: Any, brand_a: Any) -> None:
    csrf = sign_in(client, brand_a.owner_email)
    stolen = dict(client.cookies)
    assert post(client, "/dashboard/logout", csrf).status_code == 303
    assert client.get("/dashboard", follow_redirects=False).status_code == 303
    client.cookies.clear()
    for name, value in stolen.items():  # the old cookies replayed: refused too
        client.cookies.set(name, value, path="/dashboard")
    assert client.get("/dashboard", follow_redirects=False).status_code == 303


def test_the_language_is_chosen_and_remembered(client: Any, brand_a: Any) -> None:
    csrf = sign_in(client, brand_a.owner_email)
    assert 'lang="en"' in client.get("/dashboard").text
    r = post(client, "/dashboard/language", csrf, {"lang": "fr", "next": "/dashboard"})
    assert r.status_code == 303
    page = client.get("/dashboard")
    assert '<html lang="fr">' in page.text and "Se déconnecter" in page.text
    assert post(client, "/dashboard/language", csrf, {"lang": "xx"}).status_code == 422


def test_french_from_the_browser_language(client: Any) -> None:
    r = client.get("/dashboard/login", headers={"Accept-Language": "fr-CA,fr;q=0.9,en;q=0.5"})
    assert '<html lang="fr">' in r.text and "Se connecter à Luneo" in r.text


def test_switching_to_a_brand_of_someone_else_answers_404(client: Any, brand_a: Any, brand_b: Any) -> None:
    csrf = sign_in(client, brand_a.owner_email)
    r = post(client, "/dashboard/brand", csrf, {"brand_id": brand_b.id})
    assert r.status_code == 404 and "text/html" in r.headers["content-type"]
    client.cookies.set("luneo_brand", brand_b.id, path="/dashboard")  # a forged cookie: not a member
    page = client.get("/dashboard")
    assert page.status_code == 200 and "Alpha" in page.text and "Bravo" not in page.text


def test_embedded_pages_use_cross_site_cookies(client: Any) -> None:
    r = client.get("/dashboard/login?embedded=1")
    cookies = r.headers.get_list("set-cookie")
    csrf_cookie = next(c for c in cookies if c.startswith("luneo_csrf="))
    assert "SameSite=none" in csrf_cookie and "Secure" in csrf_cookie


def test_unknown_dashboard_page_is_an_html_404(client: Any, brand_a: Any) -> None:
    sign_in(client, brand_a.owner_email)
    r = client.get("/dashboard/no-such-page")
    assert r.status_code == 404 and "text/html" in r.headers["content-type"] and "Not found" in r.text


def test_static_files_are_listed_and_versioned(client: Any) -> None:
    page = client.get("/dashboard/login").text
    assert "/dashboard/static/dashboard.css?v=" in page
    assert client.get("/dashboard/static/dashboard.css").status_code == 200
    assert client.get("/dashboard/static/../pages.py").status_code == 404


@pytest.mark.parametrize(
    ("balance", "last", "level"),
    [(0, 100, "empty"), (19, 100, "low"), (20, 100, "ok"), (500, 0, "ok"), (-3, 0, "empty")],
)
def test_badge_level(balance: int, last: int, level: str) -> None:
    assert badge_level(balance, last) == level


def test_the_badge_shows_the_balance(client: Any, brand_a: Any) -> None:
    from luneo.credits import public as credits
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_tenant

    with get_db().transaction() as s:
        bind_tenant(s, brand_a.id)
        credits.grant(s, brand_a.id, 1000, "test-grant")
    sign_in(client, brand_a.owner_email)
    r = client.get("/dashboard/partials/credits")
    assert r.status_code == 200 and 'data-level="ok"' in r.text
    assert "1,050" in r.text  # 50 signup credits + 1 000


def test_every_page_commits_before_its_response_is_sent() -> None:
    """A form's write must be committed before the browser follows its redirect (the dev checkout
    read the purchase a dashboard POST had not committed yet): page sessions end with the route
    (`scope="function"`), not after the response is sent (FastAPI's default for yield deps)."""
    from fastapi.routing import APIRoute

    def guards(dependant: Any) -> list[Any]:
        found = []
        for dep in dependant.dependencies:
            if "page_guard" in getattr(dep.call, "__qualname__", ""):
                found.append(dep)
            found.extend(guards(dep))
        return found

    from luneo.dashboard.pages import router

    checked = 0
    for route in router.routes:
        if isinstance(route, APIRoute):
            for dep in guards(route.dependant):
                assert dep.scope == "function", f"{route.path}: page session ends after the response"
                checked += 1
    assert checked > 40
