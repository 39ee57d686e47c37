"""End to end: the demo storefront in real Chromium against a live `luneo serve`."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    data = tmp_path_factory.mktemp("e2e") / "var"
    port = _free_port()
    env = {
        **os.environ,
        "LUNEO_DATA_DIR": str(data),
        "LUNEO_LOG_LEVEL": "WARNING",
        "LUNEO_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }
    for var in ("LUNEO_DATABASE_URL", "LUNEO_REDIS_URL", "LUNEO_STORAGE_URL"):
        env.pop(var, None)
    log = open(data.parent / "server.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "luneo.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("server did not start: " + (data.parent / "server.log").read_text()[-2000:])
    yield base
    proc.terminate()
    proc.wait(15)
    log.close()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield b
        b.close()


def test_shopper_personalizes_previews_and_adds_to_cart(live_server, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(live_server + "/demo")
    page.select_option("#product", label="Engraved round pendant")
    widget = page.locator("luneo-personalizer")
    widget.locator("#z-arc_text").fill("Emma")
    widget.locator("#z-initial").fill("E")
    img = widget.locator("img[part=preview-image]")
    img.wait_for(state="visible", timeout=60_000)
    page.wait_for_function(
        "() => { const i = document.querySelector('luneo-personalizer').shadowRoot.querySelector('img');"
        " return i && i.complete && i.naturalWidth > 100; }",
        timeout=60_000,
    )
    page.screenshot(path=str(tmp_path / "preview.png"))

    # A blocked word is refused next to its field, and the preview is not updated.
    widget.locator("#z-arc_text").fill("Merde")
    error = widget.locator('[data-errors="arc_text"] [data-code="blocked_word"]')
    error.wait_for(state="visible", timeout=20_000)

    widget.locator("#z-arc_text").fill("Emma Rose")
    page.wait_for_function(
        "() => { const r = document.querySelector('luneo-personalizer').shadowRoot;"
        " return !r.querySelector('button.primary').disabled; }",
        timeout=60_000,
    )
    widget.locator("button.primary").click()
    widget.locator("[part=cart]").get_by_text("In your cart: 1").wait_for(timeout=20_000)
    page.screenshot(path=str(Path(os.environ.get("LUNEO_E2E_SHOTS", tmp_path)) / "cart.png"))
