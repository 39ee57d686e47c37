"""Products in Chromium: create a product, draw two zones with the mouse, nudge one with the keyboard,
set rules, watch the live preview change, save; place the print area on a mockup photo with the
mouse and the keyboard and see the rendered mockup; axe and screenshots of list, form and editors."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from .dashboard import OwnerSession, axe_violations, shot


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


def test_create_a_product_draw_zones_preview_and_save(live_server: str, owner: OwnerSession) -> None:
    context, page = owner.page()
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
    # The thin-stroke rule: the default option names the print method's own choice (warn).
    assert page.locator("#z-thin-stroke option[value='']").inner_text() == "Method default: warn"
    page.select_option("#z-thin-stroke", "refuse")
    assert _zones(page)[0]["rules"]["thin_stroke"] == "refuse"
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
    page.evaluate("window.scrollTo(0, 0)")  # the sticky header at the top of the picture
    shot(page, "dashboard-products-zones-desktop")

    page.click("#zones-save")
    page.wait_for_url("**/zones?saved=1")
    saved = _zones(page)
    assert saved[0]["label"] == "Name" and saved[0]["rules"]["max_chars"] == 15
    assert saved[0]["rules"]["thin_stroke"] == "refuse" and "thin_stroke" not in saved[1]["rules"]
    page.locator("#zone-list button").first.click()
    assert page.locator("#z-thin-stroke").input_value() == "refuse"

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
def test_pages_pass_axe_on_mobile(live_server: str, owner: OwnerSession, path: str, name: str) -> None:
    context, page = owner.page(viewport="mobile")
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


def test_fonts_and_assets_desktop(live_server: str, owner: OwnerSession) -> None:
    context, page = owner.page()
    for path, name in (("/dashboard/fonts", "fonts"), ("/dashboard/assets", "assets")):
        page.goto(live_server + path)
        assert axe_violations(page) == []
        shot(page, f"dashboard-products-{name}-desktop")
    context.close()


def _photo(path: Path) -> Path:
    """A product photo: a light card on a darker table (800 × 500 px)."""
    img = Image.new("RGB", (800, 500), "#6b5d4f")
    ImageDraw.Draw(img).polygon([(150, 110), (650, 80), (690, 400), (120, 420)], fill="#f4f1ea")
    out = io.BytesIO()
    img.save(out, "PNG")
    path.write_bytes(out.getvalue())
    return path


def _corner(page: Any, i: int) -> tuple[float, float]:
    return float(page.input_value(f"#f-corner_{i}_x")), float(page.input_value(f"#f-corner_{i}_y"))


def test_place_the_print_area_on_the_mockup_photo(
    live_server: str, owner: OwnerSession, tmp_path: Path
) -> None:
    context, page = owner.page()
    page.goto(live_server + "/dashboard/products/new")
    page.fill("#f-name", "E2E mockup card")
    page.fill("#f-sku", f"E2E-MK-{int(time.time() * 1000)}")
    page.fill("#f-width_mm", "100")
    page.fill("#f-height_mm", "70")
    page.click("form.product-form button[type=submit]")
    page.wait_for_url("**/zones")
    page.click("[data-action=add-text]")
    page.click("#zones-save")
    page.wait_for_url("**/zones?saved=1")
    product_url = page.url.split("/zones")[0]

    page.goto(product_url)
    page.set_input_files("#f-mockup-file", str(_photo(tmp_path / "card.png")))
    page.click("form[action$='/mockup'] button[type=submit]")
    page.wait_for_url("**/mockup?uploaded=1")
    assert _corner(page, 0) == (0, 0) and _corner(page, 2) == (800, 500)

    # Mouse: drag the top-left handle onto the card's corner (150, 110 in the photo).
    handle = page.locator(".mockup-handle[data-corner='0']")
    stage = page.locator("#mockup-stage").bounding_box()
    scale = stage["width"] / 800
    box = handle.bounding_box()
    x0, y0 = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + 75 * scale, y0 + 55 * scale, steps=5)
    page.mouse.move(x0 + 150 * scale, y0 + 110 * scale, steps=5)
    page.mouse.up()
    x, y = _corner(page, 0)
    assert x == pytest.approx(150, abs=2) and y == pytest.approx(110, abs=2)
    assert "px" in page.locator("#mockup-coords").inner_text()

    # Keyboard: the top-right handle moves 1 px left, then 10 px down.
    page.locator(".mockup-handle[data-corner='1']").focus()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Shift+ArrowDown")
    assert _corner(page, 1) == (799, 10)
    assert "799, 10 px" in (page.locator(".mockup-handle[data-corner='1']").get_attribute("aria-label") or "")
    # Wrap mode: its fields replace the corners' and two handles drive its rectangle.
    page.check("input[name=placement][value=wrap]")
    assert page.locator("#f-left_px").is_visible() and not page.locator("#f-corner_0_x").is_visible()
    assert page.locator(".mockup-handle[data-corner='1']").is_hidden()
    left = float(page.input_value("#f-left_px"))
    page.locator(".mockup-handle[data-corner='0']").focus()
    page.keyboard.press("Shift+ArrowRight")
    assert float(page.input_value("#f-left_px")) == left + 10
    page.check("input[name=placement][value=corners]")
    assert page.locator("#f-corner_0_x").is_visible() and not page.locator("#f-left_px").is_visible()
    for i, (cx, cy) in ((1, (650, 80)), (2, (690, 400)), (3, (120, 420))):
        page.fill(f"#f-corner_{i}_x", str(cx))
        page.fill(f"#f-corner_{i}_y", str(cy))
    assert axe_violations(page) == []

    # A crossed quadrilateral is refused with the message next to the corners, nothing saved.
    page.fill("#f-corner_1_x", "100")
    page.fill("#f-corner_1_y", "450")
    assert page.locator("#mockup-warning").is_visible()  # told before saving
    page.click("#mockup-save")
    page.locator("#f-corners-error").wait_for()
    assert "convex" in page.locator("#f-corners-error").inner_text()
    page.fill("#f-corner_1_x", "650")
    page.fill("#f-corner_1_y", "80")
    assert page.locator("#mockup-warning").is_hidden()

    page.click("#mockup-save")
    page.wait_for_url("**/mockup?saved=1")
    assert [_corner(page, i) for i in range(4)] == [
        (pytest.approx(150, abs=2), pytest.approx(110, abs=2)),
        (650, 80),
        (690, 400),
        (120, 420),
    ]
    preview = page.locator("#mockup-preview img")
    preview.wait_for(timeout=30_000)
    assert (preview.get_attribute("src") or "").startswith("data:image/png")
    assert axe_violations(page) == []
    shot(page, "dashboard-products-mockup-desktop")
    mockup_url = page.url.split("?")[0]
    x0, y0 = _corner(page, 0)

    # The zone editor now shows the placed print area of the photo behind the zones: the card's
    # placed top-left corner lands on the trim box's top-left corner (0, 0 mm).
    page.click("a[href$='/zones']")
    image = page.locator("#zone-canvas image[data-placed]")
    image.wait_for(state="attached")
    origin = page.evaluate(
        """p => { const i = document.querySelector('#zone-canvas image[data-placed]');
        const m = i.transform.baseVal.consolidate().matrix; const [x, y] = p;
        return [m.a * x + m.c * y + m.e, m.b * x + m.d * y + m.f]; }""",
        [x0, y0],
    )
    assert origin[0] == pytest.approx(0, abs=0.01) and origin[1] == pytest.approx(0, abs=0.01)
    shot(page, "dashboard-products-zones-placed-desktop")

    # The demo mug's wrap region, drawn over its photo with its curvature (looked at, not saved).
    page.goto(live_server + "/dashboard/products?q=DEMO-MUG")
    page.locator("table a[href*='/dashboard/products/prd_']").first.click()
    page.wait_for_selector("form.product-form")
    page.click("a[href$='/mockup']")
    assert page.locator("input[name=placement][value=wrap]").is_checked()
    assert page.input_value("#f-arc_deg") == "279.492"
    assert page.locator("#mockup-area").get_attribute("d").count("A ") == 2  # type: ignore[union-attr]
    page.locator("#mockup-preview img").wait_for(timeout=30_000)
    assert axe_violations(page) == []
    shot(page, "dashboard-products-mockup-wrap-desktop")
    context.close()

    context, page = owner.page(viewport="mobile")
    page.goto(mockup_url)
    page.locator("#mockup-preview img").wait_for(timeout=30_000)
    # Touch-sized handles, and the page fits the phone's width.
    assert page.locator(".mockup-handle[data-corner='0']").bounding_box()["width"] >= 44
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert axe_violations(page) == []
    shot(page, "dashboard-products-mockup-mobile")
    context.close()


def test_a_cmyk_print_product_chooses_its_cmyk_profile(live_server: str, owner: OwnerSession) -> None:
    """The demo business card prints in CMYK: its form offers the output profile, saved by the catalog."""
    for viewport in ("desktop", "mobile"):
        context, page = owner.page("/dashboard/products?q=DEMO-CARD", viewport=viewport)
        page.locator("table a[href*='/dashboard/products/prd_']").first.click()
        page.wait_for_selector("form.product-form")
        profile = page.locator("#f-cmyk_profile")
        assert profile.input_value() == "coated"
        assert "matte" in page.locator("#f-cmyk_profile-hint").inner_text()
        assert axe_violations(page) == []
        shot(page, f"dashboard-products-form-cmyk-{viewport}")
        if viewport == "desktop":
            page.select_option("#f-cmyk_profile", "uncoated")
            page.click("form.product-form button[type=submit]")
            page.wait_for_url("**?saved=1")
            assert page.locator("#f-cmyk_profile").input_value() == "uncoated"
            page.select_option("#f-cmyk_profile", "coated")  # the demo product as it was
            page.click("form.product-form button[type=submit]")
            page.wait_for_url("**?saved=1")
            assert page.locator("#f-cmyk_profile").input_value() == "coated"
        context.close()
