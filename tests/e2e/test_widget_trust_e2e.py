"""Issue 11, item 11: the widget can never add a different design than the one on screen.
Issue 13, item 8: a design production would refuse is shown in the proof and never added.

The shopper changes the font while the previous preview is still in flight (the test holds the
preview requests, so inputs change faster than the server answers). Whenever "Add to cart" is
enabled, the preview on screen must be the spec of the inputs on screen; the stale answer is
dropped; the cart line records the spec_hash of the final inputs.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

WIDGET = "document.querySelector('luneo-personalizer').shadowRoot"

# Records every moment "Add to cart" becomes enabled: the preview's spec_hash and the inputs on screen.
WATCH = f"""() => {{
  const root = {WIDGET};
  const btn = root.querySelector('button.primary');
  window.__enabled = [];
  const snap = () => {{
    if (btn.disabled) return;
    const font = root.querySelector('[data-zone=arc_text] input[name=font-arc_text]:checked');
    window.__enabled.push({{
      preview: root.querySelector('img[part=preview-image]').dataset.specHash || null,
      arc_text: root.querySelector('#z-arc_text').value,
      font: font ? font.value : null,
      initial: root.querySelector('#z-initial').value,
    }});
  }};
  new MutationObserver(snap).observe(btn, {{ attributes: true, attributeFilter: ['disabled'] }});
  snap();
}}"""

# The spec_hash of given inputs, asked of the API directly (not through the widget's logic).
SPEC_OF = """async (inp) => {
  const w = document.querySelector('luneo-personalizer');
  const inputs = { initial: { kind: 'text', text: inp.initial },
                   arc_text: { kind: 'text', text: inp.arc_text, font: inp.font } };
  const res = await fetch('/api/v1/specs', { method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + w.getAttribute('key'),
               'X-Shopper-Token': 'shp_e2e_spec_checker_0000000000' },
    body: JSON.stringify({ product_id: w.getAttribute('product'), inputs }) });
  return (await res.json()).spec_hash;
}"""

CART = """async () => {
  const w = document.querySelector('luneo-personalizer');
  const key = w.getAttribute('key');
  const token = localStorage.getItem('luneo-shopper:' + key.slice(0, 16));
  const res = await fetch('/api/v1/cart', { headers: { Authorization: 'Bearer ' + key, 'X-Shopper-Token': token } });
  return await res.json();
}"""


def _enabled(page: Any, timeout: float = 60_000) -> None:
    page.wait_for_function(f"() => !{WIDGET}.querySelector('button.primary').disabled", timeout=timeout)


def test_font_change_during_a_refresh_never_enables_the_stale_design(live_server, browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    held: list[Any] = []
    hold = {"on": False}
    request_ids: list[str] = []

    def preview_route(route: Any) -> None:
        if hold["on"]:
            held.append(route)
        else:
            route.continue_()

    def on_request(request: Any) -> None:
        if "/api/v1/" in request.url:
            request_ids.append(request.headers.get("x-request-id", ""))

    page.on("request", on_request)
    page.route(re.compile(r".*/api/v1/renders/preview$"), preview_route)
    page.goto(live_server + "/demo")
    page.select_option("#product", label="Engraved round pendant")
    widget = page.locator("luneo-personalizer")
    arc, initial = widget.locator("#z-arc_text"), widget.locator("#z-initial")
    button = widget.locator("button.primary")

    # Warm the server's cache: "Emma Rose" in the default font renders, then "Emma" is on screen.
    initial.fill("E")
    arc.fill("Emma Rose")
    _enabled(page)
    arc.fill("Emma")
    _enabled(page)
    page.evaluate(WATCH)

    # Type "Emma Rose" again; hold its (cached, instant) preview answer in flight.
    hold["on"] = True
    arc.fill("Emma Rose")
    deadline = time.time() + 30
    while not held and time.time() < deadline:
        page.wait_for_timeout(50)
    assert held, "the widget never asked for the preview"
    assert button.is_disabled()
    # The shopper picks another font while that answer is still in flight, then the answer lands.
    # (sans: engravable at this size; the script font is refused at the print check, see below)
    widget.locator("[data-zone=arc_text] label[data-value=fnt_sans]").click()
    hold["on"] = False
    for route in held:
        route.continue_()
    final = {"arc_text": "Emma Rose", "font": "fnt_sans", "initial": "E"}
    final_hash = page.evaluate(SPEC_OF, final)
    page.wait_for_timeout(150)
    # a pick is refreshed at once (no debounce after a pause): enabled now means the new design
    if not button.is_disabled():
        shown = widget.locator("img[part=preview-image]").get_attribute("data-spec-hash")
        assert shown == final_hash, "Add to cart was re-enabled with the previous design"
    _enabled(page)

    stale_hash = page.evaluate(SPEC_OF, {**final, "font": "fnt_serif"})
    assert final_hash != stale_hash
    enabled = page.evaluate("() => window.__enabled")
    assert enabled, "Add to cart was never enabled again"
    for moment in enabled:
        shown = {k: moment[k] for k in ("arc_text", "font", "initial")}
        assert moment["preview"] == page.evaluate(SPEC_OF, shown), (moment, enabled)
    assert enabled[-1] == {**final, "preview": final_hash}
    assert widget.locator("img[part=preview-image]").get_attribute("data-spec-hash") == final_hash

    button.click()
    widget.locator("[part=cart]").get_by_text("In your cart: 1").wait_for(timeout=20_000)
    cart = page.evaluate(CART)
    [line] = cart["items"]
    assert line["spec_hash"] == final_hash
    # every API request of the widget carried its refresh sequence number
    widget_ids = [r for r in request_ids if r]
    assert widget_ids and all(re.search(r"-s\d+-\d+$", r) for r in widget_ids), request_ids
    context.close()


EVENTS = """() => {
  window.__added = [];
  document.addEventListener('luneo:add-to-cart', e => window.__added.push(e.detail.spec_hash));
}"""


def test_a_design_the_print_check_refuses_is_shown_in_the_proof_and_never_added(live_server, browser):
    """The pendant's name in the script font at its sizes: too much of the engraving is under the
    product's 0.1 mm minimum stroke. "Add to cart" shows the proof with the finding and its
    message and stops there; the engravable font then goes to the cart."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.add_init_script(f"({EVENTS})()")
    page.goto(live_server + "/demo?sku=DEMO-PENDANT")
    widget = page.locator("luneo-personalizer")
    widget.locator("#z-initial").fill("E")
    widget.locator("#z-arc_text").fill("Emma Rose")
    widget.locator("[data-zone=arc_text] label[data-value=fnt_script]").click()
    script = {"arc_text": "Emma Rose", "font": "fnt_script", "initial": "E"}
    script_hash = page.evaluate(SPEC_OF, script)
    page.wait_for_function(
        f"h => {WIDGET}.querySelector('img[part=preview-image]').dataset.specHash === h",
        arg=script_hash,
        timeout=60_000,
    )
    _enabled(page)
    widget.locator("button.primary").click()
    proof = widget.locator("[part=proof]")
    proof.wait_for(timeout=30_000)
    finding = proof.locator("[data-code=stroke_too_thin]")
    finding.wait_for(timeout=20_000)
    message = finding.inner_text()
    assert re.fullmatch(
        r"\d+ % of the engraving is thinner than 0\.1 mm: use a bolder font or a larger size\.", message
    ), message
    assert proof.locator("h3").inner_text() == "This design can't be made as it is — please change it:"
    assert "Emma Rose" in proof.inner_text()
    assert proof.locator("#lw-approve").count() == 0  # nothing to approve: it cannot be made
    assert page.evaluate(f"() => {WIDGET}.activeElement.tagName") == "H3"  # focus on the proof
    page.wait_for_timeout(500)
    assert page.evaluate("() => window.__added") == []
    assert page.evaluate(CART)["items"] == []
    assert widget.locator("[part=cart]").get_by_text("In your cart").count() == 0

    # The engravable font: the proof has nothing blocking, the design goes to the cart.
    widget.locator("[data-zone=arc_text] label[data-value=fnt_sans]").click()
    sans_hash = page.evaluate(SPEC_OF, {**script, "font": "fnt_sans"})
    page.wait_for_function(
        f"h => {WIDGET}.querySelector('img[part=preview-image]').dataset.specHash === h",
        arg=sans_hash,
        timeout=60_000,
    )
    _enabled(page)
    assert widget.locator("[part=proof]").count() == 0  # the refused design's proof left with it
    widget.locator("button.primary").click()
    widget.locator("[part=cart]").get_by_text("In your cart: 1").wait_for(timeout=20_000)
    assert page.evaluate("() => window.__added") == [sans_hash]
    [line] = page.evaluate(CART)["items"]
    assert line["spec_hash"] == sans_hash
    context.close()
