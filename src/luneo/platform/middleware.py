"""Request pipeline: trusted proxy headers, request id + access log + metrics, body limits,
CORS for widget traffic, and the early credential check shared by rate limits and idempotency."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import anyio
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

if TYPE_CHECKING:
    from luneo.platform.auth import Principal

log = structlog.get_logger("luneo.http")
API_PREFIX = "/api/v1"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _trusted(addr: ipaddress.IPv4Address | ipaddress.IPv6Address | None, networks: Sequence[Network]) -> bool:
    return addr is not None and any(addr in net for net in networks)


def resolve_client_ip(peer: str, forwarded_for: str | None, networks: Sequence[Network]) -> str:
    """The client's IP: the peer's, unless the peer is a trusted proxy; then the right-most
    `X-Forwarded-For` hop that is not itself a trusted proxy (the left part is client-written
    and never believed). A malformed hop stops the walk at the last trusted one."""
    if not networks or not forwarded_for or not _trusted(_ip(peer), networks):
        return peer
    current = peer
    for hop in reversed(forwarded_for.split(",")):
        addr = _ip(hop)
        if addr is None:
            return current
        current = str(addr)
        if not _trusted(addr, networks):
            return current
    return current


def client_ip(scope: Scope) -> str:
    """The request's client IP as resolved by `ProxyHeadersMiddleware` (else the peer)."""
    return str((scope.get("client") or ("unknown", 0))[0])


class ProxyHeadersMiddleware:
    """Believe `X-Forwarded-For` / `X-Forwarded-Proto` only from `LUNEO_TRUSTED_PROXIES`.

    Outermost layer: rewrites `scope["client"]` (and `scheme`) so rate limits, logs and routes
    all see the same client. Untrusted peers — local ones included — keep their own address.
    (`luneo serve` turns uvicorn's own proxy-header handling off so this is the only one.)
    """

    def __init__(self, app: ASGIApp, *, trusted: Sequence[Network]) -> None:
        self.app, self.trusted = app, tuple(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self.trusted:
            peer = client_ip(scope)
            if _trusted(_ip(peer), self.trusted):
                resolved = resolve_client_ip(peer, header(scope, b"x-forwarded-for"), self.trusted)
                port = (scope.get("client") or ("", 0))[1]
                scope["client"] = (resolved, port)
                proto = (header(scope, b"x-forwarded-proto") or "").strip().lower()
                if proto in ("http", "https") and scope["type"] == "http":
                    scope["scheme"] = proto
        await self.app(scope, receive, send)


async def verified_principal(scope: Scope) -> Principal | None:
    """The caller behind `Authorization`, fully verified (signature, revocation, membership),
    or None when absent or invalid. The result is kept in the request state, so the route's own
    `authenticate` reuses it; a failure is left for the route to answer (401/403)."""
    state = scope.setdefault("state", {})
    cached = state.get("principal")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    from starlette.requests import Request

    from luneo.platform.auth import authenticate, cached_principal
    from luneo.platform.domain_errors import DomainError
    from luneo.platform.errors import Problem

    request = Request(scope)
    fast = cached_principal(request)  # an API key seen in the last seconds: no thread hop
    if fast is not None:
        return fast

    def verify() -> Principal | None:
        try:
            return authenticate(request)
        except (Problem, DomainError):  # refused credentials (e.g. an IdP link): no principal
            return None
        except Exception as exc:  # e.g. the database is down: the route answers for itself
            log.warning("credential_check_failed", error=type(exc).__name__)
            return None

    return await anyio.to_thread.run_sync(verify)


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
        started = [False]

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                started[0] = True
                status_holder[0] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            # The database or Redis is down and a middleware (idempotency, auth lookup, …)
            # raised before any route handler could answer: a 503 problem, never a 500.
            from luneo.platform.errors import is_outage, service_unavailable

            if not is_outage(exc) or started[0]:
                raise
            problem = service_unavailable(exc)
            await send_problem(
                send_wrapper,
                problem.status,
                problem.code,
                problem.detail or problem.code,
                headers=problem.headers,
                request_id=rid,
            )
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
    """CORS per brand. A request with a credential gets CORS headers only when its Origin is one
    of that credential's brand (the key's and the brand's allowed origins; operator JWTs: none,
    the dashboard is same-origin). A request without one — and a preflight, which browsers send
    without credentials — gets them when some brand lists the Origin. So brand A's site can
    never read responses made with brand B's keys."""

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

        credentialed = header(scope, b"authorization") is not None

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                allowed = True
                if credentialed:
                    principal = scope.get("state", {}).get("principal")
                    allowed = principal is not None and origin in principal.allowed_origins
                extra = cors if allowed else [(b"vary", b"Origin")]
                own = message.get("headers", [])
                if any(k.lower() == b"access-control-allow-origin" for k, _ in own):
                    extra = [(b"vary", b"Origin")]  # a public file's own `*`: never a second value
                message["headers"] = [*own, *extra]
            await send(message)

        await self.app(scope, receive, send_wrapper)
