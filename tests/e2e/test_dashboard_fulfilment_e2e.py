"""The fulfilment page in Chromium (issue 17, item 7): the demo owner saves the Printful account
(the token never comes back in the page), maps a product to a Printful variant, switches the
print shop hand-off to SFTP (only the SFTP fields show), sees a bad host key fingerprint refused
next to its field, then saves it. axe audits and screenshots (desktop 1280, mobile 390)."""

from __future__ import annotations

import pytest

from .dashboard import OwnerSession, axe_violations, shot

pytestmark = pytest.mark.e2e

FINGERPRINT = "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8"


@pytest.mark.parametrize("viewport", ["desktop", "mobile"])
def test_fulfilment_settings(owner: OwnerSession, viewport: str) -> None:
    context, page = owner.page("/dashboard/fulfilment", viewport)
    try:
        assert page.locator("h1").inner_text() == "Fulfilment"
        assert axe_violations(page) == [], viewport

        page.fill("#f-api_token", "pf-e2e-token-0123456789")
        page.fill("#f-store_id", "4242")
        page.click("#printful button[type=submit]")
        page.wait_for_url("**saved=printful**")
        assert "The Printful settings were saved." in page.locator("[role=status]").inner_text()
        assert "pf-e2e-token-0123456789" not in page.content()
        assert page.locator("#f-store_id").input_value() == "4242"

        page.select_option("#f-product", index=1)
        page.fill("#f-catalog_variant_id", "4012")
        page.click("#mappings form.stack button[type=submit]")
        page.wait_for_url("**saved=mapping**")
        assert page.locator("table.mappings tbody tr").count() >= 1

        page.check("#kind-sftp")
        assert page.locator("#f-host").is_visible() and not page.locator("#f-url").is_visible()
        page.fill("#f-host", "files.example")
        page.fill("#f-port", "2222")
        page.fill("#f-username", "printshop")
        page.fill("#f-password", "sftp-e2e-password")
        page.fill("#f-directory", "/incoming")
        page.fill("#f-host_key", "not a fingerprint")
        page.click("#handoff form.handoff-form button[type=submit]")
        error = page.locator("#f-host_key-error")
        error.wait_for()
        assert "SHA256" in error.inner_text()
        assert page.locator("#f-host_key").get_attribute("aria-invalid") == "true"
        assert (
            page.locator("#kind-sftp").is_checked()
            and page.locator("#f-host").input_value() == "files.example"
        )
        assert axe_violations(page) == [], viewport
        shot(page, f"dashboard-fulfilment-error-{viewport}")

        page.fill("#f-host_key", FINGERPRINT)
        page.fill("#f-password", "sftp-e2e-password")
        page.click("#handoff form.handoff-form button[type=submit]")
        page.wait_for_url("**saved=handoff**")
        assert page.locator("#f-host_key").input_value() == FINGERPRINT
        assert "sftp-e2e-password" not in page.content()
        assert axe_violations(page) == [], viewport
        shot(page, f"dashboard-fulfilment-{viewport}")
    finally:
        context.close()
