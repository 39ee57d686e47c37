"""Issue 13 §4: the widget's 3D view — `<model-viewer>` loaded only when the shopper opens 3D, wearing
the design on screen (preview GLB / USDZ), following it as they type, falling back to the 2D mockup
without WebGL (fixtures in conftest: one live server, one Chromium)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.shots import SHOTS

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
EN = json.loads((ROOT / "src/luneo/widget/static/i18n/en.json").read_text())
W = "document.querySelector('luneo-personalizer').shadowRoot"
SETTLED = f"""(prev) => {{ const r = {W}; if (!r) return false;
  const i = r.querySelector('img[part=preview-image]'), f = r.querySelector('[part=preview]');
  return !!i && !i.hidden && i.complete && i.naturalWidth > 0 && !f.classList.contains('busy')
    && !!i.dataset.specHash && i.dataset.specHash !== prev; }}"""
MODEL_SRC = f"""(prev) => {{ const m = {W}.querySelector('model-viewer');
  return !!m && !!m.getAttribute('src') && m.dataset.specHash !== prev; }}"""
# the model wears the design on screen: the spec of the typed text, the one the 2D preview shows
FOLLOWS = """(text) => { const w = document.querySelector('luneo-personalizer');
  const m = w.shadowRoot.querySelector('model-viewer');
  return !!w.shown && w.shown.key.includes(text) && w.shown.specHash === w.specHash
    && m.dataset.specHash === w.specHash; }"""
NO_WEBGL = """() => { const get = HTMLCanvasElement.prototype.getContext;
  HTMLCanvasElement.prototype.getContext = function (kind, ...rest) {
    return /webgl/.test(kind) ? null : get.call(this, kind, ...rest); }; }"""


def _open(browser: Any, url: str, init: str | None = None) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    if init:
        page.add_init_script(f"({init})()")
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(url)
    page.wait_for_function(SETTLED, arg=None, timeout=60_000)
    return context, page, requested


def _viewer_requested(requested: list[str]) -> bool:
    return any("/widget/vendor/model-viewer" in u for u in requested)


def test_3d_loads_the_viewer_only_when_asked_and_follows_the_design(live_server, browser):
    context, page, requested = _open(browser, f"{live_server}/demo?sku=DEMO-MUG")
    assert page.evaluate("() => !!document.createElement('canvas').getContext('webgl')"), (
        "this Chromium has no WebGL"
    )
    widget = page.locator("luneo-personalizer")
    button = widget.locator("[part=view-3d]")
    assert button.get_attribute("aria-pressed") == "false"
    assert button.get_attribute("aria-label") == EN["view_3d"]
    size = button.bounding_box()
    assert size and size["width"] >= 44 and size["height"] >= 44
    page.wait_for_timeout(300)
    assert not _viewer_requested(requested)
    assert not any(u.endswith("/widget/luneo-3d.js") for u in requested)

    events: list[Any] = []
    page.on(
        "request",
        lambda r: (
            events.extend(e["name"] for e in r.post_data_json["events"])
            if r.url.endswith("/widget/events")
            else None
        ),
    )
    button.focus()
    page.keyboard.press("Enter")  # keyboard works: a native button
    page.wait_for_function(MODEL_SRC, arg=None, timeout=60_000)
    assert _viewer_requested(requested)
    assert button.get_attribute("aria-pressed") == "true"
    viewer = widget.locator("model-viewer")
    assert page.evaluate("() => !!customElements.get('model-viewer')")
    for attr in ("ar", "camera-controls"):
        assert viewer.get_attribute(attr) == ""
    assert viewer.get_attribute("ar-modes") == "webxr scene-viewer quick-look"
    assert viewer.get_attribute("alt") == EN["model_alt"]
    assert viewer.get_attribute("poster")
    glb, usdz = viewer.get_attribute("src"), viewer.get_attribute("ios-src")
    assert glb and usdz and glb != usdz
    got = httpx.get(glb, timeout=10)
    assert got.status_code == 200 and got.headers["content-type"] == "model/gltf-binary"
    assert got.content[:4] == b"glTF"
    got = httpx.get(usdz, timeout=10)
    assert got.status_code == 200 and got.headers["content-type"].startswith("model/vnd.usd")
    assert widget.locator("[part=ar-button]").inner_text() == EN["ar_view"]
    first = viewer.get_attribute("data-spec-hash")

    # typing while 3D is open: a new GLB of the new design (debounced)
    widget.locator("#z-name").press_sequentially("Zoé", delay=40)
    page.wait_for_function(FOLLOWS, arg="Zoé", timeout=60_000)
    assert viewer.get_attribute("src") != glb and viewer.get_attribute("data-spec-hash") != first

    page.wait_for_function(f"() => {W}.querySelector('model-viewer').loaded", timeout=60_000)
    page.wait_for_timeout(400)
    SHOTS.mkdir(parents=True, exist_ok=True)
    widget.locator("[part=stage]").screenshot(path=str(SHOTS / "widget-mug-3d.png"))

    # "View in your space" (shown by model-viewer where AR can start: not on a desktop) is counted
    page.evaluate(f"() => {W}.querySelector('[part=ar-button]').click()")

    # back to 2D: the mockup is on screen again; the batcher reported `3d_opened` and `ar_opened`
    button.click()
    assert button.get_attribute("aria-pressed") == "false"
    assert viewer.is_hidden()
    assert widget.locator("img[part=preview-image]").is_visible()
    page.evaluate("() => document.querySelector('luneo-personalizer').flush()")
    page.wait_for_timeout(200)
    assert "3d_opened" in events and "ar_opened" in events
    context.close()


def test_a_product_without_a_model_has_no_3d_button(live_server, browser):
    context, page, requested = _open(browser, f"{live_server}/demo?sku=DEMO-TSHIRT")
    widget = page.locator("luneo-personalizer")
    assert widget.locator("[part=preview]").count() == 1
    assert widget.locator("[part=view-3d]").count() == 0
    assert not _viewer_requested(requested)
    context.close()


def test_without_webgl_3d_falls_back_to_the_2d_mockup(live_server, browser):
    context, page, requested = _open(browser, f"{live_server}/demo?sku=DEMO-MUG", init=NO_WEBGL)
    widget = page.locator("luneo-personalizer")
    widget.locator("[part=view-3d]").click()
    status = widget.locator("[part=status]")
    page.wait_for_function(
        f"() => {W}.querySelector('[part=status]').textContent === {json.dumps(EN['no_webgl'])}",
        timeout=20_000,
    )
    assert status.inner_text() == EN["no_webgl"]
    assert widget.locator("[part=view-3d]").get_attribute("aria-pressed") == "false"
    assert widget.locator("img[part=preview-image]").is_visible()
    assert widget.locator("model-viewer").count() == 0
    assert not _viewer_requested(requested)
    context.close()


def test_the_viewer_is_served_for_long_caching_and_nothing_else_is(live_server):
    got = httpx.get(f"{live_server}/widget/vendor/model-viewer-4.4.0.min.js", timeout=10)
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/javascript")
    assert got.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert got.headers["access-control-allow-origin"] == "*"  # a module script is fetched with CORS
    for name in ("LICENSE-three-r183.txt", "README.md", "..%2Fluneo-widget.js", "model-viewer.min.js"):
        assert httpx.get(f"{live_server}/widget/vendor/{name}", timeout=10).status_code == 404, name
    module = httpx.get(f"{live_server}/widget/luneo-3d.js", timeout=10)
    assert module.status_code == 200 and "model-viewer-4.4.0.min.js" in module.text
