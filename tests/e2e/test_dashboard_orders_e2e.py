"""Orders and production in Chromium: an order placed and paid through the API as a shop's widget
does (publishable key, shopper token, dev provider's hosted checkout), found in the orders list by
the buyer's email, opened (spec_hash, payment), its work order seen in the production queue, its
pack downloaded with one click (a ZIP whose manifest names the same spec_hash); axe and
screenshots of each page on desktop and mobile."""

from __future__ import annotations

import io
import json
import re
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from .dashboard import OwnerSession, axe_violations, shot

pytestmark = pytest.mark.e2e

PENDANT = {"arc_text": {"text": "Iris"}, "initial": {"text": "I"}}


def _creds(live_data_dir: Path) -> dict[str, Any]:
    return dict(json.loads((live_data_dir / "demo-credentials.json").read_text()))


def _place_and_pay(base: str, creds: dict[str, Any], email: str) -> dict[str, Any]:
    """Snapshot → cart → checkout (dev) → pay, as the widget and the shopper do; the order (sk_)."""
    shopper = {
        "Authorization": f"Bearer {creds['publishable_key']}",
        "Origin": base,
        "X-Shopper-Token": f"e2e-orders-{uuid.uuid4().hex}",
    }
    secret = {"Authorization": f"Bearer {creds['secret_key']}"}
    with httpx.Client(base_url=base, timeout=60) as api:
        products = api.get("/api/v1/products", params={"limit": 200}, headers=secret).json()["data"]
        pid = next(p["id"] for p in products if p["sku"] == "DEMO-PENDANT")
        snap = api.post("/api/v1/snapshots", json={"product_id": pid, "inputs": PENDANT}, headers=shopper)
        assert snap.status_code in (200, 201), snap.text
        added = api.post(
            "/api/v1/cart/add",
            json={"product_id": pid, "snapshot_id": snap.json()["id"], "quantity": 1},
            headers=shopper,
        )
        assert added.status_code == 201, added.text
        co = api.post(
            "/api/v1/cart/checkout",
            json={
                "customer": {"email": email, "name": "Iris E2E"},
                "provider": "dev",
                "success_url": base + "/demo?paid=1",
                "cancel_url": base + "/demo?cancelled=1",
            },
            headers=shopper,
        )
        assert co.status_code == 201, co.text
        paid = api.post(urlsplit(co.json()["checkout_url"]).path + "/pay", follow_redirects=False)
        assert paid.status_code == 303, paid.text
        found = api.get("/api/v1/orders", params={"customer_email": email}, headers=secret).json()["data"]
        assert len(found) == 1 and found[0]["status"] == "paid", found
        order = api.get(f"/api/v1/orders/{found[0]['id']}", headers=secret).json()
        deadline = time.time() + 120
        while True:  # the live server's worker builds the pack
            rows = api.get(
                "/api/v1/manufacturing/work-orders", params={"order_id": order["id"]}, headers=secret
            ).json()["data"]
            if rows and rows[0]["status"] in ("ready", "needs_review", "failed", "needs_attention"):
                break
            assert time.time() < deadline, rows
            time.sleep(0.3)
        assert rows[0]["status"] == "ready", rows
        return {"order": order, "work_order": rows[0]}


@pytest.fixture(scope="module")
def placed(live_server: str, live_data_dir: Path) -> dict[str, Any]:
    return _place_and_pay(live_server, _creds(live_data_dir), f"iris-{uuid.uuid4().hex[:8]}@example.com")


@pytest.mark.parametrize("viewport", ["desktop", "mobile"])
def test_find_the_paid_order_see_its_work_order_and_download_the_pack(
    live_server: str, owner: OwnerSession, placed: dict[str, Any], viewport: str
) -> None:
    order, wo = placed["order"], placed["work_order"]
    spec_hash = order["items"][0]["snapshot"]["spec_hash"]
    assert wo["spec_hash"] == spec_hash
    context, page = owner.page(
        "/dashboard/orders", viewport, init="sessionStorage.setItem('luneo:upsell-dismissed', '1')"
    )

    page.fill("#f-q", order["customer"]["email"])
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r".*/dashboard/orders\?.*q=.*"))
    rows = page.locator("table.orders-table tbody tr")
    assert rows.count() == 1 and f"#{order['number']}" in rows.first.inner_text()
    assert axe_violations(page) == []
    shot(page, f"dashboard-orders-list-{viewport}")

    page.click(f"a[href='/dashboard/orders/{order['id']}']")
    page.wait_for_url(f"**/dashboard/orders/{order['id']}")
    body = page.content()
    assert spec_hash in body and order["payment_id"] in body and "help-link" in body
    assert page.locator("#refund-form").is_visible()
    assert axe_violations(page) == []
    shot(page, f"dashboard-orders-detail-{viewport}")

    page.goto(live_server + "/dashboard/production?status=ready")
    assert page.locator(f"a[href='/dashboard/production/{wo['id']}']").count() == 1
    assert axe_violations(page) == []
    shot(page, f"dashboard-production-queue-{viewport}")

    page.click(f"a[href='/dashboard/production/{wo['id']}']")
    page.wait_for_url(f"**/dashboard/production/{wo['id']}")
    assert spec_hash in page.content()
    assert axe_violations(page) == []
    shot(page, f"dashboard-production-detail-{viewport}")
    with page.expect_download() as download:
        page.click("a.button.primary[href$='/pack']")
    data = Path(download.value.path()).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert json.loads(z.read("manifest.json"))["meta"]["spec_hash"] == spec_hash

    page.goto(live_server + "/dashboard/production/bulk-upload")
    assert page.locator("#f-file").is_visible()
    assert axe_violations(page) == []
    shot(page, f"dashboard-production-upload-{viewport}")
    context.close()
