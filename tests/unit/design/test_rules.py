"""Rules engine: each rule, and the classic tricks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from luneo.design.fonts import font_bytes
from luneo.design.model import TextInput
from luneo.design.rules import (
    ValidationResult,
    effective_dpi,
    grapheme_count,
    normalize_text,
    validate_inputs,
)

from .spec_fixtures import GOOD_INPUTS, asset_lookup, pendant, poster


def run(inputs: Any, product: Any = None, **kw: Any) -> ValidationResult:
    kw.setdefault("asset_lookup", asset_lookup)
    return validate_inputs(product or pendant(), inputs, **kw)


def _printed() -> Any:
    """The pendant made by print (engraved products refuse emoji)."""
    return pendant().model_copy(update={"production_method": "print"})


def codes(res: ValidationResult, zone: str | None = None) -> list[str]:
    return [v.code for v in res.violations if zone is None or v.zone == zone]


def one(res: ValidationResult, code: str) -> dict[str, Any]:
    found = [v.as_dict() for v in res.violations if v.code == code]
    assert len(found) == 1, res.violations
    return found[0]


def test_good_inputs_pass_and_resolve() -> None:
    res = run(GOOD_INPUTS)
    assert res.ok, res.violations
    name = res.resolved["name"]
    assert isinstance(name, TextInput)
    assert name.font == "fnt_script" and name.font_sha256 and name.color == "#000000"
    assert name.size_pt == res.sizes["name"] and 6 <= name.size_pt <= 40
    json.dumps(res.as_dict())


def test_normalize_text_nfc_and_line_breaks() -> None:
    assert normalize_text("  Ze\u0301\r\nA\u2028B ") == "Zé\nA\nB"


def test_grapheme_count() -> None:
    assert grapheme_count("👨‍👩‍👧") == 1
    assert grapheme_count("e\u0301") == 1
    assert grapheme_count("नमस्ते") == 3
    assert grapheme_count("ab\ncd") == 4
    assert grapheme_count("🇫🇷") == 1


def test_required_zone_missing_or_blank() -> None:
    assert one(run({}), "required")["zone"] == "name"
    assert "required" in codes(run({"name": "   "}))


def test_unknown_zone_keys() -> None:
    res = run({**GOOD_INPUTS, "engraving_back": "hi", "": "x"})
    bad = [v for v in res.violations if v.code == "unknown_zone"]
    assert sorted(v.zone or "" for v in bad) == ["", "engraving_back"]


def test_too_long_counts_graphemes() -> None:
    assert "too_long" not in codes(run({"name": "👨‍👩‍👧" * 20}))  # 20 clusters: at the limit
    assert "too_long" in codes(run({"name": "👨‍👩‍👧" * 21}))
    v = one(run({"name": "a" * 21}), "too_long")
    assert v["params"] == {"max": 20, "actual": 21}


def test_too_many_lines() -> None:
    v = one(run({"name": "A\nB\nC"}), "too_many_lines")
    assert v["params"] == {"max": 2, "actual": 3}


def test_zone_allowed_chars_named() -> None:
    v = one(run({**GOOD_INPUTS, "date": "14/02/2O24!"}), "chars_not_allowed")
    assert v["zone"] == "date" and v["params"]["chars"] == ["O", "!"]


def test_chars_the_font_lacks_are_named() -> None:
    # \U0010FFFD is private use: no bundled font draws it; U+0378 is unassigned.
    v = one(run({"name": "Zoé \U0010fffd\u0378"}), "chars_not_in_font")
    assert v["params"]["chars"] == ["\U0010fffd", "\u0378"]
    assert v["params"]["codepoints"] == ["U+10FFFD", "U+0378"]


def test_fallback_chain_characters_are_warned_not_rejected() -> None:
    res = run({"name": "Łucja ✓"})  # Dancing Script has neither Ł nor ✓
    assert res.ok, res.violations
    warn = [w for w in res.warnings if w.code == "font_fallback"]
    assert warn and "Ł" in warn[0].params["chars"] and "✓" in warn[0].params["chars"]


def test_zwj_between_letters_is_rejected_but_allowed_in_emoji() -> None:
    v = one(run({"name": "Mer\u200dde"}), "invisible_chars")
    assert v["params"]["chars"] == ["U+200D"]
    assert run({"name": "Love 👩‍❤️‍👨 🏳️‍🌈"}, _printed()).ok  # emoji: printed products only
    assert "invisible_chars" in codes(run({"name": "👩\u200dA"}))


@pytest.mark.parametrize("ch", ["\u200b", "\u2060", "\ufeff", "\u00ad", "\u034f", "\u3164", "\U000e0041"])
def test_invisible_characters_rejected(ch: str) -> None:
    assert codes(run({"name": f"An{ch}na"})) == ["invisible_chars"]


@pytest.mark.parametrize(
    "ch", ["\u202e", "\u202d", "\u202a", "\u2066", "\u2067", "\u2068", "\u2069", "\u200f", "\u061c"]
)
def test_bidi_controls_rejected(ch: str) -> None:
    v = one(run({"name": f"Anna{ch}abc"}), "bidi_control")
    assert v["params"]["chars"] == [f"U+{ord(ch):04X}"]


def test_control_chars_rejected_newline_allowed() -> None:
    assert one(run({"name": "A\tB"}), "control_chars")["params"]["chars"] == ["U+0009"]
    assert "control_chars" in codes(run({"name": "A\x00B"}))
    assert run({"name": "A\nB"}).ok


def test_lone_surrogate_is_invalid_not_a_crash() -> None:
    assert "invalid_chars" in codes(run({"name": "A\ud800B"}))


def test_variation_selector_only_after_emoji() -> None:
    assert run({"name": "I ❤️ you"}, _printed()).ok  # emoji: printed products only
    assert "invisible_chars" in codes(run({"name": "A\ufe0fB"}))


def test_flag_tag_sequence_allowed() -> None:
    scotland = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
    assert "invisible_chars" not in codes(run({"name": f"Alba {scotland}"}))


def test_zwnj_allowed_inside_persian_word_only() -> None:
    assert "invisible_chars" not in codes(run({"name": "می\u200cخواهم"}))
    assert "invisible_chars" in codes(run({"name": "Ma\u200crie"}))


@pytest.mark.parametrize(
    "text", ["MERDE", "Mérde", "m.e.r.d.e", "m e r d e", "Oh-merde!", "ｍｅｒｄｅ", "PUTAIN", "pütáín"]
)
def test_blocked_words_case_accent_and_separator_insensitive(text: str) -> None:
    v = one(run({"name": text}), "blocked_word")
    assert v["zone"] == "name" and v["params"]["words"]


def test_blocked_word_folding() -> None:
    # Whole words only (issue 11 item 13): separators between real words are word boundaries.
    assert run({"name": "Mer de Chine"}).ok
    assert run({"name": "Marie"}).ok


def test_font_allowed_and_unknown() -> None:
    v = one(run({"name": {"text": "Anna", "font": "fnt_mono"}}), "font_not_allowed")
    assert v["params"]["allowed"] == ["fnt_script", "fnt_serif", "fnt_sans"]
    p = pendant()
    zones = [
        z.model_copy(update={"rules": z.rules.model_copy(update={"allowed_fonts": []})}) for z in p.zones
    ]
    p2 = p.model_copy(update={"zones": zones})
    assert one(run({"name": {"text": "Anna", "font": "fnt_brand_x"}}, p2), "unknown_font")["params"] == {
        "font": "fnt_brand_x"
    }


def test_brand_font_from_lookup() -> None:
    p = pendant()
    zones = [
        z.model_copy(update={"rules": z.rules.model_copy(update={"allowed_fonts": []})}) for z in p.zones
    ]
    p2 = p.model_copy(update={"zones": zones})
    data = font_bytes("fnt_symbols")
    res = run(
        {"name": {"text": "Anna ✓", "font": "fnt_brand_x"}},
        p2,
        font_data_lookup=lambda fid: data if fid == "fnt_brand_x" else None,
    )
    assert res.ok, res.violations
    name = res.resolved["name"]
    assert (
        isinstance(name, TextInput)
        and name.font_sha256 == "abdc775b21b1bc470d50c97e790d276f2054b7504e56e5bd3e64f48d68582322"
    )


def test_colour_in_palette() -> None:
    v = one(run({**GOOD_INPUTS, "metal": {"color": "#FF0000"}}), "color_not_allowed")
    assert v["zone"] == "metal" and "#c0a060" in v["params"]["allowed"]
    assert run({**GOOD_INPUTS, "metal": {"color": "#c0a060"}}).ok  # case-insensitive
    assert "color_not_allowed" in codes(run({"name": {"text": "Anna", "color": "#123456"}}))
    assert "invalid_input" in codes(run({**GOOD_INPUTS, "metal": {"color": "red"}}))


def test_font_size_range() -> None:
    v = one(run({"name": {"text": "Anna", "size_pt": 90}}), "font_size_out_of_range")
    assert v["params"]["min"] == 6 and v["params"]["max"] == 40


def test_auto_fit_overflow_when_nothing_fits() -> None:
    res = run({"name": "W" * 20})
    v = one(res, "text_overflow")
    assert v["params"]["size_pt"] == 6


def test_fixed_size_overflow_without_auto_fit() -> None:
    assert run({"caption": {"text": "Hello", "size_pt": 20}}, poster()).ok
    v = one(
        run({"caption": {"text": "Hello world, this is far too long", "size_pt": 40}}, poster()),
        "text_overflow",
    )
    assert v["params"]["size_pt"] == 40


def test_image_dpi_error_and_warning() -> None:
    v = one(run({"photo": {"asset_id": "ast_tiny"}}, poster()), "image_dpi_too_low")
    assert v["params"]["dpi"] == pytest.approx(0.3, abs=0.05) and v["params"]["min_dpi"] == 150
    res = run({"photo": {"asset_id": "ast_mid"}}, poster())  # 400 px on 100 mm = 101.6 DPI
    assert codes(res) == ["image_dpi_too_low"]
    res = run({"photo": {"asset_id": "ast_big"}}, poster())  # 1200 px high → cover: 304.8, fine
    assert res.ok and not res.warnings
    res = run({**GOOD_INPUTS, "photo": {"asset_id": "ast_mid"}})  # 200 px on 10 mm = 508 DPI
    assert res.ok and not [w for w in res.warnings if w.code.startswith("image")]


def test_image_dpi_warning_below_300() -> None:
    lookup = {"a": ("d" * 64, 1000, 1000)}.get  # 254 DPI on 100 mm
    res = validate_inputs(poster(), {"photo": {"asset_id": "a"}}, asset_lookup=lookup)
    assert res.ok and [w.code for w in res.warnings] == ["image_dpi_low"]


def test_effective_dpi_by_fit() -> None:
    assert effective_dpi(2000, 1000, 100, 100, "cover") == pytest.approx(254.0)
    assert effective_dpi(2000, 1000, 100, 100, "contain") == pytest.approx(508.0)


def test_unknown_asset_and_unchecked_size() -> None:
    assert one(run({"photo": {"asset_id": "ast_nope"}}, poster()), "unknown_asset")["params"] == {
        "asset_id": "ast_nope"
    }
    res = validate_inputs(poster(), {"photo": {"asset_id": "x"}})
    assert res.ok and [w.code for w in res.warnings] == ["image_size_unknown"]


def test_kind_mismatch() -> None:
    v = one(run({"photo": "some text"}, poster()), "kind_mismatch")
    assert v["params"] == {"expected": "image", "actual": "text"}


@pytest.mark.parametrize(
    "bad",
    [
        None,
        3,
        "text",
        [1, 2],
        {"name": 3},
        {"name": [1]},
        {"name": {"text": 5}},
        {"name": {"text": "a", "size_pt": "x"}},
        {"name": {"text": "a", "line_height": float("nan")}},
        {"photo": {"asset_id": None}},
        {1: "a"},
        {"name": {"text": "a", "align": "justify"}},
        {"metal": {"kind": "colour"}},
    ],
)
def test_bad_types_become_violations(bad: Any) -> None:
    res = run(bad)
    assert res.violations
    json.dumps(res.as_dict())


def test_invalid_product_is_a_violation() -> None:
    res = validate_inputs({"id": 1}, {})  # type: ignore[arg-type]
    assert codes(res) == ["invalid_product"]


def test_every_violation_has_stable_shape() -> None:
    res = run({"name": "Mer\u200dde\u202e\t" + "x" * 30, "zz": 1, "metal": {"color": "#111111"}})
    for v in res.violations:
        d = v.as_dict()
        assert set(d) == {"zone", "code", "message", "params"}
        assert d["code"].replace("_", "").isalpha() and d["code"].islower() and d["message"]
