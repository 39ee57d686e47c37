"""Issue 15: the Luneo app embed (shopify/extensions/luneo-theme/assets/luneo-cart.js) on a local
page that imitates a Shopify theme — a product form, `/cart/add` + `/cart/add.js`, a cart drawer and
a cart page — with a fake app proxy answering `/apps/luneo/config` and `/apps/luneo/properties` per
the contract. The signed properties reach the cart in every path the theme may use (native form
submit, fetch with JSON, fetch with FormData, XMLHttpRequest), a forged property in the form is
overwritten, an unpersonalized add is refused with a message, and the cart shows the mockup."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from email import message_from_bytes
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

pytestmark = pytest.mark.e2e

EMBED_JS = Path(__file__).resolve().parents[2] / "shopify/extensions/luneo-theme/assets/luneo-cart.js"
PRODUCT_ID = 123
VARIANT = "111"
OTHER_VARIANT = "222"  # a product Luneo does not personalize
SNAPSHOT = "snap_abc123"
PREVIEW = "https://cdn.luneo.test/previews/snap_abc123.png"
PROPS = {
    "_luneo_snapshot": SNAPSHOT,
    "_luneo_spec_hash": "ab" * 32,
    "_luneo_preview": PREVIEW,
    "_luneo_addons": "name=4",
    "_luneo_sig": "cd" * 32,
    "Name": "Emma",
}
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2273f2a0000000049454e44ae426082"
)
MESSAGE = "Personalize this product before adding it to your cart."

THEME = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Mug</title></head><body>
<h1>Mug</h1>
<form action="/cart/add" method="post" id="product-form">
  <input type="hidden" name="id" value="111">
  <input type="hidden" name="properties[_luneo_sig]" value="forged">
  <input type="number" name="quantity" value="1" aria-label="Quantity">
  <button type="submit" name="add" id="add">Add to cart</button>
</form>
<button type="button" id="quick-add">Quick add</button>
<button type="button" id="quick-add-other">Quick add other</button>
<p id="theme-error" role="alert"></p>
__WIDGET__
<aside id="cart-drawer"><ul id="drawer-items"></ul></aside>
<script>
  const mode = new URLSearchParams(location.search).get('mode');
  function add(variant, form) {
    if (mode === 'fetch-json') {
      const props = {};
      if (form) for (const [k, v] of new FormData(form)) { const m = /^properties\\[(.+)\\]$/.exec(k); if (m) props[m[1]] = v; }
      return fetch('/cart/add.js', { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ items: [{ id: Number(variant), quantity: 1, properties: props }] }) })
        .then(r => r.json().then(b => ({ ok: r.ok, b })));
    }
    if (mode === 'fetch-formdata') {
      const fd = form ? new FormData(form) : new FormData();
      if (!form) { fd.set('id', variant); fd.set('quantity', '1'); }
      return fetch('/cart/add.js', { method: 'POST', body: fd }).then(r => r.json().then(b => ({ ok: r.ok, b })));
    }
    return new Promise(resolve => {  // xhr, urlencoded like jQuery themes
      const xhr = new XMLHttpRequest();
      xhr.open('POST', '/cart/add.js');
      xhr.setRequestHeader('Content-Type', 'application/x-www-form-urlencoded');
      xhr.onload = () => resolve({ ok: xhr.status === 200, b: JSON.parse(xhr.responseText) });
      const body = form ? new URLSearchParams(new FormData(form)) : new URLSearchParams({ id: variant, quantity: '1' });
      xhr.send(body.toString());
    });
  }
  function done(res) {
    document.getElementById('theme-error').textContent = res.ok ? '' : res.b.description;
    return fetch('/cart.js').then(r => r.json()).then(cart => {
      document.getElementById('drawer-items').innerHTML = cart.items.map(i =>
        `<li class="cart-item"><img src="/placeholder.png" alt=""><a href="${i.url}">${i.product_title}</a></li>`).join('');
      document.body.dataset.adds = String(Number(document.body.dataset.adds || 0) + 1);
    });
  }
  if (mode !== 'form') {
    document.getElementById('product-form').addEventListener('submit', e => {
      e.preventDefault();
      add('111', e.target).then(done);
    });
  }
  document.getElementById('quick-add').onclick = () => add('111', null).then(done);
  document.getElementById('quick-add-other').onclick = () => add('222', null).then(done);
</script>
<script type="application/json" id="luneo-embed-config">
  {"proxy": "/apps/luneo", "product": {"id": 123, "variants": [111]},
   "messages": {"personalize_first": "Personalize this product before adding it to your cart."}}
</script>
<script src="/assets/luneo-cart.js" defer></script>
</body></html>"""

# A stand-in for <luneo-personalizer cart="host">: ready, and its add-to-cart announces the snapshot.
FAKE_WIDGET = """<luneo-personalizer data-shopify-product="123"></luneo-personalizer>
<script>
  customElements.define('luneo-personalizer', class extends HTMLElement {
    isReady() { return true; }
    addToCart() {
      this.dispatchEvent(new CustomEvent('luneo:add-to-cart', { bubbles: true, composed: true,
        detail: { product_id: 'prd_mug', snapshot_id: 'snap_abc123', spec_hash: '__HASH__', quantity: 1 } }));
    }
  });
</script>""".replace("__HASH__", "ab" * 32)


class Shop:
    """The fake storefront's state: one cart, and the proxy calls it received."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.proxy_calls: list[str] = []
        self.lock = threading.Lock()

    def add(self, variant: str, quantity: int, properties: dict[str, str]) -> dict[str, Any]:
        item = {
            "variant_id": int(variant),
            "quantity": quantity,
            "properties": properties,
            "product_title": "Mug" if variant == VARIANT else "Plain cap",
            "url": f"/products/{'mug' if variant == VARIANT else 'cap'}?variant={variant}",
            "key": f"{variant}:{len(self.items)}",
        }
        with self.lock:
            self.items.append(item)
        return item


def _form_items(fields: list[tuple[str, str]]) -> list[tuple[str, int, dict[str, str]]]:
    data: dict[str, str] = {}
    props: dict[str, str] = {}
    for key, value in fields:
        m = re.fullmatch(r"properties\[(.+)\]", key)
        if m:
            props[m.group(1)] = value
        else:
            data[key] = value
    return [(data["id"], int(data.get("quantity") or 1), props)]


def _handler(shop: Shop) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, obj: Any) -> None:
            self._send(status, json.dumps(obj).encode(), "application/json")

        def _cart_page(self) -> bytes:
            lines = "".join(
                f'<li class="cart-item"><img src="/placeholder.png" alt=""><a href="{i["url"]}">{i["product_title"]}</a></li>'
                for i in shop.items
            )
            return (
                '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Cart</title></head><body>'
                f'<h1>Cart</h1><ul id="cart-items">{lines}</ul>'
                '<script type="application/json" id="luneo-embed-config">{"proxy": "/apps/luneo", "product": null}</script>'
                '<script src="/assets/luneo-cart.js" defer></script></body></html>'
            ).encode()

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path == "/products/mug":
                widget = FAKE_WIDGET if "widget=1" in url.query else ""
                self._send(200, THEME.replace("__WIDGET__", widget).encode(), "text/html; charset=utf-8")
            elif url.path == "/assets/luneo-cart.js":
                self._send(200, EMBED_JS.read_bytes(), "text/javascript")
            elif url.path == "/placeholder.png":
                self._send(200, PNG, "image/png")
            elif url.path == "/cart.js":
                self._json(200, {"items": shop.items, "item_count": len(shop.items)})
            elif url.path == "/cart":
                self._send(200, self._cart_page(), "text/html; charset=utf-8")
            elif url.path == "/apps/luneo/config":
                shop.proxy_calls.append("config")
                product = dict(parse_qsl(url.query)).get("product")
                if product == str(PRODUCT_ID):
                    self._json(
                        200,
                        {
                            "luneo_product": "prd_mug",
                            "publishable_key": "pk_test",
                            "api_base": "https://luneo.test",
                            "locale": "en",
                        },
                    )
                else:
                    self._json(404, {"title": "not mapped"})
            else:
                self._send(404, b"not found", "text/plain")

        def do_POST(self) -> None:
            url = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            ctype = self.headers.get("Content-Type") or ""
            if url.path == "/apps/luneo/properties":
                shop.proxy_calls.append("properties")
                snap = json.loads(body or b"{}").get("snapshot_id")
                if snap == SNAPSHOT:
                    self._json(200, {"properties": PROPS})
                else:
                    self._json(404, {"title": "unknown snapshot"})
                return
            if url.path not in ("/cart/add", "/cart/add.js"):
                self._send(404, b"not found", "text/plain")
                return
            if ctype.startswith("application/json"):
                doc = json.loads(body)
                raw = doc.get("items") or [doc]
                items = [
                    (str(i["id"]), int(i.get("quantity") or 1), dict(i.get("properties") or {})) for i in raw
                ]
            elif ctype.startswith("multipart/form-data"):
                msg = message_from_bytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body, policy=HTTP)
                fields = [
                    (str(p.get_param("name", header="content-disposition")), p.get_content())
                    for p in msg.iter_parts()  # type: ignore[attr-defined]
                ]
                items = _form_items(fields)
            else:
                items = _form_items(parse_qsl(body.decode(), keep_blank_values=True))
            added = [shop.add(*i) for i in items]
            if url.path == "/cart/add":
                self._send(302, b"", "text/plain", {"Location": "/cart"})
            else:
                self._json(200, added[0] if len(added) == 1 else {"items": added})

    return Handler


@pytest.fixture
def shop() -> Iterator[tuple[str, Shop]]:
    state = Shop()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", state
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    # the mockup lives on Luneo's CDN in production: answered locally, nothing leaves the machine
    context.route(
        "https://cdn.luneo.test/**",
        lambda route: route.fulfill(status=200, content_type="image/png", body=PNG),
    )
    p = context.new_page()
    yield p
    context.close()


def _open(page: Any, base: str, mode: str, widget: bool = False) -> None:
    page.goto(f"{base}/products/mug?mode={mode}{'&widget=1' if widget else ''}")
    page.wait_for_function("() => !!window.__luneoCart")


def _personalize(page: Any) -> None:
    """What the widget does when the shopper adds the design: announce the snapshot."""
    page.evaluate(
        """() => document.body.dispatchEvent(new CustomEvent('luneo:add-to-cart', { bubbles: true,
             detail: { product_id: 'prd_mug', snapshot_id: 'snap_abc123', spec_hash: '%s', quantity: 1 } }))"""
        % ("ab" * 32)
    )


def _wait_items(page: Any, shop: Shop, count: int) -> None:
    for _ in range(200):  # up to ~10 s
        if len(shop.items) >= count:
            break
        page.wait_for_timeout(50)
    assert len(shop.items) == count


def _thumb(page: Any, container: str) -> None:
    img = page.locator(f"{container} .cart-item img").first
    page.wait_for_function(
        "([sel, url]) => { const i = document.querySelector(sel + ' .cart-item img'); return i && i.getAttribute('src') === url; }",
        arg=[container, PREVIEW],
    )
    assert img.get_attribute("data-luneo-preview") == PREVIEW


@pytest.mark.parametrize("mode", ["form", "fetch-json", "fetch-formdata", "xhr"])
def test_properties_reach_the_cart_in_every_path(page: Any, shop: tuple[str, Shop], mode: str) -> None:
    base, state = shop
    _open(page, base, mode)
    _personalize(page)  # the embed resubmits the theme's product form through the theme's own path
    _wait_items(page, state, 1)
    line = state.items[0]
    assert line["variant_id"] == int(VARIANT)
    # every signed property, the forged `_luneo_sig` of the form overwritten by Luneo's
    assert line["properties"] == PROPS
    if mode == "form":
        page.wait_for_url(f"{base}/cart")
        _thumb(page, "#cart-items")
        return
    _thumb(page, "#drawer-items")
    # a second add with the theme's own button carries the same signed properties
    page.click("#add")
    _wait_items(page, state, 2)
    assert state.items[1]["properties"] == PROPS
    # and so does a programmatic add outside any form (quick add)
    page.click("#quick-add")
    _wait_items(page, state, 3)
    assert state.items[2]["properties"] == PROPS


@pytest.mark.parametrize("mode", ["form", "fetch-json", "fetch-formdata", "xhr"])
def test_an_unpersonalized_add_is_refused_with_a_message(
    page: Any, shop: tuple[str, Shop], mode: str
) -> None:
    base, state = shop
    _open(page, base, mode)
    page.click("#add")
    message = page.locator("#product-form .luneo-cart-message")
    message.wait_for()
    assert message.inner_text() == MESSAGE
    assert message.get_attribute("role") == "alert"
    if mode != "form":
        # the theme's own JS path outside a form: the refusal answers like Shopify's /cart/add.js
        page.click("#quick-add")
        page.wait_for_function(
            f"() => document.getElementById('theme-error').textContent === {json.dumps(MESSAGE)}"
        )
        # a product Luneo does not personalize is added untouched
        page.click("#quick-add-other")
        _wait_items(page, state, 1)
        assert state.items[0]["variant_id"] == int(OTHER_VARIANT)
        assert state.items[0]["properties"] == {}
    else:
        page.wait_for_timeout(300)  # a refused native submit must not navigate
        assert page.url.endswith("/products/mug?mode=form")
        assert state.items == []


def test_theme_button_with_a_ready_widget_freezes_the_design_then_adds(
    page: Any, shop: tuple[str, Shop]
) -> None:
    base, state = shop
    _open(page, base, "fetch-formdata", widget=True)
    page.click("#add")  # the shopper personalized, then used the theme's add-to-cart
    _wait_items(page, state, 1)
    assert state.items[0]["properties"] == PROPS
    assert page.locator(".luneo-cart-message:visible").count() == 0
