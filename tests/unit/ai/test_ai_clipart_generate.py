import io
import json
import xml.etree.ElementTree as ET
from importlib import resources

import pytest
from PIL import Image

from luneo.ai.local.clipart import icon_names, icon_svg, search_clipart, tokenize
from luneo.ai.local.generate import LABEL, find_monogram, generate_design


def test_library_index_files_and_licence() -> None:
    root = resources.files("luneo.ai.local.clipart").joinpath("icons")
    index = json.loads(root.joinpath("index.json").read_text("utf-8"))
    assert index["license"] == "MIT"
    assert "MIT License" in root.joinpath("LICENSE").read_text("utf-8")
    names = icon_names()
    assert 150 <= len(names) <= 400
    for name in names:
        svg = ET.fromstring(icon_svg(name))
        assert svg.tag.endswith("svg") and svg.get("viewBox") == "0 0 24 24"


@pytest.mark.parametrize(
    ("query", "expected"),
    [("love", "heart"), ("LOVE", "heart"), ("cœurs", "heart"), ("étoiles", "star"), ("mariage", "rings")],
)
def test_search_finds_synonyms_plurals_and_accents(query: str, expected: str) -> None:
    hits = [h.name for h in search_clipart(query, 5)]
    assert expected in hits
    if query.lower() == "love":
        assert hits[0] == "heart"


def test_search_nothing_and_limit() -> None:
    assert search_clipart("zzqx") == []
    assert len(search_clipart("heart", limit=3)) == 3
    assert tokenize("Les Étoiles!") == ["les", "etoile"]


def test_generate_is_deterministic_valid_svg_and_honestly_labelled() -> None:
    args = {"palette": ["#0f766e", "#f43f5e"], "size_px": 256, "seed": 7}
    a = generate_design("monogram E&L wedding with hearts and flowers", **args)  # type: ignore[arg-type]
    b = generate_design("monogram E&L wedding with hearts and flowers", **args)  # type: ignore[arg-type]
    assert (a.svg, a.png) == (b.svg, b.png)
    assert a.label == LABEL == "local:clipart-composer"
    assert a.monogram == "E&L"
    assert a.used_icons and all(n in icon_names() for n in a.used_icons)
    root = ET.fromstring(a.svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert b"#0f766e" in a.svg and b"currentColor" not in a.svg
    png = Image.open(io.BytesIO(a.png))
    assert png.size == (256, 256)
    alpha_range = png.convert("RGBA").getchannel("A").getextrema()
    assert alpha_range == (0, 255)  # transparent background, something drawn


def test_generate_varies_with_seed_and_matches_prompt() -> None:
    svgs = {generate_design("birthday party", size_px=128, seed=s).svg for s in range(4)}
    assert len(svgs) > 1
    res = generate_design("a cat under the stars", size_px=128, seed=1)
    assert "cat" in res.used_icons
    with pytest.raises(ValueError):
        generate_design("   ")
    with pytest.raises(ValueError):
        generate_design("cat", palette=["not-a-colour"])


def test_monogram_detection() -> None:
    assert find_monogram("monogramme A et B, fleurs") == "A&B"
    assert find_monogram("Mug for J & K") == "J&K"
    assert find_monogram("A birthday gift for Emma and Louis") == "E&L"
    assert find_monogram("hearts and flowers") is None
