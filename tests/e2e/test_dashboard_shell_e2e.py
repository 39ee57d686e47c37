"""The dashboard shell in Chromium: sign in, the badge, the mobile menu, French, axe on each."""

from __future__ import annotations

from typing import Any

import pytest

from .dashboard import OwnerSession, axe_violations, demo_owner, shot, signed_in


@pytest.mark.parametrize("viewport", ["desktop", "mobile"])
def test_sign_in_then_home_with_the_credits_badge(
    live_server: str, live_data_dir: Any, browser: Any, viewport: str
) -> None:
    email, password = demo_owner(live_data_dir)
    context = browser.new_context(viewport={"width": 390, "height": 844} if viewport == "mobile" else None)
    page = context.new_page()
    page.goto(live_server + "/dashboard")
    assert "/dashboard/login" in page.url
    assert axe_violations(page) == []
    shot(page, f"dashboard-login-{viewport}")
    context.close()

    context, page = signed_in(browser, live_server, email, password, viewport)
    badge = page.locator("#credits-badge .credits-badge")
    badge.wait_for()
    assert int(badge.get_attribute("data-balance") or "-1") >= 0
    if viewport == "mobile":
        nav = page.locator("#main-nav")
        assert not nav.is_visible()
        page.click(".nav-toggle")
        assert nav.is_visible()
    assert axe_violations(page) == []
    context.close()


def test_the_dashboard_speaks_french(owner: OwnerSession) -> None:
    context, page = owner.page()
    page.select_option("#lang-switch", "fr")
    page.wait_for_selector("html[lang=fr]")
    assert page.locator(".sidenav").get_by_text("Commandes").is_visible()
    assert axe_violations(page) == []
    context.close()
