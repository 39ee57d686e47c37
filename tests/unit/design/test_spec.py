"""build_spec and the DesignSpec JSON Schema."""

from __future__ import annotations

import json

import jsonschema
import pytest

from luneo.design.canonical import canonicalize, spec_hash
from luneo.design.fonts import font_bytes
from luneo.design.model import DesignSpec, ImageInput, TextInput
from luneo.design.spec import SCHEMA_ID, build_spec, spec_json_schema

from .spec_fixtures import GOOD_INPUTS, asset_lookup, pendant, poster


def test_build_fills_defaults_and_pins_hashes() -> None:
    res = build_spec(pendant(), GOOD_INPUTS, asset_lookup=asset_lookup)
    assert res.spec is not None, res.violations
    name = res.spec.inputs["name"]
    assert isinstance(name, TextInput)
    assert name.font == "fnt_script"
    assert name.font_sha256 == "38178945aaefdea573f4998d8b984985aaebb95964da337b23e77e682d7d3d17"
    assert name.color == "#000000" and name.size_pt == res.sizes["name"]
    date = res.spec.inputs["date"]
    assert isinstance(date, TextInput) and date.font == "fnt_sans" and date.size_pt
    photo = res.spec.inputs["photo"]
    assert isinstance(photo, ImageInput)
    assert (photo.asset_sha256, photo.width_px, photo.height_px) == ("a" * 64, 2400, 1200)
    assert res.canonical == canonicalize(res.spec)
    assert res.spec_hash == spec_hash(res.spec) and len(res.spec_hash) == 64
    assert DesignSpec.model_validate_json(res.canonical) == res.spec


def test_default_colour_zone_filled() -> None:
    inputs = {k: v for k, v in GOOD_INPUTS.items() if k != "metal"}
    res = build_spec(pendant(), inputs, asset_lookup=asset_lookup)
    assert res.spec is not None
    assert res.spec.inputs["metal"].model_dump()["color"] == "#c0a060"


def test_client_supplied_asset_facts_are_replaced_by_lookup() -> None:
    inputs = {
        **GOOD_INPUTS,
        "photo": {"asset_id": "ast_big", "asset_sha256": "f" * 64, "width_px": 99999, "height_px": 99999},
    }
    res = build_spec(pendant(), inputs, asset_lookup=asset_lookup)
    assert res.spec is not None
    assert res.spec.inputs["photo"].model_dump()["width_px"] == 2400


def test_same_design_same_hash_different_design_different_hash() -> None:
    a = build_spec(pendant(), GOOD_INPUTS, asset_lookup=asset_lookup)
    b = build_spec(pendant(), dict(reversed(list(GOOD_INPUTS.items()))), asset_lookup=asset_lookup)
    c = build_spec(pendant(), {**GOOD_INPUTS, "name": "Eloise"}, asset_lookup=asset_lookup)
    assert a.spec_hash == b.spec_hash and a.canonical == b.canonical
    assert a.spec_hash != c.spec_hash


def test_violations_give_no_spec() -> None:
    res = build_spec(pendant(), {**GOOD_INPUTS, "photo": {"asset_id": "nope"}}, asset_lookup=asset_lookup)
    assert res.spec is None and res.spec_hash is None and res.canonical == b""
    assert [v.code for v in res.violations] == ["unknown_asset"]


def test_brand_font_sha_from_lookup() -> None:
    p = poster()
    data = font_bytes("fnt_serif")
    res = build_spec(
        p,
        {"caption": {"text": "Hello", "font": "fnt_brand", "size_pt": 12}},
        font_data_lookup={"fnt_brand": data}.get,
        font_sha_lookup={"fnt_brand": "e" * 64}.get,
    )
    assert res.spec is not None, res.violations
    assert res.spec.inputs["caption"].model_dump()["font_sha256"] == "e" * 64
    res2 = build_spec(
        p,
        {"caption": {"text": "Hello", "font": "fnt_brand", "size_pt": 12}},
        font_data_lookup={"fnt_brand": data}.get,
    )
    assert res2.spec is not None
    assert (
        res2.spec.inputs["caption"].model_dump()["font_sha256"]
        == "4ee3bdb3a6618e74ac13a7b2c0a5079fa949be94a25736008ddb9f8b2e492963"
    )


def test_fixed_size_kept_without_auto_fit() -> None:
    res = build_spec(poster(), {"caption": {"text": "Hello", "size_pt": 20}})
    assert res.spec is not None
    assert res.spec.inputs["caption"].model_dump()["size_pt"] == 20


def test_json_schema_is_valid_draft_2020_12() -> None:
    schema = spec_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == SCHEMA_ID == "https://luneo.app/schemas/design-spec/1.0.json"
    assert schema["version"] == "1.0"
    json.dumps(schema)


def test_built_spec_validates_against_schema_and_bad_spec_does_not() -> None:
    validator = jsonschema.Draft202012Validator(spec_json_schema())
    res = build_spec(pendant(), GOOD_INPUTS, asset_lookup=asset_lookup)
    doc = json.loads(res.canonical)
    validator.validate(doc)
    bad = json.loads(res.canonical)
    bad["inputs"]["metal"]["color"] = "gold"
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(bad)
    bad = json.loads(res.canonical)
    bad["surprise"] = 1
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(bad)
