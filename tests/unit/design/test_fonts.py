"""Bundled fonts: files, licences, pinned hashes, and the fallback chain."""

from __future__ import annotations

import hashlib

import pytest
import uharfbuzz as hb

from luneo.design.fonts import (
    BUNDLED_FONTS,
    FALLBACK_CHAIN,
    FONTS_DIR,
    UnknownFontError,
    fallback_chain,
    font_bytes,
    font_sha256,
    get_font,
)
from luneo.design.glyph_cache import bundled_handle

IDS = sorted(BUNDLED_FONTS)


def test_required_families_present() -> None:
    for fid in ("fnt_sans", "fnt_serif", "fnt_script", "fnt_display", "fnt_mono"):
        assert BUNDLED_FONTS[fid].role == "primary"
    assert set(FALLBACK_CHAIN) <= set(BUNDLED_FONTS)


@pytest.mark.parametrize("font_id", IDS)
def test_font_loads_and_matches_pinned_sha(font_id: str) -> None:
    meta = get_font(font_id)
    data = font_bytes(font_id)
    assert data[:4] in (b"\x00\x01\x00\x00", b"OTTO")  # plain sfnt, never WOFF/WOFF2
    assert hashlib.sha256(data).hexdigest() == meta.sha256 == font_sha256(font_id)
    face = hb.Face(hb.Blob(data))
    assert face.glyph_count > 50 and face.upem in (1000, 2048)
    assert meta.licence_path.is_file() and meta.licence_path.stat().st_size > 500
    handle = bundled_handle(font_id)
    sample = {"fnt_arabic": "م", "fnt_devanagari": "क", "fnt_cjk": "永", "fnt_emoji": "😀"}.get(font_id, "A")
    gid = handle.hb_font.get_nominal_glyph(ord(sample))
    assert gid and handle.outline(gid).commands


def test_licence_texts_name_the_licence() -> None:
    for meta in BUNDLED_FONTS.values():
        text = meta.licence_path.read_text(encoding="utf-8", errors="replace")
        key = {"OFL-1.1": "Open Font License", "Apache-2.0": "Apache License", "Bitstream-Vera": "Bitstream"}
        assert key[meta.licence] in text, meta.id


def test_every_font_file_is_registered_and_total_size_small() -> None:
    files = {p.name for p in FONTS_DIR.iterdir() if p.suffix in (".ttf", ".otf")}
    assert files == {m.filename for m in BUNDLED_FONTS.values()}
    total = sum((FONTS_DIR / f).stat().st_size for f in files)
    assert total < 40 * 1024 * 1024


@pytest.mark.parametrize(
    ("char", "font_id"),
    [
        ("م", "fnt_arabic"),
        ("क", "fnt_devanagari"),
        ("永", "fnt_cjk"),
        ("あ", "fnt_cjk"),
        ("한", "fnt_cjk"),
        ("😀", "fnt_emoji"),
        ("✓", "fnt_symbols"),
    ],
)
def test_fallback_fonts_cover_their_scripts(char: str, font_id: str) -> None:
    assert ord(char) in bundled_handle(font_id).cmap
    assert ord(char) not in bundled_handle("fnt_sans").cmap or font_id == "fnt_sans"


def test_emoji_font_is_monochrome_outline() -> None:
    face = hb.Face(hb.Blob(font_bytes("fnt_emoji")))
    assert not face.has_color_png and not face.has_color_layers and not face.has_color_svg


def test_fallback_chain_excludes_self_and_unknown_font() -> None:
    assert "fnt_sans" not in fallback_chain("fnt_sans")
    assert fallback_chain("fnt_serif")[0] == "fnt_sans"
    with pytest.raises(UnknownFontError):
        get_font("fnt_nope")
    assert font_sha256("fnt_nope") is None
