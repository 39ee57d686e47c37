"""Shopify orders into production (issue 15, item 7): `orders/paid` → one Luneo order per Shopify
order with one item per personalized line, checked (signature, snapshot, spec_hash, price) and
held for review on any mismatch; `orders/cancelled`; write-back of the production status and pack
links to the Shopify order (metafieldsSet), throttling retried after the documented wait.

Payloads follow Shopify's documented `orders/paid` example (line_items with `id`,
`admin_graphql_api_id`, `product_id`, `variant_id`, `quantity`, `price`, `price_set`,
`properties` as `[{name, value}]`)."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import select
from starlette.applications import Starlette

from tests.integration.demo import seed_catalog
from tests.integration.shopify.fake_shopify import (
    FakeOrderMutations,
    FakeShopify,
    Server,
    order_graphql_route,
)
from tests.integration.shopify.test_shopify import (
    KEY,
    SECRET,
    _map,
    install,
    integration,
    proxy_url,
    webhook,
)

SHOPPER = "shopify-orders-shopper-0123456789"
_ids = itertools.count(820982911946154508)


@pytest.fixture
def fake(settings, monkeypatch):
    from luneo.platform import config

    shopify = FakeShopify(KEY, SECRET)
    shopify.orders = FakeOrderMutations()  # type: ignore[attr-defined]
    app = Starlette(routes=[order_graphql_route(shopify, shopify.orders), *shopify.app().routes])  # type: ignore[attr-defined]
    with Server(app) as server:
        monkeypatch.setenv("LUNEO_SHOPIFY_API_KEY", KEY)
        monkeypatch.setenv("LUNEO_SHOPIFY_API_SECRET", SECRET)
        monkeypatch.setenv("LUNEO_SHOPIFY_ADMIN_BASE_URL", server.url)
        config.get_settings.cache_clear()
        yield shopify
    config.get_settings.cache_clear()


# --------------------------------------------------------------------------- helpers


def run(actor: str) -> list[str]:
    """Run every pending job of `actor`, due or not, until none is left."""
    from luneo.platform import jobs
    from luneo.platform.clock import utcnow
    from luneo.platform.database import get_db
    from luneo.platform.models import Job
    from luneo.platform.tenancy import bind_system

    db = get_db()
    out: list[str] = []
    for _ in range(50):
        with db.transaction() as s:
            bind_system(s)
            ids = list(s.execute(select(Job.id).where(Job.actor == actor, Job.status == "pending")).scalars())
            if ids:
                s.execute(
                    sa.update(Job).where(Job.id.in_(ids)).values(next_run_at=utcnow() - timedelta(seconds=1))
                )
        if not ids:
            return out
        out += [jobs.execute(db, i, worker_id="test", watchdog=False) for i in ids]
    raise AssertionError("jobs did not settle")


def widget_snapshot(client: Any, brand: Any, product_id: str, inputs: dict[str, Any]) -> str:
    """A snapshot made the way the storefront widget makes it (publishable key + shopper token)."""
    r = client.post(
        "/api/v1/snapshots",
        json={"product_id": product_id, "inputs": inputs},
        headers=brand.h("pk", **{"X-Shopper-Token": SHOPPER}),
    )
    assert r.status_code in (200, 201), r.text
    return str(r.json()["id"])


def luneo_unit_price(brand: Any, snapshot_id: str) -> tuple[int, str]:
    """What Luneo charges for one unit of the snapshot's design (product + zone add-ons)."""
    from luneo.catalog.models import Product
    from luneo.commerce import public as commerce
    from luneo.designs.public import Snapshot
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_tenant

    with get_db().transaction(write=False) as s:
        bind_tenant(s, brand.id)
        snap = s.get(Snapshot, snapshot_id)
        product = s.get(Product, snap.product_id)
        return commerce.unit_price(product.price_cents, snap.spec), product.currency.upper()


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def line(
    props: dict[str, str] | None, price: str, *, product_id: int = 7001, quantity: int = 1
) -> dict[str, Any]:
    line_id = next(_ids)
    return {
        "id": line_id,
        "admin_graphql_api_id": f"gid://shopify/LineItem/{line_id}",
        "product_id": product_id,
        "variant_id": 808950810,
        "title": "Personalized pendant" if props else "Gift wrap",
        "quantity": quantity,
        "price": price,
        "price_set": {
            "shop_money": {"amount": price, "currency_code": "EUR"},
            "presentment_money": {"amount": price, "currency_code": "EUR"},
        },
        "sku": "SKU",
        "properties": [{"name": k, "value": v} for k, v in (props or {}).items()],
    }


def paid_order(lines: list[dict[str, Any]], currency: str = "EUR") -> dict[str, Any]:
    order_id = next(_ids)
    return {
        "id": order_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "name": f"#{order_id % 10000}",
        "email": "jon@example.com",
        "currency": currency,
        "financial_status": "paid",
        "total_price": "0.00",
        "customer": {
            "id": 115310627314723954,
            "email": "jon@example.com",
            "first_name": "Jon",
            "last_name": "Doe",
        },
        "shipping_address": {
            "first_name": "Jon",
            "address1": "1 Rue de Rivoli",
            "city": "Paris",
            "zip": "75001",
            "country_code": "FR",
        },
        "line_items": lines,
    }


def properties(client: Any, snapshot_id: str) -> dict[str, str]:
    r = client.post(proxy_url("properties"), json={"snapshot_id": snapshot_id})
    assert r.status_code == 200, r.text
    return dict(r.json()["properties"])


def shopify_orders() -> list[Any]:
    from luneo.integrations.shopify.models import ShopifyOrder
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_system

    with get_db().transaction(write=False) as s:
        bind_system(s)
        return list(s.execute(select(ShopifyOrder).order_by(ShopifyOrder.created_at)).scalars())


def luneo_orders() -> list[Any]:
    from luneo.commerce.models import Order
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_system

    with get_db().transaction(write=False) as s:
        bind_system(s)
        orders = list(s.execute(select(Order).order_by(Order.created_at)).scalars())
        for o in orders:
            _ = o.items
        return orders


def work_orders(order_id: str | None = None) -> list[Any]:
    from luneo.manufacturing.models import WorkOrder
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_system

    with get_db().transaction(write=False) as s:
        bind_system(s)
        q = select(WorkOrder).order_by(WorkOrder.created_at, WorkOrder.id)
        if order_id:
            q = q.where(WorkOrder.order_id == order_id)
        return list(s.execute(q).scalars())


def move(brand: Any, work_order_id: str, *steps: str) -> None:
    from luneo.manufacturing import public as manufacturing
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_tenant

    for to in steps:
        with get_db().transaction() as s:
            bind_tenant(s, brand.id)
            manufacturing.transition(s, work_order_id, to, "operator@test")


def setup_shop(client: Any, brand: Any) -> str:
    """Install, map Shopify product 7001 to the demo pendant; returns the Luneo product id."""
    install(client, brand)
    pendant = seed_catalog(brand)["DEMO-PENDANT"]
    _map(brand, pendant, "7001")
    return pendant


def personalized(client: Any, brand: Any, product: str, text: str = "Emma") -> tuple[dict[str, str], str]:
    """(the proxy's properties, Luneo's unit price as Shopify charges it) for a new widget design."""
    snap = widget_snapshot(
        client,
        brand,
        product,
        {"arc_text": {"kind": "text", "text": text}, "initial": {"kind": "text", "text": text[0]}},
    )
    cents, _ = luneo_unit_price(brand, snap)
    return properties(client, snap), money(cents)


# --------------------------------------------------------------------------- orders/paid


def test_paid_order_makes_one_item_per_personalized_line_once(client, brand_a, fake, db):
    product = setup_shop(client, brand_a)
    props, price = personalized(client, brand_a, product)
    body = paid_order([line(props, price), line(None, "199.00", product_id=632910392)])
    # orders/create first: recorded, nothing produced
    assert webhook(client, "orders/create", body, event_id="ev-create").status_code == 200
    assert run("shopify.webhook") == ["success"]
    assert luneo_orders() == [] and work_orders() == []
    [rec] = shopify_orders()
    assert rec.status == "created" and rec.order_id is None
    # orders/paid delivered twice (Shopify retry with a new event id) and once more with the same id
    assert webhook(client, "orders/paid", body, event_id="ev-paid-1").json() == {"status": "accepted"}
    assert webhook(client, "orders/paid", body, event_id="ev-paid-2").json() == {"status": "accepted"}
    assert webhook(client, "orders/paid", body, event_id="ev-paid-1").json() == {"status": "duplicate"}
    assert run("shopify.webhook") == ["success", "success"]
    [order] = luneo_orders()
    assert order.source == "shopify" and order.status == "paid" and order.payment_status == "paid"
    assert order.metadata_["shopify_order_id"] == str(body["id"])
    [item] = order.items
    assert item.snapshot_id == props["_luneo_snapshot"] and item.spec_hash == props["_luneo_spec_hash"]
    assert item.metadata_["shopify_line_id"] == str(body["line_items"][0]["id"])
    [rec] = shopify_orders()
    assert rec.status == "accepted" and rec.order_id == order.id and rec.review_reasons == []
    [wo] = work_orders(order.id)
    assert wo.order_item_id == item.id and wo.status in ("queued", "exporting")
    from luneo.designs.public import Snapshot
    from luneo.platform.tenancy import bind_system

    with db.transaction(write=False) as s:
        bind_system(s)
        assert s.get(Snapshot, item.snapshot_id).locked_at is not None


def _held(body: dict[str, Any]) -> tuple[Any, Any]:
    [order] = luneo_orders()
    [rec] = shopify_orders()
    assert order.status == "pending" and order.payment_status == "mismatch"
    assert rec.status == "review" and rec.order_id == order.id
    assert work_orders() == []  # nothing is produced before a human approves
    return order, rec


def test_forged_signature_is_held_for_review_until_approved(client, brand_a, fake, db):
    product = setup_shop(client, brand_a)
    props, price = personalized(client, brand_a, product)
    props["_luneo_sig"] = "0" * 64
    body = paid_order([line(props, price)])
    webhook(client, "orders/paid", body, event_id="ev-forged")
    assert run("shopify.webhook") == ["success"]
    order, rec = _held(body)
    assert rec.review_reasons == [
        {"line_id": str(body["line_items"][0]["id"]), "reasons": ["signature_invalid"]}
    ]
    assert any(e.get("event") == "shopify_review" for e in order.history)
    # The brand approves: marking the order paid (an offline payment of its total) produces it.
    r = client.post(
        f"/api/v1/orders/{order.id}/transition",
        json={
            "to": "paid",
            "amount": order.total_cents,
            "currency": order.currency,
            "note": "checked in Shopify",
        },
        headers=brand_a.h(),
    )
    assert r.status_code == 200, r.text
    assert len(work_orders(order.id)) == 1


def test_lower_price_or_other_currency_is_held(client, brand_a, fake, db):
    product = setup_shop(client, brand_a)
    props, price = personalized(client, brand_a, product)
    cents = int(price.replace(".", ""))
    webhook(client, "orders/paid", paid_order([line(props, money(cents - 1))]), event_id="ev-low")
    assert run("shopify.webhook") == ["success"]
    _, rec = _held({})
    assert rec.review_reasons[0]["reasons"] == ["price_mismatch"]


def test_another_brands_snapshot_is_refused(client, brand_a, brand_b, fake, db):
    from luneo.integrations.shopify import service
    from luneo.platform.config import get_settings

    product = setup_shop(client, brand_a)
    foreign_product = seed_catalog(brand_b)["DEMO-PENDANT"]
    foreign = widget_snapshot(client, brand_b, foreign_product, {"initial": {"kind": "text", "text": "Z"}})
    props, price = personalized(client, brand_a, product)
    # Properties naming brand B's snapshot, even correctly signed with this shop's secret.
    secret = service.property_secret(get_settings(), integration())
    props["_luneo_snapshot"] = foreign
    props["_luneo_sig"] = service.sign_properties(
        secret, foreign, props["_luneo_spec_hash"], props["_luneo_preview"], props["_luneo_addons"]
    )
    webhook(client, "orders/paid", paid_order([line(props, price)]), event_id="ev-foreign")
    assert run("shopify.webhook") == ["success"]
    assert luneo_orders() == [] and work_orders() == []
    [rec] = shopify_orders()
    assert rec.status == "refused" and rec.review_reasons[0]["reasons"] == ["snapshot_unknown"]


def test_spec_hash_not_the_snapshots_is_held(client, brand_a, fake, db):
    from luneo.integrations.shopify import service
    from luneo.platform.config import get_settings

    product = setup_shop(client, brand_a)
    props, price = personalized(client, brand_a, product)
    secret = service.property_secret(get_settings(), integration())
    props["_luneo_spec_hash"] = "f" * 64
    props["_luneo_sig"] = service.sign_properties(
        secret,
        props["_luneo_snapshot"],
        props["_luneo_spec_hash"],
        props["_luneo_preview"],
        props["_luneo_addons"],
    )
    webhook(client, "orders/paid", paid_order([line(props, price)]), event_id="ev-hash")
    assert run("shopify.webhook") == ["success"]
    _, rec = _held({})
    assert rec.review_reasons[0]["reasons"] == ["spec_hash_mismatch"]


# --------------------------------------------------------------------------- cancel and write-back


def _accepted_two_lines(client: Any, brand: Any) -> tuple[dict[str, Any], Any, list[Any]]:
    product = setup_shop(client, brand)
    (p1, price1), (p2, price2) = (
        personalized(client, brand, product, "Emma"),
        personalized(client, brand, product, "Lucas"),
    )
    body = paid_order([line(p1, price1), line(p2, price2)])
    webhook(client, "orders/paid", body, event_id="ev-two")
    assert run("shopify.webhook") == ["success"]
    [order] = luneo_orders()
    assert order.status == "paid"
    assert set(run("export_pack")) == {"success"}
    wos = work_orders(order.id)
    assert [w.status for w in wos] == ["ready", "ready"]
    return body, order, wos


def test_cancelled_cancels_work_orders_not_done(client, brand_a, fake, db):
    body, order, (first, second) = _accepted_two_lines(client, brand_a)
    move(brand_a, first.id, "in_production", "done")
    run("shopify.writeback")
    webhook(client, "orders/cancelled", {**body, "cancel_reason": "customer"}, event_id="ev-cancel")
    assert run("shopify.webhook") == ["success"]
    statuses = {w.id: w.status for w in work_orders(order.id)}
    assert statuses == {first.id: "done", second.id: "cancelled"}
    [rec] = shopify_orders()
    assert rec.status == "cancelled" and rec.cancelled_at is not None
    [order] = luneo_orders()
    assert order.status == "cancelled"


def test_done_writes_status_and_pack_links_back_even_when_throttled(client, brand_a, fake, db):
    from luneo.platform.config import get_settings

    body, _, (first, second) = _accepted_two_lines(client, brand_a)
    fake.orders.throttle_next = 1
    move(brand_a, first.id, "in_production", "done")
    outcomes = run("shopify.writeback")
    assert outcomes == ["success", "success"]  # throttled → a follow-up job after the documented wait
    assert len(fake.orders.requests) == 2
    doc = fake.orders.production(body["admin_graphql_api_id"])
    base = get_settings().public_base_url.rstrip("/")
    line_ids = [str(li["id"]) for li in body["line_items"]]
    assert doc == {
        "status": "partially_done",
        "items": [
            {
                "line_id": line_ids[0],
                "spec_hash": first.spec_hash,
                "status": "done",
                "pack_url": f"{base}/dashboard/production/{first.id}/pack",
            },
            {
                "line_id": line_ids[1],
                "spec_hash": second.spec_hash,
                "status": "ready",
                "pack_url": f"{base}/dashboard/production/{second.id}/pack",
            },
        ],
    }
    move(brand_a, second.id, "in_production", "done")
    assert run("shopify.writeback") == ["success"]
    assert fake.orders.production(body["admin_graphql_api_id"])["status"] == "done"
    [rec] = shopify_orders()
    assert rec.written_back_at is not None and rec.writeback["document"]["status"] == "done"


def test_throttle_wait_follows_the_cost_extension():
    from luneo.integrations.shopify.writeback import throttle_wait_s

    body = {
        "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
        "extensions": {
            "cost": {
                "requestedQueryCost": 752,
                "actualQueryCost": None,
                "throttleStatus": {
                    "maximumAvailable": 1000.0,
                    "currentlyAvailable": 666,
                    "restoreRate": 50.0,
                },
            }
        },
    }
    assert throttle_wait_s(body) == pytest.approx(1.72)
    assert throttle_wait_s({"data": {}}) is None


# --------------------------------------------------------------------------- end to end


def test_end_to_end_install_map_personalize_pay_twice_produce_write_back(client, brand_a, fake, db):
    product = setup_shop(client, brand_a)
    # The storefront asks the app proxy for the product's config, the widget snapshots the design,
    # the app embed gets the signed properties for the cart line.
    cfg = client.get(proxy_url("config", product="7001"))
    assert cfg.status_code == 200 and cfg.json()["luneo_product"] == product
    (p1, price1), (p2, price2) = (
        personalized(client, brand_a, product, "Zoé"),
        personalized(client, brand_a, product, "Inès"),
    )
    body = paid_order([line(p1, price1, quantity=2), line(p2, price2), line(None, "5.00", product_id=1)])
    webhook(client, "orders/paid", body, event_id="ev-e2e-1")
    webhook(client, "orders/paid", body, event_id="ev-e2e-2")
    assert run("shopify.webhook") == ["success", "success"]
    [order] = luneo_orders()
    assert [i.quantity for i in order.items] == [2, 1] and order.status == "paid"
    assert set(run("export_pack")) == {"success"}
    wos = work_orders(order.id)
    assert len(wos) == 2 and all(w.status == "ready" and w.pack_key for w in wos)
    for w in wos:
        move(brand_a, w.id, "in_production", "done")
    assert set(run("shopify.writeback")) == {"success"}
    doc = fake.orders.production(body["admin_graphql_api_id"])
    assert doc["status"] == "done" and all(i["pack_url"] for i in doc["items"])
    assert [i["spec_hash"] for i in doc["items"]] == [p1["_luneo_spec_hash"], p2["_luneo_spec_hash"]]


def test_write_back_to_an_uninstalled_shop_fails_at_once(client, brand_a, fake, db):
    from luneo.integrations.shopify import service
    from luneo.integrations.shopify.models import ShopifyIntegration
    from luneo.platform.tenancy import bind_system

    _, _, (first, _second) = _accepted_two_lines(client, brand_a)
    with db.transaction() as s:
        bind_system(s)
        service.uninstall(s.get(ShopifyIntegration, integration().id))
    move(brand_a, first.id, "in_production", "done")
    assert run("shopify.writeback") == ["failed"]  # no token: a retry cannot fix it
    assert fake.orders.requests == []
