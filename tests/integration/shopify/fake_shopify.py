"""A local fake Shopify speaking the documented token endpoint over real HTTP.

`POST /admin/oauth/access_token` (JSON) with `grant_type`:
- `urn:ietf:params:oauth:grant-type:token-exchange`: the `subject_token` must be an App Bridge id
  token (HS256 with the app secret, `aud` = client id); answers an expiring offline token;
- `refresh_token`: a known, unused refresh token (single use: a reused one is `invalid_grant`).
The SDK's requests arrive rebased by Luneo's transport, the shop's host in `X-Shopify-Shop`.
"""

from __future__ import annotations

import json
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


@dataclass
class FakeShopify:
    client_id: str
    client_secret: str
    expires_in: int = 3600
    refresh_expires_in: int = 90 * 24 * 3600
    refresh_delay_s: float = 0.0
    calls: list[dict[str, Any]] = field(default_factory=list)
    refresh_tokens: dict[str, bool] = field(default_factory=dict)  # token → used
    access_tokens: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Admin GraphQL (see the delimited part at the end of this file)
    graphql: FakeAdminGraphQL = field(default_factory=lambda: FakeAdminGraphQL())

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/admin/oauth/access_token", self.token, methods=["POST"]),
                Route("/admin/api/{version}/graphql.json", self.admin_graphql, methods=["POST"]),
            ]
        )

    async def admin_graphql(self, request: Request) -> JSONResponse:
        if request.headers.get("x-shopify-access-token", "") not in self.access_tokens:
            return JSONResponse({"errors": "[API] Invalid API key or access token"}, status_code=401)
        return self.graphql.answer(await request.json(), request.headers.get("x-shopify-shop", ""))

    def _issue(self, shop: str) -> dict[str, Any]:
        access, refresh = f"shpat_{secrets.token_hex(16)}", f"shprt_{secrets.token_hex(16)}"
        self.access_tokens.add(access)
        self.refresh_tokens[refresh] = False
        return {
            "access_token": access,
            "scope": "read_products,write_products",
            "expires_in": self.expires_in,
            "refresh_token": refresh,
            "refresh_token_expires_in": self.refresh_expires_in,
        }

    async def token(self, request: Request) -> JSONResponse:
        body = await request.json()
        shop = request.headers.get("x-shopify-shop", "")
        grant = body.get("grant_type")
        self.calls.append({"shop": shop, "grant_type": grant, "body": body})
        if body.get("client_id") != self.client_id or body.get("client_secret") != self.client_secret:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        if grant == "urn:ietf:params:oauth:grant-type:token-exchange":
            if body.get("requested_token_type") != "urn:shopify:params:oauth:token-type:offline-access-token":
                return JSONResponse({"error": "invalid_request"}, status_code=400)
            if body.get("expiring") != 1:
                return JSONResponse({"error": "invalid_request"}, status_code=400)
            try:
                claims = jwt.decode(
                    body.get("subject_token", ""),
                    self.client_secret,
                    algorithms=["HS256"],
                    audience=self.client_id,
                )
            except jwt.PyJWTError:
                return JSONResponse({"error": "invalid_subject_token"}, status_code=400)
            if not str(claims.get("dest", "")).endswith(shop):
                return JSONResponse({"error": "invalid_subject_token"}, status_code=400)
            return JSONResponse(self._issue(shop))
        if grant == "refresh_token":
            token = body.get("refresh_token", "")
            if self.refresh_delay_s:
                time.sleep(self.refresh_delay_s)  # widen the race window of concurrent refreshes
            with self.lock:
                used = self.refresh_tokens.get(token)
                if used is None or used:
                    return JSONResponse({"error": "invalid_grant"}, status_code=400)
                self.refresh_tokens[token] = True
            return JSONResponse(self._issue(shop))
        return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)

    def grants(self, grant_type: str) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["grant_type"] == grant_type]


class Server:
    """Run an ASGI app with uvicorn on a free local port in a thread."""

    def __init__(self, app: Any) -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake Shopify did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def session_token(
    client_id: str, secret: str, shop: str, *, sub: str = "42", exp_in: int = 60, aud: str | None = None
) -> str:
    """An App Bridge session token as Shopify issues it (HS256, iss/dest = the shop)."""
    now = int(time.time())
    claims = {
        "iss": f"https://{shop}/admin",
        "dest": f"https://{shop}",
        "aud": aud or client_id,
        "sub": sub,
        "exp": now + exp_in,
        "nbf": now - 5,
        "iat": now - 5,
        "jti": secrets.token_hex(8),
        "sid": secrets.token_hex(8),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


# =========================================================================== Admin GraphQL (part 1)
# `POST /admin/api/{version}/graphql.json` (access token in `X-Shopify-Access-Token`). Requests are
# dispatched on their operation name (`query LuneoProductsPage(...)` → `handlers["LuneoProductsPage"]`):
# each part of the suite adds its operations to `GRAPHQL_HANDLERS` (a handler is
# `fn(fake: FakeAdminGraphQL, variables: dict, shop: str) -> data`). Every answer carries Shopify's
# cost extension (`requestedQueryCost`, `actualQueryCost`, `throttleStatus`): the bucket holds
# `maximum` points, restores `restore_rate` per second of `clock` (tests share a virtual clock with
# the client's injected sleep), and a query costing more than what is available answers `THROTTLED`
# (as does the next query after `throttle_next()`).

GraphQLHandler = Callable[["FakeAdminGraphQL", dict[str, Any], str], dict[str, Any]]
GRAPHQL_HANDLERS: dict[str, GraphQLHandler] = {}
GRAPHQL_COSTS: dict[str, Callable[[dict[str, Any]], int]] = {}
_OPERATION = re.compile(r"\b(?:query|mutation)\s+([A-Za-z_][A-Za-z0-9_]*)")


class VirtualClock:
    """A clock that only moves when told to (`sleep` advances it)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class FakeAdminGraphQL:
    maximum: float = 1000.0
    restore_rate: float = 50.0
    clock: Callable[[], float] = time.monotonic
    available: float = 1000.0
    updated_at: float | None = None
    forced_throttles: int = 0
    calls: list[dict[str, Any]] = field(default_factory=list)
    handlers: dict[str, GraphQLHandler] = field(default_factory=lambda: GRAPHQL_HANDLERS)
    # shop state (part 1: products, functions, metafields)
    shop: dict[str, Any] = field(
        default_factory=lambda: {
            "name": "Alpha Store",
            "myshopifyDomain": "alpha-store.myshopify.com",
            "currencyCode": "EUR",
            "primaryDomain": {"url": "https://www.alpha.example", "host": "www.alpha.example"},
        }
    )
    products: list[dict[str, Any]] = field(default_factory=list)
    functions: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {
                "id": "gid://shopify/ShopifyFunction/ct-1",
                "title": "Luneo personalization pricing",
                "handle": "luneo-cart-transform",
                "apiType": "cart_transform",
                "app": {"title": "Luneo"},
            },
            {
                "id": "gid://shopify/ShopifyFunction/val-1",
                "title": "Luneo personalization required",
                "handle": "luneo-checkout-validation",
                "apiType": "cart_checkout_validation",
                "app": {"title": "Luneo"},
            },
        ]
    )
    cart_transforms: list[dict[str, Any]] = field(default_factory=list)
    validations: list[dict[str, Any]] = field(default_factory=list)
    metafields: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def throttle_next(self, times: int = 1) -> None:
        self.forced_throttles += times

    def operations(self) -> list[str]:
        return [c["operation"] for c in self.calls]

    def _bucket(self) -> float:
        now = self.clock()
        if self.updated_at is not None:
            self.available = min(self.maximum, self.available + (now - self.updated_at) * self.restore_rate)
        self.updated_at = now
        return self.available

    def _cost(self, status_available: float, requested: int, actual: int | None) -> dict[str, Any]:
        return {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": {
                    "maximumAvailable": self.maximum,
                    "currentlyAvailable": status_available,
                    "restoreRate": self.restore_rate,
                },
            }
        }

    def answer(self, body: dict[str, Any], shop: str) -> JSONResponse:
        query = str(body.get("query") or "")
        variables = dict(body.get("variables") or {})
        m = _OPERATION.search(query)
        operation = m.group(1) if m else ""
        with self.lock:
            cost_of = GRAPHQL_COSTS.get(operation)
            requested = int(cost_of(variables)) if cost_of else 10
            available = self._bucket()
            throttled = self.forced_throttles > 0 or requested > available + 1e-6
            self.calls.append(
                {
                    "operation": operation,
                    "variables": variables,
                    "shop": shop,
                    "throttled": throttled,
                    "at": self.clock(),
                }
            )
            if throttled:
                self.forced_throttles = max(0, self.forced_throttles - 1)
                errors = [
                    {
                        "message": "Throttled",
                        "extensions": {
                            "code": "THROTTLED",
                            "documentation": "https://shopify.dev/api/usage/rate-limits",
                        },
                    }
                ]
                return JSONResponse({"errors": errors, "extensions": self._cost(available, requested, None)})
            handler = self.handlers.get(operation)
            if handler is None:
                return JSONResponse({"errors": [{"message": f"unknown operation {operation!r}"}]})
            data = handler(self, variables, shop)
            self.available = available - requested
            return JSONResponse(
                {"data": data, "extensions": self._cost(self.available, requested, requested)}
            )

    # helpers for the tests
    def add_product(
        self, pid: int, title: str, *, variants: int = 1, tags: list[str] | None = None
    ) -> dict[str, Any]:
        node = {
            "id": f"gid://shopify/Product/{pid}",
            "title": title,
            "handle": title.lower().replace(" ", "-"),
            "status": "ACTIVE",
            "tags": tags or [],
            "featuredImage": {"url": f"https://cdn.shopify.example/{pid}.jpg", "altText": title},
            "variants": {
                "nodes": [
                    {
                        "id": f"gid://shopify/ProductVariant/{pid}{i}",
                        "title": f"V{i}",
                        "sku": f"SKU-{pid}-{i}",
                    }
                    for i in range(variants)
                ]
            },
        }
        self.products.append(node)
        return node

    def metafield(self, owner: str, namespace: str = "$app:luneo", key: str = "pricing") -> Any:
        mf = self.metafields.get((owner, namespace, key))
        return json.loads(mf["value"]) if mf else None


def _products_page(fake: FakeAdminGraphQL, variables: dict[str, Any], shop: str) -> dict[str, Any]:
    first, after = int(variables.get("first") or 50), variables.get("after")
    ordered = sorted(fake.products, key=lambda p: p["title"])
    start = int(after.removeprefix("cursor-")) if after else 0
    page = ordered[start : start + first]
    more = start + first < len(ordered)
    return {
        "products": {
            "nodes": page,
            "pageInfo": {"hasNextPage": more, "endCursor": f"cursor-{start + len(page)}" if page else None},
        }
    }


def _shop(fake: FakeAdminGraphQL, variables: dict[str, Any], shop: str) -> dict[str, Any]:
    return {"shop": fake.shop}


def _with_metafield(owner: dict[str, Any], fake: FakeAdminGraphQL) -> dict[str, Any]:
    mf = fake.metafields.get((owner["id"], "$app:luneo", "pricing"))
    return {**owner, "metafield": {"jsonValue": json.loads(mf["value"])} if mf else None}


def _pricing_state(fake: FakeAdminGraphQL, variables: dict[str, Any], shop: str) -> dict[str, Any]:
    personalization = [p for p in fake.products if "luneo-personalization" in p["tags"]][:1]
    return {
        "shop": {"currencyCode": fake.shop["currencyCode"]},
        "shopifyFunctions": {"nodes": fake.functions},
        "cartTransforms": {"nodes": [_with_metafield(c, fake) for c in fake.cart_transforms]},
        "validations": {"nodes": [_with_metafield(v, fake) for v in fake.validations]},
        "personalization": {"nodes": personalization},
    }


def _function_by_handle(fake: FakeAdminGraphQL, handle: str) -> dict[str, Any] | None:
    return next((f for f in fake.functions if f["handle"] == handle), None)


def _cart_transform_create(fake: FakeAdminGraphQL, variables: dict[str, Any], shop: str) -> dict[str, Any]:
    fn = _function_by_handle(fake, variables.get("functionHandle", ""))
    if fn is None:
        return {
            "cartTransformCreate": {
                "cartTransform": None,
                "userErrors": [{"field": ["functionHandle"], "message": "Function not found."}],
            }
        }
    node = {"id": f"gid://shopify/CartTransform/{len(fake.cart_transforms) + 1}", "functionId": fn["id"]}
    fake.cart_transforms.append(node)
    return {"cartTransformCreate": {"cartTransform": node, "userErrors": []}}


def _validation_create(fake: FakeAdminGraphQL, variables: dict[str, Any], shop: str) -> dict[str, Any]:
    spec = variables.get("validation") or {}
    fn = _function_by_handle(fake, spec.get("functionHandle", ""))
    if fn is None:
        return {
            "validationCreate": {
                "validation": None,
                "userErrors": [{"field": ["functionHandle"], "message": "Function not found."}],
            }
        }
    node = {
        "id": f"gid://shopify/Validation/{len(fake.validations) + 1}",
        "shopifyFunction": {"id": fn["id"]},
        "enabled": bool(spec.get("enable")),
        "blockOnFailure": bool(spec.get("blockOnFailure")),
    }
    fake.validations.append(node)
    return {"validationCreate": {"validation": {"id": node["id"]}, "userErrors": []}}


def _product_create(fake: FakeAdminGraphQL, variables: dict[str, Any], shop: str) -> dict[str, Any]:
    spec = variables.get("product") or {}
    pid = 900000 + len(fake.calls)  # unique: the calls only grow
    node = fake.add_product(pid, str(spec.get("title") or ""), tags=list(spec.get("tags") or []))
    return {"productCreate": {"product": {"id": node["id"], "variants": node["variants"]}, "userErrors": []}}


def _metafields_set(fake: FakeAdminGraphQL, variables: dict[str, Any], shop: str) -> dict[str, Any]:
    out, errors = [], []
    owners = {c["id"]: "CARTTRANSFORM" for c in fake.cart_transforms} | {
        v["id"]: "VALIDATION" for v in fake.validations
    }
    for i, mf in enumerate(variables.get("metafields") or []):
        if mf.get("ownerId") not in owners:
            errors.append({"field": ["metafields", str(i), "ownerId"], "message": "Owner does not exist."})
            continue
        try:
            json.loads(mf["value"])
        except ValueError:
            errors.append({"field": ["metafields", str(i), "value"], "message": "Value is invalid JSON."})
            continue
        fake.metafields[(mf["ownerId"], mf["namespace"], mf["key"])] = {
            "type": mf["type"],
            "value": mf["value"],
        }
        out.append(
            {"id": f"gid://shopify/Metafield/{len(fake.metafields)}", "ownerType": owners[mf["ownerId"]]}
        )
    if errors:
        return {"metafieldsSet": {"metafields": [], "userErrors": errors}}
    return {"metafieldsSet": {"metafields": out, "userErrors": []}}


GRAPHQL_HANDLERS.update(
    {
        "LuneoProductsPage": _products_page,
        "LuneoShop": _shop,
        "LuneoPricingState": _pricing_state,
        "LuneoCartTransformCreate": _cart_transform_create,
        "LuneoValidationCreate": _validation_create,
        "LuneoPersonalizationCreate": _product_create,
        "LuneoPricingSet": _metafields_set,
    }
)
# products(first: n) with variants(first: 50): Shopify's estimate grows with the page size
GRAPHQL_COSTS["LuneoProductsPage"] = lambda v: 2 + 3 * int(v.get("first") or 50)
GRAPHQL_COSTS["LuneoPricingState"] = lambda v: 40
# =========================================================================== end of Admin GraphQL (part 1)


# =========================================================================== orders write-back
# Admin GraphQL mutations on orders (issue 15 item 7, the orders tests): `metafieldsSet` on an
# Order owner, Shopify's cost extension on every answer and, on demand, THROTTLED answers.
# Mount `order_graphql_route(fake, orders)` before the other routes of the fake's app.


@dataclass
class FakeOrderMutations:
    """What the fake Shopify stored for orders: metafields by (owner gid, namespace, key)."""

    metafields: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    throttle_next: int = 0  # answer THROTTLED this many times before serving
    restore_rate: float = 100.0
    maximum: float = 2000.0

    def cost(self, requested: int, available: float, actual: int | None) -> dict[str, Any]:
        return {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": {
                    "maximumAvailable": self.maximum,
                    "currentlyAvailable": available,
                    "restoreRate": self.restore_rate,
                },
            }
        }

    def handle(self, query: str, variables: dict[str, Any]) -> dict[str, Any] | None:
        """The answer to an order mutation, or None when the query is not one of ours."""
        if "metafieldsSet" not in query:
            return None
        inputs = list(variables.get("metafields") or [])
        if not all(str(m.get("ownerId", "")).startswith("gid://shopify/Order/") for m in inputs):
            return None
        self.requests.append({"query": query, "variables": variables})
        requested = 10
        if self.throttle_next > 0:
            self.throttle_next -= 1
            return {
                "errors": [
                    {
                        "message": "Throttled",
                        "extensions": {
                            "code": "THROTTLED",
                            "documentation": "https://shopify.dev/api/usage/rate-limits",
                        },
                    }
                ],
                "extensions": self.cost(requested, 5.0, None),
            }
        set_, errors = [], []
        for i, m in enumerate(inputs):
            if m.get("type") != "json" or not m.get("key") or not m.get("namespace"):
                errors.append({"field": ["metafields", str(i)], "message": "invalid", "code": "INVALID"})
                continue
            try:
                json.loads(m.get("value") or "")
            except ValueError:
                errors.append(
                    {"field": ["metafields", str(i), "value"], "message": "not JSON", "code": "INVALID"}
                )
                continue
            key = (m["ownerId"], m["namespace"], m["key"])
            self.metafields[key] = dict(m)
            set_.append(
                {
                    "id": f"gid://shopify/Metafield/{len(self.metafields)}",
                    "namespace": m["namespace"],
                    "key": m["key"],
                }
            )
        return {
            "data": {"metafieldsSet": {"metafields": [] if errors else set_, "userErrors": errors}},
            "extensions": self.cost(requested, self.maximum - requested, requested),
        }

    def production(self, order_gid: str) -> dict[str, Any] | None:
        found = self.metafields.get((order_gid, "$app:luneo", "production"))
        return json.loads(found["value"]) if found else None


def order_graphql_route(fake: FakeShopify, orders: FakeOrderMutations) -> Route:
    """`POST /admin/api/{version}/graphql.json` for order mutations (401 on an unknown token)."""

    async def graphql(request: Request) -> JSONResponse:
        if request.headers.get("x-shopify-access-token", "") not in fake.access_tokens:
            return JSONResponse({"errors": "[API] Invalid API key or access token"}, status_code=401)
        body = await request.json()
        answer = orders.handle(str(body.get("query") or ""), dict(body.get("variables") or {}))
        if answer is None:  # not an order mutation: the fake's own Admin GraphQL answers it
            other = getattr(fake, "admin_graphql", None)
            if other is None:
                return JSONResponse(
                    {"errors": [{"message": "not served by the orders fake"}]}, status_code=400
                )
            response: JSONResponse = await other(request)
            return response
        return JSONResponse(answer)

    return Route("/admin/api/{version}/graphql.json", graphql, methods=["POST"])
