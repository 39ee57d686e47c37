"""Issue 14, quality bar: a new brand's whole journey in the system Chromium, through the pages only.

Sign up (email, password, brand name) → verify the email with the link of the message the app
sent (the outbox) → create a product and draw two zones with the mouse in the zone editor → the
live preview pane renders them → integrations: create a publishable key, allow the test shop's
origin, copy the embed snippet with the page's button → a shop page made of exactly that snippet
(served by this test on the allowed origin) → the shopper personalizes both zones, adds to Luneo's
cart and pays with the dev provider → the work order appears in the production queue → its pack is
downloaded from the page (the ZIP's manifest names the item's spec_hash) → buy a credits pack with
the dev provider → the header badge shows the new balance. Every dashboard page visited passes
axe-core with no serious or critical violation.
"""

from __future__ import annotations

import io
import json
import threading
import time
import uuid
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from .dashboard import VIEWPORTS, axe_violations, emailed_link

pytestmark = pytest.mark.e2e

W = "document.querySelector('luneo-personalizer')"
EVENTS = """() => { window.__ev = [];
  document.addEventListener('luneo:add-to-cart',
    e => window.__ev.push(JSON.parse(JSON.stringify(e.detail)))); }"""
# "Add to cart" is enabled for the design on screen, made of the texts typed in every zone.
READY = f"""(want) => {{ const w = {W}, r = w && w.shadowRoot; if (!r) return false;
  const b = r.querySelector('button.primary'), i = r.querySelector('img[part=preview-image]');
  if (!b || !i || b.disabled || !i.dataset.specHash || b.dataset.specHash !== i.dataset.specHash
      || !i.complete || i.naturalWidth === 0) return false;
  const sent = w.payload().inputs;
  return Object.entries(want).every(([k, t]) => sent[k] && sent[k].text === t); }}"""
# Luneo's cart checkout with the dev provider, as the storefront does it with the widget's key.
CHECKOUT = f"""async (email) => {{
  const w = {W}, key = w.getAttribute('key'), base = w.getAttribute('api-base');
  const token = localStorage.getItem('luneo-shopper:' + key.slice(0, 16));
  const res = await fetch(base + '/api/v1/cart/checkout', {{ method: 'POST', headers: {{
    Authorization: 'Bearer ' + key, 'X-Shopper-Token': token, 'Content-Type': 'application/json' }},
    body: JSON.stringify({{ customer: {{ email, name: 'Jade Journey' }}, provider: 'dev',
      success_url: location.origin + '/product?paid=1', cancel_url: location.origin + '/product' }}) }});
  return {{ status: res.status, body: await res.json() }};
}}"""


class _Shop:
    """The brand's storefront: one product page whose body is the embed snippet, nothing else."""

    def __init__(self) -> None:
        self.snippet = ""
        shop = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?")[0] != "/product":
                    self.send_error(404)
                    return
                body = (
                    "<!doctype html><html lang=en><head><meta charset=utf-8>"
                    "<title>Journey shop</title></head><body><main>\n"
                    f"{shop.snippet}\n</main></body></html>"
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def shop() -> Iterator[_Shop]:
    server = _Shop()
    yield server
    server.close()


def _audited(page: Any, name: str) -> None:
    assert axe_violations(page) == [], name


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


def _preview_src(page: Any) -> str:
    img = page.locator("#zone-preview img")
    page.locator("#zone-preview img, #zone-preview .alert").first.wait_for(timeout=20_000)
    assert img.count() == 1, page.locator("#zone-preview").inner_html()
    return img.get_attribute("src") or ""


def _badge(page: Any) -> int:
    badge = page.locator("#credits-badge .credits-badge")
    badge.wait_for()
    return int(badge.get_attribute("data-balance") or "-1")


def test_a_new_brand_goes_from_sign_up_to_a_produced_order(
    live_server: str, live_data_dir: Path, browser: Any, shop: _Shop
) -> None:
    tag = uuid.uuid4().hex[:8]
    owner = f"jade-{tag}@journey.example"
    context = browser.new_context(viewport=VIEWPORTS["desktop"], locale="en-US")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    context.add_init_script("sessionStorage.setItem('luneo:upsell-dismissed', '1')")
    page = context.new_page()

    # 1. Sign up through the form.
    page.goto(live_server + "/dashboard/signup")
    _audited(page, "signup")
    page.fill("#f-email", owner)
    page.fill("#f-password", "a long journey password")
    page.fill("#f-brand_name", f"Atelier Jade {tag}")
    page.click("form[action='/dashboard/signup'] button[type=submit]")
    page.wait_for_load_state()
    assert page.url == live_server + "/dashboard", page.locator("main").inner_text()
    assert page.locator("h1").inner_text() == f"Atelier Jade {tag}"
    assert page.locator(".verify-banner").is_visible()
    _audited(page, "home")

    # 2. Verify the email with the link of the message the app sent.
    page.goto(emailed_link(live_data_dir / "outbox", owner, "/dashboard/verify"))
    assert "Your email address is verified." in page.locator("main").inner_text()
    _audited(page, "verify")

    # 3. A product with two zones drawn with the mouse; the live preview renders them.
    sku = f"JRN-{tag}"
    page.goto(live_server + "/dashboard/products/new")
    _audited(page, "product-form")
    page.fill("#f-name", "Journey tag")
    page.fill("#f-sku", sku)
    page.fill("#f-width_mm", "80")
    page.fill("#f-height_mm", "50")
    page.fill("#f-bleed_mm", "2")
    page.fill("#f-price", "12.50")
    page.select_option("#f-status", "active")
    page.click("form.product-form button[type=submit]")
    page.wait_for_url("**/zones")
    product_id = page.url.split("/dashboard/products/")[1].split("/")[0]
    empty = _preview_src(page)
    _drag(page, (0.1, 0.1), (0.9, 0.45))
    _drag(page, (0.1, 0.55), (0.6, 0.9))
    zones = json.loads(page.locator("#zones-json").input_value())
    assert len(zones) == 2
    page.wait_for_function(
        "prev => { const i = document.querySelector('#zone-preview img');"
        " return i && i.src !== prev && i.complete && i.naturalWidth > 0; }",
        arg=empty,
        timeout=20_000,
    )
    assert _preview_src(page).startswith("data:image/png")
    _audited(page, "zones")
    page.click("#zones-save")
    page.wait_for_url("**/zones?saved=1")
    keys = [z["key"] for z in json.loads(page.locator("#zones-json").input_value())]
    assert len(keys) == 2 and all(k for k in keys), keys

    # 4. Integrations: a publishable key (shown once), the shop's origin allowed, the snippet copied.
    page.goto(live_server + "/dashboard/integrations")
    _audited(page, "integrations")
    page.fill("#f-name", "Journey storefront")
    page.check("input[name=kind][value=publishable]")
    with page.expect_navigation():
        page.click("form.key-form button[type=submit]")
    assert page.locator("#new-key").inner_text().strip().startswith("pk_live_")
    _audited(page, "integrations-key")
    page.goto(live_server + "/dashboard/integrations")
    page.fill("#f-origins", shop.origin)
    with page.expect_navigation():
        page.click("form[action='/dashboard/integrations/origins'] button[type=submit]")
    assert page.locator("#f-origins").input_value().strip() == shop.origin
    page.goto(f"{live_server}/dashboard/integrations?product={product_id}")
    if page.locator("form[action='/dashboard/integrations/widget-key'] button").count():
        with page.expect_navigation():
            page.click("form[action='/dashboard/integrations/widget-key'] button")
    snippet = page.locator("#embed-snippet")
    snippet.wait_for()
    page.click("#snippet [data-copy]")
    page.locator("#snippet [data-copy-status]").get_by_text("Copied.").wait_for()
    shop.snippet = page.evaluate("navigator.clipboard.readText()")
    assert shop.snippet == snippet.inner_text() and f'product="{product_id}"' in shop.snippet
    _audited(page, "integrations-snippet")

    # 5. The shopper, on the shop's page: both zones personalized, Luneo's cart, the dev provider.
    shopper = browser.new_context(viewport=VIEWPORTS["desktop"], locale="en-US")
    store = shopper.new_page()
    store.add_init_script(f"({EVENTS})()")
    problems: list[str] = []
    store.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    store.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    store.goto(shop.origin + "/product")
    widget = store.locator("luneo-personalizer")
    want = {keys[0]: "Jade", keys[1]: "Rose"}
    try:
        widget.locator(f"#z-{keys[-1]}").wait_for(timeout=30_000)
    except Exception as exc:
        raise AssertionError(f"the widget did not show its form: {problems}") from exc
    for key, text in want.items():
        widget.locator(f"#z-{key}").fill(text)
    store.wait_for_function(READY, arg=want, timeout=60_000)
    widget.locator("button.primary").first.click()
    widget.locator("[part=cart]").get_by_text("In your cart: 1").wait_for(timeout=20_000)
    store.wait_for_function("() => window.__ev.length > 0", timeout=20_000)
    [added] = store.evaluate("() => window.__ev")
    spec_hash = added["spec_hash"]
    assert spec_hash and added["cart"]["items"][0]["spec_hash"] == spec_hash
    buyer = f"buyer-{tag}@journey.example"
    checkout = store.evaluate(CHECKOUT, buyer)
    assert checkout["status"] == 201, checkout
    store.goto(checkout["body"]["checkout_url"])
    store.get_by_role("button", name="Pay").click()
    store.wait_for_url(shop.origin + "/product?paid=1", timeout=30_000)
    shopper.close()

    # 6. The order, then its work order in the production queue with its pack.
    page.goto(f"{live_server}/dashboard/orders?q={buyer}")
    rows = page.locator("table.orders-table tbody tr")
    assert rows.count() == 1
    _audited(page, "orders")
    page.locator("table.orders-table tbody tr a[href^='/dashboard/orders/']").first.click()
    page.wait_for_url("**/dashboard/orders/ord_*")
    assert spec_hash in page.content()
    _audited(page, "order")
    deadline = time.time() + 120
    while True:  # the live server's worker builds the pack
        page.goto(live_server + "/dashboard/production")
        row = page.locator("table tbody tr", has_text=sku)
        if row.count() and row.locator("a[href$='/pack']").count():
            break
        assert time.time() < deadline, page.locator("main").inner_text()
        page.wait_for_timeout(500)
    assert row.count() == 1
    _audited(page, "production")
    row.locator("th a").click()
    page.wait_for_url("**/dashboard/production/wo_*")
    assert spec_hash in page.content()
    _audited(page, "work-order")
    with page.expect_download() as download:
        page.click("a.button.primary[href$='/pack']")
    with zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes())) as z:
        assert json.loads(z.read("manifest.json"))["meta"]["spec_hash"] == spec_hash

    # 7. Billing: a credits pack bought with the dev provider; the header badge shows it.
    page.goto(live_server + "/dashboard/billing")
    _audited(page, "billing")
    before = _badge(page)
    page.click('li[data-pack="pack_100"] button[type=submit]')
    page.wait_for_url("**/checkout/dev/**")
    page.click("button.pay")
    page.wait_for_url("**/dashboard/billing?purchase=*")
    assert page.locator('[data-purchase="credited"]').is_visible()
    page.wait_for_selector(f'#credits-badge .credits-badge[data-balance="{before + 100}"]', timeout=15_000)
    assert page.locator("#balance-figure").get_attribute("data-balance") == str(before + 100)
    _audited(page, "billing-credited")
    context.close()
