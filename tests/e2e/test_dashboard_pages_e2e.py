"""The dashboard pages no other e2e opens — an asset's detail, a ledger line, the revoke
confirmation, the member-remove confirmation, the welcome page of a person without a brand, the
password-reset page with a bad link — pass axe on desktop and mobile, fit the
phone's width, and are photographed; and the production file-name field shows its live example
and the API's message as the owner types."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from .dashboard import VIEWPORTS, OwnerSession, axe_violations, emailed_link, shot, signed_in

#: (name, list page, CSS selector of the first link to the detail page).
DETAILS = [
    ("products-asset", "/dashboard/assets", "a[href^='/dashboard/assets/ast_']"),
    ("billing-line", "/dashboard/billing", "a[href^='/dashboard/billing/ledger/']"),
    ("integrations-revoke", "/dashboard/integrations", "a[href$='/revoke']"),
]


@pytest.mark.parametrize("viewport", ["desktop", "mobile"])
def test_detail_pages_pass_axe_and_fit(owner: OwnerSession, viewport: str) -> None:
    for name, path, link in DETAILS:
        context, page = owner.page(path, viewport)
        page.locator(link).first.click()
        page.wait_for_load_state("networkidle")
        assert page.url != owner.base + path, name
        assert axe_violations(page) == [], name
        assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"], name
        shot(page, f"dashboard-{name}-{viewport}")
        context.close()


@pytest.mark.parametrize("viewport", ["desktop", "mobile"])
def test_the_reset_page_with_a_bad_link_passes_axe(owner: OwnerSession, browser: Any, viewport: str) -> None:
    context = browser.new_context(viewport=VIEWPORTS[viewport], locale="en-US")
    page = context.new_page()
    page.goto(owner.base + "/dashboard/password/reset?token=nope")
    assert "not valid" in page.content()
    assert axe_violations(page) == []
    shot(page, f"dashboard-account-reset-invalid-{viewport}")
    context.close()


def test_the_file_name_pattern_shows_a_live_example_and_the_api_error(owner: OwnerSession) -> None:
    context, page = owner.page("/dashboard/integrations#file-names")
    field = page.locator("#f-file_name_pattern")
    example = page.locator("#file-name-example")
    field.fill("{order}-{sku}-{text}")
    example.locator("text=1042-MUG-11-Zoe.pdf").wait_for(timeout=10_000)
    field.fill("{order}-{colour}")
    example.locator("text=unknown token {colour}").wait_for(timeout=10_000)
    page.click("#file-names button[type=submit]")
    page.wait_for_selector("#f-file_name_pattern-error")
    assert "unknown token {colour}" in page.inner_text("#f-file_name_pattern-error")
    assert page.get_attribute("#f-file_name_pattern", "aria-invalid") == "true"
    assert axe_violations(page) == []
    shot(page, "dashboard-integrations-file-names-error-desktop")
    field.fill("{order}-{item}-{sku}")
    page.click("#file-names button[type=submit]")
    page.wait_for_selector("text=Production file names saved.")
    assert page.input_value("#f-file_name_pattern") == "{order}-{item}-{sku}"
    field.fill("")
    page.click("#file-names button[type=submit]")
    page.wait_for_selector("text=Production file names saved.")
    context.close()


def test_the_member_remove_confirmation_and_the_welcome_page_pass_axe(
    owner: OwnerSession, browser: Any, live_data_dir: Path
) -> None:
    """A teammate is invited and joins; the owner asks to remove them (the confirmation page), then
    removes them: signed in again, the teammate has no brand and lands on the welcome page."""
    invitee = f"leaver-{int(time.time() * 1000)}@e2e.example"
    password = "a long leaver password"
    context, page = owner.page("/dashboard/team")
    page.fill("#f-email", invitee)
    page.select_option("#f-role", "viewer")
    page.click("form[action='/dashboard/team/invitations'] button[type=submit]")
    page.get_by_text("Invitation sent.").wait_for()
    link = emailed_link(live_data_dir / "outbox", invitee, "/dashboard/invitations/accept")
    guest = browser.new_context(viewport=VIEWPORTS["desktop"], locale="en-US")
    joined = guest.new_page()
    joined.goto(link)
    joined.fill("#f-password", password)
    joined.click("form[action='/dashboard/invitations/accept'] button[type=submit]")
    joined.wait_for_url(owner.base + "/dashboard")
    guest.close()

    page.goto(owner.base + "/dashboard/team")
    remove = page.locator("a[href$='/remove']", has_text=invitee)
    confirm_url = owner.base + (remove.get_attribute("href") or "")
    context.close()
    for viewport in ("desktop", "mobile"):
        context, page = owner.page(confirm_url.removeprefix(owner.base), viewport)
        assert invitee in page.locator("main").inner_text()
        assert axe_violations(page) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
        shot(page, f"dashboard-team-remove-{viewport}")
        if viewport == "mobile":
            page.click("form[action$='/remove'] button[type=submit]")
            page.get_by_text("Member removed.").wait_for()
        context.close()

    for viewport in ("desktop", "mobile"):
        context, page = signed_in(browser, owner.base, invitee, password, viewport)
        if not page.url.endswith("/dashboard/welcome"):
            page.goto(owner.base + "/dashboard/welcome")
        assert page.url == owner.base + "/dashboard/welcome"
        page.locator("#f-brand_name").wait_for()
        assert axe_violations(page) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
        shot(page, f"dashboard-account-welcome-{viewport}")
        context.close()


def test_a_refused_key_origin_is_shown_next_to_its_field(owner: OwnerSession) -> None:
    context, page = owner.page("/dashboard/integrations")
    page.fill("#f-key-origins", "https://shop.example/path")
    page.click("form[action='/dashboard/integrations/keys'] button[type=submit]")
    error = page.locator("#f-key-origins-error")
    error.wait_for()
    assert "no path" in error.inner_text()
    origins = page.locator("#f-key-origins")
    assert origins.get_attribute("aria-invalid") == "true"
    assert "f-key-origins-error" in (origins.get_attribute("aria-describedby") or "").split()
    assert page.locator(".key-form").locator("#f-key-origins-error").count() == 1  # in the form, by the field
    assert axe_violations(page) == []
    page.evaluate("window.scrollTo(0, 0)")  # the sticky header at the top of the full-page picture
    shot(page, "dashboard-integrations-key-error-desktop")
    context.close()
