"""Email previews in Chromium: the list of emails, the English and French preview of a branded
email in its sandboxed frame with the text part beside it; axe at desktop and mobile size;
screenshots."""

from __future__ import annotations

from typing import Any

import pytest

from .dashboard import OwnerSession, axe_violations, shot

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("viewport", ["desktop", "mobile"])
def test_email_previews_in_english_and_french(owner: OwnerSession, viewport: str) -> None:
    context, page = owner.page("/dashboard/emails?template=order_shipped&email_lang=en", viewport)
    try:
        assert page.locator("h1").inner_text() == "Emails"
        assert page.locator(".emails-list a").count() == 8
        frame = page.frame_locator("iframe.email-frame")
        frame.locator("h1").get_by_text("has shipped").wait_for()
        assert page.locator("iframe.email-frame").get_attribute("sandbox") == ""
        assert "Tracking number: 6A12345678901" in page.locator(".email-text").inner_text()
        assert axe_violations(page) == [], viewport
        _paint_frame(page)
        shot(page, f"dashboard-emails-{viewport}")

        page.click(".emails-preview a[lang=fr]")
        page.wait_for_url("**email_lang=fr**")
        page.frame_locator("iframe.email-frame").locator("h1").get_by_text("a été expédiée").wait_for()
        assert "Numéro de suivi : 6A12345678901" in page.locator(".email-text").inner_text()

        page.click(".emails-list a[href*='template=low_credits']")
        page.wait_for_url("**template=low_credits**")
        text = page.locator(".email-text").inner_text()
        assert "Se désabonner de ces e-mails" in text and "/notifications/unsubscribe?token=" in text
        page.frame_locator("iframe.email-frame").locator("h1").get_by_text("presque épuisés").wait_for()
        assert axe_violations(page) == [], viewport
        _paint_frame(page)
        shot(page, f"dashboard-emails-low-credits-fr-{viewport}")
    finally:
        context.close()


def _paint_frame(page: Any) -> None:
    """Scroll the preview frame into view once: Chromium paints an out-of-view iframe blank in a
    full-page screenshot otherwise (mobile)."""
    page.locator("iframe.email-frame").scroll_into_view_if_needed()
    page.wait_for_timeout(200)
    page.evaluate("window.scrollTo(0, 0)")
