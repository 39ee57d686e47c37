"""Widget & integrations and Team in Chromium: a publishable key shown once (copied), the live
widget preview loading its first mockup in the frame, an invitation accepted in a second browser
context; axe on each page at desktop and mobile size; screenshots."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from .dashboard import VIEWPORTS, OwnerSession, axe_violations, emailed_link, shot

pytestmark = pytest.mark.e2e

INVITEE = "teammate@e2e-team.example"


def _audit(page: Any, name: str, viewport: str) -> None:
    assert axe_violations(page) == [], (name, viewport)
    shot(page, f"dashboard-{name}-{viewport}")


def test_key_shown_once_live_preview_and_an_invitation_accepted(
    live_server: str, live_data_dir: Path, browser: Any, owner: OwnerSession
) -> None:
    context, page = owner.page("/dashboard/integrations")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)

    # 1. a publishable key: full value once, copied, then only its prefix
    page.fill("#f-name", "E2E storefront")
    page.check("input[name=kind][value=publishable]")
    with page.expect_navigation():
        page.click("form.key-form button[type=submit]")
    key = page.locator("#new-key")
    key.wait_for()
    raw = key.inner_text().strip()
    assert raw.startswith("pk_live_")
    _audit(page, "integrations-key-created", "desktop")
    page.click("#key-created [data-copy]")
    page.locator("#key-created [data-copy-status]").get_by_text("Copied.").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == raw
    page.click("#key-created [data-dismiss-panel]")
    assert page.locator("#new-key").count() == 0
    page.goto(live_server + "/dashboard/integrations")
    assert raw not in page.content() and raw[:12] + "…" in page.content()

    # 2. the embed snippet and the live preview of the widget for the mug
    mug = page.locator("#f-product option", has_text="mug").first
    page.select_option("#f-product", value=mug.get_attribute("value"))
    with page.expect_navigation():
        page.click("form.filters button[type=submit]")
    if page.locator("form[action='/dashboard/integrations/widget-key'] button").count():
        with page.expect_navigation():
            page.click("form[action='/dashboard/integrations/widget-key'] button")
    snippet = page.locator("#embed-snippet")
    snippet.wait_for()
    assert "luneo-personalizer" in snippet.inner_text() and "pk_live_" in snippet.inner_text()
    frame = page.frame_locator("iframe.widget-preview")
    frame.locator("luneo-personalizer img[part=preview-image]").wait_for(state="visible", timeout=60_000)
    preview = next(f for f in page.frames if "/dashboard/integrations/preview" in f.url)
    preview.wait_for_function(
        "() => { const i = document.querySelector('luneo-personalizer').shadowRoot"
        ".querySelector('img[part=preview-image]'); return i && i.complete && i.naturalWidth > 100; }",
        timeout=60_000,
    )
    page.locator("#snippet").scroll_into_view_if_needed()
    _audit(page, "integrations", "desktop")

    # 3. invite a teammate; they accept in another browser and land in the brand
    page.goto(live_server + "/dashboard/team")
    page.fill("#f-email", INVITEE)
    page.select_option("#f-role", "editor")
    page.click("form[action='/dashboard/team/invitations'] button[type=submit]")
    page.get_by_text("Invitation sent.").wait_for()
    _audit(page, "team", "desktop")
    link = emailed_link(live_data_dir / "outbox", INVITEE, "/dashboard/invitations/accept")
    guest = browser.new_context(viewport=VIEWPORTS["desktop"], locale="en-US")
    other = guest.new_page()
    other.goto(link)
    _audit(other, "team-accept", "desktop")
    other.fill("#f-password", "a long e2e password")
    other.click("form[action='/dashboard/invitations/accept'] button[type=submit]")
    other.wait_for_url(live_server + "/dashboard")
    assert INVITEE in other.content()
    guest.close()
    page.goto(live_server + "/dashboard/team")
    assert page.locator("section[aria-labelledby=h-members] th[scope=row]", has_text=INVITEE).count() == 1
    page.goto(live_server + "/dashboard/team/audit")
    page.locator("td code", has_text="member.joined").first.wait_for()
    _audit(page, "team-audit", "desktop")
    context.close()


@pytest.mark.parametrize("viewport", ["mobile"])
def test_the_pages_on_a_phone(live_server: str, browser: Any, owner: OwnerSession, viewport: str) -> None:
    context, page = owner.page("/dashboard/integrations", viewport)
    for path, name in (
        ("/dashboard/integrations", "integrations"),
        ("/dashboard/team", "team"),
        ("/dashboard/team/audit", "team-audit"),
    ):
        if page.url != live_server + path:
            page.goto(live_server + path)
        _audit(page, name, viewport)
    keys = page.goto(live_server + "/dashboard/integrations")
    assert keys is not None and keys.status == 200
    revoke = page.locator("a.button.danger").first
    revoke.click()
    page.wait_for_url(re.compile(r".*/revoke$"))
    _audit(page, "integrations-revoke", viewport)
    guest = browser.new_context(viewport=VIEWPORTS[viewport], locale="en-US")
    other = guest.new_page()
    other.goto(live_server + "/dashboard/invitations/accept?token=rt_not-a-real-token-at-all")
    _audit(other, "team-accept-invalid", viewport)
    guest.close()
    context.close()
