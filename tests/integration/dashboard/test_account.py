"""Dashboard account pages: sign-up, email verification, password reset, welcome, home checklist,
help links."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import event, func, select, update

from luneo.platform.clock import utcnow
from luneo.platform.database import get_db
from luneo.platform.events import publish
from luneo.platform.tenancy import bind_system, bind_tenant

from .helpers import csrf_of, post, sign_in

PASSWORD = "a long enough secret"


def _signup(client: Any, **fields: str) -> Any:
    token = csrf_of(client, "/dashboard/signup")
    data = {"email": "new@shop.example", "password": PASSWORD, "brand_name": "Café Déco", "slug": ""}
    data.update(fields)
    return post(client, "/dashboard/signup", token, data)


def _emails(template: str, to: str | None = None) -> list[Any]:
    from luneo.notifications.models import EmailMessage

    with get_db().transaction(write=False) as s:
        bind_system(s)
        q = select(EmailMessage).where(EmailMessage.template == template)
        if to:
            q = q.where(EmailMessage.to == to)
        rows = s.execute(q.order_by(EmailMessage.created_at)).scalars().all()
        for r in rows:
            s.expunge(r)
        return list(rows)


def _token_of(message: Any, key: str) -> str:
    return parse_qs(urlsplit(message.context[key]).query)["token"][0]


def _brand_by_slug(slug: str) -> Any:
    from luneo.tenancy.models import Brand

    with get_db().transaction(write=False) as s:
        bind_system(s)
        brand = s.execute(select(Brand).where(Brand.slug == slug)).scalar_one_or_none()
        if brand is not None:
            s.expunge(brand)
        return brand


def _count(model: Any) -> int:
    with get_db().transaction(write=False) as s:
        bind_system(s)
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


def _signup_grants(brand_id: str) -> list[Any]:
    from luneo.credits.models import CreditTransaction

    with get_db().transaction(write=False) as s:
        bind_tenant(s, brand_id)
        return list(
            s.execute(
                select(CreditTransaction.amount).where(
                    CreditTransaction.brand_id == brand_id,
                    CreditTransaction.reference == f"grant:signup:{brand_id}",
                )
            ).scalars()
        )


# --- sign-up ----------------------------------------------------------------------------------


def test_sign_up_creates_the_brand_and_owner_signs_in_and_grants_credits_once(client: Any) -> None:
    from luneo.tenancy.models import Membership, User

    r = _signup(client)
    assert r.status_code == 303 and r.headers["location"] == "/dashboard", r.text[:500]
    assert any(c.startswith("luneo_at=") for c in r.headers.get_list("set-cookie"))
    brand = _brand_by_slug("cafe-deco")
    assert brand is not None and brand.name == "Café Déco"
    with get_db().transaction(write=False) as s:
        bind_system(s)
        user = s.execute(select(User).where(User.email == "new@shop.example")).scalar_one()
        assert user.email_verified_at is None
        bind_tenant(s, brand.id)
        roles = s.execute(select(Membership.role).where(Membership.user_id == user.id)).scalars().all()
    assert roles == ["owner"]
    home = client.get("/dashboard")
    assert home.status_code == 200 and "Café Déco" in home.text
    assert "Get started" in home.text and "verify-banner" in home.text
    assert _signup_grants(brand.id) == [50]
    # `brand.created` delivered again (a retry, a replay): still exactly one grant
    with get_db().transaction() as s:
        bind_system(s)
        publish(s, "brand.created", {"brand_id": brand.id})
    assert _signup_grants(brand.id) == [50]
    assert len(_emails("email_verification", "new@shop.example")) == 1


def test_the_slug_is_derived_from_the_name_and_made_unique(client: Any) -> None:
    assert _signup(client).status_code == 303
    other = type(client)(client.app)
    assert _signup(other, email="second@shop.example").status_code == 303
    assert _brand_by_slug("cafe-deco") is not None and _brand_by_slug("cafe-deco-2") is not None


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"password": "short"}, "password", "at least 10 characters"),
        ({"password": "aaaaaaaaaaaaaaaa"}, "password", "at least 10 characters"),
        ({"email": "owner@alpha.example"}, "email", "already uses this email"),
        ({"email": "not-an-email"}, "email", "valid email address"),
        ({"slug": "alpha"}, "slug", "This address is taken"),
        ({"slug": "Bad Slug!"}, "slug", "lowercase letters"),
        ({"brand_name": "   "}, "brand_name", "Give your brand a name"),
    ],
)
def test_sign_up_refusals_show_next_to_the_field_and_write_nothing(
    client: Any, brand_a: Any, fields: dict[str, str], field: str, message: str
) -> None:
    from luneo.tenancy.models import Brand, User

    brands, users = _count(Brand), _count(User)
    r = _signup(client, **fields)
    assert r.status_code == 422, r.text[:300]
    error = re.search(rf'<p class="error" id="f-{field}-error">([^<]*)</p>', r.text)
    assert error and message in html.unescape(error.group(1)), r.text
    assert f'id="f-{field}"' in r.text and 'aria-invalid="true"' in r.text
    assert (_count(Brand), _count(User)) == (brands, users)
    assert not any(c.startswith("luneo_at=") for c in r.headers.get_list("set-cookie"))


def test_sign_up_is_rate_limited_per_ip(client: Any) -> None:
    from luneo.dashboard.account import SIGNUP_LIMIT

    allowed = int(SIGNUP_LIMIT.split("/")[0])
    for _ in range(allowed):
        assert _signup(client, password="short").status_code == 422
    r = _signup(client)
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert "Too many attempts" in r.text and _brand_by_slug("cafe-deco") is None


def test_a_signed_in_member_skips_the_sign_up_form(client: Any, brand_a: Any) -> None:
    sign_in(client, brand_a.owner_email)
    r = client.get("/dashboard/signup", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/dashboard"


# --- email verification -----------------------------------------------------------------------


def test_the_verification_link_works_once(client: Any) -> None:
    _signup(client)
    token = _token_of(_emails("email_verification")[0], "verify_url")
    r = client.get(f"/dashboard/verify?token={token}")
    assert r.status_code == 200 and "Your email address is verified." in r.text
    assert "verify-banner" not in client.get("/dashboard").text
    again = client.get(f"/dashboard/verify?token={token}")
    assert again.status_code == 404 and "already used" in again.text
    assert client.get("/dashboard/verify?token=rt_madeupmadeupmadeup").status_code == 404


def test_an_expired_verification_link_is_refused(client: Any) -> None:
    from luneo.tenancy.models import User, UserToken

    _signup(client)
    token = _token_of(_emails("email_verification")[0], "verify_url")
    with get_db().transaction() as s:
        bind_system(s)
        s.execute(update(UserToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    r = client.get(f"/dashboard/verify?token={token}")
    assert r.status_code == 410 and "expired" in r.text
    with get_db().transaction(write=False) as s:
        bind_system(s)
        assert s.execute(select(User.email_verified_at)).scalar_one() is None


def test_resending_the_link_spends_the_old_one_and_is_rate_limited(client: Any) -> None:
    from luneo.dashboard.account import RESEND_LIMIT

    _signup(client)
    first = _token_of(_emails("email_verification")[0], "verify_url")
    token = csrf_of(client, "/dashboard")
    allowed = int(RESEND_LIMIT.split("/")[0])
    for _ in range(allowed):
        r = post(client, "/dashboard/verify/resend", token)
        assert r.status_code == 303 and r.headers["location"] == "/dashboard?resent=1"
    assert "We sent you a new verification link." in client.get("/dashboard?resent=1").text
    r = post(client, "/dashboard/verify/resend", token)
    assert r.headers["location"] == "/dashboard?resent=limited"
    mails = _emails("email_verification")
    assert len(mails) == 1 + allowed
    assert client.get(f"/dashboard/verify?token={first}").status_code == 404
    last = _token_of(mails[-1], "verify_url")
    assert client.get(f"/dashboard/verify?token={last}").status_code == 200


# --- password reset ---------------------------------------------------------------------------


def test_forgot_password_answers_the_same_whether_or_not_the_account_exists(
    client: Any, brand_a: Any
) -> None:
    token = csrf_of(client, "/dashboard/password/forgot")
    known = post(client, "/dashboard/password/forgot", token, {"email": brand_a.owner_email})
    unknown = post(client, "/dashboard/password/forgot", token, {"email": "nobody@nowhere.example"})
    assert known.status_code == unknown.status_code == 200
    strip = re.compile(r'name="csrf" value="[^"]*"|content="[^"]*"')
    assert strip.sub("", known.text) == strip.sub("", unknown.text)
    assert "If an account uses this address" in known.text
    assert [m.to for m in _emails("password_reset")] == [brand_a.owner_email]


def test_a_password_reset_signs_out_every_other_session(client: Any, brand_a: Any) -> None:
    other = type(client)(client.app)
    sign_in(other, brand_a.owner_email)
    assert other.get("/dashboard", follow_redirects=False).status_code == 200

    token = csrf_of(client, "/dashboard/password/forgot")
    post(client, "/dashboard/password/forgot", token, {"email": brand_a.owner_email})
    raw = _token_of(_emails("password_reset")[0], "reset_url")
    form = client.get(f"/dashboard/password/reset?token={raw}")
    assert form.status_code == 200 and f'value="{raw}"' in form.text
    weak = post(client, "/dashboard/password/reset", token, {"token": raw, "password": "short"})
    assert weak.status_code == 422 and 'id="f-password-error"' in weak.text
    done = post(
        client, "/dashboard/password/reset", token, {"token": raw, "password": "a brand new password"}
    )
    assert done.status_code == 303 and done.headers["location"].startswith("/dashboard/login")

    r = other.get("/dashboard", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/dashboard/login")
    again = post(
        client, "/dashboard/password/reset", token, {"token": raw, "password": "yet another password"}
    )
    assert again.status_code == 404 and "already used" in again.text
    assert client.get(f"/dashboard/password/reset?token={raw}").status_code == 404
    fresh = type(client)(client.app)
    sign_in(fresh, brand_a.owner_email, "a brand new password")
    assert fresh.get("/dashboard", follow_redirects=False).status_code == 200


def test_an_expired_reset_link_is_refused(client: Any, brand_a: Any) -> None:
    from luneo.tenancy.models import UserToken

    token = csrf_of(client, "/dashboard/password/forgot")
    post(client, "/dashboard/password/forgot", token, {"email": brand_a.owner_email})
    raw = _token_of(_emails("password_reset")[0], "reset_url")
    with get_db().transaction() as s:
        bind_system(s)
        s.execute(update(UserToken).values(expires_at=utcnow() - timedelta(minutes=1)))
    r = post(client, "/dashboard/password/reset", token, {"token": raw, "password": "a brand new password"})
    assert r.status_code == 404 and "expired" in r.text
    sign_in(type(client)(client.app), brand_a.owner_email)  # the old password still works


# --- welcome ----------------------------------------------------------------------------------


def test_a_person_without_a_brand_lands_on_welcome_and_creates_one(client: Any, settings: Any) -> None:
    from luneo.tenancy import service

    with get_db().transaction() as s:
        bind_system(s)
        service.create_user(s, email="loner@shop.example", password=PASSWORD)
    sign_in(client, "loner@shop.example", PASSWORD)
    r = client.get("/dashboard", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/dashboard/welcome"
    page = client.get("/dashboard/welcome")
    assert page.status_code == 200 and "not a member of any brand" in page.text
    token = csrf_of(client, "/dashboard/welcome")
    empty = post(client, "/dashboard/welcome", token, {"brand_name": " "})
    assert empty.status_code == 422 and 'id="f-brand_name-error"' in empty.text
    r = post(client, "/dashboard/welcome", token, {"brand_name": "Loner Goods"})
    assert r.status_code == 303 and r.headers["location"] == "/dashboard"
    home = client.get("/dashboard")
    assert home.status_code == 200 and "Loner Goods" in home.text
    brand = _brand_by_slug("loner-goods")
    assert brand is not None and _signup_grants(brand.id) == [50]
    assert client.get("/dashboard/welcome", follow_redirects=False).headers["location"] == "/dashboard"


def test_welcome_without_a_session_goes_to_sign_in(client: Any) -> None:
    r = client.get("/dashboard/welcome", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/dashboard/login"


# --- home checklist ---------------------------------------------------------------------------


def _steps(text: str) -> dict[str, bool]:
    return {k: v == "true" for k, v in re.findall(r'data-step="(\w+)" data-done="(true|false)"', text)}


def test_the_checklist_ticks_itself_as_data_appears(client: Any, brand_a: Any) -> None:
    from luneo.analytics.models import AnalyticsEvent
    from luneo.commerce.models import Order
    from tests.integration.factories.catalog import product_body
    from tests.integration.factories.commerce import make_order

    sign_in(client, brand_a.owner_email)
    steps = _steps(client.get("/dashboard").text)
    # make_brand sets allowed origins and a publishable key
    assert steps == {
        "product": False,
        "zones": False,
        "widget": False,
        "origins": True,
        "embed": True,
        "order": False,
    }
    body = {**product_body("CHK-1"), "zones": []}
    assert client.post("/api/v1/products", json=body, headers=brand_a.h()).status_code == 201
    steps = _steps(client.get("/dashboard").text)
    assert steps["product"] and not steps["zones"]
    assert client.post("/api/v1/products", json=product_body("CHK-2"), headers=brand_a.h()).status_code == 201
    assert _steps(client.get("/dashboard").text)["zones"]
    now = utcnow()
    with get_db().transaction() as s:
        bind_tenant(s, brand_a.id)
        s.add(
            AnalyticsEvent(
                brand_id=brand_a.id,
                name="widget_loaded",
                product_id="prd_x",
                session_id="s1",
                occurred_at=now,
                received_at=now,
                day=now.date(),
            )
        )
    assert _steps(client.get("/dashboard").text)["widget"]
    order_id = make_order(client, brand_a)
    page = client.get("/dashboard").text
    assert not _steps(page)["order"] and 'data-figure="today">1<' in page
    with get_db().transaction() as s:
        bind_tenant(s, brand_a.id)
        s.execute(update(Order).where(Order.id == order_id).values(paid_at=now, status="paid"))
    page = client.get("/dashboard").text
    assert all(_steps(page).values()) and "6 of 6 done" in page
    assert 'href="/dashboard/orders"' in page and 'href="/dashboard/products"' in page


def test_the_home_page_makes_a_fixed_handful_of_queries(client: Any, brand_a: Any) -> None:
    from tests.integration.factories.catalog import product_body

    sign_in(client, brand_a.owner_email)
    client.get("/dashboard")
    engine = get_db().engine
    counts = []
    for n in (1, 30):
        for i in range(n):
            client.post("/api/v1/products", json=product_body(f"Q-{n}-{i}"), headers=brand_a.h())
        seen: list[str] = []

        def count(*args: Any, seen: list[str] = seen) -> None:
            seen.append(args[2])

        event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get("/dashboard").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        counts.append(len(seen))
    assert counts[0] == counts[1] and counts[0] <= 25, counts


def test_a_viewer_sees_the_home_page_without_figures_they_cannot_read(client: Any, brand_a: Any) -> None:
    from luneo.tenancy import service

    with get_db().transaction() as s:
        bind_system(s)
        user = service.create_user(s, email="viewer@alpha.example", password=PASSWORD)
        bind_tenant(s, brand_a.id)
        service.add_member(s, brand_id=brand_a.id, user_id=user.id, role="viewer")
    sign_in(client, "viewer@alpha.example", PASSWORD)
    page = client.get("/dashboard")
    assert page.status_code == 200 and 'data-figure="credits"' not in page.text
    assert 'href="/dashboard/billing"' not in page.text
    assert 'data-figure="today"' in page.text  # a viewer reads orders, not credits


def test_resend_for_another_brand_is_not_possible(client: Any, brand_a: Any, brand_b: Any) -> None:
    sign_in(client, brand_a.owner_email)
    client.cookies.set("luneo_brand", brand_b.id, path="/dashboard")
    token = csrf_of(client, "/dashboard")
    r = post(client, "/dashboard/verify/resend", token)
    assert r.status_code == 303
    assert [m.brand_id for m in _emails("email_verification")] in ([], [brand_a.id])


# --- help link --------------------------------------------------------------------------------


def test_the_help_link_is_a_mailto_without_crisp(client: Any, brand_a: Any, settings: Any) -> None:
    sign_in(client, brand_a.owner_email)
    page = client.get("/dashboard").text
    link = re.search(r'<a class="help-link" href="([^"]+)"([^>]*)>', page)
    assert link, page
    href = html.unescape(link.group(1))
    assert href.startswith(f"mailto:{settings.support_email}?")
    query = parse_qs(urlsplit(href).query)
    assert brand_a.id in query["subject"][0] and f"user_id: {brand_a.owner_id}" in query["body"][0]
    assert "data-crisp-website" not in link.group(2) and "client.crisp.chat" not in page
    assert "account-support.js" not in page


def test_the_help_link_opens_crisp_with_the_context(
    client: Any, brand_a: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    monkeypatch.setattr(settings, "crisp_website_id", "site-1234")
    sign_in(client, brand_a.owner_email)
    page = client.get("/dashboard").text
    link = re.search(r'<a class="help-link" href="([^"]+)"([^>]*)>', page)
    assert link and 'data-crisp-website="site-1234"' in link.group(2)
    session = re.search(r'data-crisp-session="([^"]+)"', link.group(2))
    assert session
    data = dict(json.loads(html.unescape(session.group(1))))
    assert data == {"brand_id": brand_a.id, "user_id": brand_a.owner_id}
    assert "account-support.js" in page
    script = client.get(re.search(r'src="(/dashboard/static/account-support\.js[^"]*)"', page).group(1))
    assert script.status_code == 200 and '"session:data"' in script.text and "chat:open" in script.text


def test_the_help_link_macro_carries_an_order_id(settings: Any) -> None:
    from luneo.dashboard import templating

    env = templating.environment("en")
    out = env.from_string(
        '{% from "_support.html" import help_link %}{{ help_link(None, "order", "ord_42") }}'
    )
    href = html.unescape(re.search(r'href="([^"]+)"', out.render()).group(1))  # type: ignore[union-attr]
    query = parse_qs(urlsplit(href).query)
    assert query["subject"] == ["Luneo help — order ord_42"] and query["body"] == ["order_id: ord_42\n"]
