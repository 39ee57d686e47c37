"""Credits & billing and analytics in Chromium: buy a pack through the dev provider and see the
header badge update (also without a reload while the payment is confirmed in another tab), spend
credits under a fifth of the last top-up and see the upsell once per session, the analytics
charts; axe and screenshots of both pages on desktop and mobile."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from .dashboard import OwnerSession, axe_violations, shot

# The credits badge has been swapped in by HTMX and the swap has settled (its handlers have run).
SWAP_DONE = """() => { const c = document.getElementById('credits-badge');
  return !!c && !!c.querySelector('.credits-badge')
    && !['htmx-request', 'htmx-swapping', 'htmx-settling'].some(k => c.classList.contains(k)); }"""


def _creds(live_data_dir: Path) -> dict[str, Any]:
    return dict(json.loads((live_data_dir / "demo-credentials.json").read_text()))


def _badge(page: Any) -> int:
    badge = page.locator("#credits-badge .credits-badge")
    badge.wait_for()
    return int(badge.get_attribute("data-balance") or "-1")


def _wait_badge(page: Any, value: int) -> None:
    page.wait_for_selector(f'#credits-badge .credits-badge[data-balance="{value}"]', timeout=15_000)


def _start_buy(page: Any, pack: str = "pack_100") -> str:
    """Click "Buy" on a pack: the dev provider's page opens; returns its reference."""
    page.click(f'li[data-pack="{pack}"] button[type=submit]')
    page.wait_for_url("**/checkout/dev/**")
    page.wait_for_selector("button.pay")
    found = re.search(r"Reference (cbuy_\w+)", page.content())
    assert found
    return found.group(1)


def test_buy_credits_and_see_the_badge_update(live_server: str, owner: OwnerSession) -> None:
    context, page = owner.page("/dashboard/billing")
    before = _badge(page)
    _start_buy(page)
    page.click("button.pay")
    page.wait_for_url("**/dashboard/billing?purchase=*")
    assert page.locator('[data-purchase="credited"]').is_visible()
    _wait_badge(page, before + 100)
    assert page.locator("#balance-figure").get_attribute("data-balance") == str(before + 100)

    # The payment confirmed in another tab: this page polls, then the badge updates, no reload.
    ref = _start_buy(page)
    checkout_url = page.url
    page.goto(f"{live_server}/dashboard/billing?purchase={ref}&status=success")
    assert page.locator('[data-purchase="pending"]').is_visible()
    page.evaluate("window.__sameDocument = true")
    other = context.new_page()
    other.goto(checkout_url)
    other.click("button.pay")
    other.wait_for_url("**/dashboard/billing?purchase=*")
    page.wait_for_selector('[data-purchase="credited"]', timeout=15_000)
    _wait_badge(page, before + 200)
    assert page.locator("#balance-figure").get_attribute("data-balance") == str(before + 200)
    assert page.evaluate("window.__sameDocument === true")
    context.close()


def test_the_upsell_opens_once_per_session_under_a_fifth_of_the_last_top_up(
    live_server: str, live_data_dir: Path, owner: OwnerSession
) -> None:
    creds = _creds(live_data_dir)
    sk = {"Authorization": f"Bearer {creds['secret_key']}"}
    context, page = owner.page("/dashboard/billing")
    before = _badge(page)
    _start_buy(page)  # a purchase of 100 sets the baseline: low under 20
    page.click("button.pay")
    page.wait_for_url("**/dashboard/billing?purchase=*")
    _wait_badge(page, before + 100)
    assert not page.locator("#upsell").evaluate("d => d.open")
    with httpx.Client(base_url=live_server, headers=sk, timeout=30) as api:
        balance = int(api.get("/api/v1/credits/balance").json()["balance"])
        seed = 0
        while balance >= 20:
            r = api.post("/api/v1/ai/generate", json={"prompt": "a small star", "size": 256, "seed": seed})
            assert r.status_code in (200, 201, 202), r.text
            seed += 1
            balance = int(api.get("/api/v1/credits/balance").json()["balance"])
    page.goto(live_server + "/dashboard")
    page.wait_for_selector('#credits-badge .credits-badge[data-level="low"]')
    page.wait_for_selector("#upsell[open]")
    assert axe_violations(page) == []
    shot(page, "dashboard-billing-upsell-desktop")
    page.click("#upsell [data-dismiss]")
    assert not page.locator("#upsell").evaluate("d => d.open")
    page.goto(live_server + "/dashboard/billing")
    page.wait_for_selector('#credits-badge .credits-badge[data-level="low"]')
    page.wait_for_function(SWAP_DONE)  # the upsell check runs on the badge's swap
    assert not page.locator("#upsell").evaluate("d => d.open")  # once per session
    # a new session (another browser context) sees it again
    context2, page2 = owner.page()
    page2.wait_for_selector("#upsell[open]")
    context2.close()
    # top up again so the other tests start from an ok balance
    _start_buy(page, "pack_500")
    page.click("button.pay")
    page.wait_for_url("**/dashboard/billing?purchase=*")
    page.wait_for_selector('#credits-badge .credits-badge[data-level="ok"]')
    context.close()


def _seed_events(live_server: str, creds: dict[str, Any]) -> None:
    headers = {"Authorization": f"Bearer {creds['secret_key']}"}
    with httpx.Client(base_url=live_server, timeout=30) as api:
        products = api.get("/api/v1/products", headers=headers).json()["data"]
        assert products
        pid = products[0]["id"]
        now = datetime.now(UTC).isoformat()
        events = []
        for i, (name, n) in enumerate(
            [("widget_loaded", 12), ("preview_requested", 9), ("preview_ready", 7), ("snapshot_created", 4)]
        ):
            events += [
                {"name": name, "product_id": pid, "session_id": f"e2e_{j:06d}", "at": now} for j in range(n)
            ]
            del i
        events += [{"name": "add_to_cart_clicked", "product_id": pid, "session_id": "e2e_000000", "at": now}]
        r = api.post(
            "/api/v1/widget/events",
            json={"events": events[:50]},
            headers={
                "Authorization": f"Bearer {creds['publishable_key']}",
                "Origin": "http://127.0.0.1:8000",
            },
        )
        assert r.status_code == 202, r.text


@pytest.mark.parametrize("viewport", ["desktop", "mobile"])
def test_billing_and_analytics_pages_pass_axe(
    live_server: str, live_data_dir: Path, owner: OwnerSession, viewport: str
) -> None:
    _seed_events(live_server, _creds(live_data_dir))
    context, page = owner.page(
        "/dashboard/billing", viewport, init="sessionStorage.setItem('luneo:upsell-dismissed', '1')"
    )
    _badge(page)
    assert page.locator("li[data-pack]").count() >= 1
    assert axe_violations(page) == []
    shot(page, f"dashboard-billing-index-{viewport}")
    page.goto(live_server + "/dashboard/analytics")
    chart = page.locator("svg.funnel-chart[role=img]")
    chart.wait_for()
    assert page.locator("svg.funnel-chart g.funnel-step").count() == 6
    loaded = page.locator('g.funnel-step[data-step="loaded"]').get_attribute("data-count")
    assert int(loaded or "0") >= 12
    assert page.locator("svg.revenue-chart[role=img]").is_visible()
    assert axe_violations(page) == []
    shot(page, f"dashboard-analytics-index-{viewport}")
    context.close()
