"""Brand font uploads: TTF, OTF, WOFF or WOFF2 in; a checked TTF/OTF out.

HarfBuzz reads TTF/OTF only, so WOFF/WOFF2 are unwrapped with fontTools (brotli for WOFF2)
before storing. A font must parse completely, have a Unicode cmap with at least one
character, and open in HarfBuzz with glyphs; anything else is a 422 `font_invalid`.

Web fonts are compressed, so a file of a few hundred bytes can declare (and inflate to)
gigabytes. Before anything is inflated, the sizes the WOFF/WOFF2 header and table directory
declare are checked against `MAX_SFNT_BYTES` (413 `font_too_large`), and every compressed
stream is then inflated in bounded steps and counted, never held: a stream that inflates
beyond what it declares is refused (`font_invalid`) before fontTools sees it.
"""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from luneo.catalog.error_codes import CatalogErrorCode
from luneo.platform.domain_errors import DomainError

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


MAX_SFNT_BYTES = 30 * 1024 * 1024  # what a web font may declare (and inflate to) in total
_STEP = 1 << 20  # inflate in 1 MiB steps
_WOFF_HEADER = struct.Struct(">4sLLHHLHHLLLLL")  # 44 bytes
_WOFF2_HEADER = struct.Struct(">4sLLHHLLHHLLLLL")  # 48 bytes
_WOFF2_GLYF, _WOFF2_LOCA = 10, 11  # indices of glyf and loca in WOFF2's known-tag table


def _too_large(declared: int) -> DomainError:
    return DomainError(
        CatalogErrorCode.FONT_TOO_LARGE,
        f"The font declares {declared} bytes once decompressed; at most {MAX_SFNT_BYTES}.",
        declared_bytes=declared,
        max_bytes=MAX_SFNT_BYTES,
    )


def _check_total(*sizes: int) -> None:
    declared = sum(sizes)
    if declared > MAX_SFNT_BYTES or any(size > MAX_SFNT_BYTES for size in sizes):
        raise _too_large(max(declared, *sizes))


def _inflate_zlib_bounded(stream: bytes, declared: int) -> None:
    """Count what a zlib stream inflates to, in bounded steps; refuse more than `declared`."""
    inflater = zlib.decompressobj()
    got, pending = 0, stream
    try:
        while pending and got <= declared:
            got += len(inflater.decompress(pending, _STEP))
            pending = inflater.unconsumed_tail
        if got <= declared:
            got += len(inflater.flush(_STEP))
    except zlib.error as exc:
        raise _invalid("a compressed table is corrupt") from exc
    if got > declared:
        raise _invalid("a compressed table inflates beyond its declared size")


def _inflate_brotli_bounded(stream: bytes, declared: int) -> None:
    """Count what a brotli stream inflates to, in bounded steps; refuse more than `declared`."""
    import brotli

    dec = brotli.Decompressor()
    try:
        got = len(dec.process(stream, output_buffer_limit=_STEP))
        while got <= declared and not dec.can_accept_more_data():
            got += len(dec.process(b"", output_buffer_limit=_STEP))
    except brotli.error as exc:
        raise _invalid("the compressed font data is corrupt") from exc
    if got > declared:
        raise _invalid("the compressed font data inflates beyond its declared size")


def _check_woff(data: bytes) -> None:
    if len(data) < _WOFF_HEADER.size:
        raise _invalid("truncated WOFF header")
    (_, _, length, num_tables, _, total_sfnt, _, _, meta_off, meta_len, meta_orig, _, _) = (
        _WOFF_HEADER.unpack_from(data, 0)
    )
    if length != len(data):
        raise _invalid("the WOFF length field does not match the file size")
    _check_total(total_sfnt)
    _check_total(meta_orig)
    end = _WOFF_HEADER.size + 20 * num_tables
    if end > len(data):
        raise _invalid("truncated WOFF table directory")
    tables = [struct.unpack_from(">4sLLLL", data, _WOFF_HEADER.size + 20 * i) for i in range(num_tables)]
    _check_total(*(orig for _, _, _, orig, _ in tables))
    for _, offset, comp, orig, _ in tables:
        if offset + comp > len(data):
            raise _invalid("a WOFF table runs past the end of the file")
        if comp < orig:
            _inflate_zlib_bounded(data[offset : offset + comp], orig)
    if meta_len:
        if meta_off + meta_len > len(data):
            raise _invalid("the WOFF metadata runs past the end of the file")
        _inflate_zlib_bounded(data[meta_off : meta_off + meta_len], meta_orig)


def _base128(data: bytes, pos: int) -> tuple[int, int]:
    value = 0
    for i in range(5):
        if pos >= len(data):
            raise _invalid("truncated WOFF2 table directory")
        byte = data[pos]
        pos += 1
        if i == 0 and byte == 0x80:
            raise _invalid("invalid WOFF2 table directory")
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, pos
    raise _invalid("invalid WOFF2 table directory")


def _check_woff2(data: bytes) -> None:
    if len(data) < _WOFF2_HEADER.size:
        raise _invalid("truncated WOFF2 header")
    (_, flavor, length, num_tables, _, total_sfnt, total_comp, _, _, meta_off, meta_len, meta_orig, _, _) = (
        _WOFF2_HEADER.unpack_from(data, 0)
    )
    if length != len(data):
        raise _invalid("the WOFF2 length field does not match the file size")
    if flavor == 0x74746366:  # 'ttcf'
        raise DomainError(
            CatalogErrorCode.UNSUPPORTED_MEDIA_TYPE, "Font collections are not accepted: send one font."
        )
    _check_total(total_sfnt)
    _check_total(meta_orig)
    pos, originals, stream_sizes = _WOFF2_HEADER.size, [], []
    for _ in range(num_tables):
        if pos >= len(data):
            raise _invalid("truncated WOFF2 table directory")
        flags = data[pos]
        pos += 1
        known, version = flags & 0x3F, flags >> 6
        if known == 0x3F:
            pos += 4
        orig, pos = _base128(data, pos)
        transformed = version != 3 if known in (_WOFF2_GLYF, _WOFF2_LOCA) else version != 0
        stream_size = orig
        if transformed:
            stream_size, pos = _base128(data, pos)
        originals.append(orig)
        stream_sizes.append(stream_size)
    _check_total(*originals)
    _check_total(*stream_sizes)
    if pos + total_comp > len(data):
        raise _invalid("the WOFF2 font data runs past the end of the file")
    _inflate_brotli_bounded(data[pos : pos + total_comp], sum(stream_sizes))
    if meta_len:
        if meta_off + meta_len > len(data):
            raise _invalid("the WOFF2 metadata runs past the end of the file")
        _inflate_brotli_bounded(data[meta_off : meta_off + meta_len], meta_orig)


def check_declared_sizes(data: bytes, source: str) -> None:
    """Refuse a WOFF/WOFF2 whose declared or actual decompressed size exceeds `MAX_SFNT_BYTES`,
    without holding more than one bounded step of inflated bytes."""
    if source == "woff":
        _check_woff(data)
    elif source == "woff2":
        _check_woff2(data)


def sniff_font(data: bytes) -> str | None:
    return FONT_MAGICS.get(data[:4])


def _invalid(reason: str) -> DomainError:
    return DomainError(CatalogErrorCode.FONT_INVALID, f"The font cannot be used: {reason}.")


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
        raise DomainError(
            CatalogErrorCode.FILE_TOO_LARGE, f"The file exceeds {max_bytes} bytes.", limit_bytes=max_bytes
        )
    source = sniff_font(data)
    if source is None:
        if data[:4] == b"ttcf":
            raise DomainError(
                CatalogErrorCode.UNSUPPORTED_MEDIA_TYPE,
                "Font collections (.ttc) are not accepted: send one font.",
            )
        raise DomainError(
            CatalogErrorCode.UNSUPPORTED_MEDIA_TYPE,
            "Unsupported font type: send TTF, OTF, WOFF or WOFF2.",
            accepted=["font/ttf", "font/otf", "font/woff", "font/woff2"],
        )
    check_declared_sizes(data, source)
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
    except DomainError:
        raise
    except (TTLibError, Exception) as exc:
        raise _invalid(f"it does not parse ({type(exc).__name__})") from exc
    _check_harfbuzz(sfnt)
    return CheckedFont(
        data=sfnt, format=fmt, source_format=source, family=family, style=style, glyph_coverage=coverage
    )


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
    except DomainError:
        raise
    except Exception as exc:
        raise _invalid("HarfBuzz cannot read it") from exc


#: Unicode blocks the dashboard reports a font's coverage of: (name, first, last code point).
COVERAGE_BLOCKS: tuple[tuple[str, int, int], ...] = (
    ("Basic Latin", 0x20, 0x7E),
    ("Latin-1", 0xA0, 0xFF),
    ("Latin Extended-A", 0x100, 0x17F),
    ("Greek", 0x370, 0x3FF),
    ("Cyrillic", 0x400, 0x4FF),
    ("Arabic", 0x600, 0x6FF),
)


_COVERAGE: dict[str, tuple[tuple[str, int, int], ...]] = {}  # by the font's SHA-256 (tiny values)


def block_coverage(data: bytes, sha256: str | None = None) -> list[tuple[str, int, int]]:
    """(block, characters the font maps, characters in the block) for each of `COVERAGE_BLOCKS`."""
    return coverage_by_sha(sha256 or hashlib.sha256(data).hexdigest(), lambda: data)


def coverage_by_sha(sha256: str, load: Callable[[], bytes]) -> list[tuple[str, int, int]]:
    """`block_coverage` of the font with this SHA-256, its bytes loaded only when not known yet."""
    from fontTools.ttLib import TTFont

    found = _COVERAGE.get(sha256)
    if found is None:
        with TTFont(io.BytesIO(load()), lazy=True) as font:
            cmap = set((font.getBestCmap() or {}).keys())
        found = tuple(
            (name, sum(1 for c in range(lo, hi + 1) if c in cmap), hi - lo + 1)
            for name, lo, hi in COVERAGE_BLOCKS
        )
        if len(_COVERAGE) < 4096:
            _COVERAGE[sha256] = found
    return list(found)
