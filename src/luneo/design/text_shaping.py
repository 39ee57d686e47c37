"""Shaping one line of text: bidi levels, per-cluster font fallback, script runs, HarfBuzz.

Output is size-independent: positions in em (1.0 = font size), y down, so a layout at any
size is this one scaled. Shaped runs are cached by (font sha, line, run, direction, script).
"""

from __future__ import annotations

import contextlib
import threading
import unicodedata
from dataclasses import dataclass

import regex
import uharfbuzz as hb
from cachetools import LRUCache, cached
from fontTools import unicodedata as ft_unicodedata

from luneo.design.fonts import fallback_chain
from luneo.design.glyph_cache import FontHandle, bundled_handle

_GRAPHEME = regex.compile(r"\X")
VS16 = 0xFE0F
_CURSIVE_SCRIPTS = frozenset({"Arab", "Syrc", "Mong", "Nkoo", "Mand", "Deva", "Beng", "Guru", "Rohg", "Adlm"})
_NO_LIGATURES = {"liga": False, "clig": False, "dlig": False, "hlig": False}


def is_default_ignorable(cp: int) -> bool:
    """Default_Ignorable_Code_Point (fonts need no glyph for these; HarfBuzz hides them)."""
    return (
        cp in (0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFEFF, 0xFFA0)
        or 0x180B <= cp <= 0x180F
        or 0x200B <= cp <= 0x200F
        or 0x202A <= cp <= 0x202E
        or 0x2060 <= cp <= 0x206F
        or 0xFE00 <= cp <= 0xFE0F
        or 0x1BCA0 <= cp <= 0x1BCA3
        or 0x1D173 <= cp <= 0x1D17A
        or 0xE0000 <= cp <= 0xE0FFF
    )


REPLACEMENT_CHARS = frozenset({0xFFFC, 0xFFFD})  # OBJECT REPLACEMENT, REPLACEMENT CHARACTER


def is_unprintable(cp: int) -> bool:
    """Characters never drawn even when a font maps them: replacement characters (what a
    broken decoder leaves behind) and private-use code points (no shared meaning). They are
    reported as missing, like characters no font draws."""
    return cp in REPLACEMENT_CHARS or 0xE000 <= cp <= 0xF8FF or cp >= 0xF0000


# ---------------------------------------------------------------- bidi (UAX #9, implicit levels)

_STRONG = {"L": "L", "R": "R", "AL": "R", "EN": "R", "AN": "R"}
_NEUTRAL = frozenset({"B", "S", "WS", "ON"})


def _bidi_type(ch: str) -> str:
    t = unicodedata.bidirectional(ch) or "L"
    if t in ("LRE", "RLE", "LRO", "RLO", "PDF", "BN"):
        return "BN"
    if t in ("LRI", "RLI", "FSI", "PDI"):
        return "ON"
    if t == "B":
        return "WS"
    return t


def base_level(text: str) -> int:
    """Paragraph level (rules P2–P3): 1 if the first strong character is right-to-left."""
    for ch in text:
        t = unicodedata.bidirectional(ch)
        if t == "L":
            return 0
        if t in ("R", "AL"):
            return 1
    return 0


def bidi_levels(text: str, para_level: int | None = None) -> list[int]:
    """Embedding level of each character of one line (UAX #9 W1–W7, N1–N2, I1–I2).

    Explicit embeddings, overrides and isolates are not honoured (the rules engine rejects
    them); boundary-neutral characters take the level of the character before them.
    """
    n = len(text)
    e = base_level(text) if para_level is None else para_level
    all_types = [_bidi_type(c) for c in text]
    idx = [i for i, t in enumerate(all_types) if t != "BN"]
    t = [all_types[i] for i in idx]
    sos = "R" if e % 2 else "L"
    m = len(t)
    # W1: NSM takes the type of the previous character.
    for i in range(m):
        if t[i] == "NSM":
            t[i] = t[i - 1] if i else sos
    # W2: EN after AL becomes AN. W3: AL becomes R.
    last = sos
    for i in range(m):
        if t[i] in ("L", "R", "AL"):
            last = t[i]
        elif t[i] == "EN" and last == "AL":
            t[i] = "AN"
    t = ["R" if x == "AL" else x for x in t]
    # W4: single separators between numbers.
    for i in range(1, m - 1):
        if t[i] == "ES" and t[i - 1] == "EN" and t[i + 1] == "EN":
            t[i] = "EN"
        elif t[i] == "CS" and t[i - 1] == t[i + 1] and t[i - 1] in ("EN", "AN"):
            t[i] = t[i - 1]
    # W5: terminators next to European numbers.
    i = 0
    while i < m:
        if t[i] == "ET":
            j = i
            while j < m and t[j] == "ET":
                j += 1
            if (i > 0 and t[i - 1] == "EN") or (j < m and t[j] == "EN"):
                for k in range(i, j):
                    t[k] = "EN"
            i = j
        else:
            i += 1
    # W6: remaining separators and terminators are neutral.
    t = ["ON" if x in ("ES", "ET", "CS") else x for x in t]
    # W7: EN after L (or sos L) becomes L.
    last = sos
    for i in range(m):
        if t[i] in ("L", "R"):
            last = t[i]
        elif t[i] == "EN" and last == "L":
            t[i] = "L"
    # N1/N2: neutral runs between same-direction strong text take that direction.
    i = 0
    while i < m:
        if t[i] in _NEUTRAL:
            j = i
            while j < m and t[j] in _NEUTRAL:
                j += 1
            before = _STRONG.get(t[i - 1], sos) if i > 0 else sos
            after = _STRONG.get(t[j], sos) if j < m else sos
            fill = before if before == after else sos
            for k in range(i, j):
                t[k] = fill
            i = j
        else:
            i += 1
    # I1/I2: implicit levels.
    lv: list[int] = []
    for x in t:
        if e % 2 == 0:
            lv.append(e + 1 if x == "R" else e + 2 if x in ("AN", "EN") else e)
        else:
            lv.append(e + 1 if x in ("L", "EN", "AN") else e)
    levels = [e] * n
    for k, i in enumerate(idx):
        levels[i] = lv[k]
    # BN characters take the level of the preceding character.
    prev = e
    for i in range(n):
        if all_types[i] == "BN":
            levels[i] = prev
        else:
            prev = levels[i]
    return levels


def visual_order(levels: list[int]) -> list[int]:
    """Indices of items in visual order (rule L2)."""
    order = list(range(len(levels)))
    if not levels:
        return order
    hi = max(levels)
    lo_odd = min((lv for lv in levels if lv % 2), default=hi + 1)
    for level in range(hi, lo_odd - 1, -1):
        i = 0
        while i < len(order):
            if levels[order[i]] >= level:
                j = i
                while j < len(order) and levels[order[j]] >= level:
                    j += 1
                order[i:j] = order[i:j][::-1]
                i = j
            else:
                i += 1
    return order


# ---------------------------------------------------------------- font fallback


@dataclass(frozen=True, slots=True)
class Cluster:
    """A grapheme cluster [start, end) in codepoint indices and the font chosen for it."""

    start: int
    end: int
    font: FontHandle | None
    missing: tuple[str, ...]
    fallback: bool


def _chain(primary: FontHandle, font_id: str) -> list[FontHandle]:
    out = [primary]
    for fid in fallback_chain(font_id):
        h = bundled_handle(fid)
        if h is not primary:
            out.append(h)
    return out


def assign_fonts(line: str, primary: FontHandle, font_id: str) -> list[Cluster]:
    """Split into grapheme clusters and pick, per cluster, the first font that draws all of it."""
    chain = _chain(primary, font_id)
    emoji = bundled_handle("fnt_emoji")
    out: list[Cluster] = []
    pos = 0
    for g in _GRAPHEME.findall(line):
        cps = [ord(c) for c in g]
        need = [cp for cp in cps if not is_default_ignorable(cp)]
        start, end = pos, pos + len(g)
        pos = end
        if not need:
            out.append(Cluster(start, end, primary, (), False))
            continue
        if any(is_unprintable(cp) for cp in need):
            out.append(Cluster(start, end, None, tuple(dict.fromkeys(chr(cp) for cp in need)), False))
            continue
        cands = chain
        if VS16 in cps:  # emoji presentation requested: prefer the emoji font
            cands = [emoji, *(h for h in chain if h is not emoji)]
        chosen = next((h for h in cands if all(cp in h.cmap for cp in need)), None)
        if chosen is not None:
            out.append(Cluster(start, end, chosen, (), chosen is not primary))
            continue
        base = need[0]
        chosen = next((h for h in cands if base in h.cmap), None)
        missing = tuple(dict.fromkeys(chr(cp) for cp in need if chosen is None or cp not in chosen.cmap))
        out.append(Cluster(start, end, chosen, missing, chosen is not None and chosen is not primary))
    return out


def _script_of(ch: str) -> str:
    try:
        return str(ft_unicodedata.script(ch))
    except Exception:
        return "Zzzz"


def cluster_scripts(line: str, clusters: list[Cluster]) -> list[str]:
    """Script of each cluster; Common/Inherited take the script of their neighbours."""
    raw: list[str] = []
    for c in clusters:
        s = "Zyyy"
        for ch in line[c.start : c.end]:
            sc = _script_of(ch)
            if sc not in ("Zyyy", "Zinh", "Zzzz"):
                s = sc
                break
        raw.append(s)
    resolved: list[str] = []
    prev: str | None = None
    for s in raw:
        if s == "Zyyy" and prev is not None:
            s = prev
        resolved.append(s)
        if s != "Zyyy":
            prev = s
    nxt: str | None = None
    for i in range(len(resolved) - 1, -1, -1):
        if resolved[i] == "Zyyy":
            resolved[i] = nxt or "Latn"
        else:
            nxt = resolved[i]
    return resolved


# ---------------------------------------------------------------- shaping


@dataclass(frozen=True, slots=True)
class ShapedGlyph:
    """A glyph of a shaped line: pen position in em from the line start, y down."""

    font: FontHandle
    gid: int
    x: float
    y: float
    adv: float
    cluster: int  # index of the grapheme cluster in the line (logical order)


@dataclass(frozen=True, slots=True)
class ShapedLine:
    glyphs: tuple[ShapedGlyph, ...]  # visual order
    advance: float  # em
    missing: tuple[str, ...]
    fallback_chars: tuple[str, ...]


_RunGlyphs = tuple[tuple[int, int, float, float, float], ...]  # gid, cluster cp index, x_adv, x_off, y_off


@cached(
    LRUCache(maxsize=4096),  # small values (glyph ids and advances of one run)
    key=lambda font, cps, start, end, rtl, script, no_liga: (
        font.sha256,
        tuple(cps),
        start,
        end,
        rtl,
        script,
        no_liga,
    ),
    lock=threading.Lock(),
)
def _shape_run(
    font: FontHandle, cps: list[int], start: int, end: int, rtl: bool, script: str, no_liga: bool
) -> _RunGlyphs:
    buf = hb.Buffer()
    buf.add_codepoints(cps, start, end - start)
    buf.direction = "rtl" if rtl else "ltr"
    # Script and direction are set explicitly and no language is guessed from the process
    # locale, so shaping is the same on every machine.
    with contextlib.suppress(Exception):
        buf.script = script
    hb.shape(font.hb_font, buf, _NO_LIGATURES if no_liga else {})
    inv = 1.0 / font.upem
    return tuple(
        (info.codepoint, info.cluster, pos.x_advance * inv, pos.x_offset * inv, -pos.y_offset * inv)
        for info, pos in zip(buf.glyph_infos, buf.glyph_positions, strict=True)
    )


def shape_line(line: str, primary: FontHandle, font_id: str, letter_spacing_em: float = 0.0) -> ShapedLine:
    """Shape one line (no line breaks) into positioned glyphs in em, visual order."""
    if not line:
        return ShapedLine((), 0.0, (), ())
    clusters = assign_fonts(line, primary, font_id)
    scripts = cluster_scripts(line, clusters)
    levels = bidi_levels(line)
    cps = [ord(c) for c in line]
    cluster_of = [0] * len(line)
    for ci, c in enumerate(clusters):
        for k in range(c.start, c.end):
            cluster_of[k] = ci
    missing: list[str] = []
    fallback: list[str] = []
    # Runs: maximal sequences of clusters with the same font, level and script.
    runs: list[
        tuple[int, int, FontHandle | None, int, str]
    ] = []  # first cluster, last+1, font, level, script
    for ci, c in enumerate(clusters):
        missing.extend(c.missing)
        if c.fallback:
            fallback.append(line[c.start : c.end])
        key = (c.font, levels[c.start], scripts[ci])
        if runs and (runs[-1][2], runs[-1][3], runs[-1][4]) == key:
            f, _, fo, lv, sc = runs[-1]
            runs[-1] = (f, ci + 1, fo, lv, sc)
        else:
            runs.append((ci, ci + 1, c.font, levels[c.start], scripts[ci]))
    order = visual_order([r[3] for r in runs])
    no_liga = letter_spacing_em != 0.0
    out: list[ShapedGlyph] = []
    pen = 0.0
    last_spacing = 0.0
    for ri in order:
        c0, c1, font, level, script = runs[ri]
        if font is None:
            continue
        start, end = clusters[c0].start, clusters[c1 - 1].end
        shaped = _shape_run(font, cps, start, end, level % 2 == 1, script, no_liga)
        spacing = 0.0 if script in _CURSIVE_SCRIPTS else letter_spacing_em
        for gi, (gid, cl, adv, xo, yo) in enumerate(shaped):
            ci = cluster_of[cl] if 0 <= cl < len(cluster_of) else c0
            if gid == 0:  # .notdef: never draw tofu, report the characters instead
                c = clusters[ci]
                missing.extend(ch for ch in line[c.start : c.end] if not is_default_ignorable(ord(ch)))
            else:
                out.append(ShapedGlyph(font, gid, pen + xo, yo, adv, ci))
            pen += adv
            nxt_cl = shaped[gi + 1][1] if gi + 1 < len(shaped) else None
            if nxt_cl != cl and spacing:
                pen += spacing
                last_spacing = spacing
            elif spacing == 0.0 and nxt_cl != cl:
                last_spacing = 0.0
    pen -= last_spacing  # no tracking after the last character
    return ShapedLine(tuple(out), pen, tuple(dict.fromkeys(missing)), tuple(dict.fromkeys(fallback)))


def chars_report(text: str, primary: FontHandle, font_id: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(characters no font in the chain draws, clusters drawn by a fallback font) for a text."""
    missing: list[str] = []
    fallback: list[str] = []
    for line in text.split("\n"):
        for c in assign_fonts(line, primary, font_id):
            missing.extend(c.missing)
            if c.fallback:
                fallback.append(line[c.start : c.end])
    return tuple(dict.fromkeys(missing)), tuple(dict.fromkeys(fallback))
