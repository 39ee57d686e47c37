"""Hypothesis properties: canonical JSON and the rules engine."""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from luneo.design.canonical import canonicalize, spec_hash
from luneo.design.rules import validate_inputs
from luneo.design.spec import build_spec

from .spec_fixtures import asset_lookup, pendant, poster

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=25,
)
any_text = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=60)


def _reorder(v: Any, rnd: st.DataObject) -> Any:
    if isinstance(v, dict):
        keys = rnd.draw(st.permutations(list(v)))
        return {k: _reorder(v[k], rnd) for k in keys}
    if isinstance(v, list):
        return [_reorder(x, rnd) for x in v]
    return v


@SETTINGS
@given(json_values)
def test_canonicalize_is_idempotent(v: Any) -> None:
    once = canonicalize(v)
    assert canonicalize(json.loads(once)) == once


@SETTINGS
@given(json_values, st.data())
def test_canonical_bytes_ignore_key_order(v: Any, data: st.DataObject) -> None:
    assert canonicalize(_reorder(v, data)) == canonicalize(v)


@SETTINGS
@given(json_values, st.sampled_from([None, 0, 2, "\t"]), st.booleans())
def test_canonical_bytes_ignore_whitespace(v: Any, indent: Any, ascii_only: bool) -> None:
    text = json.dumps(
        v, indent=indent, ensure_ascii=ascii_only, separators=(" , ", " : ") if indent is None else None
    )
    assert canonicalize(json.loads(text)) == canonicalize(v)


@SETTINGS
@given(json_values, json_values)
def test_equal_values_equal_hashes(a: Any, b: Any) -> None:
    assert (spec_hash(a) == spec_hash(b)) == (canonicalize(a) == canonicalize(b))
    assert spec_hash(json.loads(json.dumps(a))) == spec_hash(a)


names = st.text(alphabet=st.sampled_from("abcdeéèëçñøAÉZ ïô"), min_size=1, max_size=14).filter(str.strip)


@SETTINGS
@given(names, st.sampled_from(["left", "center", "right"]), st.sampled_from(["#000000", "#C0A060"]))
def test_equal_specs_equal_hashes(name: str, align: str, colour: str) -> None:
    nfc = {"name": {"text": unicodedata.normalize("NFC", name), "align": align}, "metal": {"color": colour}}
    nfd = {
        "metal": {"color": colour.lower()},
        "name": {"align": align, "text": unicodedata.normalize("NFD", name)},
    }
    a = build_spec(pendant(), nfc, asset_lookup=asset_lookup)
    b = build_spec(pendant(), nfd, asset_lookup=asset_lookup)
    assert a.spec is not None, a.violations
    assert a.spec == b.spec
    assert a.spec_hash == b.spec_hash and a.canonical == b.canonical


@SETTINGS
@given(any_text, any_text)
def test_rules_never_raise_on_arbitrary_unicode(name: str, date: str) -> None:
    for product in (pendant(), poster()):
        res = validate_inputs(product, {"name": name, "date": {"text": date}, "caption": name})
        for v in res.violations + res.warnings:
            json.dumps(v.as_dict())  # violations are JSON-safe
            assert v.code and v.code == v.code.lower()


@SETTINGS
@given(
    st.dictionaries(
        st.sampled_from(["name", "date", "photo", "metal", "x"]) | st.text(max_size=5), json_values
    )
)
def test_rules_never_raise_on_arbitrary_json(inputs: dict[str, Any]) -> None:
    res = validate_inputs(pendant(), inputs, asset_lookup=asset_lookup)
    assert isinstance(res.violations, list)
    out = build_spec(pendant(), inputs, asset_lookup=asset_lookup)
    assert (out.spec is None) == bool(out.violations)


@SETTINGS
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "kind": st.sampled_from(["text", "image", "colour"]) | json_scalars,
            "text": any_text | json_scalars,
            "font": st.sampled_from(["fnt_sans", "fnt_script", "nope"]) | json_scalars,
            "size_pt": json_scalars,
            "color": st.sampled_from(["#000000", "#zzzzzz"]) | json_scalars,
            "align": st.sampled_from(["left", "center", "right"]) | json_scalars,
            "letter_spacing_em": json_scalars,
            "line_height": json_scalars,
            "asset_id": st.sampled_from(["ast_big", "ast_tiny", "nope"]) | json_scalars,
            "fit": json_scalars,
        },
    )
)
def test_rules_never_raise_on_malformed_zone_inputs(zone_input: dict[str, Any]) -> None:
    for key in ("name", "date", "photo", "metal"):
        res = validate_inputs(pendant(), {key: zone_input}, asset_lookup=asset_lookup)
        json.dumps([v.as_dict() for v in res.violations])
