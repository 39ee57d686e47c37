"""Brand font checks (pure): TTF/OTF kept, WOFF2 unwrapped to sfnt, garbage refused."""

from __future__ import annotations

import io

import pytest
from fontTools import subset
from fontTools.ttLib import TTFont

from luneo.catalog.fonts import check_font
from luneo.design.fonts import font_bytes
from luneo.platform.domain_errors import DomainError
from luneo.platform.errors import problem_from

LIMIT = 25 * 1024 * 1024


def small_font(flavor: str | None = None, font_id: str = "fnt_mono") -> bytes:
    """A subset (A–Z, a–z, digits) of a bundled font, optionally as WOFF/WOFF2."""
    font = TTFont(io.BytesIO(font_bytes(font_id)))
    opts = subset.Options()
    opts.flavor = flavor
    sub = subset.Subsetter(opts)
    sub.populate(text="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 ")
    sub.subset(font)
    buf = io.BytesIO()
    font.flavor = flavor
    font.save(buf)
    return buf.getvalue()


def test_ttf_is_kept_as_is():
    data = font_bytes("fnt_mono")
    out = check_font(data, max_bytes=LIMIT)
    assert out.data == data and out.format == "ttf" and out.source_format == "ttf"
    assert out.family == "JetBrains Mono" and out.glyph_coverage > 100


def test_otf_is_kept():
    out = check_font(font_bytes("fnt_serif"), max_bytes=LIMIT)
    assert out.format == "otf"


def test_woff2_is_converted_to_an_sfnt_harfbuzz_can_shape():
    import uharfbuzz as hb

    woff2 = small_font("woff2")
    assert woff2[:4] == b"wOF2"
    out = check_font(woff2, max_bytes=LIMIT)
    assert out.source_format == "woff2" and out.format == "ttf"
    assert out.data[:4] == b"\x00\x01\x00\x00"
    font = hb.Font(hb.Face(out.data))
    buf = hb.Buffer()
    buf.add_str("Hello")
    buf.guess_segment_properties()
    hb.shape(font, buf, {})
    assert all(info.codepoint != 0 for info in buf.glyph_infos)  # no .notdef
    assert out.glyph_coverage >= 62


def test_woff_is_converted_too():
    out = check_font(small_font("woff"), max_bytes=LIMIT)
    assert out.source_format == "woff" and out.data[:4] == b"\x00\x01\x00\x00"


@pytest.mark.parametrize(
    "data,status,code",
    [
        (b"not a font at all", 415, "unsupported_media_type"),
        (b"\x00\x01\x00\x00" + b"\x00" * 200, 422, "font_invalid"),
        (b"wOF2" + b"\xff" * 100, 422, "font_invalid"),
        (b"ttcf" + b"\x00" * 50, 415, "unsupported_media_type"),
    ],
)
def test_garbage_refused(data, status, code):
    with pytest.raises(DomainError) as exc:
        check_font(data, max_bytes=LIMIT)
    assert (problem_from(exc.value).status, exc.value.code) == (status, code)


def test_font_without_cmap_refused():
    font = TTFont(io.BytesIO(font_bytes("fnt_mono")))
    del font["cmap"]
    buf = io.BytesIO()
    font.save(buf)
    with pytest.raises(DomainError) as exc:
        check_font(buf.getvalue(), max_bytes=LIMIT)
    assert exc.value.code == "font_invalid"


def test_too_large():
    with pytest.raises(DomainError) as exc:
        check_font(font_bytes("fnt_mono"), max_bytes=1000)
    assert (problem_from(exc.value).status, exc.value.code) == (413, "file_too_large")
