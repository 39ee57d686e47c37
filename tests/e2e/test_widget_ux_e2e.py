"""Issue 13: the widget a shopper trusts — first view, live typing, languages, RTL, accessibility,
mobile, events for the host page (fixtures in conftest: one live server, one Chromium)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.shots import SHOTS

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
I18N = ROOT / "src" / "luneo" / "widget" / "static" / "i18n"
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
W = "document.querySelector('luneo-personalizer').shadowRoot"

# The preview on screen is a decoded image of the current inputs and no refresh is in flight.
SETTLED = f"""(prev) => {{ const r = {W}; if (!r) return false;
  const i = r.querySelector('img[part=preview-image]'), f = r.querySelector('[part=preview]');
  return !!i && !i.hidden && i.complete && i.naturalWidth > 0 && !f.classList.contains('busy')
    && !!i.dataset.specHash && i.dataset.specHash !== prev; }}"""
EVENTS = """() => { window.__ev = [];
  for (const n of ['luneo:ready', 'luneo:change', 'luneo:add-to-cart'])
    document.addEventListener(n, e => window.__ev.push({ name: n, detail: JSON.parse(JSON.stringify(e.detail)) })); }"""


def _settled(page: Any, prev: str | None = None) -> str:
    page.wait_for_function(SETTLED, arg=prev, timeout=60_000)
    return str(page.evaluate(f"() => {W}.querySelector('img[part=preview-image]').dataset.specHash"))


def _open(
    browser: Any, url: str, width: int = 1200, height: int = 900, init: str | None = None
) -> tuple[Any, Any]:
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    if init:
        page.add_init_script(f"({init})()")
    page.goto(url)
    return context, page


def _messages(locale: str) -> dict[str, str]:
    return dict(json.loads((I18N / f"{locale}.json").read_text()))


def test_first_view_shows_the_sample_design_and_typing_updates_it(live_server, browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.add_init_script(f"({EVENTS})()")
    batches: list[tuple[int, Any]] = []
    page.on(
        "requestfinished",
        lambda r: (
            batches.append((r.response().status, r.post_data_json))
            if r.url.endswith("/widget/events")
            else None
        ),
    )
    page.goto(live_server + "/demo?sku=DEMO-PENDANT")
    widget = page.locator("luneo-personalizer")
    first = _settled(page)
    # the brand's sample is rendered, no field shows an error, nothing is marked invalid
    assert widget.locator("#z-arc_text").get_attribute("placeholder") == "Emma"
    assert widget.locator("[data-errors] > *").count() == 0
    assert widget.locator("[aria-invalid=true]").count() == 0
    assert widget.locator("[part=status]").inner_text() == _messages("en")["sample_type"]
    assert widget.locator("button.primary").is_enabled()
    # a fixed aspect ratio is reserved: the preview box does not move when the image changes
    box = widget.locator("[part=preview]").bounding_box()

    widget.locator("#z-arc_text").press_sequentially("Noa", delay=30)
    second = _settled(page, first)
    assert second != first
    assert widget.locator("[part=preview]").bounding_box() == box
    assert widget.locator("#z-arc_text-count").inner_text() == "3 / 18 characters"
    # the live price: base 39.00 + 3 characters × 0.20, computed by the server's quote
    price = widget.locator("[part=price] > span").first
    page.wait_for_function(f"() => {W}.querySelector('[part=price] > span').textContent.includes('39.60')")
    assert "€" in price.inner_text()
    # funnel analytics: a batch reached the ingestion route
    page.wait_for_timeout(3300)
    assert batches and all(status == 202 for status, _ in batches), batches
    names = {e["name"] for _, body in batches for e in body["events"]}
    assert {"widget_loaded", "preview_requested", "preview_ready"} <= names

    events = page.evaluate("() => window.__ev")
    ready = [e for e in events if e["name"] == "luneo:ready"]
    assert (
        ready and ready[0]["detail"]["locale"] == "en" and ready[0]["detail"]["product_id"].startswith("prd_")
    )
    changes = [e["detail"] for e in events if e["name"] == "luneo:change" and e["detail"]["valid"]]
    assert changes[-1]["spec_hash"] == second
    assert changes[-1]["inputs"]["arc_text"]["text"] == "Noa"
    assert changes[-1]["preview_url"] == widget.locator("img[part=preview-image]").get_attribute("src")
    context.close()


def test_the_font_picker_shows_each_font_in_its_typeface_and_picks_with_the_keyboard(live_server, browser):
    context, page = _open(browser, live_server + "/demo?sku=DEMO-PENDANT")
    widget = page.locator("luneo-personalizer")
    first = _settled(page)
    script = widget.locator("[data-zone=arc_text] label[data-value=fnt_script]")
    assert "luneo-fnt_script" in script.evaluate("n => getComputedStyle(n).fontFamily")
    # keyboard only: focus the checked font, arrow to the next one, the preview follows
    widget.locator("[data-zone=arc_text] input[name=font-arc_text]:checked").focus()
    page.keyboard.press("ArrowRight")
    _settled(page, first)
    checked = widget.locator("[data-zone=arc_text] input[name=font-arc_text]:checked").get_attribute("value")
    assert checked != "fnt_serif"
    context.close()


@pytest.mark.parametrize("locale", ["fr", "de", "es"])
def test_labels_and_errors_in_the_shoppers_language(live_server, browser, locale):
    msgs = _messages(locale)
    context, page = _open(browser, f"{live_server}/demo?sku=DEMO-PENDANT&locale={locale}")
    widget = page.locator("luneo-personalizer")
    _settled(page)
    assert widget.locator("button.primary").inner_text() == msgs["add_to_cart"]
    assert widget.locator("img[part=preview-image]").get_attribute("alt") == msgs["preview_alt"]
    assert widget.locator("[part=status]").inner_text() == msgs["sample_type"]
    # a bad initial: the fix is said in the shopper's language, never as a raw code
    widget.locator("#z-initial").fill("e")
    error = widget.locator('[data-errors="initial"] [data-code="chars_not_allowed"]')
    error.wait_for(timeout=20_000)
    assert error.inner_text() == msgs["err.capital_letter"]
    widget.locator("#z-arc_text").fill("Merde")
    blocked = widget.locator('[data-errors="arc_text"] [data-code="blocked_word"]')
    blocked.wait_for(timeout=20_000)
    assert blocked.inner_text() == msgs["err.blocked_word"].replace("{words}", "merde")
    assert widget.locator("#z-arc_text").get_attribute("aria-invalid") == "true"
    context.close()


def test_right_to_left_locale_and_typed_text(live_server, browser):
    context, page = _open(browser, f"{live_server}/demo?sku=DEMO-CARD&locale=ar")
    widget = page.locator("luneo-personalizer")
    _settled(page)
    assert widget.locator(".wrap").get_attribute("dir") == "rtl"
    assert widget.locator("button.primary").inner_text() == _messages("ar")["add_to_cart"]
    context.close()

    context, page = _open(browser, f"{live_server}/demo?sku=DEMO-CARD&locale=en")
    widget = page.locator("luneo-personalizer")
    first = _settled(page)
    name = widget.locator("#z-name")
    name.fill("שלום")
    assert name.evaluate("n => getComputedStyle(n).direction") == "rtl"
    _settled(page, first)
    context.close()


def _axe(page: Any) -> list[dict[str, Any]]:
    page.add_script_tag(content=AXE.read_text())
    result = page.evaluate(
        "async () => (await axe.run(document, { resultTypes: ['violations'] })).violations"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("width", [1200, 390])
def test_axe_finds_no_serious_or_critical_violation(live_server, browser, width):
    context, page = _open(browser, live_server + "/demo?sku=DEMO-MUG", width=width, height=844)
    widget = page.locator("luneo-personalizer")
    _settled(page)
    assert _axe(page) == []
    widget.locator("#z-name").fill("Merde")  # with a validation message on screen too
    widget.locator('[data-errors="name"] [data-code="blocked_word"]').wait_for(timeout=20_000)
    assert _axe(page) == []
    context.close()


def test_mobile_keeps_the_preview_in_view_while_typing_with_44px_targets(live_server, browser):
    context, page = _open(browser, live_server + "/demo?sku=DEMO-SIGN", width=390, height=844)
    widget = page.locator("luneo-personalizer")
    first = _settled(page)
    subtitle = widget.locator("#z-subtitle")
    subtitle.scroll_into_view_if_needed()
    page.mouse.wheel(0, 400)
    subtitle.fill("Since 1990")
    _settled(page, first)
    preview = widget.locator("[part=preview]").bounding_box()
    field = subtitle.bounding_box()
    assert preview is not None and field is not None
    assert preview["y"] >= -1 and preview["y"] + preview["height"] <= 844, preview  # on screen
    assert field["y"] >= preview["y"] + preview["height"] - 1, (field, preview)  # not hidden by it
    small = widget.locator("button, label.opt, input[type=text], textarea, select").evaluate_all(
        "ns => ns.filter(n => { const b = n.getBoundingClientRect(); return b.width && (b.width < 44 || b.height < 44); })"
        ".map(n => n.outerHTML.slice(0, 80))"
    )
    assert small == []
    context.close()


def test_host_cart_receives_the_line_item_with_snapshot_and_properties(live_server, browser):
    context, page = _open(browser, live_server + "/demo?sku=DEMO-PENDANT", init=EVENTS)
    widget = page.locator("luneo-personalizer")
    first = _settled(page)
    page.evaluate("() => document.querySelector('luneo-personalizer').setAttribute('cart', 'host')")
    widget.locator("#z-arc_text").fill("Léa")
    spec_hash = _settled(page, first)
    page.wait_for_function(f"() => !{W}.querySelector('button.primary').disabled", timeout=30_000)
    widget.locator("button.primary").click()
    page.wait_for_function("() => window.__ev.some(e => e.name === 'luneo:add-to-cart')", timeout=30_000)
    [added] = [e["detail"] for e in page.evaluate("() => window.__ev") if e["name"] == "luneo:add-to-cart"]
    assert added["spec_hash"] == spec_hash
    assert added["snapshot_id"].startswith("snap_")
    assert added["preview_url"] and added["quantity"] == 1 and added["cart"] is None
    assert added["properties"]["_luneo_snapshot_id"] == added["snapshot_id"]
    assert added["properties"]["_luneo_spec_hash"] == spec_hash
    assert added["properties"]["Name along the top"] == "Léa"
    assert added["properties"]["Initial"] == "E"  # the sample the shopper kept
    assert widget.locator("[part=cart]").inner_text() == ""  # Luneo's cart was not used
    context.close()


@pytest.mark.parametrize("sku", ["DEMO-PENDANT", "DEMO-MUG"])
def test_screenshots_desktop_and_mobile(live_server, browser, sku):
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, width, height in (("desktop", 1200, 860), ("mobile", 390, 844)):
        context, page = _open(browser, f"{live_server}/demo?sku={sku}", width=width, height=height)
        _settled(page)
        page.evaluate("() => document.fonts.ready")
        page.wait_for_timeout(150)
        page.screenshot(path=str(SHOTS / f"widget-{sku.split('-')[1].lower()}-{name}.png"))
        context.close()


def test_the_widgets_own_javascript_stays_within_its_budget():
    """Issue 13 §15: ≤ 60 KB gzipped (script + the largest message catalogue it loads)."""
    import gzip

    script = len(gzip.compress((ROOT / "src/luneo/widget/static/luneo-widget.js").read_bytes(), 9))
    catalogue = max(len(gzip.compress(p.read_bytes(), 9)) for p in I18N.glob("*.json"))
    assert script + catalogue <= 60 * 1024, (script, catalogue)


def test_an_upload_refused_by_the_api_is_explained_in_the_shoppers_language(live_server, browser):
    msgs = _messages("fr")
    context, page = _open(browser, f"{live_server}/demo?sku=DEMO-MUG&locale=fr")
    widget = page.locator("luneo-personalizer")
    _settled(page)
    widget.locator("#z-photo").set_input_files(
        files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a photo at all"}]
    )
    error = widget.locator('[data-errors="photo"] > div')
    error.wait_for(timeout=20_000)
    text = error.inner_text()
    assert text in {v for k, v in msgs.items() if k.startswith("err.")}, text
    assert "_" not in text  # never a raw code
    context.close()


def test_when_approval_is_required_the_shopper_approves_the_proof_before_the_cart(live_server, browser):
    context, page = _open(browser, live_server + "/demo?sku=DEMO-SIGN")
    widget = page.locator("luneo-personalizer")

    def require_approval(route: Any) -> None:  # the demo brand does not require it: pretend it does
        answer = route.fetch()
        proof = answer.json()
        if not proof["approved"]:
            proof["approval_required"] = True
        route.fulfill(response=answer, json=proof)

    page.route("**/api/v1/snapshots/*/proof", require_approval)
    first = _settled(page)
    widget.locator("#z-title").fill("Villa Rosa")
    _settled(page, first)
    page.wait_for_function(f"() => !{W}.querySelector('button.primary').disabled", timeout=30_000)
    widget.locator("button.primary").first.click()
    proof = widget.locator("[part=proof]")
    proof.wait_for(timeout=20_000)
    assert "Villa Rosa" in proof.inner_text()
    assert page.evaluate(f"() => {W}.activeElement.tagName") == "H3"  # focus moved to the proof
    approve = proof.locator("button.primary")
    assert approve.is_disabled()
    proof.locator("#lw-approve").check()
    approve.click()
    widget.locator("[part=cart]").get_by_text("In your cart: 1").wait_for(timeout=20_000)
    assert widget.locator("[part=proof]").count() == 0
    context.close()


def test_auto_shrunk_text_comes_with_guidance(live_server, browser):
    context, page = _open(browser, live_server + "/demo?sku=DEMO-CARD")
    widget = page.locator("luneo-personalizer")
    first = _settled(page)
    widget.locator("#z-name").fill("Alexandra Montgomery-Featherstonehaugh")
    _settled(page, first)
    hint = widget.locator("[data-zone=name] .hint")
    assert hint.inner_text().startswith(_messages("en")["shrunk"].split("(")[0]), hint.inner_text()
    assert widget.locator("[data-errors=name] > *").count() == 0  # shrunk, still valid
    context.close()
