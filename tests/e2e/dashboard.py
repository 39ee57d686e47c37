"""Helpers for the dashboard's e2e tests: a signed-in page, an axe audit, a screenshot."""

from __future__ import annotations

import email
import functools
import json
import re
import time
from email import policy
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


class OwnerSession:
    """The demo owner signed in through the form once; each `page()` is a new browser context
    (its own sessionStorage, i.e. a new browser session) carrying those cookies, opened on the
    wanted page directly. The sign-in is redone when its access token nears expiry (15 min), so
    contexts never race to rotate an old refresh token."""

    MAX_AGE_S = 600.0

    def __init__(self, browser: Any, base: str, live_data_dir: Path) -> None:
        self.browser, self.base = browser, base
        self.email, self.password = demo_owner(live_data_dir)
        self._state: dict[str, Any] | None = None
        self._at = 0.0
        self.sign_ins = 0

    def state(self) -> dict[str, Any]:
        if self._state is None or time.monotonic() - self._at > self.MAX_AGE_S:
            context, _ = signed_in(self.browser, self.base, self.email, self.password)
            self._state, self._at = context.storage_state(), time.monotonic()
            self.sign_ins += 1
            context.close()
        return self._state

    def page(
        self, path: str = "/dashboard", viewport: str = "desktop", init: str | None = None
    ) -> tuple[Any, Any]:
        """(context, page) signed in as the demo owner, at `path` (`init`: a script run first on
        every page of the context)."""
        context = self.browser.new_context(
            viewport=VIEWPORTS[viewport], locale="en-US", storage_state=self.state()
        )
        if init:
            context.add_init_script(init)
        page = context.new_page()
        page.goto(self.base + path)
        assert "/dashboard/login" not in page.url, page.url
        return context, page


def emailed_link(outbox: Path, to: str, path: str, timeout_s: float = 30.0) -> str:
    """The first `…<path>?token=…` URL in a plain-text email sent to `to` (the outbox sender
    writes `.eml` files)."""
    pattern = re.compile(r"https?://\S+" + re.escape(path) + r"\?token=\S+")
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        for file in sorted(outbox.glob("*.eml")) if outbox.exists() else []:
            message = email.message_from_bytes(file.read_bytes(), policy=policy.default)
            if message["To"] != to:
                continue
            body = message.get_body(preferencelist=("plain",))
            found = pattern.search(body.get_content() if body else "")
            if found:
                return found.group(0)
        time.sleep(0.3)
    raise AssertionError(f"no email to {to} with a {path} link in {outbox}")


@functools.cache
def _axe_source() -> str:
    return AXE.read_text()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations on the page as it is now."""
    page.add_script_tag(content=_axe_source())
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
