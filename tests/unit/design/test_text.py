"""Text shaping and layout: kerning, ligatures, RTL, marks, fallback, alignment, arcs, auto-fit."""

from __future__ import annotations

import io
import math

import pytest
from fontTools.ttLib import TTFont

from luneo.design.fonts import font_bytes
from luneo.design.geometry import Path
from luneo.design.glyph_cache import bundled_handle
from luneo.design.model import ZoneGeometry
from luneo.design.text import PT_MM, TextLayout, auto_fit, layout_text
from luneo.design.text_shaping import bidi_levels, shape_line, visual_order

BOX = ZoneGeometry(x_mm=10, y_mm=20, width_mm=80, height_mm=30, safe_inset_mm=1)


def shaped(text: str, font_id: str, spacing: float = 0.0):  # type: ignore[no-untyped-def]
    return shape_line(text, bundled_handle(font_id), font_id, spacing)


def lines_of(lay: TextLayout) -> list[list[Path]]:
    """Group glyph paths into lines by vertical position."""
    groups: dict[int, list[Path]] = {}
    for p in lay.glyphs:
        b = p.bbox()
        assert b is not None
        groups.setdefault(round((b.y1) / 3), []).append(p)
    return [groups[k] for k in sorted(groups)]


def extent(paths: list[Path]) -> tuple[float, float, float, float]:
    bs = [p.bbox() for p in paths]
    return (
        min(b.x0 for b in bs if b),
        min(b.y0 for b in bs if b),
        max(b.x1 for b in bs if b),
        max(b.y1 for b in bs if b),
    )


def test_kerning_tightens_av() -> None:
    av = shaped("AV", "fnt_sans").advance
    assert av < shaped("A", "fnt_sans").advance + shaped("V", "fnt_sans").advance - 0.01


def test_fi_ligature_and_letter_spacing_disables_it() -> None:
    lig = shaped("fi", "fnt_sans")  # Noto Sans has f_i (and f_f_l) in 'liga'
    assert len(lig.glyphs) == 1
    assert len(shaped("ffl", "fnt_sans").glyphs) == 1
    spaced = shaped("fi", "fnt_sans", 0.1)
    assert len(spaced.glyphs) == 2
    plain = shaped("f", "fnt_sans").advance + shaped("i", "fnt_sans").advance
    assert spaced.advance == pytest.approx(plain + 0.1, abs=1e-6)  # tracking between, not after


def test_arabic_is_right_to_left_and_joined() -> None:
    word = "سلام"
    line = shaped(word, "fnt_sans")  # Noto Sans has no Arabic: falls back to Noto Naskh Arabic
    arabic = bundled_handle("fnt_arabic")
    assert line.glyphs and all(g.font is arabic for g in line.glyphs)
    assert line.fallback_chars and not line.missing
    clusters = [g.cluster for g in line.glyphs]
    assert clusters == sorted(clusters, reverse=True)  # visual order is reversed logical order
    isolated = {shaped(ch, "fnt_arabic").glyphs[0].gid for ch in word}
    joined = {g.gid for g in line.glyphs}
    assert len(joined - isolated) >= 2  # initial/medial/final forms, not isolated ones


def test_bidi_mixed_line() -> None:
    text = "Anna سلام 12"
    levels = bidi_levels(text)
    # digits after Arabic letters (AL) become Arabic numbers (W2): level 2 inside the LTR line
    assert levels[:4] == [0, 0, 0, 0] and levels[5:9] == [1, 1, 1, 1] and levels[-2:] == [2, 2]
    assert bidi_levels("Anna 12") == [0] * 7
    assert bidi_levels("سلام 12") == [1, 1, 1, 1, 1, 2, 2]
    assert visual_order([0, 1, 1, 0]) == [0, 2, 1, 3]


def test_devanagari_reordering_and_conjuncts() -> None:
    ki = shaped("कि", "fnt_sans")  # i-matra is drawn before the consonant
    dev = bundled_handle("fnt_devanagari")
    assert [g.font for g in ki.glyphs] == [dev, dev]
    ka = dev.hb_font.get_nominal_glyph(0x0915)
    assert ki.glyphs[1].gid == ka and ki.glyphs[0].gid != ka and ki.glyphs[0].x < ki.glyphs[1].x
    ksha = shaped("क्ष", "fnt_sans")
    assert len(ksha.glyphs) == 1  # conjunct ligature


def test_combining_marks_positioned_on_base() -> None:
    line = shaped("q\u0303", "fnt_sans")  # no precomposed q-tilde: mark attached by GPOS
    assert len(line.glyphs) == 2
    base, mark = line.glyphs
    assert mark.y < 0 or mark.font.outline(mark.gid).bbox[3] < 0  # type: ignore[index]
    assert base.x <= mark.x + mark.font.outline(mark.gid).bbox[0] + 0.6  # type: ignore[index]


@pytest.mark.parametrize("text", ["你好世界", "こんにちは", "안녕하세요", "😀🎉", "👨‍👩‍👧", "✓ ♥ ★"])
def test_fallback_scripts_render_outlines(text: str) -> None:
    lay = layout_text(text, BOX, font_id="fnt_script", size_pt=20)
    assert lay.glyphs and all(not p.is_empty() for p in lay.glyphs)
    assert lay.missing_chars == ()
    assert lay.fallback_chars


def test_emoji_zwj_sequence_is_one_glyph() -> None:
    assert len(shaped("👨‍👩‍👧", "fnt_sans").glyphs) == 1


def test_missing_characters_reported_never_drawn() -> None:
    lay = layout_text("A\U0010fffdB", BOX, font_id="fnt_sans", size_pt=20)
    assert lay.missing_chars == ("\U0010fffd",)
    assert len(lay.glyphs) == 2


def test_size_scales_linearly() -> None:
    a = layout_text("Hello", BOX, font_id="fnt_sans", size_pt=10)
    b = layout_text("Hello", BOX, font_id="fnt_sans", size_pt=20)
    assert a.bbox and b.bbox
    assert b.bbox.width == pytest.approx(2 * a.bbox.width, rel=1e-9)
    assert a.size_pt == 10 and a.lines == 1


def test_letter_spacing_widens() -> None:
    a = layout_text("Hello", BOX, font_id="fnt_sans", size_pt=10)
    b = layout_text("Hello", BOX, font_id="fnt_sans", size_pt=10, letter_spacing_em=0.5)
    assert a.bbox and b.bbox
    assert b.bbox.width == pytest.approx(a.bbox.width + 4 * 0.5 * 10 * PT_MM, abs=1e-6)


@pytest.mark.parametrize("align", ["left", "center", "right"])
def test_multiline_alignment(align: str) -> None:
    g = ZoneGeometry(x_mm=0, y_mm=0, width_mm=100, height_mm=60)
    lay = layout_text("HH\nHHHHHH\nHHHH", g, font_id="fnt_mono", size_pt=24, align=align, line_height=1.5)
    assert lay.lines == 3 and lay.fits
    rows = [extent(r) for r in lines_of(lay)]
    assert len(rows) == 3
    if align == "left":
        assert rows[0][0] == pytest.approx(0, abs=1.0) and len({round(r[0], 6) for r in rows}) == 1
    elif align == "right":
        assert rows[0][2] == pytest.approx(100, abs=1.0) and len({round(r[2], 6) for r in rows}) == 1
    else:
        mids = [(r[0] + r[2]) / 2 for r in rows]
        assert max(mids) - min(mids) < 1e-6 and mids[0] == pytest.approx(50, abs=0.5)
    pitches = [rows[i + 1][3] - rows[i][3] for i in range(2)]
    assert pitches[0] == pytest.approx(1.5 * 24 * PT_MM) and pitches[1] == pytest.approx(pitches[0])
    assert lay.bbox is not None
    assert (lay.bbox.y0 + lay.bbox.y1) / 2 == pytest.approx(30, abs=1e-6)  # ink centred vertically


def test_rtl_line_right_to_left_positions() -> None:
    lay = layout_text("سلام", BOX, font_id="fnt_sans", size_pt=20)
    assert lay.glyphs and not lay.missing_chars


def _centroid(p: Path) -> tuple[float, float]:
    pts = p.points()
    return (sum(x for x, _ in pts) / len(pts), sum(y for _, y in pts) / len(pts))


@pytest.mark.parametrize("inside", [False, True])
def test_arc_places_glyphs_on_the_circle(inside: bool) -> None:
    angle = 180.0 if inside else 0.0
    g = ZoneGeometry(
        shape="arc",
        x_mm=0,
        y_mm=0,
        width_mm=80,
        height_mm=80,
        radius_mm=30,
        arc_angle_deg=angle,
        arc_sweep_deg=150,
        arc_inside=inside,
    )
    lay = layout_text("........", g, font_id="fnt_mono", size_pt=20)
    assert lay.fits and len(lay.glyphs) == 8
    size_mm = 20 * PT_MM
    angles = []
    for p in lay.glyphs:
        x, y = _centroid(p)
        dist = math.hypot(x - 40, y - 40)
        # dots sit on the baseline: just outside the circle (outside text) or just inside
        assert abs(dist - 30) < 0.2 * size_mm
        assert (dist > 30) != inside
        angles.append(math.degrees(math.atan2(x - 40, -(y - 40))) % 360)
    if inside:
        assert angles == sorted(angles, reverse=True)  # reads left to right along the bottom
        assert sum(angles) / 8 == pytest.approx(180, abs=0.5)
    else:
        signed = [a - 360 if a > 180 else a for a in angles]
        assert signed == sorted(signed)  # clockwise along the top
        assert sum(signed) / 8 == pytest.approx(0, abs=0.5)


def test_arc_fit_limited_by_sweep() -> None:
    g = ZoneGeometry(shape="arc", x_mm=0, y_mm=0, width_mm=80, height_mm=80, radius_mm=30, arc_sweep_deg=60)
    lay = auto_fit("HAPPY BIRTHDAY", g, font_id="fnt_sans", min_pt=4, max_pt=60)
    assert lay.fits and 4 < lay.size_pt < 60
    assert not layout_text("HAPPY BIRTHDAY", g, font_id="fnt_sans", size_pt=lay.size_pt + 0.05).fits


def test_auto_fit_picks_largest_fitting_size() -> None:
    lay = auto_fit("Happy birthday Margaux!", BOX, font_id="fnt_serif", min_pt=6, max_pt=96)
    assert lay.fits and 6 < lay.size_pt < 96
    assert round(lay.size_pt * 100) == pytest.approx(lay.size_pt * 100)
    assert not layout_text(
        "Happy birthday Margaux!", BOX, font_id="fnt_serif", size_pt=lay.size_pt + 0.02
    ).fits
    assert lay.bbox is not None
    inner = ZoneGeometry(x_mm=11, y_mm=21, width_mm=78, height_mm=28)
    assert lay.bbox.x0 >= inner.x_mm - 1e-6 and lay.bbox.x1 <= 89 + 1e-6
    assert lay.bbox.y0 >= 21 - 1e-6 and lay.bbox.y1 <= 49 + 1e-6


def test_auto_fit_bounds() -> None:
    assert auto_fit("Hi", BOX, font_id="fnt_sans", min_pt=6, max_pt=20).size_pt == 20
    worst = auto_fit("W" * 200, BOX, font_id="fnt_sans", min_pt=6, max_pt=20)
    assert worst.size_pt == 6 and not worst.fits


def test_auto_fit_monotonic_in_text_length() -> None:
    sizes = [
        auto_fit("M" * n, BOX, font_id="fnt_display", min_pt=4, max_pt=200).size_pt for n in range(1, 30, 3)
    ]
    assert sizes == sorted(sizes, reverse=True)
    assert sizes[0] > sizes[-1]


def test_ellipse_fits_better_than_inscribed_rect() -> None:
    ell = ZoneGeometry(shape="ellipse", x_mm=0, y_mm=0, width_mm=60, height_mm=40)
    lay = auto_fit("Anna\nMarie-Louise\nBo", ell, font_id="fnt_sans", min_pt=4, max_pt=200)
    a, b = 30.0, 20.0
    for p in lay.glyphs:
        for x, y in p.points():
            assert ((x - 30) / a) ** 2 + ((y - 20) / b) ** 2 <= 1 + 1e-6
    inscribed = ZoneGeometry(
        x_mm=30 - a / math.sqrt(2),
        y_mm=20 - b / math.sqrt(2),
        width_mm=a * math.sqrt(2),
        height_mm=b * math.sqrt(2),
    )
    assert (
        lay.size_pt
        > auto_fit("Anna\nMarie-Louise\nBo", inscribed, font_id="fnt_sans", min_pt=4, max_pt=200).size_pt
    )


def test_rotation_turns_around_box_centre() -> None:
    flat = layout_text("ROTATE", BOX, font_id="fnt_sans", size_pt=20)
    turned = layout_text(
        "ROTATE", BOX.model_copy(update={"rotation_deg": 90}), font_id="fnt_sans", size_pt=20
    )
    assert flat.bbox and turned.bbox and turned.fits == flat.fits
    assert turned.bbox.width == pytest.approx(flat.bbox.height, abs=1e-6)
    assert turned.bbox.height == pytest.approx(flat.bbox.width, abs=1e-6)
    assert (turned.bbox.x0 + turned.bbox.x1) / 2 == pytest.approx(
        50 - ((flat.bbox.y0 + flat.bbox.y1) / 2 - 35), abs=1e-6
    )


def test_layout_is_deterministic() -> None:
    a = layout_text("Déjà vu ✓ 你好", BOX, font_id="fnt_serif", size_pt=14)
    b = layout_text("Déjà vu ✓ 你好", BOX, font_id="fnt_serif", size_pt=14)
    assert [p.to_svg_d() for p in a.glyphs] == [p.to_svg_d() for p in b.glyphs]


def test_brand_font_bytes_and_woff2() -> None:
    ttf = font_bytes("fnt_display")
    tt = TTFont(io.BytesIO(ttf))
    tt.flavor = "woff2"
    buf = io.BytesIO()
    tt.save(buf)
    woff2 = buf.getvalue()
    assert woff2[:4] == b"wOF2"
    a = layout_text("ANNA", BOX, font_id="brand", size_pt=12, font_data=ttf)
    b = layout_text("ANNA", BOX, font_id="brand", size_pt=12, font_data=woff2)
    assert a.glyphs and [p.to_svg_d() for p in a.glyphs] == [p.to_svg_d() for p in b.glyphs]
    assert a.fallback_chars == ()


def test_bad_font_data_and_arguments_raise() -> None:
    with pytest.raises(ValueError):
        layout_text("x", BOX, font_id="brand", size_pt=12, font_data=b"not a font")
    with pytest.raises(KeyError):
        layout_text("x", BOX, font_id="fnt_nope", size_pt=12)
    with pytest.raises(ValueError):
        layout_text("x", BOX, font_id="fnt_sans", size_pt=12, align="justify")


def test_empty_text() -> None:
    lay = auto_fit("  \n ", BOX, font_id="fnt_sans", min_pt=6, max_pt=30)
    assert lay.glyphs == () and lay.bbox is None and lay.fits and lay.lines == 0


def test_fast_transform_matches_path_transformed_bit_for_bit() -> None:
    from luneo.design.geometry import rotate
    from luneo.design.text import _transform

    handle = bundled_handle("fnt_serif")
    outline = handle.outline(handle.hb_font.get_nominal_glyph(ord("&")))
    m = rotate(17.0, 3.0, 4.0)
    m = (m[0] * 2.5, m[1] * 2.5, m[2] * 2.5, m[3] * 2.5, m[4] + 1.25, m[5] - 7.5)
    fast, box = _transform(outline, m)
    slow = Path(outline.commands).transformed(m)
    assert fast == slow
    b = slow.bbox()
    assert b is not None and box == (b.x0, b.y0, b.x1, b.y1)
