"""Issue 14 §2 in the widget and the dashboard: "Start from a design" — the brand's templates as a strip of
thumbnails above the inputs; choosing one (mouse or keyboard) fills the inputs and the preview
becomes that design. Fixtures in conftest: one live server (demo seed), one Chromium."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.dashboard import axe_violations, demo_owner, shot, signed_in
from tests.e2e.shots import SHOTS

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
EN = json.loads((ROOT / "src" / "luneo" / "widget" / "static" / "i18n" / "en.json").read_text())
W = "document.querySelector('luneo-personalizer').shadowRoot"
SETTLED = f"""(prev) => {{ const r = {W}; if (!r) return false;
  const i = r.querySelector('img[part=preview-image]'), f = r.querySelector('[part=preview]');
  return !!i && !i.hidden && i.complete && i.naturalWidth > 0 && !f.classList.contains('busy')
    && !!i.dataset.specHash && i.dataset.specHash !== prev
    && !r.querySelector('button.primary').disabled; }}"""


def _settled(page: Any, prev: str | None = None) -> str:
    page.wait_for_function(SETTLED, arg=prev, timeout=60_000)
    return str(page.evaluate(f"() => {W}.querySelector('img[part=preview-image]').dataset.specHash"))


def _templates(base: str, live_data_dir: Path, sku: str) -> list[dict[str, Any]]:
    """The widget's listing of a demo product's templates, as the page's key sees it."""
    creds = json.loads((live_data_dir / "demo-credentials.json").read_text())
    h = {"Authorization": f"Bearer {creds['publishable_key']}", "Origin": base}
    products = httpx.get(
        f"{base}/api/v1/products?limit=50", headers={"Authorization": f"Bearer {creds['secret_key']}"}
    )
    pid = next(p["id"] for p in products.json()["data"] if p["sku"] == sku)
    r = httpx.get(f"{base}/api/v1/widget/products/{pid}/templates", headers=h)
    assert r.status_code == 200, r.text
    return list(r.json()["data"])


def test_choosing_a_template_fills_the_inputs_and_updates_the_preview(live_server, live_data_dir, browser):
    context = browser.new_context(viewport={"width": 1200, "height": 1000})
    page = context.new_page()
    page.goto(live_server + "/demo?sku=DEMO-PENDANT")
    widget = page.locator("luneo-personalizer")
    first = _settled(page)
    strip = widget.locator("[data-templates]")
    strip.wait_for(state="visible")
    assert strip.locator("legend").inner_text() == EN["templates_title"]
    buttons = strip.locator("button[data-template]")
    assert buttons.count() == 2
    box = buttons.first.bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] >= 44
    # every thumbnail has a text alternative (image alt, or a labelled placeholder until rendered)
    for i in range(2):
        thumb = buttons.nth(i).locator("img, [role=img]").first
        label = thumb.get_attribute("alt") or thumb.get_attribute("aria-label")
        assert label and ("Modern" in label or "Classic" in label)

    # the strip is above the inputs
    strip_y = strip.bounding_box()["y"]  # type: ignore[index]
    assert strip_y < widget.locator("#z-arc_text").bounding_box()["y"]  # type: ignore[index]

    widget.locator("button[data-template]", has_text="Modern").click()
    assert widget.locator("#z-arc_text").input_value() == "Always"
    assert widget.locator("#z-initial").input_value() == "M"
    assert widget.locator("button[data-template]", has_text="Modern").get_attribute("aria-pressed") == "true"
    modern = _settled(page, first)

    # the preview on screen is the template's own design (the spec its thumbnail was rendered from)
    listed = {t["name"]: t for t in _templates(live_server, live_data_dir, "DEMO-PENDANT")}
    shown = page.evaluate(f"() => {W}.querySelector('img[part=preview-image]').dataset.specHash")
    if listed["Modern"]["preview"] is not None:
        assert listed["Modern"]["preview"]["spec_hash"] == shown
    # still chosen once the strip is drawn again with previews rendered since (polled every 2 s)
    page.wait_for_timeout(2500)
    assert widget.locator("button[data-template]", has_text="Modern").get_attribute("aria-pressed") == "true"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "widget-templates.png"))

    # by keyboard: focus the other template and press Enter
    widget.locator("button[data-template]", has_text="Classic").focus()
    page.keyboard.press("Enter")
    assert widget.locator("#z-arc_text").input_value() == "Forever"
    assert widget.locator("#z-initial").input_value() == "L"
    classic = _settled(page, modern)
    assert classic != modern
    context.close()


def test_no_strip_for_a_product_without_templates(live_server, browser):
    context = browser.new_context(viewport={"width": 1200, "height": 1000})
    page = context.new_page()
    page.goto(live_server + "/demo?sku=DEMO-SIGN")
    _settled(page)
    page.wait_for_timeout(500)  # the templates answer has arrived by now (it is asked with the form)
    assert page.locator("luneo-personalizer").locator("[data-templates]").is_hidden()
    context.close()


@pytest.mark.parametrize("viewport", ["desktop", "mobile"])
def test_dashboard_templates_page(live_server, live_data_dir, browser, viewport):
    """The product's templates page: thumbnails rendered, no serious axe violation; screenshots."""
    email, password = demo_owner(live_data_dir)
    context, page = signed_in(browser, live_server, email, password, viewport)
    creds = json.loads((live_data_dir / "demo-credentials.json").read_text())
    products = httpx.get(
        f"{live_server}/api/v1/products?limit=50", headers={"Authorization": f"Bearer {creds['secret_key']}"}
    ).json()["data"]
    pid = next(p["id"] for p in products if p["sku"] == "DEMO-CARD")
    page.goto(f"{live_server}/dashboard/products/{pid}")
    page.click(f"a[href='/dashboard/products/{pid}/templates']")
    page.wait_for_url(f"**/dashboard/products/{pid}/templates")
    thumbs = page.locator("img.tpl-thumb")
    assert thumbs.count() >= 2
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.tpl-thumb')].every(i => i.complete && i.naturalWidth > 0)",
        timeout=60_000,
    )
    assert axe_violations(page) == []
    shot(page, f"product-templates-{viewport}")
    context.close()
