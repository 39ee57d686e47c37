"""Request bodies that no layer can store or print: lone UTF-16 surrogates in JSON.

JSON may write any UTF-16 code unit as an escape, so `"\\ud800"` is valid JSON whose decoded
string holds half a character. Python accepts it; UTF-8 encoders, PostgreSQL `jsonb`, SQLite
text, canonical JSON and the response writer all refuse it later, mid-request (a 500, or a row
that cannot be read back). This layer refuses such a body once, for every route, before any
handler runs: 422 `invalid_unicode` naming where the bad string is.
"""

from __future__ import annotations

import json
import re
from typing import Any

from luneo.platform.asgi import ASGIApp, Receive, Scope, Send, header, read_body, replay_receive, send_problem

# An escape of a UTF-16 surrogate (\uD800–\uDFFF). Bodies without one cannot hold a lone surrogate:
# raw surrogate bytes are not UTF-8 and are refused by the JSON decoder as malformed.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE = re.compile("[\ud800-\udfff]")
_FORM_TYPES = ("multipart/", "application/x-www-form-urlencoded")
_MAX_LOCATION = 120


def lone_surrogate_location(body: bytes) -> str | None:
    """Where a decoded JSON `body` holds a lone surrogate (a JSON Pointer, `""` for the root), or
    None when it holds none or is not JSON at all (the route then answers its own 400)."""
    if not _SURROGATE_ESCAPE.search(body):
        return None
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        return None
    # Iterative walk: a body may nest as deep as the decoder allowed.
    stack: list[tuple[Any, str]] = [(doc, "")]
    while stack:
        value, pointer = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return pointer
        elif isinstance(value, dict):
            for key, item in value.items():
                escaped = key.replace("~", "~0").replace("/", "~1")
                if _SURROGATE.search(key):
                    return f"{pointer}/{escaped}"
                stack.append((item, f"{pointer}/{escaped}"))
        elif isinstance(value, list):
            stack.extend((item, f"{pointer}/{i}") for i, item in enumerate(value))
    return None


def _printable(pointer: str) -> str:
    text = _SURROGATE.sub("\ufffd", pointer)
    return text if len(text) <= _MAX_LOCATION else text[: _MAX_LOCATION - 1] + "…"


class JsonUnicodeMiddleware:
    """Refuse JSON bodies holding a lone surrogate (in any key or value) with 422 `invalid_unicode`.

    Applies to every body except forms and multipart (decoded by Starlette, which cannot produce
    surrogates), whatever its declared type: FastAPI parses a body without a content type as JSON,
    and raw-body routes (webhooks) parse JSON themselves.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        ctype = (header(scope, b"content-type") or "").lower()
        if ctype.startswith(_FORM_TYPES):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        body = state.get("raw_body")
        if body is None:
            body = await read_body(receive, self.max_bytes)
            if body is None:
                await send_problem(
                    send,
                    413,
                    "payload_too_large",
                    f"The body exceeds {self.max_bytes} bytes.",
                    request_id=state.get("request_id"),
                )
                return
            state["raw_body"] = body
            receive = replay_receive(body)
        location = lone_surrogate_location(body)
        if location is not None:
            await send_problem(
                send,
                422,
                "invalid_unicode",
                "The body holds a lone UTF-16 surrogate (an unpaired \\uD800–\\uDFFF escape), "
                "which is not a character.",
                request_id=state.get("request_id"),
                pointer=_printable(location),
            )
            return
        await self.app(scope, receive, send)
