"""Screenshots of the storefront widget with a personalised mockup, for every demo product, on a
desktop (1280 × 800) and a phone (390 × 844): `docs/screenshots/widget-<product>-<desktop|mobile>.png`.

Drives the demo page (`/demo?sku=…`) of a running `luneo serve --seed` in the system Chromium
(Playwright): types a name in each text zone, picks another font and colour where offered,
uploads a generated photo where the product has an image zone, waits until the new mockup is on
screen, then takes the picture.

Run: .venv/bin/python scripts/take_widget_screenshots.py [--base http://127.0.0.1:8000] [--out DIR]
Without `--base` it starts its own `luneo serve --seed` on a free port with a temporary data dir.
"""

from __future__ import annotations

import argparse
import io
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from _serve import demo_server

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SKUS = ("DEMO-CARD", "DEMO-MUG", "DEMO-PENDANT", "DEMO-PHONE", "DEMO-SIGN", "DEMO-TSHIRT")
VIEWPORTS = {"desktop": (1280, 800), "mobile": (390, 844)}
# A text per zone that looks like a shopper's (else a generic name cut to the zone's limit).
TEXTS = {
    ("DEMO-PENDANT", "arc_text"): "Camille",
    ("DEMO-PENDANT", "initial"): "C",
    ("DEMO-MUG", "name"): "Best Dad",
    ("DEMO-TSHIRT", "slogan"): "Summer Crew 2026",
    ("DEMO-SIGN", "title"): "Villa Rosa",
    ("DEMO-SIGN", "subtitle"): "Est. 1987",
    ("DEMO-PHONE", "initials"): "JM",
    ("DEMO-CARD", "name"): "Jeanne Martin",
    ("DEMO-CARD", "title"): "Head Baker",
}
W = "document.querySelector('luneo-personalizer')"
READY = f"""(prev) => {{ const r = {W}.shadowRoot; if (!r) return false;
  const i = r.querySelector('img[part=preview-image]'), f = r.querySelector('[part=preview]');
  const b = r.querySelector('button.primary');
  return !!i && !i.hidden && i.complete && i.naturalWidth > 0 && !f.classList.contains('busy')
    && !b.disabled && !!i.dataset.specHash && i.dataset.specHash !== prev; }}"""


def photo_jpeg(w: int = 2800, h: int = 2800) -> bytes:
    """A colourful generated 'photo': sky, sun, hills."""
    img = Image.new("RGB", (w, h), (120, 180, 230))
    draw = ImageDraw.Draw(img)
    for y in range(h // 2):
        c = int(120 + 100 * y / (h / 2))
        draw.line((0, y, w, y), fill=(c, min(255, c + 50), 240))
    draw.ellipse((w * 0.6, h * 0.12, w * 0.85, h * 0.37), fill=(255, 205, 60))
    draw.ellipse((-w * 0.3, h * 0.5, w * 0.8, h * 1.3), fill=(70, 150, 80))
    draw.ellipse((w * 0.3, h * 0.6, w * 1.4, h * 1.4), fill=(40, 115, 60))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=88)
    return buf.getvalue()


@contextmanager
def serve() -> Iterator[str]:
    """A fresh `luneo serve --seed` (embedded mode) on a free port."""
    with demo_server(prefix="luneo-shots-") as (base, _data):
        yield base


def _pick_other(widget: Any, zone: str, field: str) -> None:
    """Click the first option of the zone's font / colour picker that is not the current one."""
    labels = widget.locator(f"[data-zone={zone}] [data-field={field}] label[data-value]")
    checked = labels.evaluate_all("ls => ls.map(l => l.querySelector('input').checked)")
    other = next((i for i, on in enumerate(checked) if not on), None)
    if len(checked) > 1 and other is not None:
        labels.nth(other).click()


def personalise(page: Any, sku: str, photo: bytes) -> None:
    """Fill every zone of the product like a shopper, then wait for the new mockup on screen."""
    widget = page.locator("luneo-personalizer")
    page.wait_for_function(READY, arg=None, timeout=60_000)
    first = widget.locator("img[part=preview-image]").get_attribute("data-spec-hash")
    for zone in page.evaluate(f"() => {W}.config.zones"):
        key = zone["key"]
        if zone["kind"] == "text":
            top = int((zone.get("rules") or {}).get("max_chars") or 40)
            widget.locator(f"#z-{key}").fill(TEXTS.get((sku, key), "Ava")[:top])
            _pick_other(widget, key, "font")
            _pick_other(widget, key, "color")
        elif zone["kind"] == "image":
            widget.locator(f"#z-{key}").set_input_files(
                files=[{"name": "holiday.jpg", "mimeType": "image/jpeg", "buffer": photo}]
            )
    page.wait_for_timeout(400)  # the debounce and the upload start
    page.wait_for_function(READY, arg=first, timeout=60_000)
    page.evaluate("() => document.fonts.ready")
    page.evaluate("() => window.scrollTo(0, 0)")  # the upload scrolled the page: show it from the top
    page.wait_for_timeout(200)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", help="a running `luneo serve --seed` (else one is started)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    photo = photo_jpeg()
    with serve() if args.base is None else _given(args.base) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        for sku in SKUS:
            for name, (width, height) in VIEWPORTS.items():
                context = browser.new_context(viewport={"width": width, "height": height})
                page = context.new_page()
                page.goto(f"{base}/demo?sku={sku}")
                personalise(page, sku, photo)
                path = args.out / f"widget-{sku.split('-')[1].lower()}-{name}.png"
                page.screenshot(path=str(path))
                print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path, flush=True)
                context.close()
        browser.close()


@contextmanager
def _given(base: str) -> Iterator[str]:
    yield base.rstrip("/")


if __name__ == "__main__":
    main()
