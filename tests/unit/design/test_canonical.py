"""RFC 8785 canonical JSON: official vectors and the spec hash."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from luneo.design.canonical import CanonicalizationError, canonicalize, spec_hash
from luneo.design.model import ColourInput, TextInput

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "jcs"
NAMES = sorted(p.stem for p in (VECTORS / "input").glob("*.json"))


def test_all_vectors_present() -> None:
    assert NAMES == ["arrays", "french", "structures", "unicode", "values", "weird"]


@pytest.mark.parametrize("name", NAMES)
def test_rfc8785_vector(name: str) -> None:
    data = json.loads((VECTORS / "input" / f"{name}.json").read_text(encoding="utf-8"))
    expected = (VECTORS / "output" / f"{name}.json").read_bytes()
    hexed = bytes.fromhex((VECTORS / "outhex" / f"{name}.txt").read_text().replace(" ", "").strip())
    assert expected == hexed
    assert canonicalize(data) == expected


def test_pydantic_models_dumped_as_json() -> None:
    obj = {"b": TextInput(text="Zoë", size_pt=12.0), "a": [ColourInput(color="#ffffff")], "c": (1, 2.5)}
    out = canonicalize(obj)
    assert out.startswith(b'{"a":[{"color":"#ffffff","kind":"colour"}],"b":{"align":"center"')
    assert b'"size_pt":12,' in out
    assert b'"c":[1,2.5]' in out
    assert "Zoë".encode() in out  # UTF-8, not \u escapes


def test_spec_hash_is_sha256_of_canonical_bytes() -> None:
    obj = {"z": 1, "a": [True, None, "x"]}
    assert spec_hash(obj) == hashlib.sha256(b'{"a":[true,null,"x"],"z":1}').hexdigest()


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), 2**60 + 1, 10**400, "\ud800"])
def test_values_without_canonical_form_raise(bad: object) -> None:
    with pytest.raises(CanonicalizationError):
        canonicalize({"v": bad})


def test_large_exact_integers_are_doubles() -> None:
    assert canonicalize(2**60) == canonicalize(float(2**60)) == b"1152921504606847000"
    assert canonicalize(1152921504606847000) == b"1152921504606847000"
    assert canonicalize(json.loads(canonicalize(2.0**53))) == canonicalize(2.0**53)
