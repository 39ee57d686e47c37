"""Each provider client against a local HTTP server speaking the provider's documented protocol.

`ProtocolServer` (also used by the integration tests) is a threaded `http.server` on 127.0.0.1
that records every request (method, path, headers, body) and answers from registered routes.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from PIL import Image

from luneo.ai.providers.anthropic import AnthropicProvider
from luneo.ai.providers.base import ChatMessage, ProviderError
from luneo.ai.providers.cloudinary import CloudinaryProvider, parse_cloudinary_url, sign
from luneo.ai.providers.openai_compat import OpenAICompatProvider

OPENAI_KEY = "sk-test-SECRET-openai-0123456789"
ANTHROPIC_KEY = "sk-ant-test-SECRET-0123456789"
CLOUD_SECRET = "cloudSECRETabc123"


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, bytes]:
        """multipart/form-data fields → bytes."""
        ctype = self.headers["content-type"]
        msg = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {ctype}\r\n\r\n".encode() + self.body)
        out: dict[str, bytes] = {}
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            out[str(name)] = part.get_payload(decode=True)
        return out


Handler = Callable[[Recorded], tuple[int, dict[str, str], bytes]]


@dataclass
class ProtocolServer:
    routes: dict[tuple[str, str], Handler] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    url: str = ""

    def route(self, method: str, path: str, handler: Handler) -> None:
        self.routes[(method, path)] = handler

    def json_route(self, method: str, path: str, payload: Any, status: int = 200) -> None:
        body = json.dumps(payload).encode()
        self.route(method, path, lambda _r: (status, {"content-type": "application/json"}, body))


@pytest.fixture
def protocol_server() -> Iterator[ProtocolServer]:
    yield from serve()


def serve() -> Iterator[ProtocolServer]:
    state = ProtocolServer()

    class _H(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            rec = Recorded(
                self.command,
                self.path.split("?")[0],
                {k.lower(): v for k, v in self.headers.items()},
                self.rfile.read(length),
            )
            state.requests.append(rec)
            handler = state.routes.get((self.command, rec.path))
            status, headers, body = (
                handler(rec)
                if handler
                else (404, {"content-type": "application/json"}, b'{"error": {"message": "no route"}}')
            )
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _handle

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _H)
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


def png(size: tuple[int, int] = (8, 6), colour: str = "#cc3333", mode: str = "RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, colour).save(buf, "PNG")
    return buf.getvalue()


def chat_completion(content: str, model: str = "gpt-4o-mini") -> dict[str, Any]:
    """The documented shape of a Chat Completions answer."""
    return {
        "id": "chatcmpl-123",
        "object": "chat.completion",
        "created": 1700000000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19},
    }


def images_answer(data: bytes) -> dict[str, Any]:
    return {
        "created": 1700000000,
        "data": [{"b64_json": base64.b64encode(data).decode(), "revised_prompt": "a revised prompt"}],
    }


def anthropic_message(content: list[dict[str, Any]], model: str = "claude-sonnet-4-5") -> dict[str, Any]:
    return {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 20, "output_tokens": 9},
    }


# --------------------------------------------------------------------------- OpenAI-compatible


def test_openai_chat_sends_model_messages_and_bearer_key(protocol_server: ProtocolServer) -> None:
    protocol_server.json_route("POST", "/v1/chat/completions", chat_completion("Try a script font."))
    p = OpenAICompatProvider(
        "openai", api_key=OPENAI_KEY, base_url=protocol_server.url + "/v1", chat_model="gpt-4o-mini"
    )
    res = p.chat([ChatMessage("user", "Which font for a wedding mug?")], system="Be brief.", max_tokens=99)
    assert res.text == "Try a script font."
    assert res.usage == {"input_tokens": 12, "output_tokens": 7}
    (req,) = protocol_server.requests
    assert req.path == "/v1/chat/completions"
    assert req.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    body = req.json()
    assert body["model"] == "gpt-4o-mini"
    assert body["max_tokens"] == 99
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Which font for a wedding mug?"},
    ]


def test_openai_structured_uses_json_mode(protocol_server: ProtocolServer) -> None:
    plan = {"product_sku": "DEMO-MUG", "zone": "name", "text": "Léa"}
    protocol_server.json_route("POST", "/v1/chat/completions", chat_completion(json.dumps(plan)))
    p = OpenAICompatProvider(
        "groq", api_key="gsk_x", base_url=protocol_server.url + "/v1", chat_model="llama-3.3-70b-versatile"
    )
    schema = {"type": "object", "properties": {"text": {"type": "string"}}}
    assert p.structured([ChatMessage("user", "prénom Léa")], schema=schema, name="design_plan") == plan
    body = protocol_server.requests[0].json()
    assert body["response_format"] == {"type": "json_object"}
    assert body["model"] == "llama-3.3-70b-versatile"
    assert '"properties"' in body["messages"][0]["content"]


def test_openai_images_generate_b64(protocol_server: ProtocolServer) -> None:
    image = png()
    protocol_server.json_route("POST", "/v1/images/generations", images_answer(image))
    p = OpenAICompatProvider(
        "openai",
        api_key=OPENAI_KEY,
        base_url=protocol_server.url + "/v1",
        chat_model="gpt-4o-mini",
        image_model="dall-e-3",
    )
    out = p.generate_image("a fox", size=1024, palette=["#c9a227"])
    assert out.data == image and out.revised_prompt == "a revised prompt"
    req = protocol_server.requests[0]
    assert req.path == "/v1/images/generations"
    assert req.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    body = req.json()
    assert body["model"] == "dall-e-3" and body["response_format"] == "b64_json"
    assert body["size"] == "1024x1024" and body["n"] == 1 and body["prompt"].startswith("a fox")


def test_openai_error_is_mapped_without_provider_text(
    protocol_server: ProtocolServer, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    # OpenAI's documented 401 body echoes part of the key; it must not travel further.
    err = {
        "error": {
            "message": f"Incorrect API key provided: {OPENAI_KEY}.",
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_api_key",
        }
    }
    protocol_server.json_route("POST", "/v1/chat/completions", err, status=401)
    protocol_server.json_route(
        "POST", "/v1/images/generations", {"error": {"message": "boom", "type": "server_error"}}, status=500
    )
    p = OpenAICompatProvider(
        "openai",
        api_key=OPENAI_KEY,
        base_url=protocol_server.url + "/v1",
        chat_model="gpt-4o-mini",
        image_model="dall-e-3",
    )
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ProviderError) as e401:
        p.chat([ChatMessage("user", "hi")])
    assert e401.value.status == 401 and e401.value.code == "invalid_api_key" and not e401.value.retryable
    with pytest.raises(ProviderError) as e500:
        p.generate_image("x")
    assert e500.value.status == 500 and e500.value.retryable
    for text in (str(e401.value), str(e500.value), repr(p), caplog.text, *capfd.readouterr()):
        assert OPENAI_KEY not in text and "SECRET" not in text


# --------------------------------------------------------------------------- Anthropic


def test_anthropic_chat_messages_create(protocol_server: ProtocolServer) -> None:
    protocol_server.json_route(
        "POST", "/v1/messages", anthropic_message([{"type": "text", "text": "Gold suits it."}])
    )
    p = AnthropicProvider(api_key=ANTHROPIC_KEY, base_url=protocol_server.url, model="claude-sonnet-4-5")
    res = p.chat([ChatMessage("user", "Which colour?")], system="Be brief.", max_tokens=64)
    assert res.text == "Gold suits it." and res.usage == {"input_tokens": 20, "output_tokens": 9}
    req = protocol_server.requests[0]
    assert req.path == "/v1/messages"
    # The key travels as `x-api-key` (documented) or, in newer SDKs, as a bearer token.
    assert (
        req.headers.get("x-api-key") == ANTHROPIC_KEY
        or req.headers.get("authorization") == f"Bearer {ANTHROPIC_KEY}"
    )
    assert req.headers["anthropic-version"]
    body = req.json()
    assert body["model"] == "claude-sonnet-4-5" and body["max_tokens"] == 64
    assert body["system"] == "Be brief."
    assert body["messages"] == [{"role": "user", "content": "Which colour?"}]


def test_anthropic_structured_forces_tool_use(protocol_server: ProtocolServer) -> None:
    plan = {"product_sku": "DEMO-PENDANT", "zone": "arc_text", "text": "Emma", "font": "fnt_script"}
    protocol_server.json_route(
        "POST",
        "/v1/messages",
        anthropic_message([{"type": "tool_use", "id": "toolu_01", "name": "design_plan", "input": plan}]),
    )
    p = AnthropicProvider(api_key=ANTHROPIC_KEY, base_url=protocol_server.url, model="claude-sonnet-4-5")
    schema = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}
    assert (
        p.structured([ChatMessage("user", "gold script name Emma")], schema=schema, name="design_plan")
        == plan
    )
    body = protocol_server.requests[0].json()
    assert body["tool_choice"] == {"type": "tool", "name": "design_plan"}
    assert body["tools"][0]["name"] == "design_plan" and body["tools"][0]["input_schema"] == schema


def test_anthropic_overloaded_is_retryable(protocol_server: ProtocolServer) -> None:
    protocol_server.json_route(
        "POST",
        "/v1/messages",
        {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
        status=529,
    )
    p = AnthropicProvider(api_key=ANTHROPIC_KEY, base_url=protocol_server.url, model="m")
    with pytest.raises(ProviderError) as exc:
        p.chat([ChatMessage("user", "hi")])
    assert exc.value.retryable and exc.value.code == "overloaded_error"
    assert ANTHROPIC_KEY not in str(exc.value)


# --------------------------------------------------------------------------- Cloudinary


def _cloudinary(server: ProtocolServer, result: bytes) -> None:
    def upload(req: Recorded) -> tuple[int, dict[str, str], bytes]:
        form = req.form()
        params = {k: v.decode() for k, v in form.items() if k != "file"}
        ok = params.get("signature") == sign(params, CLOUD_SECRET) and params.get("api_key") == "123456"
        if not ok:
            return 401, {"content-type": "application/json"}, b'{"error": {"message": "Invalid Signature"}}'
        answer = {
            "public_id": "abc",
            "version": 1,
            "format": "png",
            "width": 16,
            "height": 12,
            "secure_url": f"{server.url}/demo/image/upload/v1/abc.png",
        }
        return 200, {"content-type": "application/json"}, json.dumps(answer).encode()

    server.route("POST", "/v1_1/demo/image/upload", upload)
    server.route(
        "GET", "/demo/image/upload/v1/abc.png", lambda _r: (200, {"content-type": "image/png"}, result)
    )


def test_cloudinary_upscale_signed_upload(protocol_server: ProtocolServer) -> None:
    result = png((16, 12))
    _cloudinary(protocol_server, result)
    cred = parse_cloudinary_url(f"cloudinary://123456:{CLOUD_SECRET}@demo")
    p = CloudinaryProvider(cred, api_base=protocol_server.url)
    out = p.upscale(png((8, 6)), 2, source_dpi=150)
    assert out.data == result and out.details["effective_dpi"] == 300
    upload, download = protocol_server.requests
    form = upload.form()
    assert upload.path == "/v1_1/demo/image/upload"
    assert form["transformation"] == b"e_upscale/c_scale,w_16"
    expected = hashlib.sha1(  # the documented algorithm, spelled out
        f"format=png&timestamp={form['timestamp'].decode()}&transformation=e_upscale/c_scale,w_16{CLOUD_SECRET}".encode()
    ).hexdigest()
    assert form["signature"].decode() == expected
    assert form["file"] == png((8, 6))
    assert CLOUD_SECRET.encode() not in upload.body
    assert download.path == "/demo/image/upload/v1/abc.png"
    assert CLOUD_SECRET not in repr(p) and CLOUD_SECRET not in repr(cred)


def test_cloudinary_background_removal(protocol_server: ProtocolServer) -> None:
    result = png((8, 6), "#00000000", "RGBA")
    _cloudinary(protocol_server, result)
    p = CloudinaryProvider(
        parse_cloudinary_url(f"cloudinary://123456:{CLOUD_SECRET}@demo"), api_base=protocol_server.url
    )
    assert p.remove_background(png()).data == result
    assert protocol_server.requests[0].form()["transformation"] == b"e_background_removal"


def test_cloudinary_refuses_foreign_result_url_and_maps_errors(protocol_server: ProtocolServer) -> None:
    protocol_server.json_route(
        "POST", "/v1_1/demo/image/upload", {"secure_url": "http://169.254.169.254/x.png"}
    )
    p = CloudinaryProvider(
        parse_cloudinary_url(f"cloudinary://123456:{CLOUD_SECRET}@demo"), api_base=protocol_server.url
    )
    with pytest.raises(ProviderError, match="not a Cloudinary URL"):
        p.remove_background(png())
    assert len(protocol_server.requests) == 1  # never fetched
    protocol_server.json_route("POST", "/v1_1/demo/image/upload", {"error": {"message": "x"}}, status=503)
    with pytest.raises(ProviderError) as exc:
        p.remove_background(png())
    assert exc.value.status == 503 and exc.value.retryable


def test_cloudinary_url_parsing() -> None:
    cred = parse_cloudinary_url("cloudinary://key:se%2Fcret@my-cloud")
    assert (cred.cloud_name, cred.api_key, cred.api_secret) == ("my-cloud", "key", "se/cret")
    with pytest.raises(ValueError) as exc:
        parse_cloudinary_url("https://key:topsecret@cloud")
    assert "topsecret" not in str(exc.value)
