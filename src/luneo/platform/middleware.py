"""Request pipeline: request id + access log + metrics, body limits, CORS for widget traffic."""

from __future__ import annotations

import time
from typing import Any

import structlog

from luneo.platform.asgi import (
    ASGIApp,
    Message,
    Receive,
    Scope,
    Send,
    header,
    read_body,
    replay_receive,
    send_problem,
)
from luneo.platform.context import new_request_id, request_id_var
from luneo.platform.metrics import HTTP_LATENCY

log = structlog.get_logger("luneo.http")
API_PREFIX = "/api/v1"


class RequestContextMiddleware:
    """Accept or generate `X-Request-ID`, echo it, log one line per request, observe latency."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = header(scope, b"x-request-id")
        rid = incoming if incoming and len(incoming) <= 128 and incoming.isprintable() else new_request_id()
        token = request_id_var.set(rid)
        scope.setdefault("state", {})["request_id"] = rid
        start = time.perf_counter()
        status_holder = [500]

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder[0] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            if (
                scope["path"].startswith(API_PREFIX)
                and not template.startswith(API_PREFIX)
                and route is not None
            ):
                template = API_PREFIX + template  # routers are included under the API prefix
            HTTP_LATENCY.labels(scope["method"], template, str(status_holder[0])).observe(elapsed)
            if template not in ("/metrics", "/healthz"):
                log.info(
                    "request",
                    method=scope["method"],
                    path=scope["path"],
                    route=template,
                    status=status_holder[0],
                    duration_ms=round(elapsed * 1000, 2),
                )
            request_id_var.reset(token)


class BodyLimitMiddleware:
    """Reject bodies over the limit with 413 before any handler reads them."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, max_json_bytes: int) -> None:
        self.app, self.max_bytes, self.max_json_bytes = app, max_bytes, max_json_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        ctype = (header(scope, b"content-type") or "").lower()
        limit = self.max_bytes if ctype.startswith("multipart/") else self.max_json_bytes
        length = header(scope, b"content-length")
        rid = scope.get("state", {}).get("request_id")
        if length is not None:
            try:
                too_big = int(length) > limit
            except ValueError:
                await send_problem(send, 400, "bad_request", "Invalid Content-Length.", request_id=rid)
                return
            if too_big:
                await send_problem(
                    send, 413, "payload_too_large", f"The body exceeds {limit} bytes.", request_id=rid
                )
                return
        body = await read_body(receive, limit)
        if body is None:
            await send_problem(
                send, 413, "payload_too_large", f"The body exceeds {limit} bytes.", request_id=rid
            )
            return
        scope.setdefault("state", {})["raw_body"] = body
        await self.app(scope, replay_receive(body), send)


class DynamicCorsMiddleware:
    """CORS for the widget: an Origin is allowed when some brand lists it (its `pk_` keys then
    check the Origin belongs to their own brand). Preflights are answered here."""

    ALLOW_HEADERS = "authorization, content-type, idempotency-key, x-request-id, x-brand-id, x-shopper-token"
    ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"

    def __init__(self, app: ASGIApp, origins_provider: Any) -> None:
        self.app = app
        self.origins_provider = origins_provider

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        origin = header(scope, b"origin") if scope["type"] == "http" else None
        if not origin or not self.origins_provider(origin):
            await self.app(scope, receive, send)
            return
        cors = [
            (b"access-control-allow-origin", origin.encode()),
            (b"vary", b"Origin"),
            (b"access-control-expose-headers", b"x-request-id, etag, retry-after"),
        ]
        if scope["method"] == "OPTIONS" and header(scope, b"access-control-request-method"):
            headers = [
                *cors,
                (b"access-control-allow-methods", self.ALLOW_METHODS.encode()),
                (b"access-control-allow-headers", self.ALLOW_HEADERS.encode()),
                (b"access-control-max-age", b"600"),
                (b"content-length", b"0"),
            ]
            await send({"type": "http.response.start", "status": 204, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *cors]
            await send(message)

        await self.app(scope, receive, send_wrapper)
