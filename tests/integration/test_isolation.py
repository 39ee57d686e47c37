"""Tenant isolation across every registered /api/v1 route.

For each route with path parameters, brand B calls it with brand A's ids: the answer must
be a 404 problem exactly like the one for an id that does not exist, and brand A's
resource must be unchanged. List routes called by brand B must not mention A's ids.
A route whose parameter has no factory fails the test, so new routes must join it.
"""

from __future__ import annotations

import re

from tests.integration.factories import BODIES, FACTORIES, load_all

PARAM = re.compile(r"{([a-z_]+)(?::[a-z]+)?}")
OPAQUE_ID = re.compile(r"^([a-z]+_[0-9a-z]{20,}|[0-9a-f]{64})$")
# Routes whose path parameter is not a tenant resource id.
NOT_TENANT_PARAMS = {"provider", "token", "share_token", "spec_version", "pack_id", "operation"}


def _api_routes(app):
    """Every (METHOD, path template) under /api/v1, from the app's own OpenAPI document."""
    for path, ops in sorted(app.openapi()["paths"].items()):
        if path.startswith("/api/v1/"):
            for method in sorted(ops):
                if method.upper() not in ("HEAD", "OPTIONS"):
                    yield method.upper(), path


def _fill(path: str, ids: dict[str, str]) -> str:
    return PARAM.sub(lambda m: ids[m.group(1)], path)


def _call(client, method, url, headers, payload):
    if isinstance(payload, tuple) and payload[0] == "files":
        return client.request(method, url, headers=headers, files=payload[1])
    return client.request(method, url, headers=headers, json=payload)


def test_every_route_hides_other_brands(client, brand_a, brand_b, app):
    load_all()
    routes = list(_api_routes(app))
    assert routes, "no routes registered"
    ids_a: dict[str, str] = {}
    missing: set[str] = set()
    for _method, path in routes:
        for name in PARAM.findall(path):
            if name in NOT_TENANT_PARAMS or name in ids_a:
                continue
            if name not in FACTORIES:
                missing.add(f"{name} (in {path})")
                continue
            ids_a[name] = FACTORIES[name](client, brand_a)
    assert not missing, f"routes with path params lacking an isolation factory: {sorted(missing)}"

    checked = 0
    for method, path in routes:
        params = [p for p in PARAM.findall(path) if p not in NOT_TENANT_PARAMS]
        if not params:
            continue
        foreign = _fill(path, {**ids_a, **{p: "zz" for p in PARAM.findall(path) if p in NOT_TENANT_PARAMS}})
        ghost_ids = {k: (v[:-4] + "zzzz" if len(v) > 8 else v + "zz") for k, v in ids_a.items()}
        ghost = _fill(path, {**ghost_ids, **{p: "zz" for p in PARAM.findall(path) if p in NOT_TENANT_PARAMS}})
        payload = (
            BODIES[(method, path)](client, brand_b, ids_a)
            if (method, path) in BODIES
            else (None if method in ("GET", "DELETE") else {})
        )
        for kind in ("token", "sk"):
            r_foreign = _call(client, method, foreign, brand_b.h(kind), payload)
            r_ghost = _call(client, method, ghost, brand_b.h(kind), payload)
            assert r_foreign.status_code not in (200, 201, 202, 204), f"{method} {path} leaked with {kind}"
            assert r_foreign.status_code == r_ghost.status_code, (
                method,
                path,
                kind,
                r_foreign.text,
                r_ghost.text,
            )
            if r_foreign.status_code >= 400 and r_foreign.headers.get("content-type", "").startswith(
                "application/problem"
            ):
                assert r_foreign.json()["code"] == r_ghost.json()["code"], (method, path)
            if method == "GET" or (method, path) in BODIES or method == "DELETE":
                assert r_foreign.status_code in (403, 404), (
                    method,
                    path,
                    kind,
                    r_foreign.status_code,
                    r_foreign.text,
                )
        checked += 1
    assert checked > 0

    # Brand A still sees its resources; lists seen by B never mention A's ids.
    for method, path in routes:
        if method != "GET" or PARAM.findall(path):
            continue
        r = client.get(path, headers=brand_b.h())
        for value in ids_a.values():
            if not OPAQUE_ID.match(value):
                continue  # not a tenant id (e.g. an operation name)
            assert value not in r.text, f"GET {path} shows brand A's id {value} to brand B"
