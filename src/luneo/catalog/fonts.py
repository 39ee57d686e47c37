"""Brand font uploads: TTF, OTF, WOFF or WOFF2 in; a checked TTF/OTF out.

HarfBuzz reads TTF/OTF only, so WOFF/WOFF2 are unwrapped with fontTools (brotli for WOFF2)
before storing. A font must parse completely, have a Unicode cmap with at least one
character, and open in HarfBuzz with glyphs; anything else is a 422 `font_invalid`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from luneo.platform.errors import Problem

FONT_MAGICS = {
    b"\x00\x01\x00\x00": "ttf",
    b"true": "ttf",
    b"OTTO": "otf",
    b"wOFF": "woff",
    b"wOF2": "woff2",
}


@dataclass(frozen=True)
class CheckedFont:
    """A font ready to store (TTF/OTF bytes) and what we learnt from it."""

    data: bytes
    format: str  # ttf | otf
    source_format: str  # ttf | otf | woff | woff2
    family: str
    style: str
    glyph_coverage: int  # characters mapped by the best Unicode cmap


def sniff_font(data: bytes) -> str | None:
    return FONT_MAGICS.get(data[:4])


def _invalid(reason: str) -> Problem:
    return Problem(422, "font_invalid", f"The font cannot be used: {reason}.")


def _name(font: Any, *ids: int) -> str:
    table = font.get("name")
    if table is None:
        return ""
    for name_id in ids:
        value = table.getDebugName(name_id)
        if value:
            return str(value).strip()[:200]
    return ""


def check_font(data: bytes, *, max_bytes: int) -> CheckedFont:
    """Validate a font upload and convert web fonts to their TTF/OTF sfnt."""
    from fontTools.ttLib import TTFont, TTLibError

    if len(data) > max_bytes:
        raise Problem(413, "file_too_large", f"The file exceeds {max_bytes} bytes.", limit_bytes=max_bytes)
    source = sniff_font(data)
    if source is None:
        if data[:4] == b"ttcf":
            raise Problem(415, "unsupported_media_type",
                          "Font collections (.ttc) are not accepted: send one font.")
        raise Problem(415, "unsupported_media_type", "Unsupported font type: send TTF, OTF, WOFF or WOFF2.",
                      accepted=["font/ttf", "font/otf", "font/woff", "font/woff2"])
    try:
        font = TTFont(io.BytesIO(data), lazy=False, recalcTimestamp=False)
        font.ensureDecompiled()
        cmap = font.getBestCmap()
        if not cmap:
            raise _invalid("it has no Unicode character map")
        if "glyf" not in font and "CFF " not in font and "CFF2" not in font:
            raise _invalid("it has no glyph outlines")
        fmt = "otf" if font.sfntVersion == "OTTO" else "ttf"
        if source in ("woff", "woff2"):
            font.flavor = None
            out = io.BytesIO()
            font.save(out, reorderTables=True)
            sfnt = out.getvalue()
        else:
            sfnt = data
        family = _name(font, 16, 1) or "Untitled"
        style = _name(font, 17, 2) or "Regular"
        coverage = len(cmap)
    except Problem:
        raise
    except (TTLibError, Exception) as exc:
        raise _invalid(f"it does not parse ({type(exc).__name__})") from exc
    _check_harfbuzz(sfnt)
    return CheckedFont(data=sfnt, format=fmt, source_format=source, family=family, style=style,
                       glyph_coverage=coverage)


def _check_harfbuzz(sfnt: bytes) -> None:
    import uharfbuzz as hb

    try:
        face = hb.Face(sfnt)
        if face.glyph_count <= 1:
            raise _invalid("HarfBuzz sees no glyphs in it")
        hb_font = hb.Font(face)
        buf = hb.Buffer()
        buf.add_str("A")
        buf.guess_segment_properties()
        hb.shape(hb_font, buf, {})
    except Problem:
        raise
    except Exception as exc:
        raise _invalid("HarfBuzz cannot read it") from exc
