"""Outgoing webhooks in Chromium: add an endpoint pointing at a local receiver (its secret shown
once), send a test event, see it delivered in the log (the receiver verifies the signature with
the official `standardwebhooks` verifier); axe at desktop and mobile size; screenshots."""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from .dashboard import OwnerSession, axe_violations, shot

pytestmark = pytest.mark.e2e


def _audit(page: Any, name: str, viewport: str) -> None:
    assert axe_violations(page) == [], (name, viewport)
    shot(page, f"dashboard-{name}-{viewport}")


class _Receiver:
    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.append((dict(self.headers.items()), body))
                self.send_response(200)
                self.send_header("Content-Length", "11")
                self.end_headers()
                self.wfile.write(b'{"ok":true}')

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"


@pytest.fixture
def receiver() -> Any:
    r = _Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


def test_an_endpoint_a_test_event_and_its_delivery(
    live_server: str, owner: OwnerSession, receiver: Any
) -> None:
    context, page = owner.page("/dashboard/webhooks")
    _audit(page, "webhooks", "desktop")
    page.fill("#f-url", receiver.url)
    page.fill("#f-description", "E2E receiver")
    page.check("input[name=event_types][value='order.paid']")
    page.check("input[name=event_types][value='pack.ready']")
    with page.expect_navigation():
        page.click("form.endpoint-form button[type=submit]")
    secret = page.locator("#new-secret").inner_text().strip()
    assert secret.startswith("whsec_")
    _audit(page, "webhooks-secret", "desktop")
    with page.expect_navigation():
        page.click("#secret-created a.button")
    assert secret not in page.content()
    page.click("form[action$='/test'] button")
    page.wait_for_url(re.compile(r".*saved=test.*"))
    for _ in range(60):  # the in-process worker delivers it
        if page.locator("#log .status--ok").count():
            break
        page.wait_for_timeout(500)
        page.reload()
    row = page.locator("#log tbody tr").first
    assert "webhook.test" in row.inner_text() and "HTTP 200" in row.inner_text()
    ((headers, body),) = receiver.received
    assert Webhook(secret).verify(body, headers)["type"] == "webhook.test"
    page.locator("#log").scroll_into_view_if_needed()
    _audit(page, "webhooks-endpoint", "desktop")
    detail = page.url.split("?")[0]
    context.close()

    context, phone = owner.page("/dashboard/webhooks", "mobile")
    _audit(phone, "webhooks", "mobile")
    phone.goto(detail)
    _audit(phone, "webhooks-endpoint", "mobile")
    context.close()
