"""Bundled open-licence fonts and the fallback chain used when a font lacks a glyph.

The font files and their licence files live next to this module (see README.md for sources).
`sha256` values are pinned here (checked by the tests), so a DesignSpec can name a font by
content hash without reading any file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

FONTS_DIR = Path(__file__).resolve().parent

DEFAULT_FONT_ID = "fnt_sans"


@dataclass(frozen=True, slots=True)
class BundledFont:
    """A font file shipped with the package."""

    id: str
    family: str
    style: str
    filename: str
    licence: str
    licence_file: str
    sha256: str
    role: str = "primary"  # primary (offered to brands) | fallback (script/symbol coverage)

    @property
    def path(self) -> Path:
        return FONTS_DIR / self.filename

    @property
    def licence_path(self) -> Path:
        return FONTS_DIR / self.licence_file


_FONTS: tuple[BundledFont, ...] = (
    BundledFont(
        "fnt_sans",
        "Noto Sans",
        "Regular",
        "NotoSans-Regular.ttf",
        "OFL-1.1",
        "LICENSE-Noto-core.txt",
        "89c3c497f618fdaa0b2d1e98fef93582f28c71debd2c4a8cdf41f190ced2909d",
    ),
    BundledFont(
        "fnt_serif",
        "EB Garamond 12",
        "Regular",
        "EBGaramond12-Regular.otf",
        "OFL-1.1",
        "LICENSE-EBGaramond.txt",
        "4ee3bdb3a6618e74ac13a7b2c0a5079fa949be94a25736008ddb9f8b2e492963",
    ),
    BundledFont(
        "fnt_script",
        "Dancing Script",
        "Regular",
        "DancingScript-Regular.otf",
        "OFL-1.1",
        "LICENSE-DancingScript.txt",
        "38178945aaefdea573f4998d8b984985aaebb95964da337b23e77e682d7d3d17",
    ),
    BundledFont(
        "fnt_display",
        "Bebas Neue",
        "Regular",
        "BebasNeue-Regular.otf",
        "OFL-1.1",
        "LICENSE-BebasNeue.txt",
        "db3c06e21117729f10ffbdd6a8c66200d071c69c0c9ddb9a583250a3f3d41c76",
    ),
    BundledFont(
        "fnt_mono",
        "JetBrains Mono",
        "Regular",
        "JetBrainsMono-Regular.ttf",
        "Apache-2.0",
        "LICENSE-JetBrainsMono.txt",
        "a3014fb90ae8ddfbdfc778de75f95b49a857947fde5335ab3f50b6d56eb517be",
    ),
    BundledFont(
        "fnt_arabic",
        "Noto Naskh Arabic",
        "Regular",
        "NotoNaskhArabic-Regular.ttf",
        "OFL-1.1",
        "LICENSE-Noto-core.txt",
        "8c67eaa2f0086872628fc3f7f760386f83c8be5c5e9a1ba3a38891237b2ac7cb",
        "fallback",
    ),
    BundledFont(
        "fnt_devanagari",
        "Noto Sans Devanagari",
        "Regular",
        "NotoSansDevanagari-Regular.ttf",
        "OFL-1.1",
        "LICENSE-Noto-core.txt",
        "79a470365ccb210fa3c7d8d8ff2e005ef9d983cfd067f735a0caf7e15070ca9f",
        "fallback",
    ),
    BundledFont(
        "fnt_cjk",
        "Noto Sans CJK SC",
        "Regular (subset)",
        "NotoSansCJKsc-Subset.otf",
        "OFL-1.1",
        "LICENSE-NotoSansCJK.txt",
        "7553658cc0154ea71bc4eec1fb6737ba6276ec043269e9f2a6b38db1aa17f7d4",
        "fallback",
    ),
    BundledFont(
        "fnt_emoji",
        "Noto Emoji",
        "Regular",
        "NotoEmoji-Regular.ttf",
        "OFL-1.1",
        "LICENSE-NotoEmoji.txt",
        "24aaa2a20c9c06ffe9bf04284bfd1f14376a329d10122f902abe2770817eb504",
        "fallback",
    ),
    BundledFont(
        "fnt_symbols",
        "DejaVu Sans",
        "Book",
        "DejaVuSans.ttf",
        "Bitstream-Vera",
        "LICENSE-DejaVu.txt",
        "abdc775b21b1bc470d50c97e790d276f2054b7504e56e5bd3e64f48d68582322",
        "fallback",
    ),
)

BUNDLED_FONTS: dict[str, BundledFont] = {f.id: f for f in _FONTS}

# Tried in order after the chosen font, per grapheme cluster, when the chosen font lacks a glyph.
FALLBACK_CHAIN: tuple[str, ...] = (
    "fnt_sans",  # Latin, Greek, Cyrillic, combining marks
    "fnt_arabic",
    "fnt_devanagari",
    "fnt_cjk",  # ~10.5k common Han, kana, 2,350 Hangul syllables
    "fnt_emoji",  # monochrome outline emoji (incl. ZWJ sequences)
    "fnt_symbols",  # ✓ ♥ ★ arrows, box drawing, math
)


class UnknownFontError(KeyError):
    """Raised for a font id that is not bundled."""


def get_font(font_id: str) -> BundledFont:
    try:
        return BUNDLED_FONTS[font_id]
    except KeyError:
        raise UnknownFontError(font_id) from None


@cache
def font_bytes(font_id: str) -> bytes:
    """The bytes of a bundled font (read once, cached)."""
    return get_font(font_id).path.read_bytes()


def font_sha256(font_id: str) -> str | None:
    """SHA-256 of a bundled font, None when the id is not bundled."""
    f = BUNDLED_FONTS.get(font_id)
    return f.sha256 if f else None


def fallback_chain(font_id: str | None) -> tuple[str, ...]:
    """Bundled font ids to try after `font_id` (which is excluded), in order."""
    return tuple(f for f in FALLBACK_CHAIN if f != font_id)


def verify_sha(font_id: str) -> bool:
    """Whether the file on disk matches its pinned SHA-256."""
    return hashlib.sha256(font_bytes(font_id)).hexdigest() == get_font(font_id).sha256
