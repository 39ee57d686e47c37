"""Every outgoing HTTP client of ours sends `X-Request-Id` with the current request id: a local
HTTP server records what arrives (the SDKs may then fail to parse its answer; that is fine)."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from luneo.platform.context import request_id_var
from luneo.platform.http import outgoing_headers

RID = "req_outgoing_7f3a"


class _Recorder(BaseHTTPRequestHandler):
    seen: list[tuple[str, str, dict[str, str]]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        self.seen.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
        body = json.dumps({"access_token": "t", "expires_in": 3600, "id": "x"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", '"abc"')
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _answer

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _request_ids_sent(call: Callable[[], Any]) -> list[str | None]:
    """Run `call` inside a request whose id is RID; the X-Request-Id of each request received."""
    _Recorder.seen.clear()
    token = request_id_var.set(RID)
    try:
        with contextlib.suppress(Exception):
            call()
    finally:
        request_id_var.reset(token)
    assert _Recorder.seen, "no request reached the server"
    return [headers.get("x-request-id") for _method, _path, headers in _Recorder.seen]


def test_outgoing_headers_helper() -> None:
    assert outgoing_headers() == {}
    token = request_id_var.set(RID)
    try:
        assert outgoing_headers() == {"X-Request-Id": RID}
    finally:
        request_id_var.reset(token)


def test_paypal(server: str) -> None:
    from luneo.payments.providers.paypal import PayPalProvider

    provider = PayPalProvider("id", "secret", api_base=server, webhook_id=None)
    assert set(_request_ids_sent(provider.access_token)) == {RID}


def test_stripe(server: str) -> None:
    from luneo.payments.providers.stripe import StripeProvider

    provider = StripeProvider("sk_test_x", None, api_base=server, max_network_retries=0)
    assert set(_request_ids_sent(lambda: provider.refund("pi_123"))) == {RID}


def test_sendgrid(server: str) -> None:
    from luneo.notifications.senders import OutgoingEmail, SendGridSender

    mail = OutgoingEmail("eml_1", "Luneo", "no-reply@luneo.local", "a@b.example", "Hi", "hi", "<p>hi</p>")
    sender = SendGridSender("SG.key", api_base=server)
    assert set(_request_ids_sent(lambda: sender.send(mail))) == {RID}


def test_cloudinary(server: str) -> None:
    from luneo.ai.providers.cloudinary import CloudinaryCredentials, CloudinaryProvider

    provider = CloudinaryProvider(CloudinaryCredentials("demo", "key", "secret"), api_base=server)
    assert set(_request_ids_sent(lambda: provider.remove_background(b"\x89PNG"))) == {RID}


def test_openai_compatible(server: str) -> None:
    from luneo.ai.providers.base import ChatMessage
    from luneo.ai.providers.openai_compat import OpenAICompatProvider

    provider = OpenAICompatProvider("openai", api_key="k", base_url=server + "/v1", chat_model="m")
    assert set(_request_ids_sent(lambda: provider.chat([ChatMessage("user", "hi")]))) == {RID}


def test_anthropic(server: str) -> None:
    from luneo.ai.providers.anthropic import AnthropicProvider
    from luneo.ai.providers.base import ChatMessage

    provider = AnthropicProvider(api_key="k", base_url=server, model="m")
    assert set(_request_ids_sent(lambda: provider.chat([ChatMessage("user", "hi")]))) == {RID}


def test_s3_storage_calls_but_not_presigned_urls(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from luneo.platform.storage import S3Storage

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    storage = S3Storage("bucket", endpoint_url=server, region="us-east-1")
    assert set(_request_ids_sent(lambda: storage.put(b"data", content_type="text/plain", key="a/b.txt"))) == {
        RID
    }
    token = request_id_var.set(RID)
    try:
        url = storage.client.generate_presigned_url("get_object", Params={"Bucket": "bucket", "Key": "k"})
    finally:
        request_id_var.reset(token)
    assert "x-request-id" not in url.lower()
