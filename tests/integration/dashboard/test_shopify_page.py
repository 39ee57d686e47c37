"""Dashboard: the Shopify page (connection status, the shop's products read from the fake Shopify
with a Luneo product to map each to, unmap, sync now), install help when not connected, another
brand's integration ids answer 404, roles without `integrations:manage` get 403."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from luneo.platform.database import get_db
from luneo.platform.tenancy import bind_system, bind_tenant
from tests.integration.demo import seed_catalog
from tests.integration.shopify.test_shopify import fake, install, integration

from .helpers import post, sign_in

__all__ = ["fake"]
PASSWORD = "correct horse battery"


def _mappings() -> dict[str, str]:
    from luneo.integrations.shopify.models import ShopifyProductMapping

    with get_db().transaction(write=False) as s:
        bind_system(s)
        return {m.external_id: m.product_id for m in s.execute(select(ShopifyProductMapping)).scalars()}


def _pricing_jobs() -> int:
    from luneo.platform.models import Job

    with get_db().transaction(write=False) as s:
        bind_system(s)
        return len(list(s.execute(select(Job).where(Job.actor == "shopify.pricing")).scalars()))


def test_not_connected_shows_how_to_install(client: Any, brand_a: Any) -> None:
    sign_in(client, brand_a.owner_email)
    page = client.get("/dashboard/integrations/shopify")
    assert page.status_code == 200
    assert "Connect your Shopify store" in page.text and "docs/SHOPIFY.md" in page.text
    fr = client.get("/dashboard/integrations/shopify?lang=fr")
    assert "Connectez votre boutique Shopify" in fr.text
    # The integrations page links to it.
    assert 'href="/dashboard/integrations/shopify"' in client.get("/dashboard/integrations").text


def test_lists_the_shops_products_and_maps_and_unmaps(client: Any, brand_a: Any, fake: Any) -> None:
    row = install(client, brand_a)
    products = seed_catalog(brand_a)
    pendant, mug = products["DEMO-PENDANT"], products["DEMO-MUG"]
    fake.graphql.add_product(7001, "Gold pendant", variants=2)
    fake.graphql.add_product(7002, "Morning mug")
    fake.graphql.add_product(9999, "Personalization", tags=["luneo-personalization"])
    csrf = sign_in(client, brand_a.owner_email)
    page = client.get("/dashboard/integrations/shopify")
    assert page.status_code == 200, page.text[:500]
    text = page.text
    assert "alpha-store.myshopify.com" in text and "2026-10" in text and "connected" in text
    assert "Gold pendant" in text and "Morning mug" in text and ">Personalization<" not in text
    assert f'action="/dashboard/integrations/shopify/{row.id}/map"' in text
    assert fake.graphql.operations() == ["LuneoProductsPage"]

    r = post(
        client,
        f"/dashboard/integrations/shopify/{row.id}/map",
        csrf,
        {"shopify_product": "7001", "product": pendant},
    )
    assert r.status_code == 303 and r.headers["location"].endswith("?saved=mapped")
    assert _mappings() == {"7001": pendant} and _pricing_jobs() == 1
    again = client.get(r.headers["location"])
    assert "The mapping was saved" in again.text
    assert f'<option value="{pendant}" selected>' in again.text
    # Remap to another product, then unmap (empty choice): the Luneo product stays.
    post(
        client,
        f"/dashboard/integrations/shopify/{row.id}/map",
        csrf,
        {"shopify_product": "7001", "product": mug},
    )
    assert _mappings() == {"7001": mug}
    r = post(
        client,
        f"/dashboard/integrations/shopify/{row.id}/map",
        csrf,
        {"shopify_product": "7001", "product": ""},
    )
    assert r.status_code == 303 and _mappings() == {} and _pricing_jobs() == 3
    # A bad Shopify id is a 422 problem, never a 500.
    bad = post(
        client,
        f"/dashboard/integrations/shopify/{row.id}/map",
        csrf,
        {"shopify_product": "x1", "product": pendant},
    )
    assert bad.status_code == 422
    # Sync now enqueues a pricing publication.
    r = post(client, f"/dashboard/integrations/shopify/{row.id}/sync", csrf)
    assert r.status_code == 303 and _pricing_jobs() == 4


def test_shopify_unreachable_is_a_message_not_a_500(client: Any, brand_a: Any, fake: Any) -> None:
    install(client, brand_a)
    fake.graphql.throttle_next(100)
    sign_in(client, brand_a.owner_email)
    page = client.get("/dashboard/integrations/shopify")
    assert page.status_code == 200 and "Shopify did not answer" in page.text


def test_another_brands_integration_answers_404(client: Any, brand_a: Any, brand_b: Any, fake: Any) -> None:
    theirs = install(client, brand_b)
    mine = install(client, brand_a, "beta-store.myshopify.com")
    their_product = seed_catalog(brand_b)["DEMO-PENDANT"]
    my_product = seed_catalog(brand_a)["DEMO-PENDANT"]
    csrf = sign_in(client, brand_a.owner_email)
    page = client.get("/dashboard/integrations/shopify")
    assert "beta-store.myshopify.com" in page.text and "alpha-store.myshopify.com" not in page.text
    for path, data in (
        (
            f"/dashboard/integrations/shopify/{theirs.id}/map",
            {"shopify_product": "7001", "product": my_product},
        ),
        (f"/dashboard/integrations/shopify/{theirs.id}/sync", {}),
        ("/dashboard/integrations/shopify/int_nope/sync", {}),
        # another brand's Luneo product cannot be mapped on my shop either
        (
            f"/dashboard/integrations/shopify/{mine.id}/map",
            {"shopify_product": "7001", "product": their_product},
        ),
    ):
        assert post(client, path, csrf, data).status_code == 404, path
    assert _mappings() == {} and _pricing_jobs() == 0
    assert integration().brand_id == brand_b.id


def test_roles_without_integrations_manage_get_403(client: Any, brand_a: Any, fake: Any) -> None:
    from luneo.tenancy import service

    row = install(client, brand_a)
    with get_db().transaction() as s:
        bind_system(s)
        user = service.create_user(s, email="ed@alpha.example", password=PASSWORD)
        bind_tenant(s, brand_a.id)
        service.add_member(s, brand_id=brand_a.id, user_id=user.id, role="editor")
    csrf = sign_in(client, "ed@alpha.example")
    assert client.get("/dashboard/integrations/shopify").status_code == 403
    assert post(client, f"/dashboard/integrations/shopify/{row.id}/sync", csrf).status_code == 403
