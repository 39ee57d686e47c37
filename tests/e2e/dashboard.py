"""Helpers for the dashboard's e2e tests: a signed-in page, an axe audit, a screenshot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .shots import SHOTS

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "mobile": {"width": 390, "height": 844}}


def demo_owner(live_data_dir: Path) -> tuple[str, str]:
    """The demo brand owner's email and password (written by `luneo serve --seed`)."""
    creds = json.loads((live_data_dir / "demo-credentials.json").read_text())
    return creds["owner"]["email"], creds["owner"]["password"]


def signed_in(
    browser: Any, base: str, email: str, password: str, viewport: str = "desktop"
) -> tuple[Any, Any]:
    """A new browser context signed in through the form: (context, page), on the dashboard's home."""
    context = browser.new_context(viewport=VIEWPORTS[viewport], locale="en-US")
    page = context.new_page()
    page.goto(base + "/dashboard/login")
    page.fill("#f-email", email)
    page.fill("#f-password", password)
    page.click("form[action='/dashboard/login'] button[type=submit]")
    page.wait_for_url(base + "/dashboard**")
    return context, page


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations on the page as it is now."""
    page.add_script_tag(content=AXE.read_text())
    result = page.evaluate(
        "async () => (await axe.run(document, { resultTypes: ['violations'] })).violations"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result
        if v["impact"] in ("serious", "critical")
    ]


def shot(page: Any, name: str) -> Path:
    """Save a full-page screenshot as `dashboard/<name>.png` under the shots folder."""
    folder = SHOTS / "dashboard"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
