"""Shopify app, Python side (issue 15, round 1): install by session token + token exchange against
a local fake Shopify over HTTP, refresh (once under concurrency), proxy, webhooks, compliance."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from tests.integration.factories.designs import make_snapshot
from tests.integration.shopify.fake_shopify import FakeShopify, Server, session_token

KEY, SECRET = "test-client-id", "test-client-secret-0123456789abcdef"
SHOP = "alpha-store.myshopify.com"


@pytest.fixture
def fake(settings, monkeypatch):
    from luneo.platform import config

    shopify = FakeShopify(KEY, SECRET)
    with Server(shopify.app()) as server:
        monkeypatch.setenv("LUNEO_SHOPIFY_API_KEY", KEY)
        monkeypatch.setenv("LUNEO_SHOPIFY_API_SECRET", SECRET)
        monkeypatch.setenv("LUNEO_SHOPIFY_ADMIN_BASE_URL", server.url)
        config.get_settings.cache_clear()
        yield shopify
    config.get_settings.cache_clear()


def open_app(client: Any, shop: str = SHOP, **kw: Any) -> Any:
    token = session_token(KEY, SECRET, shop, **kw)
    return client.get("/shopify/app", params={"id_token": token, "host": "abc"}, follow_redirects=False)


def install(client: Any, brand: Any, shop: str = SHOP) -> Any:
    """Open the app as a new shop and link it to `brand` by signing in as its owner."""
    r = open_app(client, shop)
    assert r.status_code == 200, r.text
    ticket = r.text.split('name="ticket" value="')[1].split('"')[0]
    r = client.post(
        "/shopify/app/link",
        data={"ticket": ticket, "action": "signin", "email": brand.owner_email, "password": brand.password},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/dashboard?embedded=1"
    return integration(shop)


def integration(shop: str = SHOP) -> Any:
    from luneo.integrations.shopify.models import ShopifyIntegration
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_system

    with get_db().transaction(write=False) as s:
        bind_system(s)
        return s.execute(
            select(ShopifyIntegration).where(ShopifyIntegration.shop_domain == shop)
        ).scalar_one_or_none()


def proxy_url(
    path: str, shop: str = SHOP, *, secret: str = SECRET, ts: int | None = None, **extra: str
) -> str:
    params = {
        "shop": shop,
        "logged_in_customer_id": "",
        "path_prefix": "/apps/luneo",
        "timestamp": str(ts or int(time.time())),
        **extra,
    }
    message = "".join(f"{k}={v}" for k, v in sorted(params.items()))
    params["signature"] = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return f"/shopify/proxy/{path}?{urlencode(params)}"


def webhook(
    client: Any, topic: str, body: dict[str, Any], *, event_id: str, shop: str = SHOP, secret: str = SECRET
) -> Any:
    raw = json.dumps(body).encode()
    digest = base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": digest,
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-API-Version": "2026-10",
        "X-Shopify-Event-Id": event_id,
        "X-Shopify-Webhook-Id": f"wh-{event_id}",
    }
    return client.post("/shopify/webhooks", content=raw, headers=headers)


def run_jobs(db: Any) -> list[str]:
    from luneo.platform import jobs
    from luneo.platform.models import Job
    from luneo.platform.tenancy import bind_system

    with db.transaction(write=False) as s:
        bind_system(s)
        ids = [
            j.id
            for j in s.execute(
                select(Job).where(Job.status == "pending", Job.actor == "shopify.webhook")
            ).scalars()
        ]
    return [jobs.execute(db, i, worker_id="test", watchdog=False) for i in ids]


def deliveries() -> list[Any]:
    from luneo.integrations.shopify.models import ShopifyWebhookDelivery
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_system

    with get_db().transaction(write=False) as s:
        bind_system(s)
        return list(
            s.execute(select(ShopifyWebhookDelivery).order_by(ShopifyWebhookDelivery.received_at)).scalars()
        )


# --------------------------------------------------------------------------- install and tokens


def test_install_by_session_token_exchanges_and_stores_encrypted_tokens(client, brand_a, fake):
    row = install(client, brand_a)
    assert row.brand_id == brand_a.id and row.status == "active" and row.api_version == "2026-10"
    [call] = fake.grants("urn:ietf:params:oauth:grant-type:token-exchange")
    assert call["shop"] == SHOP and call["body"]["requested_token_type"].endswith("offline-access-token")
    [issued] = fake.access_tokens
    assert issued not in (row.access_token_enc or "") and row.refresh_token_enc  # encrypted at rest
    from luneo.integrations.shopify import crypto
    from luneo.platform.config import get_settings

    assert crypto.decrypt(get_settings(), row.access_token_enc) == issued
    assert row.access_token_expires_at is not None and row.refresh_token_expires_at is not None
    # Opening the app again goes straight to the dashboard, without another exchange.
    r = open_app(client)
    assert r.status_code == 303 and r.headers["location"].startswith("/dashboard?embedded=1")
    assert len(fake.grants("urn:ietf:params:oauth:grant-type:token-exchange")) == 1


def test_new_brand_from_the_link_page(client, settings, fake):
    r = open_app(client, "newshop.myshopify.com")
    ticket = r.text.split('name="ticket" value="')[1].split('"')[0]
    r = client.post(
        "/shopify/app/link",
        data={
            "ticket": ticket,
            "action": "create",
            "email": "new@shop.example",
            "password": "correct horse battery",
            "brand_name": "New Shop",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert integration("newshop.myshopify.com").status == "active"
    # A tampered ticket is refused.
    r = client.post(
        "/shopify/app/link",
        data={
            "ticket": ticket[:-4] + "AAAA",
            "action": "signin",
            "email": "new@shop.example",
            "password": "x",
        },
    )
    assert r.status_code == 401


def test_bad_session_tokens_are_refused(client, settings, fake):
    bad_secret = session_token(KEY, "not-the-secret", SHOP)
    r = client.get("/shopify/admin/status", headers={"Authorization": f"Bearer {bad_secret}"})
    assert r.status_code == 401
    other_aud = session_token(KEY, SECRET, SHOP, aud="another-app")
    assert (
        client.get("/shopify/admin/status", headers={"Authorization": f"Bearer {other_aud}"}).status_code
        == 401
    )
    expired = session_token(KEY, SECRET, SHOP, exp_in=-120)
    assert (
        client.get("/shopify/admin/status", headers={"Authorization": f"Bearer {expired}"}).status_code == 401
    )
    assert client.get("/shopify/admin/status").status_code == 401
    # A document request with a bad token goes to the page that fetches a fresh one.
    r = client.get("/shopify/app", params={"id_token": bad_secret}, follow_redirects=False)
    assert r.status_code == 302 and "/shopify/app/patch-id-token" in r.headers["location"]
    assert fake.calls == []
    good = session_token(KEY, SECRET, SHOP)
    r = client.get("/shopify/admin/status", headers={"Authorization": f"Bearer {good}"})
    assert r.status_code == 200 and r.json() == {
        "shop_domain": SHOP,
        "linked": False,
        "status": None,
        "api_version": None,
    }


def _expire(row_id: str) -> None:
    from luneo.integrations.shopify.models import ShopifyIntegration
    from luneo.platform.clock import utcnow
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_system

    with get_db().transaction() as s:
        bind_system(s)
        s.get(ShopifyIntegration, row_id).access_token_expires_at = utcnow() - timedelta(seconds=5)


def test_expired_token_is_refreshed_once_even_concurrently(client, brand_a, fake, db):
    from luneo.integrations.shopify import service
    from luneo.platform.config import get_settings

    row = install(client, brand_a)
    first = service.access_token(db, get_settings(), brand_a.id, row.id)
    assert fake.grants("refresh_token") == []  # still valid: no refresh
    _expire(row.id)
    fake.refresh_delay_s = 0.3
    results: list[str] = []
    errors: list[BaseException] = []

    def call() -> None:
        try:
            results.append(service.access_token(db, get_settings(), brand_a.id, row.id))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(fake.grants("refresh_token")) == 1  # the single-use refresh token was spent once
    assert results[0] == results[1] != first
    assert integration().token_version == row.token_version + 1


# --------------------------------------------------------------------------- app proxy


def _map(brand: Any, product_id: str, shopify_product: str = "7001") -> None:
    from luneo.integrations.shopify import service
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_tenant

    with get_db().transaction() as s:
        bind_tenant(s, brand.id)
        service.map_product(s, service.integration_for_shop(s, SHOP), shopify_product, product_id)


def test_proxy_config_and_properties(client, brand_a, brand_b, fake):
    from luneo.integrations.shopify import service
    from luneo.platform.config import get_settings
    from tests.integration.demo import seed_catalog

    install(client, brand_a)
    pendant = seed_catalog(brand_a)["DEMO-PENDANT"]
    _map(brand_a, pendant)
    r = client.get(proxy_url("config", product="7001"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["luneo_product"] == pendant and body["publishable_key"].startswith("pk_")
    assert client.get(proxy_url("config", product="9999")).status_code == 404
    snap = make_snapshot(client, brand_a)
    r = client.post(proxy_url("properties"), json={"snapshot_id": snap})
    assert r.status_code == 200, r.text
    props = r.json()["properties"]
    assert props["_luneo_snapshot"] == snap and len(props["_luneo_sig"]) == 64
    secret = service.property_secret(get_settings(), integration())
    assert service.verify_properties(secret, props)
    assert props["_luneo_preview"].startswith(get_settings().public_base_url)
    # Another brand's snapshot is a 404 for this shop.
    foreign = make_snapshot(client, brand_b)
    assert client.post(proxy_url("properties"), json={"snapshot_id": foreign}).status_code == 404
    # The preview URL serves the mockup image; a wrong signature is a 404.
    path = props["_luneo_preview"].removeprefix(get_settings().public_base_url)
    img = client.get(path)
    assert img.status_code == 200 and img.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert client.get(path.replace("sig=", "sig=0")).status_code == 404


def test_proxy_signature_is_checked(client, brand_a, fake):
    install(client, brand_a)
    assert client.get(proxy_url("config", product="1", secret="wrong")).status_code == 401
    assert client.get(proxy_url("config", product="1", ts=int(time.time()) - 600)).status_code == 401
    unsigned = proxy_url("config", product="1").split("&signature=")[0]
    assert client.get(unsigned).status_code == 401
    # A valid signature for a shop that has not installed Luneo: 404.
    assert client.get(proxy_url("config", "other.myshopify.com", product="1")).status_code == 404


# --------------------------------------------------------------------------- webhooks


def test_webhook_hmac_dedupe_and_uninstall(client, brand_a, fake, db):
    row = install(client, brand_a)
    from tests.integration.demo import seed_catalog

    _map(brand_a, seed_catalog(brand_a)["DEMO-PENDANT"])
    body = {"id": 1, "domain": SHOP}
    assert webhook(client, "app/uninstalled", body, event_id="ev-1", secret="wrong").status_code == 401
    r = webhook(client, "app/uninstalled", body, event_id="ev-1")
    assert r.status_code == 200 and r.json() == {"status": "accepted"}
    r = webhook(client, "app/uninstalled", body, event_id="ev-1")
    assert r.status_code == 200 and r.json() == {"status": "duplicate"}
    assert run_jobs(db) == ["success"]
    [d] = deliveries()
    assert d.status == "processed" and d.api_version == "2026-10" and d.topic == "app/uninstalled"
    after = integration()
    assert (
        after.status == "uninstalled" and after.access_token_enc is None and after.refresh_token_enc is None
    )
    assert after.property_secret_enc is not None  # the brand's data is kept
    # The proxy stops answering; reopening the app re-installs by token exchange.
    assert client.get(proxy_url("config", product="7001")).status_code == 404
    r = open_app(client)
    assert r.status_code == 303
    assert (
        integration().status == "active"
        and len(fake.grants("urn:ietf:params:oauth:grant-type:token-exchange")) == 2
    )
    assert client.get(proxy_url("config", product="7001")).status_code == 200
    assert row.id == integration().id


def _order(client: Any, brand: Any, email: str) -> str:
    from tests.integration.demo import seed_catalog

    pid = seed_catalog(brand)["DEMO-PENDANT"]
    snap = client.post(
        "/api/v1/snapshots", json={"product_id": pid, "inputs": {"initial": {"text": "E"}}}, headers=brand.h()
    )
    r = client.post(
        "/api/v1/orders",
        headers=brand.h("sk"),
        json={
            "items": [{"product_id": pid, "snapshot_id": snap.json()["id"], "quantity": 1}],
            "customer": {"email": email, "name": "Emma Example"},
        },
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_compliance_topics_export_and_erase(client, brand_a, brand_b, fake, db):
    from luneo.commerce.models import Order
    from luneo.platform.storage import get_storage
    from luneo.platform.tenancy import bind_system

    install(client, brand_a)
    mine = _order(client, brand_a, "emma@example.com")
    other_brand = _order(client, brand_b, "emma@example.com")
    customer = {"id": 191167, "email": "emma@example.com", "phone": "555-625-1199"}
    req = {
        "shop_id": 954889,
        "shop_domain": SHOP,
        "orders_requested": [299938],
        "customer": customer,
        "data_request": {"id": 9999},
    }
    assert webhook(client, "customers/data_request", req, event_id="ev-dr").status_code == 200
    assert run_jobs(db) == ["success"]
    [d] = deliveries()
    assert d.payload is None and d.result["orders"] == 1
    export = json.loads(get_storage().get(d.result["export_key"]))
    assert [o["id"] for o in export["orders"]] == [mine] and export["orders"][0][
        "customer_name"
    ] == "Emma Example"
    assert len(export["designs"]) == 1

    red = {"shop_id": 954889, "shop_domain": SHOP, "customer": customer, "orders_to_redact": [299938]}
    assert webhook(client, "customers/redact", red, event_id="ev-cr").status_code == 200
    assert run_jobs(db) == ["success"]
    with db.transaction(write=False) as s:
        bind_system(s)
        a, b = s.get(Order, mine), s.get(Order, other_brand)
        assert (
            a.customer_email.endswith("@redacted.invalid")
            and a.customer_name == ""
            and a.shipping_address is None
        )
        assert b.customer_email == "emma@example.com"  # another brand's order is not this shop's

    from tests.integration.demo import seed_catalog

    _map(brand_a, seed_catalog(brand_a)["DEMO-PENDANT"])
    shop_red = {"shop_id": 954889, "shop_domain": SHOP}
    assert webhook(client, "shop/redact", shop_red, event_id="ev-sr").status_code == 200
    assert run_jobs(db) == ["success"]
    row = integration()
    assert row.status == "uninstalled" and row.property_secret_enc is None and row.access_token_enc is None
    from luneo.integrations.shopify.models import ShopifyProductMapping

    with db.transaction(write=False) as s:
        bind_system(s)
        assert s.execute(select(ShopifyProductMapping)).scalars().all() == []
    assert all(d.payload is None for d in deliveries())


def test_webhook_body_naming_another_shop_is_refused(client, brand_a, fake):
    install(client, brand_a)
    r = webhook(client, "shop/redact", {"shop_domain": "victim.myshopify.com"}, event_id="ev-x")
    assert r.status_code == 400
    assert deliveries() == []


def test_the_link_page_speaks_the_admins_language(client, settings, fake):
    token = session_token(KEY, SECRET, "frshop.myshopify.com")
    r = client.get(
        "/shopify/app", params={"id_token": token, "host": "abc", "locale": "fr-FR"}, follow_redirects=False
    )
    assert r.status_code == 200, r.text
    assert '<html lang="fr">' in r.text and "Relier frshop.myshopify.com à Luneo" in r.text
    assert "Créer la marque" in r.text and "Link " not in r.text
    ticket = r.text.split('name="ticket" value="')[1].split('"')[0]
    # A refusal re-renders the page in the same language, with the reason.
    r = client.post(
        "/shopify/app/link",
        data={
            "ticket": ticket,
            "action": "signin",
            "email": "nobody@x.example",
            "password": "x",
            "lang": "fr",
        },
    )
    assert r.status_code == 400 and 'role="alert"' in r.text and "Se connecter et relier" in r.text
    # Without a locale, the browser's language decides; English is the default.
    token = session_token(KEY, SECRET, "enshop.myshopify.com")
    r = client.get("/shopify/app", params={"id_token": token, "host": "abc"}, follow_redirects=False)
    assert '<html lang="en">' in r.text and "Link enshop.myshopify.com to Luneo" in r.text
