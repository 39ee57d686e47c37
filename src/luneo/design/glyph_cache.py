"""Loaded fonts (HarfBuzz + fontTools) and per-glyph outline cache.

A `FontHandle` is keyed by the SHA-256 of the font bytes. Outlines are extracted once per
(font sha, glyph id) with a fontTools pen, in em units with y pointing down, and reused by
every layout — extraction is the expensive part of text layout.
"""

from __future__ import annotations

import hashlib
import io
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import uharfbuzz as hb
from fontTools.pens.basePen import BasePen
from fontTools.ttLib import TTFont

from luneo.design.bytecache import MIB, ByteLRU
from luneo.design.fonts import BUNDLED_FONTS, font_bytes, get_font
from luneo.design.geometry import PathCommand

EmBox = tuple[float, float, float, float]  # x0, y0, x1, y1 in em, y down


class FontError(ValueError):
    """The bytes are not a font HarfBuzz and fontTools can both read."""


@dataclass(frozen=True, slots=True, eq=False)
class GlyphOutline:
    """A glyph's outline in em units (1.0 = font size), y down, origin on the baseline.

    `ops`/`sizes`/`xs`/`ys` hold the same commands as flat arrays, for fast transforms.
    """

    commands: tuple[PathCommand, ...]
    bbox: EmBox | None  # control-point box, None for blank glyphs
    ops: tuple[str, ...] = ()
    sizes: tuple[int, ...] = ()
    xs: np.ndarray = field(default_factory=lambda: np.zeros(0))
    ys: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @classmethod
    def of(cls, cmds: tuple[PathCommand, ...]) -> GlyphOutline:
        flat = [v for _op, args in cmds for v in args]
        return cls(
            commands=cmds,
            bbox=_bbox(cmds),
            ops=tuple(op for op, _ in cmds),
            sizes=tuple(len(args) for _, args in cmds),
            xs=np.array(flat[0::2], dtype=np.float64),
            ys=np.array(flat[1::2], dtype=np.float64),
        )


class _EmPen(BasePen):
    """Records a glyph as path commands scaled to em and flipped to y-down."""

    def __init__(self, glyph_set: Any, inv_upem: float) -> None:
        super().__init__(glyph_set)
        self.k = inv_upem
        self.cmds: list[PathCommand] = []

    def _pt(self, p: tuple[float, float]) -> tuple[float, float]:
        return (p[0] * self.k, 0.0 - p[1] * self.k)

    def _moveTo(self, p: tuple[float, float]) -> None:
        self.cmds.append(("M", self._pt(p)))

    def _lineTo(self, p: tuple[float, float]) -> None:
        self.cmds.append(("L", self._pt(p)))

    def _curveToOne(self, p1: tuple[float, float], p2: tuple[float, float], p3: tuple[float, float]) -> None:
        self.cmds.append(("C", (*self._pt(p1), *self._pt(p2), *self._pt(p3))))

    def _qCurveToOne(self, p1: tuple[float, float], p2: tuple[float, float]) -> None:
        self.cmds.append(("Q", (*self._pt(p1), *self._pt(p2))))

    def _closePath(self) -> None:
        self.cmds.append(("Z", ()))

    def _endPath(self) -> None:
        pass


@dataclass(eq=False)
class FontHandle:
    """One font, ready to shape (HarfBuzz) and to draw (fontTools)."""

    sha256: str
    data: bytes
    hb_font: hb.Font
    upem: int
    cmap: frozenset[int]
    ascender: float  # em
    descender: float  # em (negative below baseline)
    _tt: TTFont | None = None
    _glyph_order: list[str] | None = None
    _outlines: dict[int, GlyphOutline] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def has(self, cp: int) -> bool:
        return cp in self.cmap

    def outline(self, gid: int) -> GlyphOutline:
        """Outline of glyph `gid` in em units (cached)."""
        cached = self._outlines.get(gid)
        if cached is not None:
            return cached
        with self._lock:
            cached = self._outlines.get(gid)
            if cached is not None:
                return cached
            if self._tt is None:
                self._tt = TTFont(io.BytesIO(self.data), lazy=True, fontNumber=0)
                self._glyph_order = self._tt.getGlyphOrder()
            order = self._glyph_order or []
            glyph_set = self._tt.getGlyphSet()
            pen = _EmPen(glyph_set, 1.0 / self.upem)
            if 0 <= gid < len(order):
                glyph_set[order[gid]].draw(pen)
            out = GlyphOutline.of(tuple(pen.cmds))
            self._outlines[gid] = out
            return out


def _bbox(cmds: tuple[PathCommand, ...]) -> EmBox | None:
    xs: list[float] = []
    ys: list[float] = []
    for _op, args in cmds:
        xs.extend(args[0::2])
        ys.extend(args[1::2])
    if not xs:
        return None
    return (min(xs), min(ys), max(xs), max(ys))


def _to_sfnt(data: bytes) -> bytes:
    """WOFF/WOFF2 → plain TTF/OTF bytes (HarfBuzz reads only sfnt)."""
    if data[:4] in (b"wOFF", b"wOF2"):
        try:
            tt = TTFont(io.BytesIO(data))
            tt.flavor = None
            buf = io.BytesIO()
            tt.save(buf)
            return buf.getvalue()
        except Exception as exc:
            raise FontError(f"unreadable web font: {exc}") from exc
    return data


def _make_handle(data: bytes, sha: str) -> FontHandle:
    if data[:4] not in (b"\x00\x01\x00\x00", b"OTTO", b"true", b"ttcf"):
        raise FontError("not a TrueType/OpenType font")
    face = hb.Face(hb.Blob(data))
    upem = face.upem
    if not upem or face.glyph_count <= 1:
        raise FontError("font has no glyphs")
    font = hb.Font(face)
    cmap = frozenset(face.unicodes)
    ext = font.get_font_extents("ltr")
    asc = ext.ascender / upem if ext else 0.8
    desc = ext.descender / upem if ext else -0.2
    return FontHandle(sha256=sha, data=data, hb_font=font, upem=upem, cmap=cmap, ascender=asc, descender=desc)


_BUNDLED: dict[str, FontHandle] = {}
# Brand fonts by SHA-256, bounded in bytes: a handle weighs about its font bytes several times
# over (HarfBuzz's copy, fontTools' tables, outlines), counted as 4x.
BRAND_FONT_CACHE_BYTES = 64 * MIB
brand_fonts: ByteLRU[str, FontHandle] = ByteLRU(BRAND_FONT_CACHE_BYTES, lambda h: 4 * len(h.data))
_REG_LOCK = threading.Lock()


def bundled_handle(font_id: str) -> FontHandle:
    """Handle for a bundled font id (raises UnknownFontError for other ids)."""
    h = _BUNDLED.get(font_id)
    if h is not None:
        return h
    meta = get_font(font_id)
    with _REG_LOCK:
        h = _BUNDLED.get(font_id)
        if h is None:
            h = _make_handle(font_bytes(font_id), meta.sha256)
            _BUNDLED[font_id] = h
    return h


def data_handle(data: bytes) -> FontHandle:
    """Handle for font bytes (e.g. a brand upload); WOFF/WOFF2 are converted first. LRU-cached."""
    sha = hashlib.sha256(data).hexdigest()
    h = brand_fonts.get(sha)
    if h is not None:
        return h
    for meta in BUNDLED_FONTS.values():
        if meta.sha256 == sha:
            return bundled_handle(meta.id)
    return brand_fonts.get_or_set(sha, lambda: _make_handle(_to_sfnt(data), sha))


def font_handle(font_id: str, font_data: bytes | None = None) -> FontHandle:
    """Handle for `font_data` when given, else for the bundled font `font_id`."""
    if font_data is not None:
        return data_handle(font_data)
    return bundled_handle(font_id)
