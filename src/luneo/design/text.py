"""Text layout: shaped, fallback-aware text placed as glyph outlines in a zone, and auto-fit.

Shaping is size-independent (em units), so a text is shaped once and any size is the same
layout scaled: `auto_fit` solves for the largest size directly (rect, ellipse) or by bisection
(arc) without reshaping. Output paths are in product millimetres, y down.

Placement:
- `rect`: lines aligned (left/center/right, by advance) in the box minus the safe inset; the
  block's ink is centred vertically and nudged horizontally to stay inside when it can.
- `ellipse`: the block's ink is centred; fits when every line's ink box lies in the ellipse
  (minus the inset) — better than the inscribed rectangle for short top/bottom lines.
- `arc`: text on a circle of `radius_mm` (baseline) centred on the box centre, centred on
  `arc_angle_deg` (0 = top, clockwise); `arc_inside` puts text on the inside reading
  left-to-right (bottom of a pendant). Further lines go toward the centre (outside text) or
  away from it (inside text). Fits when each line's length ≤ its sweep and all ink is in the box.
`rotation_deg` turns the result around the box centre (fit is judged in the zone's own frame).
"""

from __future__ import annotations

import math
import threading
import unicodedata
from dataclasses import dataclass

import numpy as np
from cachetools import LRUCache, cached

from luneo.design.geometry import BBox, Matrix, Path, PathCommand, multiply, rotate, translate
from luneo.design.glyph_cache import EmBox, FontHandle, GlyphOutline, font_handle
from luneo.design.model import ZoneGeometry
from luneo.design.text_shaping import ShapedGlyph, shape_line

PT_MM = 25.4 / 72.0
_ALIGN_K = {"left": 0.0, "center": 0.5, "right": 1.0}
_EPS = 1e-9
_DEFAULT_ARC_RADIUS = 0.75  # × half the smaller box side, when the zone sets no radius


@dataclass(frozen=True)
class TextLayout:
    """Text laid out in a zone as glyph outlines in product mm (y down)."""

    glyphs: tuple[Path, ...]
    size_pt: float
    bbox: BBox | None
    lines: int
    missing_chars: tuple[str, ...]
    fits: bool
    fallback_chars: tuple[str, ...] = ()  # clusters drawn by a fallback font (style may differ)


# ---------------------------------------------------------------- size-independent layout


@dataclass(frozen=True, slots=True)
class _Cluster:
    mid: float  # em, pen-space middle of the cluster on its line
    ink: EmBox | None  # relative to (mid, baseline)


@dataclass(frozen=True, slots=True)
class _Line:
    glyphs: tuple[ShapedGlyph, ...]
    advance: float
    ink: EmBox | None  # relative to (line start, baseline)
    clusters: tuple[_Cluster, ...]
    cluster_index: dict[int, int]  # shaped cluster id -> index in `clusters`


@dataclass(frozen=True, slots=True)
class _Unit:
    lines: tuple[_Line, ...]
    missing: tuple[str, ...]
    fallback: tuple[str, ...]


def _union(a: EmBox | None, b: EmBox | None) -> EmBox | None:
    if a is None:
        return b
    if b is None:
        return a
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _shift(b: EmBox | None, dx: float, dy: float) -> EmBox | None:
    return None if b is None else (b[0] + dx, b[1] + dy, b[2] + dx, b[3] + dy)


def split_lines(text: str) -> tuple[list[str], list[str]]:
    """NFC, normalise line breaks, drop undrawable control/surrogate characters (returned)."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    dropped: list[str] = []
    clean: list[str] = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch == "\n" or ch in "\u2028\u2029\x85":
            clean.append("\n")
        elif cat in ("Cc", "Cs"):
            dropped.append(ch)
        else:
            clean.append(ch)
    s = "".join(clean)
    if not s.strip():
        return [], dropped
    return [ln.rstrip() for ln in s.split("\n")], dropped


def _build_line(
    font: FontHandle, font_id: str, text: str, spacing: float
) -> tuple[_Line, tuple[str, ...], tuple[str, ...]]:
    shaped = shape_line(text, font, font_id, spacing)
    ink: EmBox | None = None
    spans: dict[int, list[float]] = {}
    cink: dict[int, EmBox | None] = {}
    for g in shaped.glyphs:
        ob = g.font.outline(g.gid).bbox
        gb = _shift(ob, g.x, g.y)
        ink = _union(ink, gb)
        sp = spans.setdefault(g.cluster, [g.x, g.x + g.adv])
        sp[0] = min(sp[0], g.x)
        sp[1] = max(sp[1], g.x + g.adv)
        cink[g.cluster] = _union(cink.get(g.cluster), gb)
    clusters: list[_Cluster] = []
    index: dict[int, int] = {}
    for cid in sorted(spans, key=lambda c: (spans[c][0], c)):
        mid = (spans[cid][0] + spans[cid][1]) / 2
        index[cid] = len(clusters)
        clusters.append(_Cluster(mid, _shift(cink.get(cid), -mid, 0.0)))
    return (
        _Line(shaped.glyphs, shaped.advance, ink, tuple(clusters), index),
        shaped.missing,
        shaped.fallback_chars,
    )


@cached(
    LRUCache(maxsize=512),  # small values (glyph positions of one short text)
    key=lambda text, font, font_id, spacing: (font.sha256, font_id, text, spacing),
    lock=threading.Lock(),
)
def _unit_layout(text: str, font: FontHandle, font_id: str, spacing: float) -> _Unit:
    lines, dropped = split_lines(text)
    built: list[_Line] = []
    missing: list[str] = list(dropped)
    fallback: list[str] = []
    for ln in lines:
        line, miss, fb = _build_line(font, font_id, ln, spacing)
        built.append(line)
        missing.extend(miss)
        fallback.extend(fb)
    return _Unit(tuple(built), tuple(dict.fromkeys(missing)), tuple(dict.fromkeys(fallback)))


# ---------------------------------------------------------------- placement


@dataclass(frozen=True, slots=True)
class _Block:
    """Line origins in em relative to an anchor, for straight (rect/ellipse) layouts."""

    origins: tuple[tuple[float, float], ...]  # per line (x, y) of the pen start on the baseline
    ink: EmBox | None  # whole block, same frame


def _block(unit: _Unit, k: float, pitch: float) -> _Block:
    origins: list[tuple[float, float]] = []
    ink: EmBox | None = None
    for i, ln in enumerate(unit.lines):
        ox, oy = -k * ln.advance, i * pitch
        origins.append((ox, oy))
        ink = _union(ink, _shift(ln.ink, ox, oy))
    return _Block(tuple(origins), ink)


def _inset_box(g: ZoneGeometry) -> tuple[float, float, float, float]:
    ins = g.safe_inset_mm
    return (g.x_mm + ins, g.y_mm + ins, max(0.0, g.width_mm - 2 * ins), max(0.0, g.height_mm - 2 * ins))


def _rect_max_u(unit: _Unit, g: ZoneGeometry, blk: _Block) -> float:
    if blk.ink is None:
        return math.inf
    _, _, bw, bh = _inset_box(g)
    w, h = blk.ink[2] - blk.ink[0], blk.ink[3] - blk.ink[1]
    return min(bw / w if w > 0 else math.inf, bh / h if h > 0 else math.inf)


def _ellipse_q(unit: _Unit, g: ZoneGeometry, blk: _Block) -> tuple[float, float, float]:
    """(q, xc, yc): fit needs u² q ≤ 1; (xc, yc) is the block's ink centre in em."""
    if blk.ink is None:
        return 0.0, 0.0, 0.0
    a = g.width_mm / 2 - g.safe_inset_mm
    b = g.height_mm / 2 - g.safe_inset_mm
    xc, yc = (blk.ink[0] + blk.ink[2]) / 2, (blk.ink[1] + blk.ink[3]) / 2
    if a <= 0 or b <= 0:
        return math.inf, xc, yc
    q = 0.0
    for ln, (ox, oy) in zip(unit.lines, blk.origins, strict=True):
        if ln.ink is None:
            continue
        x0, y0, x1, y1 = ln.ink
        for x in (x0 + ox - xc, x1 + ox - xc):
            for y in (y0 + oy - yc, y1 + oy - yc):
                q = max(q, (x / a) ** 2 + (y / b) ** 2)
    return q, xc, yc


def _straight_matrices(unit: _Unit, g: ZoneGeometry, blk: _Block, k: float, u: float) -> list[Matrix]:
    """Per-line matrices (em → local mm) for rect and ellipse placements."""
    out: list[Matrix] = []
    if g.shape == "ellipse":
        _, xc, yc = _ellipse_q(unit, g, blk)
        cx, cy = g.x_mm + g.width_mm / 2, g.y_mm + g.height_mm / 2
        for ox, oy in blk.origins:
            out.append((u, 0.0, 0.0, u, cx + u * (ox - xc), cy + u * (oy - yc)))
        return out
    bx, by, bw, bh = _inset_box(g)
    ax = bx + k * bw
    dx = dy = 0.0
    if blk.ink is not None:
        x0, x1 = ax + u * blk.ink[0], ax + u * blk.ink[2]
        if x1 - x0 <= bw + _EPS:  # nudge inside when the ink fits but overhangs a side
            if x0 < bx:
                dx = bx - x0
            elif x1 > bx + bw:
                dx = bx + bw - x1
        dy = by + bh / 2 - u * (blk.ink[1] + blk.ink[3]) / 2
    else:
        dy = by + bh / 2
    for ox, oy in blk.origins:
        out.append((u, 0.0, 0.0, u, ax + dx + u * ox, dy + u * oy))
    return out


def _arc_params(g: ZoneGeometry) -> tuple[float, float, float, float, float]:
    cx, cy = g.x_mm + g.width_mm / 2, g.y_mm + g.height_mm / 2
    r = g.radius_mm if g.radius_mm is not None else _DEFAULT_ARC_RADIUS * min(g.width_mm, g.height_mm) / 2
    return cx, cy, r, math.radians(g.arc_angle_deg), math.radians(max(0.0, g.arc_sweep_deg))


def _arc_cluster_matrices(
    unit: _Unit, g: ZoneGeometry, k: float, u: float, pitch: float
) -> tuple[list[list[Matrix]], bool]:
    """Per line, per cluster matrix (cluster-local em → local mm) and whether lengths fit."""
    cx, cy, r0, th0, sweep = _arc_params(g)
    sign = -1.0 if g.arc_inside else 1.0
    ok = True
    out: list[list[Matrix]] = []
    for i, ln in enumerate(unit.lines):
        r = r0 + i * pitch * u if g.arc_inside else r0 - i * pitch * u
        if r <= 0:
            ok = False
            r = max(r, 1e-6)
        length = r * sweep
        if u * ln.advance > length + _EPS:
            ok = False
        s0 = -length / 2 + k * (length - u * ln.advance)
        mats: list[Matrix] = []
        for c in ln.clusters:
            th = th0 + sign * (s0 + u * c.mid) / r
            sin, cos = math.sin(th), math.cos(th)
            px, py = cx + r * sin, cy - r * cos
            if g.arc_inside:  # turned half a turn more: glyph tops point to the centre
                sin, cos = -sin, -cos
            # translate(px, py) · rotate(θ) · scale(u), written out
            mats.append((u * cos, u * sin, -u * sin, u * cos, px, py))
        out.append(mats)
    return out, ok


def _arc_fits(unit: _Unit, g: ZoneGeometry, k: float, u: float, pitch: float) -> bool:
    mats, ok = _arc_cluster_matrices(unit, g, k, u, pitch)
    if not ok:
        return False
    bx, by, bw, bh = _inset_box(g)
    for ln, lm in zip(unit.lines, mats, strict=True):
        for c, m in zip(ln.clusters, lm, strict=True):
            if c.ink is None:
                continue
            x0, y0, x1, y1 = c.ink
            a, b, cc, d, e, f = m
            for x in (x0, x1):
                for y in (y0, y1):
                    X, Y = a * x + cc * y + e, b * x + d * y + f
                    if bx - _EPS > X or bx + bw + _EPS < X or by - _EPS > Y or by + bh + _EPS < Y:
                        return False
    return True


def _fits(unit: _Unit, g: ZoneGeometry, blk: _Block, k: float, u: float, pitch: float) -> bool:
    if not unit.lines or blk.ink is None:
        return True
    if g.shape == "arc":
        return _arc_fits(unit, g, k, u, pitch)
    if g.shape == "ellipse":
        q, _, _ = _ellipse_q(unit, g, blk)
        return u * u * q <= 1.0 + 1e-9
    return u <= _rect_max_u(unit, g, blk) * (1 + 1e-12)


def _transform(outline: GlyphOutline, m: Matrix) -> tuple[Path, EmBox]:
    """Path.transformed (same float operations, so the same bits), vectorised, plus its box."""
    a, b, c, d, e, f = m
    X = outline.xs * a + outline.ys * c + e
    Y = outline.xs * b + outline.ys * d + f
    flat = np.empty(2 * len(X))
    flat[0::2] = X
    flat[1::2] = Y
    vals = flat.tolist()
    out: list[PathCommand] = []
    o = 0
    for op, n in zip(outline.ops, outline.sizes, strict=True):
        out.append((op, tuple(vals[o : o + n])))
        o += n
    return Path(tuple(out)), (float(X.min()), float(Y.min()), float(X.max()), float(Y.max()))


def _render(
    unit: _Unit, g: ZoneGeometry, blk: _Block, k: float, u: float, pitch: float
) -> tuple[tuple[Path, ...], BBox | None]:
    rot: Matrix | None = None
    if g.rotation_deg % 360.0 != 0.0:
        rot = rotate(g.rotation_deg, g.x_mm + g.width_mm / 2, g.y_mm + g.height_mm / 2)
    placed: list[tuple[GlyphOutline, Matrix]] = []
    if g.shape == "arc":
        mats, _ = _arc_cluster_matrices(unit, g, k, u, pitch)
        for ln, lm in zip(unit.lines, mats, strict=True):
            for gl in ln.glyphs:
                outline = gl.font.outline(gl.gid)
                if outline.commands:
                    ci = ln.cluster_index[gl.cluster]
                    placed.append((outline, multiply(lm[ci], translate(gl.x - ln.clusters[ci].mid, gl.y))))
    else:
        for ln, line_m in zip(unit.lines, _straight_matrices(unit, g, blk, k, u), strict=True):
            for gl in ln.glyphs:
                outline = gl.font.outline(gl.gid)
                if outline.commands:
                    placed.append((outline, multiply(line_m, translate(gl.x, gl.y))))
    paths: list[Path] = []
    box: EmBox | None = None
    for outline, m in placed:
        path, pb = _transform(outline, m if rot is None else multiply(rot, m))
        paths.append(path)
        box = _union(box, pb)
    return tuple(paths), (None if box is None else BBox(*box))


def _finish(
    unit: _Unit, g: ZoneGeometry, blk: _Block, k: float, size_pt: float, pitch: float, render: bool = True
) -> TextLayout:
    u = size_pt * PT_MM
    paths, bbox = _render(unit, g, blk, k, u, pitch) if render else ((), None)
    return TextLayout(
        glyphs=paths,
        size_pt=size_pt,
        bbox=bbox,
        lines=len(unit.lines),
        missing_chars=unit.missing,
        fits=_fits(unit, g, blk, k, u, pitch),
        fallback_chars=unit.fallback,
    )


def _prepare(
    text: str, font_id: str, font_data: bytes | None, align: str, letter_spacing_em: float, line_height: float
) -> tuple[_Unit, _Block, float]:
    if align not in _ALIGN_K:
        raise ValueError(f"align must be left, center or right, not {align!r}")
    font = font_handle(font_id, font_data)
    unit = _unit_layout(text, font, font_id, float(letter_spacing_em))
    k = _ALIGN_K[align]
    return unit, _block(unit, k, line_height), k


def layout_text(
    text: str,
    geometry: ZoneGeometry,
    *,
    font_id: str,
    size_pt: float,
    align: str = "center",
    letter_spacing_em: float = 0.0,
    line_height: float = 1.2,
    font_data: bytes | None = None,
    render: bool = True,
) -> TextLayout:
    """Lay out `text` in a zone at `size_pt` (1 pt = 25.4/72 mm).

    `font_data` (TTF/OTF/WOFF/WOFF2 bytes) overrides the bundled font `font_id`; characters the
    font lacks come from the bundled fallback chain, and those no font draws are reported in
    `missing_chars` (never drawn as boxes). Raises UnknownFontError / FontError for a bad font.
    `render=False` skips the outlines (`glyphs=()`, `bbox=None`): size and fit only, for validation.
    """
    if not size_pt > 0 or not math.isfinite(size_pt):
        raise ValueError("size_pt must be a positive finite number")
    unit, blk, k = _prepare(text, font_id, font_data, align, letter_spacing_em, line_height)
    return _finish(unit, geometry, blk, k, float(size_pt), line_height, render)


def auto_fit(
    text: str,
    geometry: ZoneGeometry,
    *,
    font_id: str,
    min_pt: float,
    max_pt: float,
    align: str = "center",
    letter_spacing_em: float = 0.0,
    line_height: float = 1.2,
    font_data: bytes | None = None,
    render: bool = True,
) -> TextLayout:
    """Largest size in [min_pt, max_pt] (rounded down to 0.01 pt) whose ink fits the zone.

    The text is shaped once; the size is solved in closed form for rect/ellipse zones and by
    bisection for arcs. When nothing fits, the layout is at `min_pt` with `fits=False`.
    `render=False` as in `layout_text`.
    """
    if not (math.isfinite(min_pt) and math.isfinite(max_pt)) or min_pt <= 0:
        raise ValueError("min_pt/max_pt must be positive finite numbers")
    lo, hi = float(min_pt), float(max(max_pt, min_pt))
    unit, blk, k = _prepare(text, font_id, font_data, align, letter_spacing_em, line_height)
    g = geometry
    if blk.ink is None:
        best = hi
    elif g.shape == "rect":
        best = _rect_max_u(unit, g, blk) / PT_MM
    elif g.shape == "ellipse":
        q, _, _ = _ellipse_q(unit, g, blk)
        best = math.inf if q <= 0 else (1.0 / math.sqrt(q)) / PT_MM
    else:
        if _fits(unit, g, blk, k, hi * PT_MM, line_height):
            best = hi
        elif not _fits(unit, g, blk, k, lo * PT_MM, line_height):
            best = lo
        else:
            a, b = lo, hi  # invariant: fits(a), not fits(b)
            for _ in range(60):
                mid = (a + b) / 2
                if _fits(unit, g, blk, k, mid * PT_MM, line_height):
                    a = mid
                else:
                    b = mid
                if b - a < 0.004:  # the size is floored to 0.01 pt below
                    break
            best = a
    size = hi if best >= hi else max(lo, math.floor(best * 100.0 + 1e-09) / 100.0)
    return _finish(unit, g, blk, k, size, line_height, render)
