"""Widget, as a shopper sees it: keystroke → updated preview on screen, and first preview visible.

Starts `luneo serve --seed` (embedded mode: SQLite, in-process jobs) on 127.0.0.1 and drives the
demo storefront in the system Chromium (Playwright). Per demo product, `BENCH_KEYS` (default 20)
times: the first text zone is filled with a fresh random prefix (not timed, so every timed text is
new to the server: a cold render, never a cached one), then one key is typed; the time runs from
that key's `keydown` in the page to the `luneo:change` event the widget fires once the new
preview is decoded and on screen (the 80 ms debounce included). "First preview" is the time from
the element's `connectedCallback` to its first preview on screen (the brand's sample design, the
sample photo uploaded as the shopper's). Target (issue 13): p95 ≤ 300 ms; first preview ≤ 1.5 s.
"""

from __future__ import annotations

import os
import random
import shutil
import string
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _serve import demo_server
from _stats import line, percentiles

KEYS = int(os.environ.get("BENCH_KEYS", "20"))
SKUS = ("DEMO-CARD", "DEMO-MUG", "DEMO-PENDANT", "DEMO-PHONE", "DEMO-SIGN", "DEMO-TSHIRT")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
W = "document.querySelector('luneo-personalizer')"

WATCH = f"""() => {{
  window.__changes = [];
  document.addEventListener('luneo:change',
    e => window.__changes.push({{ t: performance.now(), d: e.detail }}));
  const root = {W}.shadowRoot;
  root.addEventListener('keydown', () => {{ window.__key = performance.now(); }}, true);
}}"""
# The first text zone's key and its character limit.
TEXT_ZONE = f"""() => {{ const z = {W}.config.zones.find(z => z.kind === 'text');
  return [z.key, z.rules.max_chars || 40]; }}"""
SHOWN = f"""(text) => {{ const c = window.__changes.at(-1);
  const z = {W}.config.zones.find(z => z.kind === 'text').key;
  return !!c && c.d.valid && c.d.inputs[z] && c.d.inputs[z].text === text && c.t > (window.__key || 0); }}"""


def _product(browser: object, base: str, sku: str, rng: random.Random) -> tuple[float, list[float]]:
    context = browser.new_context(viewport={"width": 1200, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(f"{base}/demo?sku={sku}")
    page.wait_for_function(f"() => {W}.firstPreviewMs !== undefined", timeout=60_000)
    first_ms = float(page.evaluate(f"() => {W}.firstPreviewMs"))
    page.evaluate(WATCH)
    key, max_chars = page.evaluate(TEXT_ZONE)
    field = page.locator("luneo-personalizer").locator(f"#z-{key}")
    samples: list[float] = []
    for _ in range(KEYS):
        prefix = "".join(rng.choice(string.ascii_uppercase) for _ in range(min(3, max_chars - 1)))
        field.fill(prefix)
        page.wait_for_function(SHOWN, arg=prefix, timeout=60_000)
        letter = rng.choice(string.ascii_uppercase)
        field.press(letter)
        page.wait_for_function(SHOWN, arg=prefix + letter, timeout=60_000)
        samples.append(float(page.evaluate("() => window.__changes.at(-1).t - window.__key")) / 1000)
    context.close()
    return first_ms, samples


def main() -> None:
    from playwright.sync_api import sync_playwright

    # one bench shopper types ~1,500 keystrokes a minute: lift the per-key/IP request limits
    limits = {"LUNEO_RATE_LIMIT_KEY": "100000/minute", "LUNEO_RATE_LIMIT_IP": "100000/minute"}
    rng = random.Random(13)
    with demo_server(limits, prefix="luneo-bench-widget-") as (base, _data), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        print(f"keystroke → preview on screen, {KEYS} cold keystrokes per product (loopback)")
        every: list[float] = []
        firsts: list[float] = []
        for sku in SKUS:
            first_ms, samples = _product(browser, base, sku, rng)
            every += samples
            firsts.append(first_ms / 1000)
            print(line(sku, percentiles(samples), f"first preview {first_ms:7.1f} ms"))
        print(line("all products", percentiles(every)))
        print(line("first preview visible (per product)", percentiles(firsts)))
        browser.close()


if __name__ == "__main__":
    main()
