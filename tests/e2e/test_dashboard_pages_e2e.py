"""The dashboard pages no other e2e opens — an asset's detail, a ledger line, the revoke
confirmation, the password-reset page with a bad link — pass axe on desktop and mobile, fit the
phone's width, and are photographed; and the production file-name field shows its live example
and the API's message as the owner types."""

from __future__ import annotations

from typing import Any

import pytest

from .dashboard import VIEWPORTS, OwnerSession, axe_violations, shot

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
