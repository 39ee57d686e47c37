"""End to end: the demo storefront in real Chromium against a live `luneo serve` (fixtures in conftest)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def test_shopper_personalizes_previews_and_adds_to_cart(live_server, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(live_server + "/demo")
    page.select_option("#product", label="Engraved round pendant")
    widget = page.locator("luneo-personalizer")
    widget.locator("#z-arc_text").fill("Emma")
    widget.locator("#z-initial").fill("E")
    img = widget.locator("img[part=preview-image]")
    img.wait_for(state="visible", timeout=60_000)
    page.wait_for_function(
        "() => { const i = document.querySelector('luneo-personalizer').shadowRoot.querySelector('img');"
        " return i && i.complete && i.naturalWidth > 100; }",
        timeout=60_000,
    )
    page.screenshot(path=str(tmp_path / "preview.png"))

    # A blocked word is refused next to its field, and the preview is not updated.
    widget.locator("#z-arc_text").fill("Merde")
    error = widget.locator('[data-errors="arc_text"] [data-code="blocked_word"]')
    error.wait_for(state="visible", timeout=20_000)

    widget.locator("#z-arc_text").fill("Emma Rose")
    page.wait_for_function(
        "() => { const r = document.querySelector('luneo-personalizer').shadowRoot;"
        " return !r.querySelector('button.primary').disabled; }",
        timeout=60_000,
    )
    widget.locator("button.primary").click()
    widget.locator("[part=cart]").get_by_text("In your cart: 1").wait_for(timeout=20_000)
    page.screenshot(path=str(Path(os.environ.get("LUNEO_E2E_SHOTS", tmp_path)) / "cart.png"))
