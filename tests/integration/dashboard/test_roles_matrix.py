"""Every dashboard GET page as every role (`luneo.platform.permissions`): the page answers as the
role's permissions say — its page (200), a 403 page, or a 404 for an id that does not exist —
never a 500; and the menu only links to pages the role may open (hidden, not a 403 click).

`ROUTES` lists every GET route of the dashboard router with the permission it needs; a new route
fails `test_every_get_route_is_in_the_matrix` until it is added here.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from luneo.dashboard.pages import router
from luneo.platform.database import get_db
from luneo.platform.permissions import ROLE_PERMISSIONS
from luneo.platform.tenancy import bind_system, bind_tenant
from tests.integration.commerce_helpers import priced_product
from tests.integration.demo import upload_png
from tests.integration.factories.manufacturing import run_jobs

from .helpers import sign_in
from .orders_helpers import paid_order

ROLES = ("viewer", "editor", "production", "admin", "owner")
PUBLIC = "public"
MEMBER = "member"

#: route path → (permission needed, or PUBLIC / MEMBER; URL template; status when allowed).
#: `{product}`, `{order}`, `{item}`, `{work_order}`, `{asset}`, `{key}`, `{membership}` are real ids
#: of the brand; `missing` ids answer 404 to a role that may open the page.
ROUTES: dict[str, tuple[str, str, int]] = {
    "/dashboard/static/{name:path}": (PUBLIC, "/dashboard/static/dashboard.css", 200),
    "/dashboard/login": (PUBLIC, "/dashboard/login", 303),  # signed in: straight to the dashboard
    "/dashboard/signup": (PUBLIC, "/dashboard/signup", 303),
    "/dashboard/welcome": (PUBLIC, "/dashboard/welcome", 303),  # has a brand already
    "/dashboard/verify": (PUBLIC, "/dashboard/verify?token=nope", 404),
    "/dashboard/password/forgot": (PUBLIC, "/dashboard/password/forgot", 200),
    "/dashboard/password/reset": (PUBLIC, "/dashboard/password/reset?token=nope", 404),
    "/dashboard/invitations/accept": (PUBLIC, "/dashboard/invitations/accept?token=nope", 404),
    "/dashboard": (MEMBER, "/dashboard", 200),
    "/dashboard/emails": ("brand:read", "/dashboard/emails", 200),
    "/dashboard/partials/credits": ("credits:read", "/dashboard/partials/credits", 200),
    "/dashboard/analytics": ("analytics:read", "/dashboard/analytics", 200),
    "/dashboard/billing": ("credits:read", "/dashboard/billing", 200),
    "/dashboard/billing/purchases/{reference}": ("credits:read", "/dashboard/billing/purchases/missing", 404),
    "/dashboard/billing/balance": ("credits:read", "/dashboard/billing/balance", 200),
    "/dashboard/billing/ledger/{transaction_id}": ("credits:read", "/dashboard/billing/ledger/missing", 404),
    "/dashboard/billing/ledger.csv": ("credits:read", "/dashboard/billing/ledger.csv", 200),
    "/dashboard/products": ("catalog:read", "/dashboard/products", 200),
    "/dashboard/products/new": ("catalog:write", "/dashboard/products/new", 200),
    "/dashboard/products/{product_id}": ("catalog:read", "/dashboard/products/{product}", 200),
    "/dashboard/products/{product_id}/zones": ("catalog:read", "/dashboard/products/{product}/zones", 200),
    "/dashboard/products/{product_id}/mockup": ("catalog:read", "/dashboard/products/{product}/mockup", 200),
    "/dashboard/products/{product_id}/mockup/preview": (
        "catalog:read",
        "/dashboard/products/missing/mockup/preview",
        404,
    ),
    "/dashboard/products/{product_id}/templates": (
        "catalog:read",
        "/dashboard/products/{product}/templates",
        200,
    ),
    "/dashboard/products/{product_id}/templates/{template_id}/preview.png": (
        "catalog:read",
        "/dashboard/products/{product}/templates/missing/preview.png",
        404,
    ),
    "/dashboard/fonts": ("catalog:read", "/dashboard/fonts", 200),
    "/dashboard/fonts/{font_id}/sample.png": ("catalog:read", "/dashboard/fonts/missing/sample.png", 404),
    "/dashboard/assets": ("catalog:read", "/dashboard/assets", 200),
    "/dashboard/assets/{asset_id}": ("catalog:read", "/dashboard/assets/{asset}", 200),
    "/dashboard/integrations": ("keys:manage", "/dashboard/integrations", 200),
    "/dashboard/integrations/keys/{key_id}/revoke": (
        "keys:manage",
        "/dashboard/integrations/keys/{key}/revoke",
        200,
    ),
    "/dashboard/integrations/preview": (
        "keys:manage",
        "/dashboard/integrations/preview?product={product}",
        200,
    ),
    "/dashboard/integrations/file-name-example": (
        "brand:manage",
        "/dashboard/integrations/file-name-example?file_name_pattern={{order}}-{{sku}}",
        200,
    ),
    "/dashboard/integrations/shopify": ("integrations:manage", "/dashboard/integrations/shopify", 200),
    "/dashboard/webhooks": ("keys:manage", "/dashboard/webhooks", 200),
    "/dashboard/webhooks/{endpoint_id}": ("keys:manage", "/dashboard/webhooks/missing", 404),
    "/dashboard/webhooks/{endpoint_id}/delete": ("keys:manage", "/dashboard/webhooks/missing/delete", 404),
    "/dashboard/fulfilment": ("brand:manage", "/dashboard/fulfilment", 200),
    "/dashboard/orders": ("orders:read", "/dashboard/orders", 200),
    "/dashboard/orders/{order_id}": ("orders:read", "/dashboard/orders/{order}", 200),
    "/dashboard/orders/{order_id}/items/{item_id}/preview": (
        "orders:read",
        "/dashboard/orders/{order}/items/missing/preview",
        404,
    ),
    "/dashboard/production": ("production:read", "/dashboard/production", 200),
    "/dashboard/production/{work_order_id}": ("production:read", "/dashboard/production/{work_order}", 200),
    "/dashboard/production/{work_order_id}/pack": (
        "production:read",
        "/dashboard/production/missing/pack",
        404,
    ),
    "/dashboard/production/orders/{order_id}/bundle": (
        "production:read",
        "/dashboard/production/orders/missing/bundle",
        404,
    ),
    "/dashboard/production/bulk-upload": ("production:write", "/dashboard/production/bulk-upload", 200),
    "/dashboard/production/bulk-upload/{job_id}": (
        "production:read",
        "/dashboard/production/bulk-upload/missing",
        404,
    ),
    "/dashboard/team": ("members:manage", "/dashboard/team", 200),
    "/dashboard/team/audit": ("members:manage", "/dashboard/team/audit", 200),
    "/dashboard/team/members/{membership_id}/remove": (
        "members:manage",
        "/dashboard/team/members/{membership}/remove",
        200,
    ),
}


def _dashboard_get_routes() -> set[str]:
    return {r.path for r in router.routes if "GET" in getattr(r, "methods", ())}  # type: ignore[attr-defined]


def test_every_get_route_is_in_the_matrix() -> None:
    assert _dashboard_get_routes() == set(ROUTES)


def _member(brand: Any, role: str, email: str) -> str:
    """A member of `brand` with `role`; the membership id."""
    from luneo.tenancy import service

    with get_db().transaction() as s:
        bind_system(s)
        user = service.create_user(s, email=email, password="correct horse battery")
        bind_tenant(s, brand.id)
        return str(service.add_member(s, brand_id=brand.id, user_id=user.id, role=role).id)


def _brand_data(client: Any, brand: Any) -> dict[str, str]:
    """Real ids of one of each thing the pages show: a product, a paid order and its work order,
    an asset, an API key and another member."""
    from luneo.tenancy import service

    product_id = priced_product(client, brand)
    order, _ = paid_order(client, brand, product_id)
    run_jobs()
    wos = client.get(
        "/api/v1/manufacturing/work-orders", params={"order_id": order["id"]}, headers=brand.h()
    ).json()["data"]
    assert wos, "paying the order made no work order"
    with get_db().transaction() as s:
        bind_tenant(s, brand.id)
        key, _ = service.create_api_key(s, brand_id=brand.id, kind="secret")
        key_id = str(key.id)
    return {
        "product": product_id,
        "order": order["id"],
        "work_order": wos[0]["id"],
        "asset": upload_png(client, brand)["id"],
        "key": key_id,
        "membership": _member(brand, "viewer", "other@alpha.example"),
    }


def _expected(role: str, permission: str, allowed_status: int) -> int:
    if permission in (PUBLIC, MEMBER) or permission in ROLE_PERMISSIONS[role]:
        return allowed_status
    return 403


@pytest.mark.parametrize("role", ROLES)
def test_every_page_answers_as_the_role_allows_and_never_500(client: Any, brand_a: Any, role: str) -> None:
    ids = _brand_data(client, brand_a)
    _member(brand_a, role, f"{role}-matrix@alpha.example")
    sign_in(client, f"{role}-matrix@alpha.example")
    wrong: list[str] = []
    for path, (permission, url, allowed) in ROUTES.items():
        r = client.get(url.format(**ids), follow_redirects=False)
        want = _expected(role, permission, allowed)
        if r.status_code != want:
            wrong.append(f"{path}: {r.status_code} (expected {want})")
        if r.status_code == 403:
            assert "text/html" in r.headers["content-type"], path  # the dashboard's 403 page
    assert not wrong, f"{role}: " + "; ".join(wrong)


@pytest.mark.parametrize("role", ROLES)
def test_the_menu_only_links_to_pages_the_role_may_open(client: Any, brand_a: Any, role: str) -> None:
    _member(brand_a, role, f"{role}-menu@alpha.example")
    sign_in(client, f"{role}-menu@alpha.example")
    home = client.get("/dashboard")
    assert home.status_code == 200
    links = set(re.findall(r'href="(/dashboard[^"?#]*)', home.text)) - {"/dashboard/static"}
    links = {link for link in links if not link.startswith("/dashboard/static/")}
    assert links, "the home page links nowhere"
    refused = [link for link in sorted(links) if client.get(link).status_code == 403]
    assert not refused, f"{role} sees links to pages it may not open: {refused}"


def test_every_page_the_owner_opens_is_in_french(client: Any, brand_a: Any) -> None:
    ids = _brand_data(client, brand_a)
    sign_in(client, brand_a.owner_email)
    client.cookies.set("luneo_lang", "fr", path="/dashboard")
    english: list[str] = []
    pages = menus = 0
    for path, (_permission, url, allowed) in ROUTES.items():
        r = client.get(url.format(**ids), follow_redirects=False)
        assert r.status_code == allowed, (path, r.status_code)
        if r.status_code != 200 or not r.headers["content-type"].startswith("text/html"):
            continue
        if "<html" not in r.text:  # an HTMX partial: no menu to check
            continue
        pages += 1
        menu = "Se déconnecter" in r.text  # the widget preview frame has no menu
        menus += menu
        if '<html lang="fr"' not in r.text or "Sign out" in r.text:
            english.append(path)
    assert pages >= 20 and menus >= pages - 1 and not english, (pages, menus, english)
