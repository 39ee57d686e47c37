"""Issue 13 §6 and §9 in the widget: photos framed inside the zone (drag, zoom, rotate; the framed
crop is the uploaded photo), the resolution notice before add-to-cart, and saved designs (share
link, "My designs", reopen; another shopper sees none). Fixtures in conftest: one live server, one
Chromium."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.e2e.shots import SHOTS

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
I18N = ROOT / "src" / "luneo" / "widget" / "static" / "i18n"
W = "document.querySelector('luneo-personalizer').shadowRoot"
SETTLED = f"""(prev) => {{ const r = {W}; if (!r) return false;
  const i = r.querySelector('img[part=preview-image]'), f = r.querySelector('[part=preview]');
  return !!i && !i.hidden && i.complete && i.naturalWidth > 0 && !f.classList.contains('busy')
    && !!i.dataset.specHash && i.dataset.specHash !== prev
    && !r.querySelector('button.primary').disabled; }}"""
CHANGES = """() => { window.__changes = [];
  document.addEventListener('luneo:change', e => window.__changes.push(JSON.parse(JSON.stringify(e.detail)))); }"""
EN = json.loads((I18N / "en.json").read_text())


def _photo(width: int, height: int) -> bytes:
    """Four coloured quadrants: any crop, zoom or rotation changes the printed pixels."""
    img = Image.new("RGB", (width, height), (200, 40, 40))
    img.paste((40, 160, 60), (width // 2, 0, width, height // 2))
    img.paste((30, 60, 200), (0, height // 2, width // 2, height))
    img.paste((240, 200, 40), (width // 2, height // 2, width, height))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return out.getvalue()


def _open(browser: Any, url: str) -> tuple[Any, Any, Any]:
    context = browser.new_context(viewport={"width": 1200, "height": 1000})
    page = context.new_page()
    page.add_init_script(f"({CHANGES})()")
    page.goto(url)
    return context, page, page.locator("luneo-personalizer")


def _settled(page: Any, prev: str | None = None) -> str:
    page.wait_for_function(SETTLED, arg=prev, timeout=60_000)
    return str(page.evaluate(f"() => {W}.querySelector('img[part=preview-image]').dataset.specHash"))


def _last_photo(page: Any, spec_hash: str) -> str:
    """The photo asset of the validated design on screen (the last valid `luneo:change`)."""
    changes = page.evaluate("() => window.__changes")
    valid = [c for c in changes if c["valid"] and c["spec_hash"] == spec_hash]
    return str(valid[-1]["inputs"]["photo"]["asset_id"])


def _dpi(widget: Any) -> int:
    return int(re.search(r"\d+", widget.locator("[data-photo-dpi]").inner_text()).group())  # type: ignore[union-attr]


def test_a_photo_is_framed_zoomed_and_rotated_inside_the_zone(live_server, browser):
    context, page, widget = _open(browser, live_server + "/demo?sku=DEMO-MUG")
    first = _settled(page)
    assert widget.locator(".ph").is_hidden()  # no framing tool over the brand's sample photo
    widget.locator("#z-photo").set_input_files(
        files=[{"name": "holiday.jpg", "mimeType": "image/jpeg", "buffer": _photo(1600, 1200)}]
    )
    frame = widget.locator("[data-photo-frame=photo]")
    frame.wait_for(state="visible")
    uploaded = _settled(page, first)
    photo = _last_photo(page, uploaded)
    # 1600 px across a 96 mm zone at zoom 1 (the crop keeps the zone's 96:74 shape): ~412 dpi
    assert 400 <= _dpi(widget) <= 420

    zoom = widget.locator("[data-photo-zoom]")
    zoom.fill("2")
    zoomed = _settled(page, uploaded)
    assert zoomed != uploaded and _last_photo(page, zoomed) != photo
    assert 200 <= _dpi(widget) <= 210  # half the crop: half the resolution

    widget.locator('[data-photo-rotate="1"]').click()
    rotated = _settled(page, zoomed)
    assert rotated != zoomed and _last_photo(page, rotated) not in {photo}
    assert 150 <= _dpi(widget) <= 165  # 1200 px across, ÷ 2

    # keyboard: the frame is focusable, arrow keys move the photo, "-" zooms out
    frame.focus()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("-")
    moved = _settled(page, rotated)
    assert moved != rotated
    for target in [frame, zoom, widget.locator('[data-photo-rotate="-1"]')]:
        box = target.bounding_box()
        assert box["height"] >= 44, target  # touch targets
    widget.locator('[data-photo-rotate="-1"]').click()
    zoom.fill("1.3")
    _settled(page, moved)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "widget-photo-tools.png"), full_page=True)
    assert widget.locator("[data-dpi-notice]").inner_text() == ""
    context.close()


def test_a_tiny_photo_warns_about_resolution_before_add_to_cart(live_server, browser):
    context, page, widget = _open(browser, live_server + "/demo?sku=DEMO-MUG")
    _settled(page)
    widget.locator("#z-photo").set_input_files(
        files=[{"name": "tiny.jpg", "mimeType": "image/jpeg", "buffer": _photo(120, 90)}]
    )
    notice = widget.locator("[data-dpi-notice]")
    page.wait_for_function(
        f"() => {W}.querySelector('[data-dpi-notice]')?.textContent.includes('dpi')", timeout=60_000
    )
    text = notice.inner_text()
    assert text.startswith("Photo:") and "150 dpi" in text, text
    assert "low" in (widget.locator("[data-photo-dpi]").get_attribute("class") or "")
    assert widget.locator("button.primary").is_disabled()
    # the notice sits above "Add to cart"
    assert notice.bounding_box()["y"] < widget.locator("button.primary").bounding_box()["y"]
    context.close()


def test_a_saved_design_is_shared_listed_reopened_and_private_to_its_shopper(live_server, browser):
    context, page, widget = _open(browser, live_server + "/demo?sku=DEMO-MUG")
    first = _settled(page)
    widget.locator("#z-name").fill("Zed & Ana")
    typed = _settled(page, first)
    widget.locator("[part=save]").click()
    link = widget.locator("[data-share-url]")
    link.wait_for(state="visible", timeout=20_000)
    url = link.input_value()
    assert re.fullmatch(re.escape(live_server) + r"/d/[\w-]+", url), url
    share = httpx.get(url, timeout=10)
    assert share.status_code == 200 and share.headers["content-type"].startswith("text/html")
    assert "Zed &amp; Ana" in share.text or "Zed & Ana" in share.text
    widget.locator("[data-copy-link]").click()
    assert widget.locator("[data-copy-link]").inner_text() in {EN["link_copied"], EN["copy_link"]}

    # a fresh page of the same shopper: "My designs" lists it; Open restores the text
    page.goto(live_server + "/demo?sku=DEMO-MUG")
    _settled(page)
    assert widget.locator("#z-name").input_value() == ""
    widget.locator("[data-my-designs-toggle]").click()
    item = widget.locator("[data-my-designs] .dz-item").first
    item.wait_for(timeout=20_000)
    assert "Photo mug" in item.inner_text()
    assert item.locator("img").get_attribute("src") == url + "/image.png"
    item.locator("[data-action=open]").click()
    page.wait_for_function(f"() => {W}.querySelector('#z-name').value === 'Zed & Ana'", timeout=20_000)
    assert _settled(page) == typed  # the same design, the same spec

    # another shopper (new browser context): none of these designs; the share link opens it
    other, page2, widget2 = _open(browser, live_server + "/demo?sku=DEMO-MUG")
    _settled(page2)
    widget2.locator("[data-my-designs-toggle]").click()
    page2.wait_for_function(f"() => {W}.querySelector('[data-my-designs] li')", timeout=20_000)
    assert widget2.locator("[data-my-designs] li").inner_text() == EN["no_designs"]
    token = url.rsplit("/", 1)[1]
    page2.goto(f"{live_server}/demo?sku=DEMO-MUG&luneo_design={token}")
    page2.wait_for_function(f"() => {W}?.querySelector('#z-name')?.value === 'Zed & Ana'", timeout=20_000)
    assert _settled(page2) == typed
    other.close()

    # unshare: the link answers 404 and the list shows no thumbnail; delete: the list is empty
    widget.locator("[data-my-designs] .dz-item [data-action=unshare]").first.click()
    page.wait_for_function(
        f"() => {W}.querySelector('[data-my-designs] .dz-item') && !{W}.querySelector('[data-my-designs] img')",
        timeout=20_000,
    )
    assert httpx.get(url, timeout=10).status_code == 404
    assert widget.locator("[data-my-designs] .dz-item [data-action=unshare]").count() == 0
    widget.locator("[data-my-designs] .dz-item [data-action=delete]").first.click()
    page.wait_for_function(
        f"() => {W}.querySelector('[data-my-designs] li').textContent === {json.dumps(EN['no_designs'])}",
        timeout=20_000,
    )
    context.close()


def test_the_widget_modules_are_served_and_the_config_names_the_print_dpi(live_server):
    for name in ("luneo-photo.js", "luneo-designs.js"):
        res = httpx.get(f"{live_server}/widget/{name}", timeout=10)
        assert res.status_code == 200 and res.headers["content-type"].startswith("text/javascript")
        assert res.headers["access-control-allow-origin"] == "*"  # imported from the shop's origin
        assert res.text.startswith("//") and "export function" in res.text
    assert httpx.get(f"{live_server}/widget/luneo-nothing.js", timeout=10).status_code == 404
    page = httpx.get(f"{live_server}/demo?sku=DEMO-MUG", timeout=10).text
    key = re.search(r'key="(pk_[^"]+)"', page).group(1)  # type: ignore[union-attr]
    product = re.search(r'product="(prd_[^"]+)"', page).group(1)  # type: ignore[union-attr]
    config = httpx.get(
        f"{live_server}/api/v1/widget/config/{product}",
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    ).json()
    assert config["product"]["min_image_dpi"] == 150
