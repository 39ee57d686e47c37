"""Rules engine: checks a shopper's inputs against a product's zone rules.

Every problem becomes a `Violation` {zone, code, message, params} with a stable snake_case
code, so the widget can show it next to the field. `validate_inputs` never raises: bad types,
arbitrary Unicode and broken fonts all come back as violations.

Codes (errors): invalid_product, invalid_input, unknown_zone, kind_mismatch, required,
text_too_large, too_long, too_many_lines, too_many_marks, cluster_too_long, invalid_chars,
control_chars, bidi_control, invisible_chars, chars_not_allowed, chars_not_in_font,
blocked_word, unknown_font, font_not_allowed, font_size_out_of_range, text_overflow,
color_not_allowed, unknown_asset, image_dpi_too_low, emoji_not_engravable (emoji on an engrave or
laser-cut product: a laser makes one colour, and a colour glyph has no outline to engrave).
Codes (warnings): font_fallback, image_dpi_low, image_size_unknown.

Text validation is bounded work: a text over `MAX_TEXT_BYTES` (UTF-8) is refused
(`text_too_large`) before it is even normalised, and a text over the zone's `max_chars` (never
more than `MAX_TEXT_GRAPHEMES`) or `max_lines`, with more than `MAX_MARKS_PER_GRAPHEME`
combining marks on one character (`too_many_marks`, "zalgo") or more than
`MAX_CODEPOINTS_PER_GRAPHEME` code points in one character (`cluster_too_long`) is refused
before any font lookup, shaping or auto-fit.

Blocked words match whole words after confusable folding (see `luneo.design.wordfilter`):
the zone's `blocked_words` plus the brand's, minus the brand's allowed words (names).
Replacement (U+FFFD, U+FFFC) and private-use characters are refused like characters no font
draws (`chars_not_in_font`).
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import regex
from pydantic import BaseModel, TypeAdapter, ValidationError

from luneo.design.fonts import BUNDLED_FONTS, DEFAULT_FONT_ID
from luneo.design.glyph_cache import font_handle
from luneo.design.model import ColourInput, ImageInput, ProductDef, TextInput, ZoneDef, ZoneInput
from luneo.design.text import auto_fit, layout_text
from luneo.design.text_shaping import chars_report, is_default_ignorable
from luneo.design.wordfilter import word_filter

FontDataLookup = Callable[[str], bytes | None]
AssetLookup = Callable[[str], tuple[str, int, int] | None]

WARN_DPI = 300.0
MAX_TEXT_BYTES = 4096  # UTF-8 bytes of one zone's text, whatever the zone allows
MAX_TEXT_GRAPHEMES = 1000  # characters of one zone's text, even when the zone sets no (or a larger) max_chars
MAX_MARKS_PER_GRAPHEME = 4  # combining marks (Mn/Me, viramas not counted) on one character
MAX_CODEPOINTS_PER_GRAPHEME = 16  # the longest emoji sequences use 11
ZWJ, ZWNJ, VS15, VS16 = 0x200D, 0x200C, 0xFE0E, 0xFE0F
BIDI_CONTROLS = frozenset({0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)})
_ZWNJ_SCRIPTS = frozenset(
    {
        "Arab",
        "Syrc",
        "Deva",
        "Beng",
        "Guru",
        "Gujr",
        "Orya",
        "Taml",
        "Telu",
        "Knda",
        "Mlym",
        "Sinh",
        "Mong",
        "Nkoo",
    }
)
_EXT_PICT = regex.compile(r"\p{Extended_Pictographic}")
_EMOJI = regex.compile(r"\p{Emoji}")
_GRAPHEME = regex.compile(r"\X")
# A grapheme shown as a (colour) emoji: emoji presentation, VS16, skin tone, flag or keycap.
_EMOJI_GRAPHEME = regex.compile(
    r"[\p{Emoji_Presentation}\p{Emoji_Modifier}\p{Regional_Indicator}\uFE0F\u20E3]"
)
LASER_METHODS = frozenset({"engrave", "laser_cut"})
EMOJI_MESSAGE = "Emoji can't be engraved; use letters and symbols."
_ZONE_INPUT: TypeAdapter[Any] = TypeAdapter(ZoneInput)


@dataclass(frozen=True)
class Violation:
    """One problem with one zone's input (zone None: the whole request)."""

    zone: str | None
    code: str
    message: str
    params: dict[str, Any] = field(default_factory=dict, hash=False, compare=True)

    def as_dict(self) -> dict[str, Any]:
        return {"zone": self.zone, "code": self.code, "message": self.message, "params": dict(self.params)}


@dataclass
class ValidationResult:
    """Errors (`violations`) block a spec; `warnings` don't. `sizes`: text size chosen per zone."""

    violations: list[Violation] = field(default_factory=list)
    warnings: list[Violation] = field(default_factory=list)
    sizes: dict[str, float] = field(default_factory=dict)
    resolved: dict[str, TextInput | ImageInput | ColourInput] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.violations

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "violations": [v.as_dict() for v in self.violations],
            "warnings": [w.as_dict() for w in self.warnings],
            "sizes": dict(self.sizes),
        }


# ---------------------------------------------------------------- text helpers


def normalize_text(s: str) -> str:
    """NFC, line breaks unified to "\\n", surrounding whitespace stripped."""
    s = s.replace("\r\n", "\n")
    for sep in ("\r", "\u2028", "\u2029", "\x85"):
        s = s.replace(sep, "\n")
    return unicodedata.normalize("NFC", s).strip()


def grapheme_count(s: str) -> int:
    """User-perceived characters (extended grapheme clusters), line breaks not counted."""
    return sum(1 for g in _GRAPHEME.findall(s) if g != "\n")


def _marks(g: str) -> int:
    """Combining marks stacked in one grapheme (viramas, which join consonants, not counted)."""
    return sum(1 for c in g if unicodedata.category(c) in ("Mn", "Me") and unicodedata.combining(c) != 9)


def _u(ch: str) -> str:
    return f"U+{ord(ch):04X}"


def _script(ch: str) -> str:
    from fontTools import unicodedata as ftu

    try:
        return str(ftu.script(ch))
    except Exception:
        return "Zzzz"


def _zwj_ok(text: str, i: int) -> bool:
    """A ZWJ is fine only between two emoji (modifiers and VS16 may precede it)."""
    j = i - 1
    while j >= 0 and (
        ord(text[j]) in (VS16, 0x20E3)
        or 0x1F3FB <= ord(text[j]) <= 0x1F3FF
        or 0xE0020 <= ord(text[j]) <= 0xE007F
    ):
        j -= 1
    if j < 0 or i + 1 >= len(text):
        return False
    return bool(_EXT_PICT.match(text[j])) and bool(_EXT_PICT.match(text[i + 1]))


def _tag_ok(text: str, i: int) -> bool:
    """Emoji tag characters only inside a flag tag sequence (🏴 + tags + cancel tag)."""
    j = i
    while j >= 0 and 0xE0020 <= ord(text[j]) <= 0xE007F:
        j -= 1
    return j >= 0 and ord(text[j]) == 0x1F3F4


def classify_chars(text: str) -> dict[str, list[str]]:
    """Characters to reject, by violation code (invalid, control, bidi, invisible)."""
    found: dict[str, list[str]] = {}

    def add(code: str, ch: str) -> None:
        lst = found.setdefault(code, [])
        if ch not in lst:
            lst.append(ch)

    for i, ch in enumerate(text):
        if ch == "\n":
            continue
        cp = ord(ch)
        cat = unicodedata.category(ch)
        if cat == "Cs" or (cp & 0xFFFE) == 0xFFFE or 0xFDD0 <= cp <= 0xFDEF:
            add("invalid_chars", ch)
        elif cat == "Cc":
            add("control_chars", ch)
        elif cp in BIDI_CONTROLS:
            add("bidi_control", ch)
        elif cp == ZWJ:
            if not _zwj_ok(text, i):
                add("invisible_chars", ch)
        elif cp in (VS15, VS16):
            if not (i > 0 and _EMOJI.match(text[i - 1])):
                add("invisible_chars", ch)
        elif 0xE0020 <= cp <= 0xE007F:
            if not _tag_ok(text, i):
                add("invisible_chars", ch)
        elif cp == ZWNJ:
            ok = (
                0 < i < len(text) - 1
                and _script(text[i - 1]) in _ZWNJ_SCRIPTS
                and _script(text[i + 1]) in _ZWNJ_SCRIPTS
            )
            if not ok:
                add("invisible_chars", ch)
        elif is_default_ignorable(cp) or cat in ("Cf", "Zl", "Zp"):
            add("invisible_chars", ch)
    return found


_CHAR_MESSAGES = {
    "invalid_chars": "Text contains invalid characters.",
    "control_chars": "Text contains control characters.",
    "bidi_control": "Text contains direction-override characters.",
    "invisible_chars": "Text contains invisible characters.",
}


# ---------------------------------------------------------------- engine


@dataclass
class _Ctx:
    product: ProductDef
    font_data_lookup: FontDataLookup | None
    asset_lookup: AssetLookup | None
    result: ValidationResult
    blocked_words: tuple[str, ...] = ()
    allowed_words: tuple[str, ...] = ()

    def err(self, zone: str | None, code: str, message: str, /, **params: Any) -> None:
        self.result.violations.append(Violation(zone, code, message, params))

    def warn(self, zone: str | None, code: str, message: str, /, **params: Any) -> None:
        self.result.warnings.append(Violation(zone, code, message, params))


def _palette(ctx: _Ctx, zone: ZoneDef) -> list[str]:
    return [c.lower() for c in (zone.rules.allowed_colors or ctx.product.palette)]


def _parse_input(ctx: _Ctx, zone: ZoneDef, raw: Any) -> TextInput | ImageInput | ColourInput | None:
    if isinstance(raw, TextInput | ImageInput | ColourInput):
        return raw
    if isinstance(raw, BaseModel):
        raw = raw.model_dump()
    if isinstance(raw, str):
        raw = {"kind": "text", "text": raw}
    if not isinstance(raw, Mapping):
        ctx.err(zone.key, "invalid_input", "Input must be an object.", type=type(raw).__name__)
        return None
    data = dict(raw)
    data.setdefault("kind", zone.kind)
    try:
        parsed: TextInput | ImageInput | ColourInput = _ZONE_INPUT.validate_python(data)
    except ValidationError as exc:
        errors = [
            {
                "loc": [str(p) for p in e.get("loc", ())],
                "type": str(e.get("type", "")),
                "msg": str(e.get("msg", "")),
            }
            for e in exc.errors(include_url=False, include_input=False)
        ]
        ctx.err(zone.key, "invalid_input", "Input is not valid.", errors=errors)
        return None
    return parsed


def _resolve_font(ctx: _Ctx, zone: ZoneDef, font_id: str) -> tuple[str | None, bytes | None] | None:
    """(sha, bytes or None for bundled) or None when the font is unknown (violation added)."""
    meta = BUNDLED_FONTS.get(font_id)
    if meta is not None:
        return meta.sha256, None
    data = ctx.font_data_lookup(font_id) if ctx.font_data_lookup else None
    if isinstance(data, bytes | bytearray) and data:
        return hashlib.sha256(bytes(data)).hexdigest(), bytes(data)
    ctx.err(zone.key, "unknown_font", f"Font {font_id!r} is not available.", font=font_id)
    return None


def _too_large(ctx: _Ctx, key: str, raw: str) -> bool:
    """O(1) for any text over the cap (a code point is at least one UTF-8 byte)."""
    if len(raw) > MAX_TEXT_BYTES:
        size: int | None = None
    else:
        size = len(raw.encode("utf-8", "surrogatepass"))
        if size <= MAX_TEXT_BYTES:
            return False
    ctx.err(
        key,
        "text_too_large",
        f"Text is too large: at most {MAX_TEXT_BYTES} bytes.",
        max_bytes=MAX_TEXT_BYTES,
        actual_bytes=size,
        actual_chars=len(raw),
    )
    return True


def _check_sizes(ctx: _Ctx, key: str, rules: Any, text: str) -> bool:
    """Length, lines and per-character complexity; True when all are within the rules."""
    ok = True
    clusters = [g for g in _GRAPHEME.findall(text) if g != "\n"]
    n = len(clusters)
    limit = min(rules.max_chars or MAX_TEXT_GRAPHEMES, MAX_TEXT_GRAPHEMES)
    if n > limit:
        ok = False
        ctx.err(key, "too_long", f"Text is too long: {n} characters, at most {limit}.", max=limit, actual=n)
    lines = text.count("\n") + 1
    if lines > rules.max_lines:
        ok = False
        ctx.err(
            key,
            "too_many_lines",
            f"Text has {lines} lines, at most {rules.max_lines}.",
            max=rules.max_lines,
            actual=lines,
        )
    marked = [g for g in clusters if len(g) > 1 and _marks(g) > MAX_MARKS_PER_GRAPHEME]
    if marked:
        ok = False
        ctx.err(
            key,
            "too_many_marks",
            f"Too many accents on one character: at most {MAX_MARKS_PER_GRAPHEME}.",
            max=MAX_MARKS_PER_GRAPHEME,
            chars=list(dict.fromkeys(g[0] for g in marked))[:20],
        )
    long = [g for g in clusters if len(g) > MAX_CODEPOINTS_PER_GRAPHEME]
    if long:
        ok = False
        ctx.err(
            key,
            "cluster_too_long",
            f"A character is built from more than {MAX_CODEPOINTS_PER_GRAPHEME} code points.",
            max=MAX_CODEPOINTS_PER_GRAPHEME,
            actual=max(len(g) for g in long),
        )
    return ok


def _check_text(ctx: _Ctx, zone: ZoneDef, inp: TextInput) -> TextInput | None:
    key, rules = zone.key, zone.rules
    if _too_large(ctx, key, inp.text):
        return None
    text = normalize_text(inp.text)
    if not text:
        if rules.required:
            ctx.err(key, "required", "This field is required.")
        return None
    before = len(ctx.result.violations)
    sizes_ok = _check_sizes(ctx, key, rules, text)
    bad = classify_chars(text)
    rejected: set[str] = set()
    for code, chars in bad.items():
        rejected.update(chars)
        ctx.err(key, code, _CHAR_MESSAGES[code], chars=[_u(c) for c in chars])
    if rules.allowed_chars is not None:
        allowed = set(unicodedata.normalize("NFC", rules.allowed_chars))
        extra = [c for c in dict.fromkeys(text) if c != "\n" and c not in allowed and c not in rejected]
        if extra:
            ctx.err(
                key,
                "chars_not_allowed",
                "These characters are not allowed: " + " ".join(extra),
                chars=extra,
                codepoints=[_u(c) for c in extra],
            )
    if ctx.product.production_method in LASER_METHODS:
        emoji = [g for g in dict.fromkeys(_GRAPHEME.findall(text)) if _EMOJI_GRAPHEME.search(g)]
        if emoji:
            rejected.update(ch for g in emoji for ch in g)
            ctx.err(key, "emoji_not_engravable", EMOJI_MESSAGE, chars=emoji)
    blocked = (*rules.blocked_words, *ctx.blocked_words)
    hits = word_filter(blocked, ctx.allowed_words).find(text) if blocked else []
    if hits:
        ctx.err(key, "blocked_word", "Text contains a word that is not allowed.", words=hits)

    font_id = (
        inp.font or zone.default_font or (rules.allowed_fonts[0] if rules.allowed_fonts else DEFAULT_FONT_ID)
    )
    if inp.font is not None and rules.allowed_fonts and inp.font not in rules.allowed_fonts:
        ctx.err(
            key,
            "font_not_allowed",
            f"Font {inp.font!r} is not offered here.",
            font=inp.font,
            allowed=list(rules.allowed_fonts),
        )
    color = (inp.color or zone.default_color or (_palette(ctx, zone) or ["#000000"])[0]).lower()
    palette = _palette(ctx, zone)
    # The zone's own default colour is always acceptable (a resolved spec carries it explicitly).
    default = (zone.default_color or "").lower()
    if (
        inp.color is not None
        and palette
        and inp.color.lower() not in palette
        and inp.color.lower() != default
    ):
        ctx.err(
            key,
            "color_not_allowed",
            f"Colour {inp.color} is not offered here.",
            color=inp.color,
            allowed=palette,
        )
    lo, hi = rules.min_font_pt, max(rules.max_font_pt, rules.min_font_pt)
    if inp.size_pt is not None and not (lo - 1e-9 <= inp.size_pt <= hi + 1e-9):
        ctx.err(
            key,
            "font_size_out_of_range",
            f"Size must be between {lo:g} and {hi:g} pt.",
            min=lo,
            max=hi,
            actual=inp.size_pt,
        )

    if not sizes_ok:  # never shape or fit a text already refused for its size
        return None
    resolved = _resolve_font(ctx, zone, font_id)
    if resolved is None:
        return None
    sha, data = resolved
    handle = font_handle(font_id, data)
    missing, fallback = chars_report(text, handle, font_id)
    missing = tuple(c for c in missing if c not in rejected and not is_default_ignorable(ord(c)))
    fallback = tuple(c for c in fallback if not any(ch in rejected for ch in c))
    if missing:
        ctx.err(
            key,
            "chars_not_in_font",
            "The font cannot draw: " + " ".join(missing),
            chars=list(missing),
            codepoints=[_u(c) for c in missing],
            font=font_id,
        )
    if fallback:
        ctx.warn(
            key,
            "font_fallback",
            "Some characters are drawn with a fallback font.",
            chars=list(fallback),
            font=font_id,
        )

    kw: dict[str, Any] = {
        "font_id": font_id,
        "align": inp.align,
        "letter_spacing_em": inp.letter_spacing_em,
        "line_height": inp.line_height,
        "font_data": data,
        "render": False,
    }
    if rules.auto_fit:
        top = min(hi, inp.size_pt) if inp.size_pt is not None else hi
        lay = auto_fit(text, zone.geometry, min_pt=lo, max_pt=max(lo, top), **kw)
        if not lay.fits:
            ctx.err(key, "text_overflow", f"Text does not fit, even at {lo:g} pt.", size_pt=lay.size_pt)
    else:
        size = inp.size_pt if inp.size_pt is not None else hi
        lay = layout_text(text, zone.geometry, size_pt=size, **kw)
        if not lay.fits:
            ctx.err(key, "text_overflow", f"Text does not fit at {size:g} pt.", size_pt=size)
    ctx.result.sizes[key] = lay.size_pt
    if len(ctx.result.violations) != before:
        return None
    return inp.model_copy(
        update={"text": text, "font": font_id, "font_sha256": sha, "size_pt": lay.size_pt, "color": color}
    )


def effective_dpi(
    width_px: int, height_px: int, width_mm: float, height_mm: float, fit: str = "cover"
) -> float:
    """Pixels per inch once the image is scaled onto the zone (cover/smart: fills; contain: fits)."""
    dx = width_px / (width_mm / 25.4)
    dy = height_px / (height_mm / 25.4)
    return max(dx, dy) if fit == "contain" else min(dx, dy)


def _check_image(ctx: _Ctx, zone: ZoneDef, inp: ImageInput) -> ImageInput | None:
    key = zone.key
    sha, w, h = inp.asset_sha256, inp.width_px, inp.height_px
    if ctx.asset_lookup is not None:
        found = ctx.asset_lookup(inp.asset_id)
        if found is None:
            ctx.err(key, "unknown_asset", "Image not found.", asset_id=inp.asset_id)
            return None
        sha, w, h = str(found[0]), int(found[1]), int(found[2])
    if not w or not h:
        ctx.warn(key, "image_size_unknown", "Image size unknown; resolution not checked.")
        return inp
    dpi = effective_dpi(w, h, zone.geometry.width_mm, zone.geometry.height_mm, inp.fit)
    min_dpi = ctx.product.min_image_dpi
    if dpi < min_dpi:
        ctx.err(
            key,
            "image_dpi_too_low",
            f"Image resolution too low: {dpi:.0f} DPI, at least {min_dpi}.",
            dpi=round(dpi, 1),
            min_dpi=min_dpi,
            width_px=w,
            height_px=h,
        )
        return None
    if dpi < WARN_DPI:
        ctx.warn(
            key,
            "image_dpi_low",
            f"Image resolution is {dpi:.0f} DPI; 300 DPI prints best.",
            dpi=round(dpi, 1),
            recommended_dpi=int(WARN_DPI),
        )
    return inp.model_copy(update={"asset_sha256": sha, "width_px": w, "height_px": h})


def _check_colour(ctx: _Ctx, zone: ZoneDef, inp: ColourInput) -> ColourInput | None:
    palette = _palette(ctx, zone)
    if palette and inp.color.lower() not in palette:
        ctx.err(
            zone.key,
            "color_not_allowed",
            f"Colour {inp.color} is not offered here.",
            color=inp.color,
            allowed=palette,
        )
        return None
    return inp.model_copy(update={"color": inp.color.lower()})


def _check_zone(ctx: _Ctx, zone: ZoneDef, raw: Any) -> None:
    if raw is None:
        if zone.rules.required:
            ctx.err(zone.key, "required", "This field is required.")
        elif zone.kind == "colour" and zone.default_color:
            ctx.result.resolved[zone.key] = ColourInput(color=zone.default_color.lower())
        return
    inp = _parse_input(ctx, zone, raw)
    if inp is None:
        return
    if inp.kind != zone.kind:
        ctx.err(
            zone.key,
            "kind_mismatch",
            f"This zone takes {zone.kind}, not {inp.kind}.",
            expected=zone.kind,
            actual=inp.kind,
        )
        return
    out: TextInput | ImageInput | ColourInput | None
    if isinstance(inp, TextInput):
        out = _check_text(ctx, zone, inp)
    elif isinstance(inp, ImageInput):
        out = _check_image(ctx, zone, inp)
    else:
        out = _check_colour(ctx, zone, inp)
    if out is not None:
        ctx.result.resolved[zone.key] = out


def validate_inputs(
    product: ProductDef,
    inputs: dict[str, Any],
    *,
    font_data_lookup: FontDataLookup | None = None,
    asset_lookup: AssetLookup | None = None,
    blocked_words: Sequence[str] = (),
    allowed_words: Sequence[str] = (),
) -> ValidationResult:
    """Check every zone's input; never raises. `resolved` holds normalised inputs of valid zones.

    `font_data_lookup(font_id)` gives bytes of non-bundled (brand) fonts; `asset_lookup(asset_id)`
    gives (sha256, width_px, height_px) of an uploaded image, or None when it doesn't exist.
    `blocked_words` (added to every text zone's own list) and `allowed_words` (names that are
    never refused as blocked words) are the brand's lists.
    """
    result = ValidationResult()
    if not isinstance(product, ProductDef):
        try:
            product = ProductDef.model_validate(product)
        except Exception:
            result.violations.append(Violation(None, "invalid_product", "Product definition is not valid."))
            return result
    ctx = _Ctx(
        product,
        font_data_lookup,
        asset_lookup,
        result,
        tuple(w for w in blocked_words if isinstance(w, str)),
        tuple(w for w in allowed_words if isinstance(w, str)),
    )
    if not isinstance(inputs, Mapping):
        ctx.err(None, "invalid_input", "Inputs must be an object keyed by zone.", type=type(inputs).__name__)
        return result
    zones = {z.key: z for z in product.zones}
    for key in inputs:
        if not isinstance(key, str) or key not in zones:
            ctx.err(str(key), "unknown_zone", f"Unknown zone {str(key)!r}.", zone=str(key))
    for zone in product.zones:
        n_err = len(result.violations)
        try:
            _check_zone(ctx, zone, inputs.get(zone.key))
        except Exception as exc:  # a rule must never crash the request
            del result.violations[n_err:]
            result.resolved.pop(zone.key, None)
            ctx.err(zone.key, "invalid_input", "Input could not be processed.", reason=type(exc).__name__)
    return result
