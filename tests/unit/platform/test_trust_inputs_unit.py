"""Pure pieces of the bad-input defences: lone-surrogate detection, problem rendering, GLB JSON."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from luneo.design.models3d import MAX_GLTF_JSON_DEPTH, json_depth, load_gltf_json
from luneo.platform.errors import Problem, problem_response
from luneo.platform.jsonbody import lone_surrogate_location


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (b'{"a": "\\ud800"}', "/a"),
        (b'{"a": {"b": ["ok", "x\\uDFFFy"]}}', "/a/b/1"),
        (b'{"\\udc00": 1}', "/\ufffd"),
        (b'["\\ud83d"]', "/0"),  # high half alone
        (b'"\\ude00\\ud83d"', ""),  # halves in the wrong order
        (b'{"a/b~": "\\ud800"}', "/a~1b~0"),
    ],
)
def test_lone_surrogates_are_found_with_a_pointer(body, where):
    found = lone_surrogate_location(body)
    assert found is not None
    assert found.replace("\ud800", "\ufffd").replace("\udc00", "\ufffd") == where


@pytest.mark.parametrize(
    "body",
    [
        b'{"a": "\\ud83d\\ude00"}',  # a pair is one character
        b'{"a": "\\\\ud800"}',  # an escaped backslash, then plain text
        b'{"a": "\\ud800"',  # not JSON: the route answers 400 malformed_json
        b"[" * 100_000,
        b'{"caf\\u00e9": "\\u2603"}',
    ],
)
def test_no_lone_surrogate_reported(body):
    assert lone_surrogate_location(body) is None


@given(st.recursive(st.text() | st.integers(), lambda c: st.lists(c) | st.dictionaries(st.text(), c)))
def test_any_encodable_document_passes(doc):
    # Hypothesis text may hold surrogates: the check must flag exactly the documents UTF-8 refuses.
    body = json.dumps(doc).encode("ascii")
    try:
        json.dumps(doc, ensure_ascii=False).encode("utf-8")
        encodable = True
    except UnicodeEncodeError:
        encodable = False
    assert (lone_surrogate_location(body) is None) == encodable


def test_a_problem_echoing_a_lone_surrogate_still_renders():
    response = problem_response(Problem(422, "design_invalid", "bad", zone="x\ud800"))
    assert response.status_code == 422
    assert json.loads(response.body)["zone"] == "x\ud800"


def test_gltf_json_depth_is_bounded_and_counted_without_recursion():
    assert json_depth({"a": [1, {"b": []}]}) == 4
    deep: list = []
    for _ in range(50_000):  # deeper than any recursive walk could go
        deep = [deep]
    assert json_depth(deep) == 50_001
    ok = b'{"asset": {"version": "2.0"}, "extras": ' + b"[" * 60 + b"]" * 60 + b"}"
    assert load_gltf_json(ok)["asset"] == {"version": "2.0"}
    for depth in (MAX_GLTF_JSON_DEPTH + 1, 1_000_000):
        with pytest.raises(ValueError, match="nests deeper"):
            load_gltf_json(b'{"x": ' + b"[" * depth + b"]" * depth + b"}")
    for bad, message in ((b"\xff{}", "not UTF-8"), (b"{", "not valid JSON"), (b"[]", "not an object")):
        with pytest.raises(ValueError, match=message):
            load_gltf_json(bad)


def test_unpacking_a_deep_glb_for_rendering_is_a_value_error():
    import struct

    from luneo.design.writers.gltf import unpack_glb

    chunk = b'{"asset": {"version": "2.0"}, "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    chunk += b" " * (-len(chunk) % 4)
    glb = (
        struct.pack("<4sII", b"glTF", 2, 20 + len(chunk)) + struct.pack("<II", len(chunk), 0x4E4F534A) + chunk
    )
    with pytest.raises(ValueError, match="nests deeper"):
        unpack_glb(glb)
