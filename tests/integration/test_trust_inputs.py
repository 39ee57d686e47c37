"""Bad input is a 4xx problem, never a 500 (issue 11, item 15): lone surrogates in JSON bodies,
GLB models whose JSON nests without bound, and an OpenAPI document that declares what routes answer."""

from __future__ import annotations

import json
import struct
import time

import pytest

from tests.integration.commerce_helpers import SHOPPER
from tests.integration.demo import seed_catalog

API = "/api/v1"
LONE = "\ud800"  # a UTF-16 high surrogate with no low half: valid JSON escape, not a character


@pytest.fixture(autouse=True)
def _fresh_storage(settings):
    from luneo.platform.storage import set_storage

    set_storage(None)
    yield
    set_storage(None)


def _raw(client, method, path, body: object, headers: dict[str, str]):
    """Send `body` as ASCII JSON: Python's encoder writes a lone surrogate as the escape `\\ud800`."""
    data = json.dumps(body).encode("ascii")
    return client.request(method, path, content=data, headers={**headers, "Content-Type": "application/json"})


def _routes(pid: str) -> list[tuple[str, str, object, str]]:
    return [
        ("POST", "/personalization/normalize", {"texts": {LONE: "a"}}, "pk"),
        ("POST", "/personalization/normalize", {"texts": {"a": "x" + LONE}}, "pk"),
        ("PATCH", "/brand", {"settings": {LONE: 1}}, "token"),
        ("PATCH", "/brand", {"settings": {"theme": {"nested": [1, "b" + LONE]}}}, "token"),
        ("POST", "/brand/members", {"email": "new@member.example", "role": "viewer", "name": LONE}, "token"),
        ("POST", "/cart/add", {"product_id": pid, "quantity": 1, "metadata": {LONE: "x"}}, "sk"),
        (
            "POST",
            "/orders",
            {"items": [{"product_id": pid, "quantity": 1}], "metadata": {"gift": LONE}},
            "sk",
        ),
        ("POST", "/specs", {"product_id": pid, "inputs": {LONE: {"text": "x"}}}, "sk"),
        ("POST", "/specs/validate", {"product_id": pid, "inputs": {"arc_text": {"text": LONE}}}, "sk"),
        ("POST", "/webhooks/stripe", {"id": "evt_1", "type": LONE}, ""),
    ]


def test_a_lone_surrogate_anywhere_in_a_json_body_is_a_422_invalid_unicode_problem(client, brand_a):
    pid = seed_catalog(brand_a)["DEMO-PENDANT"]
    before = client.get(f"{API}/brand", headers=brand_a.h()).json()["settings"]
    for method, path, body, cred in _routes(pid):
        headers = brand_a.h(cred, **{"X-Shopper-Token": SHOPPER}) if cred else {}
        r = _raw(client, method, API + path, body, headers)
        assert r.status_code == 422, (method, path, r.status_code, r.text[:300])
        assert r.headers["content-type"].startswith("application/problem+json")
        problem = r.json()
        assert problem["code"] == "invalid_unicode", (path, problem)
        assert problem["status"] == 422
    # nothing was stored on the way
    assert client.get(f"{API}/brand", headers=brand_a.h()).json()["settings"] == before
    assert (
        client.get(f"{API}/cart", headers=brand_a.h("sk", **{"X-Shopper-Token": SHOPPER})).json()["items"]
        == []
    )


def test_surrogate_pairs_and_escaped_backslashes_are_ordinary_text(client, brand_a):
    # "\ud83d\ude00" is one character (😀) written as a UTF-16 pair; "\\ud800" is six plain characters.
    raw = b'{"texts": {"emoji": "\\ud83d\\ude00", "literal": "\\\\ud800", "\\ud83d\\ude00": "k"}}'
    r = client.post(
        f"{API}/personalization/normalize",
        content=raw,
        headers=brand_a.h("pk", **{"Content-Type": "application/json"}),
    )
    assert r.status_code == 200, r.text
    texts = r.json()["texts"]
    assert texts["emoji"] == "\U0001f600"
    assert texts["literal"] == "\\ud800"
    assert texts["\U0001f600"] == "k"


def test_malformed_json_stays_a_400_and_deep_json_is_bounded(client, brand_a):
    h = brand_a.h("pk", **{"Content-Type": "application/json"})
    r = client.post(f"{API}/personalization/normalize", content=b'{"texts": {"a": "\\ud800"', headers=h)
    assert r.status_code == 400, r.text
    deep = b'{"texts": ' + b"[" * 200_000 + b'"\\ud800"' + b"]" * 200_000 + b"}"
    # the login route's per-account rate limit reads the body before the handler does
    for path, headers in (
        ("/personalization/normalize", h),
        ("/auth/login", {"Content-Type": "application/json"}),
    ):
        start = time.perf_counter()
        r = client.post(API + path, content=deep, headers=headers)
        assert r.status_code in (400, 422), (path, r.text[:300])
        assert r.headers["content-type"].startswith("application/problem+json")
        assert time.perf_counter() - start < 5


# --------------------------------------------------------------------------- GLB


def _glb(json_chunk: bytes) -> bytes:
    json_chunk += b" " * (-len(json_chunk) % 4)
    body = struct.pack("<II", len(json_chunk), 0x4E4F534A) + json_chunk
    return struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body


def _nested_glb(depth: int) -> bytes:
    return _glb(b'{"asset": {"version": "2.0"}, "extras": ' + b"[" * depth + b"]" * depth + b"}")


@pytest.mark.parametrize("depth", [100_000, 200])
def test_a_glb_whose_json_nests_deeply_is_a_422_problem(client, brand_a, depth):
    start = time.perf_counter()
    r = client.post(
        f"{API}/assets",
        headers=brand_a.h(),
        data={"kind": "model"},
        files={"file": ("deep.glb", _nested_glb(depth), "model/gltf-binary")},
    )
    assert r.status_code == 422, r.text[:300]
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "model_corrupt"
    assert "nest" in r.json()["detail"]
    assert time.perf_counter() - start < 5
    assert client.get(f"{API}/assets", headers=brand_a.h(), params={"kind": "model"}).json()["data"] == []


def test_a_glb_with_ordinary_nesting_is_still_accepted(client, brand_a):
    doc = b'{"asset": {"version": "2.0", "extras": {"a": [{"b": [1, 2, {"c": {}}]}]}}, "extras": [[[[1]]]]}'
    r = client.post(
        f"{API}/assets",
        headers=brand_a.h(),
        data={"kind": "model"},
        files={"file": ("ok.glb", _glb(doc), "model/gltf-binary")},
    )
    assert r.status_code == 201, r.text


# --------------------------------------------------------------------------- OpenAPI

COMMON = {"400", "401", "403", "404", "409", "413", "422", "429"}


def test_openapi_declares_problem_responses_and_the_bearer_scheme(client):
    doc = client.get(f"{API}/openapi.json").json()
    schemes = doc["components"]["securitySchemes"]
    assert {"type": "http", "scheme": "bearer"}.items() <= schemes["HTTPBearer"].items()
    problem = doc["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "code"} <= set(problem["required"])
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    operations = [(p, m, op) for p, ops in doc["paths"].items() for m, op in ops.items()]
    assert len(operations) > 50
    public = set()
    for path, method, op in operations:
        responses = op["responses"]
        assert set(responses) >= COMMON, (method, path, sorted(responses))
        for status, answer in responses.items():
            if status.startswith(("4", "5")):
                content = answer["content"]
                assert list(content) == ["application/problem+json"], (method, path, status)
                assert content["application/problem+json"]["schema"] == {
                    "$ref": "#/components/schemas/Problem"
                }
        security = op["security"]
        if security == [] or {} in security:  # public, or a bearer is optional (`[{}, …]`)
            public.add((method, path))
        assert security in ([], [{"HTTPBearer": []}], [{}, {"HTTPBearer": []}]), (method, path, security)
    assert ("post", f"{API}/auth/login") in public
    assert ("post", f"{API}/webhooks/stripe") in public
    assert ("get", f"{API}/products") not in public
    # route-specific answers are declared too
    assert "415" in doc["paths"][f"{API}/assets"]["post"]["responses"]
    assert "402" in doc["paths"][f"{API}/ai/generate"]["post"]["responses"]
    docs = client.get("/docs")
    assert docs.status_code == 200
