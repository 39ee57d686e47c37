"""Issue 13, "Done means": the golden path of every demo product, on a desktop and a phone, end to end.

In the system Chromium against one live `luneo serve --seed` (fixtures in conftest): open the demo
page for the product, type in every text zone, pick another font and colour where offered, upload
a photo where the product has an image zone, watch the mockup update, open 3D where the product has
a model (the model loads the preview GLB of the same design), approve the proof (the demo
brand is made to require approval for this module), add to Luneo's cart, pay with the dev
provider's hosted checkout; then, with the brand's secret key, find the order, check that its item
carries the spec_hash the widget announced in `luneo:add-to-cart`, wait for the item's production
pack and check that the pack's manifest (API and the ZIP's `manifest.json`) has the same spec_hash.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageDraw

pytestmark = pytest.mark.e2e

SKUS = ("DEMO-CARD", "DEMO-MUG", "DEMO-PENDANT", "DEMO-PHONE", "DEMO-SIGN", "DEMO-TSHIRT")
VIEWPORTS = {"desktop": (1280, 800), "mobile": (390, 844)}
W = "document.querySelector('luneo-personalizer')"
EVENTS = """() => { window.__ev = [];
  for (const n of ['luneo:change', 'luneo:add-to-cart'])
    document.addEventListener(n, e => window.__ev.push({ name: n, detail: JSON.parse(JSON.stringify(e.detail)) })); }"""
# The preview on screen is decoded, no refresh is in flight, and it is not the `prev` design.
SETTLED = f"""(prev) => {{ const r = {W}.shadowRoot; if (!r) return false;
  const i = r.querySelector('img[part=preview-image]'), f = r.querySelector('[part=preview]');
  return !!i && !i.hidden && i.complete && i.naturalWidth > 0 && !f.classList.contains('busy')
    && !!i.dataset.specHash && i.dataset.specHash !== prev; }}"""
# "Add to cart" is enabled for the design on screen, which is the one of every input made so far.
READY = f"""(want) => {{ const w = {W}, r = w.shadowRoot, b = r.querySelector('button.primary');
  const i = r.querySelector('img[part=preview-image]');
  if (b.disabled || !i.dataset.specHash || b.dataset.specHash !== i.dataset.specHash) return false;
  const sent = w.payload().inputs;
  return Object.entries(want).every(([k, v]) => sent[k] && (v.text === undefined || sent[k].text === v.text)
    && (v.font === undefined || sent[k].font === v.font) && (v.color === undefined || sent[k].color === v.color)
    && (v.asset === undefined || (sent[k].asset_id && sent[k].asset_id !== v.asset))); }}"""
CHECKOUT = f"""async (email) => {{
  const w = {W}, key = w.getAttribute('key');
  const token = localStorage.getItem('luneo-shopper:' + key.slice(0, 16));
  const res = await fetch('/api/v1/cart/checkout', {{ method: 'POST', headers: {{ Authorization: 'Bearer ' + key,
    'X-Shopper-Token': token, 'Content-Type': 'application/json' }},
    body: JSON.stringify({{ customer: {{ email, name: 'Ada E2E' }}, provider: 'dev',
      success_url: location.origin + '/demo?paid=' + encodeURIComponent(email),
      cancel_url: location.origin + '/demo?cancelled=1' }}) }});
  return {{ status: res.status, body: await res.json() }};
}}"""
# The 3D view is open, its <model-viewer> has loaded the model of this spec_hash.
MODEL_SHOWN = f"""(spec) => {{ const mv = {W}.shadowRoot.querySelector('model-viewer');
  return !!mv && !mv.hidden && mv.dataset.specHash === spec && !!mv.getAttribute('src') && mv.loaded === true; }}"""
PACK_DONE = {"ready", "failed", "needs_attention", "needs_review", "cancelled"}


def _photo_jpeg(w: int = 2800, h: int = 2800) -> bytes:
    """A 2800 × 2800 'photo' (gradient and shapes): enough pixels for every zone's print DPI."""
    img = Image.linear_gradient("L").resize((w, h)).convert("RGB")
    draw = ImageDraw.Draw(img)
    draw.ellipse((w * 0.2, h * 0.2, w * 0.8, h * 0.8), fill=(200, 60, 40))
    draw.rectangle((w * 0.4, h * 0.05, w * 0.6, h * 0.95), fill=(30, 90, 160))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    return buf.getvalue()


PHOTO = _photo_jpeg()


def _text_for(rules: dict[str, Any], n: int) -> str:
    """A valid new text for a zone: capitals where the zone allows only them, within max_chars."""
    top = int(rules.get("max_chars") or 40)
    text = "AVL"[:top] if top <= 4 or rules.get("allowed_chars") else ("Ava Lune", "Noa Rive")[n % 2][:top]
    return text


@pytest.fixture(scope="module")
def api(live_server: str, live_data_dir: Path) -> Iterator[httpx.Client]:
    """The demo brand's secret key; the brand requires the shopper's approval for this module."""
    creds = json.loads((live_data_dir / "demo-credentials.json").read_text())
    client = httpx.Client(
        base_url=live_server, headers={"Authorization": f"Bearer {creds['secret_key']}"}, timeout=30
    )
    # brand settings are the owner's to change (a secret key may not)
    login = client.post("/api/v1/auth/login", json=creds["owner"], headers={"Authorization": ""})
    owner = {"Authorization": "Bearer " + login.raise_for_status().json()["access_token"]}
    settings = client.get("/api/v1/brand", headers=owner).raise_for_status().json()["settings"]
    patch = {"settings": {**settings, "require_design_approval": True}}
    client.patch("/api/v1/brand", json=patch, headers=owner).raise_for_status()
    yield client
    client.patch("/api/v1/brand", json={"settings": settings}, headers=owner).raise_for_status()
    client.close()


def _pick_other(page: Any, zone: str, field: str) -> str | None:
    """Click the first option of the zone's font / colour picker that is not the checked one."""
    group = page.locator("luneo-personalizer").locator(f"[data-zone={zone}] [data-field={field}]")
    if group.count() == 0:
        return None
    values = group.locator("label[data-value]").evaluate_all(
        "ls => ls.map(l => [l.dataset.value, l.querySelector('input').checked])"
    )
    other = next(v for v, checked in values if not checked and v)
    group.locator(f"label[data-value='{other}']").click()
    return str(other)


def _wait_pack(api: httpx.Client, order_id: str, timeout_s: float = 90) -> dict[str, Any]:
    deadline = time.time() + timeout_s
    while True:
        rows = api.get("/api/v1/manufacturing/work-orders", params={"order_id": order_id}).json()["data"]
        if rows and all(r["status"] in PACK_DONE for r in rows):
            return dict(rows[0]) if len(rows) == 1 else {"many": rows}
        assert time.time() < deadline, f"work orders of {order_id} not ready: {rows}"
        time.sleep(0.2)


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("sku", SKUS)
def test_personalize_approve_pay_and_produce_the_same_design(live_server, browser, api, sku, viewport):
    width, height = VIEWPORTS[viewport]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.add_init_script(f"({EVENTS})()")
    page.goto(f"{live_server}/demo?sku={sku}")
    widget = page.locator("luneo-personalizer")
    page.wait_for_function(SETTLED, arg=None, timeout=60_000)
    first = widget.locator("img[part=preview-image]")
    first_hash, first_src = first.get_attribute("data-spec-hash"), first.get_attribute("src")
    config = page.evaluate(f"() => {W}.config")
    assert config["product"]["sku"] == sku

    # Type, pick another font and colour, upload a photo: every zone the product offers.
    want: dict[str, dict[str, Any]] = {}
    for n, zone in enumerate(config["zones"]):
        key = zone["key"]
        if zone["kind"] == "text":
            text = _text_for(zone.get("rules") or {}, n)
            widget.locator(f"#z-{key}").fill(text)
            want[key] = {"text": text}
            if font := _pick_other(page, key, "font"):
                want[key]["font"] = font
            if color := _pick_other(page, key, "color"):
                want[key]["color"] = color
        elif zone["kind"] == "image":
            sample = page.evaluate(f"(k) => {W}.inputs[k].sampleAsset || ''", key)
            widget.locator(f"#z-{key}").set_input_files(
                files=[{"name": "holiday.jpg", "mimeType": "image/jpeg", "buffer": PHOTO}]
            )
            want[key] = {"asset": sample}
    assert want, f"{sku} offers nothing to personalize"

    # The mockup follows: a new design, a new image, decoded and on screen.
    page.wait_for_function(READY, arg=want, timeout=60_000)
    shown = widget.locator("img[part=preview-image]")
    spec_hash = shown.get_attribute("data-spec-hash")
    assert spec_hash and spec_hash != first_hash
    assert shown.get_attribute("src") != first_src
    assert shown.evaluate("i => i.complete && i.naturalWidth > 100")
    assert widget.locator("[data-errors] > *").count() == 0
    assert widget.locator("[data-warnings] > *").count() == 0  # e.g. no "photo prints soft"
    if config["product"].get("mockup_px"):  # the product photo with the design on it
        mw, mh = config["product"]["mockup_px"]
        nw, nh = shown.evaluate("i => [i.naturalWidth, i.naturalHeight]")
        assert abs(nw / nh - mw / mh) < 0.02, (nw, nh, mw, mh)
    if viewport == "mobile":  # the preview is on screen while the shopper works the form
        box = widget.locator("[part=preview]").bounding_box()
        assert box is not None and box["y"] > -1 and box["y"] + box["height"] <= height + 1, box

    # Open 3D where the product has a model: the model wears this design (a preview GLB).
    if config["product"].get("has_3d"):
        widget.locator("[part=view-3d]").click()
        page.wait_for_function(MODEL_SHOWN, arg=spec_hash, timeout=60_000)
        glb = page.evaluate(f"() => {W}.shadowRoot.querySelector('model-viewer').getAttribute('src')")
        assert httpx.get(httpx.URL(live_server).join(glb), timeout=30).content[:4] == b"glTF"
        widget.locator("[part=view-3d]").click()  # back to the mockup
        assert widget.locator("[part=view-3d]").get_attribute("aria-pressed") == "false"

    # Proof and approval, then Luneo's cart.
    widget.locator("button.primary").first.click()
    proof = widget.locator("[part=proof]")
    proof.wait_for(timeout=20_000)
    for value in want.values():
        if "text" in value:
            assert value["text"] in proof.inner_text()
    proof.locator("#lw-approve").check()
    proof.locator("button.primary").click()
    widget.locator("[part=cart]").get_by_text("In your cart: 1").wait_for(timeout=20_000)
    page.wait_for_function("() => window.__ev.some(e => e.name === 'luneo:add-to-cart')", timeout=20_000)
    [added] = [e["detail"] for e in page.evaluate("() => window.__ev") if e["name"] == "luneo:add-to-cart"]
    assert added["spec_hash"] == spec_hash
    assert added["cart"]["items"][0]["spec_hash"] == spec_hash

    # Pay with the dev provider's hosted checkout, as the shopper.
    email = f"e2e-{sku.lower()}-{viewport}@example.com"
    checkout = page.evaluate(CHECKOUT, email)
    assert checkout["status"] == 201, checkout
    page.goto(checkout["body"]["checkout_url"])
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url("**/demo?paid=*", timeout=30_000)  # paid: back on the storefront
    context.close()

    # The brand's server finds the order, its item and its production pack: one spec_hash.
    [summary] = api.get("/api/v1/orders", params={"customer_email": email}).json()["data"]
    order = api.get(f"/api/v1/orders/{summary['id']}").json()
    assert order["status"] in {"paid", "in_production"}, order["status"]
    [item] = order["items"]
    assert item["snapshot"] == {"id": added["snapshot_id"], "spec_hash": spec_hash}
    assert order["payment_status"] == "paid"
    work_order = _wait_pack(api, order["id"])
    assert work_order.get("status") == "ready", work_order
    assert work_order["spec_hash"] == spec_hash and work_order["order_item_id"] == item["id"]
    pack = api.get(f"/api/v1/manufacturing/export-pack/{work_order['pack_id']}").json()
    assert pack["status"] == "success" and pack["spec_hash"] == spec_hash
    assert pack["manifest"]["meta"]["spec_hash"] == spec_hash, pack["manifest"]
    url = api.get(f"/api/v1/manufacturing/work-orders/{work_order['id']}/pack").json()["url"]
    archive = httpx.get(url, timeout=30).raise_for_status().content
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        assert json.loads(z.read("manifest.json"))["meta"]["spec_hash"] == spec_hash
