"""A local server speaking the part of Printful's API v2 that Luneo calls, with its documented
shapes: `{"data": …}` answers, problem-document errors, `Retry-After` on 429, `@<external_id>`
order references, draft → pending on confirmation, webhook registration returning a hex
`secret_key`. Failures can be queued per route (`fail`)."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

TOKEN = "pf-test-token-0123456789"
STORE_ID = "4242"


def problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"type": "about:blank", "status": status, "title": title, "detail": detail, "instance": ""}
    return JSONResponse(body, status_code=status, headers=headers, media_type="application/problem+json")


class FakePrintful:
    def __init__(self) -> None:
        self.orders: dict[int, dict[str, Any]] = {}
        self.calls: list[tuple[str, str]] = []
        self.failures: dict[str, list[JSONResponse]] = {}
        self.webhook: dict[str, Any] | None = None
        self._next = 100_000_001

    def fail(self, route: str, response: JSONResponse) -> None:
        """Answer the next call of `route` ("create", "get", "confirm", "webhooks") with `response`."""
        self.failures.setdefault(route, []).append(response)

    def _injected(self, route: str) -> JSONResponse | None:
        queue = self.failures.get(route) or []
        return queue.pop(0) if queue else None

    def _auth(self, request: Request) -> JSONResponse | None:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return problem(401, "Unauthorized", "Malformed or invalid token.")
        if request.headers.get("x-pf-store-id") != STORE_ID:
            return problem(400, "Bad Request", "This token needs X-PF-Store-Id.")
        return None

    def _find(self, ref: str) -> dict[str, Any] | None:
        if ref.startswith("@"):
            return next((o for o in self.orders.values() if o["external_id"] == ref[1:]), None)
        return self.orders.get(int(ref)) if ref.isdigit() else None

    async def create(self, request: Request) -> JSONResponse:
        self.calls.append(("POST", "/v2/orders"))
        if (bad := self._auth(request)) or (bad := self._injected("create")):
            return bad
        body = await request.json()
        recipient = body.get("recipient") or {}
        missing = [f for f in ("name", "address1", "city", "country_code", "zip") if not recipient.get(f)]
        if missing:
            return problem(400, "Bad Request", f"Recipient is missing {', '.join(missing)}.")
        items = body.get("order_items") or []
        if not items:
            return problem(400, "Bad Request", "An order needs at least one item.")
        for item in items:
            if item.get("source") != "catalog" or not isinstance(item.get("catalog_variant_id"), int):
                return problem(400, "Bad Request", "Items need source catalog and catalog_variant_id.")
            for placement in item.get("placements") or []:
                layers = placement.get("layers") or []
                if not placement.get("placement") or not placement.get("technique") or not layers:
                    return problem(400, "Bad Request", "A placement needs placement, technique and layers.")
                if any(layer.get("type") != "file" or not layer.get("url") for layer in layers):
                    return problem(400, "Bad Request", "A layer needs type file and url.")
        if body.get("external_id") and self._find("@" + str(body["external_id"])):
            return problem(409, "Conflict", "An order with this external ID already exists.")
        oid = self._next
        self._next += 1
        order = {
            "id": oid,
            "external_id": body.get("external_id"),
            "status": "draft",
            "store_id": int(STORE_ID),
            "shipping": body.get("shipping"),
            "recipient": recipient,
            "order_items": items,
        }
        self.orders[oid] = order
        return JSONResponse(
            {"data": order, "_links": {"self": {"href": f"/v2/orders/{oid}"}}}, status_code=201
        )

    async def get(self, request: Request) -> JSONResponse:
        ref = request.path_params["ref"]
        self.calls.append(("GET", f"/v2/orders/{ref}"))
        if (bad := self._auth(request)) or (bad := self._injected("get")):
            return bad
        order = self._find(ref)
        if order is None:
            return problem(404, "Not Found", "Order not found.")
        return JSONResponse({"data": order})

    async def confirm(self, request: Request) -> JSONResponse:
        ref = request.path_params["ref"]
        self.calls.append(("POST", f"/v2/orders/{ref}/confirmation"))
        if (bad := self._auth(request)) or (bad := self._injected("confirm")):
            return bad
        order = self._find(ref)
        if order is None:
            return problem(404, "Not Found", "Order not found.")
        if order["status"] != "draft":
            return problem(409, "Conflict", "Only draft orders can be confirmed.")
        order["status"] = "pending"
        return JSONResponse({"data": order})

    async def webhooks(self, request: Request) -> JSONResponse:
        self.calls.append(("POST", "/v2/webhooks"))
        if (bad := self._auth(request)) or (bad := self._injected("webhooks")):
            return bad
        body = await request.json()
        self.webhook = {
            "default_url": body["default_url"],
            "events": body.get("events") or [],
            "public_key": secrets.token_urlsafe(16),
            "secret_key": secrets.token_hex(32),
        }
        return JSONResponse({"data": self.webhook})

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v2/orders", self.create, methods=["POST"]),
                Route("/v2/orders/{ref}", self.get, methods=["GET"]),
                Route("/v2/orders/{ref}/confirmation", self.confirm, methods=["POST"]),
                Route("/v2/webhooks", self.webhooks, methods=["POST"]),
            ]
        )

    def signed_event(self, event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        """A webhook event as Printful sends it: raw JSON and `X-PF-Webhook-Signature`."""
        assert self.webhook is not None, "register the webhook first"
        raw = json.dumps(event).encode()
        sig = hmac.new(bytes.fromhex(self.webhook["secret_key"]), raw, hashlib.sha256).hexdigest()
        return raw, {
            "Content-Type": "application/json",
            "X-PF-Webhook-Signature": sig,
            "X-PF-Webhook-Public-Key": self.webhook["public_key"],
        }
