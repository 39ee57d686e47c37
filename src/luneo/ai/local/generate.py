"""Offline "generate": composes clipart, an optional monogram and brand colours into a vector design.

This is not an AI model: it is a deterministic local composer (label "local:clipart-composer").
The prompt is tokenised (English/French, accent-insensitive, synonyms); matching icons come from the
bundled Tabler clipart; a monogram is taken from "monogram E&L", "initiales E L", an "E&L" pair or
capitalised name words ("for Emma and Louis" → "E&L"). Letters are outlined from Bitstream Vera
Sans Bold with fontTools (no system fonts), icons are recoloured from the palette, and the SVG is
rasterised with resvg. Same prompt, palette, size and seed ⇒ same SVG and PNG bytes.
"""

from __future__ import annotations

import math
import random
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

import resvg_py
from fontTools.pens.svgPathPen import SVGPathPen
from fontTools.ttLib import TTFont

from luneo.ai.local._color import parse_hex, to_hex
from luneo.ai.local.clipart import STOPWORDS, icon_svg, normalize_text, search_clipart, tokenize

LABEL = "local:clipart-composer"
DEFAULT_PALETTE = ("#1f2937", "#e11d48", "#f59e0b", "#0d9488")
FALLBACK_ICONS = ("sparkles", "star", "heart", "flower", "leaf", "moon-stars")
_SVG_NS = "http://www.w3.org/2000/svg"
_MONOGRAM_RE = re.compile(
    r"\b(?:monogram(?:me)?|initial(?:e)?s?)\s*[:\-]?\s*([A-Za-z])\s*(?:&|\+|and|et)?\s*([A-Za-z])?"
    r"(?:\s*(?:&|\+|and|et)?\s*([A-Za-z]))?\b",
    re.IGNORECASE,
)
_PAIR_RE = re.compile(r"(?<![A-Za-z])([A-Z])\s*(?:&|\+)\s*([A-Z])(?![A-Za-z])")
_STYLE_ATTRS = ("fill", "stroke", "stroke-width", "stroke-linecap", "stroke-linejoin")


@dataclass(frozen=True, slots=True)
class GenerateResult:
    """The composed design: SVG and PNG bytes, an honest label, the icons and monogram used."""

    svg: bytes
    png: bytes
    label: str
    used_icons: list[str]
    monogram: str | None
    width: int
    height: int
    seed: int


def generate_design(
    prompt: str, *, palette: Sequence[str] = (), size_px: int = 1024, seed: int = 0, max_icons: int = 4
) -> GenerateResult:
    """Compose a square design for `prompt` (deterministic for the same arguments)."""
    if not prompt.strip():
        raise ValueError("prompt is empty")
    if len(prompt) > 1000:
        raise ValueError("prompt is too long (max 1000 characters)")
    if not 64 <= size_px <= 4096:
        raise ValueError("size_px must be within 64..4096")
    if not 1 <= max_icons <= 8:
        raise ValueError("max_icons must be within 1..8")
    colours = [to_hex(parse_hex(c)) for c in palette] or list(DEFAULT_PALETTE)
    rng = random.Random(f"{seed}:{normalize_text(prompt)}")
    monogram = find_monogram(prompt)
    icons = _pick_icons(prompt, monogram, rng, max_icons - (1 if monogram else 0) or 1)
    svg = compose_svg(icons, monogram, colours, rng)
    png = bytes(resvg_py.svg_to_bytes(svg_string=svg, width=size_px, height=size_px, skip_system_fonts=True))
    return GenerateResult(svg.encode("utf-8"), png, LABEL, icons, monogram, size_px, size_px, seed)


def find_monogram(prompt: str) -> str | None:
    """Initials asked for in the prompt: 'monogram E&L', 'E & L', or capitalised name words."""
    m = _MONOGRAM_RE.search(prompt)
    if m:
        letters = [g.upper() for g in m.groups() if g]
        return "&".join(letters) if len(letters) == 2 else "".join(letters)
    m2 = _PAIR_RE.search(prompt)
    if m2:
        return f"{m2.group(1)}&{m2.group(2)}"
    words = re.findall(r"\b[^\W\d_][^\W\d_'’-]+\b", prompt)
    names = [
        w
        for i, w in enumerate(words)
        if i > 0
        and w[0].isupper()
        and not w.isupper()
        and normalize_text(w) not in STOPWORDS
        and not search_clipart(w, 1)
    ]
    if names:
        initials = [normalize_text(n)[0].upper() for n in names[:3]]
        return "&".join(initials) if len(initials) == 2 else "".join(initials)
    return None


def _pick_icons(prompt: str, monogram: str | None, rng: random.Random, count: int) -> list[str]:
    chosen: list[str] = []
    seen_terms: set[str] = set()
    for tok in tokenize(prompt):
        if tok in STOPWORDS or tok in seen_terms or len(tok) < 2:
            continue
        seen_terms.add(tok)
        hits = [h.name for h in search_clipart(tok, 4) if h.name not in chosen]
        if hits:
            # The best match usually; sometimes the runner-up, so seeds give variety.
            chosen.append(hits[0] if len(hits) == 1 or rng.random() < 0.7 else rng.choice(hits[1:]))
        if len(chosen) >= count:
            break
    if not chosen and not monogram:
        chosen = rng.sample(FALLBACK_ICONS, 2)
    elif not chosen:
        chosen = [rng.choice(FALLBACK_ICONS)]
    return chosen


def compose_svg(
    icons: Sequence[str], monogram: str | None, colours: Sequence[str], rng: random.Random
) -> str:
    """Lay out icons (and the monogram) on a 1000×1000 canvas; returns SVG text."""
    parts: list[str] = []
    offset = rng.randrange(len(colours))

    def colour(i: int) -> str:
        return colours[(offset + i) % len(colours)]

    frame = rng.random() < 0.5
    if frame or monogram:
        parts.append(
            f'<circle cx="500" cy="500" r="455" fill="none" stroke="{colour(0)}" stroke-width="14"/>'
            f'<circle cx="500" cy="500" r="425" fill="none" stroke="{colour(0)}" stroke-width="4"/>'
        )
    if monogram:
        parts.append(_monogram_svg(monogram, 500, 500, 450, 270, colour(0)))
        n = len(icons)
        start = -90.0 if n == 1 else rng.choice((-90.0, 90.0, -45.0))
        for i, name in enumerate(icons):
            ang = math.radians(start + 360.0 * i / max(n, 1)) if n > 1 else math.radians(start)
            r = 335.0
            size = 140.0
            cx, cy = 500 + r * math.cos(ang), 500 + r * math.sin(ang)
            parts.append(_icon_svg(name, cx - size / 2, cy - size / 2, size, colour(i + 1)))
    else:
        main, rest = icons[0], list(icons[1:])
        main_size = 460.0 if rest else 600.0
        parts.append(_icon_svg(main, 500 - main_size / 2, 500 - main_size / 2, main_size, colour(1)))
        n = len(rest)
        start = rng.choice((-90.0, -60.0, 30.0))
        for i, name in enumerate(rest):
            ang = math.radians(start + 360.0 * i / n)
            size = 150.0
            cx, cy = 500 + 340 * math.cos(ang), 500 + 340 * math.sin(ang)
            parts.append(_icon_svg(name, cx - size / 2, cy - size / 2, size, colour(i + 2)))
    body = "".join(parts)
    return (
        f'<svg xmlns="{_SVG_NS}" width="1000" height="1000" viewBox="0 0 1000 1000">'
        f"<title>{LABEL}</title>{body}</svg>"
    )


def _f(v: float) -> str:
    s = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _icon_svg(name: str, x: float, y: float, size: float, colour: str) -> str:
    """An icon's shapes in a group placed at (x, y), scaled to `size`, recoloured."""
    root = ET.fromstring(icon_svg(name))
    vb = [float(v) for v in root.get("viewBox", "0 0 24 24").split()]
    scale = size / max(vb[2], vb[3])
    attrs = []
    for key in _STYLE_ATTRS:
        val = root.get(key)
        if val is None:
            continue
        if val == "currentColor":
            val = colour
        attrs.append(f'{key}="{val}"')
    if root.get("fill") is None:
        attrs.append(f'fill="{colour}"')
    inner = "".join(_element(child, colour) for child in root)
    transform = f"translate({_f(x - vb[0] * scale)} {_f(y - vb[1] * scale)}) scale({_f(scale)})"
    return f'<g transform="{transform}" {" ".join(attrs)}>{inner}</g>'


def _element(el: ET.Element, colour: str) -> str:
    tag = el.tag.split("}", 1)[-1]
    if tag not in ("path", "circle", "rect", "ellipse", "line", "polyline", "polygon", "g"):
        return ""
    attrs = []
    for key, val in sorted(el.attrib.items()):
        if key in ("class", "id", "style"):
            continue
        if val == "currentColor":
            val = colour
        attrs.append(f'{key}="{val}"')
    children = "".join(_element(c, colour) for c in el)
    return f"<{tag} {' '.join(attrs)}>{children}</{tag}>" if children else f"<{tag} {' '.join(attrs)}/>"


@cache
def _font() -> TTFont:
    path = resources.files("luneo.ai.local.clipart").joinpath("fonts/VeraBd.ttf")
    with resources.as_file(path) as p:
        return TTFont(str(p), lazy=False)


def _monogram_svg(text: str, cx: float, cy: float, max_w: float, max_h: float, colour: str) -> str:
    """Text outlined from the bundled font, centred on (cx, cy) and fitted in max_w × max_h."""
    font = _font()
    cmap = font.getBestCmap()
    glyphs = font.getGlyphSet()
    hmtx = font["hmtx"]
    units = font["head"].unitsPerEm
    pieces: list[tuple[float, str]] = []
    pen_x = 0.0
    for ch in text:
        gname = cmap.get(ord(ch))
        if gname is None:
            continue
        pen = SVGPathPen(glyphs)
        glyphs[gname].draw(pen)
        pieces.append((pen_x, pen.getCommands()))
        pen_x += hmtx[gname][0] * (0.8 if ch == "&" else 1.0)
    if not pieces:
        return ""
    cap = 0.73 * units  # Vera's cap height
    scale = min(max_w / pen_x, max_h / cap)
    ox = cx - pen_x * scale / 2
    oy = cy + cap * scale / 2
    groups = "".join(f'<path transform="translate({_f(dx)} 0)" d="{d}"/>' for dx, d in pieces if d)
    transform = f"translate({_f(ox)} {_f(oy)}) scale({_f(scale)} {_f(-scale)})"
    return f'<g transform="{transform}" fill="{colour}">{groups}</g>'
