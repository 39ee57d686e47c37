"""Products in Chromium: create a product, draw two zones with the mouse, nudge one with the keyboard,
set rules, watch the live preview change, save; axe and screenshots of list, form and editor."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from .dashboard import axe_violations, demo_owner, shot, signed_in


def _drag(page: Any, start: tuple[float, float], end: tuple[float, float]) -> None:
    """A mouse drag on the zone canvas, between fractions of its box."""
    box = page.locator("#zone-canvas").bounding_box()
    x0, y0 = box["x"] + box["width"] * start[0], box["y"] + box["height"] * start[1]
    x1, y1 = box["x"] + box["width"] * end[0], box["y"] + box["height"] * end[1]
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=4)
    page.mouse.move(x1, y1, steps=4)
    page.mouse.up()


def _zones(page: Any) -> list[dict[str, Any]]:
    return json.loads(page.locator("#zones-json").input_value())


def _preview_src(page: Any) -> str:
    img = page.locator("#zone-preview img")
    img.wait_for()
    return img.get_attribute("src") or ""


def test_create_a_product_draw_zones_preview_and_save(
    live_server: str, live_data_dir: Any, browser: Any
) -> None:
    email, password = demo_owner(live_data_dir)
    context, page = signed_in(browser, live_server, email, password)
    sku = f"E2E-{int(time.time() * 1000)}"
    page.goto(live_server + "/dashboard/products/new")
    assert axe_violations(page) == []
    shot(page, "dashboard-products-form-desktop")
    page.fill("#f-name", "E2E card")
    page.fill("#f-sku", sku)
    page.fill("#f-width_mm", "100")
    page.fill("#f-height_mm", "60")
    page.fill("#f-bleed_mm", "2")
    page.fill("#f-price", "9.90")
    page.fill("#f-palette_new", "#3b2f8f")
    page.click("form.product-form button[type=submit]")
    page.wait_for_url("**/zones")

    first_preview = _preview_src(page)  # the empty print area, rendered on load
    _drag(page, (0.1, 0.1), (0.6, 0.35))
    _drag(page, (0.1, 0.55), (0.5, 0.9))
    zones = _zones(page)
    assert len(zones) == 2
    second = zones[1]["geometry"]
    assert second["width_mm"] > 10 and second["height_mm"] > 5
    # Keyboard: the second zone is selected; right arrow moves 1 mm, shift+down 10 mm... within bounds.
    page.locator("#zone-canvas").focus()
    x_before, y_before = second["x_mm"], second["y_mm"]
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowUp")
    page.keyboard.press("Alt+ArrowRight")
    moved = _zones(page)[1]["geometry"]
    assert moved["x_mm"] == pytest.approx(x_before + 1) and moved["y_mm"] == pytest.approx(y_before - 10)
    assert moved["width_mm"] == pytest.approx(second["width_mm"] + 1)
    assert "mm" in page.locator("#zone-coords").inner_text()

    # Rules on the first zone: select it, set max chars and the sample text.
    page.locator("#zone-list button").first.click()
    page.fill("#z-label", "Name")
    page.fill("#z-max-chars", "15")
    page.fill("#z-blocked", "spam")
    page.fill("#preview-sample", "Bonjour")
    page.wait_for_function(
        "prev => { const i = document.querySelector('#zone-preview img'); return i && i.src !== prev; }",
        arg=first_preview,
        timeout=20_000,
    )
    updated = _preview_src(page)
    assert updated.startswith("data:image/png") and updated != first_preview
    page.fill("#preview-sample", "spam")
    page.locator("#zone-preview .alert--warn").wait_for(timeout=20_000)
    page.fill("#preview-sample", "Bonjour")
    page.locator("#zone-preview img").wait_for(timeout=20_000)
    assert axe_violations(page) == []
    shot(page, "dashboard-products-zones-desktop")

    page.click("#zones-save")
    page.wait_for_url("**/zones?saved=1")
    saved = _zones(page)
    assert saved[0]["label"] == "Name" and saved[0]["rules"]["max_chars"] == 15

    # A bad rule is refused whole with the error next to the field.
    page.locator("#zone-list button").first.click()
    page.fill("#z-max-chars", "0")
    page.evaluate("document.getElementById('z-max-chars').dispatchEvent(new Event('input', {bubbles: true}))")
    page.evaluate("document.getElementById('zone-form').requestSubmit()")
    page.locator(".alert--error").wait_for()
    page.locator("#zone-list button").first.click()
    assert page.locator("[data-error-for='rules.max_chars']").inner_text() != ""

    page.goto(live_server + "/dashboard/products")
    assert page.get_by_text(sku).is_visible()
    assert axe_violations(page) == []
    shot(page, "dashboard-products-list-desktop")
    context.close()


@pytest.mark.parametrize(
    "path,name",
    [("/dashboard/products", "list"), ("/dashboard/fonts", "fonts"), ("/dashboard/assets", "assets")],
)
def test_pages_pass_axe_on_mobile(
    live_server: str, live_data_dir: Any, browser: Any, path: str, name: str
) -> None:
    email, password = demo_owner(live_data_dir)
    context, page = signed_in(browser, live_server, email, password, "mobile")
    page.goto(live_server + path)
    assert axe_violations(page) == []
    shot(page, f"dashboard-products-{name}-mobile")
    if name == "list":
        page.locator("table a[href*='/dashboard/products/prd_']").first.click()
        page.wait_for_selector("form.product-form")
        assert axe_violations(page) == []
        shot(page, "dashboard-products-form-mobile")
        page.click("a[href$='/zones']")
        page.locator("#zone-preview img, #zone-preview .alert").first.wait_for(timeout=20_000)
        assert axe_violations(page) == []
        shot(page, "dashboard-products-zones-mobile")
    context.close()


def test_fonts_and_assets_desktop(live_server: str, live_data_dir: Any, browser: Any) -> None:
    email, password = demo_owner(live_data_dir)
    context, page = signed_in(browser, live_server, email, password)
    for path, name in (("/dashboard/fonts", "fonts"), ("/dashboard/assets", "assets")):
        page.goto(live_server + path)
        assert axe_violations(page) == []
        shot(page, f"dashboard-products-{name}-desktop")
    context.close()
