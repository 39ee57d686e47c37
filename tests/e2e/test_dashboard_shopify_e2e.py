"""The Shopify page in Chromium (issue 14 item 6, issue 15 item 8): a live `luneo serve --seed`
configured with a local fake Shopify (token exchange and Admin GraphQL); before the shop is
connected the page explains how to install; the demo brand links the shop through the embedded
app's link page, then maps a Shopify product to a Luneo product with the select. A paid Shopify
order with a forged signature is held: it shows under "Needs review" and on its order's page,
where "Approve and produce" sends it to production. axe audits and screenshots (desktop 1280,
mobile 390) of these states."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.shopify.fake_shopify import FakeShopify, Server, session_token

from .conftest import _free_port
from .dashboard import axe_violations, demo_owner, shot, signed_in

# one worker runs both tests, so the module starts its own server once
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("shopify-e2e")]

KEY, SECRET = "e2e-client-id", "e2e-client-secret-0123456789abcdef"
SHOP = "alpha-store.myshopify.com"


@pytest.fixture(scope="module")
def shopify_fake() -> Iterator[tuple[FakeShopify, str]]:
    fake = FakeShopify(KEY, SECRET)
    for pid, title in ((7001, "Gold pendant"), (7002, "Morning mug"), (7003, "Canvas tote bag")):
        fake.graphql.add_product(pid, title, variants=2)
    with Server(fake.app()) as server:
        yield fake, server.url


@pytest.fixture(scope="module")
def shopify_server(tmp_path_factory: pytest.TempPathFactory, shopify_fake: Any) -> Iterator[tuple[str, Path]]:
    """A live server of its own, with the Shopify app configured against the fake."""
    data = tmp_path_factory.mktemp("e2e-shopify") / "var"
    port = _free_port()
    env = {
        **os.environ,
        "LUNEO_DATA_DIR": str(data),
        "LUNEO_LOG_LEVEL": "WARNING",
        "LUNEO_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "LUNEO_SHOPIFY_API_KEY": KEY,
        "LUNEO_SHOPIFY_API_SECRET": SECRET,
        "LUNEO_SHOPIFY_ADMIN_BASE_URL": shopify_fake[1],
    }
    for var in ("LUNEO_DATABASE_URL", "LUNEO_REDIS_URL", "LUNEO_STORAGE_URL"):
        env.pop(var, None)
    log = open(data.parent / "server.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "luneo.cli", "serve", "--seed", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("server did not start: " + (data.parent / "server.log").read_text()[-2000:])
    yield base, data
    proc.terminate()
    proc.wait(15)
    log.close()


def _link_shop(base: str, email: str, password: str) -> None:
    """Open the embedded app as Shopify does (session token), then link the shop to the brand."""
    with httpx.Client(base_url=base, timeout=30) as http:
        r = http.get("/shopify/app", params={"id_token": session_token(KEY, SECRET, SHOP), "host": "abc"})
        assert r.status_code == 200, r.text[:500]
        ticket = r.text.split('name="ticket" value="')[1].split('"')[0]
        r = http.post(
            "/shopify/app/link",
            data={"ticket": ticket, "action": "signin", "email": email, "password": password},
        )
        assert r.status_code == 303, r.text[:500]


def test_shopify_page_install_help_then_products_mapped(
    browser: Any, shopify_server: Any, shopify_fake: Any
) -> None:
    base, data = shopify_server
    fake, _ = shopify_fake
    for product in fake.graphql.products:  # product images the browser can load (same origin)
        product["featuredImage"]["url"] = base + "/widget/samples/sample-photo.jpg"
    email, password = demo_owner(data)
    context, page = signed_in(browser, base, email, password)
    page.goto(base + "/dashboard/integrations/shopify")
    assert page.locator("h2#h-install").is_visible()
    assert axe_violations(page) == []
    shot(page, "dashboard-shopify-not-connected-desktop")

    _link_shop(base, email, password)
    page.goto(base + "/dashboard/integrations/shopify")
    assert page.locator("#status").get_by_text(SHOP).is_visible()
    rows = page.locator("table.shopify-products tbody tr")
    assert rows.count() == 3
    assert rows.nth(0).locator("th").inner_text().startswith("Canvas tote bag")
    pendant_row = page.locator("tr", has_text="Gold pendant")
    pendant_row.locator("select").select_option(label="Engraved round pendant (DEMO-PENDANT)")
    pendant_row.get_by_role("button", name="Save Gold pendant").click()
    page.wait_for_url("**saved=mapped**")
    assert page.get_by_role("status").inner_text().startswith("The mapping was saved")
    pendant_row = page.locator("tr", has_text="Gold pendant")
    assert (
        pendant_row.locator("select option:checked").inner_text() == "Engraved round pendant (DEMO-PENDANT)"
    )
    assert pendant_row.get_by_text("mapped", exact=True).is_visible()
    assert axe_violations(page) == []
    shot(page, "dashboard-shopify-desktop")
    context.close()

    context, page = signed_in(browser, base, email, password, viewport="mobile")
    page.goto(base + "/dashboard/integrations/shopify")
    assert axe_violations(page) == []
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width  # nothing overflows the phone's width
    shot(page, "dashboard-shopify-mobile")
    context.close()


def _held_shopify_order(base: str, data: Path) -> None:
    """A shopper's design (widget API), then `orders/paid` for it with a forged `_luneo_sig`."""
    creds = json.loads((data / "demo-credentials.json").read_text())
    headers = {
        "Authorization": f"Bearer {creds['publishable_key']}",
        "Origin": base,
        "X-Shopper-Token": "e2e-shopify-review-shopper-0123456789",
    }
    with httpx.Client(base_url=base, timeout=60) as http:
        products = http.get("/api/v1/products", params={"q": "DEMO-PENDANT"}, headers=headers)
        assert products.status_code == 200, products.text[:300]
        [product_id] = [p["id"] for p in products.json()["data"] if p["sku"] == "DEMO-PENDANT"]
        snap = http.post(
            "/api/v1/snapshots",
            json={
                "product_id": product_id,
                "inputs": {
                    "arc_text": {"kind": "text", "text": "Emma"},
                    "initial": {"kind": "text", "text": "E"},
                },
            },
            headers=headers,
        )
        assert snap.status_code in (200, 201), snap.text[:300]
        props = {
            "_luneo_snapshot": snap.json()["id"],
            "_luneo_spec_hash": snap.json()["spec_hash"],
            "_luneo_preview": base + "/widget/samples/sample-photo.jpg",
            "_luneo_addons": "arc_text=4",
            "_luneo_sig": "0" * 64,
        }
        body = {
            "id": 820982911946154508,
            "admin_graphql_api_id": "gid://shopify/Order/820982911946154508",
            "name": "#1042",
            "email": "jon@example.com",
            "currency": "EUR",
            "total_price": "49.00",
            "line_items": [
                {
                    "id": 866550311766439020,
                    "product_id": 7001,
                    "variant_id": 70011,
                    "quantity": 1,
                    "price": "49.00",
                    "properties": [{"name": k, "value": v} for k, v in props.items()],
                }
            ],
        }
        raw = json.dumps(body).encode()
        digest = base64.b64encode(hmac.new(SECRET.encode(), raw, hashlib.sha256).digest()).decode()
        r = http.post(
            "/shopify/webhooks",
            content=raw,
            headers={
                "Content-Type": "application/json",
                "X-Shopify-Topic": "orders/paid",
                "X-Shopify-Hmac-Sha256": digest,
                "X-Shopify-Shop-Domain": SHOP,
                "X-Shopify-API-Version": "2026-10",
                "X-Shopify-Event-Id": "e2e-held-order",
            },
        )
        assert r.status_code == 200, r.text[:300]


def test_held_shopify_order_is_reviewed_and_approved(
    browser: Any, shopify_server: Any, shopify_fake: Any
) -> None:
    base, data = shopify_server
    email, password = demo_owner(data)
    context, page = signed_in(browser, base, email, password)
    page.goto(base + "/dashboard/integrations/shopify")
    if page.locator("h2#h-install").count():  # run alone: link the shop first
        _link_shop(base, email, password)
    _held_shopify_order(base, data)
    deadline = time.time() + 60
    while time.time() < deadline:  # the webhook's job runs in the server's worker threads
        page.goto(base + "/dashboard/integrations/shopify")
        if page.locator("#review").count():
            break
        time.sleep(0.5)
    review = page.locator("#review")
    assert review.get_by_text("Shopify order #1042").is_visible()
    assert review.get_by_text("The personalization signature is not valid", exact=False).is_visible()
    assert axe_violations(page) == []
    review.scroll_into_view_if_needed()
    shot(page, "dashboard-shopify-review-desktop")
    review.get_by_role("link", name="Shopify order #1042").click()
    page.wait_for_url("**/dashboard/orders/ord_*")
    card = page.locator("section.shopify-review")
    assert card.get_by_role("heading", name="Held for review in Shopify").is_visible()
    assert axe_violations(page) == []
    shot(page, "dashboard-order-shopify-review-desktop")
    order_url = page.url
    context.close()

    context, page = signed_in(browser, base, email, password, viewport="mobile")
    page.goto(order_url)
    assert axe_violations(page) == []
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    shot(page, "dashboard-order-shopify-review-mobile")
    page.fill("#f-note", "Checked the design with the customer")
    page.get_by_role("button", name="Approve and produce").click()
    page.wait_for_load_state()
    assert page.locator("section.shopify-review").count() == 0
    assert page.get_by_text("Checked the design with the customer", exact=False).count() >= 1
    context.close()
