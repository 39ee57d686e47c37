"""Shopify product sync and pricing (issue 15 items 4, 8): Admin GraphQL against the local fake
(cost extensions, throttling with an injected sleep), products listed page by page, the pricing
document published on both function owners at install and on every change, webhooks
`products/update` / `products/delete`, the storefront origins allowed."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests.integration.shopify.fake_shopify import VirtualClock
from tests.integration.shopify.test_shopify import SHOP, _map, fake, install, integration, webhook

__all__ = ["fake"]

PRICING_ACTORS = ("shopify.setup", "shopify.pricing", "shopify.pricing_sweep", "shopify.webhook")


def run_jobs(db: Any, actors: tuple[str, ...] = PRICING_ACTORS) -> list[str]:
    """Run the pending jobs of `actors` until none is left (jobs enqueue jobs)."""
    from luneo.platform import jobs
    from luneo.platform.models import Job
    from luneo.platform.tenancy import bind_system

    results: list[str] = []
    for _ in range(10):
        with db.transaction(write=False) as s:
            bind_system(s)
            ids = [
                j.id
                for j in s.execute(
                    select(Job).where(Job.status == "pending", Job.actor.in_(actors)).order_by(Job.created_at)
                ).scalars()
            ]
        if not ids:
            return results
        results += [jobs.execute(db, i, worker_id="test", watchdog=False) for i in ids]
    return results


def job_results(db: Any, actor: str) -> list[dict[str, Any]]:
    from luneo.platform.models import Job
    from luneo.platform.tenancy import bind_system

    with db.transaction(write=False) as s:
        bind_system(s)
        return [
            dict(j.result or {})
            for j in s.execute(select(Job).where(Job.actor == actor).order_by(Job.created_at)).scalars()
        ]


def gql_client(fake: Any, db: Any, brand: Any, clock: VirtualClock, **kw: Any) -> Any:
    from luneo.integrations.shopify.graphql import AdminGraphQL
    from luneo.integrations.shopify.service import access_token
    from luneo.platform.config import get_settings

    row = integration()
    token = access_token(db, get_settings(), brand.id, row.id)
    return AdminGraphQL(get_settings(), SHOP, token, sleep=clock.sleep, clock=clock, **kw)


@pytest.fixture
def clock(fake: Any) -> VirtualClock:
    c = VirtualClock()
    fake.graphql.clock = c
    fake.graphql.updated_at = None
    return c


# --------------------------------------------------------------------------- GraphQL client


def test_products_are_listed_page_by_page_with_the_cost_extension(client, brand_a, fake, clock, db):
    from luneo.integrations.shopify import sync

    install(client, brand_a)
    for i, title in enumerate(["Mug", "Bag", "Tee", "Cap", "Pin"]):
        fake.graphql.add_product(7001 + i, title, variants=2)
    fake.graphql.add_product(9999, "Personalization", tags=["luneo-personalization"])
    gql = gql_client(fake, db, brand_a, clock)
    page = sync.list_shop_products(gql, first=2)
    assert [p.title for p in page.products] == ["Bag", "Cap"] and page.next_cursor
    assert page.products[0].id == "7002" and page.products[0].variants[1].id == "70021"
    assert page.products[0].image_url == "https://cdn.shopify.example/7002.jpg"
    every = sync.all_shop_products(gql)
    assert [p.title for p in every] == ["Bag", "Cap", "Mug", "Pin", "Tee"]  # not Luneo's own product
    # The client keeps what Shopify reported: the operation's cost and the bucket.
    assert gql.costs["LuneoProductsPage"] == 2 + 3 * 50
    assert gql.throttle is not None and gql.throttle.maximum == 1000 and gql.throttle.restore_rate == 50
    assert gql.throttle.available == 1000 - 8 - 152  # one page of 2, one of 50 (restored nothing)
    assert clock.sleeps == []


def test_waits_before_a_query_the_bucket_cannot_pay(client, brand_a, fake, clock, db):
    from luneo.integrations.shopify import sync

    install(client, brand_a)
    fake.graphql.add_product(7001, "Mug")
    fake.graphql.maximum = fake.graphql.available = 100.0
    fake.graphql.restore_rate = 10.0
    gql = gql_client(fake, db, brand_a, clock)
    sync.list_shop_products(gql, first=20)  # costs 62: 38 left
    sync.list_shop_products(gql, first=20)  # 62 > 38: wait (62 - 38) / 10 s first
    assert clock.sleeps == [pytest.approx(2.4)]
    assert [c["throttled"] for c in fake.graphql.calls] == [False, False]  # never refused


def test_throttled_once_waits_the_restore_time_then_succeeds(client, brand_a, fake, clock, db):
    from luneo.integrations.shopify.graphql import AdminApiError
    from luneo.integrations.shopify.pricing import STATE_QUERY

    install(client, brand_a)
    fake.graphql.available, fake.graphql.updated_at = 10.0, clock()
    gql = gql_client(fake, db, brand_a, clock)
    data = gql.execute(STATE_QUERY)  # costs 40, 10 available: THROTTLED, then 30 / 50 s later ok
    assert data["shop"]["currencyCode"] == "EUR"
    assert [c["throttled"] for c in fake.graphql.calls] == [True, False]
    assert clock.sleeps == [pytest.approx(0.6)]
    # Retries are bounded: always throttled → the error after 1 + 2 attempts.
    fake.graphql.throttle_next(10)
    bounded = gql_client(fake, db, brand_a, clock, max_throttle_retries=2)
    with pytest.raises(AdminApiError) as err:
        bounded.execute(STATE_QUERY)
    assert err.value.code == "throttled" and len(fake.graphql.calls) == 2 + 3


def test_amounts_use_the_currency_precision():
    from luneo.integrations.shopify.pricing import amount

    assert amount(500, "EUR") == "5.00" and amount(20, "eur") == "0.20" and amount(0, "USD") == "0.00"
    assert amount(500, "JPY") == "500" and amount(1234, "KWD") == "1.234"


# --------------------------------------------------------------------------- install, pricing


def _expected(pendant: str, mug: str | None = None, variant: str = "") -> dict[str, Any]:
    products: dict[str, Any] = {
        "gid://shopify/Product/7001": {
            "luneo_product": pendant,
            "zones": {"arc_text": {"flat": "0.00", "per_char": "0.20"}},
        }
    }
    if mug:
        products["gid://shopify/Product/7002"] = {"luneo_product": mug, "zones": _mug_zones()}
    return {"v": 1, "personalization_variant": variant, "products": products}


def _mug_zones() -> dict[str, Any]:
    from luneo.catalog.seed import DEMO_PRODUCTS

    mug = next(p for p in DEMO_PRODUCTS if p["sku"] == "DEMO-MUG")
    out = {}
    for z in mug["zones"]:
        flat, per = z["rules"].get("price_flat_cents", 0), z["rules"].get("price_per_char_cents", 0)
        if flat or per:
            out[z["key"]] = {"flat": f"{flat / 100:.2f}", "per_char": f"{per / 100:.2f}"}
    return out


def test_install_registers_both_functions_and_sets_the_same_pricing_on_both(client, brand_a, fake, db):
    from tests.integration.demo import seed_catalog

    install(client, brand_a)
    pendant = seed_catalog(brand_a)["DEMO-PENDANT"]
    _map(brand_a, pendant, "7001")
    assert run_jobs(db) == ["success"]  # shopify.setup: origins, then the pricing
    ops = fake.graphql.operations()
    assert ops[:2] == ["LuneoShop", "LuneoPricingState"]
    assert {"LuneoCartTransformCreate", "LuneoValidationCreate", "LuneoPersonalizationCreate"} <= set(ops)
    [ct], [val] = fake.graphql.cart_transforms, fake.graphql.validations
    assert ct["functionId"] == "gid://shopify/ShopifyFunction/ct-1"
    assert val["shopifyFunction"]["id"] == "gid://shopify/ShopifyFunction/val-1"
    assert val["enabled"] and val["blockOnFailure"]
    [personalization] = [p for p in fake.graphql.products if "luneo-personalization" in p["tags"]]
    variant = personalization["variants"]["nodes"][0]["id"]
    expected = _expected(pendant, variant=variant)
    assert fake.graphql.metafield(ct["id"]) == expected
    assert fake.graphql.metafield(val["id"]) == expected
    [set_call] = [c for c in fake.graphql.calls if c["operation"] == "LuneoPricingSet"]
    assert {m["type"] for m in set_call["variables"]["metafields"]} == {"json"}
    assert {m["namespace"] + "/" + m["key"] for m in set_call["variables"]["metafields"]} == {
        "$app:luneo/pricing"
    }
    # The storefront's origins are allowed for the brand's publishable keys.
    from luneo.platform.tenancy import bind_tenant
    from luneo.tenancy.models import Brand

    with db.transaction(write=False) as s:
        bind_tenant(s, brand_a.id)
        origins = s.get(Brand, brand_a.id).allowed_origins
    assert {"https://alpha-store.myshopify.com", "https://www.alpha.example"} <= set(origins)
    # Publishing again changes nothing and creates nothing.
    before = len(fake.graphql.calls)
    from luneo.integrations.shopify import pricing
    from luneo.platform.config import get_settings

    again = pricing.publish(db, get_settings(), brand_a.id, integration().id)
    assert again["created"] == [] and again["updated"] == []
    assert fake.graphql.operations()[before:] == ["LuneoPricingState"]


def test_mapping_changes_and_zone_prices_republish_the_metafields(client, brand_a, fake, db):
    from luneo.integrations.shopify import sync
    from luneo.platform.tenancy import bind_tenant
    from tests.integration.demo import seed_catalog

    install(client, brand_a)
    skus = seed_catalog(brand_a)
    pendant, mug = skus["DEMO-PENDANT"], skus["DEMO-MUG"]
    _map(brand_a, pendant, "7001")
    run_jobs(db)
    [ct], [val] = fake.graphql.cart_transforms, fake.graphql.validations
    variant = fake.graphql.metafield(ct["id"])["personalization_variant"]
    with db.transaction() as s:
        bind_tenant(s, brand_a.id)
        sync.map_shopify_product(s, sync.integration(s, integration().id), "7002", mug)
    assert run_jobs(db) == ["success"]
    expected = _expected(pendant, mug, variant)
    assert fake.graphql.metafield(ct["id"]) == expected == fake.graphql.metafield(val["id"])
    assert len(fake.graphql.cart_transforms) == 1 and len(fake.graphql.validations) == 1

    # A zone price change of a mapped product reaches Shopify with the periodic sweep.
    from luneo.catalog.models import ProductZone

    with db.transaction() as s:
        bind_tenant(s, brand_a.id)
        zone = s.execute(
            select(ProductZone).where(ProductZone.product_id == pendant, ProductZone.key == "arc_text")
        ).scalar_one()
        zone.rules = {**zone.rules, "price_flat_cents": 150, "price_per_char_cents": 25}
    from luneo.platform import jobs

    assert jobs.enqueue_periodic(db, ["shopify.pricing_sweep"]) == 1
    assert run_jobs(db) == ["success", "success"]
    doc = fake.graphql.metafield(val["id"])
    assert doc["products"]["gid://shopify/Product/7001"]["zones"] == {
        "arc_text": {"flat": "1.50", "per_char": "0.25"}
    }
    assert fake.graphql.metafield(ct["id"]) == doc

    # Unmapping: the product leaves the document (the validation stops requiring it).
    with db.transaction() as s:
        bind_tenant(s, brand_a.id)
        assert sync.unmap_shopify_product(s, sync.integration(s, integration().id), "7002") == 1
    run_jobs(db)
    assert list(fake.graphql.metafield(ct["id"])["products"]) == ["gid://shopify/Product/7001"]


def test_a_product_in_another_currency_is_listed_without_add_ons(client, brand_a, fake, db):
    from tests.integration.demo import seed_catalog

    install(client, brand_a)
    fake.graphql.shop["currencyCode"] = "USD"
    _map(brand_a, seed_catalog(brand_a)["DEMO-PENDANT"], "7001")
    run_jobs(db)
    [ct] = fake.graphql.cart_transforms
    assert fake.graphql.metafield(ct["id"])["products"]["gid://shopify/Product/7001"]["zones"] == {}
    [setup] = job_results(db, "shopify.setup")
    assert "USD" in setup["pricing"]["warnings"][0]


def test_map_refuses_another_brands_product(client, brand_a, brand_b, fake, db):
    from luneo.integrations.shopify import sync
    from luneo.platform.domain_errors import NotFoundError
    from luneo.platform.tenancy import bind_tenant
    from tests.integration.demo import seed_catalog

    install(client, brand_a)
    foreign = seed_catalog(brand_b)["DEMO-PENDANT"]
    with db.transaction() as s, pytest.raises(NotFoundError):
        bind_tenant(s, brand_a.id)
        sync.map_shopify_product(s, sync.integration(s, integration().id), "7001", foreign)


# --------------------------------------------------------------------------- webhooks


def _mappings(db: Any) -> list[str]:
    from luneo.integrations.shopify.models import ShopifyProductMapping
    from luneo.platform.tenancy import bind_system

    with db.transaction(write=False) as s:
        bind_system(s)
        return sorted(m.external_id for m in s.execute(select(ShopifyProductMapping)).scalars())


def test_products_update_and_delete_keep_or_remove_the_mapping(client, brand_a, fake, db):
    from luneo.catalog.models import Product
    from luneo.integrations.shopify import service
    from luneo.platform.tenancy import bind_system, bind_tenant
    from tests.integration.demo import seed_catalog

    install(client, brand_a)
    pendant = seed_catalog(brand_a)["DEMO-PENDANT"]
    _map(brand_a, pendant, "7001")
    with db.transaction() as s:
        bind_tenant(s, brand_a.id)
        row = service.integration_for_shop(s, SHOP)
        service.map_product(s, row, "7001", pendant, "70011")
        service.map_product(s, row, "7001", pendant, "70010")
    run_jobs(db)
    # products/update (Shopify's REST payload): the title changed, variant 70011 was deleted.
    update = {
        "id": 7001,
        "admin_graphql_api_id": "gid://shopify/Product/7001",
        "title": "Pendant (new title)",
        "variants": [{"id": 70010, "product_id": 7001, "title": "Gold"}],
    }
    assert webhook(client, "products/update", update, event_id="ev-pu").json() == {"status": "accepted"}
    assert run_jobs(db) == ["success", "success"]  # the webhook, then the pricing it enqueued
    assert _mappings(db) == ["7001", "7001/70010"]
    [delivery] = job_results(db, "shopify.webhook")
    assert delivery == {
        "mapped": True,
        "product": "7001",
        "title": "Pendant (new title)",
        "variant_mappings_removed": ["7001/70011"],
    }
    # An update of an unmapped product does nothing.
    webhook(client, "products/update", {"id": 5555, "title": "Other"}, event_id="ev-pu2")
    assert run_jobs(db) == ["success"]
    # products/delete: the mappings go, the Luneo product stays; the pricing forgets the product.
    assert webhook(client, "products/delete", {"id": 7001}, event_id="ev-pd").status_code == 200
    assert run_jobs(db) == ["success", "success"]
    assert _mappings(db) == []
    with db.transaction(write=False) as s:
        bind_system(s)
        assert s.get(Product, pendant) is not None
    [ct] = fake.graphql.cart_transforms
    assert fake.graphql.metafield(ct["id"])["products"] == {}


def test_a_wait_longer_than_allowed_is_refused_not_slept(client, brand_a, fake, clock, db):
    from luneo.integrations.shopify.graphql import AdminApiError
    from luneo.integrations.shopify.pricing import STATE_QUERY

    install(client, brand_a)
    fake.graphql.available, fake.graphql.updated_at = 0.0, clock()
    fake.graphql.restore_rate = 1.0
    gql = gql_client(fake, db, brand_a, clock, max_wait_s=2.0)
    with pytest.raises(AdminApiError) as err:
        gql.execute(STATE_QUERY)  # THROTTLED: 40 points at 1/s would be a 40 s wait
    assert err.value.code == "throttled" and clock.sleeps == [] and len(fake.graphql.calls) == 1


def test_a_deleted_personalization_product_is_created_again(client, brand_a, fake, db):
    from tests.integration.demo import seed_catalog

    install(client, brand_a)
    _map(brand_a, seed_catalog(brand_a)["DEMO-PENDANT"], "7001")
    run_jobs(db)
    [ct] = fake.graphql.cart_transforms
    [old] = [p for p in fake.graphql.products if "luneo-personalization" in p["tags"]]
    fake.graphql.products.remove(old)  # the merchant deleted it in the Shopify admin
    assert (
        webhook(
            client, "products/delete", {"id": int(old["id"].rsplit("/", 1)[1])}, event_id="ev-d"
        ).status_code
        == 200
    )
    assert run_jobs(db) == ["success", "success"]
    [new] = [p for p in fake.graphql.products if "luneo-personalization" in p["tags"]]
    assert new["id"] != old["id"]
    assert fake.graphql.metafield(ct["id"])["personalization_variant"] == new["variants"]["nodes"][0]["id"]
    assert _mappings(db) == ["7001"]


def test_a_brand_with_no_room_for_origins_still_gets_its_pricing(client, brand_a, fake, db):
    from luneo.platform.tenancy import bind_tenant
    from luneo.tenancy.models import Brand

    full = [f"https://shop{i}.example" for i in range(50)]
    with db.transaction() as s:
        bind_tenant(s, brand_a.id)
        s.get(Brand, brand_a.id).allowed_origins = full
    install(client, brand_a)
    assert run_jobs(db) == ["success"]
    [setup] = job_results(db, "shopify.setup")
    assert setup["origins_added"] == [] and "50" in setup["origins_error"]
    assert len(fake.graphql.cart_transforms) == 1 and len(fake.graphql.validations) == 1
    with db.transaction(write=False) as s:
        bind_tenant(s, brand_a.id)
        assert s.get(Brand, brand_a.id).allowed_origins == full


def _due_now(db: Any) -> None:
    """The debounce window has passed: pending pricing jobs are due."""
    from luneo.platform.clock import utcnow
    from luneo.platform.models import Job
    from luneo.platform.tenancy import bind_system

    with db.transaction() as s:
        bind_system(s)
        for job in s.execute(select(Job).where(Job.status == "pending")).scalars():
            job.next_run_at = utcnow()


def test_a_zone_price_change_is_published_at_once_without_the_sweep(client, brand_a, fake, db, monkeypatch):
    from luneo.catalog import service as catalog_service
    from luneo.catalog.schemas import ProductPatch, ZonePatch, ZoneRules
    from luneo.integrations.shopify import pricing
    from luneo.platform.models import Job
    from luneo.platform.tenancy import bind_system, bind_tenant
    from tests.integration.demo import seed_catalog

    install(client, brand_a)
    skus = seed_catalog(brand_a)
    pendant, mug = skus["DEMO-PENDANT"], skus["DEMO-MUG"]
    _map(brand_a, pendant, "7001")
    run_jobs(db)
    [ct], [val] = fake.graphql.cart_transforms, fake.graphql.validations
    sets_before = fake.graphql.operations().count("LuneoPricingSet")
    monkeypatch.setattr(pricing, "clock", lambda: 1_000_000.0)  # every change below in one window

    def set_price(flat: int, per_char: int) -> None:
        with db.transaction() as s:
            bind_tenant(s, brand_a.id)
            zone = next(z for z in catalog_service.get_product(s, pendant).zones if z.key == "arc_text")
            rules = ZoneRules.model_validate(
                {**zone.rules, "price_flat_cents": flat, "price_per_char_cents": per_char}
            )
            catalog_service.update_zone(s, pendant, zone.id, ZonePatch(rules=rules))

    set_price(150, 25)
    set_price(175, 30)  # a second change in the same short window: still one job
    with db.transaction() as s:  # a change of an unmapped product enqueues nothing
        bind_tenant(s, brand_a.id)
        catalog_service.update_product(s, mug, ProductPatch(name="Mug (renamed)"))
    with db.transaction(write=False) as s:
        bind_system(s)
        pending = list(
            s.execute(select(Job).where(Job.actor == "shopify.pricing", Job.status == "pending")).scalars()
        )
    assert len(pending) == 1 and pending[0].payload["cause"] == "product_changed"
    _due_now(db)
    assert run_jobs(db, ("shopify.pricing",)) == ["success"]  # no sweep ran
    assert fake.graphql.operations().count("LuneoPricingSet") == sets_before + 1
    expected = {"arc_text": {"flat": "1.75", "per_char": "0.30"}}
    assert fake.graphql.metafield(ct["id"])["products"]["gid://shopify/Product/7001"]["zones"] == expected
    assert fake.graphql.metafield(val["id"]) == fake.graphql.metafield(ct["id"])
    # replace_zones (the dashboard's zone editor) publishes too, in the next window.
    monkeypatch.setattr(pricing, "clock", lambda: 1_000_100.0)
    from luneo.catalog.schemas import ZoneIn

    with db.transaction() as s:
        bind_tenant(s, brand_a.id)
        zones = []
        for z in catalog_service.get_product(s, pendant).zones:
            data = {
                c: getattr(z, c) for c in ("key", "label", "kind", "sort_order", "geometry", "rules", "role")
            }
            if z.key == "arc_text":
                data["rules"] = {**z.rules, "price_flat_cents": 200}
            zones.append(ZoneIn.model_validate({k: v for k, v in data.items() if v is not None}))
        catalog_service.replace_zones(s, pendant, zones)
    _due_now(db)
    assert run_jobs(db, ("shopify.pricing",)) == ["success"]
    zones_now = fake.graphql.metafield(ct["id"])["products"]["gid://shopify/Product/7001"]["zones"]
    assert zones_now["arc_text"]["flat"] == "2.00"


def _titles(db: Any) -> dict[str, str]:
    from luneo.integrations.shopify.models import ShopifyProductMapping
    from luneo.platform.tenancy import bind_system

    with db.transaction(write=False) as s:
        bind_system(s)
        return {m.external_id: m.title for m in s.execute(select(ShopifyProductMapping)).scalars()}


def test_mappings_keep_the_shopify_product_title(client, brand_a, fake, db):
    from luneo.integrations.shopify import service, sync
    from luneo.platform.tenancy import bind_tenant
    from tests.integration.demo import seed_catalog

    install(client, brand_a)
    pendant = seed_catalog(brand_a)["DEMO-PENDANT"]
    with db.transaction() as s:
        bind_tenant(s, brand_a.id)
        row = sync.integration(s, integration().id)
        sync.map_shopify_product(s, row, "7001", pendant, title="Gold pendant")
        service.map_product(s, row, "7001", pendant, "70010")
    assert _titles(db) == {"7001": "Gold pendant", "7001/70010": ""}
    # Mapping again without a title keeps the known one.
    with db.transaction() as s:
        bind_tenant(s, brand_a.id)
        sync.map_shopify_product(s, sync.integration(s, integration().id), "7001", pendant)
    assert _titles(db)["7001"] == "Gold pendant"
    run_jobs(db)
    update = {"id": 7001, "title": "Pendant (new title)", "variants": [{"id": 70010, "product_id": 7001}]}
    webhook(client, "products/update", update, event_id="ev-title")
    run_jobs(db)
    assert _titles(db) == {"7001": "Pendant (new title)", "7001/70010": "Pendant (new title)"}
