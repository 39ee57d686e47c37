"""Emoji and colour glyphs on engraved / laser products are refused (issue 16, item 8)."""

from __future__ import annotations

import pytest

from luneo.design.rules import validate_inputs
from tests.unit.design.spec_fixtures import pendant


@pytest.mark.parametrize("text", ["Léa ❤️", "Tom 🐶", "👍🏽 Sam", "Paris 🇫🇷"])
def test_emoji_on_an_engraved_product_is_a_violation(text: str) -> None:
    result = validate_inputs(pendant(), {"name": {"kind": "text", "text": text}})
    codes = [v.code for v in result.violations]
    assert codes == ["emoji_not_engravable"], result.as_dict()
    v = result.violations[0]
    assert v.zone == "name"
    assert v.message == "Emoji can't be engraved; use letters and symbols."
    assert v.params["chars"]
    assert not [w for w in result.warnings if w.code == "font_fallback"]


def test_emoji_on_a_printed_product_is_still_accepted() -> None:
    product = pendant().model_copy(update={"production_method": "print"})
    result = validate_inputs(product, {"name": {"kind": "text", "text": "Tom 🐶"}})
    assert result.ok, result.as_dict()


def test_symbols_and_letters_are_engravable() -> None:
    result = validate_inputs(pendant(), {"name": {"kind": "text", "text": "Léa & Tom ©"}})
    assert result.ok, result.as_dict()
