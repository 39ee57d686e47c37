import pytest

from luneo.ai.local.moderation import check_prompt


@pytest.mark.parametrize("text", ["Zoé", "ZOE", "zoé's mug", "for ZOÉ!", "Happy birthday, zoe"])
def test_brand_term_matches_case_and_accent_variants(text: str) -> None:
    res = check_prompt(text, ["Zoe"])
    assert not res.allowed
    assert res.matched_terms == ["Zoe"] and res.categories == ["brand"]


def test_word_boundaries_respected() -> None:
    assert check_prompt("Best class of 2024", ["ass"]).allowed
    assert check_prompt("Zoey and Chloé", ["zoe"]).allowed
    assert not check_prompt("what an ass", ["ass"]).allowed


def test_builtin_categories_plurals_multiword_and_lookalikes() -> None:
    assert check_prompt("NAZIS out").categories == ["hate"]
    assert check_prompt("white   Power tee").matched_terms == ["white power"]
    assert not check_prompt("n4zi flag").allowed
    assert check_prompt("Crème brûlée, bon appétit").allowed
    assert check_prompt("porn", builtin=False).allowed


def test_brand_multiword_accented_term() -> None:
    res = check_prompt("Une crème brulée maison", ["Crème Brûlée"])
    assert res.matched_terms == ["Crème Brûlée"]
