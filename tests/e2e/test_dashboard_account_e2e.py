"""Sign-up and onboarding in Chromium: sign up, open the verification link from the outbox, see
the checklist, forgot-password; axe and screenshots on each page at desktop and mobile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .dashboard import VIEWPORTS, axe_violations, emailed_link, shot

EMAIL = "founder@e2e-shop.example"
PASSWORD = "a long e2e password"


def _audit(page: Any, name: str, viewport: str) -> None:
    assert axe_violations(page) == [], name
    shot(page, f"dashboard-account-{name}-{viewport}")


def test_sign_up_verify_and_see_the_checklist(live_server: str, live_data_dir: Path, browser: Any) -> None:
    context = browser.new_context(viewport=VIEWPORTS["desktop"], locale="en-US")
    page = context.new_page()
    page.goto(live_server + "/dashboard/login")
    page.click("text=Create your brand")
    page.wait_for_url("**/dashboard/signup")
    _audit(page, "signup", "desktop")

    page.fill("#f-email", EMAIL)
    page.fill("#f-password", "short")
    page.fill("#f-brand_name", "E2E Atelier")
    page.click("form[action='/dashboard/signup'] button[type=submit]")
    error = page.locator("#f-password-error")
    error.wait_for()
    assert "at least 10 characters" in error.inner_text()
    assert page.locator("#f-password").get_attribute("aria-invalid") == "true"
    _audit(page, "signup-error", "desktop")

    page.fill("#f-password", PASSWORD)
    page.click("form[action='/dashboard/signup'] button[type=submit]")
    page.wait_for_url(live_server + "/dashboard")
    assert page.locator("h1").inner_text() == "E2E Atelier"
    assert page.locator(".verify-banner").is_visible()
    steps = page.locator(".onboarding li")
    assert steps.count() == 6
    assert page.locator(".onboarding li[data-step=product] a").get_attribute("href") == "/dashboard/products"
    page.locator("#credits-badge .credits-badge").wait_for()
    assert page.locator("[data-figure=credits]").inner_text() == "50"
    _audit(page, "home", "desktop")

    link = emailed_link(live_data_dir / "outbox", EMAIL, "/dashboard/verify")
    page.goto(link)
    assert "Your email address is verified." in page.locator("main").inner_text()
    _audit(page, "verify", "desktop")
    page.goto(link)  # single use
    assert "already used" in page.locator("main").inner_text()
    page.goto(live_server + "/dashboard")
    assert page.locator(".verify-banner").count() == 0
    help_link = page.locator("a.help-link")
    assert (help_link.get_attribute("href") or "").startswith("mailto:")
    context.close()


def test_account_pages_on_mobile_and_forgot_password(
    live_server: str, live_data_dir: Path, browser: Any
) -> None:
    context = browser.new_context(viewport=VIEWPORTS["mobile"], locale="en-US")
    page = context.new_page()
    page.goto(live_server + "/dashboard/signup")
    _audit(page, "signup", "mobile")
    page.goto(live_server + "/dashboard/password/forgot")
    _audit(page, "forgot", "mobile")
    page.fill("#f-email", "nobody@e2e-shop.example")
    page.click("form[action='/dashboard/password/forgot'] button[type=submit]")
    page.locator(".alert--ok").wait_for()
    assert "If an account uses this address" in page.locator(".alert--ok").inner_text()
    _audit(page, "forgot-sent", "mobile")
    page.goto(live_server + "/dashboard/verify?token=rt_not-a-real-token-at-all")
    _audit(page, "verify", "mobile")
    context.close()

    context = browser.new_context(viewport=VIEWPORTS["desktop"], locale="en-US")
    page = context.new_page()
    page.goto(live_server + "/dashboard/password/forgot")
    _audit(page, "forgot", "desktop")
    context.close()

    # the account made by the first test (or a fresh one when run alone) on a phone
    context = browser.new_context(viewport=VIEWPORTS["mobile"], locale="en-US")
    page = context.new_page()
    page.goto(live_server + "/dashboard/login")
    page.fill("#f-email", EMAIL)
    page.fill("#f-password", PASSWORD)
    page.click("form[action='/dashboard/login'] button[type=submit]")
    page.wait_for_load_state()
    if "/dashboard/login" in page.url:  # run alone: sign up first
        page.goto(live_server + "/dashboard/signup")
        page.fill("#f-email", EMAIL)
        page.fill("#f-password", PASSWORD)
        page.fill("#f-brand_name", "E2E Atelier")
        page.click("form[action='/dashboard/signup'] button[type=submit]")
    page.wait_for_url(live_server + "/dashboard")
    assert page.locator(".onboarding li").count() == 6
    _audit(page, "home", "mobile")
    context.close()
